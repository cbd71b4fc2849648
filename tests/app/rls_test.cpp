// The app's row-level security migration (migrations/postgres/0003_row_level_security) with a
// role PostgreSQL really applies policies to: neither superuser nor BYPASSRLS (the test server's
// own role is a superuser, which ignores every policy), and the owner of the tables, so it is
// FORCE ROW LEVEL SECURITY that binds it. This is why the app connects with org context
// (pg::Options::org_context, `--rls`) once 0003 is applied, and why the demo holds 0003 back
// otherwise: without the org setting the owner sees no row at all.
#include "app_support.hpp"

#include "app/repositories.hpp"
#include "app/schema.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>

using namespace app_test;
namespace migrate = tenantry::migrate;
using tenantry::AnyDialect;
using tenantry::OrgId;

namespace {

constexpr const char* app_role = "tenantry_app_owner";

/// A fresh database whose public schema app_role may create tables in; returns its URL as that role.
std::string database_for_app_role() {
  const std::string url = tenantry_test::pg_url();
  tenantry::Database admin = tenantry::connect(url);
  admin.execute(std::string("DO $$ BEGIN CREATE ROLE ") + app_role +
                " LOGIN NOSUPERUSER NOBYPASSRLS; EXCEPTION WHEN duplicate_object THEN NULL; END $$");
  admin.execute(std::string("GRANT ALL ON SCHEMA public TO ") + app_role);
  return as_role(url, app_role);
}

app::UserAlias alias_row(const std::string& name) {
  return app::UserAlias{.alias = name,
                        .repo = "r",
                        .filename = "f",
                        .snapshot = "main",
                        .request_params = app::Json{"{}"},
                        .context_params = app::Json{"[]"}};
}

}  // namespace

TEST_CASE("app row-level security: with org context each org sees its rows, without it none", "[app][rls]") {
  const std::string url = database_for_app_role();
  tenantry::ConnectOptions with_org;
  with_org.postgres.org_context = true;
  tenantry::Database db = tenantry::connect(url, with_org);
  REQUIRE(scalar(db, "SELECT (rolsuper OR rolbypassrls)::int FROM pg_roles WHERE rolname = current_user") == 0);

  migrate::Runner runner(db, migrations("postgres"));
  CHECK(versions(runner.up()) == std::vector<std::int64_t>{1, 3});

  app::DbService<AnyDialect> s(db);
  app::Organization acme{
      .slug = "acme", .display_name = "Acme", .kc_client_id = "kc-a", .client_secret = "s", .encryption_key = "k"};
  app::Organization globex{
      .slug = "globex", .display_name = "Globex", .kc_client_id = "kc-g", .client_secret = "s", .encryption_key = "k"};
  s.orgs.create_org(acme);  // organizations is global: no policy
  s.orgs.create_org(globex);
  const OrgId a{acme.id}, g{globex.id};
  auto mine = alias_row("llama3:instruct"), theirs = alias_row("llama3:instruct");
  s.aliases.set_user_alias(a, mine);
  s.aliases.set_user_alias(g, theirs);
  app::SessionRecord session{.id = "session-1", .user_id = "alice"};
  session.expiry_date = tenantry::Timestamp::from(tenantry::Timestamp::now().time() + std::chrono::hours(1));
  s.sessions.save(a, session);

  // With org context: each org's own rows, through the repositories.
  CHECK(s.aliases.list_user_aliases(a).size() == 1);
  CHECK(s.aliases.list_user_aliases(g).size() == 1);
  CHECK(s.aliases.get_user_alias_by_name(a, "llama3:instruct").value().id == mine.id);
  CHECK(s.sessions.load(a, "session-1"));
  CHECK_FALSE(s.sessions.load(g, "session-1"));

  // The database itself refuses a session id of acme claimed by globex: the policy hides acme's
  // row from the upsert's UPDATE (insufficient_privilege).
  app::SessionRecord hijack = session;
  hijack.org_id = {};
  hijack.user_id = "mallory";
  try {
    s.sessions.save(g, hijack);
    FAIL("globex overwrote acme's session");
  } catch (const tenantry::UniqueViolation&) {
    SUCCEED("refused by tenantry");
  } catch (const tenantry::DatabaseError& e) {
    CHECK(e.code() == "42501");
  }
  CHECK(s.sessions.load(a, "session-1").value().user_id == "alice");

  // The same role without org context: FORCE ROW LEVEL SECURITY binds the owner, and a read
  // without an org fails instead of seeing nothing.
  tenantry::Database plain = tenantry::connect(url);
  CHECK_THROWS_AS(scalar(plain, "SELECT COUNT(*) FROM user_aliases"), tenantry::OrgContextMissing);
  tenantry::Repository<app::UserAlias, AnyDialect> plain_aliases(plain);
  CHECK_THROWS_AS(plain_aliases.count(a), tenantry::OrgContextMissing);
  CHECK(scalar(plain, "SELECT COUNT(*) FROM organizations") == 2);  // global, no policy
  // ... and with the setting pointing at one org, a row of another org cannot be written.
  plain.execute("SELECT set_config('app.current_org_id', '" + a.to_string() + "', false)");
  CHECK(scalar(plain, "SELECT COUNT(*) FROM user_aliases") == 1);
  try {
    plain.execute(
        "INSERT INTO user_aliases (id, org_id, alias, repo, filename, snapshot, request_params,"
        " context_params, created_at, updated_at) VALUES (gen_random_uuid(), '" +
        g.to_string() + "', 'x', 'r', 'f', 'main', '{}', '[]', now(), now())");
    FAIL("a row of globex was written with acme's org setting");
  } catch (const tenantry::DatabaseError& e) {
    CHECK(e.code() == "42501");
  }

  // Reverting 0003 gives the owner back every row.
  CHECK(versions(runner.down(1)) == std::vector<std::int64_t>{3});
  plain.execute("RESET app.current_org_id");
  CHECK(scalar(plain, "SELECT COUNT(*) FROM user_aliases") == 2);
}
