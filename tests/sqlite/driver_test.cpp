// The SQLite driver's settings and failure modes, checked against the real library: pragmas it
// sets, double-quoted string literals disabled, the prepared-statement cache, read-only
// connections, and paths that cannot be opened.
#include "support/sqlite_db.hpp"

#include <fstream>
#include <string>

using namespace tenantry;
using fixtures::ApiToken;
using fixtures::Organization;
using testdb::Conn;
using testdb::expect_throw;
using testdb::query_int;
using testdb::query_text;
using testdb::Repo;

namespace {

/// Statements currently prepared on a connection (tenantry's cache is all there is).
int prepared_statements(Conn& conn) {
  int n = 0;
  for (sqlite3_stmt* s = sqlite3_next_stmt(conn.native(), nullptr); s != nullptr; s = sqlite3_next_stmt(conn.native(), s))
    ++n;
  return n;
}

int primary_code(const DatabaseError& e) { return std::stoi(e.code()) & 0xFF; }

}  // namespace

TEST_CASE("connection settings on a database file", "[sqlite][driver]") {
  testdb::FileDb db;
  CHECK(query_int(db.conn, "PRAGMA foreign_keys") == 1);
  CHECK(query_text(db.conn, "PRAGMA journal_mode") == "wal");
  CHECK(query_int(db.conn, "PRAGMA synchronous") == 1);  // NORMAL
  CHECK(query_int(db.conn, "PRAGMA busy_timeout") == 5000);
  CHECK(db.conn.path() == db.file.string());
  CHECK_FALSE(db.conn.in_transaction());

  SECTION("options: busy timeout and no WAL") {
    testdb::TempPath path("nowal");
    tenantry::sqlite::Options options;
    options.busy_timeout_ms = 1234;
    options.wal = false;
    Conn conn{path.string(), options};
    testdb::create_schema(conn);
    CHECK(query_int(conn, "PRAGMA busy_timeout") == 1234);
    CHECK(query_text(conn, "PRAGMA journal_mode") == "delete");
    CHECK(query_int(conn, "PRAGMA foreign_keys") == 1);
  }
}

TEST_CASE("connection settings in memory", "[sqlite][driver]") {
  testdb::MemoryDb db;
  CHECK(query_int(db.conn, "PRAGMA foreign_keys") == 1);
  CHECK(query_text(db.conn, "PRAGMA journal_mode") == "memory");

  // Each :memory: connection is its own database.
  Conn other{":memory:"};
  CHECK(query_int(other, "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table'") == 0);
  std::int64_t tables = 0;
  const std::string schema = fixtures::schema<SqliteDialect>();
  for (auto p = schema.find("CREATE TABLE"); p != std::string::npos; p = schema.find("CREATE TABLE", p + 1)) ++tables;
  CHECK(tables >= 7);
  CHECK(query_int(db.conn, "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table'") == tables);

  // A "file:" URI naming an in-memory database is not switched to WAL either.
  Conn uri{"file:tenantry_driver_test?mode=memory&cache=shared"};
  CHECK(query_text(uri, "PRAGMA journal_mode") == "memory");
  CHECK(query_int(uri, "PRAGMA foreign_keys") == 1);
}

TEST_CASE("foreign keys are enforced on every new connection", "[sqlite][driver]") {
  testdb::FileDb db;
  Conn second{db.file.string()};
  CHECK(query_int(second, "PRAGMA foreign_keys") == 1);
  Repo<ApiToken> tokens{second};
  expect_throw<ForeignKeyViolation>([&] { tokens.insert(OrgId::random(), testdb::make_token("x")); });
  CHECK(testdb::rows_in(db.conn, "api_tokens") == 0);
}

TEST_CASE("double-quoted string literals are errors", "[sqlite][driver]") {
  testdb::MemoryDb db;
  // With SQLite's legacy default this would be the string 'no_such_column'.
  const auto e = expect_throw<DatabaseError>([&] { db.conn.execute("SELECT \"no_such_column\""); });
  CHECK(std::string(e.what()).find("no such column: no_such_column") != std::string::npos);
  CHECK(primary_code(e) == SQLITE_ERROR);
  // The same through a prepared statement, in a WHERE clause (DML) ...
  expect_throw<DatabaseError>(
      [&] { db.conn.prepare(intern_sql("SELECT COUNT(*) FROM \"organizations\" WHERE \"slug\" = \"acme\"")); });
  // ... and in DDL.
  expect_throw<DatabaseError>([&] { db.conn.execute("CREATE INDEX ix_bad ON organizations (\"not_a_column\")"); });
  CHECK(query_int(db.conn, "SELECT COUNT(*) FROM sqlite_schema WHERE name = 'ix_bad'") == 0);
  // Single quotes are string literals, double quotes identifiers.
  CHECK(query_text(db.conn, "SELECT 'no_such_column'") == "no_such_column");
  CHECK(query_int(db.conn, "SELECT COUNT(\"slug\") FROM \"organizations\"") == 0);
}

TEST_CASE("errors carry extended result codes", "[sqlite][driver]") {
  testdb::MemoryDb db;
  db.conn.execute("INSERT INTO settings VALUES ('a', 'b', 'c')");
  const auto e = expect_throw<UniqueViolation>([&] { db.conn.execute("INSERT INTO settings VALUES ('a', 'b', 'd')"); });
  CHECK(e.code() == std::to_string(SQLITE_CONSTRAINT_PRIMARYKEY));
  CHECK(e.table() == "settings");
  CHECK(e.columns() == std::vector<std::string>{"scope", "name"});
  const auto syntax = expect_throw<DatabaseError>([&] { db.conn.execute("SELEC 1"); });
  CHECK(syntax.code() == std::to_string(SQLITE_ERROR));
}

TEST_CASE("prepared statements are cached per connection", "[sqlite][driver]") {
  testdb::MemoryDb db;
  const Sql one = intern_sql("SELECT 1");
  const Sql same = intern_sql(std::string("SELECT ") + "1");
  const Sql two = intern_sql("SELECT 2");
  CHECK(one.id == same.id);
  CHECK(one.text == same.text);
  CHECK(one.id != two.id);

  sqlite::Statement& first = db.conn.prepare(one);
  CHECK(&db.conn.prepare(same) == &first);
  CHECK(&db.conn.prepare(two) != &first);
  CHECK(first.native() == db.conn.prepare(one).native());
  {
    sqlite::StatementScope s(db.conn.prepare(two));
    REQUIRE(s->step());
    CHECK(s->column_int(0) == 2);
  }
  // Another connection prepares its own.
  Conn other{":memory:"};
  CHECK(&other.prepare(one) != &first);

  SECTION("repositories reuse one statement per shape") {
    const OrgId org = testdb::add_org(db.conn, "acme");
    Repo<ApiToken> tokens{db.conn};
    ApiToken t = tokens.insert(org, testdb::make_token("a"));
    (void)tokens.find(org, t.id);
    (void)tokens.list(org, col(&ApiToken::user_id) == "x", limit(3));
    const int after_first_use = prepared_statements(db.conn);
    for (int k = 0; k < 20; ++k) {
      tokens.insert(org, testdb::make_token("p" + std::to_string(k)));
      CHECK(tokens.find(org, t.id).has_value());
      CHECK(tokens.list(org, col(&ApiToken::user_id) == "user-" + std::to_string(k), limit(k)).size() <= 1);
    }
    CHECK(prepared_statements(db.conn) == after_first_use);
    // A new shape (another IN-list length) is one more statement.
    (void)tokens.list(org, col(&ApiToken::user_id).in({"a", "b"}));
    CHECK(prepared_statements(db.conn) == after_first_use + 1);
    (void)tokens.list(org, col(&ApiToken::user_id).in({"c", "d"}));
    CHECK(prepared_statements(db.conn) == after_first_use + 1);

    db.conn.clear_statement_cache();
    CHECK(prepared_statements(db.conn) == 0);
    CHECK(tokens.count(org) == 21);  // re-prepared on demand
    CHECK(prepared_statements(db.conn) == 1);
  }
}

TEST_CASE("a read-only connection reads but refuses writes", "[sqlite][driver]") {
  testdb::FileDb db;
  const OrgId org = testdb::add_org(db.conn, "acme");
  Repo<ApiToken>(db.conn).insert(org, testdb::make_token("a"));

  tenantry::sqlite::Options options;
  options.read_only = true;
  Conn ro{db.file.string(), options};
  Repo<ApiToken> tokens{ro};
  CHECK(tokens.count(org) == 1);

  bool threw = false;
  try {
    tokens.insert(org, testdb::make_token("b"));
  } catch (const DatabaseError& e) {
    threw = true;
    CHECK(primary_code(e) == SQLITE_READONLY);
    CHECK(dynamic_cast<const ConstraintViolation*>(&e) == nullptr);
  }
  CHECK(threw);
  CHECK(primary_code(expect_throw<DatabaseError>([&] { ro.execute("DELETE FROM api_tokens"); })) == SQLITE_READONLY);
  CHECK(primary_code(expect_throw<DatabaseError>([&] { ro.execute("CREATE TABLE t (x INTEGER)"); })) == SQLITE_READONLY);
  CHECK(testdb::rows_in(db.conn, "api_tokens") == 1);
  CHECK(query_int(db.conn, "SELECT COUNT(*) FROM sqlite_schema WHERE name = 't'") == 0);
}

TEST_CASE("paths that cannot be opened give ConnectionError", "[sqlite][driver]") {
  SECTION("a directory") {
    const auto e = expect_throw<ConnectionError>([&] { Conn c{testdb::temp_dir().string()}; });
    CHECK(primary_code(e) == SQLITE_CANTOPEN);
  }
  SECTION("a file in a directory that does not exist") {
    const std::string path = (testdb::temp_dir() / "tenantry-no-such-dir" / "x.db").string();
    const auto e = expect_throw<ConnectionError>([&] { Conn c{path}; });
    CHECK(primary_code(e) == SQLITE_CANTOPEN);
    CHECK(std::string(e.what()).find(path) != std::string::npos);
    CHECK_FALSE(testdb::fs::exists(path));
  }
  SECTION("a file in a directory without write permission") {
    if (::geteuid() == 0) {
      WARN("running as root: directory permissions do not apply, section skipped");
    } else {
      const testdb::fs::path dir = testdb::temp_dir() / ("tenantry-ro-dir-" + std::to_string(::getpid()));
      testdb::fs::create_directories(dir);
      testdb::fs::permissions(dir, testdb::fs::perms::owner_read | testdb::fs::perms::owner_exec);
      const auto e = expect_throw<ConnectionError>([&] { Conn c{(dir / "x.db").string()}; });
      testdb::fs::permissions(dir, testdb::fs::perms::owner_all);
      testdb::fs::remove_all(dir);
      CHECK(primary_code(e) == SQLITE_CANTOPEN);
    }
  }
  SECTION("a missing file without create, or read-only") {
    testdb::TempPath missing("missing");
    tenantry::sqlite::Options no_create;
    no_create.create = false;
    expect_throw<ConnectionError>([&] { Conn c{missing.string(), no_create}; });
    tenantry::sqlite::Options ro;
    ro.read_only = true;
    expect_throw<ConnectionError>([&] { Conn c{missing.string(), ro}; });
    CHECK_FALSE(testdb::fs::exists(missing.path()));
  }
  SECTION("a file that is not a database") {
    testdb::TempPath garbage("garbage");
    std::ofstream(garbage.path()) << std::string(4096, 'x');
    const auto e = expect_throw<ConnectionError>([&] { Conn c{garbage.string()}; });
    CHECK(primary_code(e) == SQLITE_NOTADB);
  }
}
