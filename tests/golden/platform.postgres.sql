CREATE TABLE "audit_events" (
  "id" UUID NOT NULL,
  "org_id" UUID,
  "code" TEXT NOT NULL,
  "what" TEXT NOT NULL,
  "level" INTEGER NOT NULL,
  CONSTRAINT "uq_audit_events_org_id_id" UNIQUE ("org_id", "id"),
  CONSTRAINT "pk_audit_events" PRIMARY KEY ("id"),
  CONSTRAINT "uq_audit_events_org_id_code" UNIQUE ("org_id", "code"),
  CONSTRAINT "fk_audit_events_org_id" FOREIGN KEY ("org_id") REFERENCES "organizations" ("id") ON DELETE CASCADE
);
CREATE INDEX "ix_audit_events_org_id_level" ON "audit_events" ("org_id", "level");
CREATE UNIQUE INDEX "ux_audit_events_code_platform" ON "audit_events" ("code") WHERE "org_id" IS NULL;
ALTER TABLE "audit_events" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "audit_events" FORCE ROW LEVEL SECURITY;
CREATE POLICY "audit_events_org_isolation" ON "audit_events" USING (("org_id" = (SELECT CAST(CASE WHEN current_setting('app.platform_scope', true) = 'on' THEN NULL ELSE COALESCE(NULLIF(current_setting('app.current_org_id', true), ''), current_setting('tenantry: no org context (app.current_org_id is not set)')) END AS UUID))) OR ("org_id" IS NULL AND (SELECT current_setting('app.platform_scope', true) = 'on'))) WITH CHECK (("org_id" = (SELECT CAST(CASE WHEN current_setting('app.platform_scope', true) = 'on' THEN NULL ELSE COALESCE(NULLIF(current_setting('app.current_org_id', true), ''), current_setting('tenantry: no org context (app.current_org_id is not set)')) END AS UUID))) OR ("org_id" IS NULL AND (SELECT current_setting('app.platform_scope', true) = 'on')));
CREATE TABLE "event_links" (
  "id" UUID NOT NULL,
  "org_id" UUID,
  "token_id" UUID,
  "event_id" UUID,
  "note" TEXT NOT NULL,
  CONSTRAINT "uq_event_links_org_id_id" UNIQUE ("org_id", "id"),
  CONSTRAINT "pk_event_links" PRIMARY KEY ("id"),
  CONSTRAINT "ck_event_links_token_id_platform" CHECK ("org_id" IS NOT NULL OR ("token_id" IS NULL)),
  CONSTRAINT "ck_event_links_event_id_platform" CHECK ("org_id" IS NOT NULL OR ("event_id" IS NULL)),
  CONSTRAINT "fk_event_links_token_id" FOREIGN KEY ("org_id", "token_id") REFERENCES "api_tokens" ("org_id", "id") ON DELETE CASCADE,
  CONSTRAINT "fk_event_links_event_id" FOREIGN KEY ("org_id", "event_id") REFERENCES "audit_events" ("org_id", "id") ON DELETE CASCADE
);
ALTER TABLE "event_links" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "event_links" FORCE ROW LEVEL SECURITY;
CREATE POLICY "event_links_org_isolation" ON "event_links" USING (("org_id" = (SELECT CAST(CASE WHEN current_setting('app.platform_scope', true) = 'on' THEN NULL ELSE COALESCE(NULLIF(current_setting('app.current_org_id', true), ''), current_setting('tenantry: no org context (app.current_org_id is not set)')) END AS UUID))) OR ("org_id" IS NULL AND (SELECT current_setting('app.platform_scope', true) = 'on'))) WITH CHECK (("org_id" = (SELECT CAST(CASE WHEN current_setting('app.platform_scope', true) = 'on' THEN NULL ELSE COALESCE(NULLIF(current_setting('app.current_org_id', true), ''), current_setting('tenantry: no org context (app.current_org_id is not set)')) END AS UUID))) OR ("org_id" IS NULL AND (SELECT current_setting('app.platform_scope', true) = 'on')));
CREATE TABLE "event_notes" (
  "id" UUID NOT NULL,
  "event_id" UUID NOT NULL,
  "text" TEXT NOT NULL,
  CONSTRAINT "pk_event_notes" PRIMARY KEY ("id"),
  CONSTRAINT "fk_event_notes_event_id" FOREIGN KEY ("event_id") REFERENCES "audit_events" ("id") ON DELETE CASCADE
);
ALTER TABLE "event_notes" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "event_notes" FORCE ROW LEVEL SECURITY;
CREATE POLICY "event_notes_org_isolation" ON "event_notes" USING (EXISTS (SELECT 1 FROM "audit_events" AS "p0" WHERE "p0"."id" = "event_notes"."event_id" AND (("p0"."org_id" = (SELECT CAST(CASE WHEN current_setting('app.platform_scope', true) = 'on' THEN NULL ELSE COALESCE(NULLIF(current_setting('app.current_org_id', true), ''), current_setting('tenantry: no org context (app.current_org_id is not set)')) END AS UUID))) OR ("p0"."org_id" IS NULL AND (SELECT current_setting('app.platform_scope', true) = 'on'))))) WITH CHECK (EXISTS (SELECT 1 FROM "audit_events" AS "p0" WHERE "p0"."id" = "event_notes"."event_id" AND (("p0"."org_id" = (SELECT CAST(CASE WHEN current_setting('app.platform_scope', true) = 'on' THEN NULL ELSE COALESCE(NULLIF(current_setting('app.current_org_id', true), ''), current_setting('tenantry: no org context (app.current_org_id is not set)')) END AS UUID))) OR ("p0"."org_id" IS NULL AND (SELECT current_setting('app.platform_scope', true) = 'on')))));
-- statements: each in an org's scope, then in the platform scope
insert: INSERT INTO "audit_events" ("id", "org_id", "code", "what", "level") VALUES ($1, $2, $3, $4, $5)
insert (platform): INSERT INTO "audit_events" ("id", "org_id", "code", "what", "level") VALUES ($1, $2, $3, $4, $5)
find: SELECT "id", "org_id", "code", "what", "level" FROM "audit_events" WHERE "org_id" = $1 AND "id" = $2
find (platform): SELECT "id", "org_id", "code", "what", "level" FROM "audit_events" WHERE "org_id" IS NULL AND "id" = $1
update: UPDATE "audit_events" SET "code" = $3, "what" = $4, "level" = $5 WHERE "org_id" = $1 AND "id" = $2
update (platform): UPDATE "audit_events" SET "code" = $2, "what" = $3, "level" = $4 WHERE "org_id" IS NULL AND "id" = $1
set: UPDATE "audit_events" SET "what" = $3 WHERE "org_id" = $1 AND "id" = $2
set (platform): UPDATE "audit_events" SET "what" = $2 WHERE "org_id" IS NULL AND "id" = $1
erase: DELETE FROM "audit_events" WHERE "org_id" = $1 AND "id" = $2
erase (platform): DELETE FROM "audit_events" WHERE "org_id" IS NULL AND "id" = $1
list: SELECT "id", "org_id", "code", "what", "level" FROM "audit_events" WHERE "org_id" = $1 AND ("level" >= $2 OR "code" = $3) ORDER BY "code" LIMIT $4
list (platform): SELECT "id", "org_id", "code", "what", "level" FROM "audit_events" WHERE "org_id" IS NULL AND ("level" >= $1 OR "code" = $2) ORDER BY "code" LIMIT $3
count: SELECT COUNT(*) FROM "audit_events" WHERE "org_id" = $1 AND ("level" >= $2 OR "code" = $3)
count (platform): SELECT COUNT(*) FROM "audit_events" WHERE "org_id" IS NULL AND ("level" >= $1 OR "code" = $2)
exists: SELECT EXISTS (SELECT 1 FROM "audit_events" WHERE "org_id" = $1)
exists (platform): SELECT EXISTS (SELECT 1 FROM "audit_events" WHERE "org_id" IS NULL)
erase where: DELETE FROM "audit_events" WHERE "org_id" = $1 AND ("level" >= $2 OR "code" = $3)
erase where (platform): DELETE FROM "audit_events" WHERE "org_id" IS NULL AND ("level" >= $1 OR "code" = $2)
update where: UPDATE "audit_events" SET "what" = $2 WHERE "org_id" = $1 AND ("level" >= $3 OR "code" = $4)
update where (platform): UPDATE "audit_events" SET "what" = $1 WHERE "org_id" IS NULL AND ("level" >= $2 OR "code" = $3)
upsert on (org, code): INSERT INTO "audit_events" ("id", "org_id", "code", "what", "level") VALUES ($1, $2, $3, $4, $5) ON CONFLICT ("org_id", "code") DO UPDATE SET "what" = excluded."what", "level" = excluded."level" RETURNING "id", "org_id", "code", "what", "level"
upsert on (org, code) (platform): INSERT INTO "audit_events" ("id", "org_id", "code", "what", "level") VALUES ($1, $2, $3, $4, $5) ON CONFLICT ("code") WHERE "org_id" IS NULL DO UPDATE SET "what" = excluded."what", "level" = excluded."level" RETURNING "id", "org_id", "code", "what", "level"
upsert on id: INSERT INTO "audit_events" ("id", "org_id", "code", "what", "level") VALUES ($1, $2, $3, $4, $5) ON CONFLICT ("id") DO UPDATE SET "what" = excluded."what" WHERE "audit_events"."org_id" IS NOT DISTINCT FROM excluded."org_id" RETURNING "id", "org_id", "code", "what", "level"
upsert on id (platform): INSERT INTO "audit_events" ("id", "org_id", "code", "what", "level") VALUES ($1, $2, $3, $4, $5) ON CONFLICT ("id") DO UPDATE SET "what" = excluded."what" WHERE "audit_events"."org_id" IS NOT DISTINCT FROM excluded."org_id" RETURNING "id", "org_id", "code", "what", "level"
put on (org, code): INSERT INTO "audit_events" ("id", "org_id", "code", "what", "level") VALUES ($1, $2, $3, $4, $5) ON CONFLICT ("org_id", "code") DO UPDATE SET "what" = excluded."what", "level" = excluded."level"
put on (org, code) (platform): INSERT INTO "audit_events" ("id", "org_id", "code", "what", "level") VALUES ($1, $2, $3, $4, $5) ON CONFLICT ("code") WHERE "org_id" IS NULL DO UPDATE SET "what" = excluded."what", "level" = excluded."level"
put on id: INSERT INTO "audit_events" ("id", "org_id", "code", "what", "level") VALUES ($1, $2, $3, $4, $5) ON CONFLICT ("id") DO UPDATE SET "code" = excluded."code", "what" = excluded."what", "level" = excluded."level" WHERE "audit_events"."org_id" IS NOT DISTINCT FROM excluded."org_id"
put on id (platform): INSERT INTO "audit_events" ("id", "org_id", "code", "what", "level") VALUES ($1, $2, $3, $4, $5) ON CONFLICT ("id") DO UPDATE SET "code" = excluded."code", "what" = excluded."what", "level" = excluded."level" WHERE "audit_events"."org_id" IS NOT DISTINCT FROM excluded."org_id"
find many: SELECT "id", "org_id", "code", "what", "level" FROM "audit_events" WHERE "org_id" = $1 AND "id" = ANY($2::UUID[])
find many (platform): SELECT "id", "org_id", "code", "what", "level" FROM "audit_events" WHERE "org_id" IS NULL AND "id" = ANY($1::UUID[])
insert many (unnest): INSERT INTO "audit_events" ("id", "org_id", "code", "what", "level") SELECT * FROM unnest($1::UUID[], $2::UUID[], $3::TEXT[], $4::TEXT[], $5::INTEGER[])
note list: SELECT "id", "event_id", "text" FROM "event_notes" WHERE EXISTS (SELECT 1 FROM "audit_events" AS "p0" WHERE "p0"."id" = "event_notes"."event_id" AND "p0"."org_id" = $1) AND "text" = $2
note list (platform): SELECT "id", "event_id", "text" FROM "event_notes" WHERE EXISTS (SELECT 1 FROM "audit_events" AS "p0" WHERE "p0"."id" = "event_notes"."event_id" AND "p0"."org_id" IS NULL) AND "text" = $1
note find: SELECT "id", "event_id", "text" FROM "event_notes" WHERE EXISTS (SELECT 1 FROM "audit_events" AS "p0" WHERE "p0"."id" = "event_notes"."event_id" AND "p0"."org_id" = $1) AND "id" = $2
note find (platform): SELECT "id", "event_id", "text" FROM "event_notes" WHERE EXISTS (SELECT 1 FROM "audit_events" AS "p0" WHERE "p0"."id" = "event_notes"."event_id" AND "p0"."org_id" IS NULL) AND "id" = $1
note insert: INSERT INTO "event_notes" ("id", "event_id", "text") SELECT $2, $3, $4 WHERE EXISTS (SELECT 1 FROM "audit_events" AS "p0" WHERE "p0"."id" = $3 AND "p0"."org_id" = $1)
query: SELECT "t0"."code", "t1"."note" FROM "audit_events" AS "t0" LEFT JOIN "event_links" AS "t1" ON "t1"."event_id" = "t0"."id" AND "t1"."org_id" = $1 AND "t1"."org_id" = "t0"."org_id" WHERE "t0"."org_id" = $1 AND EXISTS (SELECT 1 FROM "event_links" AS "t2" WHERE "t2"."org_id" = $1 AND "t2"."note" = "t0"."code")
query (platform): SELECT "t0"."code", "t1"."note" FROM "audit_events" AS "t0" LEFT JOIN "event_links" AS "t1" ON "t1"."event_id" = "t0"."id" AND "t1"."org_id" IS NULL WHERE "t0"."org_id" IS NULL AND EXISTS (SELECT 1 FROM "event_links" AS "t2" WHERE "t2"."org_id" IS NULL AND "t2"."note" = "t0"."code")
notes query: SELECT "t0"."code", "t1"."text" FROM "audit_events" AS "t0" JOIN "event_notes" AS "t1" ON "t1"."event_id" = "t0"."id" AND EXISTS (SELECT 1 FROM "audit_events" AS "p0" WHERE "p0"."id" = "t1"."event_id" AND "p0"."org_id" = $1) WHERE "t0"."org_id" = $1
notes query (platform): SELECT "t0"."code", "t1"."text" FROM "audit_events" AS "t0" JOIN "event_notes" AS "t1" ON "t1"."event_id" = "t0"."id" AND EXISTS (SELECT 1 FROM "audit_events" AS "p0" WHERE "p0"."id" = "t1"."event_id" AND "p0"."org_id" IS NULL) WHERE "t0"."org_id" IS NULL
insert select: INSERT INTO "event_links" ("org_id", "id", "note") SELECT $1, "id", "what" FROM "audit_events" WHERE "org_id" = $1
insert select (platform): INSERT INTO "event_links" ("org_id", "id", "note") SELECT NULL, "id", "what" FROM "audit_events" WHERE "org_id" IS NULL
