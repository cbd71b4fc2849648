-- 0003_row_level_security, reverted: drops the policies and turns row-level security off.
-- Generated from examples/app/entities.hpp by `tenantry-app schema --write`; do not edit.
-- tests/app/drift_test.cpp fails when this file and the entities disagree.
DROP POLICY "tower_sessions_org_isolation" ON "tower_sessions";
ALTER TABLE "tower_sessions" NO FORCE ROW LEVEL SECURITY;
ALTER TABLE "tower_sessions" DISABLE ROW LEVEL SECURITY;
DROP POLICY "app_access_requests_org_isolation" ON "app_access_requests";
ALTER TABLE "app_access_requests" NO FORCE ROW LEVEL SECURITY;
ALTER TABLE "app_access_requests" DISABLE ROW LEVEL SECURITY;
DROP POLICY "user_aliases_org_isolation" ON "user_aliases";
ALTER TABLE "user_aliases" NO FORCE ROW LEVEL SECURITY;
ALTER TABLE "user_aliases" DISABLE ROW LEVEL SECURITY;
DROP POLICY "toolsets_org_isolation" ON "toolsets";
ALTER TABLE "toolsets" NO FORCE ROW LEVEL SECURITY;
ALTER TABLE "toolsets" DISABLE ROW LEVEL SECURITY;
DROP POLICY "app_toolset_configs_org_isolation" ON "app_toolset_configs";
ALTER TABLE "app_toolset_configs" NO FORCE ROW LEVEL SECURITY;
ALTER TABLE "app_toolset_configs" DISABLE ROW LEVEL SECURITY;
DROP POLICY "model_metadata_org_isolation" ON "model_metadata";
ALTER TABLE "model_metadata" NO FORCE ROW LEVEL SECURITY;
ALTER TABLE "model_metadata" DISABLE ROW LEVEL SECURITY;
DROP POLICY "api_model_aliases_org_isolation" ON "api_model_aliases";
ALTER TABLE "api_model_aliases" NO FORCE ROW LEVEL SECURITY;
ALTER TABLE "api_model_aliases" DISABLE ROW LEVEL SECURITY;
DROP POLICY "api_tokens_org_isolation" ON "api_tokens";
ALTER TABLE "api_tokens" NO FORCE ROW LEVEL SECURITY;
ALTER TABLE "api_tokens" DISABLE ROW LEVEL SECURITY;
DROP POLICY "access_requests_org_isolation" ON "access_requests";
ALTER TABLE "access_requests" NO FORCE ROW LEVEL SECURITY;
ALTER TABLE "access_requests" DISABLE ROW LEVEL SECURITY;
DROP POLICY "download_requests_org_isolation" ON "download_requests";
ALTER TABLE "download_requests" NO FORCE ROW LEVEL SECURITY;
ALTER TABLE "download_requests" DISABLE ROW LEVEL SECURITY;
