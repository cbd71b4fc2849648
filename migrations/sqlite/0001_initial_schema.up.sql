-- 0001_initial_schema: the reference app's multi-tenant schema, for a new database.
-- Generated from examples/app/entities.hpp by `tenantry-app schema --write`; do not edit.
-- tests/app/drift_test.cpp fails when this file and the entities disagree.
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
CREATE TABLE "download_requests" (
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
CREATE INDEX "ix_download_requests_org_id_created_at" ON "download_requests" ("org_id", "created_at" DESC);
CREATE INDEX "ix_download_requests_org_id_repo_filename" ON "download_requests" ("org_id", "repo", "filename");
CREATE INDEX "ix_download_requests_org_id_status" ON "download_requests" ("org_id", "status");
CREATE TABLE "access_requests" (
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
CREATE UNIQUE INDEX "ux_access_requests_org_id_user_id" ON "access_requests" ("org_id", "user_id") WHERE status = 'pending';
CREATE INDEX "ix_access_requests_org_id_status_created_at" ON "access_requests" ("org_id", "status", "created_at" DESC);
CREATE TABLE "api_tokens" (
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
CREATE INDEX "ix_api_tokens_org_id_user_id" ON "api_tokens" ("org_id", "user_id");
CREATE TABLE "api_model_aliases" (
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
CREATE TABLE "model_metadata" (
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
CREATE INDEX "ix_model_metadata_org_id_api_model_id" ON "model_metadata" ("org_id", "api_model_id");
CREATE TABLE "app_toolset_configs" (
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
CREATE TABLE "toolsets" (
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
CREATE INDEX "ix_toolsets_org_id_toolset_type" ON "toolsets" ("org_id", "toolset_type");
CREATE TABLE "user_aliases" (
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
CREATE TABLE "app_access_requests" (
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
CREATE INDEX "ix_app_access_requests_org_id_app_client_id" ON "app_access_requests" ("org_id", "app_client_id");
CREATE INDEX "ix_app_access_requests_org_id_access_request_scope" ON "app_access_requests" ("org_id", "access_request_scope");
CREATE INDEX "ix_app_access_requests_org_id_status_expires_at" ON "app_access_requests" ("org_id", "status", "expires_at");
CREATE TABLE "tower_sessions" (
  "id" TEXT NOT NULL,
  "org_id" TEXT NOT NULL,
  "data" BLOB NOT NULL,
  "expiry_date" TEXT NOT NULL,
  "user_id" TEXT,
  CONSTRAINT "uq_tower_sessions_org_id_id" UNIQUE ("org_id", "id"),
  CONSTRAINT "pk_tower_sessions" PRIMARY KEY ("id"),
  CONSTRAINT "fk_tower_sessions_org_id" FOREIGN KEY ("org_id") REFERENCES "organizations" ("id") ON DELETE CASCADE
);
CREATE INDEX "ix_tower_sessions_org_id_user_id" ON "tower_sessions" ("org_id", "user_id");
CREATE INDEX "ix_tower_sessions_org_id_expiry_date" ON "tower_sessions" ("org_id", "expiry_date");
