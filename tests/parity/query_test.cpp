// Queries across entities (select.hpp) on real databases: every shape of query_shapes.hpp runs
// for three orgs that hold look-alike data (the same names, one account that is a member of
// every org, join conditions on columns that match across orgs), and each result is compared
// with what a model of that org alone gives. Zero cross-org rows, on SQLite, PostgreSQL (with
// and without server-side prepares, through connect(url)), PostgreSQL with row-level
// security as an application role, and PostgreSQL with one schema per org.
#include "support/backends.hpp"
#include "queries/queries.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

// Named, so that a unity build of tests/parity (tests/CMakeLists.txt) keeps this file's
// using-directives and helpers to itself.
namespace query_test {

using namespace tenantry;
using namespace qfx;
using testdb::expect_throw;

namespace {

using tenantry_test::as_role;  // support/pg_database.hpp

/// The query tables with row-level security, owned by one role and used by another that is
/// neither owner, superuser nor BYPASSRLS, through pg::Options{org_context}.
struct PostgresRlsQueries {
  using Dialect = PgDialect;
  using Conn = pg::Connection;
  static constexpr std::string_view name = "postgres, row-level security, application role";
  static constexpr bool is_postgres = true;
  struct Roles {
    std::string owner = "tenantry_query_owner_" + std::to_string(::getpid());
    std::string app = "tenantry_query_app_" + std::to_string(::getpid());
    Roles() {
      Conn admin(parity::Postgres::url());
      for (const auto& r : {owner, app})
        admin.execute("DO $$ BEGIN CREATE ROLE " + r +
                      " LOGIN NOSUPERUSER NOBYPASSRLS; EXCEPTION WHEN duplicate_object THEN NULL; END $$");
    }
    ~Roles() {
      try {
        Conn admin(parity::Postgres::url());
        admin.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public; DROP OWNED BY " + owner + ", " + app +
                      "; DROP ROLE " + owner + "; DROP ROLE " + app);
      } catch (...) {
      }
    }
  };
  static Roles& roles() {
    static Roles r;
    return r;
  }
  static Conn open() {
    Roles& r = roles();
    {
      Conn admin(parity::Postgres::url());
      admin.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public; GRANT ALL ON SCHEMA public TO " + r.owner +
                    "; GRANT USAGE ON SCHEMA public TO " + r.app);
    }
    {
      Conn owner(as_role(parity::Postgres::url(), r.owner));
      owner.execute(schema_sql<Dialect, Account, Member, Role, Capability, RoleAssignment, Node, NodePath, Key, Project, ProjectRole,
                               MemberSecret, SecretHistory>(DdlOptions{.row_level_security = true}));
      owner.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO " + r.app);
    }
    return Conn(as_role(parity::Postgres::url(), r.app), pg::Options{.org_context = true});
  }
};

/// The schema-per-org strategy: the global table in public, the org tables in one schema per org
/// (provisioned as each org is made), connections with pg::Options{org_schemas}.
using QueryOrgTables =
    OrgSchemas<Member, Role, Capability, RoleAssignment, Node, NodePath, Key, Project, ProjectRole, MemberSecret, SecretHistory>;
struct PostgresSchemaPerOrgQueries {
  using Dialect = PgDialect;
  using Conn = pg::Connection;
  static constexpr std::string_view name = "postgres, schema per org";
  static constexpr bool is_postgres = true;
  static Conn open() {
    Conn conn(parity::Postgres::url(), pg::Options{.org_schemas = true});
    conn.execute(
        "DO $$ DECLARE s text; BEGIN FOR s IN SELECT nspname FROM pg_namespace WHERE nspname LIKE 'org\\_%' LOOP "
        "EXECUTE format('DROP SCHEMA %I CASCADE', s); END LOOP; END $$;"
        "DROP SCHEMA public CASCADE; CREATE SCHEMA public;");
    conn.execute(schema_sql<Dialect, Account>());
    return conn;
  }
};
template <class B>
constexpr bool org_separated = std::is_same_v<B, PostgresRlsQueries> || std::is_same_v<B, PostgresSchemaPerOrgQueries>;

template <class B>
typename B::Conn open_query_db() {
  if constexpr (std::is_same_v<B, PostgresRlsQueries> || std::is_same_v<B, PostgresSchemaPerOrgQueries>) {
    return B::open();
  } else {
    auto conn = B::open();
    if constexpr (std::is_same_v<typename B::Conn, Database>)
      conn.execute(conn.is_postgres() ? qfx::schema<PgDialect>() : qfx::schema<SqliteDialect>());
    else
      conn.execute(qfx::schema<typename B::Dialect>());
    return conn;
  }
}

template <class B, class E>
using Repo = Repository<E, typename B::Dialect, typename B::Conn>;

/// What one org holds, kept alongside the database as the model.
struct OrgData {
  OrgId org;
  std::vector<Member> members;
  std::vector<Role> roles;
  std::vector<Capability> caps;
  std::vector<RoleAssignment> assignments;
  std::vector<Node> nodes;
  std::vector<NodePath> paths;
  std::vector<Key> keys;
  std::vector<MemberSecret> secrets;   // one per member but the last, whose hash names the org
  std::vector<SecretHistory> history;  // one past hash per secret
};

/// Three orgs with look-alike rows: the same member names, role names, node names and key names
/// in each (with a per-org marker only in key notes), and one shared account in all of them.
template <class B>
struct World {
  typename B::Conn conn = open_query_db<B>();
  std::vector<Account> accounts;
  std::vector<OrgData> orgs;

  World() {
    Repo<B, Account> acc{conn};
    for (int i = 0; i < 3; ++i) accounts.push_back(acc.insert(Account{Uuid::random(), "user" + std::to_string(i) + "@example.test"}));
    for (int o = 0; o < 3; ++o) orgs.push_back(make_org(o));
  }

  OrgData make_org(int o) {
    OrgData d;
    d.org = OrgId(Uuid::random());
    if constexpr (std::is_same_v<B, PostgresSchemaPerOrgQueries>) QueryOrgTables::provision_org(conn, d.org);
    Repo<B, Member> members{conn};
    Repo<B, Role> roles{conn};
    Repo<B, Capability> caps{conn};
    Repo<B, RoleAssignment> assigns{conn};
    Repo<B, Node> nodes{conn};
    Repo<B, NodePath> paths{conn};
    Repo<B, Key> keys{conn};
    // Member 0 is the shared account; org o has o + 2 members.
    for (int m = 0; m < o + 2; ++m)
      d.members.push_back(members.insert(d.org, Member{Uuid::random(), {}, accounts[static_cast<std::size_t>(m % 3)].id,
                                                       "member" + std::to_string(m)}));
    for (const char* name : {"admin", "viewer"}) d.roles.push_back(roles.insert(d.org, Role{Uuid::random(), {}, name, name[0] == 'v'}));
    for (const char* c : {"read", "write", "delete"})
      d.caps.push_back(caps.insert(d.org, Capability{Uuid::random(), {}, d.roles[0].id, c}));
    d.caps.push_back(caps.insert(d.org, Capability{Uuid::random(), {}, d.roles[1].id, "read"}));
    d.assignments.push_back(assigns.insert(d.org, RoleAssignment{Uuid::random(), {}, d.members[0].id, d.roles[0].id}));
    d.assignments.push_back(assigns.insert(d.org, RoleAssignment{Uuid::random(), {}, d.members[0].id, d.roles[1].id}));
    d.assignments.push_back(assigns.insert(d.org, RoleAssignment{Uuid::random(), {}, d.members[1].id, d.roles[1].id}));
    // A chain root -> a -> b (+ o extra children of root), with its closure.
    for (const char* n : {"root", "a", "b"}) d.nodes.push_back(nodes.insert(d.org, Node{Uuid::random(), {}, n}));
    for (int k = 0; k < o; ++k) d.nodes.push_back(nodes.insert(d.org, Node{Uuid::random(), {}, "extra" + std::to_string(k)}));
    const auto path = [&](std::size_t anc, std::size_t desc, int depth) {
      d.paths.push_back(paths.insert(d.org, NodePath{Uuid::random(), {}, d.nodes[anc].id, d.nodes[desc].id, depth}));
    };
    for (std::size_t i = 0; i < d.nodes.size(); ++i) path(i, i, 0);
    path(0, 1, 1);
    path(1, 2, 1);
    path(0, 2, 2);
    for (std::size_t k = 3; k < d.nodes.size(); ++k) path(0, k, 1);
    // Keys: member m gets m + 1 keys; names repeat across orgs; one revoked per org.
    for (std::size_t m = 0; m < d.members.size(); ++m)
      for (std::size_t k = 0; k <= m; ++k) {
        Key key{Uuid::random(), {}, d.members[m].id, "key" + std::to_string(m) + std::to_string(k),
                k == 1 ? KeyStatus::revoked : KeyStatus::active, static_cast<std::int64_t>(10 * m + k + o), std::nullopt};
        if (k == 0) key.note = "org" + std::to_string(o);
        keys.insert(d.org, key);
        d.keys.push_back(key);
      }
    // Secrets, scoped through their member; the hash is the same in every org but for its marker.
    Repo<B, MemberSecret> secrets{conn};
    Repo<B, SecretHistory> history{conn};
    for (std::size_t m = 0; m + 1 < d.members.size(); ++m) {
      d.secrets.push_back(secrets.insert(d.org, MemberSecret{Uuid::random(), d.members[m].id, "hash-org" + std::to_string(o), 1}));
      d.history.push_back(history.insert(d.org, SecretHistory{Uuid::random(), d.secrets.back().id, "old-org" + std::to_string(o)}));
    }
    return d;
  }
};

struct RawHash {
  std::string password_hash;
};

template <class T>
std::vector<T> sorted(std::vector<T> v) {
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace

#define QUERY_BACKENDS PARITY_BACKENDS, PostgresRlsQueries, PostgresSchemaPerOrgQueries

TEMPLATE_TEST_CASE("joins read only the call's org, whatever the join shape", "[parity][query][org]", QUERY_BACKENDS) {
  World<TestType> w;
  auto& conn = w.conn;
  for (const OrgData& d : w.orgs) {
    CAPTURE(TestType::name);
    // Keys with owners: every row is a key of this org, with its member's account e-mail (the
    // account table is global; the member table is org-scoped and joined on its org).
    std::vector<KeyOwner> expected;
    for (const Key& k : d.keys) {
      if (k.status != KeyStatus::active) continue;
      const auto m = std::find_if(d.members.begin(), d.members.end(), [&](const Member& x) { return x.id == k.member_id; });
      const auto a = std::find_if(w.accounts.begin(), w.accounts.end(), [&](const Account& x) { return x.id == m->account_id; });
      expected.push_back(KeyOwner{k.id, k.name, a->email});
    }
    std::sort(expected.begin(), expected.end(), [](const KeyOwner& x, const KeyOwner& y) { return x.name < y.name; });
    CHECK(fetch(conn, d.org, keys_with_owners()) == expected);

    // Left join: members without keys come back with an empty key.
    auto mk = fetch(conn, d.org, members_and_keys());
    std::size_t expected_rows = 0;
    for (const Member& m : d.members) {
      const auto n = std::count_if(d.keys.begin(), d.keys.end(), [&](const Key& k) { return k.member_id == m.id; });
      expected_rows += n == 0 ? 1 : static_cast<std::size_t>(n);
    }
    CHECK(mk.size() == expected_rows);

    // Capabilities through assignments -> roles -> capabilities, de-duplicated.
    using Cap = std::tuple<std::string>;
    CHECK(fetch(conn, d.org, capabilities_of(d.members[0].id)) == std::vector<Cap>{{"delete"}, {"read"}, {"write"}});
    CHECK(fetch(conn, d.org, capabilities_of(d.members[1].id)) == std::vector<Cap>{{"read"}});
    // Another org's member id finds nothing here, even though its org has the same shapes.
    const OrgData& other = w.orgs[(&d - w.orgs.data() + 1) % 3];
    CHECK(fetch(conn, d.org, capabilities_of(other.members[0].id)).empty());

    // The closure table: descendants of root, nearest first; aliases of one table.
    using Desc = std::tuple<std::string, std::int32_t>;
    std::vector<Desc> desc{{"a", 1}};
    for (std::size_t k = 3; k < d.nodes.size(); ++k) desc.emplace_back("extra" + std::to_string(k - 3), 1);
    desc.emplace_back("b", 2);
    std::sort(desc.begin(), desc.end(), [](const Desc& x, const Desc& y) { return std::tie(std::get<1>(x), std::get<0>(x)) < std::tie(std::get<1>(y), std::get<0>(y)); });
    CHECK(fetch(conn, d.org, descendants_of(d.nodes[0].id)) == desc);
    CHECK(fetch(conn, d.org, descendants_of(other.nodes[0].id)).empty());
    CHECK(fetch(conn, d.org, ancestry()).size() == 3 + (d.nodes.size() - 3));
  }
}

TEMPLATE_TEST_CASE("a join on columns that match across orgs still stays in the org", "[parity][query][org]", QUERY_BACKENDS) {
  // Key names and member names repeat in every org: a join on them (no foreign key) would pull
  // in other orgs' rows if any joined table missed its org filter.
  World<TestType> w;
  auto& conn = w.conn;
  // A member named like a key, in every org.
  for (const OrgData& d : w.orgs) Repo<TestType, Member>{conn}.insert(d.org, Member{Uuid::random(), {}, w.accounts[0].id, "key00"});
  const auto q = select(col(&Key::note), col(&Member::display_name))
                     .from<Key>()
                     .join<Member>(col(&Member::display_name) == col(&Key::name));
  const auto l = select(col(&Member::display_name), col(&Key::note))
                     .from<Member>()
                     .left_join<Key>(col(&Key::name) == col(&Member::display_name))
                     .where(col(&Member::display_name) == std::string("key00"));
  for (std::size_t o = 0; o < w.orgs.size(); ++o) {
    const auto rows = fetch(conn, w.orgs[o].org, q);
    REQUIRE(rows.size() == 1);
    CHECK(std::get<0>(rows[0]) == "org" + std::to_string(o));
    const auto left = fetch(conn, w.orgs[o].org, l);
    REQUIRE(left.size() == 1);
    CHECK(std::get<1>(left[0]) == std::optional<std::string>("org" + std::to_string(o)));
  }
}

TEMPLATE_TEST_CASE("aggregates and subqueries count only the call's org", "[parity][query][org]", QUERY_BACKENDS) {
  World<TestType> w;
  auto& conn = w.conn;
  for (const OrgData& d : w.orgs) {
    std::map<KeyStatus, std::int64_t> per_status;
    std::map<Uuid, MemberUsage> usage;
    for (const Key& k : d.keys) {
      ++per_status[k.status];
      auto& u = usage[k.member_id];
      u.member_id = k.member_id;
      ++u.keys;
      u.total_uses = u.total_uses.value_or(0) + k.uses;
      u.last_name = std::max(u.last_name.value_or(""), k.name);
    }
    std::vector<std::tuple<KeyStatus, std::int64_t>> expected(per_status.begin(), per_status.end());
    CHECK(fetch(conn, d.org, keys_per_status(1)) == expected);
    CHECK(fetch(conn, d.org, keys_per_status(1000)).empty());

    auto got = fetch(conn, d.org, usage_per_member());
    REQUIRE(got.size() == usage.size());
    for (auto& g : got) {
      const MemberUsage& e = usage.at(g.member_id);
      CHECK(g.keys == e.keys);
      CHECK(g.total_uses == e.total_uses);
      CHECK(g.last_name == e.last_name);
      REQUIRE(g.average_uses.has_value());
      CHECK(*g.average_uses == Approx(static_cast<double>(*e.total_uses) / static_cast<double>(e.keys)));
    }

    // EXISTS: members holding an active key (all members here hold key m0 active).
    CHECK(fetch(conn, d.org, members_with_active_keys()).size() == d.members.size());
    // IN subquery: keys of the viewer role's members (members 0 and 1).
    const auto of_role = fetch(conn, d.org, keys_of_role(d.roles[1].id));
    CHECK(of_role.size() == 3);
    // Another org's role id matches nothing, through the subquery's own org filter.
    const OrgData& other = w.orgs[(&d - w.orgs.data() + 1) % 3];
    CHECK(fetch(conn, d.org, keys_of_role(other.roles[1].id)).empty());
    // A global-only query takes no org.
    CHECK(fetch(conn, accounts_like("%@example.test")).size() == 3);
  }
}

TEMPLATE_TEST_CASE("predicates with OR and NOT at the top stay inside the org in every filtered call",
                   "[parity][query][org][property]", QUERY_BACKENDS) {
  // The leak reproduced in review: `a OR b` written after `org = ?1 AND` without parentheses made
  // erase_where(A, ...) delete org B's rows. Every filtered operation, with ORs and NOTs at the
  // top of the predicate, against the same keys in three orgs.
  World<TestType> w;
  auto& conn = w.conn;
  Repo<TestType, Key> keys{conn};
  const auto total = [&] {
    std::int64_t n = 0;
    for (const OrgData& d : w.orgs) n += keys.count(d.org);
    return n;
  };
  const OrgData& a = w.orgs[0];
  const auto before = total();
  const auto p1 = col(&Key::name) == std::string("key00") || col(&Key::name) == std::string("key11");
  const auto p2 = !(col(&Key::uses) < std::int64_t{0}) || col(&Key::note).is_null();
  const auto p3 = col(&Key::status) == KeyStatus::revoked || !(col(&Key::status) == KeyStatus::revoked);  // every row
  // Reads: only org a's rows match, however wide the predicate.
  CHECK(keys.count(a.org, p3) == static_cast<std::int64_t>(a.keys.size()));
  CHECK(keys.list(a.org, p2).size() == a.keys.size());
  CHECK(keys.list(a.org, p1, p3).size() == 2);
  CHECK(keys.exists(a.org, p3));
  // Subqueries with OR inside are filtered too.
  const auto sub = exists(from<Member>().where(col(&Member::id) == col(&Key::member_id) || col(&Member::display_name) == std::string("member0")));
  CHECK(keys.count(a.org, sub) == static_cast<std::int64_t>(a.keys.size()));
  // Writes: update_where and erase_where with a predicate matching every row of every org.
  CHECK(keys.update_where(a.org, p3, assign(col(&Key::name), std::string("renamed"))) == static_cast<std::int64_t>(a.keys.size()));
  CHECK(keys.count(w.orgs[1].org, col(&Key::name) == std::string("renamed")) == 0);
  CHECK(keys.count(w.orgs[2].org, col(&Key::name) == std::string("renamed")) == 0);
  CHECK(keys.erase_where(a.org, p3 || p1) == static_cast<std::int64_t>(a.keys.size()));
  CHECK(total() == before - static_cast<std::int64_t>(a.keys.size()));
  CHECK(keys.count(w.orgs[1].org) == static_cast<std::int64_t>(w.orgs[1].keys.size()));
  CHECK(keys.count(w.orgs[2].org) == static_cast<std::int64_t>(w.orgs[2].keys.size()));
  // erase_where with a subquery on another table: deletes only this org's keys whose member
  // (in this org) matches.
  const OrgData& b = w.orgs[1];
  const auto owned_by_member0 =
      exists(from<Member>().where(col(&Member::id) == col(&Key::member_id) && col(&Member::display_name) == std::string("member0")));
  CHECK(keys.erase_where(b.org, owned_by_member0) == 1);
  CHECK(keys.count(w.orgs[2].org) == static_cast<std::int64_t>(w.orgs[2].keys.size()));
}

TEMPLATE_TEST_CASE("a table scoped through its parent: no operation of org A reaches a row of org B's parent",
                   "[parity][query][org][through]", QUERY_BACKENDS) {
  // The attacker is org A, knowing every id of org B (ids leak: logs, URLs, support tickets).
  World<TestType> w;
  auto& conn = w.conn;
  const OrgData& a = w.orgs[0];
  const OrgData& b = w.orgs[1];
  Repo<TestType, MemberSecret> secrets{conn};
  Repo<TestType, SecretHistory> history{conn};
  const MemberSecret theirs = b.secrets[0];
  const MemberSecret mine = a.secrets[0];
  const auto b_sees_unchanged = [&] {
    CHECK(secrets.find(b.org, theirs.id) == std::optional<MemberSecret>(theirs));
    CHECK(secrets.count(b.org) == static_cast<std::int64_t>(b.secrets.size()));
    CHECK(history.count(b.org) == static_cast<std::int64_t>(b.history.size()));
  };
  // Reads through the repository.
  CHECK_FALSE(secrets.find(a.org, theirs.id));
  CHECK(secrets.find(b.org, theirs.id) == std::optional<MemberSecret>(theirs));
  CHECK(secrets.count(a.org) == static_cast<std::int64_t>(a.secrets.size()));
  for (const MemberSecret& s : secrets.list(a.org)) CHECK(s.password_hash == "hash-org0");
  CHECK(secrets.list(a.org, col(&MemberSecret::member_id) == theirs.member_id).empty());
  CHECK_FALSE(secrets.exists(a.org, col(&MemberSecret::id) == theirs.id));
  CHECK(secrets.count(a.org, col(&MemberSecret::password_hash) == std::string("hash-org1")) == 0);
  // Depth 2: the history of B's secret is B's.
  CHECK_FALSE(history.find(a.org, b.history[0].id));
  CHECK(history.count(a.org) == static_cast<std::int64_t>(a.history.size()));
  CHECK(history.list(a.org, col(&SecretHistory::secret_id) == theirs.id).empty());
  // Writes to B's rows by key or predicate touch nothing.
  MemberSecret stolen = theirs;  // B's row as is: it names B's member, a parent outside org A
  stolen.password_hash = "attacker";
  CHECK_THROWS_AS(secrets.update(a.org, stolen), OrgMismatch);
  MemberSecret forged{theirs.id, a.members[0].id, "attacker", 1};  // B's key under A's member
  CHECK_FALSE(secrets.update(a.org, forged));
  CHECK_FALSE(secrets.update(a.org, forged, only(&MemberSecret::password_hash)));
  CHECK_FALSE(secrets.set(a.org, theirs.id, &MemberSecret::password_hash, std::string("attacker")));
  CHECK(secrets.update_where(a.org, col(&MemberSecret::id) == theirs.id, assign(col(&MemberSecret::version), 99)) == 0);
  CHECK_FALSE(secrets.erase(a.org, theirs.id));
  CHECK(secrets.erase_where(a.org, col(&MemberSecret::id) == theirs.id ||
                                       col(&MemberSecret::password_hash) == std::string("hash-org1")) == 0);
  CHECK_FALSE(history.erase(a.org, b.history[0].id));
  CHECK(history.erase_where(a.org, col(&SecretHistory::secret_id) == theirs.id) == 0);
  b_sees_unchanged();
  // Inserting under B's member (or under a member nobody has): OrgMismatch, nothing written.
  const auto e = expect_throw<OrgMismatch>(
      [&] { secrets.insert(a.org, MemberSecret{Uuid::random(), b.members.back().id, "planted", 1}); });
  CHECK(e.table() == "q_member_secrets");
  CHECK(e.scoped_org() == a.org.to_string());
  CHECK_THROWS_AS(secrets.insert(a.org, MemberSecret{Uuid::random(), Uuid::random(), "orphan", 1}), OrgMismatch);
  CHECK_THROWS_AS(history.insert(a.org, SecretHistory{Uuid::random(), theirs.id, "planted"}), OrgMismatch);
  std::vector<MemberSecret> batch{MemberSecret{Uuid::random(), a.members.back().id, "ok", 1},
                                  MemberSecret{Uuid::random(), b.members.back().id, "planted", 1}};
  CHECK_THROWS_AS(secrets.insert_many(a.org, batch), OrgMismatch);
  CHECK(secrets.count(a.org) == static_cast<std::int64_t>(a.secrets.size()));  // all or nothing
  // Upsert with B's secret's key and A's member: the conflicting row is B's, not overwritten.
  // (Under row-level security the database refuses first; with one schema per org the key is
  // per org, and the row is simply a new one of org A's.)
  MemberSecret clash{theirs.id, a.members.back().id, "attacker", 7};
  if constexpr (std::is_same_v<TestType, PostgresSchemaPerOrgQueries>) {
    secrets.upsert(a.org, clash, on_conflict(&MemberSecret::id));
    CHECK(secrets.erase(a.org, clash.id));
  } else if constexpr (std::is_same_v<TestType, PostgresRlsQueries>) {
    CHECK_THROWS_AS(secrets.upsert(a.org, clash, on_conflict(&MemberSecret::id)), DatabaseError);
  } else {
    CHECK_THROWS_AS(secrets.upsert(a.org, clash, on_conflict(&MemberSecret::id)), UniqueViolation);
  }
  MemberSecret under_b{Uuid::random(), b.members.back().id, "planted", 1};
  CHECK_THROWS_AS(secrets.upsert(a.org, under_b, on_conflict(&MemberSecret::id)), OrgMismatch);
  MemberSecret theirs_as_is = theirs;
  theirs_as_is.password_hash = "attacker";
  CHECK_THROWS_AS(secrets.upsert(a.org, theirs_as_is, on_conflict(&MemberSecret::id)), OrgMismatch);
  b_sees_unchanged();
  // Moving A's secret under B's member: refused, A's row unchanged.
  MemberSecret moved = mine;
  moved.member_id = b.members[0].id;
  CHECK_THROWS_AS(secrets.update(a.org, moved), OrgMismatch);
  CHECK_THROWS_AS(secrets.set(a.org, mine.id, &MemberSecret::member_id, b.members[0].id), OrgMismatch);
  CHECK_THROWS_AS(
      secrets.update_where(a.org, col(&MemberSecret::id) == mine.id, assign(col(&MemberSecret::member_id), b.members[0].id)),
      OrgMismatch);
  CHECK_THROWS_AS(history.set(a.org, a.history[0].id, &SecretHistory::secret_id, theirs.id), OrgMismatch);
  CHECK(secrets.find(a.org, mine.id) == std::optional<MemberSecret>(mine));
  b_sees_unchanged();
  // Within the org everything works: insert, upsert (both paths), a move, erase with cascade.
  MemberSecret fresh{Uuid::random(), a.members.back().id, "new", 1};
  secrets.insert(a.org, fresh);
  CHECK(secrets.find(a.org, fresh.id) == std::optional<MemberSecret>(fresh));
  fresh.version = 2;
  secrets.upsert(a.org, fresh, on_conflict(&MemberSecret::id));
  CHECK(secrets.find(a.org, fresh.id)->version == 2);
  MemberSecret other{Uuid::random(), a.members[0].id, "other", 1};
  secrets.upsert(a.org, other, on_conflict(&MemberSecret::id));
  CHECK(secrets.erase(a.org, other.id));
  CHECK(secrets.set(a.org, fresh.id, &MemberSecret::member_id, a.members[0].id));
  SecretHistory h{Uuid::random(), fresh.id, "older"};
  history.insert(a.org, h);
  CHECK(history.find(a.org, h.id) == std::optional<SecretHistory>(h));
  CHECK(secrets.erase(a.org, fresh.id));
  CHECK_FALSE(history.find(a.org, h.id));  // ON DELETE CASCADE
  b_sees_unchanged();

  // Queries: joins, left joins, subqueries, for every org.
  for (std::size_t o = 0; o < w.orgs.size(); ++o) {
    const OrgData& d = w.orgs[o];
    const OrgData& next = w.orgs[(o + 1) % 3];
    const std::string marker = "hash-org" + std::to_string(o);
    // The login query: one account is a member of every org; each org sees its own hash only.
    CHECK(fetch(conn, d.org, secret_for_login(w.accounts[0].email)) == std::vector<std::tuple<std::string>>{{marker}});
    // Members and their secret versions: the last member has none (NULL), never another org's.
    const auto ms = fetch(conn, d.org, members_and_secrets());
    CHECK(ms.size() == d.members.size());
    CHECK(std::count_if(ms.begin(), ms.end(), [](const auto& r) { return !std::get<1>(r).has_value(); }) == 1);
    CHECK(fetch(conn, d.org, members_without_secret()) == std::vector<std::tuple<std::string>>{{d.members.back().display_name}});
    CHECK(fetch(conn, d.org, members_with_hash(marker)).size() == d.secrets.size());
    CHECK(fetch(conn, d.org, members_with_hash("hash-org" + std::to_string((o + 1) % 3))).empty());
    // Depth 2 in a join.
    CHECK(fetch(conn, d.org, history_of(d.members[0].id)) == std::vector<std::tuple<std::string>>{{"old-org" + std::to_string(o)}});
    CHECK(fetch(conn, d.org, history_of(next.members[0].id)).empty());
    CHECK(fetch(conn, d.org, select(count()).from<MemberSecret>()) ==
          std::vector<std::tuple<std::int64_t>>{{static_cast<std::int64_t>(d.secrets.size())}});
    // A global table with a subquery on the secrets takes the org, and sees only its rows.
    const auto with_org1_hash = select(col(&Account::email))
                                    .from<Account>()
                                    .where(exists(from<MemberSecret>().where(col(&MemberSecret::password_hash) == std::string("hash-org1"))));
    CHECK(fetch(conn, d.org, with_org1_hash).size() == (o == 1 ? w.accounts.size() : 0u));
  }
  // INSERT ... SELECT: archives only the org's hashes, into the org (both sides through parents).
  CHECK(insert_select<SecretHistory>(conn, b.org, archive_into(), current_hashes()) == static_cast<std::int64_t>(b.secrets.size()));
  CHECK(history.count(b.org) == static_cast<std::int64_t>(2 * b.history.size()));
  CHECK(history.count(a.org) == static_cast<std::int64_t>(a.history.size()));
  CHECK(history.count(w.orgs[2].org) == static_cast<std::int64_t>(w.orgs[2].history.size()));
  // ... and one from org A naming B's secret as a constant writes nothing.
  CHECK(insert_select<SecretHistory>(conn, a.org, archive_into(), select(tenantry::value(theirs.id), col(&Member::display_name)).from<Member>()) == 0);
  CHECK(history.count(b.org) == static_cast<std::int64_t>(2 * b.history.size()));
  CHECK(history.count(a.org) == static_cast<std::int64_t>(a.history.size()));
  // Raw SQL without a filter: row-level security (the EXISTS policies) and the org's own schema
  // still return only the org's rows.
  if constexpr (org_separated<TestType>) {
    CHECK(raw_query<RawHash>(conn, a.org, "SELECT password_hash FROM q_member_secrets WHERE $1::uuid IS NOT NULL").size() ==
          a.secrets.size());
    CHECK(raw_query<RawHash>(conn, a.org, "SELECT password_hash FROM q_secret_history WHERE $1::uuid IS NOT NULL").size() ==
          a.history.size());
  }
}

TEMPLATE_TEST_CASE("rows stream one at a time", "[parity][query]", QUERY_BACKENDS) {
  World<TestType> w;
  std::size_t n = 0;
  for_each_row(w.conn, w.orgs[2].org, select(col(&Key::id), col(&Key::uses)).from<Key>(), [&](const auto& row) {
    CHECK(std::get<1>(row) >= 0);
    ++n;
  });
  CHECK(n == w.orgs[2].keys.size());
  CHECK(fetch_one(w.conn, w.orgs[2].org, select(count()).from<Key>()) ==
        std::optional<std::tuple<std::int64_t>>(static_cast<std::int64_t>(w.orgs[2].keys.size())));
  CHECK_THROWS_AS(fetch(w.conn, OrgId{}, select(count()).from<Key>()), UsageError);  // the nil org is nobody
}

namespace {
struct RawKey {
  std::string name;
  std::int64_t uses;
};
struct RawMissing {
  std::string name;
  std::int64_t nothing_named_so;
};
}  // namespace

TEMPLATE_TEST_CASE("the raw path binds every value, maps columns by name and runs in the org's context",
                   "[parity][query][raw]", QUERY_BACKENDS) {
  World<TestType> w;
  auto& conn = w.conn;
  const OrgData& a = w.orgs[0];
  const bool pg = TestType::is_postgres;
  const std::string filtered = pg ? "SELECT uses, name FROM q_keys WHERE org_id = $1 AND name = $2"
                                  : "SELECT uses, name FROM q_keys WHERE org_id = ?1 AND name = ?2";
  // A value that would be SQL if it were spliced in stays a value.
  CHECK(raw_query<RawKey>(conn, a.org, filtered, std::string("key00' OR '1'='1")).empty());
  const auto rows = raw_query<RawKey>(conn, a.org, filtered, std::string("key00"));
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].uses == a.keys[0].uses);
  CHECK_THROWS_AS(raw_query<RawMissing>(conn, a.org, filtered, std::string("key00")), UsageError);
  // Unfiltered raw SQL: under row-level security (an application role with org_context) and in
  // the org's own schema the database still returns only the org's rows; elsewhere the text's
  // own filter is all there is.
  const std::string all = pg ? "SELECT name, uses FROM q_keys WHERE $1::uuid IS NOT NULL" : "SELECT name, uses FROM q_keys WHERE ?1 IS NOT NULL";
  const auto every = raw_query<RawKey>(conn, a.org, all);
  if constexpr (org_separated<TestType>) {
    CHECK(every.size() == a.keys.size());
  } else {
    CHECK(every.size() == w.orgs[0].keys.size() + w.orgs[1].keys.size() + w.orgs[2].keys.size());
  }
  const std::string update = pg ? "UPDATE q_keys SET uses = uses + $2 WHERE org_id = $1" : "UPDATE q_keys SET uses = uses + ?2 WHERE org_id = ?1";
  CHECK(raw_execute(conn, a.org, update, std::int64_t{1}) == static_cast<std::int64_t>(a.keys.size()));
  CHECK_THROWS_AS(raw_execute(conn, OrgId{}, update, std::int64_t{1}), UsageError);
}

TEMPLATE_TEST_CASE("keyset pages walk one org's rows exactly once, in either direction", "[parity][query][keyset]",
                   QUERY_BACKENDS) {
  World<TestType> w;
  Repo<TestType, Key> keys{w.conn};
  const OrgData& d = w.orgs[2];
  const auto walk = [&](auto first, auto second) {
    std::vector<Uuid> seen;
    std::vector<Key> page = keys.list(d.org, first, second, limit(2));
    while (!page.empty()) {
      for (const Key& k : page) seen.push_back(k.id);
      page = keys.list(d.org, first, second, after(page.back()), limit(2));
    }
    return seen;
  };
  std::vector<Uuid> all_ids;
  for (const Key& k : keys.list(d.org, order_by(&Key::name), order_by(&Key::id))) all_ids.push_back(k.id);
  CHECK(walk(order_by(&Key::name), order_by(&Key::id)) == all_ids);  // the same direction: a row value
  all_ids.clear();
  for (const Key& k : keys.list(d.org, order_by(&Key::uses).desc(), order_by(&Key::id))) all_ids.push_back(k.id);
  CHECK(walk(order_by(&Key::uses).desc(), order_by(&Key::id)) == all_ids);  // mixed: the expanded form
  CHECK(all_ids.size() == d.keys.size());
  // A row of another org as the cursor still pages this org only.
  for (const Key& k : keys.list(d.org, order_by(&Key::name), order_by(&Key::id), after(w.orgs[0].keys.front())))
    CHECK(k.org_id == d.org);
  // The ordering must end in the key, and not name a nullable column.
  CHECK_THROWS_AS(keys.list(d.org, order_by(&Key::name), after(d.keys.front())), UsageError);
  CHECK_THROWS_AS(keys.list(d.org, order_by(&Key::note), order_by(&Key::id), after(d.keys.front())), UsageError);
}

TEMPLATE_TEST_CASE("INSERT ... SELECT copies rows within the org and writes them in the org", "[parity][query][insert_select]",
                   QUERY_BACKENDS) {
  World<TestType> w;
  auto& conn = w.conn;
  Repo<TestType, Project> projects{conn};
  Repo<TestType, ProjectRole> project_roles{conn};
  const OrgData& a = w.orgs[0];
  const Project p = projects.insert(a.org, Project{Uuid::random(), {}, "apollo"});
  // Each org has one default role (viewer); only org a's is copied, and it lands in org a.
  CHECK(insert_select<ProjectRole>(conn, a.org, copy_default_roles_into(), default_roles_for(p.id)) == 1);
  const auto copied = project_roles.list(a.org);
  REQUIRE(copied.size() == 1);
  CHECK(copied[0].name == "viewer");
  CHECK(copied[0].org_id == a.org);
  CHECK(copied[0].project_id == p.id);
  CHECK_FALSE(copied[0].id.is_nil());  // generated by the database
  for (std::size_t o = 1; o < w.orgs.size(); ++o) CHECK(project_roles.count(w.orgs[o].org) == 0);
  // From another org's point of view the same statement copies that org's roles, into that org.
  const Project q = projects.insert(w.orgs[1].org, Project{Uuid::random(), {}, "apollo"});
  CHECK(insert_select<ProjectRole>(conn, w.orgs[1].org, copy_default_roles_into(), default_roles_for(q.id)) == 1);
  CHECK(project_roles.count(a.org) == 1);
  CHECK(project_roles.count(w.orgs[1].org) == 1);
}

namespace {

/// The randomized model: per org, the members and keys the database should hold.
struct ModelOrg {
  OrgId org;
  std::vector<Member> members;
  std::vector<Key> keys;
  std::vector<MemberSecret> secrets;  // scoped through their member
};

template <class T>
std::vector<T> as_sorted(std::vector<T> v) {
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace

TEMPLATE_TEST_CASE("randomized: joins, aggregates, subqueries and writes across orgs match a per-org model",
                   "[parity][query][org][model]", QUERY_BACKENDS) {
  // Names are drawn from one small set for members and keys in every org, so that joins on names
  // (no foreign key) and predicates on names match rows of other orgs wherever a filter is
  // missing. Every result is compared with what the model of the calling org alone gives.
  auto conn = open_query_db<TestType>();
  Repo<TestType, Account> accounts{conn};
  Repo<TestType, Member> members{conn};
  Repo<TestType, Key> keys{conn};
  Repo<TestType, MemberSecret> secrets{conn};
  const Account acc = accounts.insert(Account{Uuid::random(), "shared@example.test"});
  std::mt19937_64 rng(20261201);
  const auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  const auto name = [&] { return "n" + std::to_string(pick(4)); };
  std::vector<ModelOrg> orgs(4);
  for (auto& o : orgs) {
    o.org = OrgId(Uuid::random());
    if constexpr (std::is_same_v<TestType, PostgresSchemaPerOrgQueries>) QueryOrgTables::provision_org(conn, o.org);
    for (int m = 0; m < 2; ++m) o.members.push_back(members.insert(o.org, Member{Uuid::random(), {}, acc.id, name()}));
  }
  std::size_t checks = 0;
  for (int step = 0; step < 120; ++step) {
    ModelOrg& o = orgs[pick(orgs.size())];
    switch (pick(7)) {
      case 0:
      case 1: {  // a key for one of the org's members
        Key k{Uuid::random(), {}, o.members[pick(o.members.size())].id, name(),
              pick(3) == 0 ? KeyStatus::revoked : KeyStatus::active, static_cast<std::int64_t>(pick(10)), std::nullopt};
        keys.insert(o.org, k);
        o.keys.push_back(k);
        break;
      }
      case 2: {  // erase_where with an OR at the top
        const std::string n = name();
        const std::int64_t u = static_cast<std::int64_t>(pick(12));
        const auto gone = keys.erase_where(o.org, col(&Key::name) == n || col(&Key::uses) > u);
        const auto before = o.keys.size();
        std::erase_if(o.keys, [&](const Key& k) { return k.name == n || k.uses > u; });
        CHECK(gone == static_cast<std::int64_t>(before - o.keys.size()));
        break;
      }
      case 3: {  // update_where with NOT and OR
        const std::string n = name();
        const std::int64_t v = static_cast<std::int64_t>(pick(10));
        const auto changed =
            keys.update_where(o.org, !(col(&Key::status) == KeyStatus::active) || col(&Key::name) == n, assign(col(&Key::uses), v));
        std::int64_t expected = 0;
        for (Key& k : o.keys)
          if (k.status != KeyStatus::active || k.name == n) {
            k.uses = v;
            ++expected;
          }
        CHECK(changed == expected);
        break;
      }
      case 4:  // a member
        o.members.push_back(members.insert(o.org, Member{Uuid::random(), {}, acc.id, name()}));
        break;
      case 5: {  // a secret for one of the org's members, or an attempt under another org's member
        const ModelOrg& victim = orgs[pick(orgs.size())];
        const bool attack = &victim != &o && pick(2) == 0;
        const Member& m = attack ? victim.members[pick(victim.members.size())] : o.members[pick(o.members.size())];
        const MemberSecret sec{Uuid::random(), m.id, name(), static_cast<std::int32_t>(pick(4))};
        if (attack) {
          CHECK_THROWS_AS(secrets.insert(o.org, sec), OrgMismatch);
        } else {
          secrets.insert(o.org, sec);
          o.secrets.push_back(sec);
        }
        break;
      }
      case 6: {  // erase_where on the secrets with an OR at the top, or an update_where
        const std::string n = name();
        const std::int32_t v = static_cast<std::int32_t>(pick(4));
        if (pick(2) == 0) {
          const auto gone = secrets.erase_where(o.org, col(&MemberSecret::password_hash) == n || col(&MemberSecret::version) > v);
          const auto before = o.secrets.size();
          std::erase_if(o.secrets, [&](const MemberSecret& x) { return x.password_hash == n || x.version > v; });
          CHECK(gone == static_cast<std::int64_t>(before - o.secrets.size()));
        } else {
          const auto changed = secrets.update_where(o.org, col(&MemberSecret::password_hash) == n, assign(col(&MemberSecret::version), v));
          std::int64_t expected = 0;
          for (MemberSecret& x : o.secrets)
            if (x.password_hash == n) {
              x.version = v;
              ++expected;
            }
          CHECK(changed == expected);
        }
        break;
      }
    }
    // Check every shape for one org.
    const ModelOrg& c = orgs[pick(orgs.size())];
    // Counts per status.
    std::map<KeyStatus, std::int64_t> per_status;
    for (const Key& k : c.keys) ++per_status[k.status];
    CHECK(fetch(conn, c.org, keys_per_status(1)) == std::vector<std::tuple<KeyStatus, std::int64_t>>(per_status.begin(), per_status.end()));
    // Keys with owners (active only), as a multiset.
    std::vector<KeyOwner> owners;
    for (const Key& k : c.keys)
      if (k.status == KeyStatus::active) owners.push_back(KeyOwner{k.id, k.name, acc.email});
    const auto by_id = [](const KeyOwner& x, const KeyOwner& y) { return x.id < y.id; };
    auto got_owners = fetch(conn, c.org, keys_with_owners());
    std::sort(got_owners.begin(), got_owners.end(), by_id);
    std::sort(owners.begin(), owners.end(), by_id);
    CHECK(got_owners == owners);
    // A join on names: (key, member) pairs of this org whose names are equal.
    std::vector<std::tuple<Uuid, Uuid>> pairs;
    for (const Key& k : c.keys)
      for (const Member& m : c.members)
        if (m.display_name == k.name) pairs.emplace_back(k.id, m.id);
    CHECK(as_sorted(fetch(conn, c.org, select(col(&Key::id), col(&Member::id)).from<Key>().join<Member>(col(&Member::display_name) == col(&Key::name)))) ==
          as_sorted(pairs));
    // Correlated EXISTS: members holding an active key.
    std::vector<std::tuple<std::string>> holders;
    for (const Member& m : c.members)
      if (std::any_of(c.keys.begin(), c.keys.end(), [&](const Key& k) { return k.member_id == m.id && k.status == KeyStatus::active; }))
        holders.emplace_back(m.display_name);
    CHECK(as_sorted(fetch(conn, c.org, members_with_active_keys())) == as_sorted(holders));
    // Secrets (scoped through their member): the repository, a join on names (which match
    // across orgs) and a left join from the members.
    std::vector<MemberSecret> got_secrets = secrets.list(c.org);
    const auto by_secret_id = [](const MemberSecret& x, const MemberSecret& y) { return x.id < y.id; };
    std::vector<MemberSecret> want_secrets = c.secrets;
    std::sort(got_secrets.begin(), got_secrets.end(), by_secret_id);
    std::sort(want_secrets.begin(), want_secrets.end(), by_secret_id);
    CHECK(got_secrets == want_secrets);
    std::vector<std::tuple<Uuid, Uuid>> secret_pairs;
    for (const MemberSecret& x : c.secrets)
      for (const Member& m : c.members)
        if (m.display_name == x.password_hash) secret_pairs.emplace_back(x.id, m.id);
    CHECK(as_sorted(fetch(conn, c.org,
                          select(col(&MemberSecret::id), col(&Member::id))
                              .from<MemberSecret>()
                              .join<Member>(col(&Member::display_name) == col(&MemberSecret::password_hash)))) == as_sorted(secret_pairs));
    std::vector<std::tuple<Uuid, std::optional<Uuid>>> member_secrets;
    for (const Member& m : c.members) {
      bool any = false;
      for (const MemberSecret& x : c.secrets)
        if (x.password_hash == m.display_name) {
          member_secrets.emplace_back(m.id, x.id);
          any = true;
        }
      if (!any) member_secrets.emplace_back(m.id, std::nullopt);
    }
    CHECK(as_sorted(fetch(conn, c.org,
                          select(col(&Member::id), col(&MemberSecret::id))
                              .from<Member>()
                              .left_join<MemberSecret>(col(&MemberSecret::password_hash) == col(&Member::display_name)))) ==
          as_sorted(member_secrets));
    // Aggregates per member.
    std::map<Uuid, std::pair<std::int64_t, std::int64_t>> usage;
    for (const Key& k : c.keys) {
      ++usage[k.member_id].first;
      usage[k.member_id].second += k.uses;
    }
    const auto got_usage = fetch(conn, c.org, usage_per_member());
    REQUIRE(got_usage.size() == usage.size());
    for (const MemberUsage& u : got_usage) {
      CHECK(u.keys == usage.at(u.member_id).first);
      CHECK(u.total_uses == std::optional<std::int64_t>(usage.at(u.member_id).second));
    }
    ++checks;
  }
  CHECK(checks == 120);
}

TEMPLATE_TEST_CASE("a nested use of a statement being read is refused, never rebound for another org",
                   "[parity][query][org][reentrancy]", QUERY_BACKENDS) {
  // Connections cache one prepared statement per text. Running the same query for org b from
  // inside org a's for_each_row would rebind that statement under the outer loop, which would
  // then go on with org b's rows.
  World<TestType> w;
  const OrgData& a = w.orgs[0];
  const OrgData& b = w.orgs[1];
  const auto q = select(col(&Key::org_id), col(&Key::name)).from<Key>();
  std::size_t outer = 0;
  CHECK_THROWS_AS(for_each_row(w.conn, a.org, q,
                               [&](const auto& row) {
                                 CHECK(std::get<0>(row) == a.org);
                                 ++outer;
                                 (void)fetch(w.conn, b.org, q);
                               }),
                  UsageError);
  CHECK(outer == 1);
  // The same through a repository call whose text is another: allowed, and each sees its org.
  Repo<TestType, Key> keys{w.conn};
  std::size_t rows = 0;
  for_each_row(w.conn, a.org, q, [&](const auto& row) {
    CHECK(std::get<0>(row) == a.org);
    CHECK(keys.count(b.org) == static_cast<std::int64_t>(b.keys.size()));
    ++rows;
  });
  CHECK(rows == a.keys.size());
  // And the statement is usable again after the refused attempt.
  CHECK(fetch(w.conn, b.org, q).size() == b.keys.size());
}

}  // namespace query_test
