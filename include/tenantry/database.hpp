// tenantry/database.hpp - a database chosen at run time from a URL.
//
//   tenantry::Database db = tenantry::connect("sqlite:app.db");     // or postgres://..., or "" for DATABASE_URL
//   tenantry::Repository<ApiToken> tokens{db};                       // same calls as Repository<E, D>
//   if (db.is_postgres()) db.execute("SET statement_timeout = '5s'");  // the dialect, when it matters
//
// Repository<E> (dialect AnyDialect) holds a Database and, on each call, dispatches once to the
// repository of the open connection's dialect; everything below that call (building SQL once,
// binding, decoding each column) is the statically typed code of Repository<E, D>, so the run-time
// choice costs one branch per operation, never one per column.
//
// When the dialect is known at compile time, use Repository<E, SqliteDialect> or
// Repository<E, PgDialect> directly with the driver's connection: no branch at all.
#pragma once

#include "tenantry/ddl.hpp"
#include "tenantry/dialect/postgres.hpp"
#include "tenantry/dialect/sqlite.hpp"
#include "tenantry/driver/postgres.hpp"
#include "tenantry/driver/sqlite.hpp"
#include "tenantry/driver/transaction.hpp"
#include "tenantry/repository.hpp"
#include "tenantry/url.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace tenantry {

/// Marks a repository whose dialect is chosen at run time by the Database it is given.
struct AnyDialect {
  static constexpr std::string_view name = "any";
};

/// Options for connect(); each applies to the database kind it names.
struct ConnectOptions {
  sqlite::Options sqlite{};
  pg::Options postgres{};
  /// Installed on the connection whichever database the URL names (observe.hpp); when null, the
  /// dialect's own options' observer is.
  std::shared_ptr<StatementObserver> observer{};

  /// The options of each kind, with `observer` applied.
  sqlite::Options sqlite_options() const {
    sqlite::Options o = sqlite;
    if (observer) o.observer = observer;
    return o;
  }
  pg::Options postgres_options() const {
    pg::Options o = postgres;
    if (observer) o.observer = observer;
    return o;
  }
};

/// An open connection to SQLite or PostgreSQL, chosen at run time.
class Database {
 public:
  using dialect = AnyDialect;

  explicit Database(sqlite::Connection c) : conn_(std::move(c)) {}
  explicit Database(pg::Connection c) : conn_(std::move(c)) {}

  bool is_postgres() const noexcept { return std::holds_alternative<pg::Connection>(conn_); }
  bool is_sqlite() const noexcept { return !is_postgres(); }

  /// Calls f with the driver connection (sqlite::Connection& or pg::Connection&).
  template <class F>
  decltype(auto) visit(F&& f) {
    return std::visit(std::forward<F>(f), conn_);
  }

  /// The connection's statement observer (observe.hpp), or null; set_observer() installs one.
  std::shared_ptr<StatementObserver> observer() {
    return visit([](auto& c) { return c.observer(); });
  }
  void set_observer(std::shared_ptr<StatementObserver> o) {
    visit([&](auto& c) { c.set_observer(std::move(o)); });
  }

  /// Runs statements without parameters (DDL) on whichever database this is.
  void execute(std::string_view sql) {
    visit([&](auto& c) { c.execute(sql); });
  }

  /// A transaction scope on the underlying connection (savepoints when nested).
  Transaction<Database> transaction() { return Transaction<Database>(*this); }
  bool in_transaction() const {
    return std::visit([](const auto& c) { return c.in_transaction(); }, conn_);
  }

  void begin_scope() {
    visit([](auto& c) { c.begin_scope(); });
  }
  void commit_scope() {
    visit([](auto& c) { c.commit_scope(); });
  }
  void rollback_scope() {
    visit([](auto& c) { c.rollback_scope(); });
  }

  /// The DDL for entities Es in this database's dialect.
  template <class... Es>
  std::string schema_sql(DdlOptions opt = {}) const {
    return is_postgres() ? tenantry::schema_sql<PgDialect, Es...>(opt) : tenantry::schema_sql<SqliteDialect, Es...>(opt);
  }

 private:
  std::variant<sqlite::Connection, pg::Connection> conn_;
};

/// Opens the database a URL names (see url.hpp for the forms); an empty URL reads DATABASE_URL.
/// Throws UrlError for a malformed URL and ConnectionError when the database cannot be reached.
inline Database connect(std::string_view url, ConnectOptions options = {}) {
  const DatabaseUrl parsed = parse_database_url(url);
  if (parsed.is_postgres()) return Database(pg::Connection(parsed.pg_conninfo, options.postgres_options()));
  sqlite::Options o = options.sqlite_options();
  o.read_only = o.read_only || parsed.read_only;
  o.create = o.create && parsed.create;
  return Database(sqlite::Connection(parsed.sqlite_path, o));
}

template <>
struct connection_for<AnyDialect> {
  using type = Database;
};

/// Creates the tables of Es in whichever database `db` is, in one transaction.
template <class... Es>
void create_tables(Database& db, DdlOptions opt = {}) {
  db.visit([&](auto& c) { create_tables<Es...>(c, opt); });
}

namespace detail {
template <class... A>
struct first_arg {
  using type = void;
};
template <class A0, class... A>
struct first_arg<A0, A...> {
  using type = std::remove_cvref_t<A0>;
};
/// True when a repository call with arguments A... passes an org (of any org type, or
/// tenantry::platform) first.
template <class... A>
inline constexpr bool passes_org_first = org_id_type<typename first_arg<A...>::type> ||
                                         std::is_same_v<typename first_arg<A...>::type, PlatformScope>;
/// True when a repository call with arguments A... passes an org of type O first.
template <class O, class... A>
inline constexpr bool passes_this_org_first = std::is_same_v<typename first_arg<A...>::type, O>;
/// True when it passes tenantry::platform first.
template <class... A>
inline constexpr bool passes_platform_first = std::is_same_v<typename first_arg<A...>::type, PlatformScope>;
/// True when set(org, key, member, value)'s member (the third argument) is the org column.
template <class M>
inline constexpr bool is_org_member = false;
template <class T, class K>
inline constexpr bool is_org_member<BasicOrgId<K> T::*> = true;
template <class T, class K>
inline constexpr bool is_org_member<std::optional<BasicOrgId<K>> T::*> = true;
template <class... A>
struct sets_org_column : std::false_type {};
template <class O, class K, class M, class... R>
struct sets_org_column<O, K, M, R...> : std::bool_constant<is_org_member<std::remove_cvref_t<M>>> {};
}  // namespace detail

/// Repository over a run-time chosen database: the same operations as Repository<E, D>.
template <class E>
class Repository<E, AnyDialect, Database> {
 public:
  using entity_type = E;
  using key_type = key_t<E>;
  using org_type = org_id_of<E>;
  static constexpr bool is_org_scoped = takes_org<E>;  // org-, parent- or schema-scoped: calls take the org

  explicit Repository(Database& db) : db_(&db) { (void)table_info<E>(); }

  Database& connection() const noexcept { return *db_; }

  // Each operation forwards its arguments, unchanged, to the statically typed repository of the
  // connection's dialect. The org rules and their compile-time messages are that repository's:
  // a call that breaks the org rule (an org-scoped entity without an org first, a global one
  // with one) is compiled against one dialect's repository only, so its message appears once.
#define TENANTRY_FORWARD(op)                                                                  \
  template <class... A>                                                                       \
  decltype(auto) op(A&&... a) {                                                               \
    const auto call = [&](auto r) -> decltype(auto) { return r.op(std::forward<A>(a)...); }; \
    if constexpr (org_rule_kept<A...>()) return with(call);                                   \
    else return one_dialect(call);                                                            \
  }
  TENANTRY_FORWARD(insert)
  TENANTRY_FORWARD(insert_many)
  TENANTRY_FORWARD(find)
  TENANTRY_FORWARD(find_many)
  TENANTRY_FORWARD(list)
  TENANTRY_FORWARD(count)
  TENANTRY_FORWARD(exists)
  TENANTRY_FORWARD(update)
  TENANTRY_FORWARD(upsert)
  TENANTRY_FORWARD(put)
  TENANTRY_FORWARD(erase)
  TENANTRY_FORWARD(erase_where)
  TENANTRY_FORWARD(update_where)
#undef TENANTRY_FORWARD
  template <class... A>
  decltype(auto) set(A&&... a) {
    const auto call = [&](auto r) -> decltype(auto) { return r.set(std::forward<A>(a)...); };
    if constexpr (org_rule_kept<A...>() && !detail::sets_org_column<A...>::value) return with(call);
    else return one_dialect(call);
  }

 private:
  template <class... A>
  static constexpr bool org_rule_kept() {
    if constexpr (is_org_scoped)
      return detail::passes_this_org_first<org_id_of<E>, A...> ||
             (org_column_optional<E> && detail::passes_platform_first<A...>);
    else return !detail::passes_org_first<A...>;
  }

  // The one dispatch per call: a statically typed repository on the open connection. A
  // schema-scoped entity has PostgreSQL's only (SQLite has no schemas: a UsageError).
  template <class F>
  decltype(auto) with(F&& f) {
    if constexpr (schema_scoped<E>) {
      using Pg = Repository<E, PgDialect, pg::Connection>;
      using R = decltype(f(std::declval<Pg>()));
      return db_->visit([&](auto& conn) -> R {
        if constexpr (std::is_same_v<std::remove_reference_t<decltype(conn)>, pg::Connection>)
          return f(Pg(conn));
        else
          throw UsageError("tenantry: '" + table_info<E>().name + "' is scoped by its schema (scope = "
                           "tenantry::per_org_schema), and this database is SQLite, which has no schemas");
      });
    } else {
      return db_->visit([&](auto& conn) -> decltype(auto) {
        using Conn = std::remove_reference_t<decltype(conn)>;
        return f(Repository<E, typename Conn::dialect, Conn>(conn));
      });
    }
  }

  // A call the repositories refuse at compile time: instantiated for SQLite's only, whose
  // static_assert then stops the compilation with the rule, once. (Were it ever to compile, it
  // would still run correctly on an SQLite database, and refuse on a PostgreSQL one.)
  // (A schema-scoped entity's: PostgreSQL's, the only one it has.)
  template <class F>
  decltype(auto) one_dialect(F&& f) {
    using One = std::conditional_t<schema_scoped<E>, Repository<E, PgDialect, pg::Connection>,
                                   Repository<E, SqliteDialect, sqlite::Connection>>;
    using R = decltype(f(std::declval<One>()));
    return db_->visit([&](auto& conn) -> R {
      if constexpr (std::is_same_v<std::remove_reference_t<decltype(conn)>, typename One::connection_type>)
        return f(One(conn));
      else
        throw UsageError("tenantry: this repository call breaks the org rule and cannot run");
    });
  }

  Database* db_;
};

}  // namespace tenantry
