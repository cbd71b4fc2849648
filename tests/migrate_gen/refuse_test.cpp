// Never lose data silently (schema_diff.hpp): on real catalogs of both dialects, every change
// that could lose data is refused with its reason and the option that would allow it, nothing
// is written, renames are never guessed, and a named rename keeps the data. The lint names the
// risky statements of what is generated. A generated SQLite rebuild that fails part way changes
// nothing and leaves the connection's pragmas as they were.
#include "gen_support.hpp"

#include "support/expect_throw.hpp"
#include "support/migration_dir.hpp"

#include <tenantry/migration_gen.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <vector>

using namespace gen_test;
namespace migrate = tenantry::migrate;
namespace catalog = tenantry::catalog;

namespace {

/// A database holding `before`, and the schema `after` describes.
struct Pair {
  Pair(Dialect d, const std::string& before, const std::string& after, const std::vector<std::string>& tables)
      : db(tenantry::connect(fresh_url(d, file))) {
    db.execute(before);
    from = catalog::read_schema(db);
    to = catalog::describe_ddl(db, after, tables);
  }
  std::optional<TempSqlite> file;
  tenantry::Database db;
  catalog::Schema from, to;
};

migrate::DataLossError refused(const catalog::Schema& from, const catalog::Schema& to, const migrate::Decisions& d = {}) {
  return testdb::expect_throw<migrate::DataLossError>([&] { migrate::generate(from, to, d); });
}

bool any(const std::vector<migrate::Refusal>& r, const std::string& change, const std::string& allow) {
  return std::any_of(r.begin(), r.end(), [&](const migrate::Refusal& x) {
    return x.change.starts_with(change) && x.allow.find(allow) != std::string::npos;
  });
}

}  // namespace

TEST_CASE("refuse: dropping a table or a column, and renames that are not named", "[migrate_gen][refuse]") {
  const Dialect d = GENERATE(Dialect::sqlite, Dialect::postgres);
  SECTION(name(d)) {
    Pair p(d, "CREATE TABLE a (id INTEGER PRIMARY KEY, name TEXT NOT NULL, old TEXT)",
                     "CREATE TABLE b (id INTEGER PRIMARY KEY, name TEXT NOT NULL, old TEXT)", {"b"});
    // Table a is gone, table b is new: a drop (refused) and a create - never guessed as a rename.
    const auto e = refused(p.from, p.to);
    REQUIRE(e.refused().size() == 2);  // the up drops a, the down drops b
    CHECK(e.refused()[0].change == "drop table a");
    CHECK(e.refused()[0].reason == "its rows would be lost");
    CHECK_THAT(e.refused()[0].allow, Catch::Matchers::Contains("--rename a=b") &&
                                         Catch::Matchers::Contains("--allow drop-table:a"));
    CHECK(e.refused()[1].change == "(down migration) drop table b");
    CHECK_THAT(e.refused()[1].allow, Catch::Matchers::Contains("--allow down:drop-table:b"));
    CHECK_THAT(e.what(), Catch::Matchers::Contains("drop table a: its rows would be lost"));
    // Nothing is written when a migration is refused: generate() throws before write_files().
    testdb::MigrationDir dir("refuse");
    CHECK_THROWS_AS(migrate::write_files(dir.path(), "x", migrate::generate(p.from, p.to)), migrate::DataLossError);
    CHECK(std::filesystem::is_empty(dir.path()));

    // Named, it is a rename; explicitly allowed, a drop (and the lint says what it deletes).
    migrate::Decisions rename;
    rename.renames.push_back(migrate::parse_rename("a=b"));
    const auto g = migrate::generate(p.from, p.to, rename);
    std::vector<std::string> expect{"b: rename table a to b"};
    if (d == Dialect::postgres) expect.push_back("b: rename primary key a_pkey to b_pkey");  // PostgreSQL's names
    CHECK(g.changes == expect);
    migrate::Decisions drop;
    drop.up.allow.push_back(migrate::parse_allow("drop-table:a"));
    drop.down.allow.push_back(migrate::parse_allow("drop-table:b"));
    const auto g2 = migrate::generate(p.from, p.to, drop);
    CHECK(std::any_of(g2.lint.begin(), g2.lint.end(), [](const migrate::LintEntry& l) {
      return l.direction == migrate::Direction::up && l.statement == "DROP TABLE \"a\"" &&
             l.reason == "deletes table a and every row in it";
    }));

    // A column gone and a column added: a drop, unless named.
    Pair c(d, "CREATE TABLE a (id INTEGER PRIMARY KEY, name TEXT NOT NULL, old TEXT)",
                     "CREATE TABLE a (id INTEGER PRIMARY KEY, name TEXT NOT NULL, new_name TEXT)", {"a"});
    const auto ec = refused(c.from, c.to);
    REQUIRE(ec.refused().size() == 2);  // up drops old, down drops new_name
    CHECK(any(ec.refused(), "drop column a.old", "--rename a.old=new_name"));
    CHECK(any(ec.refused(), "(down migration) drop column a.new_name", "--allow down:drop-column:a.new_name"));
    migrate::Decisions col;
    col.renames.push_back(migrate::parse_rename("a.old=new_name"));
    CHECK(migrate::generate(c.from, c.to, col).changes == std::vector<std::string>{"a: rename column old to new_name"});
    migrate::Decisions wrong;
    wrong.renames.push_back(migrate::parse_rename("a.nope=new_name"));
    CHECK_THROWS_AS(migrate::generate(c.from, c.to, wrong), tenantry::UsageError);
  }
}

TEST_CASE("refuse: narrowing types, NOT NULL without a value; widening and fills are fine", "[migrate_gen][refuse]") {
  const Dialect d = GENERATE(Dialect::sqlite, Dialect::postgres);
  SECTION(name(d)) {
    const bool pg = d == Dialect::postgres;
    Pair p(d,
                     "CREATE TABLE t (id INTEGER PRIMARY KEY, small INTEGER, code VARCHAR(20), label VARCHAR(10),"
                     " n BIGINT, note TEXT)",
                     "CREATE TABLE t (id INTEGER PRIMARY KEY, small BIGINT, code VARCHAR(10), label TEXT,"
                     " n INTEGER, note TEXT NOT NULL, added TEXT NOT NULL)",
                     {"t"});
    const auto e = refused(p.from, p.to);
    INFO(e.what());
    // (SQLite stores by affinity and ignores VARCHAR lengths: only PostgreSQL narrows.)
    CHECK(any(e.refused(), "change type of t.code", "--allow type:t.code") == pg);
    CHECK(any(e.refused(), "change type of t.n from bigint to integer", "--allow type:t.n") == pg);
    CHECK(any(e.refused(), "make t.note NOT NULL", "--fill t.note=<sql>"));
    CHECK(any(e.refused(), "add column t.added NOT NULL without a default", "--fill t.added=<sql>"));
    // Widening is not refused either way up: integer -> bigint, varchar(10) -> text.
    CHECK_FALSE(any(e.refused(), "change type of t.small", ""));
    CHECK_FALSE(any(e.refused(), "change type of t.label", ""));
    // ... but back down it narrows.
    if (pg) CHECK(any(e.refused(), "(down migration) change type of t.small from bigint to integer", "down:type:t.small"));

    // With the values given and the narrowing allowed, it is generated, and runs.
    migrate::Decisions ok;
    ok.up.fills = {migrate::parse_fill("t.note=''"), migrate::parse_fill("t.added='x'")};
    ok.up.allow = {migrate::parse_allow("type:t.code"), migrate::parse_allow("type:t.n")};
    ok.down.allow = {migrate::parse_allow("type:*"), migrate::parse_allow("drop-column:t.added")};
    p.db.execute("INSERT INTO t (id, small, code, label, n, note) VALUES (1, 2, 'abc', 'l', 5, NULL)");
    const auto g = migrate::generate(p.from, p.to, ok);
    testdb::MigrationDir dir("narrow");
    migrate::write_files(dir.path(), "narrow", g);
    migrate::Runner runner(p.db, dir.path());
    runner.up();
    CHECK(texts(p.db, "SELECT note || '/' || added FROM t") == std::vector<std::string>{"/x"});
    CHECK(migrate::diff(catalog::read_schema(p.db), p.to).empty());
    runner.down(0);
    CHECK(catalog::to_lines(catalog::read_schema(p.db)) == catalog::to_lines(p.from));
  }
}

TEST_CASE("refuse: a failing SQLite rebuild changes nothing and restores the pragmas", "[migrate_gen][refuse]") {
  // A rebuild that adds a foreign key the rows break: PRAGMA foreign_key_check aborts the file's
  // transaction; the schema, the rows and PRAGMA foreign_keys / legacy_alter_table are as before.
  Pair p(Dialect::sqlite, "CREATE TABLE parent (id INTEGER PRIMARY KEY); CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER)",
                   "CREATE TABLE parent (id INTEGER PRIMARY KEY); CREATE TABLE child (id INTEGER PRIMARY KEY,"
                   " parent_id INTEGER REFERENCES parent (id))",
                   {"parent", "child"});
  p.db.execute("INSERT INTO child VALUES (1, 42)");  // no parent 42
  const auto g = migrate::generate(p.from, p.to);
  CHECK(g.up.no_transaction);
  testdb::MigrationDir dir("fkfail");
  migrate::write_files(dir.path(), "fk", g);
  migrate::Runner runner(p.db, dir.path());
  const auto before = schema_snapshot(p.db);
  const auto e = testdb::expect_throw<tenantry::MigrationError>([&] { runner.up(); });
  CHECK_THAT(e.what(), Catch::Matchers::Contains("foreign_key_check_found_violations"));
  CHECK(schema_snapshot(p.db) == before);
  CHECK(scalar(p.db, "SELECT COUNT(*) FROM child") == 1);
  CHECK(scalar(p.db, "PRAGMA foreign_keys") == 1);
  CHECK(scalar(p.db, "PRAGMA legacy_alter_table") == 0);
  // With foreign keys off on the connection before, they stay off.
  runner.force(0);
  p.db.execute("PRAGMA foreign_keys = OFF");
  CHECK_THROWS_AS(runner.up(), tenantry::MigrationError);
  CHECK(scalar(p.db, "PRAGMA foreign_keys") == 0);
  CHECK(scalar(p.db, "PRAGMA legacy_alter_table") == 0);
}

TEST_CASE("refuse: a rebuild failing in its copy leaves legacy_alter_table as it was", "[migrate_gen][refuse]") {
  // The copy into the rebuilt table breaks the new CHECK: the file fails between turning
  // legacy_alter_table on and off again; the runner puts it back.
  Pair p(Dialect::sqlite, "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER)",
         "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER CHECK (n > 0))", {"t"});
  p.db.execute("INSERT INTO t VALUES (1, -1)");
  testdb::MigrationDir dir("checkfail");
  migrate::write_files(dir.path(), "check", migrate::generate(p.from, p.to));
  migrate::Runner runner(p.db, dir.path());
  const auto e = testdb::expect_throw<tenantry::MigrationError>([&] { runner.up(); });
  CHECK_THAT(e.what(), Catch::Matchers::Contains("CHECK constraint failed"));
  CHECK(scalar(p.db, "PRAGMA legacy_alter_table") == 0);
  CHECK(scalar(p.db, "PRAGMA foreign_keys") == 1);
  CHECK(catalog::to_lines(catalog::read_schema(p.db)) == catalog::to_lines(p.from));
}
