-- tenantry:no-transaction
-- 0002_multi_tenant (SQLite), reverted: back to the single-tenant schema of 0001, keeping the
-- default org's rows. Refused (nothing changes) while any other org exists: a single-tenant
-- database has no place for a second tenant's rows, and its global uniques could not hold.
-- Delete the other orgs first (their rows go with them), then run this again.
--
-- The same rebuild as the upgrade, in the other direction, with foreign keys off outside the
-- file's own transaction (see the up file); tower_sessions.expiry_date goes back to Unix seconds.

-- Only the default org may remain. Checked first, before foreign keys are switched off, so that
-- a refusal leaves the connection as it was; a CHECK that fails names the reason in its error.
BEGIN;
CREATE TEMP TABLE "_tenantry_single_tenant_guard" (
  "other_orgs" INTEGER CONSTRAINT "other_orgs_exist_delete_them_before_going_back_to_single_tenant" CHECK ("other_orgs" = 0)
);
INSERT INTO "_tenantry_single_tenant_guard" SELECT COUNT(*) FROM "organizations" WHERE "id" <> '00000000-0000-4000-8000-000000000001';
DROP TABLE "_tenantry_single_tenant_guard";
COMMIT;

PRAGMA foreign_keys = OFF;
BEGIN;
-- Checked again inside the rebuild's transaction, where no other connection can add an org.
CREATE TEMP TABLE "_tenantry_single_tenant_guard" (
  "other_orgs" INTEGER CONSTRAINT "other_orgs_exist_delete_them_before_going_back_to_single_tenant" CHECK ("other_orgs" = 0)
);
INSERT INTO "_tenantry_single_tenant_guard" SELECT COUNT(*) FROM "organizations" WHERE "id" <> '00000000-0000-4000-8000-000000000001';
DROP TABLE "_tenantry_single_tenant_guard";

-- tower_sessions
CREATE TABLE "tower_sessions_old" (
  id TEXT NOT NULL PRIMARY KEY,
  data BLOB NOT NULL,
  expiry_date INTEGER NOT NULL,
  user_id TEXT
);
INSERT INTO "tower_sessions_old" ("id", "data", "expiry_date", "user_id")
SELECT "id", "data", CAST(strftime('%s', "expiry_date") AS INTEGER), "user_id"
FROM "tower_sessions";
DROP TABLE "tower_sessions";
ALTER TABLE "tower_sessions_old" RENAME TO "tower_sessions";
CREATE INDEX idx_tower_sessions_user_id ON "tower_sessions" (user_id);
CREATE INDEX idx_tower_sessions_expiry_date ON "tower_sessions" (expiry_date);

-- app_access_requests
CREATE TABLE "app_access_requests_old" (
  id TEXT NOT NULL PRIMARY KEY,
  app_client_id TEXT NOT NULL,
  app_name TEXT,
  app_description TEXT,
  flow_type TEXT NOT NULL CHECK (flow_type IN ('redirect', 'popup')),
  redirect_uri TEXT,
  status TEXT NOT NULL CHECK (status IN ('draft', 'approved', 'denied', 'failed', 'expired')),
  requested TEXT NOT NULL,
  approved TEXT NOT NULL,
  user_id TEXT,
  requested_role TEXT NOT NULL,
  approved_role TEXT,
  access_request_scope TEXT,
  error_message TEXT,
  expires_at TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
INSERT INTO "app_access_requests_old" ("id", "app_client_id", "app_name", "app_description", "flow_type", "redirect_uri", "status", "requested", "approved", "user_id", "requested_role", "approved_role", "access_request_scope", "error_message", "expires_at", "created_at", "updated_at")
SELECT "id", "app_client_id", "app_name", "app_description", "flow_type", "redirect_uri", "status", "requested", "approved", "user_id", "requested_role", "approved_role", "access_request_scope", "error_message", "expires_at", "created_at", "updated_at"
FROM "app_access_requests";
DROP TABLE "app_access_requests";
ALTER TABLE "app_access_requests_old" RENAME TO "app_access_requests";
CREATE INDEX idx_app_access_requests_app_client_id ON "app_access_requests" (app_client_id);
CREATE INDEX idx_app_access_requests_access_request_scope ON "app_access_requests" (access_request_scope);
CREATE INDEX idx_app_access_requests_status_expires_at ON "app_access_requests" (status, expires_at);

-- user_aliases
CREATE TABLE "user_aliases_old" (
  id TEXT NOT NULL PRIMARY KEY,
  alias TEXT NOT NULL UNIQUE,
  repo TEXT NOT NULL,
  filename TEXT NOT NULL,
  snapshot TEXT NOT NULL,
  request_params TEXT NOT NULL,
  context_params TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
INSERT INTO "user_aliases_old" ("id", "alias", "repo", "filename", "snapshot", "request_params", "context_params", "created_at", "updated_at")
SELECT "id", "alias", "repo", "filename", "snapshot", "request_params", "context_params", "created_at", "updated_at"
FROM "user_aliases";
DROP TABLE "user_aliases";
ALTER TABLE "user_aliases_old" RENAME TO "user_aliases";

-- toolsets
CREATE TABLE "toolsets_old" (
  id TEXT NOT NULL PRIMARY KEY,
  user_id TEXT NOT NULL,
  toolset_type TEXT NOT NULL,
  slug TEXT NOT NULL,
  description TEXT,
  enabled INTEGER NOT NULL,
  encrypted_api_key TEXT,
  salt TEXT,
  nonce TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (user_id, slug)
);
INSERT INTO "toolsets_old" ("id", "user_id", "toolset_type", "slug", "description", "enabled", "encrypted_api_key", "salt", "nonce", "created_at", "updated_at")
SELECT "id", "user_id", "toolset_type", "slug", "description", "enabled", "encrypted_api_key", "salt", "nonce", "created_at", "updated_at"
FROM "toolsets";
DROP TABLE "toolsets";
ALTER TABLE "toolsets_old" RENAME TO "toolsets";
CREATE INDEX idx_toolsets_toolset_type ON "toolsets" (toolset_type);

-- app_toolset_configs
CREATE TABLE "app_toolset_configs_old" (
  id TEXT NOT NULL PRIMARY KEY,
  toolset_type TEXT NOT NULL UNIQUE,
  enabled INTEGER NOT NULL,
  updated_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
INSERT INTO "app_toolset_configs_old" ("id", "toolset_type", "enabled", "updated_by", "created_at", "updated_at")
SELECT "id", "toolset_type", "enabled", "updated_by", "created_at", "updated_at"
FROM "app_toolset_configs";
DROP TABLE "app_toolset_configs";
ALTER TABLE "app_toolset_configs_old" RENAME TO "app_toolset_configs";

-- model_metadata
CREATE TABLE "model_metadata_old" (
  id TEXT NOT NULL PRIMARY KEY,
  source TEXT NOT NULL CHECK (source IN ('model', 'api')),
  repo TEXT NOT NULL,
  filename TEXT NOT NULL,
  snapshot TEXT NOT NULL,
  api_model_id TEXT NOT NULL,
  capabilities TEXT NOT NULL,
  context_max_input_tokens INTEGER,
  context_max_output_tokens INTEGER,
  architecture TEXT,
  chat_template TEXT,
  extracted_at TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (source, repo, filename, snapshot, api_model_id)
);
INSERT INTO "model_metadata_old" ("id", "source", "repo", "filename", "snapshot", "api_model_id", "capabilities", "context_max_input_tokens", "context_max_output_tokens", "architecture", "chat_template", "extracted_at", "created_at", "updated_at")
SELECT "id", "source", "repo", "filename", "snapshot", "api_model_id", "capabilities", "context_max_input_tokens", "context_max_output_tokens", "architecture", "chat_template", "extracted_at", "created_at", "updated_at"
FROM "model_metadata";
DROP TABLE "model_metadata";
ALTER TABLE "model_metadata_old" RENAME TO "model_metadata";
CREATE INDEX idx_model_metadata_api_model_id ON "model_metadata" (api_model_id);

-- api_model_aliases
CREATE TABLE "api_model_aliases_old" (
  id TEXT NOT NULL PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  api_format TEXT NOT NULL CHECK (api_format IN ('openai', 'anthropic')),
  base_url TEXT NOT NULL,
  models TEXT NOT NULL,
  prefix TEXT UNIQUE,
  forward_all_with_prefix INTEGER NOT NULL,
  encrypted_api_key TEXT,
  salt TEXT,
  nonce TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
INSERT INTO "api_model_aliases_old" ("id", "name", "api_format", "base_url", "models", "prefix", "forward_all_with_prefix", "encrypted_api_key", "salt", "nonce", "created_at", "updated_at")
SELECT "id", "name", "api_format", "base_url", "models", "prefix", "forward_all_with_prefix", "encrypted_api_key", "salt", "nonce", "created_at", "updated_at"
FROM "api_model_aliases";
DROP TABLE "api_model_aliases";
ALTER TABLE "api_model_aliases_old" RENAME TO "api_model_aliases";

-- api_tokens
CREATE TABLE "api_tokens_old" (
  id TEXT NOT NULL PRIMARY KEY,
  user_id TEXT NOT NULL,
  name TEXT NOT NULL,
  token_prefix TEXT NOT NULL UNIQUE,
  token_hash TEXT NOT NULL,
  scopes TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
INSERT INTO "api_tokens_old" ("id", "user_id", "name", "token_prefix", "token_hash", "scopes", "status", "created_at", "updated_at")
SELECT "id", "user_id", "name", "token_prefix", "token_hash", "scopes", "status", "created_at", "updated_at"
FROM "api_tokens";
DROP TABLE "api_tokens";
ALTER TABLE "api_tokens_old" RENAME TO "api_tokens";
CREATE INDEX idx_api_tokens_user_id ON "api_tokens" (user_id);

-- access_requests
CREATE TABLE "access_requests_old" (
  id TEXT NOT NULL PRIMARY KEY,
  username TEXT NOT NULL,
  user_id TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
  reviewer TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
INSERT INTO "access_requests_old" ("id", "username", "user_id", "status", "reviewer", "created_at", "updated_at")
SELECT "id", "username", "user_id", "status", "reviewer", "created_at", "updated_at"
FROM "access_requests";
DROP TABLE "access_requests";
ALTER TABLE "access_requests_old" RENAME TO "access_requests";
CREATE UNIQUE INDEX idx_access_requests_pending_user_id ON "access_requests" (user_id) WHERE status = 'pending';
CREATE INDEX idx_access_requests_status_created_at ON "access_requests" (status, created_at DESC);

-- download_requests
CREATE TABLE "download_requests_old" (
  id TEXT NOT NULL PRIMARY KEY,
  repo TEXT NOT NULL,
  filename TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'completed', 'error')),
  error TEXT,
  total_bytes INTEGER,
  downloaded_bytes INTEGER NOT NULL DEFAULT 0 CHECK (downloaded_bytes >= 0),
  started_at TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
INSERT INTO "download_requests_old" ("id", "repo", "filename", "status", "error", "total_bytes", "downloaded_bytes", "started_at", "created_at", "updated_at")
SELECT "id", "repo", "filename", "status", "error", "total_bytes", "downloaded_bytes", "started_at", "created_at", "updated_at"
FROM "download_requests";
DROP TABLE "download_requests";
ALTER TABLE "download_requests_old" RENAME TO "download_requests";
CREATE INDEX idx_download_requests_created_at ON "download_requests" (created_at DESC);
CREATE INDEX idx_download_requests_repo_filename ON "download_requests" (repo, filename);
CREATE INDEX idx_download_requests_status ON "download_requests" (status);

DROP TABLE "organizations";

-- PRAGMA foreign_key_check, made to fail: the pragma only lists violations, so its rows are
-- counted into a table whose CHECK refuses any count but 0, which aborts the transaction.
CREATE TEMP TABLE "_tenantry_fk_check" (
  "violations" INTEGER CONSTRAINT "foreign_key_check_found_violations" CHECK ("violations" = 0)
);
INSERT INTO "_tenantry_fk_check" SELECT COUNT(*) FROM pragma_foreign_key_check;
DROP TABLE "_tenantry_fk_check";
COMMIT;
PRAGMA foreign_keys = ON;
