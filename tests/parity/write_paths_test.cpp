// The lean write paths on both databases, attacker's cases first: Repository::put (an upsert
// that reads nothing back) must write only into the call's org, refuse a row of another org,
// and never update another org's row that conflicts on a target without the org column.
#include "support/backends.hpp"

#include <optional>
#include <string>
#include <vector>

using namespace tenantry;
using fixtures::ApiToken;
using parity::Repo;
using testdb::expect_throw;

TEMPLATE_TEST_CASE("put never writes another org's row: a conflict on a target without the org is refused",
                   "[parity][put][org]", PARITY_BACKENDS) {
  using B = TestType;
  auto conn = B::open();
  const OrgId victim = parity::add_org(conn, "victim"), attacker = parity::add_org(conn, "attacker");
  Repo<B, ApiToken> tokens{conn};
  const ApiToken theirs = tokens.insert(victim, testdb::make_token("tok_v"));

  // The attacker knows the victim's token id and puts a row with it, updating the name.
  ApiToken forged = theirs;
  forged.org_id = OrgId{};
  forged.name = "pwned";
  static constexpr auto by_id = on_conflict(&ApiToken::id).update(only(&ApiToken::name));
  static constexpr auto by_id_nothing = on_conflict(&ApiToken::id).nothing();
  const UniqueViolation e = expect_throw<UniqueViolation>([&] { tokens.put(attacker, forged, by_id); });
  CHECK_THAT(e.what(), Catch::Contains("another org"));
  CHECK(tokens.find(victim, theirs.id)->name == theirs.name);
  CHECK(tokens.count(attacker) == 0);
  // DO NOTHING on the same target is refused the same way (it would otherwise report success).
  CHECK_THROWS_AS(tokens.put(attacker, forged, by_id_nothing), UniqueViolation);
  CHECK(tokens.count(attacker) == 0);

  // A row that names the victim's org, put through the attacker's call: OrgMismatch, nothing sent.
  ApiToken named = testdb::make_token("tok_n");
  named.org_id = victim;
  CHECK_THROWS_AS(tokens.put(attacker, named, by_id), OrgMismatch);
  CHECK(tokens.count(victim) == 1);
  CHECK(tokens.count(attacker) == 0);
  CHECK_THROWS_AS(tokens.put(OrgId{}, named, by_id), UsageError);  // the nil org is nobody
}

TEMPLATE_TEST_CASE("put inserts, updates the target's conflict in the call's org, and reads nothing back",
                   "[parity][put]", PARITY_BACKENDS) {
  using B = TestType;
  auto conn = B::open();
  const OrgId org = parity::add_org(conn, "acme"), other = parity::add_org(conn, "other");
  Repo<B, ApiToken> tokens{conn};
  static constexpr auto by_prefix = on_conflict(&ApiToken::org_id, &ApiToken::token_prefix);
  static constexpr auto by_prefix_nothing = by_prefix.nothing();
  static constexpr auto by_id = on_conflict(&ApiToken::id);

  ApiToken t = testdb::make_token("tok_1");  // nil org field: written as the call's org
  tokens.put(org, t, by_prefix);
  const ApiToken stored = *tokens.find(org, t.id);
  CHECK(stored.org_id == org);
  CHECK(stored.name == t.name);
  CHECK(t.org_id.is_nil());  // the caller's row is const: nothing read back into it

  // The same prefix again with another id and name: the existing row is updated, and keeps its id.
  ApiToken again = testdb::make_token("tok_1");
  again.name = "renamed";
  again.token_hash = "hash-2";
  tokens.put(org, again, by_prefix);
  CHECK(tokens.count(org) == 1);
  const ApiToken updated = *tokens.find(org, t.id);
  CHECK(updated.name == "renamed");
  CHECK(updated.token_hash == "hash-2");
  CHECK_FALSE(tokens.find(org, again.id).has_value());

  // The same prefix in another org is another row: the target includes the org.
  tokens.put(other, again, by_prefix);
  CHECK(tokens.count(other) == 1);
  CHECK(tokens.find(org, t.id)->name == "renamed");

  // DO NOTHING keeps the existing row in our org without an error.
  ApiToken ignored = testdb::make_token("tok_1");
  ignored.name = "ignored";
  tokens.put(org, ignored, by_prefix_nothing);
  CHECK(tokens.find(org, t.id)->name == "renamed");
  CHECK(tokens.count(org) == 1);

  // The org column is never in the update list: a put that conflicts in our org cannot move the row.
  ApiToken same_id = *tokens.find(org, t.id);
  same_id.org_id = OrgId{};
  same_id.name = "by id";
  tokens.put(org, same_id, by_id);
  CHECK(tokens.find(org, t.id)->name == "by id");
  CHECK(tokens.count(other) == 1);
}
