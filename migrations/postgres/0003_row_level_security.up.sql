-- 0003_row_level_security: an org isolation policy on every org-scoped table.
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
ALTER TABLE "download_requests" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "download_requests" FORCE ROW LEVEL SECURITY;
CREATE POLICY "download_requests_org_isolation" ON "download_requests" USING ("org_id" = (SELECT CAST(COALESCE(NULLIF(current_setting('app.current_org_id', true), ''), current_setting('tenantry: no org context (app.current_org_id is not set)')) AS UUID))) WITH CHECK ("org_id" = (SELECT CAST(COALESCE(NULLIF(current_setting('app.current_org_id', true), ''), current_setting('tenantry: no org context (app.current_org_id is not set)')) AS UUID)));
ALTER TABLE "access_requests" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "access_requests" FORCE ROW LEVEL SECURITY;
CREATE POLICY "access_requests_org_isolation" ON "access_requests" USING ("org_id" = (SELECT CAST(COALESCE(NULLIF(current_setting('app.current_org_id', true), ''), current_setting('tenantry: no org context (app.current_org_id is not set)')) AS UUID))) WITH CHECK ("org_id" = (SELECT CAST(COALESCE(NULLIF(current_setting('app.current_org_id', true), ''), current_setting('tenantry: no org context (app.current_org_id is not set)')) AS UUID)));
ALTER TABLE "api_tokens" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "api_tokens" FORCE ROW LEVEL SECURITY;
CREATE POLICY "api_tokens_org_isolation" ON "api_tokens" USING ("org_id" = (SELECT CAST(COALESCE(NULLIF(current_setting('app.current_org_id', true), ''), current_setting('tenantry: no org context (app.current_org_id is not set)')) AS UUID))) WITH CHECK ("org_id" = (SELECT CAST(COALESCE(NULLIF(current_setting('app.current_org_id', true), ''), current_setting('tenantry: no org context (app.current_org_id is not set)')) AS UUID)));
ALTER TABLE "api_model_aliases" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "api_model_aliases" FORCE ROW LEVEL SECURITY;
CREATE POLICY "api_model_aliases_org_isolation" ON "api_model_aliases" USING ("org_id" = (SELECT CAST(COALESCE(NULLIF(current_setting('app.current_org_id', true), ''), current_setting('tenantry: no org context (app.current_org_id is not set)')) AS UUID))) WITH CHECK ("org_id" = (SELECT CAST(COALESCE(NULLIF(current_setting('app.current_org_id', true), ''), current_setting('tenantry: no org context (app.current_org_id is not set)')) AS UUID)));
ALTER TABLE "model_metadata" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "model_metadata" FORCE ROW LEVEL SECURITY;
CREATE POLICY "model_metadata_org_isolation" ON "model_metadata" USING ("org_id" = (SELECT CAST(COALESCE(NULLIF(current_setting('app.current_org_id', true), ''), current_setting('tenantry: no org context (app.current_org_id is not set)')) AS UUID))) WITH CHECK ("org_id" = (SELECT CAST(COALESCE(NULLIF(current_setting('app.current_org_id', true), ''), current_setting('tenantry: no org context (app.current_org_id is not set)')) AS UUID)));
ALTER TABLE "app_toolset_configs" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "app_toolset_configs" FORCE ROW LEVEL SECURITY;
CREATE POLICY "app_toolset_configs_org_isolation" ON "app_toolset_configs" USING ("org_id" = (SELECT CAST(COALESCE(NULLIF(current_setting('app.current_org_id', true), ''), current_setting('tenantry: no org context (app.current_org_id is not set)')) AS UUID))) WITH CHECK ("org_id" = (SELECT CAST(COALESCE(NULLIF(current_setting('app.current_org_id', true), ''), current_setting('tenantry: no org context (app.current_org_id is not set)')) AS UUID)));
ALTER TABLE "toolsets" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "toolsets" FORCE ROW LEVEL SECURITY;
CREATE POLICY "toolsets_org_isolation" ON "toolsets" USING ("org_id" = (SELECT CAST(COALESCE(NULLIF(current_setting('app.current_org_id', true), ''), current_setting('tenantry: no org context (app.current_org_id is not set)')) AS UUID))) WITH CHECK ("org_id" = (SELECT CAST(COALESCE(NULLIF(current_setting('app.current_org_id', true), ''), current_setting('tenantry: no org context (app.current_org_id is not set)')) AS UUID)));
ALTER TABLE "user_aliases" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "user_aliases" FORCE ROW LEVEL SECURITY;
CREATE POLICY "user_aliases_org_isolation" ON "user_aliases" USING ("org_id" = (SELECT CAST(COALESCE(NULLIF(current_setting('app.current_org_id', true), ''), current_setting('tenantry: no org context (app.current_org_id is not set)')) AS UUID))) WITH CHECK ("org_id" = (SELECT CAST(COALESCE(NULLIF(current_setting('app.current_org_id', true), ''), current_setting('tenantry: no org context (app.current_org_id is not set)')) AS UUID)));
ALTER TABLE "app_access_requests" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "app_access_requests" FORCE ROW LEVEL SECURITY;
CREATE POLICY "app_access_requests_org_isolation" ON "app_access_requests" USING ("org_id" = (SELECT CAST(COALESCE(NULLIF(current_setting('app.current_org_id', true), ''), current_setting('tenantry: no org context (app.current_org_id is not set)')) AS UUID))) WITH CHECK ("org_id" = (SELECT CAST(COALESCE(NULLIF(current_setting('app.current_org_id', true), ''), current_setting('tenantry: no org context (app.current_org_id is not set)')) AS UUID)));
ALTER TABLE "tower_sessions" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "tower_sessions" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tower_sessions_org_isolation" ON "tower_sessions" USING ("org_id" = (SELECT CAST(COALESCE(NULLIF(current_setting('app.current_org_id', true), ''), current_setting('tenantry: no org context (app.current_org_id is not set)')) AS UUID))) WITH CHECK ("org_id" = (SELECT CAST(COALESCE(NULLIF(current_setting('app.current_org_id', true), ''), current_setting('tenantry: no org context (app.current_org_id is not set)')) AS UUID)));
