// The rows of a populated single-tenant database (migrations/upgrade/<dialect>/0001), shared by
// the upgrade path's tests (tests/app/upgrade_test.cpp) and the generated upgrade's
// (tests/migrate_gen/seed_upgrade_test.cpp).
#pragma once

#include "app_support.hpp"

#include <string>
#include <string_view>

namespace app_test {

/// Replaces every `from` in `s` with `to`.
inline void replace_all(std::string& s, std::string_view from, std::string_view to) {
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
}

/// Rows for every table of the single-tenant schema, as the product wrote them: NULLs, quotes,
/// non-ASCII text, JSON, blobs. Written once for both dialects: $t / $f are booleans, $blob(hex)
/// a blob and $epoch(n) a session expiry (INTEGER Unix seconds in tower-sessions' SQLite store,
/// TIMESTAMPTZ in its PostgreSQL one).
inline std::string single_tenant_rows(Dialect d) {
  std::string sql = R"SQL(
INSERT INTO download_requests (id, repo, filename, status, error, total_bytes, downloaded_bytes, started_at, created_at, updated_at) VALUES
  ('0191e2a4-0000-7000-8000-00000000d001', 'QuantFactory/Meta-Llama-3-8B-Instruct-GGUF', 'Meta-Llama-3-8B-Instruct.Q8_0.gguf', 'completed', NULL, 8540000000, 8540000000, '2024-01-31T12:00:00.000000Z', '2024-01-31T11:59:00.000000Z', '2024-01-31T12:30:00.000000Z'),
  ('0191e2a4-0000-7000-8000-00000000d002', 'microsoft/Phi-3-mini-4k-instruct-gguf', 'Phi-3-mini-4k-instruct-q4.gguf', 'error', 'HTTP 404: ''file'' not found', NULL, 0, NULL, '2024-02-01T08:00:00.123456Z', '2024-02-01T08:00:01.000000Z'),
  ('0191e2a4-0000-7000-8000-00000000d003', 'TheBloke/café-GGUF', 'model.gguf', 'pending', NULL, NULL, 0, NULL, '2024-02-02T00:00:00.000000Z', '2024-02-02T00:00:00.000000Z');
INSERT INTO access_requests (id, username, user_id, status, reviewer, created_at, updated_at) VALUES
  ('0191e2a4-0000-7000-8000-00000000a001', 'carol@example.com', 'carol', 'pending', NULL, '2024-01-31T12:00:00.000000Z', '2024-01-31T12:00:00.000000Z'),
  ('0191e2a4-0000-7000-8000-00000000a002', 'dave@example.com', 'dave', 'approved', 'admin', '2024-01-30T12:00:00.000000Z', '2024-01-31T09:00:00.000000Z'),
  ('0191e2a4-0000-7000-8000-00000000a003', 'dave@example.com', 'dave', 'rejected', 'admin', '2024-01-29T12:00:00.000000Z', '2024-01-29T13:00:00.000000Z');
INSERT INTO api_tokens (id, user_id, name, token_prefix, token_hash, scopes, status, created_at, updated_at) VALUES
  ('0191e2a4-0000-7000-8000-00000000b001', 'alice', 'laptop', 'bodhiapp_demo01', 'sha256:aa', 'scope_token_user', 'active', '2024-01-31T12:00:00.000000Z', '2024-01-31T12:00:00.000000Z'),
  ('0191e2a4-0000-7000-8000-00000000b002', 'bob', 'ci', 'bodhiapp_ci0001', 'sha256:bb', 'scope_token_power_user', 'inactive', '2024-01-31T12:00:00.000000Z', '2024-02-01T12:00:00.000000Z');
INSERT INTO api_model_aliases (id, name, api_format, base_url, models, prefix, forward_all_with_prefix, encrypted_api_key, salt, nonce, created_at, updated_at) VALUES
  ('0191e2a4-0000-7000-8000-00000000c001', 'openai', 'openai', 'https://api.openai.com/v1', '["gpt-4o", "gpt-4o-mini"]', 'oai/', $t, 'enc:sk', 'salt', 'nonce', '2024-01-31T12:00:00.000000Z', '2024-01-31T12:00:00.000000Z'),
  ('0191e2a4-0000-7000-8000-00000000c002', 'claude', 'anthropic', 'https://api.anthropic.com', '[]', NULL, $f, NULL, NULL, NULL, '2024-01-31T12:00:00.000000Z', '2024-01-31T12:00:00.000000Z'),
  ('0191e2a4-0000-7000-8000-00000000c003', 'local', 'openai', 'http://localhost:8080/v1', '["x"]', NULL, $f, NULL, NULL, NULL, '2024-01-31T12:00:00.000000Z', '2024-01-31T12:00:00.000000Z');
INSERT INTO model_metadata (id, source, repo, filename, snapshot, api_model_id, capabilities, context_max_input_tokens, context_max_output_tokens, architecture, chat_template, extracted_at, created_at, updated_at) VALUES
  ('0191e2a4-0000-7000-8000-00000000e001', 'model', 'QuantFactory/Meta-Llama-3-8B-Instruct-GGUF', 'Meta-Llama-3-8B-Instruct.Q8_0.gguf', 'main', '', '{"tools": true}', 8192, NULL, 'llama', '{{ messages }}', '2024-01-31T12:00:00.000000Z', '2024-01-31T12:00:00.000000Z', '2024-01-31T12:00:00.000000Z'),
  ('0191e2a4-0000-7000-8000-00000000e002', 'api', '', '', '', 'gpt-4o', '{"vision": true}', 128000, 16384, NULL, NULL, '2024-01-31T12:00:00.000000Z', '2024-01-31T12:00:00.000000Z', '2024-01-31T12:00:00.000000Z');
INSERT INTO app_toolset_configs (id, toolset_type, enabled, updated_by, created_at, updated_at) VALUES
  ('0191e2a4-0000-7000-8000-00000000f001', 'builtin-exa-web-search', $t, 'admin', '2024-01-31T12:00:00.000000Z', '2024-01-31T12:00:00.000000Z'),
  ('0191e2a4-0000-7000-8000-00000000f002', 'builtin-weather', $f, 'admin', '2024-01-31T12:00:00.000000Z', '2024-01-31T12:00:00.000000Z');
INSERT INTO toolsets (id, user_id, toolset_type, slug, description, enabled, encrypted_api_key, salt, nonce, created_at, updated_at) VALUES
  ('0191e2a4-0000-7000-8000-000000001001', 'alice', 'builtin-exa-web-search', 'exa-search', 'web search', $t, 'enc:exa', 'salt', 'nonce', '2024-01-31T12:00:00.000000Z', '2024-01-31T12:00:00.000000Z'),
  ('0191e2a4-0000-7000-8000-000000001002', 'bob', 'builtin-exa-web-search', 'exa-search', NULL, $f, NULL, NULL, NULL, '2024-01-31T12:00:00.000000Z', '2024-01-31T12:00:00.000000Z');
INSERT INTO user_aliases (id, alias, repo, filename, snapshot, request_params, context_params, created_at, updated_at) VALUES
  ('0191e2a4-0000-7000-8000-000000002001', 'llama3:instruct', 'QuantFactory/Meta-Llama-3-8B-Instruct-GGUF', 'Meta-Llama-3-8B-Instruct.Q8_0.gguf', 'main', '{"temperature": 0.7}', '["--ctx-size", "4096"]', '2024-01-31T12:00:00.000000Z', '2024-01-31T12:00:00.000000Z'),
  ('0191e2a4-0000-7000-8000-000000002002', 'phi3:mini', 'microsoft/Phi-3-mini-4k-instruct-gguf', 'Phi-3-mini-4k-instruct-q4.gguf', 'main', '{}', '[]', '2024-01-31T12:00:00.000000Z', '2024-01-31T12:00:00.000000Z');
INSERT INTO app_access_requests (id, app_client_id, app_name, app_description, flow_type, redirect_uri, status, requested, approved, user_id, requested_role, approved_role, access_request_scope, error_message, expires_at, created_at, updated_at) VALUES
  ('0191e2a4-0000-7000-8000-000000003001', 'app-notes', 'Notes', 'Takes notes', 'popup', NULL, 'approved', '{"toolset_types": ["builtin-exa-web-search"]}', '{"toolset_types": ["builtin-exa-web-search"]}', 'alice', 'scope_user_user', 'scope_user_user', 'scope_access_request:1', NULL, '2024-01-31T13:00:00.000000Z', '2024-01-31T12:00:00.000000Z', '2024-01-31T12:05:00.000000Z'),
  ('0191e2a4-0000-7000-8000-000000003002', 'app-draft', NULL, NULL, 'redirect', 'https://app.example.com/cb', 'draft', '{}', 'null', NULL, 'scope_user_user', NULL, NULL, NULL, '2024-01-31T13:00:00.000000Z', '2024-01-31T12:00:00.000000Z', '2024-01-31T12:00:00.000000Z');
INSERT INTO tower_sessions (id, data, expiry_date, user_id) VALUES
  ('session-alice', $blob(7b22757365725f6964223a2022616c696365227d), $epoch(1706702400), 'alice'),
  ('session-anon', $blob(00ff10), $epoch(1706788800), NULL);
)SQL";
  const bool pg = d == Dialect::postgres;
  replace_all(sql, "$t,", pg ? "true," : "1,");
  replace_all(sql, "$f,", pg ? "false," : "0,");
  replace_all(sql, "$epoch(1706702400)", pg ? "'2024-01-31T12:00:00Z'" : "1706702400");
  replace_all(sql, "$epoch(1706788800)", pg ? "'2024-02-01T12:00:00Z'" : "1706788800");
  for (std::size_t at; (at = sql.find("$blob(")) != std::string::npos;) {
    const std::size_t end = sql.find(')', at);
    const std::string hex = sql.substr(at + 6, end - at - 6);
    sql.replace(at, end - at + 1, pg ? "'\\x" + hex + "'" : "x'" + hex + "'");
  }
  return sql;
}

}  // namespace app_test
