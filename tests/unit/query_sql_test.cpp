// Golden SQL of every query form (select.hpp) on both dialects: joins, a left join, aliases of
// one table, aggregates with GROUP BY / HAVING, EXISTS and IN subqueries, and a repository
// erase_where with a subquery. Each org-scoped table carries its own org equality.
#include "queries/queries.hpp"

#include <tenantry/dialect/postgres.hpp>
#include <tenantry/dialect/sqlite.hpp>

#include "support/golden.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

// Named, so that a unity build of tests/unit (tests/CMakeLists.txt) keeps this file's
// using-directives and helpers to itself.
namespace query_sql_test {

using namespace tenantry;
using namespace qfx;

namespace {

using golden::check_golden;

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
      << '\n'
      // Tables scoped through their parent (MemberSecret -> Member, SecretHistory -> MemberSecret).
      << "through parent, find: " << write_sql<D>(statements::find<MemberSecret>()) << '\n'
      << "through parent, list: "
      << write_sql<D>(statements::list<MemberSecret>(col(&MemberSecret::version) > 1, order_by(&MemberSecret::id), limit(10)))
      << '\n'
      << "through parent, count: " << write_sql<D>(statements::count<MemberSecret>()) << '\n'
      << "through parent, insert: " << write_sql<D>(statements::insert<MemberSecret>()) << '\n'
      << "through parent, update: " << write_sql<D>(statements::update<MemberSecret>()) << '\n'
      << "through parent, update not moving the row: "
      << write_sql<D>(statements::update<MemberSecret>(std::vector<std::size_t>{2})) << '\n'
      << "through parent, update_where: "
      << write_sql<D>(statements::update_where<MemberSecret>({1}, col(&MemberSecret::version) == 1)) << '\n'
      << "through parent, erase: " << write_sql<D>(statements::erase<MemberSecret>()) << '\n'
      << "through parent, upsert: " << write_sql<D>(statements::upsert<MemberSecret>(on_conflict(&MemberSecret::id))) << '\n'
      << "through parent, depth 2, find: " << write_sql<D>(statements::find<SecretHistory>()) << '\n'
      << "through parent, depth 2, insert: " << write_sql<D>(statements::insert<SecretHistory>()) << '\n'
      << "through parent, join: " << sql_of<D>(secret_for_login("a@b")) << '\n'
      << "through parent, left join: " << sql_of<D>(members_and_secrets()) << '\n'
      << "through parent, depth 2, join: " << sql_of<D>(history_of(id)) << '\n'
      << "through parent, not exists: " << sql_of<D>(members_without_secret()) << '\n'
      << "through parent, in subquery: " << sql_of<D>(members_with_hash("h")) << '\n'
      << "through parent, insert select: "
      << write_sql<D>(query_detail::describe_insert_select(archive_into(), current_hashes())) << '\n'
      << "through parent, row-level security (PostgreSQL only):";
  for (const TableInfo* t : {&table_info<MemberSecret>(), &table_info<SecretHistory>()})
    for (const std::string& st : row_level_security_sql<D>(*t)) out << ' ' << st << ';';
  out << '\n';
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

TEST_CASE("a table scoped through its parent is filtered through the parent in every statement form", "[query][through]") {
  const auto has = [](const std::string& sql, const std::string& needle) {
    INFO(sql);
    CHECK(sql.find(needle) != std::string::npos);
  };
  const std::string parent = "EXISTS (SELECT 1 FROM \"q_members\" AS \"p0\" WHERE \"p0\".\"id\" = ";
  // Reads and deletes: the row's own foreign key, qualified by its table (never captured by a
  // parent column of the same name).
  for (const std::string& s : {write_sql<PgDialect>(statements::find<MemberSecret>()),
                               write_sql<PgDialect>(statements::count<MemberSecret>()),
                               write_sql<PgDialect>(statements::erase<MemberSecret>())})
    has(s, parent + "\"q_member_secrets\".\"member_id\" AND \"p0\".\"org_id\" = $1)");
  // Inserts: the new row's foreign key parameter, in the same statement.
  has(write_sql<PgDialect>(statements::insert<MemberSecret>()), "SELECT $2, $3, $4, $5 WHERE " + parent + "$3 AND \"p0\".\"org_id\" = $1)");
  // An update that sets the foreign key requires the new parent in the org too.
  has(write_sql<PgDialect>(statements::update<MemberSecret>()), "AND EXISTS (SELECT 1 FROM \"q_members\" AS \"p1\" WHERE \"p1\".\"id\" = $3 AND \"p1\".\"org_id\" = $1)");
  // The upsert's DO UPDATE only touches an existing row whose parent is the org's.
  has(write_sql<SqliteDialect>(statements::upsert<MemberSecret>(on_conflict(&MemberSecret::id))),
      "DO UPDATE SET \"member_id\" = excluded.\"member_id\", \"password_hash\" = excluded.\"password_hash\", \"version\" = "
      "excluded.\"version\" WHERE EXISTS (SELECT 1 FROM \"q_members\" AS \"p1\" WHERE \"p1\".\"id\" = "
      "\"q_member_secrets\".\"member_id\" AND \"p1\".\"org_id\" = ?1)");
  // The optional side of a left join: in ON.
  has(sql_of<PgDialect>(members_and_secrets()),
      "LEFT JOIN \"q_member_secrets\" AS \"t1\" ON \"t1\".\"member_id\" = \"t0\".\"id\" AND " + parent + "\"t1\".\"member_id\"");
  // Depth 2: through the secret, then its member.
  has(write_sql<PgDialect>(statements::find<SecretHistory>()),
      "WHERE EXISTS (SELECT 1 FROM \"q_member_secrets\" AS \"p0\" WHERE \"p0\".\"id\" = \"q_secret_history\".\"secret_id\" AND "
      "EXISTS (SELECT 1 FROM \"q_members\" AS \"p1\" WHERE \"p1\".\"id\" = \"p0\".\"member_id\" AND \"p1\".\"org_id\" = $1))");
  // A subquery on it needs the org even under a global table.
  const auto q = select(col(&Account::email)).from<Account>().where(exists(from<MemberSecret>()));
  static_assert(decltype(q)::reads_org_scoped);
  // INSERT ... SELECT into it: each selected foreign key names a parent of the org.
  has(write_sql<PgDialect>(query_detail::describe_insert_select(archive_into(), current_hashes())),
      "AND EXISTS (SELECT 1 FROM \"q_member_secrets\" AS \"p1\" WHERE \"p1\".\"id\" = \"q_member_secrets\".\"id\" AND EXISTS");
  static_assert(takes_org<MemberSecret> && takes_org<SecretHistory> && !org_scoped<MemberSecret> && parent_scoped<SecretHistory>);
  static_assert(std::is_same_v<scope_parent_t<SecretHistory>, MemberSecret> && std::is_same_v<scope_parent_t<MemberSecret>, Member>);
  static_assert(scope_of<MemberSecret> == Scope::parent && scope_of<Account> == Scope::global);
}

}  // namespace query_sql_test
