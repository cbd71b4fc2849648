CREATE TABLE "slug_projects" (
  "id" TEXT NOT NULL,
  "organization_id" TEXT NOT NULL,
  "name" TEXT NOT NULL,
  "rank" INTEGER NOT NULL,
  CONSTRAINT "uq_slug_projects_organization_id_id" UNIQUE ("organization_id", "id"),
  CONSTRAINT "pk_slug_projects" PRIMARY KEY ("id"),
  CONSTRAINT "uq_slug_projects_organization_id_name" UNIQUE ("organization_id", "name")
);
CREATE TABLE "slug_tasks" (
  "id" TEXT NOT NULL,
  "organization_id" TEXT NOT NULL,
  "project_id" TEXT NOT NULL,
  "title" TEXT NOT NULL,
  CONSTRAINT "uq_slug_tasks_organization_id_id" UNIQUE ("organization_id", "id"),
  CONSTRAINT "pk_slug_tasks" PRIMARY KEY ("id"),
  CONSTRAINT "fk_slug_tasks_project_id" FOREIGN KEY ("organization_id", "project_id") REFERENCES "slug_projects" ("organization_id", "id") ON DELETE CASCADE
);
CREATE TABLE "num_projects" (
  "id" TEXT NOT NULL,
  "org_id" INTEGER NOT NULL,
  "name" TEXT NOT NULL,
  "rank" INTEGER NOT NULL,
  CONSTRAINT "uq_num_projects_org_id_id" UNIQUE ("org_id", "id"),
  CONSTRAINT "pk_num_projects" PRIMARY KEY ("id"),
  CONSTRAINT "uq_num_projects_org_id_name" UNIQUE ("org_id", "name")
);
CREATE TABLE "num_tasks" (
  "id" TEXT NOT NULL,
  "org_id" INTEGER NOT NULL,
  "project_id" TEXT NOT NULL,
  "title" TEXT NOT NULL,
  CONSTRAINT "uq_num_tasks_org_id_id" UNIQUE ("org_id", "id"),
  CONSTRAINT "pk_num_tasks" PRIMARY KEY ("id"),
  CONSTRAINT "fk_num_tasks_project_id" FOREIGN KEY ("org_id", "project_id") REFERENCES "num_projects" ("org_id", "id") ON DELETE CASCADE
);
CREATE TABLE "slug_secrets" (
  "id" TEXT NOT NULL,
  "project_id" TEXT NOT NULL,
  "secret" TEXT NOT NULL,
  CONSTRAINT "pk_slug_secrets" PRIMARY KEY ("id"),
  CONSTRAINT "fk_slug_secrets_project_id" FOREIGN KEY ("project_id") REFERENCES "slug_projects" ("id") ON DELETE CASCADE
);
CREATE TABLE "num_secrets" (
  "id" TEXT NOT NULL,
  "project_id" TEXT NOT NULL,
  "secret" TEXT NOT NULL,
  CONSTRAINT "pk_num_secrets" PRIMARY KEY ("id"),
  CONSTRAINT "fk_num_secrets_project_id" FOREIGN KEY ("project_id") REFERENCES "num_projects" ("id") ON DELETE CASCADE
);
find num secret: SELECT "id", "project_id", "secret" FROM "num_secrets" WHERE EXISTS (SELECT 1 FROM "num_projects" AS "p0" WHERE "p0"."id" = "num_secrets"."project_id" AND "p0"."org_id" = ?1) AND "id" = ?2
join slug secret: SELECT "t0"."secret", "t1"."name" FROM "slug_secrets" AS "t0" JOIN "slug_projects" AS "t1" ON "t0"."project_id" = "t1"."id" AND "t1"."organization_id" = ?1 WHERE EXISTS (SELECT 1 FROM "slug_projects" AS "p0" WHERE "p0"."id" = "t0"."project_id" AND "p0"."organization_id" = ?1)
find slug: SELECT "id", "organization_id", "name", "rank" FROM "slug_projects" WHERE "organization_id" = ?1 AND "id" = ?2
list num: SELECT "id", "org_id", "name", "rank" FROM "num_projects" WHERE "org_id" = ?1 AND "rank" > ?2
join slug: SELECT "t0"."title", "t1"."name" FROM "slug_tasks" AS "t0" JOIN "slug_projects" AS "t1" ON "t0"."project_id" = "t1"."id" AND "t1"."organization_id" = ?1 AND "t1"."organization_id" = "t0"."organization_id" WHERE "t0"."organization_id" = ?1
find schema-scoped: SELECT "id", "body" FROM "slug_notes" WHERE "id" = ?1
list schema-scoped: SELECT "body" FROM "slug_notes"
