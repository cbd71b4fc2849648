// Batches on PostgreSQL (batch.hpp): one round trip for the whole batch, counted on the wire
// (libpq's protocol trace), and the org of one batch never reaching another: checked on the
// server, by a trigger that records the org setting every write of the batch ran under, and by
// current_setting('app.current_org_id') between batches. Cross-backend behaviour is in
// tests/parity/batch_test.cpp.
#include "support/backends.hpp"
#include "support/entities.hpp"
#include "support/pg_database.hpp"
#include "support/pg_scalar.hpp"
#include "support/pg_traffic.hpp"

#include <tenantry/batch.hpp>
#include <tenantry/postgres.hpp>

#include <catch2/catch.hpp>

#include <libpq-fe.h>

#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

// Named, so that a unity build of tests/pg (tests/CMakeLists.txt) keeps this file's helpers
// (some share their names with rls_test.cpp's) to itself.
namespace pg_batch_test {

using namespace tenantry;
using fixtures::ApiToken;
using fixtures::Organization;
using fixtures::TokenStatus;

namespace {

constexpr const char* owner_role = "tenantry_rls_owner";

using tenantry_test::as_role;  // support/pg_database.hpp
using testdb::scalar;          // support/pg_scalar.hpp
using testdb::text;

const std::string org_setting_sql = "SELECT coalesce(current_setting('app.current_org_id', true), '')";

/// Row-level security on api_tokens, tables owned by a role that is subject to it, and a
/// trigger that logs, for every row written, the row's org and the org setting the write ran
/// under (the log has no policy: it is the server's own account of what each write saw).
struct RlsDatabase {
  std::string url = tenantry_test::pg_url();
  OrgId a = OrgId::random(), b = OrgId::random();

  RlsDatabase() {
    pg::Connection admin(url);
    admin.execute(std::string("DO $$ BEGIN CREATE ROLE ") + owner_role +
                  " LOGIN NOSUPERUSER NOBYPASSRLS; EXCEPTION WHEN duplicate_object THEN NULL; END $$");
    admin.execute(std::string("GRANT ALL ON SCHEMA public TO ") + owner_role);
    pg::Connection owner(as_role(url, owner_role));
    create_tables<Organization, ApiToken>(owner, DdlOptions{.row_level_security = true});
    owner.execute(
        "CREATE TABLE write_log (row_org text, setting text);"
        "CREATE FUNCTION log_write() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "INSERT INTO write_log VALUES ((CASE WHEN TG_OP = 'DELETE' THEN OLD.org_id ELSE NEW.org_id END)::text, "
        "coalesce(current_setting('app.current_org_id', true), '')); RETURN NULL; END $$;"
        "CREATE TRIGGER log_write AFTER INSERT OR UPDATE OR DELETE ON api_tokens FOR EACH ROW EXECUTE FUNCTION "
        "log_write();");
    Repository<Organization, PgDialect> orgs{owner};
    for (auto [org, slug] : {std::pair{a, "acme"}, std::pair{b, "globex"}}) {
      Organization o{org.value, slug, slug, fixtures::OrgStatus::active, {}, Timestamp::now()};
      orgs.insert(o);
    }
  }
  std::string owner_url() const { return as_role(url, owner_role); }
};

using tenantry_test::Traffic;  // support/pg_traffic.hpp
using tenantry_test::traffic;

ApiToken token(const std::string& prefix) {
  ApiToken t = testdb::make_token(prefix);
  t.org_id = OrgId{};
  return t;
}

/// Ten writes of one org: five inserts, then an update, set and erase of rows already there.
void ten_writes(Batch<pg::Connection, OrgId>& batch, const std::string& prefix, std::vector<ApiToken>& mine) {
  for (int i = 0; i < 5; ++i) batch.insert(token(prefix + std::to_string(i)));
  ApiToken first = mine.at(0);
  first.name = prefix + " renamed";
  batch.update(first);
  batch.update(mine.at(1));
  batch.set(mine.at(2).id, &ApiToken::status, TokenStatus::revoked);
  batch.set(mine.at(3).id, &ApiToken::scopes, std::string("read write"));
  batch.erase<ApiToken>(mine.at(4).id);
  mine.erase(mine.begin() + 4);
}

}  // namespace

TEST_CASE("batch: ten writes of one org are one round trip: BEGIN, the org context, the statements, COMMIT",
          "[pg][batch][rls]") {
  RlsDatabase db;
  pg::Connection conn(db.owner_url(), pg::Options{.org_context = true});
  Repository<ApiToken, PgDialect> tokens{conn};
  std::vector<ApiToken> mine;
  for (int i = 0; i < 6; ++i) mine.push_back(tokens.insert(db.a, token("m" + std::to_string(i))));

  {
    Batch warm(conn, db.a);  // the batch's statements are prepared on their first use (once)
    ten_writes(warm, "w", mine);
    warm.run();
  }
  Batch batch(conn, db.a);
  ten_writes(batch, "x", mine);
  REQUIRE(batch.size() == 10);
  BatchResult done;
  const Traffic t = traffic(conn, [&] { done = batch.run(); });
  CHECK(t.round_trips == 1);
  CHECK(t.statements == 13);  // BEGIN, set_config, ten writes, COMMIT
  for (std::size_t k = 0; k < done.size(); ++k) CHECK(done.changed(k));
  CHECK(tokens.count(db.a) == 6 - 2 + 10);
  CHECK(tokens.find(db.a, mine.at(0).id)->name == "x renamed");

  // The same ten writes as single calls: a round trip each.
  const Traffic singles = traffic(conn, [&] {
    for (int i = 0; i < 5; ++i) tokens.insert(db.a, token("s" + std::to_string(i)));
    tokens.update(db.a, mine.at(0));
    tokens.update(db.a, mine.at(1));
    tokens.set(db.a, mine.at(2).id, &ApiToken::status, TokenStatus::active);
    tokens.set(db.a, mine.at(3).id, &ApiToken::scopes, std::string("read"));
    tokens.erase(db.a, mine.at(3).id);
  });
  CHECK(singles.round_trips == 10);
  for (const auto& [name, f] : std::vector<std::pair<std::string, std::function<void()>>>{
           {"insert", [&] { tokens.insert(db.a, token("z")); }},
           {"update", [&] { tokens.update(db.a, mine.at(0)); }},
           {"set", [&] { tokens.set(db.a, mine.at(2).id, &ApiToken::status, TokenStatus::active); }},
           {"erase", [&] { tokens.erase(db.a, mine.at(2).id); }}}) {
    const Traffic one = traffic(conn, f);
    INFO(name << " " << one.statements);
    CHECK(one.round_trips == 1);
  }

  // Nothing of the org outlives the batch's transaction.
  CHECK(text(conn, org_setting_sql).empty());
  CHECK_THROWS_AS(scalar(conn, "SELECT count(*) FROM api_tokens"), OrgContextMissing);
  // Every write ran under its own org's setting.
  pg::Connection admin(db.url);
  CHECK(scalar(admin, "SELECT count(*) FROM write_log WHERE setting <> row_org") == 0);
}

TEST_CASE("batch: a batch never spans two orgs: org a's setting does not survive into org b's batch",
          "[pg][batch][rls]") {
  RlsDatabase db;
  pg::Connection conn(db.owner_url(), pg::Options{.org_context = true});
  Repository<ApiToken, PgDialect> tokens{conn};
  const ApiToken a_row = tokens.insert(db.a, token("a-row")), b_row = tokens.insert(db.b, token("b-row"));
  for (int round = 0; round < 4; ++round) {
    const OrgId& org = round % 2 == 0 ? db.a : db.b;
    const ApiToken& other = round % 2 == 0 ? b_row : a_row;
    Batch batch(conn, org);
    batch.insert(token("r" + std::to_string(round)));
    // The other org's row, by key: invisible under this batch's setting, so untouched.
    ApiToken other_as_mine = other;
    other_as_mine.org_id = OrgId{};
    other_as_mine.name = "overwritten";
    batch.update(other_as_mine);
    batch.set(other.id, &ApiToken::name, std::string("overwritten"));
    batch.erase<ApiToken>(other.id);
    const Traffic t = traffic(conn, [&] {
      const BatchResult done = batch.run();
      CHECK(done.changed(0));
      CHECK_FALSE(done.changed(1));
      CHECK_FALSE(done.changed(2));
      CHECK_FALSE(done.changed(3));
    });
    if (round > 0) CHECK(t.round_trips == 1);  // the first one prepares the statements too
    // Between batches the session holds no org at all.
    CHECK(text(conn, org_setting_sql).empty());
  }
  CHECK(tokens.count(db.a) == 3);
  CHECK(tokens.count(db.b) == 3);
  CHECK(tokens.find(db.a, a_row.id)->name == a_row.name);
  CHECK(tokens.find(db.b, b_row.id)->name == b_row.name);
  // The server's account: every row written under its own org's setting, never the other's.
  pg::Connection admin(db.url);
  CHECK(scalar(admin, "SELECT count(*) FROM write_log") == 2 + 4);
  CHECK(scalar(admin, "SELECT count(*) FROM write_log WHERE setting <> row_org") == 0);
  CHECK(scalar(admin, "SELECT count(*) FROM api_tokens WHERE name = 'overwritten'") == 0);
}

TEST_CASE(
    "batch: a failing statement rolls the batch back in the same round trip plus a ROLLBACK; the connection goes on",
    "[pg][batch][rls]") {
  RlsDatabase db;
  pg::Connection conn(db.owner_url(), pg::Options{.org_context = true});
  Repository<ApiToken, PgDialect> tokens{conn};
  tokens.insert(db.a, token("taken"));
  {
    Batch warm(conn, db.a);
    warm.insert(token("warm"));
    warm.run();
  }
  Batch batch(conn, db.a);
  batch.insert(token("one"));
  batch.insert(token("two"));
  batch.insert(token("taken"));
  batch.insert(token("four"));
  const Traffic t = traffic(conn, [&] {
    try {
      batch.run();
      FAIL("the batch ran");
    } catch (const UniqueViolation& e) {
      CHECK(e.batch_statement() == std::optional<std::size_t>(2));
      CHECK(e.constraint() == "uq_api_tokens_org_id_token_prefix");
    }
  });
  CHECK(t.round_trips == 2);  // the pipeline, then the ROLLBACK of its aborted transaction
  CHECK(PQtransactionStatus(conn.native()) == PQTRANS_IDLE);
  CHECK(tokens.count(db.a) == 2);
  CHECK(text(conn, org_setting_sql).empty());
  Batch after(conn, db.a);
  after.insert(token("after"));
  CHECK(after.run().changed(0));
  CHECK(tokens.count(db.a) == 3);
}

TEST_CASE("batch: row-level security refuses a batch without the org context, and nothing is written",
          "[pg][batch][rls]") {
  RlsDatabase db;
  // Without Options::org_context nothing sets app.current_org_id: the policy refuses the write.
  pg::Connection plain(db.owner_url());
  Batch batch(plain, db.a);
  batch.insert(token("one"));
  batch.insert(token("two"));
  try {
    batch.run();
    FAIL("the batch ran");
  } catch (const OrgContextMissing& e) {
    CHECK(e.batch_statement() == std::optional<std::size_t>(0));
  }
  CHECK(PQtransactionStatus(plain.native()) == PQTRANS_IDLE);
  pg::Connection admin(db.url);
  CHECK(scalar(admin, "SELECT count(*) FROM api_tokens") == 0);
}

TEST_CASE("batch: inside the caller's transaction, a savepoint, the org once, one pipeline, the release",
          "[pg][batch][rls][tx]") {
  RlsDatabase db;
  pg::Connection conn(db.owner_url(), pg::Options{.org_context = true});
  Repository<ApiToken, PgDialect> tokens{conn};
  {
    Batch warm(conn, db.a);
    warm.insert(token("warm"));
    warm.run();
  }
  auto tx = conn.transaction();
  tokens.count(db.b);  // the transaction holds org b
  Batch batch(conn, db.a);
  for (int i = 0; i < 5; ++i) batch.insert(token("t" + std::to_string(i)));
  const Traffic t = traffic(conn, [&] { batch.run(); });
  CHECK(t.round_trips == 4);  // SAVEPOINT, set_config (org b to org a), the pipeline, RELEASE
  CHECK(text(conn, org_setting_sql) == db.a.to_string());  // the caller's transaction now holds org a
  Batch same_org(conn, db.a);
  same_org.insert(token("t5"));
  CHECK(traffic(conn, [&] { same_org.run(); }).round_trips == 3);  // the org is set already
  tx.rollback();
  CHECK(tokens.count(db.a) == 1);
}

TEST_CASE("batch: without server-side preparation (PgBouncer's transaction mode) still one round trip",
          "[pg][batch][rls]") {
  RlsDatabase db;
  pg::Connection conn(db.owner_url(), pg::Options{.server_prepared = false, .org_context = true});
  Repository<ApiToken, PgDialect> tokens{conn};
  const ApiToken row = tokens.insert(db.a, token("row"));
  Batch batch(conn, db.a);
  batch.insert(token("one"));
  batch.set(row.id, &ApiToken::name, std::string("set"));
  const Traffic t = traffic(conn, [&] { batch.run(); });
  CHECK(t.round_trips == 1);
  CHECK(t.statements == 5);
  CHECK(tokens.find(db.a, row.id)->name == "set");
  CHECK(tokens.count(db.a) == 2);
}

TEST_CASE("batch: schema per org: one round trip in the org's schema; an org without one is refused, nothing written",
          "[pg][batch][org_schema]") {
  using B = parity::PostgresOrgSchemas;
  B::Conn conn = B::open();
  const OrgId a = parity::add_org(conn, "acme"), b = parity::add_org(conn, "globex");
  Repository<ApiToken, PgDialect> tokens{conn};
  {
    Batch warm(conn, a);  // prepared in org a's schema, where the table is
    warm.insert(token("warm"));
    warm.run();
  }
  for (const OrgId& org : {a, b, a}) {
    Batch batch(conn, org);
    batch.insert(token("one"));  // the same prefix in both orgs: each its own table
    batch.insert(token("two-" + org.to_string()));
    const Traffic t = traffic(conn, [&] {
      if (org == a && tokens.count(a) > 1) CHECK_THROWS_AS(batch.run(), UniqueViolation);
      else batch.run();
    });
    CHECK(t.round_trips >= 1);
  }
  Batch batch(conn, b);
  batch.insert(token("three"));
  CHECK(traffic(conn, [&] { batch.run(); }).round_trips == 1);
  CHECK(tokens.count(a) == 3);
  CHECK(tokens.count(b) == 3);
  CHECK(text(conn, "SELECT current_setting('search_path')") == "\"$user\", public");

  const OrgId nowhere = OrgId::random();  // never provisioned
  Batch refused(conn, nowhere);
  refused.insert(token("lost"));
  CHECK_THROWS_AS(refused.run(), OrgNotProvisioned);
  CHECK(PQtransactionStatus(conn.native()) == PQTRANS_IDLE);
  CHECK(scalar(conn, "SELECT count(*) FROM public.api_tokens") == 6);  // the view over every org's table
}

TEST_CASE("batch: a statement observer is told of each pipelined statement, with the batch's org",
          "[pg][batch][observe]") {
  RlsDatabase db;
  std::vector<std::pair<std::string, std::int64_t>> seen;  // (org, affected) of each statement
  std::vector<ErrorKind> errors;
  auto observer = std::make_shared<StatementObserver>(ObserverOptions{.on_statement = [&](const StatementEvent& e) {
    seen.emplace_back(e.org != nullptr ? e.org->to_string() : "", e.affected);
    errors.push_back(e.error);
  }});
  pg::Connection conn(db.owner_url(), pg::Options{.org_context = true});
  Repository<ApiToken, PgDialect> tokens{conn};
  const ApiToken row = tokens.insert(db.a, token("row"));
  {
    Batch warm(conn, db.a);
    warm.insert(token("warm"));
    warm.set(row.id, &ApiToken::name, std::string("warm"));
    warm.run();
  }
  conn.set_observer(observer);
  Batch batch(conn, db.a);
  batch.insert(token("one"));
  batch.set(row.id, &ApiToken::name, std::string("set"));
  batch.set(Uuid::random(), &ApiToken::name, std::string("nobody"));
  batch.run();
  REQUIRE(seen.size() == 3);
  for (const auto& [org, affected] : seen) CHECK(org == db.a.to_string());
  CHECK(seen[0].second == 1);
  CHECK(seen[1].second == 1);
  CHECK(seen[2].second == 0);
  for (ErrorKind k : errors) CHECK(k == ErrorKind::none);

  seen.clear();
  errors.clear();
  Batch failing(conn, db.a);
  failing.insert(token("two"));
  failing.insert(token("one"));  // taken
  CHECK_THROWS_AS(failing.run(), UniqueViolation);
  REQUIRE(seen.size() == 1);  // the failed statement; the one before it was rolled back with it
  CHECK(errors[0] == ErrorKind::unique_violation);
  CHECK(seen[0].first == db.a.to_string());
}

TEST_CASE("batch: a server session that lost the batch's statements: prepared again, run once more, written once",
          "[pg][batch]") {
  RlsDatabase db;
  pg::Connection conn(db.owner_url(), pg::Options{.org_context = true});
  Repository<ApiToken, PgDialect> tokens{conn};
  const ApiToken row = tokens.insert(db.a, token("row"));
  {
    Batch warm(conn, db.a);
    warm.insert(token("warm"));
    warm.set(row.id, &ApiToken::name, std::string("warm"));
    warm.run();
  }
  conn.execute("DEALLOCATE ALL");  // the server forgets them; the connection does not know
  const auto lost = conn.statement_stats().lost;
  Batch batch(conn, db.a);
  batch.insert(token("one"));
  batch.set(row.id, &ApiToken::name, std::string("set"));
  const BatchResult done = batch.run();
  CHECK(done.changed(0));
  CHECK(done.changed(1));
  CHECK(conn.statement_stats().lost > lost);
  CHECK(tokens.count(db.a) == 3);
  CHECK(tokens.find(db.a, row.id)->name == "set");
  CHECK(PQtransactionStatus(conn.native()) == PQTRANS_IDLE);
  // Prepared again: the next batch is one round trip.
  Batch next(conn, db.a);
  next.insert(token("two"));
  next.set(row.id, &ApiToken::name, std::string("again"));
  CHECK(traffic(conn, [&] { next.run(); }).round_trips == 1);
  CHECK(tokens.count(db.a) == 4);
}

}  // namespace pg_batch_test
