-- 0001_initial_schema, reverted: drops every table, children first.
-- Generated from examples/app/entities.hpp by `tenantry-app schema --write`; do not edit.
-- tests/app/drift_test.cpp fails when this file and the entities disagree.
DROP TABLE "tower_sessions";
DROP TABLE "app_access_requests";
DROP TABLE "user_aliases";
DROP TABLE "toolsets";
DROP TABLE "app_toolset_configs";
DROP TABLE "model_metadata";
DROP TABLE "api_model_aliases";
DROP TABLE "api_tokens";
DROP TABLE "access_requests";
DROP TABLE "download_requests";
DROP TABLE "organizations";
