// Org keys that are not UUIDs (issue 10 class 4): the same isolation body for a text-keyed
// entity set (TextOrgId, column organization_id) and a bigint-keyed one (IntOrgId), on every
// strategy: SQLite (memory and file), PostgreSQL shared tables, PostgreSQL with row-level
// security (a non-owner, non-superuser role; FORCE), and PostgreSQL schema per org. Every
// backend must give the same results, and what is stored is checked with plain SQL that
// bypasses every filter: zero rows of one org reachable through the other.
//
// Also here: hostile text org ids as schema names (quotes, semicolons, `public`, 64 bytes,
// unicode, case-only differences), and schema-scoped entities (scope = tenantry::per_org_schema):
// no org column, the org given selects the schema.
#include "support/org_key_backends.hpp"

#include <tenantry/observe.hpp>
#include <tenantry/rls.hpp>

#include <algorithm>
#include <chrono>
#include <limits>
#include <memory>
#include <set>
#include <string>
#include <vector>

// Named, so that a unity build of tests/parity (tests/CMakeLists.txt) keeps this file's
// using-directives and helpers to itself.
namespace org_keys_test {

using namespace tenantry;
using namespace org_keys;
using namespace org_key_backends;
using testdb::expect_throw;

namespace {

// ---- the isolation body ------------------------------------------------------------------------

template <class B, class K>
void isolation_body() {
  INFO(B::name << ", " << K::name);
  using P = typename K::Project;
  using T = typename K::Task;
  using Org = typename K::Org;
  B db;
  const Org a = K::a(), b = K::b();
  db.add_org(a);
  db.add_org(b);
  Repository<P, typename B::Dialect, typename B::Conn> projects{db.conn};
  Repository<T, typename B::Dialect, typename B::Conn> tasks{db.conn};
  static_assert(std::is_same_v<typename decltype(projects)::org_type, Org>);

  // A nil org field takes the call's org; the same name in both orgs is two rows (UNIQUE per org).
  P pa = projects.insert(a, P{Uuid::random(), {}, "alpha", 1});
  P pa2 = projects.insert(a, P{Uuid::random(), {}, "beta", 3});
  P pb = projects.insert(b, P{Uuid::random(), {}, "alpha", 2});
  CHECK(org_of(pa) == a);
  CHECK(org_of(pb) == b);
  const T ta = tasks.insert(a, T{Uuid::random(), {}, pa.id, "task a"});
  const T tb = tasks.insert(b, T{Uuid::random(), {}, pb.id, "task b"});
  CHECK(db.stored(K::projects, a) == 2);
  CHECK(db.stored(K::projects, b) == 1);

  // Reads.
  CHECK(projects.count(a) == 2);
  CHECK(projects.count(b) == 1);
  CHECK(projects.find(a, pa.id).has_value());
  CHECK(org_of(*projects.find(a, pa.id)) == a);
  CHECK_FALSE(projects.find(a, pb.id).has_value());
  CHECK_FALSE(projects.find(b, pa.id).has_value());
  const auto in_a = projects.list(a, order_by(&P::name));
  REQUIRE(in_a.size() == 2);
  CHECK(in_a[0].id == pa.id);
  CHECK(in_a[1].id == pa2.id);
  CHECK_FALSE(projects.exists(b, col(&P::name) == std::string("beta")));
  CHECK(projects.exists(a, col(&P::name) == std::string("beta")));
  // A top-level OR inside the predicate stays inside the org filter.
  CHECK(projects.count(b, col(&P::name) == std::string("beta") || col(&P::rank) >= std::int64_t{0}) == 1);

  // Writes aimed at the other org's rows change nothing.
  expect_throw<OrgMismatch>([&] { projects.update(a, pb); });
  P nil_org = pb;
  org_of(nil_org) = Org{};
  nil_org.name = "stolen";
  CHECK_FALSE(projects.update(a, nil_org));
  CHECK_FALSE(projects.set(a, pb.id, &P::rank, std::int64_t{99}));
  CHECK_FALSE(projects.erase(a, pb.id));
  CHECK(projects.update_where(a, col(&P::rank) > std::int64_t{0}, assign(col(&P::rank), std::int64_t{7})) == 2);
  CHECK(projects.find(b, pb.id)->rank == 2);
  CHECK(projects.find(b, pb.id)->name == "alpha");
  const auto wrong_org = expect_throw<OrgMismatch>([&] { projects.insert(a, P{Uuid::random(), b, "gamma", 0}); });
  CHECK(db.stored_all(K::projects) == 3);

  // An upsert on (org, name) in a updates a's "alpha", never b's.
  P up = projects.upsert(a, P{Uuid::random(), {}, "alpha", 40}, on_conflict(K::org_member, &P::name));
  CHECK(up.id == pa.id);
  CHECK(up.rank == 40);
  CHECK(projects.find(b, pb.id)->rank == 2);

  // A task of a pointing at b's project: the composite (org, project_id) foreign key refuses it
  // (under schema per org, b's project is not in a's schema at all).
  expect_throw<ForeignKeyViolation>([&] { tasks.insert(a, T{Uuid::random(), {}, pb.id, "cross"}); });
  CHECK(db.stored_all(K::tasks) == 2);

  // A join: both tables filtered by the org, their org columns equated.
  const auto q =
      select(col(&T::title), col(&P::name)).template from<T>().template join<P>(col(&T::project_id) == col(&P::id));
  const auto joined = fetch(db.conn, a, q);
  REQUIRE(joined.size() == 1);
  CHECK(std::get<0>(joined[0]) == "task a");
  CHECK(fetch(db.conn, b, q).size() == 1);
  CHECK(fetch_one(db.conn, b, select(count()).template from<P>()) == std::optional<std::tuple<std::int64_t>>(1));

  // Raw SQL: $1 / ?1 is the org, bound with its own type.
  const std::string filtered = "SELECT COUNT(*) AS n FROM " + ident(K::projects) + " WHERE " + ident(K::org_column) +
                               (B::is_postgres ? " = $1" : " = ?1");
  CHECK(raw_query<N>(db.conn, a, filtered).at(0).n == 2);
  CHECK(raw_query<N>(db.conn, b, filtered).at(0).n == 1);
  // Unfiltered raw SQL in b's context: row-level security and schema per org show b's rows
  // only; shared tables without RLS show every row (raw SQL is the caller's filter).
  const std::int64_t unfiltered = raw_query<N>(db.conn, b,
                                               "SELECT COUNT(*) AS n FROM " + ident(K::projects) + " WHERE CAST(" +
                                                   (B::is_postgres ? "$1" : "?1") + " AS TEXT) IS NOT NULL")
                                      .at(0)
                                      .n;
  CHECK(unfiltered == (B::rls || B::schemas ? 1 : 3));

  // Deleting with an OR at the top of the predicate: a's rows only, cascading to a's task only.
  CHECK(projects.erase_where(a, col(&P::name) == std::string("alpha") || col(&P::rank) == std::int64_t{2}) == 1);
  CHECK(db.stored(K::projects, a) == 1);
  CHECK(db.stored(K::projects, b) == 1);
  CHECK(db.stored(K::tasks, a) == 0);
  CHECK(db.stored(K::tasks, b) == 1);
  CHECK(tasks.find(b, tb.id).has_value());
  CHECK_FALSE(tasks.find(a, ta.id).has_value());

  // The nil org is nobody.
  expect_throw<UsageError>([&] { (void)projects.count(Org{}); });

  // Invalid text keys are a ValueError before anything is sent, and write nothing.
  if constexpr (std::is_same_v<Org, TextOrgId>) {
    for (const std::string& bad : {std::string(65, 'x'), std::string("tab\there"), std::string("\xff\xfe"),
                                   std::string("nul\0byte", 8), std::string("\xc0\xaf")}) {
      INFO("bad slug of " << bad.size() << " bytes");
      CHECK_THROWS_AS(TextOrgId{bad}, ValueError);
      TextOrgId forged;
      forged.value = bad;  // bypassing the constructor's check
      CHECK_THROWS_AS(projects.count(forged), ValueError);
      CHECK_THROWS_AS(projects.insert(forged, P{Uuid::random(), {}, "forged", 0}), ValueError);
      // A row carrying a forged org under a valid call: OrgMismatch, nothing written.
      CHECK_THROWS_AS(projects.insert(a, P{Uuid::random(), forged, "forged", 0}), OrgMismatch);
      CHECK_THROWS_AS(raw_query<N>(db.conn, forged, filtered), ValueError);
    }
    // 64 bytes is the limit and is fine.
    const TextOrgId longest{std::string(64, 'z')};
    if constexpr (!B::schemas) CHECK(projects.count(longest) == 0);
  }
  CHECK(db.stored_all(K::projects) == 2);
  (void)wrong_org;
}

// ---- the features main gained meanwhile, over hostile org keys ---------------------------------
// insert_many (one unnest statement on PostgreSQL, its org array cast to the org column's
// type), find_many, put, stream_each_row, subqueries, INSERT ... SELECT, tables scoped through
// a text- or bigint-keyed parent, and per-org observer counters, over orgs chosen to be taken
// for one another (K::hostile()). Checked against plain SQL past every filter.
template <class B, class K>
void merged_features_body() {
  INFO(B::name << ", " << K::name);
  using P = typename K::Project;
  using T = typename K::Task;
  using S = typename K::Secret;
  using Org = typename K::Org;
  static_assert(std::is_same_v<org_id_of<S>, Org>, "a table scoped through its parent takes the parent's org type");
  B db;
  const std::vector<Org> orgs = K::hostile();
  const std::size_t n = orgs.size();
  for (const Org& o : orgs) db.add_org(o);
  auto observer = std::make_shared<StatementObserver>();
  db.conn.set_observer(observer);
  Repository<P, typename B::Dialect, typename B::Conn> projects{db.conn};
  Repository<T, typename B::Dialect, typename B::Conn> tasks{db.conn};
  Repository<S, typename B::Dialect, typename B::Conn> secrets{db.conn};

  // insert_many: three rows per org in one call (one INSERT ... unnest on PostgreSQL); the same
  // names in every org.
  std::vector<std::vector<P>> mine(n);
  std::vector<Uuid> all_ids;
  for (std::size_t i = 0; i < n; ++i) {
    INFO("org " << orgs[i].to_string());
    std::vector<P> rows{P{Uuid::random(), {}, "one", 1}, P{Uuid::random(), {}, "two", 2},
                        P{Uuid::random(), {}, "three", 3}};
    projects.insert_many(orgs[i], rows);
    for (const P& r : rows) {
      CHECK(org_of(r) == orgs[i]);
      all_ids.push_back(r.id);
    }
    mine[i] = rows;
  }
  for (std::size_t i = 0; i < n; ++i) CHECK(db.stored(K::projects, orgs[i]) == 3);
  // A batch holding one row of another org: OrgMismatch, and nothing of the batch is written.
  {
    std::vector<P> rows{P{Uuid::random(), {}, "four", 4}, P{Uuid::random(), orgs[1], "five", 5}};
    expect_throw<OrgMismatch>([&] { projects.insert_many(orgs[0], rows); });
  }
  CHECK(db.stored_all(K::projects) == static_cast<std::int64_t>(3 * n));
  // The stored org is exactly the org's key: no trimming, case folding or number parsing.
  for (const StoredRow& r : db.stored_projects()) {
    bool known = false;
    for (std::size_t i = 0; i < n; ++i)
      for (const P& p : mine[i])
        if (std::get<1>(r) == p.id.to_string()) known = std::get<0>(r) == orgs[i].to_string();
    CHECK(known);
  }

  // find_many over every org's ids finds the org's own rows only.
  for (std::size_t i = 0; i < n; ++i) {
    INFO("org " << orgs[i].to_string());
    const auto found = projects.find_many(orgs[i], all_ids);
    REQUIRE(found.size() == 3);
    for (const P& f : found) CHECK(org_of(f) == orgs[i]);
  }

  // put on (org, name): each org's own "one"; a row naming another org is OrgMismatch; the key
  // of another org's row is a UniqueViolation on shared tables (under schema per org that key
  // is free in the org's own schema), and the other org's row is untouched either way.
  for (std::size_t i = 0; i < n; ++i)
    projects.put(orgs[i], P{Uuid::random(), {}, "one", static_cast<std::int64_t>(100 + i)},
                 on_conflict(K::org_member, &P::name));
  for (std::size_t i = 0; i < n; ++i)
    CHECK(projects.find(orgs[i], mine[i][0].id)->rank == static_cast<std::int64_t>(100 + i));
  expect_throw<OrgMismatch>([&] {
    projects.put(orgs[0], P{Uuid::random(), orgs[1], "one", -5}, on_conflict(K::org_member, &P::name));
  });
  if constexpr (B::schemas) {
    projects.put(orgs[0], P{mine[1][1].id, {}, "stolen", -6}, on_conflict(&P::id));
    CHECK(projects.count(orgs[0]) == 4);
    CHECK(projects.erase(orgs[0], mine[1][1].id));  // org 0's own copy
  } else if constexpr (B::rls) {
    // Row-level security refuses the DO UPDATE of another org's row itself (42501, "violates
    // row-level security policy"), before tenantry's guard can: a DatabaseError, nothing written.
    CHECK_THROWS_AS(projects.put(orgs[0], P{mine[1][1].id, {}, "stolen", -6}, on_conflict(&P::id)), DatabaseError);
  } else {
    expect_throw<UniqueViolation>([&] {
      projects.put(orgs[0], P{mine[1][1].id, {}, "stolen", -6}, on_conflict(&P::id));
    });
  }
  CHECK(projects.find(orgs[1], mine[1][1].id)->name == "two");
  CHECK(projects.find(orgs[1], mine[1][1].id)->rank == 2);
  CHECK(db.stored_all(K::projects) == static_cast<std::int64_t>(3 * n));

  // stream_each_row (PostgreSQL's single-row mode) and fetch: the org's rows only.
  const auto ids = select(col(&P::id)).template from<P>();
  for (std::size_t i = 0; i < n; ++i) {
    std::set<std::string> seen;
    stream_each_row(db.conn, orgs[i], ids, [&](const auto& r) { seen.insert(std::get<0>(r).to_string()); });
    std::set<std::string> want;
    for (const P& p : mine[i]) want.insert(p.id.to_string());
    CHECK(seen == want);
    CHECK(fetch(db.conn, orgs[i], ids).size() == 3);
  }

  // A subquery and INSERT ... SELECT: both sides in the call's org.
  for (std::size_t i = 0; i < n; ++i) tasks.insert(orgs[i], T{Uuid::random(), {}, mine[i][1].id, "task"});
  const auto tasks_of_two = select(col(&T::id))
                                .template from<T>()
                                .where(in(
                                    col(&T::project_id),
                                    select(col(&P::id)).template from<P>().where(col(&P::name) == std::string("two"))));
  for (std::size_t i = 0; i < n; ++i) CHECK(fetch(db.conn, orgs[i], tasks_of_two).size() == 1);
  const auto copy_two = [&](const auto& project) {
    return select(tenantry::value(Uuid::random()), project, col(&P::name))
        .template from<P>()
        .where(col(&P::name) == std::string("two"));
  };
  CHECK(insert_select<T>(db.conn, orgs[2], into(&T::id, &T::project_id, &T::title), copy_two(col(&P::id))) == 1);
  CHECK(db.stored(K::tasks, orgs[2]) == 2);
  for (std::size_t i = 0; i < n; ++i)
    if (i != 2) CHECK(db.stored(K::tasks, orgs[i]) == 1);
  // ... and one naming another org's project as a constant: the composite foreign key (or the
  // org's own schema) refuses it, nothing is written.
  CHECK_THROWS_AS(insert_select<T>(db.conn, orgs[0], into(&T::id, &T::project_id, &T::title),
                                   copy_two(tenantry::value(mine[1][1].id))),
                  ForeignKeyViolation);
  CHECK(db.stored_all(K::tasks) == static_cast<std::int64_t>(n + 1));

  // Secrets scoped through their project: the project's org, whatever its key type.
  std::vector<S> sec(n);
  for (std::size_t i = 0; i < n; ++i)
    sec[i] = secrets.insert(orgs[i], S{Uuid::random(), mine[i][0].id, "s" + std::to_string(i)});
  for (std::size_t i = 1; i < n; ++i) {
    INFO("org " << orgs[0].to_string() << " naming the project of " << orgs[i].to_string());
    expect_throw<OrgMismatch>([&] { secrets.insert(orgs[0], S{Uuid::random(), mine[i][0].id, "stolen"}); });
    std::vector<S> batch{S{Uuid::random(), mine[0][1].id, "ok"}, S{Uuid::random(), mine[i][1].id, "stolen"}};
    expect_throw<OrgMismatch>([&] { secrets.insert_many(orgs[0], batch); });
    expect_throw<OrgMismatch>([&] { secrets.set(orgs[0], sec[0].id, &S::project_id, mine[i][0].id); });
    CHECK_FALSE(secrets.set(orgs[0], sec[i].id, &S::secret, std::string("stolen")));
    CHECK_FALSE(secrets.erase(orgs[0], sec[i].id));
  }
  CHECK(db.stored_all(K::secrets) == static_cast<std::int64_t>(n));
  std::vector<Uuid> secret_ids;
  for (const S& x : sec) secret_ids.push_back(x.id);
  const auto secret_and_project =
      select(col(&S::secret), col(&P::name)).template from<S>().template join<P>(col(&S::project_id) == col(&P::id));
  for (std::size_t i = 0; i < n; ++i) {
    INFO("org " << orgs[i].to_string());
    CHECK(secrets.count(orgs[i]) == 1);
    const auto found = secrets.find_many(orgs[i], secret_ids);
    REQUIRE(found.size() == 1);
    CHECK(found[0].id == sec[i].id);
    CHECK(found[0].secret == "s" + std::to_string(i));
    CHECK(fetch(db.conn, orgs[i], secret_and_project) ==
          std::vector<std::tuple<std::string, std::string>>{{"s" + std::to_string(i), "one"}});
  }

  // Per-org counters: org i ran i + 1 counts from here on; orgs that differ only by case,
  // whitespace or leading zeros are counted apart.
  observer = std::make_shared<StatementObserver>();
  db.conn.set_observer(observer);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t k = 0; k <= i; ++k) (void)projects.count(orgs[i]);
  const auto per_call = observer->stats(&orgs[0]).calls;
  CHECK(per_call >= 1);
  for (std::size_t i = 0; i < n; ++i) CHECK(observer->stats(&orgs[i]).calls == per_call * (i + 1));
  const auto all = observer->snapshot();
  CHECK(all.size() == n);
  for (const OrgStatementStats& st : all) {
    REQUIRE(st.org.template get<Org>() != nullptr);
    CHECK(std::find(orgs.begin(), orgs.end(), *st.org.template get<Org>()) != orgs.end());
  }
}

template <class P>
org_id_of<P> sample_org() {
  if constexpr (std::is_same_v<org_id_of<P>, TextOrgId>) return TextOrgId{"sample"};
  else return IntOrgId{42};
}
/// Another org that differs from sample_org only as an attacker would hope (case, leading zeros).
template <class P>
org_id_of<P> other_org() {
  if constexpr (std::is_same_v<org_id_of<P>, TextOrgId>) return TextOrgId{"Sample"};
  else return IntOrgId{-42};
}

}  // namespace

TEMPLATE_TEST_CASE("org keys that are not UUIDs: every strategy isolates text and bigint orgs",
                   "[parity][org][org-keys]", Backend<SqliteMemory>, Backend<SqliteFile>, Backend<PostgresShared>,
                   Backend<PostgresUnprepared>, Backend<PostgresRls>, Backend<PostgresSchemas>, Backend<AnySqlite>,
                   Backend<AnyPostgres>) {
  SECTION("text") { isolation_body<typename TestType::template type<TextKeys>, TextKeys>(); }
  SECTION("bigint") { isolation_body<typename TestType::template type<IntKeys>, IntKeys>(); }
}

TEMPLATE_TEST_CASE(
    "org keys that are not UUIDs: insert_many, find_many, put, streaming, subqueries, INSERT ... SELECT, "
    "parent-scoped tables and per-org counters over hostile keys",
    "[parity][org][org-keys]", Backend<SqliteMemory>, Backend<SqliteFile>, Backend<PostgresShared>,
    Backend<PostgresUnprepared>, Backend<PostgresRls>, Backend<PostgresSchemas>, Backend<AnySqlite>,
    Backend<AnyPostgres>) {
  SECTION("text") { merged_features_body<typename TestType::template type<TextKeys>, TextKeys>(); }
  SECTION("bigint") { merged_features_body<typename TestType::template type<IntKeys>, IntKeys>(); }
}

TEST_CASE("org keys: row-level security casts to the key type, verify accepts exactly the generated policies",
          "[parity][org-keys][rls]") {
  for (int k = 0; k < 2; ++k) {
    INFO((k == 0 ? "text" : "bigint"));
    pg::Connection admin{parity::Postgres::fresh_url()};
    for (const char* role : {"tenantry_orgkeys_owner", "tenantry_orgkeys_app"})
      admin.execute(std::string("DO $$ BEGIN CREATE ROLE ") + role +
                    " LOGIN NOSUPERUSER NOBYPASSRLS; EXCEPTION WHEN duplicate_object THEN NULL; END $$");
    admin.execute(
        "GRANT ALL ON SCHEMA public TO tenantry_orgkeys_owner; GRANT USAGE ON SCHEMA public TO tenantry_orgkeys_app");
    pg::Connection owner(as_role(parity::Postgres::url(), "tenantry_orgkeys_owner"));
    const auto check = [&]<class P, class T, class S>(std::type_identity<P>, std::type_identity<T>,
                                                      std::type_identity<S>, const char* cast) {
      create_tables<P, T, S>(owner, DdlOptions{.row_level_security = true});
      const std::string table = table_info<P>().name;
      owner.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON " + ident(table) + ", " + ident(table_info<T>().name) +
                    ", " + ident(table_info<S>().name) + " TO tenantry_orgkeys_app");
      // The application role: neither owner, superuser nor BYPASSRLS.
      pg::Connection app(as_role(parity::Postgres::url(), "tenantry_orgkeys_app"), pg::Options{.org_context = true});
      const std::vector<const TableInfo*> tables{&table_info<P>(), &table_info<T>(), &table_info<S>()};
      for (const auto& m : pg::rls_mismatches(app, tables)) FAIL_CHECK(m.table << ": " << m.problem);
      CHECK_NOTHROW(pg::verify_rls(app, tables));
      // The policy compares with the setting cast to the column's type (an InitPlan).
      const std::string policy = row_level_security_sql<PgDialect>(table_info<P>()).back();
      CHECK(policy.find(std::string("AS ") + cast + "))") != std::string::npos);
      // The policy of the table scoped through it: the parent's org column, the same cast.
      const std::string child_policy = row_level_security_sql<PgDialect>(table_info<S>()).back();
      CHECK(child_policy.find("EXISTS (SELECT 1 FROM") != std::string::npos);
      CHECK(child_policy.find(std::string("AS ") + cast + "))") != std::string::npos);
      // The org context is bound and read back through the policy: each org sees its row.
      Repository<P, PgDialect> repo{app};
      const P stored = repo.insert(sample_org<P>(), P{Uuid::random(), {}, "p", 0});
      CHECK(repo.count(sample_org<P>()) == 1);
      Repository<S, PgDialect> children{app};
      children.insert(sample_org<P>(), S{Uuid::random(), stored.id, "s"});
      CHECK(children.count(sample_org<P>()) == 1);
      // Past the repository's filter, the policy alone: another org's context sees nothing.
      CHECK(raw_query<N>(
                app, other_org<P>(),
                "SELECT COUNT(*) AS n FROM " + ident(table_info<S>().name) + " WHERE CAST($1 AS TEXT) IS NOT NULL")
                .at(0)
                .n == 0);
      CHECK(raw_query<N>(
                app, sample_org<P>(),
                "SELECT COUNT(*) AS n FROM " + ident(table_info<S>().name) + " WHERE CAST($1 AS TEXT) IS NOT NULL")
                .at(0)
                .n == 1);
      // Without the org context a read fails loudly instead of returning nothing.
      CHECK_THROWS_AS(raw_query_global<N>(app, "SELECT COUNT(*) AS n FROM " + ident(table)), OrgContextMissing);
      // A policy that casts to another type is not the generated one.
      owner.execute("DROP POLICY " + ident(table + "_org_isolation") + " ON " + ident(table));
      owner.execute("CREATE POLICY " + ident(table + "_org_isolation") + " ON " + ident(table) + " USING (" +
                    ident(table_info<P>().columns[1].name) + "::text = current_setting('app.current_org_id'))");
      CHECK_FALSE(pg::rls_mismatches(app, tables).empty());
    };
    if (k == 0)
      check(std::type_identity<SlugProject>{}, std::type_identity<SlugTask>{}, std::type_identity<SlugSecret>{},
            "TEXT");
    else
      check(std::type_identity<NumProject>{}, std::type_identity<NumTask>{}, std::type_identity<NumSecret>{}, "BIGINT");
  }
}

TEST_CASE("org keys: hostile text org ids never inject into schema names or the search path",
          "[parity][org-keys][schemas]") {
  using Set = OrgSchemas<SlugProject, SlugTask, SlugNote>;
  pg::Connection conn(parity::Postgres::fresh_url(), pg::Options{.org_schemas = true});
  drop_org_schemas(conn);
  conn.execute("CREATE TABLE public.canary (x int); INSERT INTO public.canary VALUES (1)");
  const std::vector<std::string> slugs = {
      "acme",
      "Acme",
      "ACME",
      "public",
      "pg_catalog",
      "x\"; DROP SCHEMA public CASCADE; --",
      "x'; DROP TABLE canary; --",
      "a\"b",
      "org_t_61636d65",  // the schema name of "acme" as a slug
      "semi;colon, public",
      std::string(64, 'q'),
      std::string(63, 'q') + "r",
      "caf\xc3\xa9",
      "CAF\xc3\x89",
      "\xe7\xa7\x9f\xe6\x88\xb7",  // 租户
      "$1",
      "back\\slash",
  };
  std::set<std::string> names;
  Repository<SlugProject, PgDialect> projects{conn};
  Repository<SlugNote, PgDialect> notes{conn};
  for (const auto& s : slugs) {
    const TextOrgId org{s};
    const std::string schema = Set::schema_name(org);
    INFO("slug '" << s << "' -> schema " << schema);
    CHECK(schema.size() <= 63);
    CHECK(std::all_of(schema.begin(), schema.end(),
                      [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; }));
    CHECK(names.insert(schema).second);  // no two slugs share a schema
    Set::provision_org(conn, org);
    CHECK(Set::is_provisioned(conn, org));
    projects.insert(org, SlugProject{Uuid::random(), {}, "p", 0});
    notes.insert(org, SlugNote{Uuid::random(), s});
  }
  // Each org sees its own row only; the stored slug is the org's own.
  for (const auto& s : slugs) {
    const TextOrgId org{s};
    INFO("slug '" << s << "'");
    const auto mine = projects.list(org);
    REQUIRE(mine.size() == 1);
    CHECK(mine[0].organization_id == org);
    const auto my_notes = notes.list(org);
    REQUIRE(my_notes.size() == 1);
    CHECK(my_notes[0].body == s);
    CHECK(parity::raw_count(conn, "SELECT COUNT(*) FROM \"" + Set::schema_name(org) + "\".slug_notes") == 1);
  }
  // Nothing was injected: public and its canary are intact, no table of the set is in public.
  CHECK(parity::raw_count(conn, "SELECT COUNT(*) FROM public.canary") == 1);
  CHECK(parity::raw_count(
            conn, "SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 'slug%'") == 0);
  // Long slugs are named by a hash: still distinct, still bounded.
  CHECK(Set::schema_name(TextOrgId{std::string(64, 'q')}).starts_with("org_h_"));
  CHECK(Set::schema_name(TextOrgId{"acme"}) == "org_t_61636d65");
  for (const auto& s : slugs) CHECK(Set::drop_org(conn, TextOrgId{s}));
  CHECK(parity::raw_count(conn, "SELECT COUNT(*) FROM public.canary") == 1);
}

TEST_CASE("schema-scoped entities: no org column, the org given selects the schema, rows never cross",
          "[parity][org-keys][schemas]") {
  using Set = OrgSchemas<Note>;
  pg::Connection conn(parity::Postgres::fresh_url(), pg::Options{.org_schemas = true});
  drop_org_schemas(conn);
  const OrgId a = OrgId::random(), b = OrgId::random(), unprovisioned = OrgId::random();
  Set::provision_org(conn, a);
  Set::provision_org(conn, b);
  // The table has no org column.
  CHECK(parity::raw_count(conn, "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = '" +
                                    Set::schema_name(a) + "' AND table_name = 'notes'") == 2);
  Repository<Note, PgDialect> notes{conn};
  const Note na = notes.insert(a, Note{Uuid::random(), "for a"});
  const Note nb = notes.insert(b, Note{Uuid::random(), "for b"});
  notes.insert(b, Note{Uuid::random(), "also b"});
  CHECK(notes.count(a) == 1);
  CHECK(notes.count(b) == 2);
  CHECK(notes.find(a, na.id)->body == "for a");
  CHECK_FALSE(notes.find(a, nb.id).has_value());
  CHECK_FALSE(notes.find(b, na.id).has_value());
  CHECK_FALSE(notes.erase(a, nb.id));
  CHECK_FALSE(notes.set(a, nb.id, &Note::body, std::string("stolen")));
  CHECK(notes.update_where(a, col(&Note::body) != std::string(""), assign(col(&Note::body), std::string("A"))) == 1);
  CHECK(notes.erase_where(b, col(&Note::body) == std::string("nothing") || col(&Note::body) == std::string("also b")) ==
        1);
  CHECK(parity::raw_count(conn, "SELECT COUNT(*) FROM \"" + Set::schema_name(a) + "\".notes WHERE body = 'A'") == 1);
  CHECK(parity::raw_count(conn, "SELECT COUNT(*) FROM \"" + Set::schema_name(b) + "\".notes WHERE body = 'for b'") ==
        1);
  CHECK(fetch(conn, b, select(col(&Note::body)).from<Note>()).size() == 1);
  // An org without a schema: OrgNotProvisioned, never public's table.
  CHECK_THROWS_AS(notes.count(unprovisioned), OrgNotProvisioned);
  CHECK_THROWS_AS(notes.count(OrgId{}), UsageError);

  // Without the schema-per-org strategy a schema-scoped entity cannot run: a typed error.
  pg::Connection shared(parity::Postgres::url());
  Repository<Note, PgDialect> wrong{shared};
  CHECK_THROWS_AS(wrong.count(a), UsageError);
  CHECK_THROWS_AS((create_statements<Note, PgDialect>()), UsageError);
  // Nor with row-level security alone, where a one-statement insert_many is pipelined with its
  // org setting (in_org_statement): the schema check comes first, nothing reaches public.
  pg::Connection rls_only(parity::Postgres::url(), pg::Options{.org_context = true});
  Repository<Note, PgDialect> wrong_rls{rls_only};
  std::vector<Note> two{Note{Uuid::random(), "x"}, Note{Uuid::random(), "y"}};
  CHECK_THROWS_AS(wrong_rls.insert_many(a, two), UsageError);
  // SQLite has no schemas: through a run-time chosen Database, a UsageError.
  Database lite = connect("sqlite::memory:");
  Database pg_schemas{pg::Connection(parity::Postgres::url(), pg::Options{.org_schemas = true})};
  Repository<Note> on_sqlite{lite};
  const auto on_lite = expect_throw<UsageError>([&] { (void)on_sqlite.count(a); });
  CHECK(std::string(on_lite.what()).find("which has no schemas") != std::string::npos);  // not "breaks the org rule"
  Repository<Note> through_database{pg_schemas};
  through_database.insert(a, Note{Uuid::random(), "through a Database"});
  CHECK(notes.count(a) == 2);
}

TEST_CASE("schema-scoped entities: a table of the same name in public is refused at provisioning",
          "[parity][org-keys][schemas]") {
  using Set = OrgSchemas<Note>;
  pg::Connection conn(parity::Postgres::fresh_url(), pg::Options{.org_schemas = true});
  drop_org_schemas(conn);
  conn.execute("CREATE TABLE public.notes (id uuid PRIMARY KEY, body text NOT NULL)");
  const OrgId a = OrgId::random();
  CHECK_THROWS_AS(Set::provision_org(conn, a), UsageError);
  CHECK_FALSE(Set::is_provisioned(conn, a));  // nothing was created
}

TEST_CASE("org keys: a per-org statement_timeout is the org's own, keyed exactly, for text and bigint orgs",
          "[parity][org-keys][pg]") {
  using namespace std::chrono_literals;
  const auto sleep_in = [](pg::Connection& c, const auto& org, double seconds) {
    raw_execute(c, org, "SELECT pg_sleep($2) WHERE CAST($1 AS TEXT) IS NOT NULL", seconds);
  };
  {
    pg::Connection conn(parity::Postgres::url(),
                        {.statement_timeout = [](const TextOrgId& o) { return o.value == "slow" ? 50ms : 0ms; }});
    expect_throw<StatementTimeout>([&] { sleep_in(conn, TextOrgId{"slow"}, 1.0); });
    // Orgs that differ from it only by case or whitespace are other orgs, without its limit.
    for (const char* near : {"Slow", "slow ", " slow", "SLOW"}) {
      INFO("org '" << near << "'");
      CHECK_NOTHROW(sleep_in(conn, TextOrgId{near}, 0.06));
    }
    // An org type the function does not take: a UsageError before anything runs, never an
    // operation without the limit.
    expect_throw<UsageError>([&] { sleep_in(conn, IntOrgId{1}, 0.0); });
    expect_throw<UsageError>([&] { sleep_in(conn, OrgId::random(), 0.0); });
    CHECK(PQtransactionStatus(conn.native()) == PQTRANS_IDLE);
  }
  {
    pg::Connection conn(parity::Postgres::url(),
                        {.statement_timeout = [](const IntOrgId& o) { return o.value == -1 ? 50ms : 0ms; }});
    expect_throw<StatementTimeout>([&] { sleep_in(conn, IntOrgId{-1}, 1.0); });
    for (const IntOrgId near : {IntOrgId{1}, IntOrgId{std::numeric_limits<std::int64_t>::max()},
                                IntOrgId{std::numeric_limits<std::int64_t>::min()}}) {
      INFO("org " << near.to_string());
      CHECK_NOTHROW(sleep_in(conn, near, 0.06));
    }
    expect_throw<UsageError>([&] { sleep_in(conn, TextOrgId{"-1"}, 0.0); });
  }
  {
    // A generic function serves every org type; each org is still its own ("007" is not 7).
    pg::Connection conn(parity::Postgres::url(),
                        {.statement_timeout = [](const auto& o) { return o.to_string() == "7" ? 50ms : 0ms; }});
    expect_throw<StatementTimeout>([&] { sleep_in(conn, TextOrgId{"7"}, 1.0); });
    expect_throw<StatementTimeout>([&] { sleep_in(conn, IntOrgId{7}, 1.0); });
    CHECK_NOTHROW(sleep_in(conn, TextOrgId{"007"}, 0.06));
  }
}

}  // namespace org_keys_test
