// Reading SQL text (tenantry/sql_text.hpp), no database: the SQLite CREATE TABLE / CREATE INDEX
// parser on the shapes SQLite accepts, and the expression normalisation the diff compares by.
#include <tenantry/sql_text.hpp>

#include <catch2/catch.hpp>

using namespace tenantry::sql_text;

TEST_CASE("sql_text: CREATE TABLE with column and table constraints, named and not", "[migrate_gen][sql_text]") {
  const auto t = parse_create_table(
      "CREATE TABLE IF NOT EXISTS main.\"odd \"\"name\"\"\" (\n"
      "  id INTEGER PRIMARY KEY AUTOINCREMENT,  -- a comment, with (parentheses)\n"
      "  [group] VARCHAR ( 20 ) NOT NULL CONSTRAINT g_u UNIQUE ON CONFLICT ABORT,\n"
      "  `parent` INT CONSTRAINT fk_p REFERENCES parent ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED,\n"
      "  n NUMERIC(10, 2) DEFAULT -1.5 CHECK (n > -2) COLLATE NOCASE,\n"
      "  total AS (n * 2) STORED,\n"
      "  note TEXT DEFAULT (lower('X')) /* block */,\n"
      "  CONSTRAINT ck_n CHECK (n < 1000),\n"
      "  UNIQUE (\"group\", parent),\n"
      "  FOREIGN KEY (parent, n) REFERENCES other (a, b) ON UPDATE CASCADE ON DELETE RESTRICT\n"
      ") WITHOUT ROWID, STRICT");
  CHECK(t.name == "odd \"name\"");
  CHECK(t.without_rowid);
  CHECK(t.strict);
  REQUIRE(t.columns.size() == 6);
  CHECK(t.columns[0].primary_key);
  CHECK(t.columns[0].autoincrement);
  CHECK(t.columns[1].name == "group");
  CHECK(t.columns[1].type == "VARCHAR ( 20 )");
  CHECK(t.columns[1].definition == "[group] VARCHAR ( 20 ) NOT NULL CONSTRAINT g_u UNIQUE ON CONFLICT ABORT");
  CHECK(t.columns[3].collate == "NOCASE");
  CHECK(t.columns[4].generated == "n * 2");
  CHECK(t.columns[4].stored);
  REQUIRE(t.uniques.size() == 2);
  CHECK(t.uniques[0].name == "g_u");
  CHECK(t.uniques[0].columns == std::vector<std::string>{"group"});
  CHECK(t.uniques[1].name.empty());
  CHECK(t.uniques[1].columns == std::vector<std::string>{"group", "parent"});
  REQUIRE(t.checks.size() == 2);
  CHECK(t.checks[0].expression == "n > -2");
  CHECK(t.checks[1].name == "ck_n");
  REQUIRE(t.foreign_keys.size() == 2);
  CHECK(t.foreign_keys[0].name == "fk_p");
  CHECK(t.foreign_keys[0].parent_columns.empty());  // the parent's key
  CHECK(t.foreign_keys[0].on_delete == "SET NULL");
  CHECK(t.foreign_keys[0].deferrable);
  CHECK(t.foreign_keys[1].columns == std::vector<std::string>{"parent", "n"});
  CHECK(t.foreign_keys[1].on_update == "CASCADE");
  CHECK(t.foreign_keys[1].on_delete == "RESTRICT");
  // The name is replaced where it stands.
  CHECK(rename_created_table("CREATE TABLE  t (a)", "x y") == "CREATE TABLE  \"x y\" (a)");
  CHECK_THROWS_AS(parse_create_table("CREATE TABLE t AS SELECT 1"), tenantry::Error);
  CHECK_THROWS_AS(parse_create_table("CREATE TABLE t (a TEXT CHECK (a > 0)"), tenantry::Error);
}

TEST_CASE("sql_text: CREATE INDEX keys, directions, expressions, predicates", "[migrate_gen][sql_text]") {
  const auto ix = parse_create_index(
      "CREATE UNIQUE INDEX IF NOT EXISTS \"ix\" ON t (a DESC, lower(b) COLLATE NOCASE ASC, \"c\") WHERE a > 0 AND b IS NOT NULL");
  CHECK(ix.unique);
  CHECK(ix.table == "t");
  REQUIRE(ix.keys.size() == 3);
  CHECK(ix.keys[0].is_column);
  CHECK(ix.keys[0].descending);
  CHECK_FALSE(ix.keys[1].is_column);
  CHECK(ix.keys[1].expression == "lower(b)");
  CHECK(ix.keys[1].collate == "NOCASE");
  CHECK(ix.keys[2].expression == "c");
  CHECK(ix.where == "a > 0 AND b IS NOT NULL");
}

TEST_CASE("sql_text: expressions compare by meaning, not by spelling", "[migrate_gen][sql_text]") {
  CHECK(normalize_expression("\"status\" IN ('a', 'b')") == normalize_expression("status in ('a','b')"));
  CHECK(normalize_expression("((n >= 0))") == normalize_expression("n>=0"));
  CHECK(normalize_expression("a>-1") == normalize_expression("a > - 1"));
  CHECK(normalize_expression("'Text'") != normalize_expression("'text'"));   // strings keep their case
  CHECK(normalize_expression("\"Mixed\"") != normalize_expression("mixed"));  // so do quoted names
  CHECK(normalize_expression("(a) + (b)") == "( a ) + ( b )");                // not one outer pair
  const std::map<std::string, std::string> renames{{"old", "new"}};
  CHECK(normalize_expression("\"old\" > 0", &renames) == normalize_expression("new > 0"));
  CHECK(normalize_type("varchar( 20 )") == normalize_type("VARCHAR(20)"));
}
