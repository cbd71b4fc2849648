// The Repository API on both databases: predicates, ordering and paging; count/exists;
// update/set/upsert/erase with their return values; and the other key shapes (composite key
// with the org, global composite key, global single key); insert_many; and text comparisons,
// where LIKE differs.
#include "support/backends.hpp"

#include <algorithm>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

using namespace tenantry;
using fixtures::ApiToken;
using fixtures::Color;
using fixtures::Gadget;
using fixtures::Membership;
using fixtures::Organization;
using fixtures::OrgStatus;
using fixtures::Setting;
using fixtures::TokenStatus;
using parity::Repo;
using testdb::expect_throw;

namespace {

using Labels = std::vector<std::string>;

Labels labels(const std::vector<Gadget>& rows) {
  Labels out;
  for (const auto& g : rows) out.push_back(g.label);
  return out;
}

/// Six gadgets in one org (and a decoy in another) with values chosen so each predicate below
/// selects a different, known subset.
template <class B>
struct Catalog {
  typename B::Conn conn = B::open();
  OrgId org = parity::add_org(conn, "acme");
  OrgId other = parity::add_org(conn, "other");
  Repo<B, Gadget> gadgets{conn};
  std::vector<Gadget> rows;

  Catalog() {
    const char* names[] = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta"};
    const std::optional<std::string> notes[] = {"n1", std::nullopt, "n3", std::nullopt, "n5", "n6"};
    const Color colors[] = {Color::red, Color::green, Color::blue, Color::red, Color::green, Color::blue};
    const int quantities[] = {3, 1, 2, 3, 1, 2};
    for (int k = 0; k < 6; ++k) {
      Gadget g = testdb::make_gadget(names[k]);
      g.i32 = (k + 1) * 10;
      g.note = notes[k];
      g.color = colors[k];
      g.flag = k % 2 == 0;
      g.quantity = quantities[k];
      g.at = Timestamp{(k - 2) * 86'400'000'000LL};  // 1969-12-30 ... 1970-01-04
      gadgets.insert(org, g);
      rows.push_back(g);
    }
    Gadget decoy = testdb::make_gadget("alpha");
    decoy.i32 = 10;
    decoy.color = Color::red;
    gadgets.insert(other, decoy);
  }
};

}  // namespace

TEMPLATE_TEST_CASE("list with predicates", "[parity][api][query]", PARITY_BACKENDS) {
  Catalog<TestType> c;
  auto& g = c.gadgets;
  const OrgId org = c.org;
  const auto by_i32 = order_by(&Gadget::i32);

  CHECK(labels(g.list(org, by_i32)) == Labels{"alpha", "beta", "gamma", "delta", "epsilon", "zeta"});
  CHECK(labels(g.list(org, col(&Gadget::i32) == 30, by_i32)) == Labels{"gamma"});
  CHECK(labels(g.list(org, col(&Gadget::color) != Color::red, by_i32)) == Labels{"beta", "gamma", "epsilon", "zeta"});
  CHECK(labels(g.list(org, col(&Gadget::i32) < 30, by_i32)) == Labels{"alpha", "beta"});
  CHECK(labels(g.list(org, col(&Gadget::i32) <= 30, by_i32)) == Labels{"alpha", "beta", "gamma"});
  CHECK(labels(g.list(org, col(&Gadget::i32) > 50, by_i32)) == Labels{"zeta"});
  CHECK(labels(g.list(org, col(&Gadget::i32) >= 50, by_i32)) == Labels{"epsilon", "zeta"});
  CHECK(labels(g.list(org, col(&Gadget::label).like("%ta"), by_i32)) == Labels{"beta", "delta", "zeta"});
  CHECK(labels(g.list(org, col(&Gadget::label).like("_amma"), by_i32)) == Labels{"gamma"});
  CHECK(labels(g.list(org, col(&Gadget::note).is_null(), by_i32)) == Labels{"beta", "delta"});
  CHECK(labels(g.list(org, col(&Gadget::note).is_not_null(), by_i32)) == Labels{"alpha", "gamma", "epsilon", "zeta"});
  CHECK(labels(g.list(org, col(&Gadget::color).in({Color::red, Color::blue}), by_i32)) ==
        Labels{"alpha", "gamma", "delta", "zeta"});
  CHECK(labels(g.list(org, col(&Gadget::i32).in({10, 60, 999}), by_i32)) == Labels{"alpha", "zeta"});
  CHECK(labels(g.list(org, col(&Gadget::i32).not_in({10, 20}), by_i32)) == Labels{"gamma", "delta", "epsilon", "zeta"});
  CHECK(g.list(org, col(&Gadget::i32).in({})).empty());
  CHECK(g.list(org, col(&Gadget::i32).not_in({})).size() == 6);
  CHECK(labels(g.list(org, col(&Gadget::color) == Color::red && col(&Gadget::i32) > 10)) == Labels{"delta"});
  CHECK(labels(g.list(org, col(&Gadget::i32) == 10 || col(&Gadget::i32) == 60, by_i32)) == Labels{"alpha", "zeta"});
  CHECK(labels(g.list(org, !(col(&Gadget::color) == Color::red), by_i32)) == Labels{"beta", "gamma", "epsilon", "zeta"});
  CHECK(labels(g.list(org, !col(&Gadget::note).is_null(), by_i32)) == Labels{"alpha", "gamma", "epsilon", "zeta"});
  CHECK(labels(g.list(org, (col(&Gadget::i32) < 20 || col(&Gadget::i32) > 50) && !(col(&Gadget::flag) == true),
                      by_i32)) == Labels{"zeta"});
  // Two predicate arguments are joined with AND.
  CHECK(labels(g.list(org, col(&Gadget::color) == Color::green, col(&Gadget::quantity) == 1, by_i32)) ==
        Labels{"beta", "epsilon"});

  SECTION("optional columns compared with std::nullopt mean IS NULL / IS NOT NULL") {
    CHECK(labels(g.list(org, col(&Gadget::note) == std::nullopt, by_i32)) == Labels{"beta", "delta"});
    CHECK(labels(g.list(org, col(&Gadget::note) != std::nullopt, by_i32)) == Labels{"alpha", "gamma", "epsilon", "zeta"});
    CHECK(labels(g.list(org, col(&Gadget::note) == "n3")) == Labels{"gamma"});
    // A value comparison follows SQL: NULL rows are neither equal nor unequal.
    CHECK(labels(g.list(org, col(&Gadget::note) != "n3", by_i32)) == Labels{"alpha", "epsilon", "zeta"});
    // The same statement shape with a value, then nullopt, then a value again.
    CHECK(g.count(org, col(&Gadget::note) == std::optional<std::string>("n5")) == 1);
    CHECK(g.count(org, col(&Gadget::note) == std::optional<std::string>()) == 2);
    CHECK(g.count(org, col(&Gadget::note) == std::optional<std::string>("n6")) == 1);
  }
  SECTION("other column types in predicates") {
    CHECK(labels(g.list(org, col(&Gadget::flag) == true, by_i32)) == Labels{"alpha", "gamma", "epsilon"});
    CHECK(labels(g.list(org, col(&Gadget::ref) == c.rows[3].ref)) == Labels{"delta"});
    CHECK(labels(g.list(org, col(&Gadget::at) < Timestamp{0}, by_i32)) == Labels{"alpha", "beta"});
    CHECK(labels(g.list(org, col(&Gadget::at) >= Timestamp{0}, order_by(&Gadget::at).desc())) ==
          Labels{"zeta", "epsilon", "delta", "gamma"});
    CHECK(labels(g.list(org, col(&Gadget::id) == c.rows[4].id)) == Labels{"epsilon"});
  }
}

TEMPLATE_TEST_CASE("ordering and paging", "[parity][api][query]", PARITY_BACKENDS) {
  Catalog<TestType> c;
  auto& g = c.gadgets;
  const OrgId org = c.org;
  const auto by_i32 = order_by(&Gadget::i32);

  CHECK(labels(g.list(org, order_by(&Gadget::i32).desc())) == Labels{"zeta", "epsilon", "delta", "gamma", "beta", "alpha"});
  CHECK(labels(g.list(org, order_by(&Gadget::label))) == Labels{"alpha", "beta", "delta", "epsilon", "gamma", "zeta"});
  CHECK(labels(g.list(org, order_by(&Gadget::quantity).desc(), order_by(&Gadget::label))) ==
        Labels{"alpha", "delta", "gamma", "zeta", "beta", "epsilon"});
  CHECK(labels(g.list(org, order_by(&Gadget::quantity), order_by(&Gadget::label).desc())) ==
        Labels{"epsilon", "beta", "zeta", "gamma", "delta", "alpha"});
  CHECK(labels(g.list(org, order_by(&Gadget::quantity).asc(), order_by(&Gadget::i32).desc())) ==
        Labels{"epsilon", "beta", "zeta", "gamma", "delta", "alpha"});

  CHECK(labels(g.list(org, by_i32, limit(2))) == Labels{"alpha", "beta"});
  CHECK(labels(g.list(org, by_i32, limit(2), offset(3))) == Labels{"delta", "epsilon"});
  CHECK(labels(g.list(org, by_i32, offset(2))) == Labels{"gamma", "delta", "epsilon", "zeta"});
  CHECK(labels(g.list(org, by_i32, offset(5))) == Labels{"zeta"});
  CHECK(g.list(org, by_i32, offset(6)).empty());
  CHECK(g.list(org, by_i32, limit(0)).empty());
  CHECK(g.list(org, by_i32, limit(100)).size() == 6);
  CHECK(labels(g.list(org, col(&Gadget::color) != Color::green, order_by(&Gadget::i32).desc(), limit(2), offset(1))) ==
        Labels{"delta", "gamma"});
  // Paging is within the org: the other org's "alpha" never appears.
  CHECK(g.list(c.other, by_i32, limit(10)).size() == 1);
}

TEMPLATE_TEST_CASE("count and exists", "[parity][api][query]", PARITY_BACKENDS) {
  Catalog<TestType> c;
  auto& g = c.gadgets;
  CHECK(g.count(c.org) == 6);
  CHECK(g.count(c.other) == 1);
  CHECK(g.count(c.org, col(&Gadget::color) == Color::red) == 2);
  CHECK(g.count(c.org, col(&Gadget::i32).in({})) == 0);
  CHECK(g.count(c.org, col(&Gadget::note).is_null() || col(&Gadget::i32) == 10) == 3);
  CHECK(g.exists(c.org));
  CHECK(g.exists(c.org, col(&Gadget::label) == "zeta"));
  CHECK_FALSE(g.exists(c.org, col(&Gadget::i32) == 999));
  CHECK_FALSE(g.exists(c.other, col(&Gadget::label) == "zeta"));
  CHECK(g.erase_where(c.org, col(&Gadget::quantity) == 3) == 2);
  CHECK(g.count(c.org) == 4);
  CHECK(g.erase_where(c.org, col(&Gadget::quantity) == 3) == 0);
  CHECK(g.update_where(c.org, col(&Gadget::color) == Color::green, assign(col(&Gadget::quantity), 7),
                       assign(col(&Gadget::note), std::nullopt)) == 2);
  CHECK(labels(g.list(c.org, col(&Gadget::quantity) == 7 && col(&Gadget::note).is_null(), order_by(&Gadget::i32))) ==
        Labels{"beta", "epsilon"});
  CHECK(g.count(c.other, col(&Gadget::quantity) == 7) == 0);
  CHECK_FALSE(g.exists(OrgId::random()));
}

TEMPLATE_TEST_CASE("update, set and erase", "[parity][api]", PARITY_BACKENDS) {
  Catalog<TestType> c;
  auto& g = c.gadgets;
  const OrgId org = c.org;
  Gadget row = c.rows[0];  // alpha

  SECTION("update() writes every column and reports a missing key") {
    row.label = "alpha2";
    row.i32 = -5;
    row.note = std::nullopt;
    row.maybe_at = Timestamp{42};
    row.payload = {std::byte{7}};
    row.color = Color::blue;
    CHECK(g.update(org, row));
    const Gadget got = *g.find(org, row.id);
    CHECK(got.label == "alpha2");
    CHECK(got.i32 == -5);
    CHECK(got.note == std::nullopt);
    CHECK(got.maybe_at == Timestamp{42});
    CHECK(testdb::hex(got.payload) == "07");
    CHECK(got.color == Color::blue);
    CHECK(got.stamp == c.rows[0].stamp);
    CHECK(got.created_at == c.rows[0].created_at);

    Gadget missing = row;
    missing.id = 987654;
    CHECK_FALSE(g.update(org, missing));
    CHECK_FALSE(g.update(org, missing, only(&Gadget::label)));
    CHECK(parity::rows_in(c.conn, "gadgets") == 7);
  }
  SECTION("update(..., only(...)) writes only the selected columns") {
    row.label = "changed";
    row.i32 = 999;
    row.note = "changed";
    row.quantity = 100;
    CHECK(g.update(org, row, only(&Gadget::i32, &Gadget::quantity)));
    const Gadget got = *g.find(org, row.id);
    CHECK(got.i32 == 999);
    CHECK(got.quantity == 100);
    CHECK(got.label == "alpha");
    CHECK(got.note == std::optional<std::string>("n1"));
    const auto stored =
        parity::raw_texts(c.conn, "SELECT title, note, CAST(i32 AS TEXT) FROM gadgets WHERE id = ?1", row.id);
    CHECK(stored == std::vector<std::string>{"alpha", "n1", "999"});
  }
  SECTION("set() one column") {
    CHECK(g.set(org, row.id, &Gadget::note, std::nullopt));
    CHECK(g.find(org, row.id)->note == std::nullopt);
    CHECK(g.set(org, row.id, &Gadget::label, "renamed"));
    CHECK(g.set(org, row.id, &Gadget::color, Color::green));
    CHECK(g.set(org, row.id, &Gadget::maybe_count, 12));
    const Gadget got = *g.find(org, row.id);
    CHECK(got.label == "renamed");
    CHECK(got.color == Color::green);
    CHECK(got.maybe_count == 12);
    CHECK(got.i32 == 10);
    CHECK_FALSE(g.set(org, std::int64_t{987654}, &Gadget::label, "nobody"));
  }
  SECTION("erase() returns whether a row went") {
    CHECK(g.erase(org, row.id));
    CHECK_FALSE(g.find(org, row.id).has_value());
    CHECK_FALSE(g.erase(org, row.id));
    CHECK(g.count(org) == 5);
  }
}

TEMPLATE_TEST_CASE("upsert", "[parity][api][upsert]", PARITY_BACKENDS) {
  auto conn = TestType::open();
  const OrgId org = parity::add_org(conn, "acme");
  Repo<TestType, ApiToken> tokens{conn};
  ApiToken existing = tokens.insert(org, testdb::make_token("abc", "alice"));
  const auto by_prefix = on_conflict(&ApiToken::org_id, &ApiToken::token_prefix);

  SECTION("insert path") {
    ApiToken t = testdb::make_token("new", "bob");
    const Uuid id = t.id;
    tokens.upsert(org, t, by_prefix);
    CHECK(t.id == id);
    CHECK(tokens.count(org) == 2);
    CHECK(tokens.find(org, id)->user_id == "bob");
  }
  SECTION("conflict path: the existing row's key comes back, the other columns are written") {
    ApiToken t = testdb::make_token("abc", "bob");
    t.name = "replacement";
    t.status = TokenStatus::revoked;
    t.last_used_by = "10.0.0.1";
    t.updated_at = Timestamp{1'800'000'000'000'000};
    REQUIRE(t.id != existing.id);
    tokens.upsert(org, t, by_prefix);
    CHECK(t.id == existing.id);
    CHECK(tokens.count(org) == 1);
    const ApiToken got = *tokens.find(org, existing.id);
    CHECK(got.name == "replacement");
    CHECK(got.user_id == "bob");
    CHECK(got.status == TokenStatus::revoked);
    CHECK(got.last_used_by == std::optional<std::string>("10.0.0.1"));
    CHECK(got.updated_at == Timestamp{1'800'000'000'000'000});
  }
  SECTION("conflict path with update(only(...)): other columns keep their stored values") {
    ApiToken t = testdb::make_token("abc", "bob");
    t.name = "renamed";
    t.token_hash = "new hash";
    tokens.upsert(org, t, by_prefix.update(only(&ApiToken::name)));
    CHECK(t.id == existing.id);
    CHECK(t.name == "renamed");
    CHECK(t.token_hash == existing.token_hash);  // the stored row is read back into the struct
    CHECK(t.user_id == "alice");
    const ApiToken got = *tokens.find(org, existing.id);
    CHECK(got.name == "renamed");
    CHECK(got.token_hash == existing.token_hash);
  }
  SECTION("conflict path with nothing(): the stored row is untouched and read back") {
    ApiToken t = testdb::make_token("abc", "bob");
    t.name = "ignored";
    tokens.upsert(org, t, by_prefix.nothing());
    CHECK(t.id == existing.id);
    CHECK(t.name == existing.name);
    CHECK(t.user_id == "alice");
    CHECK(tokens.find(org, existing.id)->name == existing.name);
    // The const& overload returns the stored row.
    const ApiToken again = tokens.upsert(org, testdb::make_token("abc", "carol"), by_prefix.nothing());
    CHECK(again.id == existing.id);
    CHECK(again.user_id == "alice");
  }
  SECTION("conflict on the primary key, same org") {
    ApiToken t = existing;
    t.org_id = OrgId{};
    t.token_prefix = "abd";
    t.name = "by id";
    tokens.upsert(org, t, on_conflict(&ApiToken::id));
    CHECK(t.org_id == org);
    const ApiToken got = *tokens.find(org, existing.id);
    CHECK(got.token_prefix == "abd");
    CHECK(got.name == "by id");
    CHECK(tokens.count(org) == 1);
  }
  SECTION("a conflict on another unique constraint than the target is a unique violation") {
    ApiToken t = testdb::make_token("abc");  // new id, but (org, prefix) taken
    const auto e = expect_throw<UniqueViolation>([&] { tokens.upsert(org, t, on_conflict(&ApiToken::id)); });
    CHECK(e.constraint() == "uq_api_tokens_org_id_token_prefix");
    CHECK(tokens.count(org) == 1);
  }
  SECTION("identity entity: the existing id and generated columns come back") {
    Repo<TestType, fixtures::Gadget> gadgets{conn};
    fixtures::Gadget first = gadgets.insert(org, testdb::make_gadget("first"));
    fixtures::Gadget again = testdb::make_gadget("second");
    again.ref = first.ref;
    again.i32 = 77;
    gadgets.upsert(org, again, on_conflict(&fixtures::Gadget::org_id, &fixtures::Gadget::ref));
    CHECK(again.id == first.id);
    CHECK(again.stamp == first.stamp);
    CHECK(again.created_at == first.created_at);
    CHECK(again.label == "second");
    CHECK(gadgets.find(org, first.id)->i32 == 77);
    CHECK(gadgets.count(org) == 1);
    fixtures::Gadget fresh = testdb::make_gadget("third");
    gadgets.upsert(org, fresh, on_conflict(&fixtures::Gadget::org_id, &fixtures::Gadget::ref));
    CHECK(fresh.id > first.id);
    CHECK_FALSE(fresh.stamp.is_nil());
    CHECK(gadgets.count(org) == 2);
  }
}

// An upsert on an identity primary key could never conflict (the INSERT leaves identity columns
// out), so on_conflict(&Gadget::id) does not compile: tests/compile_fail/identity_conflict_target.cpp.

TEMPLATE_TEST_CASE("composite key including the org: Membership", "[parity][api][keys]", PARITY_BACKENDS) {
  auto conn = TestType::open();
  const OrgId org = parity::add_org(conn, "acme");
  Repo<TestType, Membership> members{conn};
  static_assert(std::is_same_v<typename Repo<TestType, Membership>::key_type, std::string>);

  Membership m{OrgId{}, "u1", "admin"};
  members.insert(org, m);
  CHECK(m.org_id == org);
  members.insert(org, Membership{OrgId{}, "u2", "viewer"});
  CHECK(members.find(org, "u1")->role == "admin");
  CHECK_FALSE(members.find(org, "u3").has_value());
  m.role = "owner";
  CHECK(members.update(org, m));
  CHECK(members.find(org, "u1")->role == "owner");
  CHECK_FALSE(members.update(org, Membership{OrgId{}, "u3", "x"}));
  CHECK(members.set(org, "u2", &Membership::role, "editor"));
  Membership up{OrgId{}, "u2", "auditor"};
  members.upsert(org, up, on_conflict(&Membership::org_id, &Membership::user_id));
  CHECK(members.find(org, "u2")->role == "auditor");
  Membership up3{OrgId{}, "u3", "guest"};
  members.upsert(org, up3, on_conflict(&Membership::org_id, &Membership::user_id));
  CHECK(members.count(org) == 3);
  std::vector<std::string> users;
  for (const auto& x : members.list(org, order_by(&Membership::user_id).desc())) users.push_back(x.user_id);
  CHECK(users == std::vector<std::string>{"u3", "u2", "u1"});
  CHECK(members.erase(org, "u2"));
  CHECK_FALSE(members.erase(org, "u2"));
  CHECK(members.count(org) == 2);
}

TEMPLATE_TEST_CASE("global composite key: Setting", "[parity][api][keys]", PARITY_BACKENDS) {
  auto conn = TestType::open();
  Repo<TestType, Setting> settings{conn};
  static_assert(std::is_same_v<typename Repo<TestType, Setting>::key_type, std::tuple<std::string, std::string>>);

  Setting s{"mail", "host", "smtp.example"};
  settings.insert(s);
  settings.insert(Setting{"mail", "port", "25"});
  settings.insert(Setting{"ui", "theme", "dark"});

  CHECK(settings.find(std::tuple<std::string, std::string>{"mail", "host"})->value == "smtp.example");
  CHECK(settings.find(std::make_tuple(std::string("ui"), std::string("theme")))->value == "dark");
  CHECK_FALSE(settings.find(std::tuple<std::string, std::string>{"ui", "host"}).has_value());
  CHECK(settings.count() == 3);
  CHECK(settings.count(col(&Setting::scope) == "mail") == 2);
  CHECK(settings.exists(col(&Setting::value) == "dark"));
  CHECK_FALSE(settings.exists(col(&Setting::value) == "light"));
  std::vector<std::string> names;
  for (const auto& x : settings.list(col(&Setting::scope) == "mail", order_by(&Setting::name).desc()))
    names.push_back(x.name);
  CHECK(names == std::vector<std::string>{"port", "host"});

  s.value = "smtp2.example";
  CHECK(settings.update(s));
  CHECK(settings.find(std::tuple<std::string, std::string>{"mail", "host"})->value == "smtp2.example");
  CHECK_FALSE(settings.update(Setting{"nope", "host", "x"}));
  CHECK(settings.update(Setting{"mail", "port", "587"}, only(&Setting::value)));
  CHECK(settings.set(std::tuple<std::string, std::string>{"ui", "theme"}, &Setting::value, "light"));
  CHECK_FALSE(settings.set(std::tuple<std::string, std::string>{"ui", "font"}, &Setting::value, "x"));
  Setting up{"ui", "theme", "contrast"};
  settings.upsert(up, on_conflict(&Setting::scope, &Setting::name));
  CHECK(settings.find(std::tuple<std::string, std::string>{"ui", "theme"})->value == "contrast");
  CHECK(settings.update_where(col(&Setting::scope) == "mail", assign(col(&Setting::value), "off")) == 2);
  CHECK(settings.count(col(&Setting::value) == "off") == 2);
  CHECK(settings.erase(std::tuple<std::string, std::string>{"mail", "host"}));
  CHECK_FALSE(settings.erase(std::tuple<std::string, std::string>{"mail", "host"}));
  CHECK(settings.erase_where(col(&Setting::scope) == "mail") == 1);
  CHECK(settings.count() == 1);
  CHECK(parity::rows_in(conn, "settings") == 1);
}

TEMPLATE_TEST_CASE("global entity: Organization", "[parity][api][keys]", PARITY_BACKENDS) {
  auto conn = TestType::open();
  Repo<TestType, Organization> orgs{conn};
  Organization o = testdb::make_org("acme");
  const Timestamp before = Timestamp::now();
  orgs.insert(o);  // lvalue: generated created_at written back
  CHECK(o.created_at.micros >= before.micros - 2000);
  CHECK(o.created_at.micros <= Timestamp::now().micros + 2000);
  const Organization other = orgs.insert(testdb::make_org("beta"));
  CHECK(orgs.count() == 2);
  CHECK(orgs.find(o.id)->slug == "acme");
  CHECK(orgs.find(other.id)->created_at == other.created_at);

  CHECK(orgs.set(o.id, &Organization::status, OrgStatus::suspended));
  CHECK(orgs.find(o.id)->status == OrgStatus::suspended);
  CHECK(orgs.count(col(&Organization::status) == OrgStatus::suspended) == 1);
  o.display_name = "Acme Inc.";
  o.status = OrgStatus::active;
  CHECK(orgs.update(o));
  CHECK(orgs.find(o.id)->display_name == "Acme Inc.");
  CHECK(orgs.update(o, only(&Organization::status)));
  CHECK_FALSE(orgs.update(testdb::make_org("ghost")));

  Organization again = testdb::make_org("acme");  // new id, same slug
  again.display_name = "Acme Again";
  orgs.upsert(again, on_conflict(&Organization::slug));
  CHECK(again.id == o.id);
  CHECK(orgs.find(o.id)->display_name == "Acme Again");
  CHECK(orgs.count() == 2);

  std::vector<std::string> slugs;
  for (const auto& x : orgs.list(order_by(&Organization::slug).desc(), limit(5))) slugs.push_back(x.slug);
  CHECK(slugs == std::vector<std::string>{"beta", "acme"});
  CHECK(orgs.exists(col(&Organization::slug) == "beta"));
  CHECK(orgs.erase(other.id));
  CHECK_FALSE(orgs.erase(other.id));
  CHECK(orgs.count() == 1);
}

TEMPLATE_TEST_CASE("insert_many: one transaction, all or nothing", "[parity][api][insert_many]", PARITY_BACKENDS) {
  using B = TestType;
  auto conn = B::open();
  const OrgId org = parity::add_org(conn, "acme");
  const OrgId other = parity::add_org(conn, "other");
  Repo<B, Gadget> gadgets{conn};

  SECTION("every row is written, with its generated columns and the org") {
    std::vector<Gadget> rows{testdb::make_gadget("a"), testdb::make_gadget("b"), testdb::make_gadget("c")};
    gadgets.insert_many(org, rows);
    CHECK(rows[0].id > 0);
    CHECK(rows[1].id > rows[0].id);
    CHECK(rows[2].id > rows[1].id);
    for (const Gadget& g : rows) {
      CHECK(g.org_id == org);
      CHECK_FALSE(g.stamp.is_nil());
      CHECK(gadgets.find(org, g.id)->label == g.label);
    }
    CHECK_FALSE(conn.in_transaction());
    CHECK_FALSE(parity::native_in_transaction(conn));
  }
  SECTION("a row of another org anywhere: OrgMismatch before anything is written") {
    std::vector<Gadget> rows{testdb::make_gadget("a"), testdb::make_gadget("b")};
    rows[1].org_id = other;
    expect_throw<OrgMismatch>([&] { gadgets.insert_many(org, rows); });
    CHECK(rows[0].id == 0);
  }
  SECTION("a constraint violation in the middle undoes the rows before it") {
    std::vector<Gadget> rows{testdb::make_gadget("a"), testdb::make_gadget("b"), testdb::make_gadget("c")};
    rows[2].ref = rows[0].ref;  // UNIQUE (org_id, ref)
    CHECK(expect_throw<UniqueViolation>([&] { gadgets.insert_many(org, rows); }).constraint() ==
          "uq_gadgets_org_id_ref");
    CHECK_FALSE(conn.in_transaction());
    CHECK_FALSE(parity::native_in_transaction(conn));
  }
  SECTION("inside a transaction the batch is a savepoint: a failed batch leaves the transaction usable") {
    // On PostgreSQL a failed statement aborts the whole transaction; the savepoint insert_many
    // opens is what lets the outer transaction go on there (see transaction_test.cpp).
    auto tx = conn.transaction();
    Gadget before = gadgets.insert(org, testdb::make_gadget("before"));
    std::vector<Gadget> rows{testdb::make_gadget("a"), testdb::make_gadget("b")};
    rows[1].ref = before.ref;
    expect_throw<UniqueViolation>([&] { gadgets.insert_many(org, rows); });
    CHECK(conn.in_transaction());
    Gadget after = gadgets.insert(org, testdb::make_gadget("after"));
    tx.commit();
    CHECK(gadgets.count(org) == 2);
    CHECK(gadgets.find(org, before.id).has_value());
    CHECK(gadgets.find(org, after.id).has_value());
  }
  SECTION("an empty range writes nothing") {
    std::vector<Gadget> none;
    gadgets.insert_many(org, none);
  }
  SECTION("a global entity") {
    Repo<B, Setting> settings{conn};
    std::vector<Setting> rows{{"mail", "host", "smtp"}, {"mail", "port", "25"}};
    settings.insert_many(rows);
    CHECK(settings.count() == 2);
    std::vector<Setting> dup{{"ui", "theme", "dark"}, {"mail", "host", "again"}};
    CHECK(expect_throw<UniqueViolation>([&] { settings.insert_many(dup); }).constraint() == "pk_settings");
    CHECK(settings.count() == 2);
    CHECK_FALSE(settings.exists(col(&Setting::scope) == "ui"));
  }
  CHECK(gadgets.count(other) == 0);
  CHECK(parity::rows_in(conn, "gadgets") == gadgets.count(org));
}

TEMPLATE_TEST_CASE("text comparisons: LIKE and ORDER BY", "[parity][api][query][text]", PARITY_BACKENDS) {
  using B = TestType;
  auto conn = B::open();
  const OrgId org = parity::add_org(conn, "acme");
  Repo<B, Gadget> gadgets{conn};
  for (const char* label : {"alpha", "Beta", "ALPHA2", "beta", "Ärger", "_x"})
    gadgets.insert(org, testdb::make_gadget(label));

  // LIKE: SQLite folds ASCII case (its LIKE is case-insensitive unless case_sensitive_like is
  // on); PostgreSQL's LIKE is case-sensitive (ILIKE folds). Neither folds non-ASCII letters.
  CHECK(labels(gadgets.list(org, col(&Gadget::label).like("alpha%"), order_by(&Gadget::id))) ==
        (B::is_postgres ? Labels{"alpha"} : Labels{"alpha", "ALPHA2"}));
  CHECK(gadgets.count(org, col(&Gadget::label).like("b%")) == (B::is_postgres ? 1 : 2));
  CHECK(gadgets.count(org, col(&Gadget::label).like("är%")) == 0);
  CHECK(gadgets.count(org, col(&Gadget::label).like("Är%")) == 1);
  // = is exact on both.
  CHECK(gadgets.count(org, col(&Gadget::label) == "beta") == 1);
  CHECK(gadgets.count(org, col(&Gadget::label) == "BETA") == 0);
  // '_' is a wildcard in both; there is no escape clause.
  CHECK(gadgets.count(org, col(&Gadget::label).like("_x")) == 1);
  CHECK(gadgets.count(org, col(&Gadget::label).like("%x%")) == 1);

  // ORDER BY text: SQLite compares bytes (BINARY collation); PostgreSQL uses the database's
  // collation, which orders the same way only when it is C (or POSIX).
  const Labels bytewise{"ALPHA2", "Beta", "_x", "alpha", "beta", "Ärger"};
  const Labels ordered = labels(gadgets.list(org, order_by(&Gadget::label)));
  std::string collation = "C";
  if constexpr (B::is_postgres)
    collation = *parity::raw_text(
        conn, "SELECT CAST(datcollate AS TEXT) FROM pg_database WHERE datname = current_database()");
  if (collation == "C" || collation == "POSIX") {
    CHECK(ordered == bytewise);
  } else {
    WARN("PostgreSQL database collation is " << collation << ": text order is the locale's, not bytewise");
    CHECK(std::is_permutation(ordered.begin(), ordered.end(), bytewise.begin(), bytewise.end()));
  }
}

// ORDER BY on every kind of column orders rows the same way on both: integers and reals by
// value, booleans false first, UUIDs by their bytes (SQLite compares the canonical lowercase
// text, which orders the same), timestamps by time (SQLite's fixed-width ISO text), blobs by
// bytes, enums by their text.
TEMPLATE_TEST_CASE("ORDER BY every kind of column", "[parity][api][query][order]", PARITY_BACKENDS) {
  using B = TestType;
  auto conn = B::open();
  const OrgId org = parity::add_org(conn, "acme");
  Repo<B, Gadget> gadgets{conn};
  const char* uuids[] = {"ffffffff-0000-4000-8000-000000000000", "00000000-0000-4000-8000-000000000001",
                         "a0000000-0000-4000-8000-000000000000", "0a000000-0000-4000-8000-000000000000"};
  const Timestamp times[] = {Timestamp{Timestamp::max_micros}, Timestamp{-1}, Timestamp{Timestamp::min_micros},
                             Timestamp{1}};
  const double reals[] = {-std::numeric_limits<double>::infinity(), 5e-324, -0.5, 1e11};
  const std::vector<Bytes> payloads{{std::byte{1}}, {}, {std::byte{0}, std::byte{0xff}}, {std::byte{0xff}}};
  const std::int64_t i64s[] = {std::numeric_limits<std::int64_t>::max(), -1, std::numeric_limits<std::int64_t>::min(),
                               0};
  const Color colors[] = {Color::blue, Color::red, Color::green, Color::blue};
  for (int k = 0; k < 4; ++k) {
    Gadget g = testdb::make_gadget(std::string(1, char('A' + k)));
    g.ref = Uuid::parse(uuids[k]);
    g.at = times[k];
    g.real = reals[k];
    g.payload = payloads[static_cast<std::size_t>(k)];
    g.i64 = i64s[k];
    g.flag = k % 2 == 1;
    g.color = colors[k];
    gadgets.insert(org, g);
  }
  CHECK(labels(gadgets.list(org, order_by(&Gadget::ref))) == Labels{"B", "D", "C", "A"});
  CHECK(labels(gadgets.list(org, order_by(&Gadget::at))) == Labels{"C", "B", "D", "A"});
  CHECK(labels(gadgets.list(org, order_by(&Gadget::real))) == Labels{"A", "C", "B", "D"});
  CHECK(labels(gadgets.list(org, order_by(&Gadget::payload))) == Labels{"B", "C", "A", "D"});
  CHECK(labels(gadgets.list(org, order_by(&Gadget::i64).desc())) == Labels{"A", "D", "B", "C"});
  CHECK(labels(gadgets.list(org, order_by(&Gadget::flag), order_by(&Gadget::label).desc())) ==
        Labels{"C", "A", "D", "B"});
  CHECK(labels(gadgets.list(org, order_by(&Gadget::color), order_by(&Gadget::label))) == Labels{"A", "D", "C", "B"});
  // Comparisons agree with the order.
  CHECK(labels(gadgets.list(org, col(&Gadget::ref) > Uuid::parse(uuids[3]), order_by(&Gadget::ref))) ==
        Labels{"C", "A"});
  CHECK(labels(gadgets.list(org, col(&Gadget::at) <= Timestamp{0}, order_by(&Gadget::at))) == Labels{"C", "B"});
}

// JSON equality: SQLite compares the stored text; PostgreSQL compares JSONB documents, so an
// equivalent document with other whitespace or key order is equal there only.
TEMPLATE_TEST_CASE("JSON predicates compare text on SQLite, documents on PostgreSQL", "[parity][api][query]",
                   PARITY_BACKENDS) {
  using B = TestType;
  auto conn = B::open();
  const OrgId org = parity::add_org(conn, "acme");
  Repo<B, Gadget> gadgets{conn};
  Gadget g = testdb::make_gadget("j");
  g.meta = Json{R"({ "b": 1, "a": 2 })"};
  gadgets.insert(org, g);
  CHECK(gadgets.count(org, col(&Gadget::meta) == Json{R"({"a": 2, "b": 1})"}) == (B::is_postgres ? 1 : 0));
  CHECK(gadgets.count(org, col(&Gadget::meta) == Json{R"({ "b": 1, "a": 2 })"}) == 1);
  CHECK(gadgets.count(org, col(&Gadget::meta) != Json{R"({"a": 2})"}) == 1);
}
