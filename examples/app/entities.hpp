// examples/app/entities.hpp - the reference app's data model: the product's SQLite schema moved
// to multi-tenant SQLite/PostgreSQL (from the planning documents in ../shared/seeds, relative to
// the repository's root).
//
// One global table, `organizations` (the tenants), and ten org-scoped tables. Every org-scoped
// struct carries a `tenantry::OrgId org_id` field; that alone makes tenantry require an org on
// every repository call for it. The global one says so in its entity<> (`scope =
// tenantry::global`): tenantry never takes a struct for global just because it lacks an OrgId.
// Each org-scoped table declares:
//   * FOREIGN KEY (org_id) REFERENCES organizations (id) ON DELETE CASCADE, so deleting a tenant
//     removes its data;
//   * its uniques with org_id first: what was unique in the single-tenant app is unique per org
//     now (two orgs may both have an alias "llama3:instruct");
//   * indexes that lead with org_id, because every query filters by org first.
//
// Conventions: ids are random UUIDs (as in the original schema, and unlike integer sequences
// they never collide when tenants' data are merged or moved); timestamps are UTC, set by the
// repositories; JSON documents use tenantry::Json; statuses are enums, stored as TEXT with a
// CHECK listing the enumerators. Every field has an initializer, so rows can be written with
// designated initializers naming only what matters (GCC's -Wextra warns about any member left
// out that has none).
#pragma once

#include <tenantry/entity.hpp>
#include <tenantry/types.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>

namespace app {

using tenantry::Bytes;
using tenantry::Json;
using tenantry::OrgId;
using tenantry::Timestamp;
using tenantry::Uuid;

// ---- organizations (global) -------------------------------------------------------------------

enum class OrgStatus { active, suspended, deleted };

/// organizations: one row per tenant, resolved from the request's subdomain (slug). It holds the
/// tenant's Keycloak client and its secrets, replacing the single-tenant encrypted secrets.yaml.
/// Global (declared `scope = tenantry::global`, and it has no OrgId field), so its repository
/// takes no org.
struct Organization {
  Uuid id{};
  std::string slug{};  // URL-safe identifier, used as the subdomain
  std::string display_name{};
  std::string kc_client_id{};    // Keycloak client of this tenant
  std::string client_secret{};   // OAuth client secret, encrypted by the app before storing
  std::string encryption_key{};  // per-org key for the org's secrets, encrypted by the app
  OrgStatus status = OrgStatus::active;
  Timestamp created_at{};
  Timestamp updated_at{};
};

// ---- org-scoped tables ------------------------------------------------------------------------

enum class DownloadStatus { pending, completed, error };

/// download_requests: model files (a HuggingFace repo + file) an org asked to download, with
/// progress. Previously shared by everyone on the server.
struct DownloadRequest {
  Uuid id{};
  OrgId org_id{};
  std::string repo{};
  std::string filename{};
  DownloadStatus status = DownloadStatus::pending;
  std::optional<std::string> error{};
  std::optional<std::int64_t> total_bytes{};  // unknown until the server answers
  std::int64_t downloaded_bytes = 0;
  std::optional<Timestamp> started_at{};
  Timestamp created_at{};
  Timestamp updated_at{};
};

enum class AccessRequestStatus { pending, approved, rejected };

/// access_requests: a user asking to join the org (user onboarding), reviewed by an admin.
struct UserAccessRequest {
  Uuid id{};
  OrgId org_id{};
  std::string username{};  // the requester's e-mail / login
  std::string user_id{};   // the requester's Keycloak subject
  AccessRequestStatus status = AccessRequestStatus::pending;
  std::optional<std::string> reviewer{};
  Timestamp created_at{};
  Timestamp updated_at{};
};

enum class TokenStatus { active, inactive };

/// api_tokens: per-user bearer tokens. Only a prefix (for lookup) and a SHA-256 digest of the
/// token are stored, never the token itself.
struct ApiToken {
  Uuid id{};
  OrgId org_id{};
  std::string user_id{};
  std::string name{};
  std::string token_prefix{};
  std::string token_hash{};
  std::string scopes{};  // space-separated scope names, e.g. "scope_token_user"
  TokenStatus status = TokenStatus::active;
  Timestamp created_at{};
  Timestamp updated_at{};
};

enum class ApiFormat { openai, anthropic };

/// api_model_aliases: a remote API (OpenAI-compatible endpoint, key, models) the org configured.
/// The API key is encrypted with the org's key; each org has its own. `prefix`, when set, routes
/// "prefix/model" requests to this API and is unique within the org.
struct ApiModelAlias {
  Uuid id{};
  OrgId org_id{};
  std::string name{};  // the alias users pick, e.g. "openai"
  ApiFormat api_format = ApiFormat::openai;
  std::string base_url{};
  Json models{};  // ["gpt-4o", ...]
  std::optional<std::string> prefix{};
  bool forward_all_with_prefix = false;
  std::optional<std::string> encrypted_api_key{};
  std::optional<std::string> salt{};
  std::optional<std::string> nonce{};
  Timestamp created_at{};
  Timestamp updated_at{};
};

enum class MetadataSource { model, api };

/// model_metadata: capabilities and context limits extracted from a GGUF file (source=model,
/// identified by repo/filename/snapshot) or reported by a remote API (source=api, identified by
/// api_model_id). The identifying columns that do not apply hold '' rather than NULL, so that
/// UNIQUE(org_id, source, repo, filename, snapshot, api_model_id) really is unique (NULLs never
/// conflict, in SQLite or PostgreSQL) and can serve as the upsert target.
struct ModelMetadata {
  Uuid id{};
  OrgId org_id{};
  MetadataSource source = MetadataSource::model;
  std::string repo{};
  std::string filename{};
  std::string snapshot{};
  std::string api_model_id{};
  Json capabilities{};  // {"vision": false, "tools": true, ...}
  std::optional<std::int64_t> context_max_input_tokens{};
  std::optional<std::int64_t> context_max_output_tokens{};
  std::optional<std::string> architecture{};
  std::optional<std::string> chat_template{};
  Timestamp extracted_at{};
  Timestamp created_at{};
  Timestamp updated_at{};
};

/// app_toolset_configs: whether a toolset type (e.g. web search) is enabled for the org, set by
/// an admin. One row per (org, toolset type).
struct AppToolsetConfig {
  Uuid id{};
  OrgId org_id{};
  std::string toolset_type{};
  bool enabled = false;
  std::string updated_by{};  // user id of the admin who last changed it
  Timestamp created_at{};
  Timestamp updated_at{};
};

/// toolsets: a user's configured instance of a toolset type, with its (encrypted) API key.
/// Slugs are unique per user within the org.
struct Toolset {
  Uuid id{};
  OrgId org_id{};
  std::string user_id{};
  std::string toolset_type{};
  std::string slug{};
  std::optional<std::string> description{};
  bool enabled = true;
  std::optional<std::string> encrypted_api_key{};
  std::optional<std::string> salt{};
  std::optional<std::string> nonce{};
  Timestamp created_at{};
  Timestamp updated_at{};
};

/// user_aliases: a named local model configuration (GGUF file + request/context parameters).
/// Was globally unique by alias; now unique per org.
struct UserAlias {
  Uuid id{};
  OrgId org_id{};
  std::string alias{};  // e.g. "llama3:instruct"
  std::string repo{};
  std::string filename{};
  std::string snapshot{};
  Json request_params{};  // {"temperature": 0.7, ...}
  Json context_params{};  // ["--ctx-size", "4096", ...]
  Timestamp created_at{};
  Timestamp updated_at{};
};

enum class AppAccessFlow { redirect, popup };
enum class AppAccessStatus { draft, approved, denied, failed, expired };

/// app_access_requests: an external OAuth app asking a user for access to this org's resources
/// (the consent flow). Created as a draft, then approved, denied, failed or expired.
struct AppAccessRequest {
  Uuid id{};
  OrgId org_id{};
  std::string app_client_id{};
  std::optional<std::string> app_name{};
  std::optional<std::string> app_description{};
  AppAccessFlow flow_type = AppAccessFlow::redirect;
  std::optional<std::string> redirect_uri{};
  AppAccessStatus status = AppAccessStatus::draft;
  Json requested{};  // the tools / models the app asks for
  // What the user granted; JSON null until then. (std::optional<Json> would be the natural type,
  // but tenantry's SQLite CHECK json_valid("approved") rejects NULL on SQLite < 3.45, where
  // json_valid(NULL) is 0.)
  Json approved{"null"};
  std::optional<std::string> user_id{};  // the approving user, once known
  std::string requested_role{};
  std::optional<std::string> approved_role{};
  std::optional<std::string> access_request_scope{};  // the Keycloak scope minted on approval
  std::optional<std::string> error_message{};
  Timestamp expires_at{};
  Timestamp created_at{};
  Timestamp updated_at{};
};

/// tower_sessions: HTTP session records (the session store's table), now tagged with the org the
/// session was opened in so that a session cookie from one tenant is useless in another.
struct SessionRecord {
  std::string id{};  // the session id from the cookie
  OrgId org_id{};
  Bytes data{};  // the serialized session
  Timestamp expiry_date{};
  std::optional<std::string> user_id{};  // set once the user logged in
};

}  // namespace app

// ---- table declarations -----------------------------------------------------------------------
// Each tenantry::entity<> names the table and its key, and lists constraints and indexes. Names
// of constraints and indexes are derived (uq_/ix_/ux_/fk_<table>_<columns>), identical in both
// dialects.

template <>
struct tenantry::entity<app::Organization> {
  using T = app::Organization;
  static constexpr auto scope = tenantry::global;  // the tenants themselves, shared by every org
  static constexpr std::string_view table = "organizations";
  static constexpr auto primary_key = key(&T::id);
  static constexpr auto columns = std::tuple{column(&T::status).default_value(app::OrgStatus::active)};
  static constexpr auto constraints = std::tuple{unique(&T::slug)};
};

template <>
struct tenantry::entity<app::DownloadRequest> {
  using T = app::DownloadRequest;
  static constexpr std::string_view table = "download_requests";
  static constexpr auto primary_key = key(&T::id);
  static constexpr auto columns = std::tuple{column(&T::downloaded_bytes).default_value(0)};
  static constexpr auto constraints = std::tuple{
      check(&T::downloaded_bytes, ">=", 0),
      index(&T::org_id, desc(&T::created_at)),    // the downloads page, newest first
      index(&T::org_id, &T::repo, &T::filename),  // "is this file already requested?"
      index(&T::org_id, &T::status),              // the downloader's pending queue
      foreign_key(&T::org_id, &app::Organization::id, on_delete::cascade)};
};

template <>
struct tenantry::entity<app::UserAccessRequest> {
  using T = app::UserAccessRequest;
  static constexpr std::string_view table = "access_requests";
  static constexpr auto primary_key = key(&T::id);
  static constexpr auto constraints = std::tuple{
      // At most one pending request per user and org; decided ones are kept as history.
      unique_index(&T::org_id, &T::user_id).where("status = 'pending'"),
      index(&T::org_id, &T::status, desc(&T::created_at)),  // the admin's review list
      foreign_key(&T::org_id, &app::Organization::id, on_delete::cascade)};
};

template <>
struct tenantry::entity<app::ApiToken> {
  using T = app::ApiToken;
  static constexpr std::string_view table = "api_tokens";
  static constexpr auto primary_key = key(&T::id);
  static constexpr auto columns = std::tuple{column(&T::status).default_value(app::TokenStatus::active)};
  static constexpr auto constraints = std::tuple{unique(&T::org_id, &T::token_prefix),  // bearer-token lookup
                                                 index(&T::org_id, &T::user_id),        // a user's tokens page
                                                 foreign_key(&T::org_id, &app::Organization::id, on_delete::cascade)};
};

template <>
struct tenantry::entity<app::ApiModelAlias> {
  using T = app::ApiModelAlias;
  static constexpr std::string_view table = "api_model_aliases";
  static constexpr auto primary_key = key(&T::id);
  static constexpr auto constraints = std::tuple{unique(&T::org_id, &T::name),
                                                 unique(&T::org_id, &T::prefix),  // NULL prefixes never conflict
                                                 foreign_key(&T::org_id, &app::Organization::id, on_delete::cascade)};
};

template <>
struct tenantry::entity<app::ModelMetadata> {
  using T = app::ModelMetadata;
  static constexpr std::string_view table = "model_metadata";
  static constexpr auto primary_key = key(&T::id);
  static constexpr auto constraints = std::tuple{
      unique(&T::org_id, &T::source, &T::repo, &T::filename, &T::snapshot, &T::api_model_id),
      index(&T::org_id, &T::api_model_id),  // lookups by remote model id alone
      foreign_key(&T::org_id, &app::Organization::id, on_delete::cascade)};
};

template <>
struct tenantry::entity<app::AppToolsetConfig> {
  using T = app::AppToolsetConfig;
  static constexpr std::string_view table = "app_toolset_configs";
  static constexpr auto primary_key = key(&T::id);
  static constexpr auto constraints = std::tuple{unique(&T::org_id, &T::toolset_type),
                                                 foreign_key(&T::org_id, &app::Organization::id, on_delete::cascade)};
};

template <>
struct tenantry::entity<app::Toolset> {
  using T = app::Toolset;
  static constexpr std::string_view table = "toolsets";
  static constexpr auto primary_key = key(&T::id);
  static constexpr auto constraints = std::tuple{
      unique(&T::org_id, &T::user_id, &T::slug),  // also serves "a user's toolsets"
      index(&T::org_id, &T::toolset_type),        // all instances of a type (admin disables it)
      foreign_key(&T::org_id, &app::Organization::id, on_delete::cascade)};
};

template <>
struct tenantry::entity<app::UserAlias> {
  using T = app::UserAlias;
  static constexpr std::string_view table = "user_aliases";
  static constexpr auto primary_key = key(&T::id);
  static constexpr auto constraints = std::tuple{unique(&T::org_id, &T::alias),
                                                 foreign_key(&T::org_id, &app::Organization::id, on_delete::cascade)};
};

template <>
struct tenantry::entity<app::AppAccessRequest> {
  using T = app::AppAccessRequest;
  static constexpr std::string_view table = "app_access_requests";
  static constexpr auto primary_key = key(&T::id);
  static constexpr auto constraints = std::tuple{
      index(&T::org_id, &T::app_client_id),
      index(&T::org_id, &T::access_request_scope),    // resolving a minted scope back to its request
      index(&T::org_id, &T::status, &T::expires_at),  // the expiry sweep
      foreign_key(&T::org_id, &app::Organization::id, on_delete::cascade)};
};

template <>
struct tenantry::entity<app::SessionRecord> {
  using T = app::SessionRecord;
  static constexpr std::string_view table = "tower_sessions";
  // The session store looks sessions up by id alone, before it knows the org, so the key stays
  // (id), unique across orgs. That is no existence oracle: the id is a 128-bit random value the
  // server generates and sends only to the session's own browser, never one a client picks, so
  // a collision can tell nobody anything. global_unique() says it was meant (tenantry refuses a
  // text key without the org otherwise: a natural key would tell one org what another holds).
  static constexpr auto primary_key = key(&T::id).global_unique();
  static constexpr auto constraints = std::tuple{index(&T::org_id, &T::user_id),      // "log this user out everywhere"
                                                 index(&T::org_id, &T::expiry_date),  // the expired-session sweep
                                                 foreign_key(&T::org_id, &app::Organization::id, on_delete::cascade)};
};
