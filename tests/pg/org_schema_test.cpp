// Schema per org on the real PostgreSQL (org_schema.hpp): provisioning creates the schema and its
// tables (checked in the catalogs, not trusted from our own SQL), the unchanged repositories
// address the org's schema per transaction, a cached statement follows the search path from one
// org to the next, nothing of the search path survives a transaction, and dropping an org drops
// its schema only. The isolation test bodies of tests/parity/org_scoping_test.cpp also run on
// this strategy (parity::PostgresOrgSchemas).
#include "support/entities.hpp"
#include "support/pg_database.hpp"
#include "support/platform_entities.hpp"
#include "support/sqlite_db.hpp"  // testdb::make_token, expect_throw
#include "support/pg_scalar.hpp"

#include <tenantry/pool.hpp>
#include <tenantry/tenantry.hpp>

#include <catch2/catch.hpp>

#include <libpq-fe.h>

#include <string>
#include <vector>

using namespace tenantry;
using testdb::scalar;
using testdb::text;
using testdb::texts;
using fixtures::ApiToken;
using fixtures::Organization;
using fixtures::Part;
using fixtures::Widget;
using testdb::expect_throw;

namespace {

// Tokens and widgets per org; parts reference widgets in the same schema, tokens reference the
// shared organizations table in public.
using TenantTables = OrgSchemas<ApiToken, Widget, Part>;

/// Rows of `table` in org's schema, read with a qualified name (no search path involved).
std::int64_t rows_in_schema(pg::Connection& c, const OrgId& org, const std::string& table) {
  return scalar(c, "SELECT count(*) FROM \"" + org_schema_name(org) + "\".\"" + table + "\"");
}

OrgId add_org(pg::Connection& c, const std::string& slug) {
  Repository<Organization, PgDialect> orgs{c};
  Organization o{Uuid::random(), slug, slug, fixtures::OrgStatus::active, {}, Timestamp::now()};
  orgs.insert(o);
  return OrgId{o.id};
}

/// A fresh database with the shared table in public and two provisioned orgs.
struct SchemaDatabase {
  std::string url = tenantry_test::pg_url();
  pg::Connection admin{url};
  OrgId a, b;
  SchemaDatabase() {
    create_tables<Organization>(admin);
    a = add_org(admin, "acme");
    b = add_org(admin, "globex");
    TenantTables::provision_org(admin, a);
    TenantTables::provision_org(admin, b);
  }
  pg::Connection connect(pg::Options o = {}) const {
    o.org_schemas = true;
    return pg::Connection(url, o);
  }
};

const std::string default_path_sql = "SHOW search_path";

}  // namespace

TEST_CASE("org schemas: provisioning creates the schema and its tables", "[pg][tenancy][org_schema]") {
  SchemaDatabase db;
  pg::Connection& c = db.admin;
  const std::string sa = TenantTables::schema_name(db.a);
  CHECK(sa == "org_" + [&] {
    std::string hex;
    for (char ch : db.a.to_string())
      if (ch != '-') hex += ch;
    return hex;
  }());
  CHECK(sa.size() == 36);

  CHECK(scalar(c, "SELECT count(*) FROM pg_namespace WHERE nspname = $1", sa) == 1);
  CHECK(texts(c, "SELECT tablename::text FROM pg_tables WHERE schemaname = $1 ORDER BY 1", sa) ==
        std::vector<std::string>{"api_tokens", "parts", "widgets"});
  // The shared table stays in public, and no org table leaked there.
  CHECK(texts(c, "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1") ==
        std::vector<std::string>{"organizations"});
  // Declared indexes are in the org's schema, on the org's table.
  CHECK(text(c, "SELECT tablename::text FROM pg_indexes WHERE schemaname = $1 AND indexname = 'ix_api_tokens_org_id_user_id'",
             sa) == "api_tokens");

  // Foreign keys bound at creation: parts -> this org's widgets, tokens -> public.organizations.
  const std::string parent_schema_sql =
      "SELECT pn.nspname::text || '.' || p.relname::text FROM pg_constraint k "
      "JOIN pg_namespace kn ON kn.oid = k.connamespace JOIN pg_class p ON p.oid = k.confrelid "
      "JOIN pg_namespace pn ON pn.oid = p.relnamespace WHERE kn.nspname = $1 AND k.conname = ";
  CHECK(text(c, parent_schema_sql + "'fk_parts_widget_id'", sa) == sa + ".widgets");
  CHECK(text(c, parent_schema_sql + "'fk_api_tokens_org_id'", sa) == "public.organizations");

  // The DDL names every object with its schema.
  const std::string ddl = TenantTables::create_sql(db.a);
  CHECK(ddl.starts_with("CREATE SCHEMA \"" + sa + "\";\n"));
  CHECK(ddl.find("CREATE TABLE \"" + sa + "\".\"parts\"") != std::string::npos);
  CHECK(ddl.find("REFERENCES \"" + sa + "\".\"widgets\" (\"org_id\", \"id\")") != std::string::npos);
  CHECK(ddl.find("REFERENCES \"public\".\"organizations\" (\"id\")") != std::string::npos);
  CHECK(ddl.find("ON \"" + sa + "\".\"api_tokens\" (\"org_id\", \"user_id\")") != std::string::npos);

  SECTION("provisioning an org twice is an error that changes nothing") {
    pg::Connection app = db.connect();
    Repository<ApiToken, PgDialect> tokens{app};
    tokens.insert(db.a, testdb::make_token("kept"));
    const auto e = expect_throw<DatabaseError>([&] { TenantTables::provision_org(c, db.a); });
    CHECK(e.code() == "42P06");
    CHECK(std::string(e.what()).find(sa) != std::string::npos);
    CHECK(rows_in_schema(c, db.a, "api_tokens") == 1);
    // if_not_exists: idempotent, the existing tables and rows are left as they are.
    TenantTables::provision_org(c, db.a, DdlOptions{.if_not_exists = true});
    CHECK(rows_in_schema(c, db.a, "api_tokens") == 1);
    CHECK(TenantTables::is_provisioned(c, db.a));
  }
  SECTION("a failed provisioning leaves no schema behind") {
    // The shared parent missing: the first table's foreign key fails, after CREATE SCHEMA ran.
    c.execute("ALTER TABLE organizations RENAME TO orgs_elsewhere");
    const OrgId d = OrgId::random();
    expect_throw<DatabaseError>([&] { TenantTables::provision_org(c, d); });
    CHECK_FALSE(TenantTables::is_provisioned(c, d));
    CHECK(scalar(c, "SELECT count(*) FROM pg_namespace WHERE nspname = $1", org_schema_name(d)) == 0);
  }
  SECTION("nil orgs and bad option combinations are usage errors") {
    expect_throw<UsageError>([&] { TenantTables::provision_org(c, OrgId{}); });
    expect_throw<UsageError>([&] { (void)TenantTables::drop_org(c, OrgId{}); });
    expect_throw<UsageError>(
        [&] { TenantTables::provision_org(c, OrgId::random(), DdlOptions{.if_not_exists = true, .row_level_security = true}); });
  }
}

TEST_CASE("org schemas: the same repositories, each org in its own schema", "[pg][tenancy][org_schema]") {
  SchemaDatabase db;
  pg::Connection app = db.connect();
  Repository<ApiToken, PgDialect> tokens{app};
  Repository<Widget, PgDialect> widgets{app};
  Repository<Part, PgDialect> parts{app};

  const ApiToken a1 = tokens.insert(db.a, testdb::make_token("a1", "alice"));
  const ApiToken a_shared = tokens.insert(db.a, testdb::make_token("shared", "alice"));
  const ApiToken b_shared = tokens.insert(db.b, testdb::make_token("shared", "bob"));
  CHECK(rows_in_schema(db.admin, db.a, "api_tokens") == 2);
  CHECK(rows_in_schema(db.admin, db.b, "api_tokens") == 1);
  // The row keeps its org column, written with the call's org.
  CHECK(text(db.admin, "SELECT org_id::text FROM \"" + org_schema_name(db.b) + "\".api_tokens") == db.b.to_string());

  CHECK(tokens.count(db.a) == 2);
  CHECK(tokens.count(db.b) == 1);
  CHECK(tokens.find(db.a, a1.id).has_value());
  CHECK_FALSE(tokens.find(db.b, a1.id).has_value());
  CHECK(tokens.list(db.b, col(&ApiToken::token_prefix) == "shared").at(0).id == b_shared.id);

  // Another org's id changes nothing.
  ApiToken moved = a1;
  moved.org_id = OrgId{};
  moved.name = "hijacked";
  CHECK_FALSE(tokens.update(db.b, moved));
  CHECK_FALSE(tokens.set(db.b, a1.id, &ApiToken::name, "hijacked"));
  CHECK_FALSE(tokens.erase(db.b, a1.id));
  CHECK(tokens.erase_where(db.b, col(&ApiToken::user_id) == "alice") == 0);
  CHECK(tokens.find(db.a, a1.id)->name == a1.name);
  ApiToken carrying_a = testdb::make_token("x");
  carrying_a.org_id = db.a;
  expect_throw<OrgMismatch>([&] { tokens.insert(db.b, carrying_a); });

  // Keys are per schema: the same id in org b is another row in another table.
  ApiToken twin = testdb::make_token("twin");
  twin.id = a1.id;
  tokens.insert(db.b, twin);
  CHECK(tokens.find(db.b, a1.id)->token_prefix == "twin");
  CHECK(tokens.find(db.a, a1.id)->token_prefix == "a1");

  // Tenant-safe foreign keys inside the schema: a part of b cannot name a's widget, which is
  // not even in b's table.
  const Widget wa = widgets.insert(db.a, Widget{Uuid::random(), OrgId{}, "wa"});
  parts.insert(db.a, Part{Uuid::random(), OrgId{}, wa.id, "pa"});
  expect_throw<ForeignKeyViolation>([&] { parts.insert(db.b, Part{Uuid::random(), OrgId{}, wa.id, "pb"}); });
  CHECK(parts.count(db.b) == 0);

  SECTION("an org without a schema is refused, and nothing falls through to public") {
    const OrgId stranger = add_org(db.admin, "stranger");  // in organizations, never provisioned
    const auto e = expect_throw<OrgNotProvisioned>([&] { (void)tokens.count(stranger); });
    CHECK(e.code() == "3F000");
    CHECK(e.schema() == org_schema_name(stranger));
    CHECK(e.org() == stranger.to_string());
    expect_throw<OrgNotProvisioned>([&] { tokens.insert(stranger, testdb::make_token("s")); });
    CHECK(PQtransactionStatus(app.native()) == PQTRANS_IDLE);  // the operation's transaction is gone
  }
  SECTION("inside the caller's transaction, the org switches per operation") {
    auto tx = app.transaction();
    CHECK(tokens.count(db.a) == 2);
    CHECK(text(app, default_path_sql) == "\"" + org_schema_name(db.a) + "\", public");
    CHECK(tokens.count(db.b) == 2);
    CHECK(text(app, default_path_sql) == "\"" + org_schema_name(db.b) + "\", public");
    // A refused org leaves the transaction usable and the path as it was.
    expect_throw<OrgNotProvisioned>([&] { (void)tokens.count(OrgId::random()); });
    CHECK(text(app, default_path_sql) == "\"" + org_schema_name(db.b) + "\", public");
    CHECK(tokens.count(db.a) == 2);
    tx.commit();
  }
}

TEST_CASE("org schemas: one cached statement reads org a's table, then org b's", "[pg][tenancy][org_schema]") {
  SchemaDatabase db;
  for (const bool prepared : {true, false}) {
    CAPTURE(prepared);
    pg::Connection app = db.connect(pg::Options{.server_prepared = prepared});
    Repository<ApiToken, PgDialect> tokens{app};
    if (prepared) {  // rows from the first pass are still there on the second
      tokens.insert(db.a, testdb::make_token("a1"));
      for (const char* p : {"b1", "b2", "b3"}) tokens.insert(db.b, testdb::make_token(p));
    }
    const std::string prepared_count = "SELECT count(*) FROM pg_prepared_statements";
    (void)tokens.count(db.a);
    const std::int64_t statements = scalar(app, prepared_count);
    // Alternating orgs, more often than the server's five custom plans before a generic one: the
    // same statement (no new prepared statement appears) answers for the org of each call.
    for (int i = 0; i < 8; ++i) {
      CHECK(tokens.count(db.a) == 1);
      CHECK(tokens.count(db.b) == 3);
      CHECK(tokens.list(db.b, col(&ApiToken::token_prefix) != "b2").size() == 2);
      CHECK(tokens.list(db.a, col(&ApiToken::token_prefix) != "b2").size() == 1);
    }
    if (prepared) CHECK(scalar(app, prepared_count) == statements + 1);  // + the list statement
    else CHECK(scalar(app, prepared_count) == 0);
    // And inside one transaction, where the path changes between two uses.
    auto tx = app.transaction();
    CHECK(tokens.count(db.b) == 3);
    CHECK(tokens.count(db.a) == 1);
    CHECK(tokens.count(db.b) == 3);
    tx.commit();
  }
}

TEST_CASE("org schemas: no search path survives a transaction", "[pg][tenancy][org_schema]") {
  SchemaDatabase db;
  pg::Connection app = db.connect();
  Repository<ApiToken, PgDialect> tokens{app};
  tokens.insert(db.a, testdb::make_token("a1"));
  const std::string initial = text(db.admin, default_path_sql);
  CHECK(initial == "\"$user\", public");  // the server's default
  CHECK(text(app, default_path_sql) == initial);

  SECTION("after an operation's own transaction") {
    CHECK(tokens.count(db.a) == 1);
    CHECK(text(app, default_path_sql) == initial);
  }
  SECTION("after the caller's commit and rollback") {
    {
      auto tx = app.transaction();
      CHECK(tokens.count(db.b) == 0);
      tx.commit();
    }
    CHECK(text(app, default_path_sql) == initial);
    {
      auto tx = app.transaction();
      CHECK(tokens.count(db.a) == 1);
    }  // rolled back
    CHECK(text(app, default_path_sql) == initial);
  }
  SECTION("a rolled-back savepoint takes its path with it; the next operation sets it again") {
    auto tx = app.transaction();
    CHECK(tokens.count(db.a) == 1);
    {
      auto inner = app.transaction();
      CHECK(tokens.count(db.b) == 0);
      CHECK(text(app, default_path_sql) == "\"" + org_schema_name(db.b) + "\", public");
    }
    CHECK(text(app, default_path_sql) == "\"" + org_schema_name(db.a) + "\", public");
    CHECK(tokens.count(db.b) == 0);  // b again, not a's count from a stale path
    CHECK(tokens.count(db.a) == 1);
    tx.commit();
    CHECK(text(app, default_path_sql) == initial);
  }
  SECTION("a pooled connection comes back with the default path, without any reset statement") {
    Pool<pg::Connection> pool{db.url, {.size = 1, .postgres_reset = "", .connect = pg::Options{.org_schemas = true}}};
    {
      auto lease = pool.acquire();
      Repository<ApiToken, PgDialect> pooled{*lease};
      auto tx = lease->transaction();
      CHECK(pooled.count(db.a) == 1);
      // the Lease ends with the transaction open: the pool rolls it back
    }
    {
      auto lease = pool.acquire();
      CHECK(text(*lease, default_path_sql) == initial);
      Repository<ApiToken, PgDialect> pooled{*lease};
      CHECK(pooled.count(db.b) == 0);
    }
    auto lease = pool.acquire();
    CHECK(text(*lease, default_path_sql) == initial);
    CHECK(pool.stats().opened == 1);  // the same connection each time
  }
}

TEST_CASE("org schemas: dropping an org drops its schema only", "[pg][tenancy][org_schema]") {
  SchemaDatabase db;
  pg::Connection app = db.connect();
  Repository<ApiToken, PgDialect> tokens{app};
  Repository<Widget, PgDialect> widgets{app};
  tokens.insert(db.a, testdb::make_token("a1"));
  tokens.insert(db.b, testdb::make_token("b1"));
  widgets.insert(db.b, Widget{Uuid::random(), OrgId{}, "wb"});
  (void)tokens.count(db.a);  // cache statements that name a's table

  CHECK(TenantTables::drop_org(db.admin, db.a));
  CHECK_FALSE(TenantTables::is_provisioned(db.admin, db.a));
  CHECK(scalar(db.admin, "SELECT count(*) FROM pg_tables WHERE schemaname = $1", org_schema_name(db.a)) == 0);
  CHECK(TenantTables::is_provisioned(db.admin, db.b));
  CHECK(rows_in_schema(db.admin, db.b, "api_tokens") == 1);
  CHECK(tokens.count(db.b) == 1);
  CHECK(widgets.count(db.b) == 1);
  expect_throw<OrgNotProvisioned>([&] { (void)tokens.count(db.a); });
  // The organization row is the caller's to delete.
  CHECK(scalar(db.admin, "SELECT count(*) FROM organizations") == 2);
  CHECK_FALSE(TenantTables::drop_org(db.admin, db.a));  // nothing left to drop

  // Re-provisioned, the org starts empty; the connection's cached statements still work.
  TenantTables::provision_org(db.admin, db.a);
  CHECK(tokens.count(db.a) == 0);
  tokens.insert(db.a, testdb::make_token("again"));
  CHECK(tokens.count(db.a) == 1);
}

TEST_CASE("org schemas: with row-level security too, both are set per transaction", "[pg][tenancy][org_schema]") {
  SchemaDatabase db;
  const OrgId c = add_org(db.admin, "initech");
  TenantTables::provision_org(db.admin, c, DdlOptions{.row_level_security = true});
  CHECK(scalar(db.admin, "SELECT count(*) FROM pg_policies WHERE schemaname = $1", org_schema_name(c)) == 3);
  pg::Connection app = db.connect(pg::Options{.org_context = true});
  Repository<ApiToken, PgDialect> tokens{app};
  tokens.insert(c, testdb::make_token("c1"));
  auto tx = app.transaction();
  CHECK(tokens.count(c) == 1);
  CHECK(text(app, "SELECT current_setting('app.current_org_id', true)") == c.to_string());
  CHECK(text(app, default_path_sql) == "\"" + org_schema_name(c) + "\", public");
  tx.commit();
}

TEST_CASE("org schemas: platform rows stay in public; a platform call puts public alone on the path",
          "[pg][tenancy][org_schema][platform]") {
  using platform_fixtures::AuditEvent;
  SchemaDatabase db;
  create_tables<AuditEvent>(db.admin);  // shared, in public (RLS as this role: rls_test.cpp)
  pg::Connection app = db.connect(pg::Options{.org_context = true});
  Repository<AuditEvent, PgDialect> events{app};
  Repository<ApiToken, PgDialect> tokens{app};
  events.insert(platform, platform_fixtures::make_event("p"));
  events.insert(db.a, platform_fixtures::make_event("a", db.a));
  tokens.insert(db.a, testdb::make_token("a1"));
  auto tx = app.transaction();
  CHECK(events.count(platform) == 1);
  CHECK(text(app, default_path_sql) == "public");
  CHECK(text(app, "SELECT current_setting('app.platform_scope', true)") == "on");
  CHECK(text(app, "SELECT current_setting('app.current_org_id', true)") == "");
  // The org's own tables are not on the path in the platform scope.
  CHECK_THROWS_AS(scalar(app, "SELECT count(*) FROM api_tokens"), DatabaseError);
  tx.rollback();
  auto tx2 = app.transaction();
  CHECK(events.count(platform) == 1);
  // Back to an org in the same transaction: the platform setting is off again.
  CHECK(tokens.count(db.a) == 1);
  CHECK(events.count(db.a) == 1);
  CHECK(text(app, "SELECT current_setting('app.platform_scope', true)") == "");
  CHECK(text(app, default_path_sql) == "\"" + org_schema_name(db.a) + "\", public");
  CHECK(scalar(app, "SELECT count(*) FROM audit_events") == 2);  // one table, both scopes' rows
  tx2.commit();
  CHECK(scalar(db.admin, "SELECT count(*) FROM public.audit_events") == 2);
}

TEST_CASE("org schemas: a Database chosen at run time, and SQLite refused", "[pg][tenancy][org_schema]") {
  SchemaDatabase db;
  Database pgdb = connect(db.url, ConnectOptions{.postgres = pg::Options{.org_schemas = true}});
  const OrgId c = add_org(db.admin, "initech");
  TenantTables::provision_org(pgdb, c);
  CHECK(TenantTables::is_provisioned(pgdb, c));
  Repository<ApiToken> tokens{pgdb};
  tokens.insert(c, testdb::make_token("c1"));
  CHECK(tokens.count(c) == 1);
  CHECK(rows_in_schema(db.admin, c, "api_tokens") == 1);
  CHECK(TenantTables::drop_org(pgdb, c));

  Database lite = connect("sqlite::memory:");
  const auto e = expect_throw<UsageError>([&] { TenantTables::provision_org(lite, c); });
  CHECK(std::string(e.what()).find("PostgreSQL-only") != std::string::npos);
  expect_throw<UsageError>([&] { (void)TenantTables::drop_org(lite, c); });
  expect_throw<UsageError>([&] { (void)TenantTables::is_provisioned(lite, c); });
}
