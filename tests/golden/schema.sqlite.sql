CREATE TABLE "organizations" (
  "id" TEXT NOT NULL,
  "slug" TEXT NOT NULL,
  "display_name" TEXT NOT NULL,
  "status" TEXT NOT NULL,
  "created_at" TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
  "updated_at" TEXT NOT NULL,
  CONSTRAINT "pk_organizations" PRIMARY KEY ("id"),
  CONSTRAINT "uq_organizations_slug" UNIQUE ("slug"),
  CONSTRAINT "ck_organizations_status" CHECK ("status" IN ('active', 'suspended', 'deleted'))
);
CREATE TABLE "api_tokens" (
  "id" TEXT NOT NULL,
  "org_id" TEXT NOT NULL,
  "user_id" TEXT NOT NULL,
  "name" TEXT NOT NULL,
  "token_prefix" TEXT NOT NULL,
  "token_hash" TEXT NOT NULL,
  "scopes" TEXT NOT NULL,
  "status" TEXT NOT NULL,
  "last_used_by" TEXT,
  "created_at" TEXT NOT NULL,
  "updated_at" TEXT NOT NULL,
  CONSTRAINT "uq_api_tokens_org_id_id" UNIQUE ("org_id", "id"),
  CONSTRAINT "pk_api_tokens" PRIMARY KEY ("id"),
  CONSTRAINT "uq_api_tokens_org_id_token_prefix" UNIQUE ("org_id", "token_prefix"),
  CONSTRAINT "ck_api_tokens_status" CHECK ("status" IN ('active', 'revoked')),
  CONSTRAINT "fk_api_tokens_org_id" FOREIGN KEY ("org_id") REFERENCES "organizations" ("id") ON DELETE CASCADE
);
CREATE INDEX "ix_api_tokens_org_id_user_id" ON "api_tokens" ("org_id", "user_id");
CREATE TABLE "widgets" (
  "id" TEXT NOT NULL,
  "org_id" TEXT NOT NULL,
  "name" TEXT NOT NULL,
  CONSTRAINT "uq_widgets_org_id_id" UNIQUE ("org_id", "id"),
  CONSTRAINT "pk_widgets" PRIMARY KEY ("id"),
  CONSTRAINT "uq_widgets_org_id_name" UNIQUE ("org_id", "name"),
  CONSTRAINT "fk_widgets_org_id" FOREIGN KEY ("org_id") REFERENCES "organizations" ("id") ON DELETE CASCADE
);
CREATE TABLE "gadgets" (
  "id" INTEGER NOT NULL,
  "org_id" TEXT NOT NULL,
  "i8" INTEGER NOT NULL,
  "i16" INTEGER NOT NULL,
  "i32" INTEGER NOT NULL,
  "i64" INTEGER NOT NULL,
  "u8" INTEGER NOT NULL,
  "u16" INTEGER NOT NULL,
  "u32" INTEGER NOT NULL,
  "u64" INTEGER NOT NULL,
  "real" REAL NOT NULL,
  "real32" REAL NOT NULL,
  "flag" INTEGER NOT NULL,
  "title" VARCHAR(64) NOT NULL,
  "note" TEXT DEFAULT 'none',
  "maybe_count" INTEGER,
  "ref" TEXT NOT NULL,
  "at" TEXT NOT NULL,
  "maybe_at" TEXT,
  "meta" TEXT NOT NULL,
  "payload" BLOB NOT NULL,
  "color" TEXT NOT NULL,
  "price" INTEGER NOT NULL,
  "parent_id" TEXT,
  "stamp" TEXT NOT NULL DEFAULT (lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (random() & 3), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))),
  "created_at" TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
  "quantity" INTEGER NOT NULL DEFAULT 1,
  CONSTRAINT "uq_gadgets_org_id_id" UNIQUE ("org_id", "id"),
  CONSTRAINT "pk_gadgets" PRIMARY KEY ("id"),
  CONSTRAINT "uq_gadgets_org_id_ref" UNIQUE ("org_id", "ref"),
  CONSTRAINT "ck_gadgets_flag_bool" CHECK ("flag" IN (0, 1)),
  CONSTRAINT "ck_gadgets_meta_json" CHECK (json_valid("meta")),
  CONSTRAINT "ck_gadgets_color" CHECK ("color" IN ('red', 'green', 'blue')),
  CONSTRAINT "ck_gadgets_quantity_ge" CHECK ("quantity" >= 0),
  CONSTRAINT "ck_gadgets_real_lt" CHECK ("real" < 1e+12),
  CONSTRAINT "ck_gadgets_title_not_blank" CHECK (length(title) > 0),
  CONSTRAINT "fk_gadgets_org_id" FOREIGN KEY ("org_id") REFERENCES "organizations" ("id") ON DELETE CASCADE,
  CONSTRAINT "fk_gadgets_parent_id" FOREIGN KEY ("org_id", "parent_id") REFERENCES "widgets" ("org_id", "id"),
  CONSTRAINT "fk_gadgets_parent_id_set_null" FOREIGN KEY ("parent_id") REFERENCES "widgets" ("id") ON DELETE SET NULL
);
CREATE INDEX "ix_gadgets_org_id_at" ON "gadgets" ("org_id", "at" DESC);
CREATE UNIQUE INDEX "ux_gadgets_live_title" ON "gadgets" ("org_id", "title") WHERE flag = TRUE;
CREATE INDEX "ix_gadgets_org_id_color" ON "gadgets" ("org_id", "color") WHERE note IS NOT NULL;
CREATE TABLE "parts" (
  "id" TEXT NOT NULL,
  "org_id" TEXT NOT NULL,
  "widget_id" TEXT NOT NULL,
  "name" TEXT NOT NULL,
  CONSTRAINT "uq_parts_org_id_id" UNIQUE ("org_id", "id"),
  CONSTRAINT "pk_parts" PRIMARY KEY ("id"),
  CONSTRAINT "fk_parts_widget_id" FOREIGN KEY ("org_id", "widget_id") REFERENCES "widgets" ("org_id", "id") ON DELETE CASCADE
);
CREATE TABLE "memberships" (
  "org_id" TEXT NOT NULL,
  "user_id" TEXT NOT NULL,
  "role" TEXT NOT NULL,
  CONSTRAINT "pk_memberships" PRIMARY KEY ("org_id", "user_id"),
  CONSTRAINT "fk_memberships_org_id" FOREIGN KEY ("org_id") REFERENCES "organizations" ("id") ON DELETE CASCADE
);
CREATE TABLE "grants" (
  "id" TEXT NOT NULL,
  "org_id" TEXT NOT NULL,
  "user_id" TEXT NOT NULL,
  "permission" TEXT NOT NULL,
  CONSTRAINT "uq_grants_org_id_id" UNIQUE ("org_id", "id"),
  CONSTRAINT "pk_grants" PRIMARY KEY ("id"),
  CONSTRAINT "fk_grants_org_id_user_id" FOREIGN KEY ("org_id", "user_id") REFERENCES "memberships" ("org_id", "user_id") ON DELETE CASCADE
);
CREATE TABLE "settings" (
  "scope" TEXT NOT NULL,
  "name" TEXT NOT NULL,
  "value" TEXT NOT NULL,
  CONSTRAINT "pk_settings" PRIMARY KEY ("scope", "name")
);
CREATE TABLE "pins" (
  "id" TEXT NOT NULL,
  "organization_id" TEXT NOT NULL,
  CONSTRAINT "pk_pins" PRIMARY KEY ("id"),
  CONSTRAINT "fk_pins_organization_id" FOREIGN KEY ("organization_id") REFERENCES "organizations" ("id") ON DELETE RESTRICT
);
CREATE TABLE "users" (
  "id" TEXT NOT NULL,
  "org_id" TEXT NOT NULL,
  "email" TEXT NOT NULL,
  "name" TEXT NOT NULL,
  CONSTRAINT "uq_users_org_id_id" UNIQUE ("org_id", "id"),
  CONSTRAINT "pk_users" PRIMARY KEY ("id"),
  CONSTRAINT "uq_users_org_id_email" UNIQUE ("org_id", "email"),
  CONSTRAINT "uq_users_email" UNIQUE ("email"),
  CONSTRAINT "fk_users_org_id" FOREIGN KEY ("org_id") REFERENCES "organizations" ("id") ON DELETE CASCADE
);
CREATE TABLE "invites" (
  "id" TEXT NOT NULL,
  "org_id" TEXT NOT NULL,
  "user_email" TEXT NOT NULL,
  "note" TEXT NOT NULL,
  CONSTRAINT "uq_invites_org_id_id" UNIQUE ("org_id", "id"),
  CONSTRAINT "pk_invites" PRIMARY KEY ("id"),
  CONSTRAINT "fk_invites_org_id" FOREIGN KEY ("org_id") REFERENCES "organizations" ("id") ON DELETE CASCADE,
  CONSTRAINT "fk_invites_user_email" FOREIGN KEY ("org_id", "user_email") REFERENCES "users" ("org_id", "email") ON DELETE CASCADE
);
CREATE TABLE "folders" (
  "id" TEXT NOT NULL,
  "org_id" TEXT NOT NULL,
  "parent_id" TEXT,
  "name" TEXT NOT NULL,
  CONSTRAINT "uq_folders_org_id_id" UNIQUE ("org_id", "id"),
  CONSTRAINT "pk_folders" PRIMARY KEY ("id"),
  CONSTRAINT "fk_folders_org_id" FOREIGN KEY ("org_id") REFERENCES "organizations" ("id") ON DELETE CASCADE,
  CONSTRAINT "fk_folders_parent_id" FOREIGN KEY ("org_id", "parent_id") REFERENCES "folders" ("org_id", "id"),
  CONSTRAINT "fk_folders_parent_id_set_null" FOREIGN KEY ("parent_id") REFERENCES "folders" ("id") ON DELETE SET NULL
);
