// Batches (batch.hpp) on every backend: the same statements give the same rows and results,
// all or nothing, for the batch's org only. PostgreSQL's round trips are counted in
// tests/pg/batch_test.cpp.
#include "support/backends.hpp"

#include <tenantry/batch.hpp>

#include <string>
#include <vector>

using namespace tenantry;
using fixtures::ApiToken;
using fixtures::Gadget;
using fixtures::TokenStatus;
using parity::Repo;
using parity::rows_in;

namespace {

template <class B>
struct Fixture {
  typename B::Conn conn = B::open();
  OrgId a = parity::add_org(conn, "acme");
  OrgId b = parity::add_org(conn, "globex");
  Repo<B, ApiToken> tokens{conn};
  Repo<B, Gadget> gadgets{conn};
};

}  // namespace

TEMPLATE_TEST_CASE("a batch writes its statements in order, for its org, and reports each", "[parity][batch]",
                   ORG_ISOLATION_BACKENDS) {
  Fixture<TestType> f;
  ApiToken kept = testdb::make_token("kept"), gone = testdb::make_token("gone"), theirs = testdb::make_token("theirs");
  f.tokens.insert(f.a, kept);
  f.tokens.insert(f.a, gone);
  f.tokens.insert(f.b, theirs);

  Batch batch(f.conn, f.a);
  ApiToken fresh = testdb::make_token("fresh");
  Gadget g = testdb::make_gadget("g1");
  g.quantity = 7;
  const BatchRow<ApiToken> fresh_at = batch.insert(fresh);
  CHECK(fresh_at == 0u);
  const BatchRow<Gadget> g_at = batch.insert(g);  // generated id, stamp and created_at: in the result
  CHECK(g_at == 1u);
  kept.name = "renamed";
  CHECK(batch.update(kept) == 2);
  CHECK(batch.set(kept.id, &ApiToken::status, TokenStatus::revoked) == 3);
  CHECK(batch.template erase<ApiToken>(gone.id) == 4);
  // Keys of the other org's row: the batch's org has no such row, so nothing changes.
  ApiToken theirs_as_ours = theirs;
  theirs_as_ours.org_id = OrgId{};
  CHECK(batch.update(theirs_as_ours) == 5);
  CHECK(batch.set(theirs.id, &ApiToken::name, std::string("stolen")) == 6);
  CHECK(batch.template erase<ApiToken>(theirs.id) == 7);
  CHECK(batch.size() == 8);
  const BatchResult done = batch.run();
  CHECK(batch.size() == 0);
  REQUIRE(done.size() == 8);
  const std::vector<bool> expected{true, true, true, true, true, false, false, false};
  for (std::size_t k = 0; k < expected.size(); ++k) {
    INFO("statement " << k);
    CHECK(done.changed(k) == expected[k]);
  }
  CHECK_THROWS_AS(done.changed(8), UsageError);

  // The caller's rows are never written to; the rows written are the result's.
  CHECK(g.id == 0);
  CHECK(fresh.org_id.is_nil());
  CHECK(done.row(fresh_at).org_id == f.a);
  CHECK(done.row(fresh_at).id == fresh.id);
  const Gadget& written = done.row(g_at);
  CHECK(written.id != 0);
  CHECK(written.org_id == f.a);
  CHECK_FALSE(written.stamp.is_nil());
  const auto stored = f.gadgets.find(f.a, written.id);
  REQUIRE(stored.has_value());
  CHECK(stored->quantity == 7);
  CHECK(stored->stamp == written.stamp);
  CHECK(stored->created_at == written.created_at);
  CHECK(written.created_at != Gadget{}.created_at);

  CHECK(f.tokens.find(f.a, fresh.id).has_value());
  const auto k = f.tokens.find(f.a, kept.id);
  REQUIRE(k.has_value());
  CHECK(k->name == "renamed");
  CHECK(k->status == TokenStatus::revoked);
  CHECK_FALSE(f.tokens.find(f.a, gone.id).has_value());
  CHECK(f.tokens.count(f.a) == 2);
  // The other org's row is as it was.
  const auto t = f.tokens.find(f.b, theirs.id);
  REQUIRE(t.has_value());
  CHECK(t->name == theirs.name);
  CHECK(f.tokens.count(f.b) == 1);
  CHECK(rows_in(f.conn, "api_tokens") == 3);

  // An empty batch runs nothing.
  CHECK(batch.run().size() == 0);
}

TEMPLATE_TEST_CASE(
    "a batch is all or nothing: a failing statement throws its typed error, names itself, writes nothing",
    "[parity][batch]", ORG_ISOLATION_BACKENDS) {
  Fixture<TestType> f;
  ApiToken existing = testdb::make_token("taken");
  f.tokens.insert(f.a, existing);

  SECTION("a unique violation") {
    Batch batch(f.conn, f.a);
    ApiToken one = testdb::make_token("one"), dup = testdb::make_token("taken");
    batch.insert(one);
    existing.name = "changed";
    batch.update(existing);
    batch.insert(dup);  // UNIQUE (org_id, token_prefix)
    batch.template erase<ApiToken>(existing.id);
    try {
      batch.run();
      FAIL("the batch ran");
    } catch (const UniqueViolation& e) {
      REQUIRE(e.batch_statement().has_value());
      CHECK(*e.batch_statement() == 2);
      CHECK_THAT(e.what(), Catch::Matchers::Contains("statement 3 of 4 in the batch (insert into api_tokens)"));
      CHECK(e.table() == "api_tokens");
    }
    CHECK(batch.size() == 0);
  }
  SECTION("a check violation") {
    Batch batch(f.conn, f.a);
    ApiToken one = testdb::make_token("one");
    batch.insert(one);
    Gadget bad = testdb::make_gadget("bad");
    bad.quantity = -1;  // CHECK (quantity >= 0)
    batch.insert(bad);
    try {
      batch.run();
      FAIL("the batch ran");
    } catch (const CheckViolation& e) {
      CHECK(e.batch_statement() == std::optional<std::size_t>(1));
      CHECK_THAT(e.what(), Catch::Matchers::Contains("statement 2 of 2 in the batch (insert into gadgets)"));
    }
    CHECK(bad.id == 0);
  }
  SECTION("a value that cannot be stored, after statements that could") {
    Batch batch(f.conn, f.a);
    ApiToken one = testdb::make_token("one");
    batch.insert(one);
    existing.updated_at = Timestamp{Timestamp::max_micros + 1};  // past 9999-12-31: neither database holds it
    batch.update(existing);
    try {
      batch.run();
      FAIL("the batch ran");
    } catch (const ValueError& e) {
      CHECK(e.batch_statement() == std::optional<std::size_t>(1));
    }
  }
  // Nothing of any of them was written, and the connection goes on.
  CHECK_FALSE(parity::native_in_transaction(f.conn));
  CHECK(f.tokens.count(f.a) == 1);
  CHECK(f.tokens.find(f.a, existing.id)->name == testdb::make_token("taken").name);
  CHECK(f.gadgets.count(f.a) == 0);
  ApiToken after = testdb::make_token("after");
  Batch again(f.conn, f.a);
  again.insert(after);
  CHECK(again.run().changed(0));
  CHECK(f.tokens.count(f.a) == 2);
}

TEMPLATE_TEST_CASE("a batch refuses a row of another org when it is added, and runs the rest", "[parity][batch]",
                   ORG_ISOLATION_BACKENDS) {
  Fixture<TestType> f;
  Batch batch(f.conn, f.a);
  ApiToken mine = testdb::make_token("mine"), wrong = testdb::make_token("wrong");
  wrong.org_id = f.b;
  batch.insert(mine);
  CHECK_THROWS_AS(batch.insert(wrong), OrgMismatch);
  CHECK_THROWS_AS(batch.update(wrong), OrgMismatch);
  CHECK_THROWS_AS(batch.put(wrong, on_conflict(&ApiToken::org_id, &ApiToken::token_prefix)), OrgMismatch);
  CHECK(batch.size() == 1);
  // Changing a row after it was added changes nothing of the batch: its values were taken.
  mine.org_id = f.b;
  mine.name = "later";
  batch.run();
  CHECK(f.tokens.count(f.b) == 0);
  const auto stored = f.tokens.find(f.a, mine.id);
  REQUIRE(stored.has_value());
  CHECK(stored->name == testdb::make_token("mine").name);
  CHECK_THROWS_AS(Batch(f.conn, OrgId{}), UsageError);  // a nil org is no tenant
}

TEMPLATE_TEST_CASE("a batch owns what it inserts: the rows may end before run(), the result holds what was written",
                   "[parity][batch]", ORG_ISOLATION_BACKENDS) {
  Fixture<TestType> f;
  Batch batch(f.conn, f.a);
  std::vector<BatchRow<Gadget>> at;
  for (int i = 0; i < 3; ++i) {
    Gadget g = testdb::make_gadget("scoped" + std::to_string(i));  // ends before run(): ASan checks
    g.quantity = i;
    at.push_back(batch.insert(g));
  }
  const BatchRow<ApiToken> token_at = batch.insert(testdb::make_token("temporary"));
  const std::size_t update_at = batch.set(Uuid::random(), &ApiToken::name, std::string("nobody"));
  const BatchResult done = batch.run();
  REQUIRE(done.size() == 5);
  for (int i = 0; i < 3; ++i) {
    const Gadget& g = done.row(at[static_cast<std::size_t>(i)]);
    CHECK(g.quantity == i);
    CHECK(g.org_id == f.a);
    const auto stored = f.gadgets.find(f.a, g.id);
    REQUIRE(stored.has_value());
    CHECK(stored->stamp == g.stamp);
  }
  CHECK(done.row(token_at).token_prefix == "temporary");
  CHECK(f.tokens.find(f.a, done.row(token_at).id).has_value());
  CHECK_FALSE(done.changed(update_at));

  // A BatchRow names a position: one of another run, at a position that is not an insert of its
  // entity here, or beyond the result, is refused rather than read as some other row.
  Batch other(f.conn, f.a);
  other.set(Uuid::random(), &ApiToken::name, std::string("x"));
  other.set(Uuid::random(), &ApiToken::name, std::string("y"));
  other.set(Uuid::random(), &ApiToken::name, std::string("z"));
  other.set(Uuid::random(), &ApiToken::name, std::string("w"));
  const BatchRow<ApiToken> fifth = other.insert(testdb::make_token("fifth"));
  const BatchRow<ApiToken> sixth = other.insert(testdb::make_token("sixth"));
  REQUIRE(fifth == update_at);
  CHECK_THROWS_AS(done.row(fifth), UsageError);  // position 4 is a set() in `done`
  CHECK_THROWS_AS(done.row(sixth), UsageError);  // out of range
  const BatchResult done_other = other.run();
  CHECK_THROWS_AS(done_other.row(token_at), UsageError);  // position 3 is a set() there
  CHECK_THROWS_AS(done_other.row(at[0]), UsageError);
  CHECK(done_other.row(sixth).token_prefix == "sixth");
}

TEMPLATE_TEST_CASE("batches of two orgs on one connection each see and write their own rows only", "[parity][batch]",
                   ORG_ISOLATION_BACKENDS) {
  Fixture<TestType> f;
  ApiToken ta = testdb::make_token("same"), tb = testdb::make_token("same");
  for (int round = 0; round < 3; ++round) {
    Batch for_a(f.conn, f.a);
    ApiToken na = testdb::make_token("a" + std::to_string(round));
    for_a.insert(na);
    if (round == 0) for_a.insert(ta);
    for_a.set(tb.id, &ApiToken::name, std::string("from a"));  // b's row: not reachable from a
    const BatchResult ra = for_a.run();
    CHECK_FALSE(ra.changed(ra.size() - 1));

    Batch for_b(f.conn, f.b);
    ApiToken nb = testdb::make_token("b" + std::to_string(round));
    for_b.insert(nb);
    if (round == 0) for_b.insert(tb);  // the same prefix as a's: unique per org only
    for_b.set(ta.id, &ApiToken::name, std::string("from b"));
    for_b.template erase<ApiToken>(na.id);  // a's row: not reachable from b
    const BatchResult rb = for_b.run();
    CHECK_FALSE(rb.changed(rb.size() - 1));
    CHECK_FALSE(rb.changed(rb.size() - 2));
    CHECK(f.tokens.find(f.a, na.id).has_value());
  }
  CHECK(f.tokens.count(f.a) == 4);
  CHECK(f.tokens.count(f.b) == 4);
  CHECK(f.tokens.find(f.a, ta.id)->name == ta.name);
  CHECK(f.tokens.find(f.b, tb.id)->name == tb.name);
}

TEMPLATE_TEST_CASE("a batch inside the caller's transaction joins it; a failure rolls back the batch only",
                   "[parity][batch][tx]", ORG_ISOLATION_BACKENDS) {
  Fixture<TestType> f;
  {
    auto tx = f.conn.transaction();
    ApiToken before = testdb::make_token("before");
    f.tokens.insert(f.b, before);  // the transaction holds org b's context first
    Batch batch(f.conn, f.a);
    ApiToken one = testdb::make_token("one"), two = testdb::make_token("two");
    batch.insert(one);
    batch.insert(two);
    batch.run();
    CHECK(f.conn.in_transaction());
    CHECK(f.tokens.count(f.a) == 2);

    Batch failing(f.conn, f.a);
    ApiToken three = testdb::make_token("three"), dup = testdb::make_token("one");
    failing.insert(three);
    failing.insert(dup);
    CHECK_THROWS_AS(failing.run(), UniqueViolation);
    CHECK(f.conn.in_transaction());
    CHECK(f.tokens.count(f.a) == 2);  // the caller's transaction goes on, without the failed batch
    CHECK(f.tokens.count(f.b) == 1);
  }  // rolled back: the batch with it
  CHECK(f.tokens.count(f.a) == 0);
  CHECK(f.tokens.count(f.b) == 0);
  {
    auto tx = f.conn.transaction();
    Batch batch(f.conn, f.a);
    ApiToken one = testdb::make_token("one");
    batch.insert(one);
    batch.run();
    tx.commit();
  }
  CHECK(f.tokens.count(f.a) == 1);
}

TEMPLATE_TEST_CASE("a batch with a put runs one statement at a time, all or nothing all the same", "[parity][batch]",
                   ORG_ISOLATION_BACKENDS) {
  Fixture<TestType> f;
  ApiToken theirs = testdb::make_token("shared");
  f.tokens.insert(f.b, theirs);
  const auto target = on_conflict(&ApiToken::org_id, &ApiToken::token_prefix).update(only(&ApiToken::name));
  ApiToken mine = testdb::make_token("mine");
  f.tokens.insert(f.a, mine);
  Batch batch(f.conn, f.a);
  ApiToken again = testdb::make_token("mine");
  again.name = "put again";
  batch.put(again, target);
  ApiToken other = testdb::make_token("other");
  batch.insert(other);
  const BatchResult done = batch.run();
  CHECK(done.changed(0));
  CHECK(f.tokens.find(f.a, mine.id)->name == "put again");
  CHECK(f.tokens.count(f.a) == 2);

  // A unique violation in the last statement undoes the put before it.
  Batch failing(f.conn, f.a);
  ApiToken renamed = testdb::make_token("mine");
  renamed.name = "not kept";
  failing.put(renamed, target);
  ApiToken dup = testdb::make_token("other");
  failing.insert(dup);
  CHECK_THROWS_AS(failing.run(), UniqueViolation);
  CHECK(f.tokens.find(f.a, mine.id)->name == "put again");
  CHECK(f.tokens.find(f.b, theirs.id)->name == theirs.name);
}
