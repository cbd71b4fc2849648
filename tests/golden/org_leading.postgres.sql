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
CREATE TABLE "accounts" (
  "id" UUID NOT NULL,
  "org_id" UUID NOT NULL,
  "email" TEXT NOT NULL,
  "name" TEXT NOT NULL,
  CONSTRAINT "pk_accounts" PRIMARY KEY ("org_id", "id"),
  CONSTRAINT "uq_accounts_email" UNIQUE ("org_id", "email"),
  CONSTRAINT "fk_accounts_org_id" FOREIGN KEY ("org_id") REFERENCES "organizations" ("id") ON DELETE CASCADE
);
CREATE UNIQUE INDEX "ux_accounts_name_org_id" ON "accounts" ("org_id", "name");
CREATE INDEX "ix_accounts_name" ON "accounts" ("name");
CREATE TABLE "invoices" (
  "id" UUID NOT NULL,
  "org_id" UUID NOT NULL,
  "account_id" UUID NOT NULL,
  "number" TEXT NOT NULL,
  "amount" BIGINT NOT NULL,
  CONSTRAINT "pk_invoices" PRIMARY KEY ("org_id", "id"),
  CONSTRAINT "uq_invoices_org_id_number" UNIQUE ("org_id", "number"),
  CONSTRAINT "ck_invoices_amount_ge" CHECK ("amount" >= 0),
  CONSTRAINT "fk_invoices_account_id" FOREIGN KEY ("org_id", "account_id") REFERENCES "accounts" ("org_id", "id") ON DELETE CASCADE
);
CREATE TABLE "memos" (
  "id" UUID NOT NULL,
  "org_id" UUID NOT NULL,
  "account_id" UUID,
  "text" TEXT NOT NULL,
  CONSTRAINT "pk_memos" PRIMARY KEY ("org_id", "id"),
  CONSTRAINT "fk_memos_account_id" FOREIGN KEY ("org_id", "account_id") REFERENCES "accounts" ("org_id", "id") ON DELETE SET NULL ("account_id")
);
-- statements
find: SELECT "id", "org_id", "email", "name" FROM "accounts" WHERE "org_id" = $1 AND "id" = $2
update: UPDATE "accounts" SET "email" = $3, "name" = $4 WHERE "org_id" = $1 AND "id" = $2
erase: DELETE FROM "accounts" WHERE "org_id" = $1 AND "id" = $2
upsert on pk: INSERT INTO "accounts" ("id", "org_id", "email", "name") VALUES ($1, $2, $3, $4) ON CONFLICT ("org_id", "id") DO UPDATE SET "email" = excluded."email", "name" = excluded."name" RETURNING "id", "org_id", "email", "name"
upsert on unique: INSERT INTO "accounts" ("id", "org_id", "email", "name") VALUES ($1, $2, $3, $4) ON CONFLICT ("org_id", "email") DO UPDATE SET "name" = excluded."name" RETURNING "id", "org_id", "email", "name"
upsert do nothing: INSERT INTO "accounts" ("id", "org_id", "email", "name") VALUES ($1, $2, $3, $4) ON CONFLICT ("org_id", "email") DO UPDATE SET "email" = excluded."email" RETURNING "id", "org_id", "email", "name"
