-- 0001_initial_schema: the reference app's multi-tenant schema, for a new database.
-- Generated from examples/app/entities.hpp by `tenantry-app schema --write`; do not edit.
-- tests/app/drift_test.cpp fails when this file and the entities disagree.
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
CREATE TABLE "download_requests" (
  "id" UUID NOT NULL,
  "org_id" UUID NOT NULL,
  "repo" TEXT NOT NULL,
  "filename" TEXT NOT NULL,
  "status" TEXT NOT NULL,
  "error" TEXT,
  "total_bytes" BIGINT,
  "downloaded_bytes" BIGINT NOT NULL DEFAULT 0,
  "started_at" TIMESTAMPTZ,
  "created_at" TIMESTAMPTZ NOT NULL,
  "updated_at" TIMESTAMPTZ NOT NULL,
  CONSTRAINT "uq_download_requests_org_id_id" UNIQUE ("org_id", "id"),
  CONSTRAINT "pk_download_requests" PRIMARY KEY ("id"),
  CONSTRAINT "ck_download_requests_status" CHECK ("status" IN ('pending', 'completed', 'error')),
  CONSTRAINT "ck_download_requests_downloaded_bytes_ge" CHECK ("downloaded_bytes" >= 0),
  CONSTRAINT "fk_download_requests_org_id" FOREIGN KEY ("org_id") REFERENCES "organizations" ("id") ON DELETE CASCADE
);
CREATE INDEX "ix_download_requests_org_id_created_at" ON "download_requests" ("org_id", "created_at" DESC);
CREATE INDEX "ix_download_requests_org_id_repo_filename" ON "download_requests" ("org_id", "repo", "filename");
CREATE INDEX "ix_download_requests_org_id_status" ON "download_requests" ("org_id", "status");
CREATE TABLE "access_requests" (
  "id" UUID NOT NULL,
  "org_id" UUID NOT NULL,
  "username" TEXT NOT NULL,
  "user_id" TEXT NOT NULL,
  "status" TEXT NOT NULL,
  "reviewer" TEXT,
  "created_at" TIMESTAMPTZ NOT NULL,
  "updated_at" TIMESTAMPTZ NOT NULL,
  CONSTRAINT "uq_access_requests_org_id_id" UNIQUE ("org_id", "id"),
  CONSTRAINT "pk_access_requests" PRIMARY KEY ("id"),
  CONSTRAINT "ck_access_requests_status" CHECK ("status" IN ('pending', 'approved', 'rejected')),
  CONSTRAINT "fk_access_requests_org_id" FOREIGN KEY ("org_id") REFERENCES "organizations" ("id") ON DELETE CASCADE
);
CREATE UNIQUE INDEX "ux_access_requests_org_id_user_id" ON "access_requests" ("org_id", "user_id") WHERE status = 'pending';
CREATE INDEX "ix_access_requests_org_id_status_created_at" ON "access_requests" ("org_id", "status", "created_at" DESC);
CREATE TABLE "api_tokens" (
  "id" UUID NOT NULL,
  "org_id" UUID NOT NULL,
  "user_id" TEXT NOT NULL,
  "name" TEXT NOT NULL,
  "token_prefix" TEXT NOT NULL,
  "token_hash" TEXT NOT NULL,
  "scopes" TEXT NOT NULL,
  "status" TEXT NOT NULL DEFAULT 'active',
  "created_at" TIMESTAMPTZ NOT NULL,
  "updated_at" TIMESTAMPTZ NOT NULL,
  CONSTRAINT "uq_api_tokens_org_id_id" UNIQUE ("org_id", "id"),
  CONSTRAINT "pk_api_tokens" PRIMARY KEY ("id"),
  CONSTRAINT "uq_api_tokens_org_id_token_prefix" UNIQUE ("org_id", "token_prefix"),
  CONSTRAINT "ck_api_tokens_status" CHECK ("status" IN ('active', 'inactive')),
  CONSTRAINT "fk_api_tokens_org_id" FOREIGN KEY ("org_id") REFERENCES "organizations" ("id") ON DELETE CASCADE
);
CREATE INDEX "ix_api_tokens_org_id_user_id" ON "api_tokens" ("org_id", "user_id");
CREATE TABLE "api_model_aliases" (
  "id" UUID NOT NULL,
  "org_id" UUID NOT NULL,
  "name" TEXT NOT NULL,
  "api_format" TEXT NOT NULL,
  "base_url" TEXT NOT NULL,
  "models" JSONB NOT NULL,
  "prefix" TEXT,
  "forward_all_with_prefix" BOOLEAN NOT NULL,
  "encrypted_api_key" TEXT,
  "salt" TEXT,
  "nonce" TEXT,
  "created_at" TIMESTAMPTZ NOT NULL,
  "updated_at" TIMESTAMPTZ NOT NULL,
  CONSTRAINT "uq_api_model_aliases_org_id_id" UNIQUE ("org_id", "id"),
  CONSTRAINT "pk_api_model_aliases" PRIMARY KEY ("id"),
  CONSTRAINT "uq_api_model_aliases_org_id_name" UNIQUE ("org_id", "name"),
  CONSTRAINT "uq_api_model_aliases_org_id_prefix" UNIQUE ("org_id", "prefix"),
  CONSTRAINT "ck_api_model_aliases_api_format" CHECK ("api_format" IN ('openai', 'anthropic')),
  CONSTRAINT "fk_api_model_aliases_org_id" FOREIGN KEY ("org_id") REFERENCES "organizations" ("id") ON DELETE CASCADE
);
CREATE TABLE "model_metadata" (
  "id" UUID NOT NULL,
  "org_id" UUID NOT NULL,
  "source" TEXT NOT NULL,
  "repo" TEXT NOT NULL,
  "filename" TEXT NOT NULL,
  "snapshot" TEXT NOT NULL,
  "api_model_id" TEXT NOT NULL,
  "capabilities" JSONB NOT NULL,
  "context_max_input_tokens" BIGINT,
  "context_max_output_tokens" BIGINT,
  "architecture" TEXT,
  "chat_template" TEXT,
  "extracted_at" TIMESTAMPTZ NOT NULL,
  "created_at" TIMESTAMPTZ NOT NULL,
  "updated_at" TIMESTAMPTZ NOT NULL,
  CONSTRAINT "uq_model_metadata_org_id_id" UNIQUE ("org_id", "id"),
  CONSTRAINT "pk_model_metadata" PRIMARY KEY ("id"),
  CONSTRAINT "uq_model_metadata_org_id_source_repo_filename_snapshot_c56ee4a5" UNIQUE ("org_id", "source", "repo", "filename", "snapshot", "api_model_id"),
  CONSTRAINT "ck_model_metadata_source" CHECK ("source" IN ('model', 'api')),
  CONSTRAINT "fk_model_metadata_org_id" FOREIGN KEY ("org_id") REFERENCES "organizations" ("id") ON DELETE CASCADE
);
CREATE INDEX "ix_model_metadata_org_id_api_model_id" ON "model_metadata" ("org_id", "api_model_id");
CREATE TABLE "app_toolset_configs" (
  "id" UUID NOT NULL,
  "org_id" UUID NOT NULL,
  "toolset_type" TEXT NOT NULL,
  "enabled" BOOLEAN NOT NULL,
  "updated_by" TEXT NOT NULL,
  "created_at" TIMESTAMPTZ NOT NULL,
  "updated_at" TIMESTAMPTZ NOT NULL,
  CONSTRAINT "uq_app_toolset_configs_org_id_id" UNIQUE ("org_id", "id"),
  CONSTRAINT "pk_app_toolset_configs" PRIMARY KEY ("id"),
  CONSTRAINT "uq_app_toolset_configs_org_id_toolset_type" UNIQUE ("org_id", "toolset_type"),
  CONSTRAINT "fk_app_toolset_configs_org_id" FOREIGN KEY ("org_id") REFERENCES "organizations" ("id") ON DELETE CASCADE
);
CREATE TABLE "toolsets" (
  "id" UUID NOT NULL,
  "org_id" UUID NOT NULL,
  "user_id" TEXT NOT NULL,
  "toolset_type" TEXT NOT NULL,
  "slug" TEXT NOT NULL,
  "description" TEXT,
  "enabled" BOOLEAN NOT NULL,
  "encrypted_api_key" TEXT,
  "salt" TEXT,
  "nonce" TEXT,
  "created_at" TIMESTAMPTZ NOT NULL,
  "updated_at" TIMESTAMPTZ NOT NULL,
  CONSTRAINT "uq_toolsets_org_id_id" UNIQUE ("org_id", "id"),
  CONSTRAINT "pk_toolsets" PRIMARY KEY ("id"),
  CONSTRAINT "uq_toolsets_org_id_user_id_slug" UNIQUE ("org_id", "user_id", "slug"),
  CONSTRAINT "fk_toolsets_org_id" FOREIGN KEY ("org_id") REFERENCES "organizations" ("id") ON DELETE CASCADE
);
CREATE INDEX "ix_toolsets_org_id_toolset_type" ON "toolsets" ("org_id", "toolset_type");
CREATE TABLE "user_aliases" (
  "id" UUID NOT NULL,
  "org_id" UUID NOT NULL,
  "alias" TEXT NOT NULL,
  "repo" TEXT NOT NULL,
  "filename" TEXT NOT NULL,
  "snapshot" TEXT NOT NULL,
  "request_params" JSONB NOT NULL,
  "context_params" JSONB NOT NULL,
  "created_at" TIMESTAMPTZ NOT NULL,
  "updated_at" TIMESTAMPTZ NOT NULL,
  CONSTRAINT "uq_user_aliases_org_id_id" UNIQUE ("org_id", "id"),
  CONSTRAINT "pk_user_aliases" PRIMARY KEY ("id"),
  CONSTRAINT "uq_user_aliases_org_id_alias" UNIQUE ("org_id", "alias"),
  CONSTRAINT "fk_user_aliases_org_id" FOREIGN KEY ("org_id") REFERENCES "organizations" ("id") ON DELETE CASCADE
);
CREATE TABLE "app_access_requests" (
  "id" UUID NOT NULL,
  "org_id" UUID NOT NULL,
  "app_client_id" TEXT NOT NULL,
  "app_name" TEXT,
  "app_description" TEXT,
  "flow_type" TEXT NOT NULL,
  "redirect_uri" TEXT,
  "status" TEXT NOT NULL,
  "requested" JSONB NOT NULL,
  "approved" JSONB NOT NULL,
  "user_id" TEXT,
  "requested_role" TEXT NOT NULL,
  "approved_role" TEXT,
  "access_request_scope" TEXT,
  "error_message" TEXT,
  "expires_at" TIMESTAMPTZ NOT NULL,
  "created_at" TIMESTAMPTZ NOT NULL,
  "updated_at" TIMESTAMPTZ NOT NULL,
  CONSTRAINT "uq_app_access_requests_org_id_id" UNIQUE ("org_id", "id"),
  CONSTRAINT "pk_app_access_requests" PRIMARY KEY ("id"),
  CONSTRAINT "ck_app_access_requests_flow_type" CHECK ("flow_type" IN ('redirect', 'popup')),
  CONSTRAINT "ck_app_access_requests_status" CHECK ("status" IN ('draft', 'approved', 'denied', 'failed', 'expired')),
  CONSTRAINT "fk_app_access_requests_org_id" FOREIGN KEY ("org_id") REFERENCES "organizations" ("id") ON DELETE CASCADE
);
CREATE INDEX "ix_app_access_requests_org_id_app_client_id" ON "app_access_requests" ("org_id", "app_client_id");
CREATE INDEX "ix_app_access_requests_org_id_access_request_scope" ON "app_access_requests" ("org_id", "access_request_scope");
CREATE INDEX "ix_app_access_requests_org_id_status_expires_at" ON "app_access_requests" ("org_id", "status", "expires_at");
CREATE TABLE "tower_sessions" (
  "id" TEXT NOT NULL,
  "org_id" UUID NOT NULL,
  "data" BYTEA NOT NULL,
  "expiry_date" TIMESTAMPTZ NOT NULL,
  "user_id" TEXT,
  CONSTRAINT "uq_tower_sessions_org_id_id" UNIQUE ("org_id", "id"),
  CONSTRAINT "pk_tower_sessions" PRIMARY KEY ("id"),
  CONSTRAINT "fk_tower_sessions_org_id" FOREIGN KEY ("org_id") REFERENCES "organizations" ("id") ON DELETE CASCADE
);
CREATE INDEX "ix_tower_sessions_org_id_user_id" ON "tower_sessions" ("org_id", "user_id");
CREATE INDEX "ix_tower_sessions_org_id_expiry_date" ON "tower_sessions" ("org_id", "expiry_date");
