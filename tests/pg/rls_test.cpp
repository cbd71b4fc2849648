// Row-level security on PostgreSQL: the database's own wall behind the type-level org scoping.
// Tables are created by a role that is neither superuser nor BYPASSRLS (superusers ignore every
// policy, FORCE or not), so the tests see what a real application role sees.
#include "queries/entities.hpp"
#include "support/entities.hpp"
#include "support/expect_throw.hpp"
#include "support/pg_database.hpp"
#include "support/platform_entities.hpp"
#include "support/pg_scalar.hpp"
#include "support/pg_traffic.hpp"

#include <tenantry/pool.hpp>
#include <tenantry/postgres.hpp>
#include <tenantry/select.hpp>

#include <catch2/catch.hpp>

#include <libpq-fe.h>

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

using namespace tenantry;
using testdb::scalar;
using testdb::text;
using testdb::texts;
using Catch::Matchers::Contains;
using testdb::expect_throw;
using fixtures::ApiToken;
using fixtures::Organization;

namespace {

constexpr const char* owner_role = "tenantry_rls_owner";
constexpr const char* reader_role = "tenantry_rls_reader";

using tenantry_test::as_role;  // support/pg_database.hpp

ApiToken token(const std::string& prefix) {
  return ApiToken{Uuid::random(), OrgId{}, "u1", "n", prefix, "h", "s", fixtures::TokenStatus::active, std::nullopt,
                  Timestamp::now(), Timestamp::now()};
}

struct RlsDatabase {
  std::string url = tenantry_test::pg_url();
  OrgId a = OrgId::random(), b = OrgId::random();

  RlsDatabase() {
    pg::Connection admin(url);
    for (const char* role : {owner_role, reader_role}) {
      admin.execute(std::string("DO $$ BEGIN CREATE ROLE ") + role +
                    " LOGIN NOSUPERUSER NOBYPASSRLS; EXCEPTION WHEN duplicate_object THEN NULL; END $$");
    }
    admin.execute(std::string("GRANT ALL ON SCHEMA public TO ") + owner_role + "; GRANT USAGE ON SCHEMA public TO " +
                  reader_role);
    pg::Connection owner(as_role(url, owner_role));
    create_tables<Organization, ApiToken>(owner, DdlOptions{.row_level_security = true});
    owner.execute(std::string("GRANT SELECT, INSERT ON api_tokens TO ") + reader_role);
    Repository<Organization, PgDialect> orgs{owner};
    for (auto [org, slug] : {std::pair{a, "acme"}, std::pair{b, "globex"}}) {
      Organization o{org.value, slug, slug, fixtures::OrgStatus::active, {}, Timestamp::now()};
      orgs.insert(o);
    }
  }
};

}  // namespace

TEST_CASE("row-level security: repositories set the org per transaction", "[pg][tenancy][rls]") {
  RlsDatabase db;
  pg::Connection owner(as_role(db.url, owner_role), pg::Options{.org_context = true});
  Repository<ApiToken, PgDialect> tokens{owner};
  ApiToken ta = token("shared"), tb = token("shared");
  tokens.insert(db.a, ta);
  tokens.insert(db.b, tb);
  CHECK(tokens.count(db.a) == 1);
  CHECK(tokens.count(db.b) == 1);
  CHECK(tokens.find(db.a, ta.id).has_value());
  CHECK_FALSE(tokens.find(db.b, ta.id).has_value());

  // Nothing survives the operation's transaction: outside one the setting is empty again.
  CHECK(text(owner, "SELECT coalesce(current_setting('app.current_org_id', true), '')") == "");

  // Inside the caller's transaction, switching orgs switches what the policy allows.
  {
    auto tx = owner.transaction();
    CHECK(tokens.count(db.a) == 1);
    CHECK(tokens.count(db.b) == 1);
    CHECK(scalar(owner, "SELECT count(*) FROM api_tokens") == 1);  // the last org set: b
    tx.commit();
  }
  // A rolled-back savepoint takes its set_config with it; the next operation sets it again.
  {
    auto tx = owner.transaction();
    CHECK(tokens.count(db.a) == 1);
    {
      auto inner = owner.transaction();
      CHECK(tokens.count(db.b) == 1);
    }  // rolled back: the setting is a's again on the server
    CHECK(tokens.count(db.b) == 1);
    tx.commit();
  }
}

TEST_CASE("row-level security: FORCE covers the owner, and without an org reads and writes fail loudly",
          "[pg][tenancy][rls]") {
  RlsDatabase db;
  {
    pg::Connection owner(as_role(db.url, owner_role), pg::Options{.org_context = true});
    Repository<ApiToken, PgDialect> tokens{owner};
    tokens.insert(db.a, token("p1"));
    tokens.insert(db.b, token("p2"));
  }
  // The owner without org context: raw SQL and repositories fail (they used to see no rows,
  // which a service cannot tell from an empty org), and cannot write.
  pg::Connection owner(as_role(db.url, owner_role));
  const auto no_org = expect_throw<OrgContextMissing>([&] { scalar(owner, "SELECT count(*) FROM api_tokens"); });
  CHECK(no_org.code() == "42704");
  CHECK_THAT(no_org.what(), Contains("no org context") && Contains("app.current_org_id"));
  Repository<ApiToken, PgDialect> tokens{owner};
  CHECK_THROWS_AS(tokens.count(db.a), OrgContextMissing);
  CHECK_THROWS_AS(tokens.list(db.a), OrgContextMissing);
  CHECK_THROWS_AS(tokens.insert(db.a, token("p3")), OrgContextMissing);
  // An empty setting is as good as none, not a match for every row (nor for none).
  {
    auto tx = owner.transaction();
    owner.execute("SELECT set_config('app.current_org_id', '', true)");
    CHECK_THROWS_AS(scalar(owner, "SELECT count(*) FROM api_tokens"), OrgContextMissing);
  }
  // Once a transaction set the org, the session's setting is '' afterwards: still loud.
  {
    auto tx = owner.transaction();
    owner.execute("SELECT set_config('app.current_org_id', '" + db.a.to_string() + "', true)");
    CHECK(scalar(owner, "SELECT count(*) FROM api_tokens") == 1);
    tx.commit();
  }
  CHECK(text(owner, "SELECT current_setting('app.current_org_id')") == "");
  CHECK_THROWS_AS(scalar(owner, "SELECT count(*) FROM api_tokens"), OrgContextMissing);
  // The name the policy reads in place of a missing org cannot be set by a session.
  CHECK_THROWS_AS(owner.execute("SELECT set_config('" + std::string(org_setting_missing) + "', '" +
                                db.b.to_string() + "', false)"),
                  DatabaseError);
}

TEST_CASE("row-level security: the policy reads the org once per statement (InitPlan), as an index condition",
          "[pg][tenancy][rls]") {
  RlsDatabase db;
  pg::Connection owner(as_role(db.url, owner_role), pg::Options{.org_context = true});
  Repository<ApiToken, PgDialect> tokens{owner};
  tokens.insert(db.a, token("p1"));
  auto tx = owner.transaction();
  owner.execute("SELECT set_config('app.current_org_id', '" + db.a.to_string() + "', true); SET LOCAL enable_seqscan = off");
  std::string plan;
  {
    pg::Statement& st = owner.prepare(intern_sql("EXPLAIN SELECT count(*) FROM api_tokens"));
    pg::StatementScope scope(st);
    while (st.step()) plan += std::string(st.column_text(0)) + "\n";
  }
  INFO(plan);
  CHECK_THAT(plan, Contains("InitPlan"));
  CHECK_THAT(plan, Contains("Index Cond: (org_id = $0)"));
  CHECK_THAT(plan, !Contains("current_setting"));  // nowhere per row
}

TEST_CASE("row-level security: a non-owner role sees only the current org", "[pg][tenancy][rls]") {
  RlsDatabase db;
  {
    pg::Connection owner(as_role(db.url, owner_role), pg::Options{.org_context = true});
    Repository<ApiToken, PgDialect> tokens{owner};
    tokens.insert(db.a, token("a1"));
    tokens.insert(db.a, token("a2"));
    tokens.insert(db.b, token("b1"));
  }
  pg::Connection reader(as_role(db.url, reader_role));
  CHECK_THROWS_AS(scalar(reader, "SELECT count(*) FROM api_tokens"), OrgContextMissing);  // no org set
  {
    auto tx = reader.transaction();
    reader.execute("SELECT set_config('app.current_org_id', '" + db.a.to_string() + "', true)");
    CHECK(scalar(reader, "SELECT count(*) FROM api_tokens") == 2);
    CHECK(scalar(reader, "SELECT count(*) FROM api_tokens WHERE org_id = '" + db.b.to_string() + "'") == 0);
    // Writing a row of another org violates the policy's WITH CHECK.
    CHECK_THROWS_AS(reader.execute("INSERT INTO api_tokens (id, org_id, user_id, name, token_prefix, token_hash, scopes, "
                                   "status, created_at, updated_at) VALUES (gen_random_uuid(), '" +
                                   db.b.to_string() + "', 'u', 'n', 'x', 'h', 's', 'active', now(), now())"),
                    DatabaseError);
  }
  CHECK_THROWS_AS(scalar(reader, "SELECT count(*) FROM api_tokens"), OrgContextMissing);
}

TEST_CASE("row-level security: insert_many of many rows under FORCE (no COPY: it refuses such tables)",
          "[pg][tenancy][rls][insert_many]") {
  RlsDatabase db;
  pg::Connection owner(as_role(db.url, owner_role), pg::Options{.org_context = true});
  Repository<ApiToken, PgDialect> tokens{owner};
  std::vector<ApiToken> rows;
  for (int i = 0; i < 700; ++i) rows.push_back(token("p" + std::to_string(i)));
  tokens.insert_many(db.a, rows);
  CHECK(tokens.count(db.a) == 700);
  CHECK(tokens.count(db.b) == 0);
  CHECK(tokens.find(db.a, rows[699].id)->token_prefix == "p699");
  // find_many's one statement under the policy: org a's keys, asked as org b, find nothing.
  std::vector<Uuid> ids;
  for (const ApiToken& t : rows) ids.push_back(t.id);
  CHECK(tokens.find_many(db.a, ids).size() == 700);
  CHECK(tokens.find_many(db.b, ids).empty());
  // All or nothing under the policy too: a duplicate prefix in the last batch undoes the rest.
  std::vector<ApiToken> more;
  for (int i = 0; i < 300; ++i) more.push_back(token("q" + std::to_string(i)));
  more[299].token_prefix = "q0";
  CHECK_THROWS_AS(tokens.insert_many(db.b, more), UniqueViolation);
  CHECK(tokens.count(db.b) == 0);
  CHECK(tokens.count(db.a) == 700);
}

// ---- one round trip: a one-statement operation sends its org with it ------------------------------

namespace {

using tenantry_test::Traffic;  // support/pg_traffic.hpp
using tenantry_test::traffic;

std::vector<ApiToken> tokens_named(const std::string& prefix, int n) {
  std::vector<ApiToken> rows;
  for (int i = 0; i < n; ++i) rows.push_back(token(prefix + std::to_string(i)));
  return rows;
}

}  // namespace

TEST_CASE("row-level security: a one-statement insert_many goes with its org in one round trip, scoped to it",
          "[pg][tenancy][rls][insert_many]") {
  RlsDatabase db;
  pg::Connection owner(as_role(db.url, owner_role), pg::Options{.org_context = true});
  Repository<ApiToken, PgDialect> tokens{owner};
  auto warm = tokens_named("w", 3);
  tokens.insert_many(db.a, warm);  // prepares the statement (its own round trip, once)

  auto a_rows = tokens_named("a", 40);
  const Traffic t = traffic(owner, [&] { tokens.insert_many(db.a, a_rows); });
  // set_config and the INSERT in one pipeline: one round trip, two statements (it was six round
  // trips: BEGIN, set_config, SAVEPOINT, INSERT, RELEASE, COMMIT).
  CHECK(t.round_trips == 1);
  CHECK(t.statements == 2);
  CHECK(tokens.count(db.a) == 43);
  CHECK(tokens.count(db.b) == 0);
  // The setting ended with the statement's implicit transaction: the session holds no org.
  CHECK(text(owner, "SELECT coalesce(current_setting('app.current_org_id', true), '')") == "");
  CHECK_THROWS_AS(scalar(owner, "SELECT count(*) FROM api_tokens"), OrgContextMissing);

  // Orgs interleaved on one connection: each batch lands in its own org only, even where the
  // other org's keys are asked for.
  for (int round = 0; round < 3; ++round) {
    auto rb = tokens_named("b" + std::to_string(round) + "-", 5);
    auto ra = tokens_named("a" + std::to_string(round) + "-", 5);
    tokens.insert_many(db.b, rb);
    tokens.insert_many(db.a, ra);
    CHECK_FALSE(tokens.find(db.a, rb[0].id).has_value());
    CHECK_FALSE(tokens.find(db.b, ra[0].id).has_value());
    CHECK(tokens.find(db.b, rb[4].id).has_value());
  }
  CHECK(tokens.count(db.a) == 58);
  CHECK(tokens.count(db.b) == 15);
  // A row claiming the other org is refused before anything is sent.
  auto wrong = tokens_named("x", 2);
  wrong[1].org_id = db.b;
  CHECK_THROWS_AS(tokens.insert_many(db.a, wrong), OrgMismatch);
  CHECK(tokens.count(db.a) == 58);
  CHECK(tokens.count(db.b) == 15);

  // A failing batch writes nothing, and the connection goes on.
  auto dup = tokens_named("d", 4);
  dup[3].token_prefix = "d0";
  CHECK_THROWS_AS(tokens.insert_many(db.b, dup), UniqueViolation);
  CHECK(tokens.count(db.b) == 15);
  CHECK(text(owner, "SELECT coalesce(current_setting('app.current_org_id', true), '')") == "");

  // Inside the caller's transaction the org is set in it (and a rollback undoes the batch).
  {
    auto tx = owner.transaction();
    auto in_tx = tokens_named("t", 4);
    tokens.insert_many(db.b, in_tx);
    CHECK(scalar(owner, "SELECT count(*) FROM api_tokens") == 19);  // the transaction's org: b
  }
  CHECK(tokens.count(db.b) == 15);
}

TEST_CASE("row-level security: every one-statement operation goes with its org in one round trip, scoped to it",
          "[pg][tenancy][rls]") {
  RlsDatabase db;
  pg::Connection owner(as_role(db.url, owner_role), pg::Options{.org_context = true});
  Repository<ApiToken, PgDialect> tokens{owner};
  const auto pred = col(&ApiToken::user_id) == std::string("u1");
  const auto conflict = on_conflict(&ApiToken::org_id, &ApiToken::token_prefix).update(only(&ApiToken::name));
  ApiToken a1 = token("a1"), a2 = token("a2"), b1 = token("b1");
  // Each operation runs twice: first to prepare its statement (a round trip of its own, once per
  // connection), then traced.
  const auto every = [&](bool measured, std::vector<std::pair<std::string, Traffic>>& out) {
    const auto run = [&](const char* name, auto&& f) {
      if (measured) out.emplace_back(name, traffic(owner, f));
      else f();
    };
    ApiToken fresh = token(measured ? "a3" : "w3");
    run("insert", [&] { tokens.insert(db.a, fresh); });
    run("find", [&] { CHECK(tokens.find(db.a, a1.id).has_value()); });
    run("find_many", [&] { CHECK(tokens.find_many(db.a, std::vector<Uuid>{a1.id, b1.id}).size() == 1); });
    run("list", [&] { CHECK(tokens.list(db.a, pred).size() == 3); });
    run("count", [&] { CHECK(tokens.count(db.a) == 3); });
    run("exists", [&] { CHECK(tokens.exists(db.a, pred)); });
    a1.name = measured ? "renamed" : "warm";
    run("update", [&] { CHECK(tokens.update(db.a, a1)); });
    run("set", [&] { CHECK(tokens.set(db.a, a1.id, &ApiToken::scopes, std::string("read"))); });
    run("upsert", [&] { tokens.upsert(db.a, a2, conflict); });
    run("put", [&] { tokens.put(db.a, a2, conflict); });
    run("update_where", [&] {
      CHECK(tokens.update_where(db.a, pred, assign(col(&ApiToken::name), std::string("all"))) == 3);
    });
    run("fetch", [&] {
      const auto per_user = select(col(&ApiToken::user_id), count()).from<ApiToken>().group_by(col(&ApiToken::user_id));
      const auto rows = fetch(owner, db.a, per_user);
      REQUIRE(rows.size() == 1);
      CHECK(std::get<1>(rows[0]) == 3);
    });
    run("erase", [&] { CHECK(tokens.erase(db.a, fresh.id)); });
    run("erase_where", [&] {
      CHECK(tokens.erase_where(db.a, col(&ApiToken::token_prefix) == std::string("none")) == 0);
    });
  };
  tokens.insert(db.a, a1);
  tokens.insert(db.a, a2);
  tokens.insert(db.b, b1);
  std::vector<std::pair<std::string, Traffic>> warm, measured;
  every(false, warm);
  every(true, measured);
  // set_config and the statement in one pipeline: one round trip, two statements (it was four
  // round trips: BEGIN, set_config, the statement, COMMIT).
  for (const auto& [name, t] : measured) {
    INFO(name);
    CHECK(t.round_trips == 1);
    CHECK(t.statements == 2);
  }
  // Org b's row was never touched, and the session holds no org between operations.
  const std::optional<ApiToken> b_row = tokens.find(db.b, b1.id);
  REQUIRE(b_row.has_value());
  CHECK(b_row->name == "n");
  CHECK(tokens.count(db.b) == 1);
  CHECK(text(owner, "SELECT coalesce(current_setting('app.current_org_id', true), '')") == "");
  CHECK_THROWS_AS(scalar(owner, "SELECT count(*) FROM api_tokens"), OrgContextMissing);
  // Org a cannot reach b's row through any of them.
  CHECK_FALSE(tokens.find(db.a, b1.id).has_value());
  CHECK_FALSE(tokens.erase(db.a, b1.id));
  ApiToken b_as_a = b1;
  b_as_a.org_id = OrgId{};
  CHECK_FALSE(tokens.update(db.a, b_as_a));
  CHECK(tokens.find(db.b, b1.id)->name == "n");
  // A failing statement is the typed error, writes nothing, and the connection goes on.
  ApiToken dup = token("a2");
  CHECK_THROWS_AS(tokens.insert(db.a, dup), UniqueViolation);
  CHECK(tokens.count(db.a) == 2);
  CHECK(text(owner, "SELECT coalesce(current_setting('app.current_org_id', true), '')") == "");
}

TEST_CASE("pipeline_org: one statement only; a second, a transaction or a stream is refused, never run without the org",
          "[pg][tenancy][rls]") {
  RlsDatabase db;
  pg::Connection owner(as_role(db.url, owner_role), pg::Options{.org_context = true});
  Repository<ApiToken, PgDialect> tokens{owner};
  ApiToken ta = token("one");
  tokens.insert(db.a, ta);
  REQUIRE(owner.org_statement_pipelined(db.a));
  {
    const auto pipelined = owner.pipeline_org(db.a);
    CHECK(scalar(owner, "SELECT count(*) FROM api_tokens") == 1);  // in org a
    const Traffic second = traffic(owner, [&] {
      CHECK_THROWS_AS(scalar(owner, "SELECT count(*) FROM api_tokens"), UsageError);
      CHECK_THROWS_AS(owner.transaction(), UsageError);
    });
    CHECK(second.statements == 0);
  }
  // Over: statements run as before (without an org, the policy refuses them).
  CHECK_THROWS_AS(scalar(owner, "SELECT count(*) FROM api_tokens"), OrgContextMissing);
  // Not on connections without org_context, nor inside a transaction.
  {
    auto tx = owner.transaction();
    CHECK_FALSE(owner.org_statement_pipelined(db.a));
  }
  pg::Connection plain(as_role(db.url, owner_role));
  CHECK_FALSE(plain.org_statement_pipelined(db.a));
  CHECK_THROWS_AS(plain.pipeline_org(db.a), UsageError);
}

TEST_CASE("insert_many of one statement outside a transaction: no BEGIN and COMMIT round trips", "[pg][insert_many]") {
  RlsDatabase db;
  pg::Connection owner(as_role(db.url, owner_role));
  Repository<Organization, PgDialect> orgs{owner};
  const auto org_rows = [](const std::string& prefix) {
    std::vector<Organization> rows;
    for (int i = 0; i < 20; ++i) {
      const std::string slug = prefix + std::to_string(i);
      rows.push_back(Organization{Uuid::random(), slug, slug, fixtures::OrgStatus::active, {}, Timestamp::now()});
    }
    return rows;
  };
  auto warm = org_rows("warm");
  orgs.insert_many(warm);
  auto rows = org_rows("one");
  const Traffic t = traffic(owner, [&] { orgs.insert_many(rows); });
  CHECK(t.round_trips == 1);
  CHECK(t.statements == 1);
  CHECK(orgs.count() == 42);
  // Still all or nothing: a duplicate slug in the batch writes none of it.
  auto dup = org_rows("dup");
  dup[19].slug = "dup0";
  CHECK_THROWS_AS(orgs.insert_many(dup), UniqueViolation);
  CHECK(orgs.count() == 42);
}

// ---- verify_rls: the live catalog against the generated policies ---------------------------------

namespace {

/// The problems verify_rls reports, one "table: problem" line each.
std::vector<std::string> problems(pg::Connection& c, const std::vector<const TableInfo*>& tables,
                                  const pg::RlsVerifyOptions& opt = {}) {
  std::vector<std::string> out;
  for (const RlsMismatch& m : pg::rls_mismatches(c, tables, opt))
    out.push_back((m.table.empty() ? std::string("role") : m.table) + ": " + m.problem);
  return out;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

const std::vector<const TableInfo*> rls_tables{&table_info<Organization>(), &table_info<ApiToken>()};

}  // namespace

TEST_CASE("verify_rls: a database as generated, seen by a role the policies bind, passes", "[pg][tenancy][rls][verify]") {
  RlsDatabase db;
  pg::Connection reader(as_role(db.url, reader_role), pg::Options{.org_context = true});
  CHECK(problems(reader, rls_tables).empty());
  pg::verify_rls<Organization, ApiToken>(reader);  // does not throw
  // Nothing is left behind by the check (its probe tables were rolled back).
  CHECK(scalar(reader, "SELECT count(*) FROM pg_catalog.pg_class WHERE relname LIKE 'tenantry_rls_probe%'") == 0);
  // And inside a transaction of the caller, which stays usable.
  {
    auto tx = reader.transaction();
    pg::verify_rls<ApiToken>(reader);
    Repository<ApiToken, PgDialect> tokens{reader};
    tokens.insert(db.a, token("in-tx"));
    tx.commit();
  }
  Repository<ApiToken, PgDialect> tokens{reader};
  CHECK(tokens.count(db.a) == 1);
}

TEST_CASE("verify_rls: every mismatch is reported, all at once", "[pg][tenancy][rls][verify]") {
  RlsDatabase db;
  pg::Connection admin(db.url);
  pg::Connection owner(as_role(db.url, owner_role));
  pg::Connection reader(as_role(db.url, reader_role));

  SECTION("connected as the owner") {
    const auto p = problems(owner, rls_tables);
    INFO(joined(p));
    REQUIRE(p.size() == 1);
    CHECK_THAT(p[0], Contains("api_tokens: the connected role is (a member of) its owner tenantry_rls_owner"));
  }
  SECTION("connected as a member of the owner") {
    admin.execute(std::string("GRANT ") + owner_role + " TO " + reader_role);
    const auto p = problems(reader, rls_tables);
    admin.execute(std::string("REVOKE ") + owner_role + " FROM " + reader_role);
    INFO(joined(p));
    REQUIRE(p.size() == 1);
    CHECK_THAT(p[0], Contains("its owner tenantry_rls_owner"));
  }
  SECTION("connected as a superuser") {
    const auto p = problems(admin, rls_tables);
    INFO(joined(p));
    CHECK_THAT(joined(p), Contains("is a superuser: PostgreSQL applies no row-level security policy to it"));
  }
  SECTION("connected as a BYPASSRLS role") {
    admin.execute("DO $$ BEGIN CREATE ROLE tenantry_rls_bypass LOGIN NOSUPERUSER BYPASSRLS; "
                  "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$");
    admin.execute("GRANT USAGE ON SCHEMA public TO tenantry_rls_bypass");
    pg::Connection bypass(as_role(db.url, "tenantry_rls_bypass"));
    const auto p = problems(bypass, rls_tables);
    INFO(joined(p));
    REQUIRE(p.size() == 1);
    CHECK(p[0] == "role: tenantry_rls_bypass has BYPASSRLS: PostgreSQL applies no row-level security policy to it");
  }
  SECTION("row-level security turned off, FORCE off, the policy edited, an extra policy") {
    owner.execute("ALTER TABLE api_tokens NO FORCE ROW LEVEL SECURITY");
    CHECK_THAT(joined(problems(reader, rls_tables)), Contains("api_tokens: FORCE ROW LEVEL SECURITY is off"));
    owner.execute("ALTER TABLE api_tokens DISABLE ROW LEVEL SECURITY");
    CHECK_THAT(joined(problems(reader, rls_tables)), Contains("api_tokens: ROW LEVEL SECURITY is not enabled"));
    owner.execute("ALTER TABLE api_tokens ENABLE ROW LEVEL SECURITY; ALTER TABLE api_tokens FORCE ROW LEVEL SECURITY");
    CHECK(problems(reader, rls_tables).empty());
    // The policy as it was generated before: an unset org read as NULL, i.e. silently no rows.
    owner.execute("ALTER POLICY api_tokens_org_isolation ON api_tokens USING (org_id = "
                  "CAST(NULLIF(current_setting('app.current_org_id', true), '') AS UUID))");
    auto p = problems(reader, rls_tables);
    INFO(joined(p));
    REQUIRE(p.size() == 1);
    CHECK_THAT(p[0], Contains("policy api_tokens_org_isolation USING (org_id = (NULLIF(") &&
                         Contains(", expected (org_id = ( SELECT"));
    owner.execute("ALTER POLICY api_tokens_org_isolation ON api_tokens WITH CHECK (true)");
    p = problems(reader, rls_tables);
    CHECK(p.size() == 2);
    CHECK_THAT(joined(p), Contains("WITH CHECK true, expected"));
    owner.execute("CREATE POLICY support_reads_all ON api_tokens FOR SELECT USING (true)");
    owner.execute("CREATE POLICY narrow ON api_tokens AS RESTRICTIVE USING (user_id <> 'x')");
    p = problems(reader, rls_tables);
    INFO(joined(p));
    CHECK(p.size() == 4);
    CHECK_THAT(joined(p), Contains("policy support_reads_all (PERMISSIVE FOR SELECT TO public USING true) is not one "
                                   "tenantry generates: permissive policies add up, so it widens access"));
    CHECK_THAT(joined(p), Contains("policy narrow (RESTRICTIVE FOR ALL"));
    // verify_rls throws them all in one typed error.
    const auto e = expect_throw<RlsNotEnforced>([&] { pg::verify_rls(reader, rls_tables); });
    CHECK(e.mismatches().size() == 4);
    CHECK_THAT(e.what(), Contains("(4 problems)") && Contains("support_reads_all") && Contains("narrow"));
  }
  SECTION("the policy dropped, a table missing") {
    owner.execute("DROP POLICY api_tokens_org_isolation ON api_tokens");
    TableInfo ghost = table_info<ApiToken>();
    ghost.name = "ghost_tokens";
    const auto p = problems(reader, {&table_info<ApiToken>(), &ghost});
    INFO(joined(p));
    REQUIRE(p.size() == 2);
    CHECK(p[0] == "api_tokens: no policy api_tokens_org_isolation");
    CHECK(p[1] == "ghost_tokens: no such table in schema public");
  }
}

TEST_CASE("verify_rls: a table scoped through its parent gets an EXISTS policy, checked like the others",
          "[pg][tenancy][rls][verify][through]") {
  RlsDatabase db;
  pg::Connection owner(as_role(db.url, owner_role));
  create_tables<qfx::Account, qfx::Member, qfx::MemberSecret, qfx::SecretHistory>(owner, DdlOptions{.row_level_security = true});
  owner.execute(std::string("GRANT SELECT, INSERT, UPDATE, DELETE ON q_accounts, q_members, q_member_secrets, q_secret_history TO ") +
                reader_role);
  pg::Connection reader(as_role(db.url, reader_role), pg::Options{.org_context = true});
  const std::vector<const TableInfo*> tables{&table_info<qfx::Member>(), &table_info<qfx::MemberSecret>(),
                                             &table_info<qfx::SecretHistory>()};
  {
    const auto p = problems(reader, tables);
    INFO(joined(p));
    CHECK(p.empty());
  }
  CHECK(scalar(reader, "SELECT count(*) FROM pg_catalog.pg_class WHERE relname LIKE 'tenantry_rls_chain%'") == 0);
  // The policy reaches the org through the parent: each org sees its own secrets only, with
  // plain SQL too; without an org a read that meets a row fails loudly.
  Repository<qfx::Account, PgDialect> accounts{reader};
  Repository<qfx::Member, PgDialect> members{reader};
  Repository<qfx::MemberSecret, PgDialect> secrets{reader};
  Repository<qfx::SecretHistory, PgDialect> history{reader};
  const qfx::Account acc = accounts.insert(qfx::Account{Uuid::random(), "x@example.test"});
  for (const OrgId& org : {db.a, db.b}) {
    const qfx::Member m = members.insert(org, qfx::Member{Uuid::random(), {}, acc.id, "m"});
    const qfx::MemberSecret sec = secrets.insert(org, qfx::MemberSecret{Uuid::random(), m.id, "h", 1});
    history.insert(org, qfx::SecretHistory{Uuid::random(), sec.id, "old"});
  }
  for (const OrgId& org : {db.a, db.b}) {
    CHECK(in_org_context(reader, org, [&] { return scalar(reader, "SELECT count(*) FROM q_member_secrets"); }) == 1);
    CHECK(in_org_context(reader, org, [&] { return scalar(reader, "SELECT count(*) FROM q_secret_history"); }) == 1);
  }
  pg::Connection plain(as_role(db.url, reader_role));
  CHECK_THROWS_AS(scalar(plain, "SELECT count(*) FROM q_member_secrets"), OrgContextMissing);
  // A hand-written policy that forgets the parent's org is reported.
  owner.execute("ALTER POLICY q_member_secrets_org_isolation ON q_member_secrets USING "
                "(EXISTS (SELECT 1 FROM q_members p WHERE p.id = q_member_secrets.member_id))");
  const auto p = problems(reader, tables);
  INFO(joined(p));
  REQUIRE(p.size() == 1);
  CHECK_THAT(p[0], Contains("q_member_secrets: policy q_member_secrets_org_isolation USING (EXISTS") &&
                       Contains(", expected (EXISTS"));
}

TEST_CASE("row-level security TO a role: it binds that role, verify_rls checks it", "[pg][tenancy][rls][verify]") {
  const std::string url = tenantry_test::pg_url();
  pg::Connection admin(url);
  for (const char* role : {owner_role, reader_role, "tenantry_rls_outsider"}) {
    admin.execute(std::string("DO $$ BEGIN CREATE ROLE ") + role +
                  " LOGIN NOSUPERUSER NOBYPASSRLS; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$");
  }
  admin.execute(std::string("GRANT ALL ON SCHEMA public TO ") + owner_role +
                "; GRANT USAGE ON SCHEMA public TO tenantry_rls_reader, tenantry_rls_outsider");
  pg::Connection owner(as_role(url, owner_role));
  const DdlOptions ddl{.row_level_security = true, .rls_role = reader_role};
  const auto statements = create_statements<ApiToken, PgDialect>(ddl);
  CHECK(statements.back().starts_with(
      "CREATE POLICY \"api_tokens_org_isolation\" ON \"api_tokens\" TO \"tenantry_rls_reader\" USING ("));
  create_tables<Organization, ApiToken>(owner, ddl);
  owner.execute("GRANT SELECT, INSERT ON api_tokens TO tenantry_rls_reader, tenantry_rls_outsider");
  const OrgId org = OrgId::random();
  {
    Repository<Organization, PgDialect> orgs{owner};
    Organization o{org.value, "acme", "acme", fixtures::OrgStatus::active, {}, Timestamp::now()};
    orgs.insert(o);
  }

  pg::Connection reader(as_role(url, reader_role), pg::Options{.org_context = true});
  Repository<ApiToken, PgDialect> tokens{reader};
  tokens.insert(org, token("r1"));
  CHECK(tokens.count(org) == 1);
  const pg::RlsVerifyOptions opt{.rls_role = reader_role};
  CHECK(problems(reader, rls_tables, opt).empty());
  // Compared with PUBLIC policies, the roles differ.
  CHECK(joined(problems(reader, rls_tables)) ==
        "api_tokens: policy api_tokens_org_isolation applies TO tenantry_rls_reader, not public\n");

  // A role the policy does not name sees no row at all (default deny), and verify_rls says why.
  pg::Connection outsider(as_role(url, "tenantry_rls_outsider"), pg::Options{.org_context = true});
  CHECK(Repository<ApiToken, PgDialect>{outsider}.count(org) == 0);
  CHECK(joined(problems(outsider, rls_tables, opt)) ==
        "role: tenantry_rls_outsider is not a member of tenantry_rls_reader, the role the policies apply to: it "
        "would see and write no row of any org-scoped table\n");
  CHECK(joined(problems(outsider, rls_tables, {.rls_role = "tenantry_no_such_role"})) ==
        "role: the policies' role tenantry_no_such_role does not exist\n"
        "api_tokens: policy api_tokens_org_isolation applies TO tenantry_rls_reader, not tenantry_no_such_role\n");
}

// ---- platform rows (an optional org column): one policy, two scopes ------------------------------

namespace {

using platform_fixtures::AuditEvent;
using platform_fixtures::make_event;

/// RlsDatabase plus audit_events (org column optional) under row-level security, the reader
/// granted DML on both tables; rows: two of org a, one of org b, two of no org.
struct PlatformRlsDatabase : RlsDatabase {
  PlatformRlsDatabase() {
    pg::Connection owner(as_role(url, owner_role));
    owner.execute(platform_fixtures::events_schema<PgDialect>(DdlOptions{.row_level_security = true}));
    owner.execute(std::string("GRANT SELECT, INSERT, UPDATE, DELETE ON audit_events TO ") + reader_role +
                  "; GRANT SELECT, INSERT, UPDATE, DELETE ON api_tokens TO " + reader_role);
    pg::Connection app(as_role(url, reader_role), pg::Options{.org_context = true});
    Repository<AuditEvent, PgDialect> events{app};
    events.insert(a, make_event("a1", a));
    events.insert(a, make_event("a2", a));
    events.insert(b, make_event("b1", b));
    events.insert(platform, make_event("p1"));
    events.insert(platform, make_event("p2"));
  }
};

void set_platform(pg::Connection& c) {
  c.execute("SELECT set_config('app.platform_scope', 'on', true), set_config('app.current_org_id', '', true)");
}

}  // namespace

TEST_CASE("row-level security, platform rows: the platform context shows the rows of no org only, raw SQL too",
          "[pg][tenancy][rls][platform]") {
  PlatformRlsDatabase db;
  pg::Connection reader(as_role(db.url, reader_role));
  // No context: loud, as for every org-scoped table.
  CHECK_THROWS_AS(scalar(reader, "SELECT count(*) FROM audit_events"), OrgContextMissing);
  {
    auto tx = reader.transaction();
    set_platform(reader);
    CHECK(texts(reader, "SELECT code FROM audit_events ORDER BY code") == std::vector<std::string>{"p1", "p2"});
    CHECK(scalar(reader, "SELECT count(*) FROM audit_events WHERE org_id IS NOT NULL") == 0);
    // The platform context is no context for a table whose every row has an org.
    CHECK_THROWS_AS(scalar(reader, "SELECT count(*) FROM api_tokens"), OrgContextMissing);
  }
  {
    auto tx = reader.transaction();
    set_platform(reader);
    // WITH CHECK: no row of an org written in the platform context.
    CHECK_THROWS_AS(reader.execute("INSERT INTO audit_events (id, org_id, code, what, level) VALUES (gen_random_uuid(), '" +
                                   db.a.to_string() + "', 'in', 'w', 1)"),
                    DatabaseError);
  }
  {
    auto tx = reader.transaction();
    set_platform(reader);
    // A platform row cannot be moved into an org either.
    CHECK_THROWS_AS(reader.execute("UPDATE audit_events SET org_id = '" + db.a.to_string() + "'"), DatabaseError);
  }
  {
    auto tx = reader.transaction();
    reader.execute("SELECT set_config('app.current_org_id', '" + db.a.to_string() + "', true)");
    CHECK(texts(reader, "SELECT code FROM audit_events ORDER BY code") == std::vector<std::string>{"a1", "a2"});
    CHECK(scalar(reader, "SELECT count(*) FROM audit_events WHERE org_id IS NULL") == 0);
    CHECK_THROWS_AS(reader.execute("INSERT INTO audit_events (id, org_id, code, what, level) VALUES (gen_random_uuid(), "
                                   "NULL, 'in', 'w', 1)"),
                    DatabaseError);
  }
  {
    // Both set (only raw SQL can do that): the platform wins, never the union.
    auto tx = reader.transaction();
    reader.execute("SELECT set_config('app.platform_scope', 'on', true), set_config('app.current_org_id', '" +
                   db.a.to_string() + "', true)");
    CHECK(texts(reader, "SELECT code FROM audit_events ORDER BY code") == std::vector<std::string>{"p1", "p2"});
  }
  CHECK_THROWS_AS(scalar(reader, "SELECT count(*) FROM audit_events"), OrgContextMissing);
}

TEST_CASE("row-level security, platform rows: repositories switch between org and platform scope",
          "[pg][tenancy][rls][platform]") {
  PlatformRlsDatabase db;
  pg::Connection app(as_role(db.url, reader_role), pg::Options{.org_context = true});
  Repository<AuditEvent, PgDialect> events{app};
  Repository<ApiToken, PgDialect> tokens{app};
  CHECK(events.count(db.a) == 2);
  CHECK(events.count(platform) == 2);
  CHECK(events.count(db.b) == 1);
  {
    // One transaction, the scope changing per call: each statement sees its own scope only.
    auto tx = app.transaction();
    CHECK(events.list(platform).size() == 2);
    CHECK(events.list(db.a).size() == 2);
    tokens.insert(db.a, token("t1"));
    CHECK(events.count(platform) == 2);
    CHECK(tokens.count(db.a) == 1);
    CHECK(events.erase_where(platform, col(&AuditEvent::level) >= 0) == 2);
    CHECK(events.count(db.a) == 2);
    tx.rollback();
  }
  CHECK(events.count(platform) == 2);
  CHECK(fetch(app, platform, select(count()).from<AuditEvent>()) == std::vector<std::tuple<std::int64_t>>{{2}});
  CHECK(events.upsert(platform, make_event("p1"), on_conflict(&AuditEvent::org_id, &AuditEvent::code)).what == "what p1");
  CHECK(events.count(platform) == 2);
  // Raw SQL in the platform context: an unfiltered read sees the rows of no org only.
  struct Code {
    std::string code;
  };
  const auto raw = raw_query<Code>(app, platform, "SELECT code FROM audit_events ORDER BY code");
  REQUIRE(raw.size() == 2);
  CHECK(raw[0].code == "p1");
  CHECK(raw_execute(app, platform, "UPDATE audit_events SET level = $1", 5) == 2);
  CHECK(events.find(db.a, events.list(db.a).front().id)->level == 1);
  CHECK_THROWS_AS(raw_query<Code>(app, platform, "SELECT user_id AS code FROM api_tokens"), OrgContextMissing);
}

TEST_CASE("row-level security, platform rows: read once per statement; verify_rls accepts exactly the policy",
          "[pg][tenancy][rls][platform][verify]") {
  PlatformRlsDatabase db;
  pg::Connection owner(as_role(db.url, owner_role));
  pg::Connection reader(as_role(db.url, reader_role));
  {
    auto tx = reader.transaction();
    set_platform(reader);
    std::string plan;
    pg::Statement& st = reader.prepare(intern_sql("EXPLAIN SELECT count(*) FROM audit_events"));
    pg::StatementScope scope(st);
    while (st.step()) plan += std::string(st.column_text(0)) + "\n";
    INFO(plan);
    CHECK_THAT(plan, Contains("InitPlan"));
    CHECK_THAT(plan, !Contains("current_setting"));  // nowhere per row
  }
  const std::vector<const TableInfo*> tables{&table_info<ApiToken>(), &table_info<AuditEvent>()};
  CHECK(problems(reader, tables).empty());
  // The plain org policy on a table with platform rows: its rows of no org unreachable, reported.
  owner.execute("ALTER POLICY audit_events_org_isolation ON audit_events USING (org_id = "
                "(SELECT CAST(current_setting('app.current_org_id') AS UUID)))");
  const auto p = problems(reader, tables);
  INFO(joined(p));
  REQUIRE(p.size() == 1);
  CHECK_THAT(p[0], Contains("audit_events") && Contains("app.platform_scope"));
}

TEST_CASE("row-level security, platform rows: a pooled connection never carries a session-level platform scope",
          "[pg][tenancy][rls][platform][pool]") {
  PlatformRlsDatabase db;
  Pool<pg::Connection> pool{as_role(db.url, reader_role), {.size = 1, .connect = pg::Options{.org_context = true}}};
  {
    auto conn = pool.acquire();
    conn->execute("SELECT set_config('app.platform_scope', 'on', false)");  // raw SQL, session level
  }
  auto conn = pool.acquire();
  CHECK(text(*conn, "SELECT coalesce(current_setting('app.platform_scope', true), '')") == "");
  // So raw SQL in org a's context sees org a's rows, not the rows of no org.
  auto tx = conn->transaction();
  conn->set_org_context(db.a);
  CHECK(texts(*conn, "SELECT code FROM audit_events ORDER BY code") == std::vector<std::string>{"a1", "a2"});
}

TEST_CASE("row-level security, platform rows: a table scoped through audit_events; find_many, put, insert_many",
          "[pg][tenancy][rls][platform][parent]") {
  using platform_fixtures::EventNote;
  PlatformRlsDatabase db;
  {
    pg::Connection owner(as_role(db.url, owner_role));
    owner.execute(schema_sql<PgDialect, EventNote>(DdlOptions{.row_level_security = true}));
    owner.execute(std::string("GRANT SELECT, INSERT, UPDATE, DELETE ON event_notes TO ") + reader_role);
  }
  pg::Connection app(as_role(db.url, reader_role), pg::Options{.org_context = true});
  Repository<AuditEvent, PgDialect> events{app};
  Repository<EventNote, PgDialect> notes{app};
  const auto ids = [&](auto scope) {
    std::vector<Uuid> out;
    for (const auto& e : events.list(scope, order_by(&AuditEvent::code))) out.push_back(e.id);
    return out;
  };
  const auto of_a = ids(db.a), of_b = ids(db.b), of_platform = ids(platform);
  notes.insert(db.a, EventNote{Uuid::random(), of_a[0], "a"});
  CHECK_THROWS_AS(notes.insert(db.a, EventNote{Uuid::random(), of_platform[0], "steal"}), OrgMismatch);
  // The policy alone (raw SQL): in the platform context a note goes under a platform event only.
  CHECK(raw_execute(app, platform, "INSERT INTO event_notes (id, event_id, text) VALUES ($1, $2, 'p')", Uuid::random(),
                    of_platform[0]) == 1);
  CHECK_THROWS_AS(raw_execute(app, platform, "INSERT INTO event_notes (id, event_id, text) VALUES ($1, $2, 'x')",
                              Uuid::random(), of_a[0]),
                  DatabaseError);
  // (with an org, $1 is the org and the arguments follow)
  CHECK_THROWS_AS(raw_execute(app, db.b,
                              "INSERT INTO event_notes (id, event_id, text) VALUES ($2, $3, 'x' || CAST($1 AS TEXT))",
                              Uuid::random(), of_platform[1]),
                  DatabaseError);
  struct Text {
    std::string text;
  };
  // Unfiltered reads: only the policy decides (with an org, $1 is the org).
  const auto raw_texts = [&](auto scope) {
    constexpr bool is_platform = std::is_same_v<decltype(scope), PlatformScope>;
    const std::string sql = is_platform ? "SELECT text FROM event_notes ORDER BY text"
                                        : "SELECT text FROM event_notes WHERE CAST($1 AS UUID) IS NOT NULL ORDER BY text";
    std::vector<std::string> out;
    for (const auto& r : raw_query<Text>(app, scope, sql)) out.push_back(r.text);
    return out;
  };
  CHECK(raw_texts(platform) == std::vector<std::string>{"p"});
  CHECK(raw_texts(db.a) == std::vector<std::string>{"a"});
  CHECK(raw_texts(db.b).empty());
  const auto q = select(col(&EventNote::text)).from<EventNote>();
  CHECK(fetch(app, platform, q) == std::vector<std::tuple<std::string>>{{"p"}});
  CHECK(fetch(app, db.a, q) == std::vector<std::tuple<std::string>>{{"a"}});
  const std::vector<const TableInfo*> tables{&table_info<ApiToken>(), &table_info<AuditEvent>(), &table_info<EventNote>()};
  const auto p = problems(app, tables);
  INFO(joined(p));
  CHECK(p.empty());
  // The performance forms under the policy.
  std::vector<Uuid> all = of_a;
  all.insert(all.end(), of_b.begin(), of_b.end());
  all.insert(all.end(), of_platform.begin(), of_platform.end());
  CHECK(events.find_many(platform, all).size() == 2);
  CHECK(events.find_many(db.a, all).size() == 2);
  events.put(platform, make_event("p3"), on_conflict(&AuditEvent::org_id, &AuditEvent::code));
  std::vector<AuditEvent> batch{make_event("m1"), make_event("m2"), make_event("m3")};
  events.insert_many(platform, batch);
  CHECK(events.count(platform) == 6);
  CHECK(events.count(db.a) == 2);
  std::vector<AuditEvent> wrong{make_event("m4"), make_event("m5", db.a)};
  CHECK_THROWS_AS(events.insert_many(platform, wrong), OrgMismatch);
  CHECK(events.count(platform) == 6);
}

TEST_CASE("platform rows: a platform call never runs under an org's statement_timeout", "[pg][tenancy][platform]") {
  PlatformRlsDatabase db;
  const OrgId limited = db.a;
  pg::Connection app(as_role(db.url, reader_role),
                     pg::Options{.org_context = true, .statement_timeout = [limited](const OrgId& org) {
                                   return org == limited ? std::chrono::milliseconds(4321) : std::chrono::milliseconds(0);
                                 }});
  Repository<AuditEvent, PgDialect> events{app};
  struct Setting {
    std::string value;
  };
  auto tx = app.transaction();
  const auto before = raw_query<Setting>(app, platform, "SELECT current_setting('statement_timeout') AS value");
  CHECK(events.count(db.a) == 2);
  CHECK(raw_query<Setting>(app, db.a,
                                  "SELECT current_setting('statement_timeout') AS value WHERE CAST($1 AS UUID) IS NOT NULL").at(0).value == "4321ms");
  // The platform scope has no limit of its own: the transaction's setting comes back.
  CHECK(events.count(platform) == 2);
  CHECK(raw_query<Setting>(app, platform, "SELECT current_setting('statement_timeout') AS value").at(0).value ==
        before.at(0).value);
  CHECK(raw_query<Setting>(app, db.a,
                                  "SELECT current_setting('statement_timeout') AS value WHERE CAST($1 AS UUID) IS NOT NULL").at(0).value == "4321ms");
}
