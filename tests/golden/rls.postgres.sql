CREATE TABLE "api_tokens" (
  "id" UUID NOT NULL,
  "org_id" UUID NOT NULL,
  "user_id" TEXT NOT NULL,
  "name" TEXT NOT NULL,
  "token_prefix" TEXT NOT NULL,
  "token_hash" TEXT NOT NULL,
  "scopes" TEXT NOT NULL,
  "status" TEXT NOT NULL,
  "last_used_by" TEXT,
  "created_at" TIMESTAMPTZ NOT NULL,
  "updated_at" TIMESTAMPTZ NOT NULL,
  CONSTRAINT "uq_api_tokens_org_id_id" UNIQUE ("org_id", "id"),
  CONSTRAINT "pk_api_tokens" PRIMARY KEY ("id"),
  CONSTRAINT "uq_api_tokens_org_id_token_prefix" UNIQUE ("org_id", "token_prefix"),
  CONSTRAINT "ck_api_tokens_status" CHECK ("status" IN ('active', 'revoked')),
  CONSTRAINT "fk_api_tokens_org_id" FOREIGN KEY ("org_id") REFERENCES "organizations" ("id") ON DELETE CASCADE
);
CREATE INDEX "ix_api_tokens_org_id_user_id" ON "api_tokens" ("org_id", "user_id");
ALTER TABLE "api_tokens" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "api_tokens" FORCE ROW LEVEL SECURITY;
CREATE POLICY "api_tokens_org_isolation" ON "api_tokens" USING ("org_id" = (SELECT CAST(COALESCE(NULLIF(current_setting('app.current_org_id', true), ''), current_setting('tenantry: no org context (app.current_org_id is not set)')) AS UUID))) WITH CHECK ("org_id" = (SELECT CAST(COALESCE(NULLIF(current_setting('app.current_org_id', true), ''), current_setting('tenantry: no org context (app.current_org_id is not set)')) AS UUID)));
CREATE TABLE "organizations" (
  "id" UUID NOT NULL,
  "slug" TEXT NOT NULL,
  "display_name" TEXT NOT NULL,
  "status" TEXT NOT NULL,
  "created_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
  "updated_at" TIMESTAMPTZ NOT NULL,
  CONSTRAINT "pk_organizations" PRIMARY KEY ("id"),
  CONSTRAINT "uq_organizations_slug" UNIQUE ("slug"),
  CONSTRAINT "ck_organizations_status" CHECK ("status" IN ('active', 'suspended', 'deleted'))
);
