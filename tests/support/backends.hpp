// Backends for the dialect parity tests (tests/parity/*.cpp): each test case is a Catch2
// TEMPLATE_TEST_CASE over these types, so the same assertions run against SQLite and against the
// real PostgreSQL server (TENANTRY_PG_URL, see pg_database.hpp).
//
//   parity::SqliteFile      a fresh database file under $TENANTRY_TEST_TMP (or /tmp)
//   parity::SqliteMemory    a fresh ":memory:" database (no second connection possible)
//   parity::Postgres        the per-process test database, reset to an empty public schema
//                           (DROP SCHEMA public CASCADE; CREATE SCHEMA public) by every open()
//   parity::PostgresUnprepared  the same through pg::Options{server_prepared = false}, the mode
//                           for PgBouncer's transaction pooling
//   parity::AnyUrl<B>       B's database opened with tenantry::connect(url): the run-time
//                           selected tenantry::Database with Repository<E> (dialect AnyDialect)
//   parity::PostgresOrgSchemas  the schema-per-org strategy (org_schema.hpp): the global tables
//                           in public, the org-scoped ones (parity::FixtureOrgTables) in one
//                           schema per org, provisioned by parity::add_org; connections opened
//                           with pg::Options{org_schemas = true}. Not in PARITY_BACKENDS (plain
//                           SQL cannot write org tables through public); ORG_ISOLATION_BACKENDS
//                           adds it. parity::schema_per_org<B> tells the test body.
//
// PARITY_BACKENDS (at the end) lists the backends every parity test case runs on.
//
// Each backend B gives
//   B::Dialect, B::Conn       the repository dialect and the connection type it works on
//   B::name, B::is_postgres   for messages and for the assertions where the databases differ
//   B::open()                 a connection to a fresh, empty database holding fixtures::schema
//   B::reopen(conn)           another connection to the same database (not SqliteMemory)
//   B::fresh_url()            a URL naming a fresh, empty database without any table
//
// and the helpers below work on any B::Conn:
//   parity::Repo<B, E>                 the repository type of entity E on B
//   parity::add_org(conn, slug)        inserts an organization, returns its id as an OrgId
//   parity::raw_count / raw_int / raw_text / raw_texts / rows_in
//       plain SQL through the driver's own prepare()/step()/column_*() (tenantry::intern_sql),
//       for the "check what is stored, bypassing every repository filter" assertions. Write
//       placeholders as ?1, ?2 (they become $1, $2 on PostgreSQL) and keep the SQL in the subset
//       both databases accept; on PostgreSQL column_text reads only text-like columns, so CAST
//       other types AS TEXT in the SQL.
//   parity::expected_code<B>(sqlite_extended_code, sqlstate)   what DatabaseError::code() says
//   parity::native_in_transaction(conn)   the database's own view (sqlite3_get_autocommit,
//       PQtransactionStatus), not tenantry's scope count
#pragma once

#include "support/entities.hpp"
#include "support/pg_database.hpp"
#include "support/sqlite_db.hpp"  // fixture rows (testdb::make_*), TempPath, expect_throw, StringMakers

#include <tenantry/tenantry.hpp>

#include <catch2/catch.hpp>

#include <libpq-fe.h>
#include <sqlite3.h>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace parity {

using tenantry::OrgId;

// ---- SQLite database files ---------------------------------------------------------------------

namespace detail {

/// Database files made by this process. Like pg_database.hpp's databases, the files of earlier
/// test cases (whose connections are closed by now) are deleted when a later test case asks for
/// its first file, and the rest when the process exits.
class SqliteFiles {
 public:
  static SqliteFiles& instance() {
    static SqliteFiles files;
    return files;
  }
  std::string create() {
    const std::string test = Catch::getResultCapture().getCurrentTestName();
    if (test != current_test_) {
      current_.clear();  // ~TempPath removes each file with its -wal/-shm/-journal companions
      current_test_ = test;
    }
    current_.push_back(std::make_unique<testdb::TempPath>("parity"));
    return current_.back()->string();
  }

 private:
  std::string current_test_;
  std::vector<std::unique_ptr<testdb::TempPath>> current_;
};

}  // namespace detail

struct SqliteFile {
  using Dialect = tenantry::SqliteDialect;
  using Conn = tenantry::sqlite::Connection;
  static constexpr std::string_view name = "sqlite file";
  static constexpr bool is_postgres = false;

  static std::string fresh_url() { return "sqlite:" + detail::SqliteFiles::instance().create(); }
  static Conn open() {
    Conn conn(detail::SqliteFiles::instance().create());
    conn.execute(fixtures::schema<Dialect>());
    return conn;
  }
  static Conn reopen(Conn& conn) { return Conn(conn.path()); }
};

struct SqliteMemory {
  using Dialect = tenantry::SqliteDialect;
  using Conn = tenantry::sqlite::Connection;
  static constexpr std::string_view name = "sqlite :memory:";
  static constexpr bool is_postgres = false;

  static Conn open() {
    Conn conn(":memory:");
    conn.execute(fixtures::schema<Dialect>());
    return conn;
  }
  // No reopen(): every connection to ":memory:" is a database of its own.
};

// ---- PostgreSQL --------------------------------------------------------------------------------

struct Postgres {
  using Dialect = tenantry::PgDialect;
  using Conn = tenantry::pg::Connection;
  static constexpr std::string_view name = "postgres";
  static constexpr bool is_postgres = true;

  /// The one database this process uses (created on first use, dropped at exit). Asked for once
  /// and kept, so the databases of earlier test cases are not dropped under us; each test case
  /// resets it instead. FAILs the calling test when there is no server.
  static const std::string& url() {
    static const std::string u = tenantry_test::pg_url();
    return u;
  }
  /// The per-process database with an empty public schema. Every connection of the previous
  /// test case is closed by now, so nothing holds a lock on the tables being dropped.
  static std::string fresh_url() {
    Conn admin(url());
    admin.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;");
    return url();
  }
  static Conn open() {
    Conn conn(url());
    conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;");
    conn.execute(fixtures::schema<Dialect>());
    return conn;
  }
  static Conn reopen(Conn&) { return Conn(url()); }
};

/// The same database through a connection that never prepares on the server (the mode for
/// PgBouncer's transaction pooling): every statement is a PQexecParams whose parameter types come
/// from the bound values, so the server casts where a column's type differs.
struct PostgresUnprepared : Postgres {
  static constexpr std::string_view name = "postgres, server_prepared = false";
  static tenantry::pg::Options options() {
    tenantry::pg::Options o;
    o.server_prepared = false;
    return o;
  }
  static Conn open() {
    Conn conn(url(), options());
    conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;");
    conn.execute(fixtures::schema<Dialect>());
    return conn;
  }
  static Conn reopen(Conn&) { return Conn(url(), options()); }
};

// ---- PostgreSQL, one schema per org ------------------------------------------------------------

/// The fixture's org-scoped entities, parents first: each org gets these tables in its schema.
using FixtureOrgTables = tenantry::OrgSchemas<fixtures::ApiToken, fixtures::Widget, fixtures::Gadget, fixtures::Part,
                                              fixtures::Membership, fixtures::Grant>;

namespace detail {

/// The org of nobody whose empty schema is always there, so that the views below exist (and
/// count zero rows) before the first org is added.
inline const OrgId& empty_org() {
  static const OrgId org = OrgId::parse("ffffffff-ffff-4fff-bfff-ffffffffffff");
  return org;
}

/// No org table is in public under this strategy, yet the tests check "what is stored" with
/// plain SQL on unqualified table names. So public gets, per org table, a read-only view over
/// every org schema's table (UNION ALL), rebuilt whenever an org is provisioned. Repositories
/// never see them: their org's schema comes first on the search path.
inline void refresh_org_views(tenantry::pg::Connection& conn) {
  std::vector<std::string> schemas;
  {
    auto& st = conn.prepare(tenantry::intern_sql(
        "SELECT nspname::text FROM pg_catalog.pg_namespace WHERE nspname LIKE 'org\\_%' ORDER BY nspname"));
    while (st.step()) schemas.emplace_back(st.column_text(0));
    st.reset();
  }
  std::string ddl;
  for (const std::string& table : FixtureOrgTables::table_names()) {
    ddl += "CREATE OR REPLACE VIEW public.\"" + table + "\" AS ";
    for (std::size_t k = 0; k < schemas.size(); ++k)
      ddl += (k ? " UNION ALL SELECT * FROM \"" : "SELECT * FROM \"") + schemas[k] + "\".\"" + table + "\"";
    ddl += ";\n";
  }
  conn.execute(ddl);
}

inline void provision_fixture_org(tenantry::pg::Connection& conn, const OrgId& org) {
  FixtureOrgTables::provision_org(conn, org);
  refresh_org_views(conn);
}

}  // namespace detail

struct PostgresOrgSchemas : Postgres {
  static constexpr std::string_view name = "postgres, schema per org";
  static tenantry::pg::Options options() {
    tenantry::pg::Options o;
    o.org_schemas = true;
    return o;
  }
  /// The per-process database with an empty public schema holding the global tables, and no org
  /// schema but the empty one.
  static Conn open() {
    Conn conn(url(), options());
    conn.execute(
        "DO $$ DECLARE s text; BEGIN FOR s IN SELECT nspname FROM pg_namespace WHERE nspname LIKE 'org\\_%' LOOP "
        "EXECUTE format('DROP SCHEMA %I CASCADE', s); END LOOP; END $$;"
        "DROP SCHEMA public CASCADE; CREATE SCHEMA public;");
    conn.execute(tenantry::schema_sql<Dialect, fixtures::Organization, fixtures::Setting, fixtures::Pin>());
    detail::provision_fixture_org(conn, detail::empty_org());
    return conn;
  }
  static Conn reopen(Conn&) { return Conn(url(), options()); }
};

/// True for the backends whose org-scoped tables live in one schema per org.
template <class B>
inline constexpr bool schema_per_org = std::is_base_of_v<PostgresOrgSchemas, B>;

// ---- a database chosen at run time by its URL --------------------------------------------------

template <class B>
struct AnyUrl {
  using Dialect = tenantry::AnyDialect;
  using Conn = tenantry::Database;
  static constexpr std::string_view name = B::name;
  static constexpr bool is_postgres = B::is_postgres;

  static std::string fresh_url() { return B::fresh_url(); }
  static Conn open() {
    Conn db = tenantry::connect(B::fresh_url());
    REQUIRE(db.is_postgres() == is_postgres);
    db.execute(db.is_postgres() ? fixtures::schema<tenantry::PgDialect>()
                                : fixtures::schema<tenantry::SqliteDialect>());
    return db;
  }
  static Conn reopen(Conn& db) {
    return tenantry::connect(db.visit([](auto& c) -> std::string {
      if constexpr (std::is_same_v<std::remove_cvref_t<decltype(c)>, tenantry::sqlite::Connection>)
        return "sqlite:" + c.path();
      else
        return Postgres::url();
    }));
  }
};

template <class B, class E>
using Repo = tenantry::Repository<E, typename B::Dialect, typename B::Conn>;

/// DatabaseError::code() for a failure: SQLite's extended result code in decimal, or the SQLSTATE.
template <class B>
std::string expected_code(int sqlite_extended_code, const char* sqlstate) {
  return B::is_postgres ? std::string(sqlstate) : std::to_string(sqlite_extended_code);
}

// ---- plain SQL through the driver --------------------------------------------------------------

template <class Conn>
concept driver_connection = requires { typename Conn::statement; typename Conn::dialect; };

namespace detail {

/// `sql` with ?N placeholders spelled for the connection's database ($N on PostgreSQL). Quoted
/// literals and identifiers are left alone.
template <class Conn>
std::string native_sql(std::string_view sql) {
  std::string out(sql);
  if constexpr (Conn::dialect::is_postgres) {
    char quote = 0;
    for (std::size_t i = 0; i < out.size(); ++i) {
      const char c = out[i];
      if (quote != 0) {
        if (c == quote) quote = 0;
      } else if (c == '\'' || c == '"') {
        quote = c;
      } else if (c == '?' && i + 1 < out.size() && out[i + 1] >= '0' && out[i + 1] <= '9') {
        out[i] = '$';
      }
    }
  }
  return out;
}

template <class S>
void bind_arg(S& s, int i, std::string_view text) {
  s.bind_text(i, text);
}
template <class S>
void bind_arg(S& s, int i, const char* text) {
  s.bind_text(i, text);
}
template <class S>
void bind_arg(S& s, int i, const std::string& text) {
  s.bind_text(i, text);
}
template <class S, class T>
void bind_arg(S& s, int i, const T& v) {
  tenantry::bind_value(s, i, v);
}

template <class S>
struct ResetOnExit {
  S& s;
  ~ResetOnExit() { s.reset(); }
};

}  // namespace detail

/// Runs `sql` with `args` bound (tenantry's own encoding, so a Uuid is a uuid on PostgreSQL and
/// canonical text on SQLite) and calls on_row(statement) for each row.
template <driver_connection Conn, class OnRow, class... Args>
void raw_query(Conn& conn, std::string_view sql, OnRow&& on_row, const Args&... args) {
  auto& st = conn.prepare(tenantry::intern_sql(detail::native_sql<Conn>(sql)));
  detail::ResetOnExit<std::remove_reference_t<decltype(st)>> reset{st};
  int i = 1;
  (detail::bind_arg(st, i++, args), ...);
  while (st.step()) on_row(st);
}
template <class OnRow, class... Args>
void raw_query(tenantry::Database& db, std::string_view sql, OnRow&& on_row, const Args&... args) {
  db.visit([&](auto& c) { raw_query(c, sql, on_row, args...); });
}

/// The single integer a query returns (its first column of its first row).
template <class Conn, class... Args>
std::int64_t raw_int(Conn& conn, std::string_view sql, const Args&... args) {
  std::optional<std::int64_t> v;
  raw_query(conn, sql, [&](auto& st) { if (!v) v = st.column_int(0); }, args...);
  if (!v) FAIL("plain SQL returned no row: " << sql);
  return *v;
}
template <class Conn, class... Args>
std::int64_t raw_count(Conn& conn, std::string_view sql, const Args&... args) {
  return raw_int(conn, sql, args...);
}

/// The text of the first column of the first row; nullopt for NULL or when there is no row.
template <class Conn, class... Args>
std::optional<std::string> raw_text(Conn& conn, std::string_view sql, const Args&... args) {
  std::optional<std::string> v;
  bool first = true;
  raw_query(
      conn, sql,
      [&](auto& st) {
        if (first && !st.column_is_null(0)) v = std::string(st.column_text(0));
        first = false;
      },
      args...);
  return v;
}

/// Every column of the first row as text ("NULL" for NULL); empty when there is no row.
template <class Conn, class... Args>
std::vector<std::string> raw_texts(Conn& conn, std::string_view sql, const Args&... args) {
  std::vector<std::string> out;
  bool first = true;
  raw_query(
      conn, sql,
      [&](auto& st) {
        if (!first) return;
        first = false;
        for (int c = 0; c < st.column_count(); ++c)
          out.push_back(st.column_is_null(c) ? std::string("NULL") : std::string(st.column_text(c)));
      },
      args...);
  return out;
}

/// Rows in a table, counted with plain SQL (no org filter).
template <class Conn>
std::int64_t rows_in(Conn& conn, std::string_view table) {
  return raw_count(conn, "SELECT COUNT(*) FROM \"" + std::string(table) + "\"");
}

/// Inserts an organization through its repository; returns its id as an OrgId.
template <class Conn>
OrgId add_org(Conn& conn, std::string slug) {
  tenantry::Repository<fixtures::Organization, typename Conn::dialect, Conn> orgs{conn};
  fixtures::Organization o = testdb::make_org(std::move(slug));
  orgs.insert(o);
  const OrgId org{o.id};
  // Schema per org: a new org gets its schema and tables (parity::PostgresOrgSchemas).
  if constexpr (std::is_same_v<Conn, tenantry::pg::Connection>)
    if (conn.org_schemas_enabled()) detail::provision_fixture_org(conn, org);
  return org;
}

/// True while the database itself (not just tenantry's scope count) has a transaction open.
inline bool native_in_transaction(tenantry::sqlite::Connection& c) { return sqlite3_get_autocommit(c.native()) == 0; }
inline bool native_in_transaction(tenantry::pg::Connection& c) {
  return PQtransactionStatus(c.native()) != PQTRANS_IDLE;
}
inline bool native_in_transaction(tenantry::Database& db) {
  return db.visit([](auto& c) { return native_in_transaction(c); });
}

/// Bytes from small integers: bytes({0x00, 0xff}) (the blob values the round-trip tests store).
inline tenantry::Bytes bytes(std::initializer_list<int> values) {
  tenantry::Bytes out;
  for (int v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

}  // namespace parity

/// The backends every parity test runs on; the round trip adds parity::SqliteMemory.
#define PARITY_BACKENDS                                                                                     \
  parity::SqliteFile, parity::Postgres, parity::PostgresUnprepared, parity::AnyUrl<parity::SqliteFile>, \
      parity::AnyUrl<parity::Postgres>

/// The org isolation tests run on every parity backend and on the schema-per-org strategy.
#define ORG_ISOLATION_BACKENDS PARITY_BACKENDS, parity::PostgresOrgSchemas
