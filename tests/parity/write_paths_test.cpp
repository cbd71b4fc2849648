// The lean write paths on both databases, attacker's cases first: Repository::put (an upsert
// that reads nothing back) must write only into the call's org, refuse a row of another org,
// and never update another org's row that conflicts on a target without the org column.
// find_many and insert_many (on PostgreSQL one statement over array parameters each) must find
// and write only the call's org's rows, whatever keys or rows they are given.
#include "support/backends.hpp"

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <type_traits>
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

// ---- find_many (PostgreSQL: one `key = ANY($2::T[])` statement) ------------------------------

TEMPLATE_TEST_CASE("find_many never finds another org's rows, whatever keys it is given", "[parity][find_many][org]",
                   PARITY_BACKENDS) {
  using B = TestType;
  auto conn = B::open();
  const OrgId victim = parity::add_org(conn, "victim"), attacker = parity::add_org(conn, "attacker");
  Repo<B, ApiToken> tokens{conn};
  const ApiToken v1 = tokens.insert(victim, testdb::make_token("tok_v1"));
  const ApiToken v2 = tokens.insert(victim, testdb::make_token("tok_v2"));
  const ApiToken mine = tokens.insert(attacker, testdb::make_token("tok_a"));

  // The attacker knows the victim's ids: its call finds none of them, only its own row.
  CHECK(tokens.find_many(attacker, std::vector<Uuid>{v1.id, v2.id}).empty());
  const std::vector<ApiToken> got = tokens.find_many(attacker, std::vector<Uuid>{v1.id, mine.id, v2.id});
  REQUIRE(got.size() == 1);
  CHECK(got[0].id == mine.id);
  CHECK(got[0].org_id == attacker);
  CHECK_THROWS_AS(tokens.find_many(OrgId{}, std::vector<Uuid>{v1.id}), UsageError);  // the nil org is nobody
}

TEMPLATE_TEST_CASE("find_many finds each listed row once, reads every column, and takes any range of keys",
                   "[parity][find_many]", PARITY_BACKENDS) {
  using B = TestType;
  auto conn = B::open();
  const OrgId org = parity::add_org(conn, "acme");
  Repo<B, ApiToken> tokens{conn};
  std::vector<ApiToken> rows;
  for (int i = 0; i < 5; ++i) rows.push_back(tokens.insert(org, testdb::make_token("tok_" + std::to_string(i))));
  rows[1].last_used_by = "someone";
  tokens.update(org, rows[1]);

  CHECK(tokens.find_many(org, std::vector<Uuid>{}).empty());
  CHECK(tokens.find_many(org, std::vector<Uuid>{Uuid::random()}).empty());
  // Duplicates and a key of no row: rows 1 and 3, once each.
  const std::vector<Uuid> keys{rows[3].id, rows[1].id, Uuid::random(), rows[3].id};
  std::vector<ApiToken> got = tokens.find_many(org, keys);
  std::sort(got.begin(), got.end(),
            [](const ApiToken& a, const ApiToken& b) { return a.token_prefix < b.token_prefix; });
  REQUIRE(got.size() == 2);
  CHECK(got[0].id == rows[1].id);
  CHECK(got[0].last_used_by == std::optional<std::string>("someone"));
  CHECK(got[0].name == rows[1].name);
  CHECK(got[0].created_at == rows[1].created_at);
  CHECK(got[1].id == rows[3].id);
  CHECK_FALSE(got[1].last_used_by.has_value());
  // Any range of keys works, not only a vector (std::views would do too; clang 14 cannot compile
  // libstdc++ 12's views).
  std::set<Uuid> ids;
  for (const ApiToken& t : rows) ids.insert(t.id);
  CHECK(tokens.find_many(org, ids).size() == 5);
}

TEMPLATE_TEST_CASE("find_many of many keys finds each row once, wherever its repeats are", "[parity][find_many]",
                   PARITY_BACKENDS) {
  // Past 16 keys SQLite finds the repeats by sorting positions, not by a search per key: the
  // first, the last and neighbouring keys repeated, next to keys of no row and of another org.
  using B = TestType;
  auto conn = B::open();
  const OrgId org = parity::add_org(conn, "acme"), other = parity::add_org(conn, "other");
  Repo<B, ApiToken> tokens{conn};
  std::vector<Uuid> keys;
  for (int i = 0; i < 12; ++i) keys.push_back(tokens.insert(org, testdb::make_token("tok_" + std::to_string(i))).id);
  const Uuid theirs = tokens.insert(other, testdb::make_token("tok_other")).id;
  const std::vector<Uuid> own = keys;
  keys.push_back(keys[0]);
  keys.push_back(theirs);
  keys.push_back(keys[11]);
  keys.push_back(keys[11]);
  keys.push_back(Uuid::random());
  keys.insert(keys.begin() + 3, keys[2]);
  keys.push_back(theirs);
  keys.push_back(keys[5]);
  REQUIRE(keys.size() > 16);
  const std::vector<ApiToken> got = tokens.find_many(org, keys);
  std::vector<Uuid> found;
  for (const ApiToken& t : got) {
    CHECK(t.org_id == org);
    found.push_back(t.id);
  }
  std::sort(found.begin(), found.end());
  std::vector<Uuid> expected = own;
  std::sort(expected.begin(), expected.end());
  CHECK(found == expected);
}

TEMPLATE_TEST_CASE("find_many of a global entity with a composite key", "[parity][find_many]", PARITY_BACKENDS) {
  using B = TestType;
  auto conn = B::open();
  Repo<B, fixtures::Setting> settings{conn};
  settings.insert(fixtures::Setting{"app", "theme", "dark"});
  settings.insert(fixtures::Setting{"app", "lang", "en"});
  settings.insert(fixtures::Setting{"mail", "theme", "plain"});
  // ("app", "theme") and ("mail", "theme") but not ("mail", "lang"), nor the cross pairing.
  using Key = std::tuple<std::string, std::string>;
  std::vector<fixtures::Setting> got = settings.find_many(
      std::vector<Key>{{"mail", "theme"}, {"app", "theme"}, {"mail", "lang"}});
  std::sort(got.begin(), got.end(), [](const auto& a, const auto& b) { return a.scope < b.scope; });
  REQUIRE(got.size() == 2);
  CHECK(got[0].value == "dark");
  CHECK(got[1].value == "plain");
}

// ---- insert_many (PostgreSQL: one INSERT ... SELECT * FROM unnest(...) statement) ------------

TEMPLATE_TEST_CASE("insert_many never writes into two orgs: a row of another org anywhere in the batch writes nothing",
                   "[parity][insert_many][org]", PARITY_BACKENDS) {
  using B = TestType;
  auto conn = B::open();
  const OrgId victim = parity::add_org(conn, "victim"), attacker = parity::add_org(conn, "attacker");
  Repo<B, ApiToken> tokens{conn};
  std::vector<ApiToken> rows;
  for (int i = 0; i < 40; ++i) rows.push_back(testdb::make_token("tok_" + std::to_string(i)));
  rows[37].org_id = victim;  // smuggled into the attacker's batch
  CHECK_THROWS_AS(tokens.insert_many(attacker, rows), OrgMismatch);
  CHECK(tokens.count(victim) == 0);
  CHECK(tokens.count(attacker) == 0);
  CHECK(parity::rows_in(conn, "api_tokens") == 0);
  CHECK_FALSE(conn.in_transaction());

  // Without it the batch lands in the call's org only.
  rows[37].org_id = OrgId{};
  tokens.insert_many(attacker, rows);
  CHECK(tokens.count(attacker) == 40);
  CHECK(tokens.count(victim) == 0);
}

TEMPLATE_TEST_CASE("insert_many writes text that array syntax would misread, and NULLs, as given",
                   "[parity][insert_many]", PARITY_BACKENDS) {
  using B = TestType;
  auto conn = B::open();
  const OrgId org = parity::add_org(conn, "acme");
  Repo<B, ApiToken> tokens{conn};
  const std::vector<std::string> names{
      R"(quote " and backslash \ )", "{braces, commas}", "NULL", "", " spaced ", "ünïcødé"};
  std::vector<ApiToken> rows;
  for (std::size_t i = 0; i < names.size(); ++i) {
    ApiToken t = testdb::make_token("tok_" + std::to_string(i));
    t.name = names[i];
    if (i % 2 == 0) t.last_used_by = names[names.size() - 1 - i];
    rows.push_back(t);
  }
  tokens.insert_many(org, rows);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const std::optional<ApiToken> got = tokens.find(org, rows[i].id);
    REQUIRE(got.has_value());
    CHECK(got->name == names[i]);
    CHECK(got->last_used_by == rows[i].last_used_by);
    CHECK(got->created_at == rows[i].created_at);
  }
}

// ---- an entity scoped through its parent (no org column of its own) --------------------------

namespace wp_fx {
/// A note on a token: no org column, scoped through its token.
struct TokenNote {
  Uuid id;
  Uuid token_id;
  std::string text;
};
}  // namespace wp_fx

template <>
struct tenantry::entity<wp_fx::TokenNote> {
  static constexpr auto scope = tenantry::through<&wp_fx::TokenNote::token_id>;
  static constexpr std::string_view table = "wp_token_notes";
  static constexpr auto primary_key = key(&wp_fx::TokenNote::id);
  static constexpr auto constraints = std::tuple{
      foreign_key(&wp_fx::TokenNote::token_id, &ApiToken::id, on_delete::cascade)};
};

TEMPLATE_TEST_CASE("scoped through the parent: find_many, insert_many and put stay in the call's org",
                   "[parity][find_many][insert_many][put][org]", PARITY_BACKENDS) {
  using B = TestType;
  using wp_fx::TokenNote;
  auto conn = B::open();
  if constexpr (std::is_same_v<typename B::Conn, Database>)
    conn.execute(conn.is_postgres() ? schema_sql<PgDialect, TokenNote>() : schema_sql<SqliteDialect, TokenNote>());
  else conn.execute(schema_sql<typename B::Dialect, TokenNote>());
  const OrgId victim = parity::add_org(conn, "victim"), attacker = parity::add_org(conn, "attacker");
  Repo<B, ApiToken> tokens{conn};
  Repo<B, TokenNote> notes{conn};
  const ApiToken theirs = tokens.insert(victim, testdb::make_token("tok_v"));
  const ApiToken mine = tokens.insert(attacker, testdb::make_token("tok_a"));
  const TokenNote secret{Uuid::random(), theirs.id, "victim's note"};
  notes.insert(victim, secret);

  // Reading the victim's note by its key, as the attacker: nothing.
  CHECK(notes.find_many(attacker, std::vector<Uuid>{secret.id}).empty());
  CHECK(notes.find_many(victim, std::vector<Uuid>{secret.id}).size() == 1);

  // Writing notes under the victim's token, as the attacker: refused, nothing written.
  std::vector<TokenNote> batch{{Uuid::random(), mine.id, "ok"}, {Uuid::random(), theirs.id, "planted"}};
  CHECK_THROWS_AS(notes.insert_many(attacker, batch), OrgMismatch);
  CHECK(notes.count(attacker) == 0);
  CHECK(notes.count(victim) == 1);
  // put on the victim's note id (a conflict with another org's row) or under its token: refused.
  static constexpr auto by_id = on_conflict(&TokenNote::id);
  CHECK_THROWS_AS(notes.put(attacker, TokenNote{secret.id, mine.id, "overwrite"}, by_id), UniqueViolation);
  CHECK_THROWS_AS(notes.put(attacker, TokenNote{Uuid::random(), theirs.id, "planted"}, by_id), OrgMismatch);
  CHECK(notes.find(victim, secret.id)->text == "victim's note");
  CHECK(notes.count(attacker) == 0);

  // The attacker's own notes go in, one batch, and are found.
  batch[1].token_id = mine.id;
  notes.insert_many(attacker, batch);
  CHECK(notes.find_many(attacker, std::vector<Uuid>{batch[0].id, batch[1].id, secret.id}).size() == 2);
}
