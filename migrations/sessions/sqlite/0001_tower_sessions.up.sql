-- 0001_tower_sessions: the HTTP session store in a database of its own (SESSION_DB_URL).
-- Its org_id has no foreign key: organizations lives in the main database, so deleting an
-- org does not cascade here; the app removes that org's sessions itself.
-- Generated from examples/app/entities.hpp by `tenantry-app schema --write`; do not edit.
-- tests/app/drift_test.cpp fails when this file and the entities disagree.
CREATE TABLE "tower_sessions" (
  "id" TEXT NOT NULL,
  "org_id" TEXT NOT NULL,
  "data" BLOB NOT NULL,
  "expiry_date" TEXT NOT NULL,
  "user_id" TEXT,
  CONSTRAINT "uq_tower_sessions_org_id_id" UNIQUE ("org_id", "id"),
  CONSTRAINT "pk_tower_sessions" PRIMARY KEY ("id")
);
CREATE INDEX "ix_tower_sessions_org_id_user_id" ON "tower_sessions" ("org_id", "user_id");
CREATE INDEX "ix_tower_sessions_org_id_expiry_date" ON "tower_sessions" ("org_id", "expiry_date");
