-- 0002_multi_tenant (PostgreSQL): the single-tenant schema of 0001 becomes the multi-tenant
-- schema the entities generate (migrations/postgres/0001_initial_schema), keeping every row.
-- One transaction, like every migration without `tenantry:no-transaction`: all of it or none.
--   1. organizations is created, with one row: the default org, slug 'default', id
--      00000000-0000-4000-8000-000000000001. Its Keycloak client and secrets are placeholders ('')
--      until the app fills them in from the single-tenant configuration (secrets.yaml).
--   2. every table gets org_id: ADD COLUMN ... NOT NULL DEFAULT <default org> fills the existing
--      rows without rewriting the table (PostgreSQL 11+ stores the default in the catalog), and
--      the DEFAULT is dropped at once so that new rows must name their org.
--   3. the global uniques are replaced by org-scoped ones: UNIQUE(prefix) -> UNIQUE(org_id,
--      prefix), UNIQUE(toolset_type) -> UNIQUE(org_id, toolset_type), UNIQUE(alias) ->
--      UNIQUE(org_id, alias), UNIQUE(user_id, slug) -> UNIQUE(org_id, user_id, slug), and so on,
--      plus UNIQUE(org_id, id) and FOREIGN KEY (org_id) REFERENCES organizations ON DELETE CASCADE;
--      indexes are rebuilt to lead with org_id; the primary keys and checks take tenantry's names.
-- Every ALTER TABLE holds an ACCESS EXCLUSIVE lock on its table until COMMIT, and each new UNIQUE
-- and FOREIGN KEY reads the whole table: run it while the app is stopped.
-- The columns keep their order, so org_id comes last on an upgraded table (tenantry names every
-- column it reads and writes, so the position does not matter).

-- 1. the tenants, and the default org every existing row joins
CREATE TABLE "organizations" (
  "id" UUID NOT NULL,
  "slug" TEXT NOT NULL,
  "display_name" TEXT NOT NULL,
  "kc_client_id" TEXT NOT NULL,
  "client_secret" TEXT NOT NULL,
  "encryption_key" TEXT NOT NULL,
  "status" TEXT NOT NULL DEFAULT 'active',
  "created_at" TIMESTAMPTZ NOT NULL,
  "updated_at" TIMESTAMPTZ NOT NULL,
  CONSTRAINT "pk_organizations" PRIMARY KEY ("id"),
  CONSTRAINT "uq_organizations_slug" UNIQUE ("slug"),
  CONSTRAINT "ck_organizations_status" CHECK ("status" IN ('active', 'suspended', 'deleted'))
);
INSERT INTO "organizations" ("id", "slug", "display_name", "kc_client_id", "client_secret", "encryption_key", "status", "created_at", "updated_at")
VALUES ('00000000-0000-4000-8000-000000000001', 'default', 'Default organization', '', '', '', 'active', now(), now());

-- 2. and 3., table by table

-- download_requests
ALTER TABLE "download_requests" ADD COLUMN "org_id" UUID NOT NULL DEFAULT '00000000-0000-4000-8000-000000000001';
ALTER TABLE "download_requests" ALTER COLUMN "org_id" DROP DEFAULT;
DROP INDEX idx_download_requests_created_at;
DROP INDEX idx_download_requests_repo_filename;
DROP INDEX idx_download_requests_status;
ALTER TABLE "download_requests" RENAME CONSTRAINT download_requests_pkey TO "pk_download_requests";
ALTER TABLE "download_requests" RENAME CONSTRAINT download_requests_status_check TO "ck_download_requests_status";
ALTER TABLE "download_requests" RENAME CONSTRAINT download_requests_downloaded_bytes_check TO "ck_download_requests_downloaded_bytes_ge";
ALTER TABLE "download_requests"
  ADD CONSTRAINT "uq_download_requests_org_id_id" UNIQUE ("org_id", "id"),
  ADD CONSTRAINT "fk_download_requests_org_id" FOREIGN KEY ("org_id") REFERENCES "organizations" ("id") ON DELETE CASCADE;
CREATE INDEX "ix_download_requests_org_id_created_at" ON "download_requests" ("org_id", "created_at" DESC);
CREATE INDEX "ix_download_requests_org_id_repo_filename" ON "download_requests" ("org_id", "repo", "filename");
CREATE INDEX "ix_download_requests_org_id_status" ON "download_requests" ("org_id", "status");

-- access_requests
ALTER TABLE "access_requests" ADD COLUMN "org_id" UUID NOT NULL DEFAULT '00000000-0000-4000-8000-000000000001';
ALTER TABLE "access_requests" ALTER COLUMN "org_id" DROP DEFAULT;
DROP INDEX idx_access_requests_pending_user_id;
DROP INDEX idx_access_requests_status_created_at;
ALTER TABLE "access_requests" RENAME CONSTRAINT access_requests_pkey TO "pk_access_requests";
ALTER TABLE "access_requests" RENAME CONSTRAINT access_requests_status_check TO "ck_access_requests_status";
ALTER TABLE "access_requests"
  ADD CONSTRAINT "uq_access_requests_org_id_id" UNIQUE ("org_id", "id"),
  ADD CONSTRAINT "fk_access_requests_org_id" FOREIGN KEY ("org_id") REFERENCES "organizations" ("id") ON DELETE CASCADE;
CREATE UNIQUE INDEX "ux_access_requests_org_id_user_id" ON "access_requests" ("org_id", "user_id") WHERE status = 'pending';
CREATE INDEX "ix_access_requests_org_id_status_created_at" ON "access_requests" ("org_id", "status", "created_at" DESC);

-- api_tokens
ALTER TABLE "api_tokens" ADD COLUMN "org_id" UUID NOT NULL DEFAULT '00000000-0000-4000-8000-000000000001';
ALTER TABLE "api_tokens" ALTER COLUMN "org_id" DROP DEFAULT;
DROP INDEX idx_api_tokens_user_id;
ALTER TABLE "api_tokens" DROP CONSTRAINT api_tokens_token_prefix_key;
ALTER TABLE "api_tokens" RENAME CONSTRAINT api_tokens_pkey TO "pk_api_tokens";
ALTER TABLE "api_tokens" RENAME CONSTRAINT api_tokens_status_check TO "ck_api_tokens_status";
ALTER TABLE "api_tokens"
  ADD CONSTRAINT "uq_api_tokens_org_id_id" UNIQUE ("org_id", "id"),
  ADD CONSTRAINT "uq_api_tokens_org_id_token_prefix" UNIQUE ("org_id", "token_prefix"),
  ADD CONSTRAINT "fk_api_tokens_org_id" FOREIGN KEY ("org_id") REFERENCES "organizations" ("id") ON DELETE CASCADE;
CREATE INDEX "ix_api_tokens_org_id_user_id" ON "api_tokens" ("org_id", "user_id");

-- api_model_aliases
ALTER TABLE "api_model_aliases" ADD COLUMN "org_id" UUID NOT NULL DEFAULT '00000000-0000-4000-8000-000000000001';
ALTER TABLE "api_model_aliases" ALTER COLUMN "org_id" DROP DEFAULT;
ALTER TABLE "api_model_aliases" DROP CONSTRAINT api_model_aliases_name_key;
ALTER TABLE "api_model_aliases" DROP CONSTRAINT api_model_aliases_prefix_key;
ALTER TABLE "api_model_aliases" RENAME CONSTRAINT api_model_aliases_pkey TO "pk_api_model_aliases";
ALTER TABLE "api_model_aliases" RENAME CONSTRAINT api_model_aliases_api_format_check TO "ck_api_model_aliases_api_format";
ALTER TABLE "api_model_aliases"
  ADD CONSTRAINT "uq_api_model_aliases_org_id_id" UNIQUE ("org_id", "id"),
  ADD CONSTRAINT "uq_api_model_aliases_org_id_name" UNIQUE ("org_id", "name"),
  ADD CONSTRAINT "uq_api_model_aliases_org_id_prefix" UNIQUE ("org_id", "prefix"),
  ADD CONSTRAINT "fk_api_model_aliases_org_id" FOREIGN KEY ("org_id") REFERENCES "organizations" ("id") ON DELETE CASCADE;

-- model_metadata
ALTER TABLE "model_metadata" ADD COLUMN "org_id" UUID NOT NULL DEFAULT '00000000-0000-4000-8000-000000000001';
ALTER TABLE "model_metadata" ALTER COLUMN "org_id" DROP DEFAULT;
DROP INDEX idx_model_metadata_api_model_id;
ALTER TABLE "model_metadata" DROP CONSTRAINT model_metadata_source_repo_filename_snapshot_api_model_id_key;
ALTER TABLE "model_metadata" RENAME CONSTRAINT model_metadata_pkey TO "pk_model_metadata";
ALTER TABLE "model_metadata" RENAME CONSTRAINT model_metadata_source_check TO "ck_model_metadata_source";
ALTER TABLE "model_metadata"
  ADD CONSTRAINT "uq_model_metadata_org_id_id" UNIQUE ("org_id", "id"),
  ADD CONSTRAINT "uq_model_metadata_org_id_source_repo_filename_snapshot_c56ee4a5" UNIQUE ("org_id", "source", "repo", "filename", "snapshot", "api_model_id"),
  ADD CONSTRAINT "fk_model_metadata_org_id" FOREIGN KEY ("org_id") REFERENCES "organizations" ("id") ON DELETE CASCADE;
CREATE INDEX "ix_model_metadata_org_id_api_model_id" ON "model_metadata" ("org_id", "api_model_id");

-- app_toolset_configs
ALTER TABLE "app_toolset_configs" ADD COLUMN "org_id" UUID NOT NULL DEFAULT '00000000-0000-4000-8000-000000000001';
ALTER TABLE "app_toolset_configs" ALTER COLUMN "org_id" DROP DEFAULT;
ALTER TABLE "app_toolset_configs" DROP CONSTRAINT app_toolset_configs_toolset_type_key;
ALTER TABLE "app_toolset_configs" RENAME CONSTRAINT app_toolset_configs_pkey TO "pk_app_toolset_configs";
ALTER TABLE "app_toolset_configs"
  ADD CONSTRAINT "uq_app_toolset_configs_org_id_id" UNIQUE ("org_id", "id"),
  ADD CONSTRAINT "uq_app_toolset_configs_org_id_toolset_type" UNIQUE ("org_id", "toolset_type"),
  ADD CONSTRAINT "fk_app_toolset_configs_org_id" FOREIGN KEY ("org_id") REFERENCES "organizations" ("id") ON DELETE CASCADE;

-- toolsets
ALTER TABLE "toolsets" ADD COLUMN "org_id" UUID NOT NULL DEFAULT '00000000-0000-4000-8000-000000000001';
ALTER TABLE "toolsets" ALTER COLUMN "org_id" DROP DEFAULT;
DROP INDEX idx_toolsets_toolset_type;
ALTER TABLE "toolsets" DROP CONSTRAINT toolsets_user_id_slug_key;
ALTER TABLE "toolsets" RENAME CONSTRAINT toolsets_pkey TO "pk_toolsets";
ALTER TABLE "toolsets"
  ADD CONSTRAINT "uq_toolsets_org_id_id" UNIQUE ("org_id", "id"),
  ADD CONSTRAINT "uq_toolsets_org_id_user_id_slug" UNIQUE ("org_id", "user_id", "slug"),
  ADD CONSTRAINT "fk_toolsets_org_id" FOREIGN KEY ("org_id") REFERENCES "organizations" ("id") ON DELETE CASCADE;
CREATE INDEX "ix_toolsets_org_id_toolset_type" ON "toolsets" ("org_id", "toolset_type");

-- user_aliases
ALTER TABLE "user_aliases" ADD COLUMN "org_id" UUID NOT NULL DEFAULT '00000000-0000-4000-8000-000000000001';
ALTER TABLE "user_aliases" ALTER COLUMN "org_id" DROP DEFAULT;
ALTER TABLE "user_aliases" DROP CONSTRAINT user_aliases_alias_key;
ALTER TABLE "user_aliases" RENAME CONSTRAINT user_aliases_pkey TO "pk_user_aliases";
ALTER TABLE "user_aliases"
  ADD CONSTRAINT "uq_user_aliases_org_id_id" UNIQUE ("org_id", "id"),
  ADD CONSTRAINT "uq_user_aliases_org_id_alias" UNIQUE ("org_id", "alias"),
  ADD CONSTRAINT "fk_user_aliases_org_id" FOREIGN KEY ("org_id") REFERENCES "organizations" ("id") ON DELETE CASCADE;

-- app_access_requests
ALTER TABLE "app_access_requests" ADD COLUMN "org_id" UUID NOT NULL DEFAULT '00000000-0000-4000-8000-000000000001';
ALTER TABLE "app_access_requests" ALTER COLUMN "org_id" DROP DEFAULT;
DROP INDEX idx_app_access_requests_app_client_id;
DROP INDEX idx_app_access_requests_access_request_scope;
DROP INDEX idx_app_access_requests_status_expires_at;
ALTER TABLE "app_access_requests" RENAME CONSTRAINT app_access_requests_pkey TO "pk_app_access_requests";
ALTER TABLE "app_access_requests" RENAME CONSTRAINT app_access_requests_flow_type_check TO "ck_app_access_requests_flow_type";
ALTER TABLE "app_access_requests" RENAME CONSTRAINT app_access_requests_status_check TO "ck_app_access_requests_status";
ALTER TABLE "app_access_requests"
  ADD CONSTRAINT "uq_app_access_requests_org_id_id" UNIQUE ("org_id", "id"),
  ADD CONSTRAINT "fk_app_access_requests_org_id" FOREIGN KEY ("org_id") REFERENCES "organizations" ("id") ON DELETE CASCADE;
CREATE INDEX "ix_app_access_requests_org_id_app_client_id" ON "app_access_requests" ("org_id", "app_client_id");
CREATE INDEX "ix_app_access_requests_org_id_access_request_scope" ON "app_access_requests" ("org_id", "access_request_scope");
CREATE INDEX "ix_app_access_requests_org_id_status_expires_at" ON "app_access_requests" ("org_id", "status", "expires_at");

-- tower_sessions
ALTER TABLE "tower_sessions" ADD COLUMN "org_id" UUID NOT NULL DEFAULT '00000000-0000-4000-8000-000000000001';
ALTER TABLE "tower_sessions" ALTER COLUMN "org_id" DROP DEFAULT;
DROP INDEX idx_tower_sessions_user_id;
DROP INDEX idx_tower_sessions_expiry_date;
ALTER TABLE "tower_sessions" RENAME CONSTRAINT tower_sessions_pkey TO "pk_tower_sessions";
ALTER TABLE "tower_sessions"
  ADD CONSTRAINT "uq_tower_sessions_org_id_id" UNIQUE ("org_id", "id"),
  ADD CONSTRAINT "fk_tower_sessions_org_id" FOREIGN KEY ("org_id") REFERENCES "organizations" ("id") ON DELETE CASCADE;
CREATE INDEX "ix_tower_sessions_org_id_user_id" ON "tower_sessions" ("org_id", "user_id");
CREATE INDEX "ix_tower_sessions_org_id_expiry_date" ON "tower_sessions" ("org_id", "expiry_date");
