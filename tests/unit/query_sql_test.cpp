// Golden SQL of every query form (select.hpp) on both dialects: joins, a left join, aliases of
// one table, aggregates with GROUP BY / HAVING, EXISTS and IN subqueries, and a repository
// erase_where with a subquery. Each org-scoped table carries its own org equality.
#include "queries/queries.hpp"

#include <tenantry/dialect/postgres.hpp>
#include <tenantry/dialect/sqlite.hpp>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

using namespace tenantry;
using namespace qfx;

namespace {

void check_golden(const std::string& name, const std::string& actual) {
  const std::string path = std::string(TENANTRY_SOURCE_DIR) + "/tests/golden/" + name;
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

template <class D>
std::string queries() {
  const Uuid id = Uuid::parse("00000000-0000-4000-8000-000000000001");
  std::ostringstream out;
  out << "keys with owners: " << sql_of<D>(keys_with_owners()) << '\n'
      << "members and keys (left join): " << sql_of<D>(members_and_keys()) << '\n'
      << "capabilities of a member: " << sql_of<D>(capabilities_of(id)) << '\n'
      << "descendants (alias): " << sql_of<D>(descendants_of(id)) << '\n'
      << "ancestry (two aliases): " << sql_of<D>(ancestry()) << '\n'
      << "keys per status: " << sql_of<D>(keys_per_status(1)) << '\n'
      << "usage per member: " << sql_of<D>(usage_per_member()) << '\n'
      << "members with active keys (exists): " << sql_of<D>(members_with_active_keys()) << '\n'
      << "keys of a role (in subquery): " << sql_of<D>(keys_of_role(id)) << '\n'
      << "accounts (global only): " << sql_of<D>(accounts_like("%")) << '\n'
      << "erase_where not exists: "
      << write_sql<D>(statements::erase_where<Key>(not_exists(from<Member>().where(col(&Member::id) == col(&Key::member_id)))))
      << '\n'
      << "keyset, one direction: "
      << write_sql<D>(statements::list<Key>(order_by(&Key::name), order_by(&Key::id), after(Key{}), limit(50))) << '\n'
      << "keyset, mixed directions: "
      << write_sql<D>(statements::list<Key>(col(&Key::status) == KeyStatus::active, order_by(&Key::uses).desc(),
                                            order_by(&Key::id), after(Key{}), limit(50)))
      << '\n'
      << "insert select: "
      << write_sql<D>(query_detail::describe_insert_select(copy_default_roles_into(), default_roles_for(id))) << '\n'
      << "count with or at the top: "
      << write_sql<D>(statements::count<Key>(col(&Key::name) == "a" || col(&Key::name) == "b", !(col(&Key::uses) > 3)))
      << '\n';
  return out.str();
}

}  // namespace

TEST_CASE("SQLite query statements", "[golden][sqlite][query]") { check_golden("queries.sqlite.sql", queries<SqliteDialect>()); }
TEST_CASE("PostgreSQL query statements", "[golden][postgres][query]") {
  check_golden("queries.postgres.sql", queries<PgDialect>());
}

TEST_CASE("every org-scoped table of a query gets the org parameter", "[query]") {
  // Four org-scoped tables, one global: four org equalities on $1, and the joined ones also
  // equated to the FROM table's org column.
  const std::string s = sql_of<PgDialect>(keys_with_owners());
  const auto occurrences = [&](const std::string& needle) {
    std::size_t n = 0;
    for (auto p = s.find(needle); p != std::string::npos; p = s.find(needle, p + 1)) ++n;
    return n;
  };
  CHECK(occurrences("\"org_id\" = $1") == 2);  // q_keys (WHERE) and q_members (ON); q_accounts is global
  CHECK(occurrences("\"t1\".\"org_id\" = \"t0\".\"org_id\"") == 1);
  // The optional side of a left join carries its org in ON, never in WHERE (which would make the
  // join inner, and is not where it keeps another org's rows out).
  const std::string l = sql_of<PgDialect>(members_and_keys());
  CHECK(l.find("LEFT JOIN \"q_keys\" AS \"t1\" ON \"t1\".\"member_id\" = \"t0\".\"id\" AND \"t1\".\"org_id\" = $1") != std::string::npos);
  // A subquery's org-scoped table gets the same $1.
  const std::string e = sql_of<SqliteDialect>(members_with_active_keys());
  CHECK(e.find("EXISTS (SELECT 1 FROM \"q_keys\" AS \"t0\" WHERE \"t0\".\"org_id\" = ?1") != std::string::npos);
}

TEST_CASE("a description is its cache key: equal shapes, equal text; different shapes, different text", "[query]") {
  const Uuid a = Uuid::parse("00000000-0000-4000-8000-000000000001");
  const Uuid b = Uuid::parse("00000000-0000-4000-8000-000000000002");
  const auto d1 = query_detail::describe_top<SqliteDialect>(capabilities_of(a));
  const auto d2 = query_detail::describe_top<SqliteDialect>(capabilities_of(b));
  CHECK(d1 == d2);  // values are not part of the description
  CHECK(stmt::hash(d1) == stmt::hash(d2));
  CHECK(cached_sql<SqliteDialect>(d1).id == cached_sql<SqliteDialect>(d2).id);
  const auto d3 = query_detail::describe_top<SqliteDialect>(keys_per_status(1));
  CHECK_FALSE(d1 == d3);
  CHECK(cached_sql<SqliteDialect>(d1).id != cached_sql<SqliteDialect>(d3).id);
  // The same description in the other dialect is another text.
  CHECK(*cached_sql<PgDialect>(d1).text != *cached_sql<SqliteDialect>(d1).text);
}
