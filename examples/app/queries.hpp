// examples/app/queries.hpp - the product's reads that span several tables or aggregate, each one
// statement (tenantry/select.hpp), and ReportRepository, which runs them for one org.
//
//   app::ReportRepository<tenantry::AnyDialect> reports{db};
//   app::StatusDashboard d = reports.status_dashboard(org);          // counts per status
//   std::vector<app::TokenWithOwner> t = reports.tokens_with_owner(org);
//   std::string sql = tenantry::sql_of<tenantry::PgDialect>(app::queries::tokens_with_owner());
//
// Which of the seeds' reads the schema holds. The product's database (../shared/seeds, relative
// to the repository's root) has no users, memberships, roles or hierarchy tables: users live in
// Keycloak (a row carries the user's Keycloak subject as `user_id`), roles are client-scoped in
// Keycloak (one client per org: organizations.kc_client_id, role hierarchy Admin > Manager >
// PowerUser > User fixed in code), and a token's permissions are its `scopes` text. So:
//   * counts per status (a dashboard): downloads, access requests, app access requests, tokens;
//   * tokens with their owner: api_tokens joined to the owner's approved access request, the one
//     place the database records a user's login (access_requests.username);
//   * a user's toolsets with the org's switch for their type (toolsets -> app_toolset_configs),
//     and the toolsets a user can really use (EXISTS an enabled switch);
//   * local model aliases with the metadata extracted from their file (user_aliases ->
//     model_metadata on the file's identity), and the aliases still waiting for extraction (NOT
//     EXISTS): the metadata job's queue.
// What the schema cannot say - a user's effective capabilities (assignments -> roles ->
// capabilities), a node's descendants through a closure table, a project's members with roles -
// stays in examples/queries, on tables of its own; docs/queries.md says why.
//
// Every query reads org-scoped tables only, so it runs with an org (fetch(db, org, q)); the SQL
// writer gives each table in it `org_id = $1`, in the ON clause for the joined ones.
#pragma once

#include "entities.hpp"
#include "repositories.hpp"

#include <tenantry/select.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace app {

// ---- result rows (plain structs: shapes of the output, not tables) ----------------------------

/// Rows of one table with one status.
template <class Status>
struct StatusCount {
  Status status{};
  std::int64_t count = 0;
  friend bool operator==(const StatusCount&, const StatusCount&) = default;
};

/// The admin dashboard: rows per status of the org's queues and tokens. A status with no rows
/// is absent.
struct StatusDashboard {
  std::vector<StatusCount<DownloadStatus>> downloads;
  std::vector<StatusCount<AccessRequestStatus>> access_requests;
  std::vector<StatusCount<AppAccessStatus>> app_access_requests;
  std::vector<StatusCount<TokenStatus>> api_tokens;
};

/// A token with what the database knows of its owner: the login of the owner's approved access
/// request (none for a user who never went through onboarding, e.g. the org's first admin).
struct TokenWithOwner {
  Uuid id{};
  std::string name{};
  std::string token_prefix{};
  TokenStatus status = TokenStatus::active;
  std::string user_id{};
  std::optional<std::string> username{};
  Timestamp created_at{};
  friend bool operator==(const TokenWithOwner&, const TokenWithOwner&) = default;
};

/// A user's toolset with the org's switch for its type: `type_enabled` is empty when an admin
/// never configured the type (the product treats that as disabled).
struct ToolsetWithConfig {
  Uuid id{};
  std::string slug{};
  std::string toolset_type{};
  bool enabled = false;
  std::optional<bool> type_enabled{};
  std::optional<std::string> type_updated_by{};
  friend bool operator==(const ToolsetWithConfig&, const ToolsetWithConfig&) = default;
};

/// A local model alias with the metadata extracted from its GGUF file, if any yet.
struct AliasWithMetadata {
  std::string alias{};
  std::string repo{};
  std::string filename{};
  std::string snapshot{};
  std::optional<Json> capabilities{};
  std::optional<std::int64_t> context_max_input_tokens{};
  std::optional<std::string> architecture{};
  friend bool operator==(const AliasWithMetadata&, const AliasWithMetadata&) = default;
};

/// A model file some alias refers to that has no metadata row yet.
struct ModelFile {
  std::string alias{};
  std::string repo{};
  std::string filename{};
  std::string snapshot{};
  friend bool operator==(const ModelFile&, const ModelFile&) = default;
};

// ---- the statements ---------------------------------------------------------------------------
// Values are the functions' parameters, so one shape serves every call (and every org).

namespace queries {

using tenantry::col;
using tenantry::count;
using tenantry::from;
using tenantry::select;

/// SELECT status, COUNT(*) FROM <E's table> WHERE org_id = $1 GROUP BY status ORDER BY status.
/// `Status` is the member, e.g. per_status<&ApiToken::status>().
template <auto Status>
auto per_status() {
  using E = typename tenantry::reflect::member_pointer_traits<decltype(Status)>::class_type;
  using S = typename tenantry::reflect::member_pointer_traits<decltype(Status)>::member_type;
  return select<StatusCount<S>>(col(Status), count()).template from<E>().group_by(col(Status)).order_by(col(Status));
}

/// Every token of the org with its owner's login, by owner then age. A user with several
/// approved requests (joined, left, joined again) still yields one row per token: GROUP BY the
/// token, MAX of the login.
inline auto tokens_with_owner() {
  using T = ApiToken;
  using R = UserAccessRequest;
  return select<TokenWithOwner>(col(&T::id), col(&T::name), col(&T::token_prefix), col(&T::status), col(&T::user_id),
                                tenantry::max(col(&R::username)), col(&T::created_at))
      .from<T>()
      .left_join<R>(col(&R::user_id) == col(&T::user_id) && col(&R::status) == AccessRequestStatus::approved)
      .group_by(col(&T::id), col(&T::name), col(&T::token_prefix), col(&T::status), col(&T::user_id),
                col(&T::created_at))
      .order_by(col(&T::user_id))
      .order_by(col(&T::created_at))
      .order_by(col(&T::id));
}

/// A user's toolsets with the org's switch for each one's type (unique per org and type, so one
/// row per toolset).
inline auto toolsets_with_config(std::string_view user_id) {
  using S = Toolset;
  using C = AppToolsetConfig;
  return select<ToolsetWithConfig>(col(&S::id), col(&S::slug), col(&S::toolset_type), col(&S::enabled),
                                   col(&C::enabled), col(&C::updated_by))
      .from<S>()
      .left_join<C>(col(&C::toolset_type) == col(&S::toolset_type))
      .where(col(&S::user_id) == std::string(user_id))
      .order_by(col(&S::slug));
}

/// The slugs of the toolsets a user can use: enabled by the user, and their type enabled by the
/// org (a correlated EXISTS).
inline auto usable_toolsets(std::string_view user_id) {
  using S = Toolset;
  using C = AppToolsetConfig;
  return select(col(&S::slug))
      .from<S>()
      .where(
          col(&S::user_id) == std::string(user_id) && col(&S::enabled) == true &&
          tenantry::exists(from<C>().where(col(&C::toolset_type) == col(&S::toolset_type) && col(&C::enabled) == true)))
      .order_by(col(&S::slug));
}

/// The metadata row of an alias's file: model_metadata's unique key for source = model (whose
/// api_model_id is '').
inline auto same_file_as_alias() {
  using A = UserAlias;
  using M = ModelMetadata;
  return col(&M::source) == MetadataSource::model && col(&M::repo) == col(&A::repo) &&
         col(&M::filename) == col(&A::filename) && col(&M::snapshot) == col(&A::snapshot) &&
         col(&M::api_model_id) == std::string();
}

/// Every alias with its file's metadata (none yet: empty fields), by alias.
inline auto aliases_with_metadata() {
  using A = UserAlias;
  using M = ModelMetadata;
  return select<AliasWithMetadata>(col(&A::alias), col(&A::repo), col(&A::filename), col(&A::snapshot),
                                   col(&M::capabilities), col(&M::context_max_input_tokens), col(&M::architecture))
      .from<A>()
      .left_join<M>(same_file_as_alias())
      .order_by(col(&A::alias));
}

/// The aliases whose file has no metadata yet (the extraction job's queue), by alias.
inline auto aliases_without_metadata() {
  using A = UserAlias;
  return select<ModelFile>(col(&A::alias), col(&A::repo), col(&A::filename), col(&A::snapshot))
      .from<A>()
      .where(tenantry::not_exists(from<ModelMetadata>().where(same_file_as_alias())))
      .order_by(col(&A::alias));
}

}  // namespace queries

// ---- ReportRepository: the reads above, for one org ---------------------------------------------

template <class D>
class ReportRepository {
 public:
  explicit ReportRepository(ConnectionOf<D>& db) : db_(&db) {}

  /// Four statements, one per table (a GROUP BY each).
  StatusDashboard status_dashboard(OrgId org) {
    return {tenantry::fetch(*db_, org, queries::per_status<&DownloadRequest::status>()),
            tenantry::fetch(*db_, org, queries::per_status<&UserAccessRequest::status>()),
            tenantry::fetch(*db_, org, queries::per_status<&AppAccessRequest::status>()),
            tenantry::fetch(*db_, org, queries::per_status<&ApiToken::status>())};
  }
  std::vector<TokenWithOwner> tokens_with_owner(OrgId org) {
    return tenantry::fetch(*db_, org, queries::tokens_with_owner());
  }
  std::vector<ToolsetWithConfig> toolsets_with_config(OrgId org, std::string_view user_id) {
    return tenantry::fetch(*db_, org, queries::toolsets_with_config(user_id));
  }
  std::vector<std::string> usable_toolsets(OrgId org, std::string_view user_id) {
    std::vector<std::string> slugs;
    tenantry::for_each_row(*db_, org, queries::usable_toolsets(user_id),
                           [&](const std::tuple<std::string>& row) { slugs.push_back(std::get<0>(row)); });
    return slugs;
  }
  std::vector<AliasWithMetadata> aliases_with_metadata(OrgId org) {
    return tenantry::fetch(*db_, org, queries::aliases_with_metadata());
  }
  std::vector<ModelFile> aliases_without_metadata(OrgId org) {
    return tenantry::fetch(*db_, org, queries::aliases_without_metadata());
  }

 private:
  ConnectionOf<D>* db_;
};

}  // namespace app
