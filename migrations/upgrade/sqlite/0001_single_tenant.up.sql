-- 0001_single_tenant: the product's schema before multi-tenancy, as a single-tenant installation
-- has it (the product's sqlx migrations 0001-0009, collapsed into one file). One tenant per
-- database, so nothing carries an org and these values are unique across the whole table:
--   api_model_aliases.prefix, app_toolset_configs.toolset_type, user_aliases.alias,
--   toolsets (user_id, slug)
-- and likewise api_tokens.token_prefix, api_model_aliases.name, a model's metadata identity and a
-- user's pending access request. 0002_multi_tenant turns this into the multi-tenant schema.
--
-- Column types are the ones tenantry maps the entities to (TEXT UUIDs, ISO-8601 TEXT timestamps,
-- INTEGER 0/1 booleans, TEXT JSON), except tower_sessions.expiry_date: tower-sessions' SQLite
-- store keeps it as INTEGER Unix seconds, and 0002 converts it.

CREATE TABLE "download_requests" (
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
CREATE INDEX idx_download_requests_created_at ON "download_requests" (created_at DESC);
CREATE INDEX idx_download_requests_repo_filename ON "download_requests" (repo, filename);
CREATE INDEX idx_download_requests_status ON "download_requests" (status);

CREATE TABLE "access_requests" (
  id TEXT NOT NULL PRIMARY KEY,
  username TEXT NOT NULL,
  user_id TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
  reviewer TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX idx_access_requests_pending_user_id ON "access_requests" (user_id) WHERE status = 'pending';
CREATE INDEX idx_access_requests_status_created_at ON "access_requests" (status, created_at DESC);

CREATE TABLE "api_tokens" (
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
CREATE INDEX idx_api_tokens_user_id ON "api_tokens" (user_id);

CREATE TABLE "api_model_aliases" (
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

CREATE TABLE "model_metadata" (
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
CREATE INDEX idx_model_metadata_api_model_id ON "model_metadata" (api_model_id);

CREATE TABLE "app_toolset_configs" (
  id TEXT NOT NULL PRIMARY KEY,
  toolset_type TEXT NOT NULL UNIQUE,
  enabled INTEGER NOT NULL,
  updated_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE "toolsets" (
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
CREATE INDEX idx_toolsets_toolset_type ON "toolsets" (toolset_type);

CREATE TABLE "user_aliases" (
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

CREATE TABLE "app_access_requests" (
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
CREATE INDEX idx_app_access_requests_app_client_id ON "app_access_requests" (app_client_id);
CREATE INDEX idx_app_access_requests_access_request_scope ON "app_access_requests" (access_request_scope);
CREATE INDEX idx_app_access_requests_status_expires_at ON "app_access_requests" (status, expires_at);

CREATE TABLE "tower_sessions" (
  id TEXT NOT NULL PRIMARY KEY,
  data BLOB NOT NULL,
  expiry_date INTEGER NOT NULL,
  user_id TEXT
);
CREATE INDEX idx_tower_sessions_user_id ON "tower_sessions" (user_id);
CREATE INDEX idx_tower_sessions_expiry_date ON "tower_sessions" (expiry_date);
