// examples/app/repositories.hpp - the app's data access, one class per repository trait of the
// seeds (OrgRepository, TokenRepository, AccessRepository, AccessRequestRepository,
// ModelRepository, ToolsetRepository, UserAliasRepository) plus the session store's.
//
// Each class is templated on the dialect D and built from a connection of that dialect. The app
// uses D = tenantry::AnyDialect, whose connection is a tenantry::Database opened from a URL, so
// one code path serves SQLite and PostgreSQL:
//
//   tenantry::Database db = tenantry::connect("postgres://app@db/app");   // or sqlite:app.db
//   app::TokenRepository<tenantry::AnyDialect> tokens{db};
//   tokens.create_api_token(org, token);
//
// With a dialect known at compile time (D = SqliteDialect with a tenantry::sqlite::Connection,
// D = PgDialect with a tenantry::pg::Connection) the same classes skip the run-time dispatch.
//
// Every method on tenant data takes the tenantry::OrgId first, as the seeds require of the
// trait signatures. The classes are thin on purpose: tenantry::Repository already adds the org
// filter to every statement, so what is left here is naming the product's queries, stamping ids
// and timestamps, and choosing conflict targets. None of them could read or write another org's
// rows even if it tried: an org-scoped Repository has no operation without an org.
//
// Errors are tenantry's exceptions (UniqueViolation, OrgMismatch, ...), left to the caller.
#pragma once

#include "entities.hpp"

#include <tenantry/query.hpp>
#include <tenantry/repository.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace app {

// The query vocabulary, so predicates read as they would in tenantry's own examples.
using tenantry::assign;
using tenantry::col;
using tenantry::limit;
using tenantry::offset;
using tenantry::on_conflict;
using tenantry::only;
using tenantry::order_by;

/// The connection type of dialect D: tenantry::sqlite::Connection for SqliteDialect,
/// tenantry::pg::Connection for PgDialect, tenantry::Database for AnyDialect (<tenantry/database.hpp>).
template <class D>
using ConnectionOf = typename tenantry::connection_for<D>::type;

/// One page of a listing, with the total across all pages (what the product's paged endpoints
/// return).
template <class T>
struct Page {
  std::vector<T> items;
  std::int64_t total = 0;
  std::int64_t page = 1;
  std::int64_t per_page = 0;
};

namespace detail {

/// Page numbers start at 1; a page holds 1 to 100 rows.
struct Paging {
  std::int64_t page, per_page;
  Paging(std::int64_t p, std::int64_t n)
      : page(std::max<std::int64_t>(p, 1)), per_page(std::clamp<std::int64_t>(n, 1, 100)) {}
  tenantry::Limit limit() const { return tenantry::limit(per_page); }
  tenantry::Offset offset() const { return tenantry::offset((page - 1) * per_page); }
};

/// The first row of a listing, if any.
template <class E>
std::optional<E> first(std::vector<E>&& rows) {
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

/// Prepares a row for insertion: a new time-ordered id unless the caller chose one (v7 UUIDs
/// append to the primary key's B-tree instead of landing on random pages), and both timestamps.
template <class E>
void stamp_new(E& row) {
  if (row.id.is_nil()) row.id = Uuid::time_ordered();
  row.created_at = row.updated_at = Timestamp::now();
}

}  // namespace detail

// ---- OrgRepository: the tenants themselves (global) -------------------------------------------

template <class D>
class OrgRepository {
 public:
  explicit OrgRepository(ConnectionOf<D>& db) : orgs_(db) {}

  /// The org a request's subdomain names.
  std::optional<Organization> get_org_by_slug(std::string_view slug) {
    return detail::first(orgs_.list(col(&Organization::slug) == slug, limit(1)));
  }
  std::optional<Organization> get_org_by_id(const Uuid& id) { return orgs_.find(id); }
  std::vector<Organization> list_orgs() { return orgs_.list(order_by(&Organization::slug)); }

  /// Inserts `org`, filling its id (unless set) and timestamps. Throws UniqueViolation for a
  /// slug already taken.
  void create_org(Organization& org) {
    detail::stamp_new(org);
    orgs_.insert(org);
  }

  /// False when there is no such org.
  bool update_org_status(const Uuid& id, OrgStatus status) {
    return orgs_.update_where(col(&Organization::id) == id, assign(col(&Organization::status), status),
                              assign(col(&Organization::updated_at), Timestamp::now())) > 0;
  }

 private:
  tenantry::Repository<Organization, D> orgs_;
};

// ---- TokenRepository: api_tokens --------------------------------------------------------------

template <class D>
class TokenRepository {
 public:
  explicit TokenRepository(ConnectionOf<D>& db) : tokens_(db) {}

  /// Throws UniqueViolation when the org already has a token with this prefix.
  void create_api_token(OrgId org, ApiToken& token) {
    detail::stamp_new(token);
    tokens_.insert(org, token);
  }

  /// A user's tokens, newest first.
  Page<ApiToken> list_api_tokens(OrgId org, std::string_view user_id, std::int64_t page, std::int64_t per_page) {
    const detail::Paging p(page, per_page);
    const auto mine = col(&ApiToken::user_id) == user_id;
    return {tokens_.list(org, mine, order_by(&ApiToken::created_at).desc(), p.limit(), p.offset()),
            tokens_.count(org, mine), p.page, p.per_page};
  }

  /// The token `id` if it belongs to this user of this org.
  std::optional<ApiToken> get_api_token_by_id(OrgId org, std::string_view user_id, const Uuid& id) {
    return detail::first(tokens_.list(org, col(&ApiToken::id) == id && col(&ApiToken::user_id) == user_id, limit(1)));
  }

  /// Bearer-token authentication: the caller then compares the digest of the presented token.
  std::optional<ApiToken> get_api_token_by_prefix(OrgId org, std::string_view prefix) {
    return detail::first(tokens_.list(org, col(&ApiToken::token_prefix) == prefix, limit(1)));
  }

  /// Renames or (de)activates a token of this user; false when the user has no such token.
  bool update_api_token(OrgId org, std::string_view user_id, const ApiToken& token) {
    return tokens_.update_where(org, col(&ApiToken::id) == token.id && col(&ApiToken::user_id) == user_id,
                                assign(col(&ApiToken::name), token.name), assign(col(&ApiToken::status), token.status),
                                assign(col(&ApiToken::updated_at), Timestamp::now())) > 0;
  }

 private:
  tenantry::Repository<ApiToken, D> tokens_;
};

// ---- AccessRepository: access_requests (users asking to join the org) -------------------------

template <class D>
class AccessRepository {
 public:
  explicit AccessRepository(ConnectionOf<D>& db) : requests_(db) {}

  /// Throws UniqueViolation when this user already has a pending request in the org.
  UserAccessRequest insert_pending_request(OrgId org, std::string username, std::string user_id) {
    UserAccessRequest r{.username = std::move(username), .user_id = std::move(user_id)};
    detail::stamp_new(r);
    requests_.insert(org, r);
    return r;
  }

  std::optional<UserAccessRequest> get_pending_request(OrgId org, std::string_view user_id) {
    return detail::first(requests_.list(
        org,
        col(&UserAccessRequest::user_id) == user_id && col(&UserAccessRequest::status) == AccessRequestStatus::pending,
        limit(1)));
  }

  /// Pending requests, oldest first (the admin's review queue).
  Page<UserAccessRequest> list_pending_requests(OrgId org, std::int64_t page, std::int64_t per_page) {
    const detail::Paging p(page, per_page);
    const auto pending = col(&UserAccessRequest::status) == AccessRequestStatus::pending;
    return {requests_.list(org, pending, order_by(&UserAccessRequest::created_at), p.limit(), p.offset()),
            requests_.count(org, pending), p.page, p.per_page};
  }

  std::optional<UserAccessRequest> get_request_by_id(OrgId org, const Uuid& id) { return requests_.find(org, id); }

  /// Records the admin's decision; false when the org has no such request.
  bool update_request_status(OrgId org, const Uuid& id, AccessRequestStatus status, std::string reviewer) {
    return requests_.update_where(org, col(&UserAccessRequest::id) == id,
                                  assign(col(&UserAccessRequest::status), status),
                                  assign(col(&UserAccessRequest::reviewer), std::move(reviewer)),
                                  assign(col(&UserAccessRequest::updated_at), Timestamp::now())) > 0;
  }

 private:
  tenantry::Repository<UserAccessRequest, D> requests_;
};

// ---- AccessRequestRepository: app_access_requests (OAuth app consent) --------------------------

template <class D>
class AccessRequestRepository {
 public:
  explicit AccessRequestRepository(ConnectionOf<D>& db) : requests_(db) {}

  void create(OrgId org, AppAccessRequest& request) {
    detail::stamp_new(request);
    requests_.insert(org, request);
  }

  std::optional<AppAccessRequest> get(OrgId org, const Uuid& id) { return requests_.find(org, id); }

  /// Approves a draft; false when the org has no such draft (already decided, or unknown).
  bool update_approval(OrgId org, const Uuid& id, std::string user_id, Json approved, std::string approved_role,
                       std::string access_request_scope) {
    return requests_.update_where(org, is_draft(id), assign(col(&AppAccessRequest::status), AppAccessStatus::approved),
                                  assign(col(&AppAccessRequest::user_id), std::move(user_id)),
                                  assign(col(&AppAccessRequest::approved), std::move(approved)),
                                  assign(col(&AppAccessRequest::approved_role), std::move(approved_role)),
                                  assign(col(&AppAccessRequest::access_request_scope), std::move(access_request_scope)),
                                  assign(col(&AppAccessRequest::updated_at), Timestamp::now())) > 0;
  }

  bool update_denial(OrgId org, const Uuid& id, std::string user_id) {
    return requests_.update_where(org, is_draft(id), assign(col(&AppAccessRequest::status), AppAccessStatus::denied),
                                  assign(col(&AppAccessRequest::user_id), std::move(user_id)),
                                  assign(col(&AppAccessRequest::updated_at), Timestamp::now())) > 0;
  }

  bool update_failure(OrgId org, const Uuid& id, std::string error_message) {
    return requests_.update_where(org, is_draft(id), assign(col(&AppAccessRequest::status), AppAccessStatus::failed),
                                  assign(col(&AppAccessRequest::error_message), std::move(error_message)),
                                  assign(col(&AppAccessRequest::updated_at), Timestamp::now())) > 0;
  }

  /// The request whose approval minted `scope` (token exchange for the app).
  std::optional<AppAccessRequest> get_by_access_request_scope(OrgId org, std::string_view scope) {
    return detail::first(requests_.list(org, col(&AppAccessRequest::access_request_scope) == scope, limit(1)));
  }

  /// Marks drafts past their expiry as expired; returns how many.
  std::int64_t expire_drafts(OrgId org, Timestamp now) {
    return requests_.update_where(
        org, col(&AppAccessRequest::status) == AppAccessStatus::draft && col(&AppAccessRequest::expires_at) < now,
        assign(col(&AppAccessRequest::status), AppAccessStatus::expired),
        assign(col(&AppAccessRequest::updated_at), now));
  }

 private:
  static auto is_draft(const Uuid& id) {
    return col(&AppAccessRequest::id) == id && col(&AppAccessRequest::status) == AppAccessStatus::draft;
  }
  tenantry::Repository<AppAccessRequest, D> requests_;
};

// ---- ModelRepository: download_requests, api_model_aliases, model_metadata --------------------

template <class D>
class ModelRepository {
 public:
  explicit ModelRepository(ConnectionOf<D>& db) : downloads_(db), aliases_(db), metadata_(db) {}

  // -- downloads

  void create_download_request(OrgId org, DownloadRequest& request) {
    detail::stamp_new(request);
    downloads_.insert(org, request);
  }
  std::optional<DownloadRequest> get_download_request(OrgId org, const Uuid& id) { return downloads_.find(org, id); }

  /// Progress reported by the downloader; false when the org has no such request.
  bool update_download_progress(OrgId org, const Uuid& id, std::int64_t downloaded_bytes,
                                std::optional<std::int64_t> total_bytes) {
    return downloads_.update_where(org, col(&DownloadRequest::id) == id,
                                   assign(col(&DownloadRequest::downloaded_bytes), downloaded_bytes),
                                   assign(col(&DownloadRequest::total_bytes), total_bytes),
                                   assign(col(&DownloadRequest::updated_at), Timestamp::now())) > 0;
  }

  /// Ends a download as completed or as an error (with its message).
  bool finish_download_request(OrgId org, const Uuid& id, DownloadStatus status, std::optional<std::string> error) {
    return downloads_.update_where(org, col(&DownloadRequest::id) == id, assign(col(&DownloadRequest::status), status),
                                   assign(col(&DownloadRequest::error), std::move(error)),
                                   assign(col(&DownloadRequest::updated_at), Timestamp::now())) > 0;
  }

  /// The downloads page, newest first.
  Page<DownloadRequest> list_download_requests(OrgId org, std::int64_t page, std::int64_t per_page) {
    const detail::Paging p(page, per_page);
    return {downloads_.list(org, order_by(&DownloadRequest::created_at).desc(), p.limit(), p.offset()),
            downloads_.count(org), p.page, p.per_page};
  }

  /// The downloads page by keyset, newest first: up to `n` requests after `last` (the previous
  /// page's last row; none: the first page). The database seeks to `last` in (created_at, id)
  /// instead of counting the rows before it, so page 1000 costs what page 1 does, and a request
  /// created meanwhile does not shift the pages. A `last` of another org pages this org's rows.
  std::vector<DownloadRequest> list_download_requests_after(OrgId org, const std::optional<DownloadRequest>& last,
                                                            std::int64_t n) {
    const auto newest = order_by(&DownloadRequest::created_at).desc();
    const auto then_id = order_by(&DownloadRequest::id).desc();  // the key: "after" is exact
    const auto page = limit(std::clamp<std::int64_t>(n, 1, 100));
    if (last) return downloads_.list(org, newest, then_id, tenantry::after(*last), page);
    return downloads_.list(org, newest, then_id, page);
  }

  std::vector<DownloadRequest> find_download_request_by_repo_filename(OrgId org, std::string_view repo,
                                                                      std::string_view filename) {
    return downloads_.list(org, col(&DownloadRequest::repo) == repo && col(&DownloadRequest::filename) == filename,
                           order_by(&DownloadRequest::created_at).desc());
  }

  // -- remote API aliases

  /// Throws UniqueViolation when the org already uses the name or the prefix.
  void create_api_model_alias(OrgId org, ApiModelAlias& alias) {
    detail::stamp_new(alias);
    aliases_.insert(org, alias);
  }
  std::optional<ApiModelAlias> get_api_model_alias(OrgId org, const Uuid& id) { return aliases_.find(org, id); }
  std::optional<ApiModelAlias> get_api_model_alias_by_name(OrgId org, std::string_view name) {
    return detail::first(aliases_.list(org, col(&ApiModelAlias::name) == name, limit(1)));
  }
  std::vector<ApiModelAlias> list_api_model_aliases(OrgId org) {
    return aliases_.list(org, order_by(&ApiModelAlias::name));
  }

  /// Writes every column of `alias` (as read, then edited) except its id and org.
  bool update_api_model_alias(OrgId org, ApiModelAlias& alias) {
    alias.updated_at = Timestamp::now();
    return aliases_.update(org, alias);
  }
  bool delete_api_model_alias(OrgId org, const Uuid& id) { return aliases_.erase(org, id); }

  /// Whether another alias of the org already routes `prefix` (for validating a create/edit).
  bool check_prefix_exists(OrgId org, std::string_view prefix, std::optional<Uuid> except = std::nullopt) {
    const auto same_prefix = col(&ApiModelAlias::prefix) == prefix;
    if (except) return aliases_.exists(org, same_prefix && col(&ApiModelAlias::id) != *except);
    return aliases_.exists(org, same_prefix);
  }

  // -- model metadata

  /// Inserts, or refreshes the extracted fields of, the metadata of one model (identified by
  /// source + repo/filename/snapshot or api_model_id). `row` receives the stored row.
  void upsert_model_metadata(OrgId org, ModelMetadata& row) {
    using M = ModelMetadata;
    detail::stamp_new(row);
    metadata_.upsert(org, row,
                     on_conflict(&M::org_id, &M::source, &M::repo, &M::filename, &M::snapshot, &M::api_model_id)
                         .update(only(&M::capabilities, &M::context_max_input_tokens, &M::context_max_output_tokens,
                                      &M::architecture, &M::chat_template, &M::extracted_at, &M::updated_at)));
  }
  std::optional<ModelMetadata> get_model_metadata_by_file(OrgId org, std::string_view repo, std::string_view filename,
                                                          std::string_view snapshot) {
    return detail::first(
        metadata_.list(org,
                       col(&ModelMetadata::source) == MetadataSource::model && col(&ModelMetadata::repo) == repo &&
                           col(&ModelMetadata::filename) == filename && col(&ModelMetadata::snapshot) == snapshot,
                       limit(1)));
  }
  std::optional<ModelMetadata> get_model_metadata_by_api_model(OrgId org, std::string_view api_model_id) {
    return detail::first(metadata_.list(
        org, col(&ModelMetadata::source) == MetadataSource::api && col(&ModelMetadata::api_model_id) == api_model_id,
        limit(1)));
  }
  std::vector<ModelMetadata> list_model_metadata(OrgId org) {
    return metadata_.list(org, order_by(&ModelMetadata::repo), order_by(&ModelMetadata::filename),
                          order_by(&ModelMetadata::api_model_id));
  }

 private:
  tenantry::Repository<DownloadRequest, D> downloads_;
  tenantry::Repository<ApiModelAlias, D> aliases_;
  tenantry::Repository<ModelMetadata, D> metadata_;
};

// ---- ToolsetRepository: app_toolset_configs, toolsets ------------------------------------------

template <class D>
class ToolsetRepository {
 public:
  explicit ToolsetRepository(ConnectionOf<D>& db) : configs_(db), toolsets_(db) {}

  // -- the org's toolset types (admin switch)

  /// Enables or disables a toolset type for the org: creates its config row on first use,
  /// otherwise updates it in place (keeping its id and created_at). Returns the stored row.
  AppToolsetConfig set_app_toolset_enabled(OrgId org, std::string toolset_type, bool enabled, std::string updated_by) {
    using C = AppToolsetConfig;
    C row{.toolset_type = std::move(toolset_type), .enabled = enabled, .updated_by = std::move(updated_by)};
    detail::stamp_new(row);
    configs_.upsert(
        org, row, on_conflict(&C::org_id, &C::toolset_type).update(only(&C::enabled, &C::updated_by, &C::updated_at)));
    return row;
  }
  std::optional<AppToolsetConfig> get_app_toolset_config(OrgId org, std::string_view toolset_type) {
    return detail::first(configs_.list(org, col(&AppToolsetConfig::toolset_type) == toolset_type, limit(1)));
  }
  std::vector<AppToolsetConfig> list_app_toolset_configs(OrgId org) {
    return configs_.list(org, order_by(&AppToolsetConfig::toolset_type));
  }

  // -- users' toolset instances

  /// Throws UniqueViolation when the user already has a toolset with this slug in the org.
  void create_toolset(OrgId org, Toolset& toolset) {
    detail::stamp_new(toolset);
    toolsets_.insert(org, toolset);
  }
  std::optional<Toolset> get_toolset(OrgId org, const Uuid& id) { return toolsets_.find(org, id); }
  std::optional<Toolset> get_toolset_by_slug(OrgId org, std::string_view user_id, std::string_view slug) {
    return detail::first(
        toolsets_.list(org, col(&Toolset::user_id) == user_id && col(&Toolset::slug) == slug, limit(1)));
  }
  std::vector<Toolset> list_toolsets(OrgId org, std::string_view user_id) {
    return toolsets_.list(org, col(&Toolset::user_id) == user_id, order_by(&Toolset::slug));
  }
  std::vector<Toolset> list_toolsets_by_toolset_type(OrgId org, std::string_view toolset_type) {
    return toolsets_.list(org, col(&Toolset::toolset_type) == toolset_type, order_by(&Toolset::user_id),
                          order_by(&Toolset::slug));
  }
  /// Writes every column of `toolset` (as read, then edited) except its id and org.
  bool update_toolset(OrgId org, Toolset& toolset) {
    toolset.updated_at = Timestamp::now();
    return toolsets_.update(org, toolset);
  }
  bool delete_toolset(OrgId org, const Uuid& id) { return toolsets_.erase(org, id); }

 private:
  tenantry::Repository<AppToolsetConfig, D> configs_;
  tenantry::Repository<Toolset, D> toolsets_;
};

// ---- UserAliasRepository: user_aliases ---------------------------------------------------------

template <class D>
class UserAliasRepository {
 public:
  explicit UserAliasRepository(ConnectionOf<D>& db) : aliases_(db) {}

  /// Creates the org's alias `alias.alias`, or replaces its model and parameters when the org
  /// already has it (keeping its id and created_at). `alias` receives the stored row.
  void set_user_alias(OrgId org, UserAlias& alias) {
    using A = UserAlias;
    detail::stamp_new(alias);
    aliases_.upsert(org, alias,
                    on_conflict(&A::org_id, &A::alias)
                        .update(only(&A::repo, &A::filename, &A::snapshot, &A::request_params, &A::context_params,
                                     &A::updated_at)));
  }
  std::optional<UserAlias> get_user_alias_by_name(OrgId org, std::string_view alias) {
    return detail::first(aliases_.list(org, col(&UserAlias::alias) == alias, limit(1)));
  }
  std::optional<UserAlias> get_user_alias_by_id(OrgId org, const Uuid& id) { return aliases_.find(org, id); }
  std::vector<UserAlias> list_user_aliases(OrgId org) { return aliases_.list(org, order_by(&UserAlias::alias)); }
  bool delete_user_alias(OrgId org, const Uuid& id) { return aliases_.erase(org, id); }

 private:
  tenantry::Repository<UserAlias, D> aliases_;
};

// ---- SessionRepository: tower_sessions (the HTTP session store) --------------------------------

template <class D>
class SessionRepository {
 public:
  explicit SessionRepository(ConnectionOf<D>& db) : sessions_(db) {}

  /// Creates or overwrites the session `record.id` of this org. A session id that belongs to
  /// another org is never overwritten: that throws UniqueViolation and writes nothing.
  void save(OrgId org, SessionRecord& record) { sessions_.upsert(org, record, on_conflict(&SessionRecord::id)); }

  /// The org's session `id`, unless it has expired.
  std::optional<SessionRecord> load(OrgId org, const std::string& id, Timestamp now = Timestamp::now()) {
    return detail::first(
        sessions_.list(org, col(&SessionRecord::id) == id && col(&SessionRecord::expiry_date) > now, limit(1)));
  }

  bool delete_session(OrgId org, const std::string& id) { return sessions_.erase(org, id); }

  /// Logs a user out of every session in the org; returns how many sessions ended.
  std::int64_t clear_sessions_for_user(OrgId org, std::string_view user_id) {
    return sessions_.erase_where(org, col(&SessionRecord::user_id) == user_id);
  }
  std::int64_t count_sessions_for_user(OrgId org, std::string_view user_id) {
    return sessions_.count(org, col(&SessionRecord::user_id) == user_id);
  }

  /// Removes the org's expired sessions; returns how many.
  std::int64_t delete_expired(OrgId org, Timestamp now = Timestamp::now()) {
    return sessions_.erase_where(org, col(&SessionRecord::expiry_date) <= now);
  }

 private:
  tenantry::Repository<SessionRecord, D> sessions_;
};

// ---- DbService: every repository, over one connection (or two: sessions apart) -------------

/// The app's whole data layer, as the seeds' DbService super-trait bundles the repository
/// traits. Cheap to construct: repositories hold only the connection pointer.
///
/// The session store may live in a database of its own (the seeds' SESSION_DB_URL): then
/// `sessions_db` is that connection and every other repository uses `db`.
template <class D>
struct DbService {
  explicit DbService(ConnectionOf<D>& db) : DbService(db, db) {}
  DbService(ConnectionOf<D>& db, ConnectionOf<D>& sessions_db)
      : orgs(db),
        tokens(db),
        access(db),
        app_access(db),
        models(db),
        toolsets(db),
        aliases(db),
        sessions(sessions_db) {}

  OrgRepository<D> orgs;
  TokenRepository<D> tokens;
  AccessRepository<D> access;
  AccessRequestRepository<D> app_access;
  ModelRepository<D> models;
  ToolsetRepository<D> toolsets;
  UserAliasRepository<D> aliases;
  SessionRepository<D> sessions;
};

}  // namespace app
