// Generated migrations (schema_diff.hpp, migration_writer_*.hpp, migration_gen.hpp) on real
// SQLite files and the real PostgreSQL, for every change kind, on populated tables: the
// generated up file, applied by migrate::Runner, gives exactly the target schema (read back from
// the catalog) with the rows carried over; the generated down file returns the original catalog
// (SQLite: the same CREATE statements, byte for byte) and the original rows.
#include "gen_support.hpp"

#include "support/migration_dir.hpp"

#include <tenantry/migration_gen.hpp>

#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

using namespace gen_test;
namespace migrate = tenantry::migrate;
namespace catalog = tenantry::catalog;

namespace {

/// `sql` with $name placeholders replaced for the dialect: $uuid, $ts (timestamp), $bool, $true,
/// $false, $json.
std::string dialect_sql(std::string sql, bool pg) {
  const std::vector<std::pair<std::string, std::string>> words{
      {"$uuid", pg ? "UUID" : "TEXT"},       {"$ts", pg ? "TIMESTAMPTZ" : "TEXT"}, {"$bool", pg ? "BOOLEAN" : "INTEGER"},
      {"$true", pg ? "TRUE" : "1"},          {"$false", pg ? "FALSE" : "0"},       {"$json", pg ? "JSONB" : "TEXT"},
      {"$bigint", pg ? "BIGINT" : "INTEGER"}};
  for (const auto& [from, to] : words)
    for (std::size_t at = sql.find(from); at != std::string::npos; at = sql.find(from, at + to.size()))
      sql.replace(at, from.size(), to);
  return sql;
}

/// Every row of every table as text lines "table: v1|v2|..." (columns in name order), sorted.
std::vector<std::string> all_rows(tenantry::Database& db, const catalog::Schema& s) {
  std::vector<std::string> out;
  for (const auto& t : s.tables) {
    std::vector<std::string> cols;
    for (const auto& c : t.columns) cols.push_back(c.name);
    std::sort(cols.begin(), cols.end());
    std::string expr;
    for (const auto& c : cols) {
      if (!expr.empty()) expr += " || '|' || ";
      expr += db.is_sqlite() ? "quote(\"" + c + "\")" : "quote_nullable(\"" + c + "\"::text)";
    }
    for (auto& line : texts(db, "SELECT " + expr + " FROM \"" + t.name + "\"")) out.push_back(t.name + ": " + line);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> table_names(const std::string& ddl, bool pg) {
  // The tables a test's DDL creates: every CREATE TABLE name.
  std::vector<std::string> out;
  const std::string text = dialect_sql(ddl, pg);
  const auto tokens = tenantry::sql_text::tokenize(text);
  for (std::size_t i = 0; i + 2 < tokens.size(); ++i)
    if (tokens[i].is_word("CREATE") && tokens[i + 1].is_word("TABLE")) out.push_back(tokens[i + 2].value);
  return out;
}

/// The SQLite schema as sqlite_schema holds it, each CREATE TABLE with its table name quoted:
/// a rebuilt table is renamed into place, and SQLite's RENAME writes the new name quoted.
std::vector<std::string> exact_schema(tenantry::Database& db) {
  if (!db.is_sqlite()) return schema_snapshot(db);
  std::vector<std::string> out;
  for_each_row(db, "SELECT type, name, sql FROM sqlite_schema WHERE name NOT LIKE '\\_tenantry\\_%' ESCAPE '\\'"
                   " ORDER BY type, name", [&](auto& st) {
    const std::string type(st.column_text(0)), name(st.column_text(1)), sql(st.column_text(2));
    out.push_back(type + " " + name + ": " + (type == "table" ? tenantry::sql_text::rename_created_table(sql, name) : sql));
  });
  return out;
}

struct Scenario {
  std::string before, rows, after;
  migrate::Decisions decisions{};
  /// Columns whose values the round trip cannot bring back ("table.column"): dropped by up.
  std::vector<std::string> lost{};
};

struct Outcome {
  migrate::Generated generated;
  std::vector<std::string> rows_after_up;
};

/// Creates `before` with `rows`, generates the migration to `after`, applies it and reverts it,
/// checking the catalog and rows at each step.
Outcome round_trip(Dialect d, const Scenario& sc) {
  const bool pg = d == Dialect::postgres;
  std::optional<TempSqlite> file;
  tenantry::Database db = tenantry::connect(fresh_url(d, file));
  db.execute(dialect_sql(sc.before, pg));
  if (!sc.rows.empty()) db.execute(dialect_sql(sc.rows, pg));
  const auto snapshot_before = exact_schema(db);
  const catalog::Schema from = catalog::read_schema(db);
  const auto rows_before = all_rows(db, from);
  const catalog::Schema to = catalog::describe_ddl(db, dialect_sql(sc.after, pg), table_names(sc.after, pg));

  Outcome out{migrate::generate(from, to, sc.decisions), {}};
  REQUIRE_FALSE(out.generated.empty());
  testdb::MigrationDir dir("gen");
  migrate::write_files(dir.path(), "change", out.generated);
  INFO("up:\n" << tenantry::migrate::read_file(dir.file("0001_change.up.sql")));
  INFO("down:\n" << tenantry::migrate::read_file(dir.file("0001_change.down.sql")));
  migrate::Runner runner(db, dir.path());
  REQUIRE(runner.up().versions == std::vector<std::int64_t>{1});
  const catalog::Schema after = catalog::read_schema(db);
  {
    INFO("after up vs target:\n" << line_diff(catalog::to_lines(after), catalog::to_lines(to)));
    CHECK(catalog::to_lines(after) == catalog::to_lines(to));
  }
  if (!pg) {
    // The tables are the target's CREATE TABLE text exactly (SQLite keeps the text).
    // (A rebuilt table was renamed into place, which SQLite records with its name quoted.)
    for (const auto& t : to.tables) {
      const std::string& sql = after.table(t.name)->sql;
      CHECK((sql == t.sql || sql == tenantry::sql_text::rename_created_table(t.sql, t.name)));
    }
  }
  // Nothing left to do: the database is the target.
  CHECK(migrate::diff(catalog::read_schema(db), to).empty());
  out.rows_after_up = all_rows(db, after);
  CHECK(out.rows_after_up.size() == rows_before.size());

  REQUIRE(runner.down(0).versions == std::vector<std::int64_t>{1});
  const auto snapshot_back = exact_schema(db);
  INFO("after down vs before:\n" << diff(snapshot_back, snapshot_before));
  CHECK(snapshot_back == snapshot_before);
  auto rows_back = all_rows(db, from);
  if (sc.lost.empty()) {
    CHECK(rows_back == rows_before);
  } else {
    CHECK(rows_back.size() == rows_before.size());
  }
  if (!pg) CHECK(scalar(db, "PRAGMA foreign_keys") == 1);
  return out;
}

const char* const parent_and_child = R"SQL(
CREATE TABLE parents (id $uuid NOT NULL PRIMARY KEY, name TEXT NOT NULL, code VARCHAR(10) NOT NULL UNIQUE);
CREATE TABLE items (
  id INTEGER NOT NULL PRIMARY KEY,
  parent_id $uuid REFERENCES parents (id) ON DELETE CASCADE,
  title TEXT NOT NULL,
  qty INTEGER NOT NULL DEFAULT 0 CHECK (qty >= 0),
  note TEXT,
  done $bool NOT NULL DEFAULT $false,
  created_at $ts NOT NULL
);
CREATE INDEX items_title ON items (title);
)SQL";

const char* const parent_and_child_rows = R"SQL(
INSERT INTO parents (id, name, code) VALUES
  ('00000000-0000-4000-8000-0000000000a1', 'alpha', 'A'),
  ('00000000-0000-4000-8000-0000000000a2', 'béta ''quoted''', 'B');
INSERT INTO items (id, parent_id, title, qty, note, done, created_at) VALUES
  (1, '00000000-0000-4000-8000-0000000000a1', 'one', 3, NULL, $true, '2024-01-31T12:00:00.000000Z'),
  (2, '00000000-0000-4000-8000-0000000000a1', 'two', 0, 'n', $false, '2024-02-01T12:00:00.000000Z'),
  (3, NULL, 'three', 7, NULL, $false, '2024-02-02T12:00:00.000000Z');
)SQL";

}  // namespace

TEST_CASE("generate: constraints, indexes, defaults and nullability change in place and back", "[migrate_gen][generate]") {
  const Dialect d = GENERATE(Dialect::sqlite, Dialect::postgres);
  SECTION(name(d)) {
    Scenario sc{parent_and_child, parent_and_child_rows, R"SQL(
CREATE TABLE parents (id $uuid NOT NULL, name TEXT NOT NULL, code VARCHAR(10) NOT NULL,
  CONSTRAINT pk_parents PRIMARY KEY (id), CONSTRAINT uq_parents_code_name UNIQUE (code, name));
CREATE TABLE items (
  id INTEGER NOT NULL PRIMARY KEY,
  parent_id $uuid CONSTRAINT fk_items_parent REFERENCES parents (id) ON DELETE SET NULL,
  title TEXT NOT NULL,
  qty INTEGER NOT NULL DEFAULT 1 CHECK (qty >= 0) CHECK (qty < 1000),
  note TEXT NOT NULL DEFAULT '',
  done $bool,
  created_at $ts NOT NULL
);
CREATE INDEX items_recent ON items (parent_id, created_at DESC) WHERE done IS NOT NULL;
CREATE UNIQUE INDEX items_title_unique ON items (title);
)SQL"};
    sc.decisions.up.fills.push_back(migrate::parse_fill("items.note=''"));
    sc.lost = {"items.note"};  // its NULLs became '' on the way up
    sc.decisions.down.fills.push_back(migrate::parse_fill(d == Dialect::postgres ? "items.done=FALSE" : "items.done=0"));
    const Outcome o = round_trip(d, sc);
    // The NULL note became '' on the way up.
    CHECK(std::any_of(o.rows_after_up.begin(), o.rows_after_up.end(),
                      [](const std::string& r) { return r.starts_with("items: ") && r.find("'three'") != std::string::npos &&
                                                        r.find("''|") != std::string::npos; }));
    CHECK(o.generated.up.no_transaction == (d == Dialect::sqlite));  // SQLite: rebuilt
  }
}

TEST_CASE("generate: tables and columns added, renamed, retyped and dropped, and back", "[migrate_gen][generate]") {
  const Dialect d = GENERATE(Dialect::sqlite, Dialect::postgres);
  SECTION(name(d)) {
    const bool pg = d == Dialect::postgres;
    Scenario sc{parent_and_child, parent_and_child_rows, std::string(R"SQL(
CREATE TABLE owners (id $uuid NOT NULL PRIMARY KEY, name TEXT NOT NULL, code VARCHAR(20) NOT NULL UNIQUE,
  rank $bigint NOT NULL DEFAULT 5);
CREATE TABLE entries (
  id INTEGER NOT NULL PRIMARY KEY,
  owner_id $uuid REFERENCES owners (id) ON DELETE CASCADE,
  label TEXT NOT NULL,
  qty $bigint NOT NULL DEFAULT 0 CHECK (qty >= 0),
  note TEXT,
  done $bool NOT NULL DEFAULT $false,
  created_at $ts NOT NULL,
  priority INTEGER NOT NULL
);
CREATE INDEX entries_label ON entries (label);
CREATE TABLE tags (id INTEGER NOT NULL PRIMARY KEY, entry_id INTEGER NOT NULL REFERENCES entries (id), tag TEXT NOT NULL);
)SQL")};
    sc.decisions.renames = {migrate::parse_rename("parents=owners"), migrate::parse_rename("items=entries"),
                            migrate::parse_rename("entries.parent_id=owner_id"), migrate::parse_rename("entries.title=label")};
    sc.decisions.up.fills.push_back(migrate::parse_fill("entries.priority=2"));
    // The down drops the column and table the up added: allowed for that direction only.
    // ... and narrows two columns back: allowed too (the values written before the up fit).
    sc.decisions.down.allow = {migrate::parse_allow("drop-column:items.priority"), migrate::parse_allow("drop-table:tags"),
                               migrate::parse_allow("drop-column:parents.rank"), migrate::parse_allow("type:parents.code")};
    if (pg) sc.decisions.down.allow.push_back(migrate::parse_allow("type:items.qty"));
    const Outcome o = round_trip(d, sc);
    CHECK(std::count_if(o.rows_after_up.begin(), o.rows_after_up.end(),
                        [](const std::string& r) { return r.starts_with("entries: "); }) == 3);
  }
}

TEST_CASE("generate: a type change with a conversion, both ways", "[migrate_gen][generate]") {
  const Dialect d = GENERATE(Dialect::sqlite, Dialect::postgres);
  SECTION(name(d)) {
    const bool pg = d == Dialect::postgres;
    Scenario sc{"CREATE TABLE s (id TEXT NOT NULL PRIMARY KEY, expiry INTEGER NOT NULL);",
                "INSERT INTO s VALUES ('a', 1706702400), ('b', 1706788800);",
                std::string("CREATE TABLE s (id TEXT NOT NULL PRIMARY KEY, expiry ") + (pg ? "TIMESTAMPTZ" : "TEXT") +
                    " NOT NULL);"};
    migrate::Conversion c{"s", "expiry", {}, {}};
    c.up_sql = pg ? "to_timestamp(\"expiry\")" : "strftime('%Y-%m-%dT%H:%M:%S.000000Z', \"expiry\", 'unixepoch')";
    c.down_sql = pg ? "CAST(extract(epoch FROM \"expiry\") AS INTEGER)" : "CAST(strftime('%s', \"expiry\") AS INTEGER)";
    sc.decisions.conversions.push_back(c);
    const Outcome o = round_trip(d, sc);
    const std::string expect = pg ? "s: '2024-01-31 12:00:00+00'|'a'" : "s: '2024-01-31T12:00:00.000000Z'|'a'";
    CHECK(std::find(o.rows_after_up.begin(), o.rows_after_up.end(), expect) != o.rows_after_up.end());
  }
}
