// Golden tests: the exact SQL each dialect emits for the fixture entities (which use every
// declaration feature) is pinned in tests/golden/. A change to generated SQL must show up as a
// diff of those files in review. To accept an intended change, run the test binary with
// TENANTRY_UPDATE_GOLDEN=1 and read the diff before committing it.
#include "support/entities.hpp"
#include "support/org_leading_entities.hpp"

#include <tenantry/query.hpp>
#include <tenantry/sql_writer.hpp>
#include <tenantry/statements.hpp>

#include "support/golden.hpp"

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

using golden::path_of;

using golden::check_golden;

// One line per statement kind, for the org-scoped ApiToken, the all-types Gadget, the
// composite-key Membership and the global composite-key Setting. Each line is what the
// repository call in its comment sends: the statements:: describers are the ones Repository
// calls, and write_sql is its writer.
template <class D>
std::string statements_sql() {
  namespace st = tenantry::statements;
  using fixtures::TokenStatus;
  std::ostringstream out;
  const auto w = [](const stmt::Statement& s) { return write_sql<D>(s); };
  const auto pred = col(&ApiToken::user_id) == "u" &&
                    (col(&ApiToken::status) != TokenStatus::revoked || col(&ApiToken::last_used_by).is_null());
  const auto in_list = col(&ApiToken::scopes).in({"a", "b", "c"}) || !(col(&ApiToken::name).like("x%"));
  constexpr std::size_t name = detail::field_of(&ApiToken::name), status = detail::field_of(&ApiToken::status);
  static constexpr auto put_target = on_conflict(&ApiToken::id).update(only(&ApiToken::name));
  out << "insert: " << w(st::insert<ApiToken>()) << '\n'                                   // insert(org, row)
      << "find: " << w(st::find<ApiToken>()) << '\n'                                       // find(org, id)
      << "update: " << w(st::update<ApiToken>()) << '\n'                                   // update(org, row)
      << "update only: "                                                                    // update(org, row, only(name, status))
      << w(st::update<ApiToken>({name, status}))
      << '\n'
      << "erase: " << w(st::erase<ApiToken>()) << '\n'  // erase(org, id)
      << "upsert on unique: "
      << w(st::upsert<ApiToken>(on_conflict(&ApiToken::org_id, &ApiToken::token_prefix)
                                    .update(only(&ApiToken::name, &ApiToken::token_hash))))
      << '\n'
      << "upsert on pk: " << w(st::upsert<ApiToken>(on_conflict(&ApiToken::id).update(only(&ApiToken::name)))) << '\n'
      << "upsert do nothing: " << w(st::upsert<ApiToken>(on_conflict(&ApiToken::org_id, &ApiToken::token_prefix).nothing()))
      << '\n'
      << "put (upsert without read-back): "  // put(org, row, on_conflict(&ApiToken::id).update(only(&ApiToken::name)))
      << w(st::upsert<ApiToken>(put_target, false)) << '\n'
      << "list: "
      << w(st::list<ApiToken>(pred, order_by(&ApiToken::created_at).desc(), order_by(&ApiToken::id), limit(5), offset(2)))
      << '\n'
      << "list in/like: " << w(st::list<ApiToken>(in_list, order_by(&ApiToken::user_id))) << '\n'
      << "list offset only: " << w(st::list<ApiToken>(offset(3))) << '\n'
      << "count: " << w(st::count<ApiToken>(pred)) << '\n'
      << "exists: " << w(st::exists<ApiToken>()) << '\n'
      << "erase where: " << w(st::erase_where<ApiToken>(pred)) << '\n'
      << "update where: " << w(st::update_where<ApiToken>({status}, pred)) << '\n';
  out << "gadget insert: " << w(st::insert<Gadget>()) << '\n' << "gadget update: " << w(st::update<Gadget>()) << '\n';
  out << "membership find: " << w(st::find<fixtures::Membership>()) << '\n'
      << "membership update: " << w(st::update<fixtures::Membership>()) << '\n';
  out << "setting find: " << w(st::find<fixtures::Setting>()) << '\n'
      << "setting list: " << w(st::list<fixtures::Setting>(order_by(&fixtures::Setting::name), limit(10))) << '\n';
  out << "organization insert: " << w(st::insert<fixtures::Organization>()) << '\n';
  if constexpr (D::is_postgres) {  // array parameters: PostgreSQL only
    out << "insert_many (unnest): " << w(st::insert_unnest<ApiToken>()) << '\n'               // insert_many(org, rows)
        << "gadget insert_many (unnest): " << w(st::insert_unnest<Gadget>()) << '\n'
        << "find_many: " << w(st::find_many<ApiToken>()) << '\n'                               // find_many(org, ids)
        << "setting find_many: " << w(st::find_many<fixtures::Setting>()) << '\n';             // find_many(keys)
  }
  return out.str();
}

}  // namespace

TEST_CASE("SQLite DDL for every declaration feature", "[golden][sqlite]") {
  check_golden("schema.sqlite.sql", fixtures::schema<SqliteDialect>());
}

TEST_CASE("PostgreSQL DDL for every declaration feature", "[golden][postgres]") {
  check_golden("schema.postgres.sql", fixtures::schema<PgDialect>());
}

TEST_CASE("SQLite statements", "[golden][sqlite]") { check_golden("statements.sqlite.sql", statements_sql<SqliteDialect>()); }

TEST_CASE("PostgreSQL statements", "[golden][postgres]") { check_golden("statements.postgres.sql", statements_sql<PgDialect>()); }

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
  namespace st = tenantry::statements;
  using citus::Account;
  const auto w = [](const stmt::Statement& s) { return write_sql<D>(s); };
  out += "-- statements\n";
  out += "find: " + w(st::find<Account>()) + '\n';
  out += "update: " + w(st::update<Account>()) + '\n';
  out += "erase: " + w(st::erase<Account>()) + '\n';
  out += "upsert on pk: " + w(st::upsert<Account>(on_conflict(&Account::id).update(only(&Account::email, &Account::name)))) + '\n';
  out += "upsert on unique: " + w(st::upsert<Account>(on_conflict(&Account::email).update(only(&Account::name)))) + '\n';
  out += "upsert do nothing: " + w(st::upsert<Account>(on_conflict(&Account::email).nothing())) + '\n';
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
