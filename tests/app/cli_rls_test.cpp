// The reference app's command line with row-level security, on PostgreSQL, with the sessions in
// a database of their own (SESSION_DB_URL): `migrate up --rls` gives every org-scoped table of
// every database the app uses its isolation policy (tower_sessions in the session database once
// had none), and `rls verify` checks the live databases and the connected role, as a service
// does at start-up.
#include "app_support.hpp"

#include "app/schema.hpp"

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

using namespace app_test;

namespace {

constexpr const char* owner_role = "tenantry_app_owner";      // runs the migrations: owns the tables
constexpr const char* service_role = "tenantry_app_service";  // what the service connects as

struct Run {
  int status = -1;
  std::string output;  // stdout and stderr
};

/// Runs tenantry-app with `args` (each single-quoted), capturing its output.
Run run_app(const std::vector<std::string>& args) {
#ifndef TENANTRY_APP_BINARY
  FAIL("tenantry-app-tests was built without the tenantry-app target (TENANTRY_BUILD_EXAMPLES=OFF)");
  return {};
#else
  std::string command = std::string("'") + TENANTRY_APP_BINARY + "'";
  for (const auto& a : args) command += " '" + a + "'";
  command += " 2>&1";
  Run r;
  FILE* p = ::popen(command.c_str(), "r");
  REQUIRE(p != nullptr);
  char buffer[4096];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, p)) > 0) r.output.append(buffer, n);
  const int status = ::pclose(p);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
#endif
}

/// A fresh database in which owner_role may create tables; the URL as the server's own role.
std::string database_for_roles() {
  const std::string url = tenantry_test::pg_url();
  tenantry::Database admin = tenantry::connect(url);
  for (const char* role : {owner_role, service_role})
    admin.execute(
        std::string("DO $$ BEGIN CREATE ROLE ") + role +
        " LOGIN NOSUPERUSER NOBYPASSRLS; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$");
  admin.execute(std::string("GRANT ALL ON SCHEMA public TO ") + owner_role + "; GRANT USAGE ON SCHEMA public TO " +
                service_role + "; DO $$ BEGIN EXECUTE format('GRANT CREATE ON DATABASE %I TO " + owner_role +
                "', current_database()); END $$");
  return url;
}

/// The org-scoped tables the app declares for a database holding Entities.
template <class Entities>
std::set<std::string> org_scoped_tables() {
  std::set<std::string> out;
  app::for_each_entity<Entities>([&]<class E>(std::type_identity<E>) {
    if (tenantry::table_info<E>().org_scoped()) out.insert(tenantry::table_info<E>().name);
  });
  return out;
}

/// For every table of the database's public schema with an org_id column: its policies
/// (name, command, roles) and its row-level security flags, as one line each.
std::map<std::string, std::string> policies_by_table(tenantry::Database& db) {
  std::map<std::string, std::string> out;
  for (const auto& table : texts(db,
                                 "SELECT c.relname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid"
                                 " WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'"
                                 " AND a.attname = 'org_id' AND NOT a.attisdropped ORDER BY 1")) {
    std::string line;
    for (const auto& p : texts(db,
                               "SELECT policyname || ' ' || cmd || ' ' || array_to_string(roles, ',')"
                               " FROM pg_policies WHERE schemaname = 'public' AND tablename = '" +
                                   table + "' ORDER BY 1"))
      line += p + "; ";
    line += texts(db,
                  "SELECT 'rls ' || relrowsecurity || ' force ' || relforcerowsecurity FROM pg_class"
                  " WHERE oid = 'public." +
                      table + "'::regclass")
                .at(0);
    out[table] = line;
  }
  return out;
}

}  // namespace

TEST_CASE("tenantry-app migrate up --rls: every org-scoped table of every database gets its policy; rls verify",
          "[app][rls][cli]") {
  const std::string main_admin = database_for_roles(), sessions_admin = database_for_roles();
  const std::string main_url = as_role(main_admin, owner_role), sessions_url = as_role(sessions_admin, owner_role);

  // Without --rls the policies of both databases are held back.
  const Run plain = run_app({"migrate", "up", "--db", main_url, "--session-db", sessions_url});
  INFO(plain.output);
  REQUIRE(plain.status == 0);
  CHECK(plain.output.find("held back: 0003 row level security") != std::string::npos);
  CHECK(plain.output.find("held back: 0002 row level security") != std::string::npos);

  const Run up = run_app({"migrate", "up", "--rls", "--db", main_url, "--session-db", sessions_url});
  INFO(up.output);
  REQUIRE(up.status == 0);

  // pg_policies, database by database, against the org-scoped tables the app declares there:
  // each has exactly its isolation policy, for every role, with ENABLE and FORCE; and no table
  // with an org column is left without one.
  const struct {
    const char* label;
    std::string url;
    std::set<std::string> tables;
  } databases[] = {{"main", main_admin, org_scoped_tables<app::AllEntities>()},
                   {"sessions", sessions_admin, org_scoped_tables<app::SessionDbEntities>()}};
  for (const auto& d : databases) {
    INFO(d.label << " database");
    tenantry::Database db = tenantry::connect(d.url);
    const auto found = policies_by_table(db);
    std::set<std::string> with_org_column;
    for (const auto& [table, line] : found) {
      INFO(table);
      with_org_column.insert(table);
      CHECK(line == table + "_org_isolation ALL public; rls true force true");
    }
    CHECK(with_org_column == d.tables);
  }
  CHECK(databases[1].tables == std::set<std::string>{"tower_sessions"});

  // rls verify: the owner that ran the migrations may not serve (it could turn the policies off).
  const Run as_owner = run_app({"rls", "verify", "--db", main_url, "--session-db", sessions_url});
  INFO(as_owner.output);
  CHECK(as_owner.status == 4);  // the database disagrees with the generated policies
  CHECK(as_owner.output.find("tower_sessions: the connected role is (a member of) its owner tenantry_app_owner") !=
        std::string::npos);
  // The service role, which owns nothing: both databases verified.
  for (const auto& admin : {main_admin, sessions_admin}) {
    tenantry::Database db = tenantry::connect(admin);
    db.execute(std::string("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ") + service_role);
  }
  const Run as_service = run_app({"rls", "verify", "--db", as_role(main_admin, service_role), "--session-db",
                                  as_role(sessions_admin, service_role)});
  INFO(as_service.output);
  CHECK(as_service.status == 0);
  CHECK(as_service.output.find("ok    10 org-scoped tables") != std::string::npos);
  CHECK(as_service.output.find("ok    1 org-scoped tables") != std::string::npos);
  // A policy dropped in the session database is found.
  {
    tenantry::Database db = tenantry::connect(as_role(sessions_admin, owner_role));
    db.execute("DROP POLICY tower_sessions_org_isolation ON tower_sessions");
  }
  const Run dropped = run_app({"rls", "verify", "--db", as_role(main_admin, service_role), "--session-db",
                               as_role(sessions_admin, service_role)});
  INFO(dropped.output);
  CHECK(dropped.status == 4);
  CHECK(dropped.output.find("tower_sessions: no policy tower_sessions_org_isolation") != std::string::npos);
}

TEST_CASE("tenantry-app demo --rls with the sessions in a PostgreSQL database of their own", "[app][rls][cli]") {
  const std::string main_url = as_role(database_for_roles(), owner_role),
                    sessions_url = as_role(database_for_roles(), owner_role);
  const Run demo = run_app({"demo", "--rls", "--db", main_url, "--session-db", sessions_url});
  INFO(demo.output);
  CHECK(demo.status == 0);
  CHECK(demo.output.find("10 + 1 (sessions) isolation policies") != std::string::npos);
  // The session database's own policy refused globex's claim on acme's session id.
  CHECK(demo.output.find("refused by the row-level security policy") != std::string::npos);
}
