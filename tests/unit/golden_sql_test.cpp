// Golden tests: the exact SQL each dialect emits for the fixture entities (which use every
// declaration feature) is pinned in tests/golden/. A change to generated SQL must show up as a
// diff of those files in review. To accept an intended change, run the test binary with
// TENANTRY_UPDATE_GOLDEN=1 and read the diff before committing it.
#include "support/entities.hpp"
#include "support/org_leading_entities.hpp"

#include <tenantry/query.hpp>
#include <tenantry/statements.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

using namespace tenantry;
using fixtures::ApiToken;
using fixtures::Gadget;

namespace {

std::string golden_path(const std::string& name) { return std::string(TENANTRY_SOURCE_DIR) + "/tests/golden/" + name; }

void check_golden(const std::string& name, const std::string& actual) {
  const std::string path = golden_path(name);
  if (std::getenv("TENANTRY_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path, std::ios::binary) << actual;
    WARN("updated " << path);
    return;
  }
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::stringstream expected;
  expected << in.rdbuf();
  CHECK(actual == expected.str());
}

// One line per statement kind, for the org-scoped ApiToken, the all-types Gadget, the
// composite-key Membership and the global composite-key Setting.
template <class D>
std::string statements() {
  std::ostringstream out;
  const TableInfo& t = table_info<ApiToken>();
  const auto pred = col(&ApiToken::user_id) == "u" &&
                    (col(&ApiToken::status) != fixtures::TokenStatus::revoked || col(&ApiToken::last_used_by).is_null());
  const auto where = [&](std::string& s, int& next) { pred.template sql<D>(s, t, next); };
  const auto nothing = [](std::string&, int&) {};
  const auto in_list = col(&ApiToken::scopes).in({"a", "b", "c"}) || !(col(&ApiToken::name).like("x%"));
  const auto where_in = [&](std::string& s, int& next) { in_list.template sql<D>(s, t, next); };
  const std::size_t user = 2, prefix = 4, name = 3, hash = 5, status = 7, created = 9;
  out << "insert: " << sql::insert<D>(t) << '\n'
      << "find: " << sql::find<D>(t) << '\n'
      << "update: " << sql::update<D>(t, sql::updatable_columns(t)) << '\n'
      << "update only: " << sql::update<D>(t, {name, status}) << '\n'
      << "erase: " << sql::erase<D>(t) << '\n'
      << "upsert on unique: " << sql::upsert<D>(t, {1, prefix}, {name, hash}, false) << '\n'
      << "upsert on pk: " << sql::upsert<D>(t, {0}, {name}, false) << '\n'
      << "upsert do nothing: " << sql::upsert<D>(t, {1, prefix}, {}, true) << '\n'
      << "list: " << sql::filtered<D>(t, sql::Verb::select, where, {{created, true}, {0, false}}, true, true) << '\n'
      << "list in/like: " << sql::filtered<D>(t, sql::Verb::select, where_in, {{user, false}}, false, false) << '\n'
      << "list offset only: " << sql::filtered<D>(t, sql::Verb::select, nothing, {}, false, true) << '\n'
      << "count: " << sql::filtered<D>(t, sql::Verb::count, where, {}, false, false) << '\n'
      << "exists: " << sql::filtered<D>(t, sql::Verb::exists, nothing, {}, false, false) << '\n'
      << "erase where: " << sql::filtered<D>(t, sql::Verb::erase, where, {}, false, false) << '\n'
      << "update where: " << sql::update_filtered<D>(t, {status}, where) << '\n';
  const TableInfo& g = table_info<Gadget>();
  out << "gadget insert: " << sql::insert<D>(g) << '\n'
      << "gadget update: " << sql::update<D>(g, sql::updatable_columns(g)) << '\n';
  const TableInfo& m = table_info<fixtures::Membership>();
  out << "membership find: " << sql::find<D>(m) << '\n' << "membership update: " << sql::update<D>(m, sql::updatable_columns(m)) << '\n';
  const TableInfo& s = table_info<fixtures::Setting>();
  out << "setting find: " << sql::find<D>(s) << '\n'
      << "setting list: " << sql::filtered<D>(s, sql::Verb::select, nothing, {{1, false}}, true, false) << '\n';
  const TableInfo& o = table_info<fixtures::Organization>();
  out << "organization insert: " << sql::insert<D>(o) << '\n';
  return out.str();
}

}  // namespace

TEST_CASE("SQLite DDL for every declaration feature", "[golden][sqlite]") {
  check_golden("schema.sqlite.sql", fixtures::schema<SqliteDialect>());
}

TEST_CASE("PostgreSQL DDL for every declaration feature", "[golden][postgres]") {
  check_golden("schema.postgres.sql", fixtures::schema<PgDialect>());
}

TEST_CASE("SQLite statements", "[golden][sqlite]") { check_golden("statements.sqlite.sql", statements<SqliteDialect>()); }

TEST_CASE("PostgreSQL statements", "[golden][postgres]") { check_golden("statements.postgres.sql", statements<PgDialect>()); }

TEST_CASE("PostgreSQL row-level security policies", "[golden][postgres]") {
  std::string out;
  for (const auto& s : create_statements<ApiToken, PgDialect>(DdlOptions{.row_level_security = true})) out += s + ";\n";
  for (const auto& s : create_statements<fixtures::Organization, PgDialect>(DdlOptions{.row_level_security = true})) out += s + ";\n";
  check_golden("rls.postgres.sql", out);
  // SQLite has no row-level security: the option adds nothing there.
  CHECK(create_statements<ApiToken, SqliteDialect>(DdlOptions{.row_level_security = true}).size() == 2);
}

TEST_CASE("IF NOT EXISTS is opt-in", "[golden]") {
  const auto stmts = create_statements<ApiToken, SqliteDialect>(DdlOptions{.if_not_exists = true});
  REQUIRE(stmts.size() == 2);
  CHECK(stmts[0].rfind("CREATE TABLE IF NOT EXISTS \"api_tokens\" (", 0) == 0);
  CHECK(stmts[1] == R"(CREATE INDEX IF NOT EXISTS "ix_api_tokens_org_id_user_id" ON "api_tokens" ("org_id", "user_id"))");
}

TEST_CASE("long constraint names are cut to PostgreSQL's 63 bytes, deterministically", "[golden]") {
  const std::string a = constraint_name("uq", "a_table_with_a_rather_long_name", {"first_long_column", "second_long_column"});
  const std::string b = constraint_name("uq", "a_table_with_a_rather_long_name", {"first_long_column", "second_long_columns"});
  CHECK(a.size() == 63);
  CHECK(b.size() == 63);
  CHECK(a != b);
  CHECK(a.substr(0, 54) == b.substr(0, 54));
  CHECK(a == constraint_name("uq", "a_table_with_a_rather_long_name", {"first_long_column", "second_long_column"}));
  CHECK(constraint_name("uq", "t", {"a", "b"}) == "uq_t_a_b");
}

TEST_CASE("identifiers and literals are quoted", "[golden]") {
  std::string s;
  SqliteDialect::quote(s, R"(we"ird)");
  CHECK(s == R"("we""ird")");
  s.clear();
  PgDialect::literal(s, Literal::of("it's"));
  CHECK(s == "'it''s'");
  s.clear();
  PgDialect::literal(s, Literal::of(true));
  SqliteDialect::literal(s, Literal::of(true));
  PgDialect::literal(s, Literal::of(0.1));
  CHECK(s == "TRUE10.1");
}

// Org-leading keys (entity<T>::org_leading_keys): the primary key and every UNIQUE and unique
// index of the table start with the org, references between org-scoped tables name (org, id),
// and an upsert on a target without the org gets it prepended.
template <class D>
std::string org_leading_sql() {
  std::string out = citus::schema<D>();
  const TableInfo& a = table_info<citus::Account>();
  const std::size_t email = 2, name = 3;
  out += "-- statements\n";
  out += "find: " + sql::find<D>(a) + '\n';
  out += "update: " + sql::update<D>(a, sql::updatable_columns(a)) + '\n';
  out += "erase: " + sql::erase<D>(a) + '\n';
  out += "upsert on pk: " + sql::upsert<D>(a, {0}, {email, name}, false) + '\n';
  out += "upsert on unique: " + sql::upsert<D>(a, {email}, {name}, false) + '\n';
  out += "upsert do nothing: " + sql::upsert<D>(a, {email}, {}, true) + '\n';
  return out;
}

TEST_CASE("org-leading keys: SQLite DDL and statements", "[golden][sqlite]") {
  check_golden("org_leading.sqlite.sql", org_leading_sql<SqliteDialect>());
  // A SET NULL reference to an org-leading table needs a column list SQLite does not have.
  CHECK_THROWS_AS((create_statements<citus::Memo, SqliteDialect>()), UsageError);
}

TEST_CASE("org-leading keys: PostgreSQL DDL and statements", "[golden][postgres]") {
  check_golden("org_leading.postgres.sql", org_leading_sql<PgDialect>());
}

TEST_CASE("org-leading keys: the table description", "[golden]") {
  const TableInfo& a = table_info<citus::Account>();
  CHECK(a.org_leading_keys);
  CHECK(a.primary_key == std::vector<std::size_t>{1, 0});
  CHECK(sql::key_columns(a) == std::vector<std::size_t>{0});  // callers still pass the id alone
  for (const auto& u : a.uniques) CHECK(u.columns.front() == a.org_column);
  for (const auto& ix : a.indexes)
    if (ix.unique) CHECK(ix.columns.front() == a.org_column);
  // No implicit (org, id) twin: the primary key is it.
  CHECK(std::none_of(a.uniques.begin(), a.uniques.end(), [](const UniqueInfo& u) { return u.implicit; }));
  // A global table is never affected, nor an org-scoped one without the declaration.
  CHECK_FALSE(table_info<fixtures::ApiToken>().org_leading_keys);
  CHECK(table_info<fixtures::ApiToken>().primary_key == std::vector<std::size_t>{0});
}
