// tenantry/repository.hpp - typed, org-scoped data access for one entity.
//
//   tenantry::sqlite::Connection db{"app.db"};
//   tenantry::Repository<ApiToken, tenantry::SqliteDialect> tokens{db};
//   tokens.insert(org, token);
//   std::optional<ApiToken> t = tokens.find(org, token.id);
//   auto mine = tokens.list(org, col(&ApiToken::user_id) == uid, order_by(&ApiToken::created_at).desc(), limit(50));
//   tokens.upsert(org, token, on_conflict(&ApiToken::org_id, &ApiToken::token_prefix));
//   tokens.set(org, token.id, &ApiToken::status, TokenStatus::revoked);
//   tokens.erase(org, token.id);
//
// The org rule, enforced by overload set and static_assert:
//   * an entity with an org id field is org-scoped: every operation takes its org type
//     (org_type = org_id_of<E>: OrgId, TextOrgId or IntOrgId; another org type does not
//     compile) first, and every statement it runs filters by (or writes) that org. The org-less
//     forms do not compile.
//   * a schema-scoped entity (scope = tenantry::per_org_schema) takes the org the same way; its
//     statements have no org column to filter by and run in the org's schema (PostgreSQL with
//     pg::Options::org_schemas only; otherwise a compile error or UsageError).
//   * an entity without one is global: its operations take no org; the org forms do not compile.
//   * a write whose row carries a different org than the call is refused with OrgMismatch before
//     anything is sent; a row whose org field is nil takes the call's org. The org column is never
//     in an UPDATE's SET list, so no operation can move a row to another org.
//   * an entity scoped through its parent (scope = tenantry::through<&T::fk>) takes the org like
//     an org-scoped one, and reaches only rows whose parent is the org's. A write whose row names
//     a parent that is not the org's (another org's, or none) writes nothing and throws
//     OrgMismatch (OrgMismatch::ParentNotInOrg): insert, insert_many, upsert, and an update,
//     set or update_where that moves the foreign key. The check is in the statement itself
//     (sql_writer.hpp); only the choice of error reads afterwards.
//   * an entity whose org field is a std::optional<OrgId> also has rows of no org (platform rows,
//     types.hpp PlatformScope). Its org calls are the ones above and reach only that org's rows;
//     a row given to one with no org (std::nullopt) is an OrgMismatch, like one of another org.
//     The same operations with tenantry::platform in place of the org reach only the rows of no
//     org (`org IS NULL`), and a row given to them must have no org (else OrgMismatch; an engaged
//     nil org counts as none). Passing tenantry::platform for a plain OrgId entity does not
//     compile.
//
// Each call is described as a stmt::Statement (statements.hpp), whose SQL is written once per
// (description, dialect) and interned (statement_cache.hpp); the call then looks up the
// connection's cached prepared statement by the interned id, binds, and steps.
#pragma once

#include "tenantry/conflict.hpp"
#include "tenantry/entity.hpp"
#include "tenantry/error.hpp"
#include "tenantry/fwd.hpp"
#include "tenantry/org_context.hpp"
#include "tenantry/query.hpp"
#include "tenantry/reflect.hpp"
#include "tenantry/schema.hpp"
#include "tenantry/sql_registry.hpp"
#include "tenantry/statement_cache.hpp"
#include "tenantry/statement_lease.hpp"
#include "tenantry/statements.hpp"
#include "tenantry/types.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <ranges>
#include <string>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tenantry {

// ---- key types -------------------------------------------------------------------------------

namespace detail {
template <class T, std::size_t... K>
auto key_tuple_type(std::index_sequence<K...>) -> std::tuple<reflect::field_type<K, T>...>;

template <class T>
consteval auto key_field_indexes_of() {
  constexpr auto pk = entity<T>::primary_key.columns;
  constexpr std::size_t org = org_field<T>;
  constexpr std::size_t n = [&] {
    std::size_t count = 0;
    for (std::size_t k = 0; k < pk.size; ++k) count += pk.index[k] != org;
    return count;
  }();
  std::array<std::size_t, n> out{};
  std::size_t j = 0;
  for (std::size_t k = 0; k < pk.size; ++k)
    if (pk.index[k] != org) out[j++] = pk.index[k];
  return out;
}

template <class T>
consteval auto key_field_indexes() {
  // Without an entity declaration there is no key: table_info<T>()'s static_assert says so, once,
  // instead of an "incomplete type" here.
  if constexpr (!declared_entity<T>) return std::array<std::size_t, 1>{};
  else return key_field_indexes_of<T>();
}

template <class T>
struct key_of {
  static constexpr auto fields = key_field_indexes<T>();
  static_assert(fields.size() > 0, "tenantry: the primary key must have a column besides the org id");
  template <std::size_t... K>
  static auto make(std::index_sequence<K...>) -> std::conditional_t<
      sizeof...(K) == 1, reflect::field_type<fields[0], T>, std::tuple<reflect::field_type<fields[K], T>...>>;
  using type = decltype(make(std::make_index_sequence<fields.size()>{}));
};
}  // namespace detail

/// The value that identifies a row within its org: the primary key's type (or a std::tuple for a
/// composite key), without the org column.
template <class T>
using key_t = typename detail::key_of<T>::type;

// ---- what the repositories share -------------------------------------------------------------
// The parts of an operation that do not depend on the entity type, compiled once per program (or
// once per connection type) instead of once per entity: the statement runner's lease and reset,
// and the cold paths that build error messages.

namespace detail {

/// SQLite names the columns of a UNIQUE violation, not the constraint: find the declared
/// constraint of `t` with exactly those columns.
[[gnu::noinline]] inline void complete_violation(ConstraintViolation& e, const TableInfo& t) {
  if (e.table().empty()) e.set_table(t.name);
  if (!e.constraint().empty() || e.columns().empty() || e.table() != t.name) return;
  const auto matches = [&](const std::vector<std::size_t>& cols) {
    if (cols.size() != e.columns().size()) return false;
    for (auto i : cols)
      if (std::find(e.columns().begin(), e.columns().end(), t.columns[i].name) == e.columns().end()) return false;
    return true;
  };
  if (dynamic_cast<UniqueViolation*>(&e) != nullptr) {
    if (matches(t.primary_key)) return e.set_constraint(t.primary_key_name());
    for (const auto& u : t.uniques)
      if (matches(u.columns)) return e.set_constraint(u.name);
    for (const auto& ix : t.indexes)
      if (ix.unique && matches(ix.columns)) return e.set_constraint(ix.name);
  }
}

/// Column i of t cannot be set by an UPDATE: the org column, or a write-once column.
[[noreturn, gnu::cold, gnu::noinline]] inline void refuse_setting(const TableInfo& t, std::size_t i) {
  if (i == t.org_column) throw UsageError("tenantry: the org column of '" + t.name + "' cannot be updated");
  throw UsageError("tenantry: column '" + t.columns[i].name + "' of '" + t.name + "' is write-once");
}

[[noreturn, gnu::cold, gnu::noinline]] inline void refuse_nil_org(const TableInfo& t) {
  throw UsageError("tenantry: nil org id passed to a repository of '" + t.name + "'");
}

[[noreturn, gnu::cold, gnu::noinline]] inline void refuse_row_org(const TableInfo& t, const std::string& org,
                                                                  const std::string& row_org) {
  throw OrgMismatch(t.name, org, row_org);
}

// The conflicting row belongs to another org; the guarded DO UPDATE refused to touch it.
[[noreturn, gnu::cold, gnu::noinline]] inline void conflict_with_another_org(const TableInfo& t, const std::size_t* target,
                                                                             std::size_t n) {
  std::string name = t.primary_key_name();
  for (const auto& u : t.uniques)
    if (u.columns.size() == n && std::is_permutation(u.columns.begin(), u.columns.end(), target)) name = u.name;
  throw UniqueViolation("tenantry: upsert into '" + t.name + "' conflicts with a row of another org on " + name +
                            "; nothing was written",
                        "", t.name, name);
}

/// One statement's use by a repository call: leased while it runs (statement_lease.hpp) and
/// reset on scope exit. Repository<E, D>::Run adds the entity's naming of constraint errors.
template <class Conn>
class StatementRun {
 public:
  using Stmt = typename Conn::statement;
  [[gnu::always_inline]] StatementRun(Conn& c, const Sql& sql) : s_(&c.prepare(sql)) { StatementLease::acquire(s_); }
  [[gnu::always_inline]] ~StatementRun() {
    if (s_) {
      s_->reset();
      StatementLease::release(s_);
    }
  }
  StatementRun(StatementRun&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  StatementRun(const StatementRun&) = delete;
  StatementRun& operator=(const StatementRun&) = delete;
  StatementRun& operator=(StatementRun&&) = delete;
  Stmt& operator*() { return *s_; }
  Stmt* operator->() { return s_; }

 protected:
  Stmt* s_;
};

}  // namespace detail

// ---- the repository --------------------------------------------------------------------------

namespace detail {
/// batch.hpp's access to a repository's statements, bindings and readers, split so that a
/// batch can queue a statement in a pipeline and read its result later.
template <class E, class D, class Conn>
struct BatchParts;
}  // namespace detail

/// Repository<E, D> works on the connection type of dialect D's driver; Repository<E> (AnyDialect)
/// works on a tenantry::Database chosen at run time (database.hpp).
template <class E, class D = AnyDialect, class Conn = typename connection_for<D>::type>
class Repository {
 public:
  using entity_type = E;
  using dialect = D;
  using connection_type = Conn;
  using statement_type = typename Conn::statement;
  using key_type = key_t<E>;
  /// The org type every org-scoped call takes: org_id_of<E> (OrgId, TextOrgId or IntOrgId).
  using org_type = org_id_of<E>;
  /// True when the calls take an org: E has an org column, or is scoped by its schema.
  static constexpr bool is_org_scoped = takes_org<E>;
  /// True when E's org column is optional: the tenantry::platform forms below are available.
  static constexpr bool has_platform_rows = org_column_optional<E>;
  template <class E2, class D2, class C2>
  friend struct detail::BatchParts;
  static_assert(!schema_scoped<E> || D::is_postgres,
                "tenantry: an entity with scope = tenantry::per_org_schema lives in per-org schemas, which only "
                "PostgreSQL has (OrgSchemas with pg::Options::org_schemas)");

  explicit Repository(Conn& conn) : conn_(&conn) { (void)table(); }

  static const TableInfo& table() { return table_info<E>(); }
  Conn& connection() const noexcept { return *conn_; }

  // ---- org-scoped operations ---------------------------------------------------------------

  /// Inserts `row` into org's rows; generated columns (identity, default_now/uuid) are written
  /// back into `row`, and a nil org field takes `org`. Throws OrgMismatch, constraint violations.
  void insert(org_type org, E& row) {
    static_assert(is_org_scoped, "tenantry: this entity is global (it has no OrgId field): call insert(row)");
    require_org(org);
    adopt_org(org, row);
    in_org_one_write(org, [&] { insert_impl(column_org(org), row); });
  }
  /// Inserts a copy of `row` and returns it as stored (with generated columns).
  E insert(org_type org, const E& row) {
    E copy = row;
    insert(org, copy);
    return copy;
  }
  E insert(org_type org, E&& row) {
    insert(org, row);
    return std::move(row);
  }

  /// Inserts every row of `rows` in one transaction (a savepoint when one is already open): all
  /// or nothing. Each row's org is checked (or filled) first, so an OrgMismatch anywhere writes
  /// nothing. Generated columns are written back into the rows.
  template <std::ranges::range R>
    requires std::is_same_v<std::ranges::range_value_t<R>, E>
  void insert_many(org_type org, R& rows) {
    static_assert(is_org_scoped, "tenantry: this entity is global (it has no OrgId field): call insert_many(rows)");
    require_org(org);
    for (E& row : rows) adopt_org(org, row);
    if constexpr (D::is_postgres && !parent_scoped<E>) {
      std::vector<E*> all = row_pointers(rows);
      // One batch is one statement: sent with its org context in one round trip where the
      // connection can (in_org_statement), atomic on its own outside a transaction.
      if (all.size() <= max_unnest_rows) return in_org_one_statement(org, [&] { insert_unnest_batches(all); });
      in_org(org, [&] { insert_unnest_batches(all); });
    } else {
      in_org(org, [&] { insert_many_impl(column_org(org), rows); });
    }
  }

  /// The row of `org` with key `key`, if any.
  std::optional<E> find(org_type org, const key_type& key) {
    static_assert(is_org_scoped, "tenantry: this entity is global (it has no OrgId field): call find(key)");
    require_org(org);
    return in_org_one_statement(org, [&] { return find_impl(column_org(org), key); });
  }

  /// The rows of `org` whose keys are among `keys` (any range of keys), each row once, in no
  /// particular order; a key of another org's row finds nothing, as find does. PostgreSQL: one
  /// statement and one round trip (`key = ANY($2::T[])`); SQLite: one find per distinct key.
  template <std::ranges::input_range K>
    requires std::is_convertible_v<std::ranges::range_reference_t<const K&>, key_type>
  std::vector<E> find_many(org_type org, const K& keys) {
    static_assert(is_org_scoped, "tenantry: this entity is global (it has no OrgId field): call find_many(keys)");
    require_org(org);
    return in_org_one_statement(org, [&] { return find_many_impl(column_org(org), keys); });
  }

  /// Rows of `org`, filtered, ordered and paged by any of: a predicate (col(...) == v ...),
  /// order_by(...), limit(n), offset(n).
  template <class... Args>
  std::vector<E> list(org_type org, const Args&... args) {
    static_assert(is_org_scoped, "tenantry: this entity is global (it has no OrgId field): call list(...)");
    require_org(org);
    return in_org_one_statement(org, [&] { return list_impl(&org, args...); });
  }

  template <class... Args>
  std::int64_t count(org_type org, const Args&... pred) {
    static_assert(is_org_scoped, "tenantry: this entity is global (it has no OrgId field): call count(...)");
    require_org(org);
    return in_org_one_statement(org, [&] { return count_impl(&org, pred...); });
  }

  template <class... Args>
  bool exists(org_type org, const Args&... pred) {
    static_assert(is_org_scoped, "tenantry: this entity is global (it has no OrgId field): call exists(...)");
    require_org(org);
    return in_org_one_statement(org, [&] { return exists_impl(&org, pred...); });
  }

  /// Writes every non-key column of `row` to org's row with the same key. False when org has no
  /// such row (nothing is written). Throws OrgMismatch when `row` carries another org.
  bool update(org_type org, const E& row) {
    static_assert(is_org_scoped, "tenantry: this entity is global (it has no OrgId field): call update(row)");
    require_org(org);
    check_org(org, row);
    return in_org_one_write(org, [&] { return update_impl(column_org(org), row, nullptr); });
  }
  /// Writes only the selected columns: update(org, row, only(&T::a, &T::b)).
  bool update(org_type org, const E& row, const ColumnSelection<E>& cols) {
    static_assert(is_org_scoped, "tenantry: this entity is global (it has no OrgId field): call update(row, cols)");
    require_org(org);
    check_org(org, row);
    return in_org_one_write(org, [&] { return update_impl(column_org(org), row, &cols); });
  }

  /// Sets one column of org's row `key`: set(org, id, &T::status, Status::revoked).
  template <class M, class V>
  bool set(org_type org, const key_type& key, M E::*member, V&& value) {
    static_assert(is_org_scoped, "tenantry: this entity is global (it has no OrgId field): call set(key, member, value)");
    require_org(org);
    static_assert(!detail::is_org_type<M>, "tenantry: the org column cannot be changed");
    return in_org_one_write(org, [&] { return set_impl(column_org(org), key, member, M(std::forward<V>(value))); });
  }

  /// INSERT ... ON CONFLICT (target) DO UPDATE. The row as stored afterwards (including the
  /// existing row's key and generated columns on conflict) is written back into `row`.
  void upsert(org_type org, E& row, const ConflictTarget<E>& target) {
    static_assert(is_org_scoped, "tenantry: this entity is global (it has no OrgId field): call upsert(row, target)");
    require_org(org);
    adopt_org(org, row);
    in_org_one_write(org, [&] { upsert_impl(column_org(org), row, target); });
  }
  E upsert(org_type org, const E& row, const ConflictTarget<E>& target) {
    E copy = row;
    upsert(org, copy, target);
    return copy;
  }

  /// The same INSERT ... ON CONFLICT (target) DO UPDATE without reading the stored row back
  /// (no RETURNING, nothing decoded): for a caller that does not need the existing row's key or
  /// the columns the database generates. A nil org field of `row` is written as `org`; another
  /// org is OrgMismatch. A conflict with a row of another org writes nothing and throws
  /// UniqueViolation, as upsert does.
  void put(org_type org, const E& row, const ConflictTarget<E>& target) {
    static_assert(is_org_scoped, "tenantry: this entity is global (it has no OrgId field): call put(row, target)");
    require_org(org);
    check_org(org, row);
    in_org_one_write(org, [&] { put_impl(column_org(org), row, target); });
  }

  /// Deletes org's row `key`. False when there was none.
  bool erase(org_type org, const key_type& key) {
    static_assert(is_org_scoped, "tenantry: this entity is global (it has no OrgId field): call erase(key)");
    require_org(org);
    return in_org_one_statement(org, [&] { return erase_impl(column_org(org), key); });
  }

  /// Deletes org's rows matching `pred`; returns how many. Rows of other orgs are never touched.
  template <predicate P>
  std::int64_t erase_where(org_type org, const P& pred) {
    static_assert(is_org_scoped, "tenantry: this entity is global (it has no OrgId field): call erase_where(pred)");
    require_org(org);
    return in_org_one_statement(org, [&] { return erase_where_impl(&org, pred); });
  }

  /// Sets columns on org's rows matching `pred`: update_where(org, pred, assign(col(&T::a), v)...).
  template <predicate P, class... As>
  std::int64_t update_where(org_type org, const P& pred, const As&... assignments) {
    static_assert(is_org_scoped, "tenantry: this entity is global (it has no OrgId field): call update_where(pred, ...)");
    require_org(org);
    return in_org_one_write(org, [&] { return update_where_impl(&org, pred, assignments...); });
  }

  // ---- the platform scope (entities whose org column is optional) ----------------------------
  // The org-scoped operations above with tenantry::platform in place of the org: each reaches
  // only the rows of no org. Rows given to them must have no org (std::nullopt).

  void insert(PlatformScope, E& row) {
    require_platform();
    adopt_platform(row);
    in_platform([&] { insert_impl(nullptr, row); });
  }
  E insert(PlatformScope p, const E& row) {
    E copy = row;
    insert(p, copy);
    return copy;
  }
  E insert(PlatformScope p, E&& row) {
    insert(p, row);
    return std::move(row);
  }
  template <std::ranges::range R>
    requires std::is_same_v<std::ranges::range_value_t<R>, E>
  void insert_many(PlatformScope, R& rows) {
    require_platform();
    for (E& row : rows) adopt_platform(row);
    in_platform([&] { insert_many_impl(nullptr, rows); });
  }
  std::optional<E> find(PlatformScope, const key_type& key) {
    require_platform();
    return in_platform([&] { return find_impl(nullptr, key); });
  }
  /// The rows of no org whose keys are among `keys`; a key of an org's row finds nothing.
  template <std::ranges::input_range K>
    requires std::is_convertible_v<std::ranges::range_reference_t<const K&>, key_type>
  std::vector<E> find_many(PlatformScope, const K& keys) {
    require_platform();
    return in_platform([&] { return find_many_impl(nullptr, keys); });
  }
  template <class... Args>
  std::vector<E> list(PlatformScope, const Args&... args) {
    require_platform<Args...>();
    return in_platform([&] { return list_impl(nullptr, args...); });
  }
  template <class... Args>
  std::int64_t count(PlatformScope, const Args&... pred) {
    require_platform<Args...>();
    return in_platform([&] { return count_impl(nullptr, pred...); });
  }
  template <class... Args>
  bool exists(PlatformScope, const Args&... pred) {
    require_platform<Args...>();
    return in_platform([&] { return exists_impl(nullptr, pred...); });
  }
  bool update(PlatformScope, const E& row) {
    require_platform();
    check_platform(row);
    return in_platform([&] { return update_impl(nullptr, row, nullptr); });
  }
  bool update(PlatformScope, const E& row, const ColumnSelection<E>& cols) {
    require_platform();
    check_platform(row);
    return in_platform([&] { return update_impl(nullptr, row, &cols); });
  }
  template <class M, class V>
  bool set(PlatformScope, const key_type& key, M E::*member, V&& value) {
    require_platform();
    static_assert(!detail::is_org_type<M>, "tenantry: the org column cannot be changed");
    return in_platform([&] { return set_impl(nullptr, key, member, M(std::forward<V>(value))); });
  }
  void upsert(PlatformScope, E& row, const ConflictTarget<E>& target) {
    require_platform();
    adopt_platform(row);
    in_platform([&] { upsert_impl(nullptr, row, target); });
  }
  E upsert(PlatformScope p, const E& row, const ConflictTarget<E>& target) {
    E copy = row;
    upsert(p, copy, target);
    return copy;
  }
  /// put(org, row, target) for a row of no org: a conflict with an org's row writes nothing and
  /// throws UniqueViolation.
  void put(PlatformScope, const E& row, const ConflictTarget<E>& target) {
    require_platform();
    check_platform(row);
    in_platform([&] { put_impl(nullptr, row, target); });
  }
  bool erase(PlatformScope, const key_type& key) {
    require_platform();
    return in_platform([&] { return erase_impl(nullptr, key); });
  }
  template <predicate P>
  std::int64_t erase_where(PlatformScope, const P& pred) {
    require_platform<P>();
    return in_platform([&] { return erase_where_impl(nullptr, pred); });
  }
  template <predicate P, class... As>
  std::int64_t update_where(PlatformScope, const P& pred, const As&... assignments) {
    require_platform<P>();
    return in_platform([&] { return update_where_impl(nullptr, pred, assignments...); });
  }

  // ---- global operations (entities without an OrgId field) ---------------------------------
  // Each is a template so that the static_assert fires only when an org-scoped entity calls it,
  // with a message that says why.

  template <class R>
    requires std::is_same_v<std::remove_cvref_t<R>, E>
  auto insert(R&& row) {
    static_assert(!is_org_scoped, "tenantry: this entity is org-scoped: call insert(org, row); a write without an org could land in any tenant");
    if constexpr (std::is_same_v<R, E&>) {
      insert_impl(nullptr, row);
    } else {
      E copy = std::forward<R>(row);
      insert_impl(nullptr, copy);
      return copy;
    }
  }

  template <std::ranges::range R>
    requires std::is_same_v<std::ranges::range_value_t<R>, E>
  void insert_many(R& rows) {
    static_assert(!is_org_scoped, "tenantry: this entity is org-scoped: call insert_many(org, rows)");
    insert_many_impl(nullptr, rows);
  }

  template <class K>
    requires std::is_convertible_v<const K&, key_type> && (!org_id_type<K>) && (!std::is_same_v<K, PlatformScope>)
  std::optional<E> find(const K& key) {
    static_assert(!is_org_scoped, "tenantry: this entity is org-scoped: call find(org, key); a read without an org would search every tenant");
    return find_impl(nullptr, key_type(key));
  }

  template <std::ranges::input_range K>
    requires std::is_convertible_v<std::ranges::range_reference_t<const K&>, key_type>
  std::vector<E> find_many(const K& keys) {
    static_assert(!is_org_scoped, "tenantry: this entity is org-scoped: call find_many(org, keys); a read without an org would search every tenant");
    return find_many_impl(nullptr, keys);
  }

  template <class... Args>
    requires((!org_id_type<Args> && !std::is_same_v<Args, PlatformScope>) && ...)
  std::vector<E> list(const Args&... args) {
    static_assert(!is_org_scoped, "tenantry: this entity is org-scoped: call list(org, ...); a read without an org would return every tenant's rows");
    return list_impl(nullptr, args...);
  }

  template <class... Args>
    requires((!org_id_type<Args> && !std::is_same_v<Args, PlatformScope>) && ...)
  std::int64_t count(const Args&... pred) {
    static_assert(!is_org_scoped, "tenantry: this entity is org-scoped: call count(org, ...)");
    return count_impl(nullptr, pred...);
  }

  template <class... Args>
    requires((!org_id_type<Args> && !std::is_same_v<Args, PlatformScope>) && ...)
  bool exists(const Args&... pred) {
    static_assert(!is_org_scoped, "tenantry: this entity is org-scoped: call exists(org, ...)");
    return exists_impl(nullptr, pred...);
  }

  template <class R>
    requires std::is_same_v<std::remove_cvref_t<R>, E>
  bool update(const R& row) {
    static_assert(!is_org_scoped, "tenantry: this entity is org-scoped: call update(org, row)");
    return update_impl(nullptr, row, nullptr);
  }
  template <class R>
    requires std::is_same_v<std::remove_cvref_t<R>, E>
  bool update(const R& row, const ColumnSelection<E>& cols) {
    static_assert(!is_org_scoped, "tenantry: this entity is org-scoped: call update(org, row, cols)");
    return update_impl(nullptr, row, &cols);
  }

  template <class K, class M, class V>
    requires std::is_convertible_v<const K&, key_type> && (!org_id_type<K>) && (!std::is_same_v<K, PlatformScope>)
  bool set(const K& key, M E::*member, V&& value) {
    static_assert(!is_org_scoped, "tenantry: this entity is org-scoped: call set(org, key, member, value)");
    return set_impl(nullptr, key_type(key), member, M(std::forward<V>(value)));
  }

  template <class R>
    requires std::is_same_v<std::remove_cvref_t<R>, E>
  void upsert(R& row, const ConflictTarget<E>& target) {
    static_assert(!is_org_scoped, "tenantry: this entity is org-scoped: call upsert(org, row, target)");
    upsert_impl(nullptr, row, target);
  }

  template <class R>
    requires std::is_same_v<std::remove_cvref_t<R>, E>
  void put(const R& row, const ConflictTarget<E>& target) {
    static_assert(!is_org_scoped, "tenantry: this entity is org-scoped: call put(org, row, target)");
    put_impl(nullptr, row, target);
  }

  template <class K>
    requires std::is_convertible_v<const K&, key_type> && (!org_id_type<K>) && (!std::is_same_v<K, PlatformScope>)
  bool erase(const K& key) {
    static_assert(!is_org_scoped, "tenantry: this entity is org-scoped: call erase(org, key)");
    return erase_impl(nullptr, key_type(key));
  }

  template <predicate P>
  std::int64_t erase_where(const P& pred) {
    static_assert(!is_org_scoped, "tenantry: this entity is org-scoped: call erase_where(org, pred)");
    return erase_where_impl(nullptr, pred);
  }

  template <predicate P, class... As>
  std::int64_t update_where(const P& pred, const As&... assignments) {
    static_assert(!is_org_scoped, "tenantry: this entity is org-scoped: call update_where(org, pred, ...)");
    return update_where_impl(nullptr, pred, assignments...);
  }

 private:
  using Stmt = statement_type;
  static constexpr std::size_t field_count = reflect::field_count<E>;
  using bind_fn = void (*)(Stmt&, int, const E&);
  using read_fn = void (*)(Stmt&, int, E&);

  // Per-field binders and readers, so a runtime list of column indexes binds without a switch.
  static constexpr auto binders = []<std::size_t... I>(std::index_sequence<I...>) {
    return std::array<bind_fn, sizeof...(I)>{
        +[](Stmt& s, int p, const E& e) { bind_value(s, p, boost::pfr::get<I>(e)); }...};
  }(std::make_index_sequence<field_count>{});
  static constexpr auto readers = []<std::size_t... I>(std::index_sequence<I...>) {
    return std::array<read_fn, sizeof...(I)>{+[](Stmt& s, int c, E& e) { read_value(s, c, boost::pfr::get<I>(e)); }...};
  }(std::make_index_sequence<field_count>{});

  // Statements with a fixed shape: described and looked up once per (E, D).
  struct FixedSql {
    Sql insert, find, update, erase;
    std::vector<std::size_t> insert_cols, generated_cols, update_cols, key_cols;
    bool insert_all = false;  // insert_cols is every field in order (no generated column)
  };
  static FixedSql make_fixed(bool platform) {
    const TableInfo& t = table_info<E>();
    const auto in_scope = [platform](stmt::Statement st) {
      st.platform = platform;
      return st;
    };
    FixedSql s;
    s.insert_cols = sql::insert_columns(t);
    s.insert_all = s.insert_cols.size() == field_count;
    for (std::size_t k = 0; k < s.insert_cols.size() && s.insert_all; ++k) s.insert_all = s.insert_cols[k] == k;
    s.generated_cols = sql::generated_columns(t);
    s.update_cols = sql::updatable_columns(t);
    s.key_cols = sql::key_columns(t);
    s.insert = cached_sql<D>(statements::insert<E>());
    s.find = cached_sql<D>(in_scope(statements::find<E>()));
    s.update = cached_sql<D>(in_scope(statements::update<E>(s.update_cols)));
    s.erase = cached_sql<D>(in_scope(statements::erase<E>()));
    return s;
  }
  static const FixedSql& fixed() {
    static const FixedSql f = make_fixed(false);
    return f;
  }
  /// fixed(), or its platform-scope twin when the call has no org (platform_call).
  static const FixedSql& fixed(const org_type* org) {
    if (!platform_call(org)) return fixed();
    static const FixedSql f = make_fixed(true);
    return f;
  }

  // Resets the statement on scope exit (detail::StatementRun) and names constraints the driver
  // could not.
  class Run : public detail::StatementRun<Conn> {
   public:
    [[gnu::always_inline]] Run(Conn& c, const Sql& sql) : detail::StatementRun<Conn>(c, sql) {}
    Run(Run&&) noexcept = default;
    [[gnu::always_inline]] ~Run() {}  // inline, as ~StatementRun: it resets and releases
    [[gnu::always_inline]] bool step() {
      try {
        return this->s_->step();
      } catch (ConstraintViolation& e) {
        detail::complete_violation(e, table());
        throw;
      }
    }
  };

  /// Columns no UPDATE may set: the org (rows never move between orgs) and write-once columns.
  static void check_settable(std::size_t i) {
    const TableInfo& t = table();
    if (i == t.org_column || t.columns[i].write_once) detail::refuse_setting(t, i);
  }

  // The org's database context (row-level security setting, schema search_path): org_context.hpp.
  // A schema-scoped entity has no org column: its org is its schema, which only a connection
  // with org_schemas selects.
  template <class F>
  auto in_org(const org_type& org, F&& f) {
    require_org_schema();
    return in_org_context(*conn_, org, std::forward<F>(f));
  }

  /// in_org for an operation of exactly one statement (org_context.hpp's in_org_statement).
  template <class F>
  auto in_org_one_statement(const org_type& org, F&& f) {
    require_org_schema();
    return in_org_statement(*conn_, org, std::forward<F>(f));
  }

  /// in_org_one_statement for a write that is one statement unless E is scoped through a parent:
  /// there, a refused write asks whether the parent is the org's (parent_in_org, a second
  /// statement), so it takes in_org's transaction.
  template <class F>
  auto in_org_one_write(const org_type& org, F&& f) {
    if constexpr (parent_scoped<E>) return in_org(org, std::forward<F>(f));
    else return in_org_one_statement(org, std::forward<F>(f));
  }

  void require_org_schema() const {
    if constexpr (schema_scoped<E>) {
      if (!conn_->org_schemas_enabled())
        throw UsageError("tenantry: '" + table().name + "' is scoped by its schema (scope = tenantry::per_org_schema) "
                         "and this connection does not select org schemas: open it with pg::Options::org_schemas");
    }
  }

  /// The org the statement filters by: the call's, or none when E has no org column (a
  /// schema-scoped entity's statements are the same as a global one's, run in the org's schema).
  static const org_type* column_org(const org_type& org) {
    if constexpr (binds_org_param<E>) return &org;
    else return nullptr;
  }

  /// A nil org id is never a tenant: refusing it keeps "forgot to set the org" from reading or
  /// writing rows of nobody, or worse, matching rows that were stored with a nil org. An invalid
  /// text org id is a ValueError, before anything is sent.
  static const org_type& require_org(const org_type& org) {
    if (org.is_nil()) detail::refuse_nil_org(table());
    if constexpr (!std::is_same_v<org_type, OrgId>)
      if (!org.valid())
        throw ValueError(org_type::invalid_message(org.value, "passed to a repository of '" + table().name + "'"));
    return org;
  }

  void check_org(org_type org, const E& row) const {
    if constexpr (has_platform_rows) {
      const std::optional<org_type>& r = boost::pfr::get<org_field<E>>(row);
      if (!r) throw OrgMismatch(table().name, org.to_string(), "none (a platform row: use tenantry::platform)");
      if (!r->is_nil() && *r != org) throw OrgMismatch(table().name, org.to_string(), r->to_string());
    } else if constexpr (org_scoped<E>) {
      const org_type& r = boost::pfr::get<org_field<E>>(row);
      if (!r.is_nil() && r != org) detail::refuse_row_org(table(), org.to_string(), r.to_string());
    }
  }
  void adopt_org(org_type org, E& row) const {
    if constexpr (org_scoped<E>) {
      check_org(org, row);
      boost::pfr::get<org_field<E>>(row) = org;
    }
  }

  // The platform scope: the entity must have platform rows (a compile error otherwise), and a
  // row must carry no org.
  template <class... Args>
  static constexpr void require_platform() {
    static_assert(has_platform_rows || parent_scoped<E>,
                  "tenantry: tenantry::platform reaches rows of no org, and this entity has none: only an entity whose "
                  "org column is a std::optional<OrgId> has them (call with an OrgId, or without one for a global "
                  "entity)");
    static_assert(!parent_scoped<E>,
                  "tenantry: a repository of a table scoped through its parent takes an org, never tenantry::platform: "
                  "read the rows under its parent's rows of no org with a query, fetch(conn, tenantry::platform, ...)");
    static_assert(!(query_detail::reaches_org_only<Args>::value || ...),
                  "tenantry: a subquery of a tenantry::platform call reads a table whose every row has an org (its org "
                  "column is a plain OrgId)");
  }
  void check_platform(const E& row) const {
    if constexpr (has_platform_rows) {
      const std::optional<OrgId>& r = boost::pfr::get<org_field<E>>(row);
      if (r && !r->is_nil()) throw OrgMismatch(table().name, "none (tenantry::platform)", r->to_string());
    }
  }
  void adopt_platform(E& row) const {
    if constexpr (has_platform_rows) {
      check_platform(row);
      boost::pfr::get<org_field<E>>(row) = std::nullopt;
    }
  }
  template <class F>
  auto in_platform(F&& f) {
    return in_platform_context(*conn_, std::forward<F>(f));
  }
  // An org-scoped entity's impl called without an org runs in the platform scope (only the
  // tenantry::platform forms do that; the writer refuses it for a plain OrgId table).
  // (A schema-scoped entity's calls also pass no org to the impls, column_org: never platform.)
  static constexpr bool platform_call(const org_type* org) { return has_platform_rows && org == nullptr; }
  static stmt::Statement scoped(stmt::Statement s, const org_type* org) {
    s.platform = platform_call(org);
    return s;
  }

  // Binds the org (when scoped) and the key; returns the next parameter number. Inline: two
  // bind_* fast paths, smaller than a call.
  [[gnu::always_inline]] static int bind_org_key(Stmt& s, const org_type* org, const key_type& key) {
    int p = 1;
    if (org) bind_value(s, p++, *org);
    constexpr auto& kf = detail::key_of<E>::fields;
    if constexpr (kf.size() == 1) {
      bind_value(s, p++, key);
    } else {
      std::apply([&](const auto&... k) { (bind_value(s, p++, k), ...); }, key);
    }
    return p;
  }
  static int bind_row_key(Stmt& s, const org_type* org, const E& row) {
    int p = 1;
    if (org) bind_value(s, p++, *org);
    for (auto i : fixed().key_cols) binders[i](s, p++, row);
    return p;
  }

  static void read_row(Stmt& s, E& out) {
    reflect::for_each_field(out, [&](auto& field, auto I) { read_value(s, static_cast<int>(I.value), field); });
  }

  // Binds the row's insert columns as parameters p, p + 1, ...; with OrgFromCall, an org-scoped
  // row's org column is bound from `org` (NULL without one: the platform scope) instead of the
  // row. When the insert columns are all the fields in order (no generated column), one inline
  // bind per field, its type known: no call through the per-field binders.
  template <bool OrgFromCall>
  static void bind_insert_columns(Stmt& s, int p, const E& row, [[maybe_unused]] const org_type* org) {
    const FixedSql& f = fixed();
    if (f.insert_all) [[likely]] {
      reflect::for_each_field(row, [&](const auto& field, auto I) {
        const int param = p + static_cast<int>(I.value);
        if constexpr (OrgFromCall && org_scoped<E>) {
          if constexpr (I.value == org_field<E>) {
            if (org) bind_value(s, param, *org);
            else s.bind_null(param);  // the platform scope: a row of no org
          } else {
            bind_value(s, param, field);
          }
        } else {
          bind_value(s, param, field);
        }
      });
      return;
    }
    for (auto i : f.insert_cols) {
      if constexpr (OrgFromCall && org_scoped<E>) {
        if (i == org_field<E>) {
          if (org) bind_value(s, p++, *org);
          else s.bind_null(p++);
          continue;
        }
      }
      binders[i](s, p++, row);
    }
  }

  // The org is in the row of an org-scoped entity; a parent-scoped one's INSERT takes it as $1.
  void insert_impl(const org_type* org, E& row) {
    const FixedSql& f = fixed();
    Run run(*conn_, f.insert);
    int p = 1;
    if constexpr (parent_scoped<E>) bind_value(*run, p++, *org);
    bind_insert_columns<false>(*run, p, row, org);
    const bool has_row = run.step();
    if constexpr (parent_scoped<E>)
      if (f.generated_cols.empty() ? run->changes() == 0 : !has_row) throw parent_not_in_org(*org);
    if (!f.generated_cols.empty() && has_row) {
      int c = 0;
      for (auto i : f.generated_cols) readers[i](*run, c++, row);
    }
  }

  // Inside one transaction (a savepoint when one is open), so a failure anywhere writes nothing.
  // SQLite: one prepared INSERT reused for every row; in process, a statement per row is as fast
  // as any batching, and one journal commit instead of one per row is most of the saving.
  // PostgreSQL: one INSERT ... SELECT * FROM unnest($1::A[], ...) per up to max_unnest_rows rows
  // (insert_rows_unnest): one statement and one round trip for the batch, which measured as fast
  // as binary COPY (docs/benchmarks.md) while keeping what COPY lacks: RETURNING for generated
  // columns, row-level security (COPY FROM refuses tables where it applies), and working
  // unchanged without server-side preparation (PgBouncer transaction pooling).
  // A parent-scoped entity's rows go one INSERT ... SELECT each (the parent check is per row).
  template <class R>
  void insert_many_impl(const org_type* org, R& rows) {
    if constexpr (D::is_postgres && !parent_scoped<E>) {
      std::vector<E*> all = row_pointers(rows);
      insert_unnest_batches(all);
    } else {
      auto tx = conn_->transaction();
      for (E& row : rows) insert_impl(org, row);
      tx.commit();
    }
  }

  template <class R>
  static std::vector<E*> row_pointers(R& rows) {
    std::vector<E*> all;
    if constexpr (std::ranges::sized_range<R>) all.reserve(std::ranges::size(rows));
    for (E& row : rows) all.push_back(&row);
    return all;
  }

  // A batch that is one statement runs alone outside a transaction (a single statement is
  // atomic), saving the BEGIN and COMMIT round trips; inside one it keeps its savepoint, so a
  // failure leaves the caller's transaction usable. Several statements run in one transaction.
  void insert_unnest_batches(std::vector<E*>& all) {
    if (all.size() <= max_unnest_rows && !conn_->in_transaction()) return insert_rows_unnest(all);
    auto tx = conn_->transaction();
    insert_rows_unnest(all);
    tx.commit();
  }

  // Binds field I of a row as the next element of an array parameter (Statement::bind_array).
  template <class S>
  static constexpr auto element_binders = []<std::size_t... I>(std::index_sequence<I...>) {
    return std::array<void (*)(S&, const E&), sizeof...(I)>{
        +[](S& s, const E& e) { bind_value(s, 0, boost::pfr::get<I>(e)); }...};
  }(std::make_index_sequence<field_count>{});

  // Rows per statement: the arrays of one statement are built in memory (each value is limited
  // to 1 GB by the server).
  static constexpr std::size_t max_unnest_rows = 65536;

  void insert_rows_unnest(std::vector<E*>& all) {
    const FixedSql& f = fixed();
    static const Sql sql = cached_sql<D>(statements::insert_unnest<E>());
    std::size_t done = 0;
    while (done < all.size()) {
      const std::size_t n = std::min(max_unnest_rows, all.size() - done);
      if (n == 1) {
        insert_impl(nullptr, *all[done++]);
        continue;
      }
      Run run(*conn_, sql);
      int p = 1;
      for (auto i : f.insert_cols)
        run->bind_array(p++, n, [&](auto& elements, std::size_t r) {
          element_binders<std::remove_cvref_t<decltype(elements)>>[i](elements, *all[done + r]);
        });
      bool has_row = run.step();
      // Generated columns are matched to rows by position: PostgreSQL returns the rows of an
      // INSERT ... SELECT in the order the SELECT produced them, and unnest produces its rows in
      // array order (the executor inserts them in that order; the documentation does not promise
      // RETURNING's order, and Django's bulk_create relies on the same behaviour). The count is
      // checked; the order cannot be, when the key is generated.
      if (!f.generated_cols.empty()) {
        for (std::size_t r = 0; r < n; ++r, has_row = run.step()) {
          if (!has_row)
            throw DatabaseError("tenantry: a multi-row INSERT into '" + table().name + "' returned fewer rows than it inserted", "");
          int c = 0;
          for (auto i : f.generated_cols) readers[i](*run, c++, *all[done + r]);
        }
      }
      done += n;
    }
  }

  // One key column of a key (the key itself for a one-column key).
  template <std::size_t J>
  static const auto& key_part(const key_type& key) {
    if constexpr (detail::key_of<E>::fields.size() == 1) return key;
    else return std::get<J>(key);
  }

  template <class K>
  std::vector<E> find_many_impl(const org_type* org, const K& keys) {
    std::vector<E> out;
    if constexpr (D::is_postgres) {
      std::vector<key_type> all;
      for (const auto& k : keys) all.emplace_back(k);
      if (all.empty()) return out;
      static const Sql org_sql = cached_sql<D>(statements::find_many<E>());
      Sql sql = org_sql;
      if constexpr (has_platform_rows) {
        // Only an entity with platform rows has this statement (the writer refuses it for others).
        static const Sql platform_sql = cached_sql<D>(scoped(statements::find_many<E>(), nullptr));
        if (platform_call(org)) sql = platform_sql;
      }
      Run run(*conn_, sql);
      int p = 1;
      if (org) bind_value(*run, p++, *org);
      [&]<std::size_t... J>(std::index_sequence<J...>) {
        (run->bind_array(p++, all.size(),
                         [&](auto& elements, std::size_t r) { bind_value(elements, 0, key_part<J>(all[r])); }),
         ...);
      }(std::make_index_sequence<detail::key_of<E>::fields.size()>{});
      if (all.size() < 4096) out.reserve(all.size());
      while (run.step()) read_row(*run, out.emplace_back());
    } else {
      // In process a prepared find per key is as fast as one statement; a key given twice is
      // looked up once, as the PostgreSQL statement finds its row once. One lease on the find
      // statement for all the keys, reset between them; each row read in place.
      std::vector<key_type> all;
      for (const auto& k : keys) all.emplace_back(k);
      if (all.empty()) return out;
      const std::vector<bool> repeated = repeated_keys(all);
      Run run(*conn_, fixed(org).find);
      for (std::size_t i = 0; i < all.size(); ++i) {
        if (repeated[i]) continue;
        bind_org_key(*run, org, all[i]);
        if (run.step()) read_row(*run, out.emplace_back());
        run->reset();
      }
    }
    return out;
  }

  // repeated[i]: keys[i] equals an earlier key. Ordered keys are sorted by position (n log n);
  // a short list, or keys without an order, is searched linearly.
  static std::vector<bool> repeated_keys(const std::vector<key_type>& keys) {
    std::vector<bool> repeated(keys.size());
    if constexpr (std::totally_ordered<key_type>) {
      if (keys.size() > 16) {
        std::vector<std::uint32_t> order(keys.size());
        for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<std::uint32_t>(i);
        std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
          if (keys[a] < keys[b]) return true;
          if (keys[b] < keys[a]) return false;
          return a < b;  // equal keys by position: the first occurrence sorts first
        });
        for (std::size_t k = 1; k < order.size(); ++k)
          if (keys[order[k]] == keys[order[k - 1]]) repeated[order[k]] = true;
        return repeated;
      }
    }
    for (std::size_t i = 1; i < keys.size(); ++i)
      repeated[i] = std::find(keys.begin(), keys.begin() + static_cast<std::ptrdiff_t>(i), keys[i]) !=
                    keys.begin() + static_cast<std::ptrdiff_t>(i);
    return repeated;
  }

  [[gnu::always_inline]] std::optional<E> find_impl(const org_type* org, const key_type& key) {
    Run run(*conn_, fixed(org).find);
    bind_org_key(*run, org, key);
    std::optional<E> out;  // one return of one object: constructed in the caller's (NRVO)
    if (run.step()) read_row(*run, out.emplace());
    return out;
  }

  bool update_impl(const org_type* org, const E& row, const ColumnSelection<E>* only) {
    if (only == nullptr) {
      const FixedSql& f = fixed(org);
      Run run(*conn_, f.update);
      int p = bind_row_key(*run, org, row);
      for (auto i : f.update_cols) binders[i](*run, p++, row);
      run.step();
      return changed_or_refused(org, run->changes(), f.update_cols, row);
    }
    std::vector<std::size_t> cols(only->columns.index.begin(), only->columns.index.begin() + only->columns.size);
    for (auto i : cols) check_settable(i);
    const Sql s = cached_sql<D>(scoped(statements::update<E>(cols), org));
    Run run(*conn_, s);
    int p = bind_row_key(*run, org, row);
    for (auto i : cols) binders[i](*run, p++, row);
    run.step();
    return changed_or_refused(org, run->changes(), cols, row);
  }

  // ---- scoped through the parent -------------------------------------------------------------

  OrgMismatch parent_not_in_org(const org_type& org) const {
    return OrgMismatch(OrgMismatch::ParentNotInOrg{}, table().name, org.to_string(), table().scope_parent->name);
  }

  /// Whether the parent row a foreign key value names is a row of org (through its own scope).
  template <class V>
  bool parent_in_org(const org_type& org, const V& fk) {
    using P = scope_parent_t<E>;
    constexpr std::size_t pc = std::get<detail::scope_foreign_key<E>()>(detail::declared_constraints<E>()).parent_columns.index[0];
    using M = std::remove_cv_t<reflect::field_type<pc, P>>;
    return Repository<P, D, Conn>(*conn_).exists(org, Column<P, M>{pc} == fk);
  }

  /// An UPDATE that changed nothing although it set a parent-scoped row's foreign key: the row
  /// is not the org's (false, as for any missing row), or the new parent is not (the statement
  /// refused it: OrgMismatch).
  bool changed_or_refused(const org_type* org, std::int64_t changes, const std::vector<std::size_t>& cols, const E& row) {
    if constexpr (parent_scoped<E>) {
      if (changes == 0 && std::find(cols.begin(), cols.end(), table().scope_column) != cols.end() &&
          !parent_in_org(*org, boost::pfr::get<detail::through_field<E>()>(row)))
        throw parent_not_in_org(*org);
    } else {
      (void)org, (void)cols, (void)row;
    }
    return changes > 0;
  }

  template <class M>
  bool set_impl(const org_type* org, const key_type& key, M E::*member, const M& value) {
    const std::size_t index = reflect::runtime_index_of(member);
    check_settable(index);
    // One statement per column, memoized by field index: nothing described or hashed per call.
    thread_local std::array<Sql, field_count> by_field{}, platform_by_field{};
    Sql& s = (platform_call(org) ? platform_by_field : by_field)[index];
    if (s.text == nullptr) s = cached_sql<D>(scoped(statements::update<E>({index}), org));
    Run run(*conn_, s);
    int p = bind_org_key(*run, org, key);
    bind_value(*run, p, value);
    run.step();
    const std::int64_t changes = run->changes();
    if constexpr (parent_scoped<E>) {
      if constexpr (std::is_same_v<M, std::remove_cv_t<reflect::field_type<detail::through_field<E>(), E>>>)
        if (changes == 0 && index == table().scope_column && !parent_in_org(*org, value)) throw parent_not_in_org(*org);
    }
    return changes > 0;
  }

  // The upsert statement of `target`. A program has a handful of conflict targets per entity, so
  // a short per-thread list compared by value finds it without building the shape key.
  template <bool ReadBack>
  static Sql upsert_sql(const ConflictTarget<E>& target, bool platform) {
    const auto same = [](const detail::ColumnList<E>& a, const detail::ColumnList<E>& b) {
      return a.size == b.size && std::equal(a.index.begin(), a.index.begin() + a.size, b.index.begin());
    };
    thread_local std::vector<std::pair<ConflictTarget<E>, Sql>> org_known, platform_known;
    auto& known = platform ? platform_known : org_known;
    for (const auto& [t, s] : known)
      if (t.do_nothing == target.do_nothing && same(t.columns, target.columns) && same(t.set, target.set)) return s;
    for (auto i : statements::upsert_set(target)) check_settable(i);
    stmt::Statement d = statements::upsert<E>(target, ReadBack);
    d.platform = platform;
    const Sql s = cached_sql<D>(d);
    known.emplace_back(target, s);
    return s;
  }

  // The conflicting row belongs to another org; the guarded DO UPDATE refused to touch it.
  [[noreturn]] static void conflict_with_another_org(const ConflictTarget<E>& target) {
    detail::conflict_with_another_org(table(), target.columns.index.data(), target.columns.size);
  }

  void upsert_impl(const org_type* org, E& row, const ConflictTarget<E>& target) {
    Run run(*conn_, upsert_sql<true>(target, platform_call(org)));
    int p = 1;
    if constexpr (parent_scoped<E>) bind_value(*run, p++, *org);
    else (void)org;
    bind_insert_columns<false>(*run, p, row, org);
    if (!run.step()) {
      // Parent-scoped: nothing was inserted because the row's parent is not the org's, or the
      // conflicting row's parent is not (the guarded DO UPDATE refused it).
      if constexpr (parent_scoped<E>)
        if (!parent_in_org(*org, boost::pfr::get<detail::through_field<E>()>(row))) throw parent_not_in_org(*org);
      conflict_with_another_org(target);
    }
    read_row(*run, row);
  }

  // The row is const: its org column is bound from the call's org (check_org has refused any
  // other), so a nil org field needs no copy of the row; in the platform scope (no org) it is
  // bound NULL (check_platform has refused a row of an org).
  void put_impl(const org_type* org, const E& row, const ConflictTarget<E>& target) {
    Run run(*conn_, upsert_sql<false>(target, platform_call(org)));
    int p = 1;
    if constexpr (parent_scoped<E>) bind_value(*run, p++, *org);
    bind_insert_columns<true>(*run, p, row, org);
    run.step();
    // Every conflict in our org updates the row (DO NOTHING is a no-op assignment, statements.hpp),
    // so no change means the guarded DO UPDATE met another org's row, or (parent-scoped) the
    // row's parent is not the org's.
    if (run->changes() == 0) {
      if constexpr (parent_scoped<E>)
        if (!parent_in_org(*org, boost::pfr::get<detail::through_field<E>()>(row))) throw parent_not_in_org(*org);
      conflict_with_another_org(target);
    }
  }

  bool erase_impl(const org_type* org, const key_type& key) {
    Run run(*conn_, fixed(org).erase);
    bind_org_key(*run, org, key);
    run.step();
    return run->changes() > 0;
  }

  // ---- filtered statements -------------------------------------------------------------------

  // LIMIT and OFFSET values of a call (the description only says whether they are present).
  struct Paging {
    std::optional<std::int64_t> limit, offset;
  };
  template <class... Args>
  static Paging paging(const Args&... args) {
    Paging p;
    (
        [&](const auto& a) {
          using A = std::remove_cvref_t<decltype(a)>;
          if constexpr (std::is_same_v<A, Limit>) {
            if (a.n < 0) throw UsageError("tenantry: limit(" + std::to_string(a.n) + ") is negative");
            p.limit = a.n;
          } else if constexpr (std::is_same_v<A, Offset>) {
            if (a.n < 0) throw UsageError("tenantry: offset(" + std::to_string(a.n) + ") is negative");
            p.offset = a.n;
          }
        }(args),
        ...);
    return p;
  }

  template <class... Args>
  static void bind_predicates(Stmt& s, int& next, const Args&... args) {
    (
        [&](const auto& a) {
          if constexpr (predicate<std::remove_cvref_t<decltype(a)>>) a.bind(s, next);
        }(args),
        ...);
  }

  // A global entity's call has no org to bind: a predicate reaching an org-scoped table (a
  // subquery) cannot be part of it.
  template <class... Args>
  static constexpr bool reaches_org_scoped = (query_detail::reaches_org_scoped<Args>::value || ...);

  // Binds in the order of statement.hpp: the org, the predicates, LIMIT, OFFSET.
  // Inline: its one caller's Paging is often a constant (count, exists: none), whose checks fold away.
  template <class... Args>
  [[gnu::always_inline]] static void bind_filtered(Stmt& s, const org_type* org, int first, const Paging& pg,
                                                   const Args&... args) {
    int p = first;
    if (org) bind_value(s, 1, *org);
    bind_predicates(s, p, args...);
    if (pg.limit) s.bind_int(p++, *pg.limit);
    if (pg.offset) s.bind_int(p++, *pg.offset);
  }

  // A filtered call's run-time shape (statement_cache.hpp's memo_sql): its predicates' and its
  // orderings' columns and operators; LIMIT and OFFSET are in the signature.
  template <class A>
  static void shape_argument(stmt::ShapeKey& key, const A& a) {
    if constexpr (predicate<A>) query_detail::shape_of(a, key);
    else if constexpr (std::is_same_v<A, OrderBy<E>>) key.add(static_cast<std::uint32_t>(a.index) << 1 | (a.descending ? 1u : 0u));
    else if constexpr (!std::is_same_v<A, Limit> && !std::is_same_v<A, Offset>) key.usable = false;  // describe every time
  }

  // The org a filtered statement binds as $1: when E or a subquery's table has an org column
  // (a schema-scoped E's own statement has none; sql::needs_org says the same of the text).
  template <class... Args>
  static const org_type* filter_org(const org_type* org) {
    if constexpr (binds_org_param<E> || (query_detail::binds_org<Args>::value || ...)) return org;
    else return nullptr;
  }

  template <class... Args>
  // Inline, as the *_impl below: each instantiation has one caller, so inlining copies nothing and
  // saves a call frame per statement.
  [[gnu::always_inline]] Run run_filtered(stmt::Verb verb, const org_type* call_org, const Paging& pg, const Args&... args) {
    static_assert(is_org_scoped || !reaches_org_scoped<Args...>,
                  "tenantry: a subquery on an org-scoped table needs an org, and this global entity's call has none");
    static_assert(detail::one_org_key(detail::org_keys_of<E> | (query_detail::org_keys_in<Args>::value | ... | 0u)),
                  "tenantry: one statement cannot read tables of different org types (OrgId, TextOrgId, IntOrgId): "
                  "their org columns cannot be compared");
    const org_type* org = filter_org<Args...>(call_org);
    constexpr bool keyset = (std::is_same_v<Args, After<E>> || ...);
    if constexpr (keyset) {
      // The description (and its keyset field list) is needed to bind: build it, find its text.
      const stmt::Statement d = scoped(statements::filtered<E>(verb, args...), org);
      Run run(*conn_, cached_sql<D>(d));
      int p = org ? 2 : 1;
      if (org) bind_value(*run, 1, *org);
      bind_predicates(*run, p, args...);
      const E* last = nullptr;
      ((last = after_row(args, last)), ...);
      for (auto i : statements::keyset_fields(table(), d)) binders[i](*run, p++, *last);
      if (pg.limit) run->bind_int(p++, *pg.limit);
      if (pg.offset) run->bind_int(p++, *pg.offset);
      return run;
    } else {
      stmt::ShapeKey key;
      key.add(static_cast<std::uint32_t>(verb) | (platform_call(org) ? 0x100u : 0u));
      (shape_argument(key, args), ...);
      const Sql s = memo_sql<D, std::tuple<E, Args...>>(
          key, [&] { return scoped(statements::filtered<E>(verb, args...), org); });
      Run run(*conn_, s);
      bind_filtered(*run, org, org ? 2 : 1, pg, args...);
      return run;
    }
  }
  template <class A>
  static const E* after_row(const A& a, const E* found) {
    if constexpr (std::is_same_v<A, After<E>>) return a.row;
    else return found;
  }

  template <class... Args>
  [[gnu::always_inline]] std::vector<E> list_impl(const org_type* org, const Args&... args) {
    const Paging pg = paging(args...);
    Run run = run_filtered(stmt::Verb::select, org, pg, args...);
    std::vector<E> out;
    if (pg.limit && *pg.limit > 0 && *pg.limit < 4096) out.reserve(static_cast<std::size_t>(*pg.limit));
    while (run.step()) read_row(*run, out.emplace_back());
    return out;
  }

  template <class... Args>
  [[gnu::always_inline]] std::int64_t count_impl(const org_type* org, const Args&... args) {
    static_assert((predicate<Args> && ...), "tenantry: count and exists take predicates only (no order_by, limit or offset)");
    Run run = run_filtered(stmt::Verb::count, org, Paging{}, args...);
    if (!run.step()) throw DatabaseError("tenantry: COUNT(*) returned no row", "");
    return run->column_int(0);
  }

  template <class... Args>
  [[gnu::always_inline]] bool exists_impl(const org_type* org, const Args&... args) {
    static_assert((predicate<Args> && ...), "tenantry: count and exists take predicates only (no order_by, limit or offset)");
    Run run = run_filtered(stmt::Verb::exists, org, Paging{}, args...);
    if (!run.step()) throw DatabaseError("tenantry: EXISTS returned no row", "");
    return run->column_bool(0);
  }

  template <class P>
  std::int64_t erase_where_impl(const org_type* org, const P& pred) {
    Run run = run_filtered(stmt::Verb::erase, org, Paging{}, pred);
    run.step();
    return run->changes();
  }

  template <class P, class... As>
  std::int64_t update_where_impl(const org_type* org, const P& pred, const As&... assignments) {
    static_assert(sizeof...(As) > 0, "tenantry: update_where needs at least one assign(col(&T::m), value)");
    static_assert((std::is_same_v<As, Assignment<E, decltype(As::value)>> && ...),
                  "tenantry: update_where takes assign(col(&ThisEntity::m), value) for this entity's columns");
    static_assert(is_org_scoped || !query_detail::reaches_org_scoped<P>::value,
                  "tenantry: a subquery on an org-scoped table needs an org, and this global entity's call has none");
    static_assert(detail::one_org_key(detail::org_keys_of<E> | query_detail::org_keys_in<P>::value),
                  "tenantry: one statement cannot read tables of different org types (OrgId, TextOrgId, IntOrgId): "
                  "their org columns cannot be compared");
    org = filter_org<P>(org);
    std::vector<std::size_t> cols{assignments.index...};
    for (auto i : cols) check_settable(i);
    stmt::ShapeKey key;
    key.add(platform_call(org) ? 1u : 0u);
    (key.add(static_cast<std::uint32_t>(assignments.index)), ...);
    query_detail::shape_of(pred, key);
    const Sql s = memo_sql<D, std::tuple<E, P, As...>>(
        key, [&] { return scoped(statements::update_where<E>(cols, pred), org); });
    Run run(*conn_, s);
    int p = 1;
    if (org) bind_value(*run, p++, *org);
    (bind_value(*run, p++, assignments.value), ...);
    pred.bind(*run, p);
    run.step();
    const std::int64_t changes = run->changes();
    if constexpr (parent_scoped<E>) {
      // Moving rows to a parent that is not the org's changes none of them: say so.
      using FK = std::remove_cv_t<reflect::field_type<detail::through_field<E>(), E>>;
      if (changes == 0)
        (
            [&](const auto& a) {
              if constexpr (std::is_same_v<std::remove_cvref_t<decltype(a.value)>, FK>)
                if (a.index == table().scope_column && !parent_in_org(*org, a.value)) throw parent_not_in_org(*org);
            }(assignments),
            ...);
    }
    return changes;
  }

  Conn* conn_;
};

}  // namespace tenantry
