-- 0002_row_level_security: an org isolation policy on every org-scoped table of the session
-- database (SESSION_DB_URL), as 0003_row_level_security gives the main database.
-- Row-level security: PostgreSQL itself keeps each org's rows apart, behind tenantry's
-- type-level org scoping. A session then sees and writes only the rows of the org in the
-- app.current_org_id setting; while it is unset, a statement that meets a row fails (no
-- org context) -- FORCE applies this to the tables' owner too. The org is read once per
-- statement (the scalar subquery). So the app must connect with org context
-- (tenantry::pg::Options::org_context; `tenantry-app ... --rls`) once this is applied:
-- `migrate up` and the demo apply it only with --rls. Superusers and BYPASSRLS roles are
-- never subject to policies; `tenantry-app rls verify` checks the live database and role.
-- Generated from examples/app/entities.hpp by `tenantry-app schema --write`; do not edit.
-- tests/app/drift_test.cpp fails when this file and the entities disagree.
ALTER TABLE "tower_sessions" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "tower_sessions" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tower_sessions_org_isolation" ON "tower_sessions" USING ("org_id" = (SELECT CAST(COALESCE(NULLIF(current_setting('app.current_org_id', true), ''), current_setting('tenantry: no org context (app.current_org_id is not set)')) AS UUID))) WITH CHECK ("org_id" = (SELECT CAST(COALESCE(NULLIF(current_setting('app.current_org_id', true), ''), current_setting('tenantry: no org context (app.current_org_id is not set)')) AS UUID)));
