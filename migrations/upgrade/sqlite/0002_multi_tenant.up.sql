-- tenantry:no-transaction
-- 0002_multi_tenant (SQLite): the single-tenant schema of 0001 becomes the multi-tenant schema
-- the entities generate (migrations/sqlite/0001_initial_schema), keeping every row:
--   1. organizations is created, with one row: the default org, slug 'default', id
--      00000000-0000-4000-8000-000000000001. Its Keycloak client and secrets are placeholders ('')
--      until the app fills them in from the single-tenant configuration (secrets.yaml).
--   2. every table is rebuilt with org_id NOT NULL REFERENCES organizations ON DELETE CASCADE,
--      its rows copied into the default org, and its global uniques replaced by org-scoped
--      ones: UNIQUE(prefix) -> UNIQUE(org_id, prefix), UNIQUE(toolset_type) ->
--      UNIQUE(org_id, toolset_type), UNIQUE(alias) -> UNIQUE(org_id, alias), UNIQUE(user_id,
--      slug) -> UNIQUE(org_id, user_id, slug), and so on; indexes lead with org_id.
--
-- SQLite's ALTER TABLE can add a column but not a constraint, so each table goes through the
-- documented rebuild (https://sqlite.org/lang_altertable.html#otheralter): create the new table
-- under a temporary name, copy the rows, drop the old table, rename the new one, recreate the
-- indexes, then PRAGMA foreign_key_check. Foreign keys are switched off for the rebuild -- a DROP
-- TABLE with foreign keys on deletes the table's rows first, firing ON DELETE actions -- and
-- PRAGMA foreign_keys is a no-op inside a transaction, hence `tenantry:no-transaction` above and
-- the file's own BEGIN ... COMMIT: all of it commits or none of it does.
--
-- tower_sessions.expiry_date changes from tower-sessions' INTEGER Unix seconds to tenantry's
-- ISO-8601 text; every other value is copied as it is (tenantry reads ISO-8601 timestamps in
-- any of SQLite's forms).
PRAGMA foreign_keys = OFF;
BEGIN;

-- 1. the tenants, and the default org every existing row joins
CREATE TABLE "organizations" (
  "id" TEXT NOT NULL,
  "slug" TEXT NOT NULL,
  "display_name" TEXT NOT NULL,
  "kc_client_id" TEXT NOT NULL,
  "client_secret" TEXT NOT NULL,
  "encryption_key" TEXT NOT NULL,
  "status" TEXT NOT NULL DEFAULT 'active',
  "created_at" TEXT NOT NULL,
  "updated_at" TEXT NOT NULL,
  CONSTRAINT "pk_organizations" PRIMARY KEY ("id"),
  CONSTRAINT "uq_organizations_slug" UNIQUE ("slug"),
  CONSTRAINT "ck_organizations_status" CHECK ("status" IN ('active', 'suspended', 'deleted'))
);
INSERT INTO "organizations" ("id", "slug", "display_name", "kc_client_id", "client_secret", "encryption_key", "status", "created_at", "updated_at")
VALUES ('00000000-0000-4000-8000-000000000001', 'default', 'Default organization', '', '', '', 'active',
        strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z', strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z');

-- 2. each table rebuilt with org_id, its rows in the default org

-- download_requests
CREATE TABLE "download_requests_new" (
  "id" TEXT NOT NULL,
  "org_id" TEXT NOT NULL,
  "repo" TEXT NOT NULL,
  "filename" TEXT NOT NULL,
  "status" TEXT NOT NULL,
  "error" TEXT,
  "total_bytes" INTEGER,
  "downloaded_bytes" INTEGER NOT NULL DEFAULT 0,
  "started_at" TEXT,
  "created_at" TEXT NOT NULL,
  "updated_at" TEXT NOT NULL,
  CONSTRAINT "uq_download_requests_org_id_id" UNIQUE ("org_id", "id"),
  CONSTRAINT "pk_download_requests" PRIMARY KEY ("id"),
  CONSTRAINT "ck_download_requests_status" CHECK ("status" IN ('pending', 'completed', 'error')),
  CONSTRAINT "ck_download_requests_downloaded_bytes_ge" CHECK ("downloaded_bytes" >= 0),
  CONSTRAINT "fk_download_requests_org_id" FOREIGN KEY ("org_id") REFERENCES "organizations" ("id") ON DELETE CASCADE
);
INSERT INTO "download_requests_new" ("id", "org_id", "repo", "filename", "status", "error", "total_bytes", "downloaded_bytes", "started_at", "created_at", "updated_at")
SELECT "id", '00000000-0000-4000-8000-000000000001', "repo", "filename", "status", "error", "total_bytes", "downloaded_bytes", "started_at", "created_at", "updated_at"
FROM "download_requests";
DROP TABLE "download_requests";
ALTER TABLE "download_requests_new" RENAME TO "download_requests";
CREATE INDEX "ix_download_requests_org_id_created_at" ON "download_requests" ("org_id", "created_at" DESC);
CREATE INDEX "ix_download_requests_org_id_repo_filename" ON "download_requests" ("org_id", "repo", "filename");
CREATE INDEX "ix_download_requests_org_id_status" ON "download_requests" ("org_id", "status");

-- access_requests
CREATE TABLE "access_requests_new" (
  "id" TEXT NOT NULL,
  "org_id" TEXT NOT NULL,
  "username" TEXT NOT NULL,
  "user_id" TEXT NOT NULL,
  "status" TEXT NOT NULL,
  "reviewer" TEXT,
  "created_at" TEXT NOT NULL,
  "updated_at" TEXT NOT NULL,
  CONSTRAINT "uq_access_requests_org_id_id" UNIQUE ("org_id", "id"),
  CONSTRAINT "pk_access_requests" PRIMARY KEY ("id"),
  CONSTRAINT "ck_access_requests_status" CHECK ("status" IN ('pending', 'approved', 'rejected')),
  CONSTRAINT "fk_access_requests_org_id" FOREIGN KEY ("org_id") REFERENCES "organizations" ("id") ON DELETE CASCADE
);
INSERT INTO "access_requests_new" ("id", "org_id", "username", "user_id", "status", "reviewer", "created_at", "updated_at")
SELECT "id", '00000000-0000-4000-8000-000000000001', "username", "user_id", "status", "reviewer", "created_at", "updated_at"
FROM "access_requests";
DROP TABLE "access_requests";
ALTER TABLE "access_requests_new" RENAME TO "access_requests";
CREATE UNIQUE INDEX "ux_access_requests_org_id_user_id" ON "access_requests" ("org_id", "user_id") WHERE status = 'pending';
CREATE INDEX "ix_access_requests_org_id_status_created_at" ON "access_requests" ("org_id", "status", "created_at" DESC);

-- api_tokens
CREATE TABLE "api_tokens_new" (
  "id" TEXT NOT NULL,
  "org_id" TEXT NOT NULL,
  "user_id" TEXT NOT NULL,
  "name" TEXT NOT NULL,
  "token_prefix" TEXT NOT NULL,
  "token_hash" TEXT NOT NULL,
  "scopes" TEXT NOT NULL,
  "status" TEXT NOT NULL DEFAULT 'active',
  "created_at" TEXT NOT NULL,
  "updated_at" TEXT NOT NULL,
  CONSTRAINT "uq_api_tokens_org_id_id" UNIQUE ("org_id", "id"),
  CONSTRAINT "pk_api_tokens" PRIMARY KEY ("id"),
  CONSTRAINT "uq_api_tokens_org_id_token_prefix" UNIQUE ("org_id", "token_prefix"),
  CONSTRAINT "ck_api_tokens_status" CHECK ("status" IN ('active', 'inactive')),
  CONSTRAINT "fk_api_tokens_org_id" FOREIGN KEY ("org_id") REFERENCES "organizations" ("id") ON DELETE CASCADE
);
INSERT INTO "api_tokens_new" ("id", "org_id", "user_id", "name", "token_prefix", "token_hash", "scopes", "status", "created_at", "updated_at")
SELECT "id", '00000000-0000-4000-8000-000000000001', "user_id", "name", "token_prefix", "token_hash", "scopes", "status", "created_at", "updated_at"
FROM "api_tokens";
DROP TABLE "api_tokens";
ALTER TABLE "api_tokens_new" RENAME TO "api_tokens";
CREATE INDEX "ix_api_tokens_org_id_user_id" ON "api_tokens" ("org_id", "user_id");

-- api_model_aliases
CREATE TABLE "api_model_aliases_new" (
  "id" TEXT NOT NULL,
  "org_id" TEXT NOT NULL,
  "name" TEXT NOT NULL,
  "api_format" TEXT NOT NULL,
  "base_url" TEXT NOT NULL,
  "models" TEXT NOT NULL,
  "prefix" TEXT,
  "forward_all_with_prefix" INTEGER NOT NULL,
  "encrypted_api_key" TEXT,
  "salt" TEXT,
  "nonce" TEXT,
  "created_at" TEXT NOT NULL,
  "updated_at" TEXT NOT NULL,
  CONSTRAINT "uq_api_model_aliases_org_id_id" UNIQUE ("org_id", "id"),
  CONSTRAINT "pk_api_model_aliases" PRIMARY KEY ("id"),
  CONSTRAINT "uq_api_model_aliases_org_id_name" UNIQUE ("org_id", "name"),
  CONSTRAINT "uq_api_model_aliases_org_id_prefix" UNIQUE ("org_id", "prefix"),
  CONSTRAINT "ck_api_model_aliases_api_format" CHECK ("api_format" IN ('openai', 'anthropic')),
  CONSTRAINT "ck_api_model_aliases_models_json" CHECK (json_valid("models")),
  CONSTRAINT "ck_api_model_aliases_forward_all_with_prefix_bool" CHECK ("forward_all_with_prefix" IN (0, 1)),
  CONSTRAINT "fk_api_model_aliases_org_id" FOREIGN KEY ("org_id") REFERENCES "organizations" ("id") ON DELETE CASCADE
);
INSERT INTO "api_model_aliases_new" ("id", "org_id", "name", "api_format", "base_url", "models", "prefix", "forward_all_with_prefix", "encrypted_api_key", "salt", "nonce", "created_at", "updated_at")
SELECT "id", '00000000-0000-4000-8000-000000000001', "name", "api_format", "base_url", "models", "prefix", "forward_all_with_prefix", "encrypted_api_key", "salt", "nonce", "created_at", "updated_at"
FROM "api_model_aliases";
DROP TABLE "api_model_aliases";
ALTER TABLE "api_model_aliases_new" RENAME TO "api_model_aliases";

-- model_metadata
CREATE TABLE "model_metadata_new" (
  "id" TEXT NOT NULL,
  "org_id" TEXT NOT NULL,
  "source" TEXT NOT NULL,
  "repo" TEXT NOT NULL,
  "filename" TEXT NOT NULL,
  "snapshot" TEXT NOT NULL,
  "api_model_id" TEXT NOT NULL,
  "capabilities" TEXT NOT NULL,
  "context_max_input_tokens" INTEGER,
  "context_max_output_tokens" INTEGER,
  "architecture" TEXT,
  "chat_template" TEXT,
  "extracted_at" TEXT NOT NULL,
  "created_at" TEXT NOT NULL,
  "updated_at" TEXT NOT NULL,
  CONSTRAINT "uq_model_metadata_org_id_id" UNIQUE ("org_id", "id"),
  CONSTRAINT "pk_model_metadata" PRIMARY KEY ("id"),
  CONSTRAINT "uq_model_metadata_org_id_source_repo_filename_snapshot_c56ee4a5" UNIQUE ("org_id", "source", "repo", "filename", "snapshot", "api_model_id"),
  CONSTRAINT "ck_model_metadata_source" CHECK ("source" IN ('model', 'api')),
  CONSTRAINT "ck_model_metadata_capabilities_json" CHECK (json_valid("capabilities")),
  CONSTRAINT "fk_model_metadata_org_id" FOREIGN KEY ("org_id") REFERENCES "organizations" ("id") ON DELETE CASCADE
);
INSERT INTO "model_metadata_new" ("id", "org_id", "source", "repo", "filename", "snapshot", "api_model_id", "capabilities", "context_max_input_tokens", "context_max_output_tokens", "architecture", "chat_template", "extracted_at", "created_at", "updated_at")
SELECT "id", '00000000-0000-4000-8000-000000000001', "source", "repo", "filename", "snapshot", "api_model_id", "capabilities", "context_max_input_tokens", "context_max_output_tokens", "architecture", "chat_template", "extracted_at", "created_at", "updated_at"
FROM "model_metadata";
DROP TABLE "model_metadata";
ALTER TABLE "model_metadata_new" RENAME TO "model_metadata";
CREATE INDEX "ix_model_metadata_org_id_api_model_id" ON "model_metadata" ("org_id", "api_model_id");

-- app_toolset_configs
CREATE TABLE "app_toolset_configs_new" (
  "id" TEXT NOT NULL,
  "org_id" TEXT NOT NULL,
  "toolset_type" TEXT NOT NULL,
  "enabled" INTEGER NOT NULL,
  "updated_by" TEXT NOT NULL,
  "created_at" TEXT NOT NULL,
  "updated_at" TEXT NOT NULL,
  CONSTRAINT "uq_app_toolset_configs_org_id_id" UNIQUE ("org_id", "id"),
  CONSTRAINT "pk_app_toolset_configs" PRIMARY KEY ("id"),
  CONSTRAINT "uq_app_toolset_configs_org_id_toolset_type" UNIQUE ("org_id", "toolset_type"),
  CONSTRAINT "ck_app_toolset_configs_enabled_bool" CHECK ("enabled" IN (0, 1)),
  CONSTRAINT "fk_app_toolset_configs_org_id" FOREIGN KEY ("org_id") REFERENCES "organizations" ("id") ON DELETE CASCADE
);
INSERT INTO "app_toolset_configs_new" ("id", "org_id", "toolset_type", "enabled", "updated_by", "created_at", "updated_at")
SELECT "id", '00000000-0000-4000-8000-000000000001', "toolset_type", "enabled", "updated_by", "created_at", "updated_at"
FROM "app_toolset_configs";
DROP TABLE "app_toolset_configs";
ALTER TABLE "app_toolset_configs_new" RENAME TO "app_toolset_configs";

-- toolsets
CREATE TABLE "toolsets_new" (
  "id" TEXT NOT NULL,
  "org_id" TEXT NOT NULL,
  "user_id" TEXT NOT NULL,
  "toolset_type" TEXT NOT NULL,
  "slug" TEXT NOT NULL,
  "description" TEXT,
  "enabled" INTEGER NOT NULL,
  "encrypted_api_key" TEXT,
  "salt" TEXT,
  "nonce" TEXT,
  "created_at" TEXT NOT NULL,
  "updated_at" TEXT NOT NULL,
  CONSTRAINT "uq_toolsets_org_id_id" UNIQUE ("org_id", "id"),
  CONSTRAINT "pk_toolsets" PRIMARY KEY ("id"),
  CONSTRAINT "uq_toolsets_org_id_user_id_slug" UNIQUE ("org_id", "user_id", "slug"),
  CONSTRAINT "ck_toolsets_enabled_bool" CHECK ("enabled" IN (0, 1)),
  CONSTRAINT "fk_toolsets_org_id" FOREIGN KEY ("org_id") REFERENCES "organizations" ("id") ON DELETE CASCADE
);
INSERT INTO "toolsets_new" ("id", "org_id", "user_id", "toolset_type", "slug", "description", "enabled", "encrypted_api_key", "salt", "nonce", "created_at", "updated_at")
SELECT "id", '00000000-0000-4000-8000-000000000001', "user_id", "toolset_type", "slug", "description", "enabled", "encrypted_api_key", "salt", "nonce", "created_at", "updated_at"
FROM "toolsets";
DROP TABLE "toolsets";
ALTER TABLE "toolsets_new" RENAME TO "toolsets";
CREATE INDEX "ix_toolsets_org_id_toolset_type" ON "toolsets" ("org_id", "toolset_type");

-- user_aliases
CREATE TABLE "user_aliases_new" (
  "id" TEXT NOT NULL,
  "org_id" TEXT NOT NULL,
  "alias" TEXT NOT NULL,
  "repo" TEXT NOT NULL,
  "filename" TEXT NOT NULL,
  "snapshot" TEXT NOT NULL,
  "request_params" TEXT NOT NULL,
  "context_params" TEXT NOT NULL,
  "created_at" TEXT NOT NULL,
  "updated_at" TEXT NOT NULL,
  CONSTRAINT "uq_user_aliases_org_id_id" UNIQUE ("org_id", "id"),
  CONSTRAINT "pk_user_aliases" PRIMARY KEY ("id"),
  CONSTRAINT "uq_user_aliases_org_id_alias" UNIQUE ("org_id", "alias"),
  CONSTRAINT "ck_user_aliases_request_params_json" CHECK (json_valid("request_params")),
  CONSTRAINT "ck_user_aliases_context_params_json" CHECK (json_valid("context_params")),
  CONSTRAINT "fk_user_aliases_org_id" FOREIGN KEY ("org_id") REFERENCES "organizations" ("id") ON DELETE CASCADE
);
INSERT INTO "user_aliases_new" ("id", "org_id", "alias", "repo", "filename", "snapshot", "request_params", "context_params", "created_at", "updated_at")
SELECT "id", '00000000-0000-4000-8000-000000000001', "alias", "repo", "filename", "snapshot", "request_params", "context_params", "created_at", "updated_at"
FROM "user_aliases";
DROP TABLE "user_aliases";
ALTER TABLE "user_aliases_new" RENAME TO "user_aliases";

-- app_access_requests
CREATE TABLE "app_access_requests_new" (
  "id" TEXT NOT NULL,
  "org_id" TEXT NOT NULL,
  "app_client_id" TEXT NOT NULL,
  "app_name" TEXT,
  "app_description" TEXT,
  "flow_type" TEXT NOT NULL,
  "redirect_uri" TEXT,
  "status" TEXT NOT NULL,
  "requested" TEXT NOT NULL,
  "approved" TEXT NOT NULL,
  "user_id" TEXT,
  "requested_role" TEXT NOT NULL,
  "approved_role" TEXT,
  "access_request_scope" TEXT,
  "error_message" TEXT,
  "expires_at" TEXT NOT NULL,
  "created_at" TEXT NOT NULL,
  "updated_at" TEXT NOT NULL,
  CONSTRAINT "uq_app_access_requests_org_id_id" UNIQUE ("org_id", "id"),
  CONSTRAINT "pk_app_access_requests" PRIMARY KEY ("id"),
  CONSTRAINT "ck_app_access_requests_flow_type" CHECK ("flow_type" IN ('redirect', 'popup')),
  CONSTRAINT "ck_app_access_requests_status" CHECK ("status" IN ('draft', 'approved', 'denied', 'failed', 'expired')),
  CONSTRAINT "ck_app_access_requests_requested_json" CHECK (json_valid("requested")),
  CONSTRAINT "ck_app_access_requests_approved_json" CHECK (json_valid("approved")),
  CONSTRAINT "fk_app_access_requests_org_id" FOREIGN KEY ("org_id") REFERENCES "organizations" ("id") ON DELETE CASCADE
);
INSERT INTO "app_access_requests_new" ("id", "org_id", "app_client_id", "app_name", "app_description", "flow_type", "redirect_uri", "status", "requested", "approved", "user_id", "requested_role", "approved_role", "access_request_scope", "error_message", "expires_at", "created_at", "updated_at")
SELECT "id", '00000000-0000-4000-8000-000000000001', "app_client_id", "app_name", "app_description", "flow_type", "redirect_uri", "status", "requested", "approved", "user_id", "requested_role", "approved_role", "access_request_scope", "error_message", "expires_at", "created_at", "updated_at"
FROM "app_access_requests";
DROP TABLE "app_access_requests";
ALTER TABLE "app_access_requests_new" RENAME TO "app_access_requests";
CREATE INDEX "ix_app_access_requests_org_id_app_client_id" ON "app_access_requests" ("org_id", "app_client_id");
CREATE INDEX "ix_app_access_requests_org_id_access_request_scope" ON "app_access_requests" ("org_id", "access_request_scope");
CREATE INDEX "ix_app_access_requests_org_id_status_expires_at" ON "app_access_requests" ("org_id", "status", "expires_at");

-- tower_sessions
CREATE TABLE "tower_sessions_new" (
  "id" TEXT NOT NULL,
  "org_id" TEXT NOT NULL,
  "data" BLOB NOT NULL,
  "expiry_date" TEXT NOT NULL,
  "user_id" TEXT,
  CONSTRAINT "uq_tower_sessions_org_id_id" UNIQUE ("org_id", "id"),
  CONSTRAINT "pk_tower_sessions" PRIMARY KEY ("id"),
  CONSTRAINT "fk_tower_sessions_org_id" FOREIGN KEY ("org_id") REFERENCES "organizations" ("id") ON DELETE CASCADE
);
INSERT INTO "tower_sessions_new" ("id", "org_id", "data", "expiry_date", "user_id")
SELECT "id", '00000000-0000-4000-8000-000000000001', "data", strftime('%Y-%m-%dT%H:%M:%S.000000Z', "expiry_date", 'unixepoch'), "user_id"
FROM "tower_sessions";
DROP TABLE "tower_sessions";
ALTER TABLE "tower_sessions_new" RENAME TO "tower_sessions";
CREATE INDEX "ix_tower_sessions_org_id_user_id" ON "tower_sessions" ("org_id", "user_id");
CREATE INDEX "ix_tower_sessions_org_id_expiry_date" ON "tower_sessions" ("org_id", "expiry_date");

-- PRAGMA foreign_key_check, made to fail: the pragma only lists violations, so its rows are
-- counted into a table whose CHECK refuses any count but 0, which aborts the transaction.
CREATE TEMP TABLE "_tenantry_fk_check" (
  "violations" INTEGER CONSTRAINT "foreign_key_check_found_violations" CHECK ("violations" = 0)
);
INSERT INTO "_tenantry_fk_check" SELECT COUNT(*) FROM pragma_foreign_key_check;
DROP TABLE "_tenantry_fk_check";
COMMIT;
PRAGMA foreign_keys = ON;
