CREATE TABLE "slug_projects" (
  "id" UUID NOT NULL,
  "organization_id" TEXT NOT NULL,
  "name" TEXT NOT NULL,
  "rank" BIGINT NOT NULL,
  CONSTRAINT "uq_slug_projects_organization_id_id" UNIQUE ("organization_id", "id"),
  CONSTRAINT "pk_slug_projects" PRIMARY KEY ("id"),
  CONSTRAINT "uq_slug_projects_organization_id_name" UNIQUE ("organization_id", "name")
);
CREATE TABLE "slug_tasks" (
  "id" UUID NOT NULL,
  "organization_id" TEXT NOT NULL,
  "project_id" UUID NOT NULL,
  "title" TEXT NOT NULL,
  CONSTRAINT "uq_slug_tasks_organization_id_id" UNIQUE ("organization_id", "id"),
  CONSTRAINT "pk_slug_tasks" PRIMARY KEY ("id"),
  CONSTRAINT "fk_slug_tasks_project_id" FOREIGN KEY ("organization_id", "project_id") REFERENCES "slug_projects" ("organization_id", "id") ON DELETE CASCADE
);
CREATE TABLE "num_projects" (
  "id" UUID NOT NULL,
  "org_id" BIGINT NOT NULL,
  "name" TEXT NOT NULL,
  "rank" BIGINT NOT NULL,
  CONSTRAINT "uq_num_projects_org_id_id" UNIQUE ("org_id", "id"),
  CONSTRAINT "pk_num_projects" PRIMARY KEY ("id"),
  CONSTRAINT "uq_num_projects_org_id_name" UNIQUE ("org_id", "name")
);
CREATE TABLE "num_tasks" (
  "id" UUID NOT NULL,
  "org_id" BIGINT NOT NULL,
  "project_id" UUID NOT NULL,
  "title" TEXT NOT NULL,
  CONSTRAINT "uq_num_tasks_org_id_id" UNIQUE ("org_id", "id"),
  CONSTRAINT "pk_num_tasks" PRIMARY KEY ("id"),
  CONSTRAINT "fk_num_tasks_project_id" FOREIGN KEY ("org_id", "project_id") REFERENCES "num_projects" ("org_id", "id") ON DELETE CASCADE
);
CREATE TABLE "slug_secrets" (
  "id" UUID NOT NULL,
  "project_id" UUID NOT NULL,
  "secret" TEXT NOT NULL,
  CONSTRAINT "pk_slug_secrets" PRIMARY KEY ("id"),
  CONSTRAINT "fk_slug_secrets_project_id" FOREIGN KEY ("project_id") REFERENCES "slug_projects" ("id") ON DELETE CASCADE
);
CREATE TABLE "num_secrets" (
  "id" UUID NOT NULL,
  "project_id" UUID NOT NULL,
  "secret" TEXT NOT NULL,
  CONSTRAINT "pk_num_secrets" PRIMARY KEY ("id"),
  CONSTRAINT "fk_num_secrets_project_id" FOREIGN KEY ("project_id") REFERENCES "num_projects" ("id") ON DELETE CASCADE
);
ALTER TABLE "slug_projects" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "slug_projects" FORCE ROW LEVEL SECURITY;
CREATE POLICY "slug_projects_org_isolation" ON "slug_projects" USING ("organization_id" = (SELECT CAST(COALESCE(NULLIF(current_setting('app.current_org_id', true), ''), current_setting('tenantry: no org context (app.current_org_id is not set)')) AS TEXT))) WITH CHECK ("organization_id" = (SELECT CAST(COALESCE(NULLIF(current_setting('app.current_org_id', true), ''), current_setting('tenantry: no org context (app.current_org_id is not set)')) AS TEXT)));
ALTER TABLE "num_projects" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "num_projects" FORCE ROW LEVEL SECURITY;
CREATE POLICY "num_projects_org_isolation" ON "num_projects" USING ("org_id" = (SELECT CAST(COALESCE(NULLIF(current_setting('app.current_org_id', true), ''), current_setting('tenantry: no org context (app.current_org_id is not set)')) AS BIGINT))) WITH CHECK ("org_id" = (SELECT CAST(COALESCE(NULLIF(current_setting('app.current_org_id', true), ''), current_setting('tenantry: no org context (app.current_org_id is not set)')) AS BIGINT)));
ALTER TABLE "slug_secrets" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "slug_secrets" FORCE ROW LEVEL SECURITY;
CREATE POLICY "slug_secrets_org_isolation" ON "slug_secrets" USING (EXISTS (SELECT 1 FROM "slug_projects" AS "p0" WHERE "p0"."id" = "slug_secrets"."project_id" AND "p0"."organization_id" = (SELECT CAST(COALESCE(NULLIF(current_setting('app.current_org_id', true), ''), current_setting('tenantry: no org context (app.current_org_id is not set)')) AS TEXT)))) WITH CHECK (EXISTS (SELECT 1 FROM "slug_projects" AS "p0" WHERE "p0"."id" = "slug_secrets"."project_id" AND "p0"."organization_id" = (SELECT CAST(COALESCE(NULLIF(current_setting('app.current_org_id', true), ''), current_setting('tenantry: no org context (app.current_org_id is not set)')) AS TEXT))));
ALTER TABLE "num_secrets" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "num_secrets" FORCE ROW LEVEL SECURITY;
CREATE POLICY "num_secrets_org_isolation" ON "num_secrets" USING (EXISTS (SELECT 1 FROM "num_projects" AS "p0" WHERE "p0"."id" = "num_secrets"."project_id" AND "p0"."org_id" = (SELECT CAST(COALESCE(NULLIF(current_setting('app.current_org_id', true), ''), current_setting('tenantry: no org context (app.current_org_id is not set)')) AS BIGINT)))) WITH CHECK (EXISTS (SELECT 1 FROM "num_projects" AS "p0" WHERE "p0"."id" = "num_secrets"."project_id" AND "p0"."org_id" = (SELECT CAST(COALESCE(NULLIF(current_setting('app.current_org_id', true), ''), current_setting('tenantry: no org context (app.current_org_id is not set)')) AS BIGINT))));
insert_many slug: INSERT INTO "slug_projects" ("id", "organization_id", "name", "rank") SELECT * FROM unnest($1::UUID[], $2::TEXT[], $3::TEXT[], $4::BIGINT[])
insert_many num: INSERT INTO "num_projects" ("id", "org_id", "name", "rank") SELECT * FROM unnest($1::UUID[], $2::BIGINT[], $3::TEXT[], $4::BIGINT[])
find_many slug: SELECT "id", "organization_id", "name", "rank" FROM "slug_projects" WHERE "organization_id" = $1 AND "id" = ANY($2::UUID[])
find_many num secret: SELECT "id", "project_id", "secret" FROM "num_secrets" WHERE EXISTS (SELECT 1 FROM "num_projects" AS "p0" WHERE "p0"."id" = "num_secrets"."project_id" AND "p0"."org_id" = $1) AND "id" = ANY($2::UUID[])
find num secret: SELECT "id", "project_id", "secret" FROM "num_secrets" WHERE EXISTS (SELECT 1 FROM "num_projects" AS "p0" WHERE "p0"."id" = "num_secrets"."project_id" AND "p0"."org_id" = $1) AND "id" = $2
join slug secret: SELECT "t0"."secret", "t1"."name" FROM "slug_secrets" AS "t0" JOIN "slug_projects" AS "t1" ON "t0"."project_id" = "t1"."id" AND "t1"."organization_id" = $1 WHERE EXISTS (SELECT 1 FROM "slug_projects" AS "p0" WHERE "p0"."id" = "t0"."project_id" AND "p0"."organization_id" = $1)
find slug: SELECT "id", "organization_id", "name", "rank" FROM "slug_projects" WHERE "organization_id" = $1 AND "id" = $2
list num: SELECT "id", "org_id", "name", "rank" FROM "num_projects" WHERE "org_id" = $1 AND "rank" > $2
join slug: SELECT "t0"."title", "t1"."name" FROM "slug_tasks" AS "t0" JOIN "slug_projects" AS "t1" ON "t0"."project_id" = "t1"."id" AND "t1"."organization_id" = $1 AND "t1"."organization_id" = "t0"."organization_id" WHERE "t0"."organization_id" = $1
find schema-scoped: SELECT "id", "body" FROM "slug_notes" WHERE "id" = $1
list schema-scoped: SELECT "body" FROM "slug_notes"
