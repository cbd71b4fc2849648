// The org rule on both databases: two tenants share every table, each sees and changes only its
// own rows, a row carrying another org is refused before anything is sent, and no operation
// moves a row to another org. Every "nothing changed" is verified with plain SQL as well.
// The same bodies run on the schema-per-org strategy (parity::PostgresOrgSchemas), where each
// org's rows are in tables of its own schema; where the two strategies differ, the test says so.
#include "support/backends.hpp"

#include <string>
#include <vector>

using namespace tenantry;
using fixtures::ApiToken;
using fixtures::Gadget;
using fixtures::Membership;
using fixtures::TokenStatus;
using parity::Repo;
using parity::rows_in;
using testdb::expect_throw;

namespace {

/// The raw stored (org_id, name, token_prefix, status) of a token, bypassing every filter.
struct StoredToken {
  std::string org_id, name, prefix, status;
  friend bool operator==(const StoredToken&, const StoredToken&) = default;
};
template <class Conn>
StoredToken stored(Conn& conn, const Uuid& id) {
  // CAST: PostgreSQL's driver reads only text-like columns as text (a no-op on SQLite).
  const auto t = parity::raw_texts(
      conn, "SELECT CAST(org_id AS TEXT), name, token_prefix, status FROM api_tokens WHERE id = ?1", id);
  REQUIRE(t.size() == 4);
  return {t[0], t[1], t[2], t[3]};
}

template <class B>
struct TwoOrgs {
  typename B::Conn conn = B::open();
  OrgId a = parity::add_org(conn, "org-a");
  OrgId b = parity::add_org(conn, "org-b");
  Repo<B, ApiToken> tokens{conn};
  ApiToken a1, a2, a_shared, b1, b_shared;
  TwoOrgs() {
    a1 = tokens.insert(a, testdb::make_token("a1", "alice"));
    a2 = tokens.insert(a, testdb::make_token("a2", "anna"));
    a_shared = tokens.insert(a, testdb::make_token("shared", "alice"));
    b1 = tokens.insert(b, testdb::make_token("b1", "bob"));
    // The same (token_prefix) in the other org is another row: UNIQUE is per org.
    b_shared = tokens.insert(b, testdb::make_token("shared", "bob"));
  }
};

}  // namespace

namespace Catch {
template <>
struct StringMaker<StoredToken> {
  static std::string convert(const StoredToken& t) {
    return "{" + t.org_id + ", " + t.name + ", " + t.prefix + ", " + t.status + "}";
  }
};
}  // namespace Catch

TEMPLATE_TEST_CASE("each org reads only its own rows", "[parity][org]", ORG_ISOLATION_BACKENDS) {
  TwoOrgs<TestType> f;
  REQUIRE(rows_in(f.conn, "api_tokens") == 5);

  CHECK(f.tokens.find(f.a, f.a1.id).has_value());
  CHECK_FALSE(f.tokens.find(f.b, f.a1.id).has_value());
  CHECK_FALSE(f.tokens.find(f.a, f.b1.id).has_value());
  CHECK(f.tokens.find(f.b, f.b1.id)->token_prefix == "b1");

  const std::vector<ApiToken> in_a = f.tokens.list(f.a, order_by(&ApiToken::token_prefix));
  REQUIRE(in_a.size() == 3);
  CHECK(in_a[0].id == f.a1.id);
  CHECK(in_a[1].id == f.a2.id);
  CHECK(in_a[2].id == f.a_shared.id);
  for (const auto& t : in_a) CHECK(t.org_id == f.a);
  const std::vector<ApiToken> in_b = f.tokens.list(f.b, order_by(&ApiToken::token_prefix));
  REQUIRE(in_b.size() == 2);
  CHECK(in_b[0].id == f.b1.id);
  CHECK(in_b[1].id == f.b_shared.id);

  // The shared prefix: one row per org, each org sees its own.
  CHECK(f.a_shared.id != f.b_shared.id);
  const auto shared_a = f.tokens.list(f.a, col(&ApiToken::token_prefix) == "shared");
  REQUIRE(shared_a.size() == 1);
  CHECK(shared_a[0].id == f.a_shared.id);

  CHECK(f.tokens.count(f.a) == 3);
  CHECK(f.tokens.count(f.b) == 2);
  CHECK(f.tokens.count(f.a, col(&ApiToken::user_id) == "bob") == 0);
  CHECK(f.tokens.count(f.b, col(&ApiToken::user_id) == "bob") == 2);
  CHECK(f.tokens.exists(f.a, col(&ApiToken::id) == f.a1.id));
  CHECK_FALSE(f.tokens.exists(f.b, col(&ApiToken::id) == f.a1.id));
  CHECK_FALSE(f.tokens.exists(f.a, col(&ApiToken::token_prefix) == "b1"));
  if constexpr (parity::schema_per_org<TestType>) {
    // An org without a schema has no tables to read: refused, never read from elsewhere.
    expect_throw<OrgNotProvisioned>([&] { (void)f.tokens.count(OrgId::random()); });
    expect_throw<OrgNotProvisioned>([&] { (void)f.tokens.exists(OrgId::random()); });
  } else {
    CHECK(f.tokens.count(OrgId::random()) == 0);
    CHECK_FALSE(f.tokens.exists(OrgId::random()));
  }

  SECTION("composite key that includes the org: same user id in both orgs") {
    Repo<TestType, Membership> members{f.conn};
    members.insert(f.a, Membership{OrgId{}, "u1", "admin"});
    members.insert(f.b, Membership{OrgId{}, "u1", "viewer"});
    CHECK(members.find(f.a, "u1")->role == "admin");
    CHECK(members.find(f.b, "u1")->role == "viewer");
    CHECK(members.count(f.a) == 1);
    CHECK(members.set(f.b, "u1", &Membership::role, "editor"));
    CHECK(members.find(f.a, "u1")->role == "admin");
    CHECK(members.erase(f.a, "u1"));
    CHECK_FALSE(members.find(f.a, "u1").has_value());
    CHECK(members.find(f.b, "u1")->role == "editor");
  }
  SECTION("identity keys: another org's gadget id finds nothing") {
    Repo<TestType, Gadget> gadgets{f.conn};
    Gadget g = gadgets.insert(f.a, testdb::make_gadget());
    CHECK(gadgets.find(f.a, g.id).has_value());
    CHECK_FALSE(gadgets.find(f.b, g.id).has_value());
    CHECK(gadgets.list(f.b).empty());
  }
}

TEMPLATE_TEST_CASE("writes scoped to another org change nothing", "[parity][org]", ORG_ISOLATION_BACKENDS) {
  TwoOrgs<TestType> f;
  const StoredToken before = stored(f.conn, f.a1.id);
  REQUIRE(before.org_id == f.a.to_string());

  SECTION("update(other org, row) returns false") {
    ApiToken changed = f.a1;
    changed.org_id = OrgId{};  // nil: takes the call's org, which does not own the row
    changed.name = "hijacked";
    CHECK_FALSE(f.tokens.update(f.b, changed));
    CHECK_FALSE(f.tokens.update(f.b, changed, only(&ApiToken::name)));
  }
  SECTION("set(other org, key, ...) returns false") {
    CHECK_FALSE(f.tokens.set(f.b, f.a1.id, &ApiToken::name, "hijacked"));
    CHECK_FALSE(f.tokens.set(f.b, f.a1.id, &ApiToken::status, TokenStatus::revoked));
  }
  SECTION("erase(other org, key) returns false") { CHECK_FALSE(f.tokens.erase(f.b, f.a1.id)); }
  SECTION("upsert on the primary key of another org's row is a unique violation") {
    ApiToken intruder = testdb::make_token("intruder");
    intruder.id = f.a1.id;
    intruder.name = "hijacked";
    if constexpr (parity::schema_per_org<TestType>) {
      // Keys are unique per org's table: b has no row with a1's id, so the upsert inserts b's
      // own row, and a's row is untouched (checked after the sections). Removed again so that
      // the plain-SQL checks below find a single row with that id.
      f.tokens.upsert(f.b, intruder, on_conflict(&ApiToken::id));
      CHECK(intruder.org_id == f.b);
      CHECK(f.tokens.find(f.b, f.a1.id)->name == "hijacked");
      CHECK(f.tokens.count(f.b) == 3);
      CHECK(f.tokens.erase(f.b, f.a1.id));
    } else {
      const auto e =
          expect_throw<UniqueViolation>([&] { f.tokens.upsert(f.b, intruder, on_conflict(&ApiToken::id)); });
      CHECK(e.constraint() == "pk_api_tokens");
      CHECK(e.table() == "api_tokens");
      ApiToken quiet = intruder;
      quiet.org_id = OrgId{};
      expect_throw<UniqueViolation>([&] { f.tokens.upsert(f.b, quiet, on_conflict(&ApiToken::id).nothing()); });
      expect_throw<UniqueViolation>(
          [&] { f.tokens.upsert(f.b, quiet, on_conflict(&ApiToken::id).update(only(&ApiToken::name))); });
      CHECK_FALSE(f.tokens.exists(f.b, col(&ApiToken::token_prefix) == "intruder"));
    }
    CHECK(f.tokens.count(f.b) == 2);
  }
  SECTION("update_where and erase_where touch only the scoped org") {
    CHECK(f.tokens.update_where(f.b, col(&ApiToken::token_prefix) == "shared",
                                assign(col(&ApiToken::name), "renamed")) == 1);
    CHECK(f.tokens.find(f.b, f.b_shared.id)->name == "renamed");
    CHECK(f.tokens.find(f.a, f.a_shared.id)->name == "token shared");
    CHECK(f.tokens.update_where(f.b, col(&ApiToken::user_id) == "alice", assign(col(&ApiToken::name), "x")) == 0);
    CHECK(f.tokens.erase_where(f.b, col(&ApiToken::token_prefix) == "shared") == 1);
    CHECK(f.tokens.find(f.a, f.a_shared.id).has_value());
    CHECK(f.tokens.erase_where(f.b, col(&ApiToken::token_prefix) == "a1") == 0);
    CHECK(f.tokens.count(f.a) == 3);
    CHECK(stored(f.conn, f.a_shared.id).name == "token shared");
  }
  SECTION("predicates that match everything still stay inside the org") {
    CHECK(f.tokens.update_where(f.b, col(&ApiToken::token_prefix) == "a1" || col(&ApiToken::token_prefix) != "zzz",
                                assign(col(&ApiToken::scopes), "all")) == 2);
    CHECK(f.tokens.count(f.a, col(&ApiToken::scopes) == "all") == 0);
    CHECK(f.tokens.update_where(f.b, !col(&ApiToken::last_used_by).is_not_null(),
                                assign(col(&ApiToken::status), TokenStatus::revoked)) == 2);
    CHECK(f.tokens.count(f.a, col(&ApiToken::status) == TokenStatus::revoked) == 0);
    CHECK(f.tokens.erase_where(f.b, col(&ApiToken::token_prefix).not_in({})) == 2);
    CHECK(f.tokens.count(f.b) == 0);
    CHECK(f.tokens.count(f.a) == 3);
    CHECK(rows_in(f.conn, "api_tokens") == 3);
  }
  CHECK(stored(f.conn, f.a1.id) == before);
  const ApiToken seen_by_a = *f.tokens.find(f.a, f.a1.id);
  CHECK(seen_by_a.name == f.a1.name);
  CHECK(seen_by_a.status == TokenStatus::active);
}

TEMPLATE_TEST_CASE("a row carrying another org is refused with OrgMismatch", "[parity][org]", ORG_ISOLATION_BACKENDS) {
  TwoOrgs<TestType> f;
  const std::int64_t rows = rows_in(f.conn, "api_tokens");
  const StoredToken before = stored(f.conn, f.a1.id);

  SECTION("insert") {
    ApiToken t = testdb::make_token("new");
    t.org_id = f.b;
    const auto e = expect_throw<OrgMismatch>([&] { f.tokens.insert(f.a, t); });
    CHECK(e.table() == "api_tokens");
    CHECK(e.scoped_org() == f.a.to_string());
    CHECK(e.row_org() == f.b.to_string());
    CHECK(t.org_id == f.b);  // the row is not modified either
    const ApiToken copy = t;
    expect_throw<OrgMismatch>([&] { (void)f.tokens.insert(f.a, copy); });
    CHECK_FALSE(f.tokens.find(f.b, t.id).has_value());
    CHECK_FALSE(f.tokens.find(f.a, t.id).has_value());
  }
  SECTION("insert of an org-scoped gadget") {
    Repo<TestType, Gadget> gadgets{f.conn};
    Gadget g = testdb::make_gadget();
    g.org_id = f.a;
    expect_throw<OrgMismatch>([&] { gadgets.insert(f.b, g); });
    CHECK(g.id == 0);
    CHECK(rows_in(f.conn, "gadgets") == 0);
  }
  SECTION("update, whole row and selected columns") {
    ApiToken t = f.a1;
    t.org_id = f.b;
    t.name = "moved";
    expect_throw<OrgMismatch>([&] { f.tokens.update(f.a, t); });
    expect_throw<OrgMismatch>([&] { f.tokens.update(f.a, t, only(&ApiToken::name)); });
    // Even when the call names the org the row claims: that org has no such row.
    CHECK_FALSE(f.tokens.update(f.b, t));
  }
  SECTION("upsert") {
    ApiToken t = f.a1;
    t.org_id = f.b;
    t.name = "moved";
    expect_throw<OrgMismatch>([&] { f.tokens.upsert(f.a, t, on_conflict(&ApiToken::id)); });
    expect_throw<OrgMismatch>(
        [&] { f.tokens.upsert(f.a, t, on_conflict(&ApiToken::org_id, &ApiToken::token_prefix)); });
  }
  CHECK(rows_in(f.conn, "api_tokens") == rows);
  CHECK(stored(f.conn, f.a1.id) == before);
}

TEMPLATE_TEST_CASE("a nil org in the row takes the call's org", "[parity][org]", ORG_ISOLATION_BACKENDS) {
  auto conn = TestType::open();
  const OrgId org = parity::add_org(conn, "acme");
  Repo<TestType, ApiToken> tokens{conn};

  ApiToken t = testdb::make_token("abc");
  REQUIRE(t.org_id.is_nil());
  tokens.insert(org, t);
  CHECK(t.org_id == org);
  CHECK(stored(conn, t.id).org_id == org.to_string());

  const ApiToken copy = tokens.insert(org, testdb::make_token("def"));  // const& / && overloads
  CHECK(copy.org_id == org);

  ApiToken up = testdb::make_token("ghi");
  tokens.upsert(org, up, on_conflict(&ApiToken::id));
  CHECK(up.org_id == org);
  CHECK(stored(conn, up.id).org_id == org.to_string());

  ApiToken nil_update = t;
  nil_update.org_id = OrgId{};
  nil_update.name = "renamed";
  CHECK(tokens.update(org, nil_update));
  CHECK(stored(conn, t.id) == StoredToken{org.to_string(), "renamed", "abc", "active"});
}

TEMPLATE_TEST_CASE("the org column is never changed", "[parity][org]", ORG_ISOLATION_BACKENDS) {
  TwoOrgs<TestType> f;
  const StoredToken before = stored(f.conn, f.a1.id);

  SECTION("update() and set() never write org_id") {
    ApiToken t = f.a1;
    t.name = "renamed";
    CHECK(f.tokens.update(f.a, t));
    CHECK(stored(f.conn, f.a1.id).org_id == f.a.to_string());
    CHECK(stored(f.conn, f.a1.id).name == "renamed");
  }
  SECTION("selecting the org column in update/upsert/update_where is a UsageError") {
    ApiToken t = f.a1;
    expect_throw<UsageError>([&] { f.tokens.update(f.a, t, only(&ApiToken::org_id)); });
    expect_throw<UsageError>([&] { f.tokens.update(f.a, t, only(&ApiToken::name, &ApiToken::org_id)); });
    expect_throw<UsageError>([&] {
      f.tokens.upsert(f.a, t, on_conflict(&ApiToken::id).update(only(&ApiToken::org_id)));
    });
    expect_throw<UsageError>(
        [&] { f.tokens.update_where(f.a, col(&ApiToken::id) == f.a1.id, assign(col(&ApiToken::org_id), f.b)); });
    CHECK(stored(f.conn, f.a1.id) == before);
  }
  SECTION("upsert conflict paths keep the existing org") {
    ApiToken t = testdb::make_token("a1", "someone");  // same (org, prefix) as a1, new id
    f.tokens.upsert(f.a, t, on_conflict(&ApiToken::org_id, &ApiToken::token_prefix));
    CHECK(t.id == f.a1.id);
    CHECK(t.org_id == f.a);
    CHECK(stored(f.conn, f.a1.id).org_id == f.a.to_string());
    CHECK(f.tokens.find(f.a, f.a1.id)->user_id == "someone");
    // The same prefix upserted into the other org inserts a row there instead.
    ApiToken in_b = testdb::make_token("a1", "bert");
    f.tokens.upsert(f.b, in_b, on_conflict(&ApiToken::org_id, &ApiToken::token_prefix));
    CHECK(in_b.id != f.a1.id);
    CHECK(in_b.org_id == f.b);
    CHECK(f.tokens.find(f.a, f.a1.id)->user_id == "someone");
    CHECK(f.tokens.count(f.b, col(&ApiToken::token_prefix) == "a1") == 1);
  }
  CHECK(parity::raw_count(f.conn, "SELECT COUNT(*) FROM api_tokens WHERE org_id = ?1", f.a) == 3);
}
