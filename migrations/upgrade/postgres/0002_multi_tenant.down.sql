-- 0002_multi_tenant (PostgreSQL), reverted: back to the single-tenant schema of 0001, keeping
-- the default org's rows. Refused (nothing changes) while any other org exists: a single-tenant
-- database has no place for a second tenant's rows, and its global uniques could not hold.
-- Delete the other orgs first (their rows go with them), then run this again.

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM "organizations" WHERE "id" <> '00000000-0000-4000-8000-000000000001') THEN
    RAISE EXCEPTION 'other organizations exist: delete them before going back to single-tenant'
      USING HINT = 'Only the default org (slug ''default'') can go back to the single-tenant schema.';
  END IF;
END
$$;

-- tower_sessions
DROP INDEX "ix_tower_sessions_org_id_user_id";
DROP INDEX "ix_tower_sessions_org_id_expiry_date";
ALTER TABLE "tower_sessions"
  DROP CONSTRAINT "fk_tower_sessions_org_id",
  DROP CONSTRAINT "uq_tower_sessions_org_id_id";
ALTER TABLE "tower_sessions" RENAME CONSTRAINT "pk_tower_sessions" TO tower_sessions_pkey;
CREATE INDEX idx_tower_sessions_user_id ON tower_sessions (user_id);
CREATE INDEX idx_tower_sessions_expiry_date ON tower_sessions (expiry_date);
ALTER TABLE "tower_sessions" DROP COLUMN "org_id";

-- app_access_requests
DROP INDEX "ix_app_access_requests_org_id_app_client_id";
DROP INDEX "ix_app_access_requests_org_id_access_request_scope";
DROP INDEX "ix_app_access_requests_org_id_status_expires_at";
ALTER TABLE "app_access_requests"
  DROP CONSTRAINT "fk_app_access_requests_org_id",
  DROP CONSTRAINT "uq_app_access_requests_org_id_id";
ALTER TABLE "app_access_requests" RENAME CONSTRAINT "pk_app_access_requests" TO app_access_requests_pkey;
ALTER TABLE "app_access_requests" RENAME CONSTRAINT "ck_app_access_requests_flow_type" TO app_access_requests_flow_type_check;
ALTER TABLE "app_access_requests" RENAME CONSTRAINT "ck_app_access_requests_status" TO app_access_requests_status_check;
CREATE INDEX idx_app_access_requests_app_client_id ON app_access_requests (app_client_id);
CREATE INDEX idx_app_access_requests_access_request_scope ON app_access_requests (access_request_scope);
CREATE INDEX idx_app_access_requests_status_expires_at ON app_access_requests (status, expires_at);
ALTER TABLE "app_access_requests" DROP COLUMN "org_id";

-- user_aliases
ALTER TABLE "user_aliases"
  DROP CONSTRAINT "fk_user_aliases_org_id",
  DROP CONSTRAINT "uq_user_aliases_org_id_alias",
  DROP CONSTRAINT "uq_user_aliases_org_id_id";
ALTER TABLE "user_aliases" RENAME CONSTRAINT "pk_user_aliases" TO user_aliases_pkey;
ALTER TABLE "user_aliases" ADD CONSTRAINT user_aliases_alias_key UNIQUE (alias);
ALTER TABLE "user_aliases" DROP COLUMN "org_id";

-- toolsets
DROP INDEX "ix_toolsets_org_id_toolset_type";
ALTER TABLE "toolsets"
  DROP CONSTRAINT "fk_toolsets_org_id",
  DROP CONSTRAINT "uq_toolsets_org_id_user_id_slug",
  DROP CONSTRAINT "uq_toolsets_org_id_id";
ALTER TABLE "toolsets" RENAME CONSTRAINT "pk_toolsets" TO toolsets_pkey;
ALTER TABLE "toolsets" ADD CONSTRAINT toolsets_user_id_slug_key UNIQUE (user_id, slug);
CREATE INDEX idx_toolsets_toolset_type ON toolsets (toolset_type);
ALTER TABLE "toolsets" DROP COLUMN "org_id";

-- app_toolset_configs
ALTER TABLE "app_toolset_configs"
  DROP CONSTRAINT "fk_app_toolset_configs_org_id",
  DROP CONSTRAINT "uq_app_toolset_configs_org_id_toolset_type",
  DROP CONSTRAINT "uq_app_toolset_configs_org_id_id";
ALTER TABLE "app_toolset_configs" RENAME CONSTRAINT "pk_app_toolset_configs" TO app_toolset_configs_pkey;
ALTER TABLE "app_toolset_configs" ADD CONSTRAINT app_toolset_configs_toolset_type_key UNIQUE (toolset_type);
ALTER TABLE "app_toolset_configs" DROP COLUMN "org_id";

-- model_metadata
DROP INDEX "ix_model_metadata_org_id_api_model_id";
ALTER TABLE "model_metadata"
  DROP CONSTRAINT "fk_model_metadata_org_id",
  DROP CONSTRAINT "uq_model_metadata_org_id_source_repo_filename_snapshot_c56ee4a5",
  DROP CONSTRAINT "uq_model_metadata_org_id_id";
ALTER TABLE "model_metadata" RENAME CONSTRAINT "pk_model_metadata" TO model_metadata_pkey;
ALTER TABLE "model_metadata" RENAME CONSTRAINT "ck_model_metadata_source" TO model_metadata_source_check;
ALTER TABLE "model_metadata" ADD CONSTRAINT model_metadata_source_repo_filename_snapshot_api_model_id_key UNIQUE (source, repo, filename, snapshot, api_model_id);
CREATE INDEX idx_model_metadata_api_model_id ON model_metadata (api_model_id);
ALTER TABLE "model_metadata" DROP COLUMN "org_id";

-- api_model_aliases
ALTER TABLE "api_model_aliases"
  DROP CONSTRAINT "fk_api_model_aliases_org_id",
  DROP CONSTRAINT "uq_api_model_aliases_org_id_prefix",
  DROP CONSTRAINT "uq_api_model_aliases_org_id_name",
  DROP CONSTRAINT "uq_api_model_aliases_org_id_id";
ALTER TABLE "api_model_aliases" RENAME CONSTRAINT "pk_api_model_aliases" TO api_model_aliases_pkey;
ALTER TABLE "api_model_aliases" RENAME CONSTRAINT "ck_api_model_aliases_api_format" TO api_model_aliases_api_format_check;
ALTER TABLE "api_model_aliases" ADD CONSTRAINT api_model_aliases_name_key UNIQUE (name);
ALTER TABLE "api_model_aliases" ADD CONSTRAINT api_model_aliases_prefix_key UNIQUE (prefix);
ALTER TABLE "api_model_aliases" DROP COLUMN "org_id";

-- api_tokens
DROP INDEX "ix_api_tokens_org_id_user_id";
ALTER TABLE "api_tokens"
  DROP CONSTRAINT "fk_api_tokens_org_id",
  DROP CONSTRAINT "uq_api_tokens_org_id_token_prefix",
  DROP CONSTRAINT "uq_api_tokens_org_id_id";
ALTER TABLE "api_tokens" RENAME CONSTRAINT "pk_api_tokens" TO api_tokens_pkey;
ALTER TABLE "api_tokens" RENAME CONSTRAINT "ck_api_tokens_status" TO api_tokens_status_check;
ALTER TABLE "api_tokens" ADD CONSTRAINT api_tokens_token_prefix_key UNIQUE (token_prefix);
CREATE INDEX idx_api_tokens_user_id ON api_tokens (user_id);
ALTER TABLE "api_tokens" DROP COLUMN "org_id";

-- access_requests
DROP INDEX "ux_access_requests_org_id_user_id";
DROP INDEX "ix_access_requests_org_id_status_created_at";
ALTER TABLE "access_requests"
  DROP CONSTRAINT "fk_access_requests_org_id",
  DROP CONSTRAINT "uq_access_requests_org_id_id";
ALTER TABLE "access_requests" RENAME CONSTRAINT "pk_access_requests" TO access_requests_pkey;
ALTER TABLE "access_requests" RENAME CONSTRAINT "ck_access_requests_status" TO access_requests_status_check;
CREATE UNIQUE INDEX idx_access_requests_pending_user_id ON access_requests (user_id) WHERE status = 'pending';
CREATE INDEX idx_access_requests_status_created_at ON access_requests (status, created_at DESC);
ALTER TABLE "access_requests" DROP COLUMN "org_id";

-- download_requests
DROP INDEX "ix_download_requests_org_id_created_at";
DROP INDEX "ix_download_requests_org_id_repo_filename";
DROP INDEX "ix_download_requests_org_id_status";
ALTER TABLE "download_requests"
  DROP CONSTRAINT "fk_download_requests_org_id",
  DROP CONSTRAINT "uq_download_requests_org_id_id";
ALTER TABLE "download_requests" RENAME CONSTRAINT "pk_download_requests" TO download_requests_pkey;
ALTER TABLE "download_requests" RENAME CONSTRAINT "ck_download_requests_status" TO download_requests_status_check;
ALTER TABLE "download_requests" RENAME CONSTRAINT "ck_download_requests_downloaded_bytes_ge" TO download_requests_downloaded_bytes_check;
CREATE INDEX idx_download_requests_created_at ON download_requests (created_at DESC);
CREATE INDEX idx_download_requests_repo_filename ON download_requests (repo, filename);
CREATE INDEX idx_download_requests_status ON download_requests (status);
ALTER TABLE "download_requests" DROP COLUMN "org_id";

DROP TABLE "organizations";
