-- 0002_row_level_security, reverted: drops the policies and turns row-level security off.
-- Generated from examples/app/entities.hpp by `tenantry-app schema --write`; do not edit.
-- tests/app/drift_test.cpp fails when this file and the entities disagree.
DROP POLICY "tower_sessions_org_isolation" ON "tower_sessions";
ALTER TABLE "tower_sessions" NO FORCE ROW LEVEL SECURITY;
ALTER TABLE "tower_sessions" DISABLE ROW LEVEL SECURITY;
