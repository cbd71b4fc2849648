-- 0001_single_tenant, reverted: drops every table of the single-tenant schema.
DROP TABLE tower_sessions;
DROP TABLE app_access_requests;
DROP TABLE user_aliases;
DROP TABLE toolsets;
DROP TABLE app_toolset_configs;
DROP TABLE model_metadata;
DROP TABLE api_model_aliases;
DROP TABLE api_tokens;
DROP TABLE access_requests;
DROP TABLE download_requests;
