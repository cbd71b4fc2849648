// Row-level security on PostgreSQL: the database's own wall behind the type-level org scoping.
// Tables are created by a role that is neither superuser nor BYPASSRLS (superusers ignore every
// policy, FORCE or not), so the tests see what a real application role sees.
#include "support/entities.hpp"
#include "support/pg_database.hpp"

#include <tenantry/postgres.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace tenantry;
using fixtures::ApiToken;
using fixtures::Organization;

namespace {

constexpr const char* owner_role = "tenantry_rls_owner";
constexpr const char* reader_role = "tenantry_rls_reader";

// The same database, connected as another role (the test server trusts loopback logins).
std::string as_role(const std::string& url, const std::string& role) {
  const auto scheme = url.find("://") + 3;
  const auto at = url.find('@', scheme);
  return url.substr(0, scheme) + role + url.substr(at);
}

std::int64_t scalar(pg::Connection& c, const std::string& sql) {
  pg::Statement& st = c.prepare(intern_sql(sql));
  pg::StatementScope scope(st);
  REQUIRE(st.step());
  return st.column_int(0);
}

std::string text(pg::Connection& c, const std::string& sql) {
  pg::Statement& st = c.prepare(intern_sql(sql));
  pg::StatementScope scope(st);
  REQUIRE(st.step());
  return st.column_is_null(0) ? std::string("<null>") : std::string(st.column_text(0));
}

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

TEST_CASE("row-level security: FORCE covers the owner and an unset org sees nothing", "[pg][tenancy][rls]") {
  RlsDatabase db;
  {
    pg::Connection owner(as_role(db.url, owner_role), pg::Options{.org_context = true});
    Repository<ApiToken, PgDialect> tokens{owner};
    tokens.insert(db.a, token("p1"));
    tokens.insert(db.b, token("p2"));
  }
  // The owner without org context: raw SQL and repositories see no rows, and cannot write.
  pg::Connection owner(as_role(db.url, owner_role));
  CHECK(scalar(owner, "SELECT count(*) FROM api_tokens") == 0);
  Repository<ApiToken, PgDialect> tokens{owner};
  CHECK(tokens.count(db.a) == 0);
  CHECK_THROWS_AS(tokens.insert(db.a, token("p3")), DatabaseError);
  // An empty setting is as good as none (NULLIF), not a match for every row.
  {
    auto tx = owner.transaction();
    owner.execute("SELECT set_config('app.current_org_id', '', true)");
    CHECK(scalar(owner, "SELECT count(*) FROM api_tokens") == 0);
  }
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
  CHECK(scalar(reader, "SELECT count(*) FROM api_tokens") == 0);  // no org set: nothing
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
  CHECK(scalar(reader, "SELECT count(*) FROM api_tokens") == 0);
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
  // All or nothing under the policy too: a duplicate prefix in the last batch undoes the rest.
  std::vector<ApiToken> more;
  for (int i = 0; i < 300; ++i) more.push_back(token("q" + std::to_string(i)));
  more[299].token_prefix = "q0";
  CHECK_THROWS_AS(tokens.insert_many(db.b, more), UniqueViolation);
  CHECK(tokens.count(db.b) == 0);
  CHECK(tokens.count(db.a) == 700);
}
