// The schema-per-org fleet (tenantry/fleet.hpp) on the real PostgreSQL, over 200 org schemas:
//   * every org reaches the target version, each migration applied exactly once (every
//     migration also appends to a log table in its org: one row per application);
//   * the runner SIGKILLed part way and run again resumes: afterwards every org is at the
//     target, none applied twice, none skipped;
//   * a failing canary group stops the fleet before any other org is touched;
//   * an org whose table is locked by the application fails fast on lock_timeout, is retried
//     after the others, and is reported busy; the others are not held up;
//   * progress reports counts and an ETA, and the worker connections stay within the bound.
// The measurement on 1,000 schemas (docs/migrations.md) is the hidden test case at the end:
//   TENANTRY_FLEET_ORGS=1000 tenantry-migrate-gen "[.fleet-measure]" -s
#include "gen_support.hpp"

#include "support/migration_dir.hpp"

#include <tenantry/fleet.hpp>
#include <tenantry/postgres.hpp>

#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

using namespace gen_test;
namespace migrate = tenantry::migrate;
using PgConn = tenantry::pg::Connection;

namespace {

/// The org schemas' migrations: 0001 creates a table and the log, 0002 changes the table (and
/// takes `sleep_s` seconds, so that a run can be interrupted half way).
std::vector<migrate::Migration> org_migrations(double sleep_s = 0) {
  std::vector<migrate::SourceFile> files{
      {"0001_notes.up.sql", "0001_notes.up.sql",
       "CREATE TABLE notes (id UUID NOT NULL PRIMARY KEY, org_id UUID NOT NULL, title TEXT NOT NULL);\n"
       "CREATE TABLE applied_log (version INTEGER NOT NULL, at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp());\n"
       "INSERT INTO applied_log (version) VALUES (1);\n"},
      {"0002_body.up.sql", "0002_body.up.sql",
       "ALTER TABLE notes ADD COLUMN body TEXT NOT NULL DEFAULT '';\n"
       "CREATE INDEX notes_title ON notes (org_id, title);\n"
       "INSERT INTO applied_log (version) VALUES (2);\n" +
           (sleep_s > 0 ? "SELECT pg_sleep(" + std::to_string(sleep_s) + ");\n" : std::string{})},
  };
  return migrate::parse_migrations(std::move(files));
}

std::vector<std::string> make_schemas(PgConn& db, std::size_t n) {
  std::vector<std::string> out;
  std::string ddl;
  for (std::size_t i = 0; i < n; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "org_%04zu", i);
    out.emplace_back(name);
    ddl += "CREATE SCHEMA \"" + out.back() + "\";\n";
  }
  db.execute(ddl);
  return out;
}

std::size_t at_version(PgConn& db, const std::vector<std::string>& schemas, std::int64_t v) {
  std::size_t n = 0;
  for (const auto& [s, version] : migrate::fleet_versions(db, schemas)) n += version == v ? 1 : 0;
  return n;
}

/// Every org's log holds each version exactly once.
void expect_each_applied_once(tenantry::Database& db, const std::vector<std::string>& schemas) {
  std::size_t bad = 0;
  std::string first;
  for (const auto& s : schemas) {
    const auto rows = texts(db, "SELECT string_agg(version::text, ',' ORDER BY version) FROM \"" + s + "\".applied_log");
    const auto recs = texts(db, "SELECT string_agg(version::text || CASE WHEN dirty THEN 'd' ELSE '' END, ',' ORDER BY"
                                " version) FROM \"" + s + "\"._tenantry_migrations");
    if (rows != std::vector<std::string>{"1,2"} || recs != std::vector<std::string>{"1,2"}) {
      if (first.empty()) first = s + ": log " + rows[0] + ", records " + recs[0];
      ++bad;
    }
  }
  INFO(first);
  CHECK(bad == 0);
}

}  // namespace

TEST_CASE("fleet: 200 org schemas migrated in parallel, killed half way, resumed", "[migrate_gen][fleet]") {
  const std::string url = tenantry_test::pg_url();
  PgConn admin(url);
  tenantry::Database db = tenantry::connect(url);
  const auto schemas = make_schemas(admin, 200);
  const auto connect = [&] { return PgConn(url); };

  // ---- part way (to version 1), with progress
  std::vector<migrate::FleetProgress> seen;
  migrate::FleetOptions opt;
  opt.connections = 4;
  opt.target = 1;
  opt.progress = [&](const migrate::FleetProgress& p) { seen.push_back(p); };
  auto r = migrate::run_fleet<PgConn>(connect, schemas, org_migrations(), opt);
  CHECK(r.ok());
  CHECK(r.migrated == 200);
  CHECK(r.peak_connections <= 4);
  CHECK(at_version(admin, schemas, 1) == 200);
  REQUIRE_FALSE(seen.empty());
  CHECK(seen.back().done == 200);
  CHECK(seen.back().total == 200);
  CHECK(std::any_of(seen.begin(), seen.end(), [](const auto& p) { return p.eta.has_value(); }));
  CHECK_THAT(seen[seen.size() / 2].line(), Catch::Matchers::Contains("/200 done") && Catch::Matchers::Contains("ETA"));

  // ---- the rest, in a child process SIGKILLed half way
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    try {
      migrate::FleetOptions o;
      o.connections = 4;
      migrate::run_fleet<PgConn>([&] { return PgConn(url); }, schemas, org_migrations(0.02), o);
    } catch (...) {
    }
    ::_exit(0);  // never run the parent's atexit handlers (they drop the test databases)
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (at_version(admin, schemas, 2) < 30 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  REQUIRE(WIFSIGNALED(status));
  const std::size_t done_before = at_version(admin, schemas, 2);
  INFO("orgs at version 2 when killed: " << done_before);
  REQUIRE(done_before >= 30);
  REQUIRE(done_before < 200);  // really half way
  CHECK(at_version(admin, schemas, 1) == 200 - done_before);  // the others untouched

  // ---- resumed: every org at 2, each migration applied once
  migrate::FleetOptions again;
  again.connections = 4;
  r = migrate::run_fleet<PgConn>(connect, schemas, org_migrations(0.02), again);  // the same files
  INFO(r.orgs[0].error);
  CHECK(r.ok());
  CHECK(r.migrated == 200 - done_before);
  CHECK(r.unchanged == done_before);
  CHECK(at_version(admin, schemas, 2) == 200);
  expect_each_applied_once(db, schemas);
  // The control table has caught up with every org.
  CHECK(scalar(db, "SELECT COUNT(*) FROM public._tenantry_fleet WHERE version = 2 AND error IS NULL") == 200);
}

TEST_CASE("fleet: a failing canary stops the fleet; a locked org is busy, not blocking", "[migrate_gen][fleet]") {
  const std::string url = tenantry_test::pg_url();
  PgConn admin(url);
  const auto schemas = make_schemas(admin, 40);
  const auto connect = [&] { return PgConn(url); };
  migrate::FleetOptions to1;
  to1.target = 1;
  REQUIRE(migrate::run_fleet<PgConn>(connect, schemas, org_migrations(), to1).ok());

  // The canary org already has a column the migration adds: 0002 fails there.
  admin.execute("ALTER TABLE org_0003.notes ADD COLUMN body TEXT");
  migrate::FleetOptions canary;
  canary.canary = {"org_0003", "org_0004"};
  auto r = migrate::run_fleet<PgConn>(connect, schemas, org_migrations(), canary);
  CHECK(r.stopped_by_canary);
  CHECK_FALSE(r.ok());
  CHECK(r.failed == 1);
  CHECK(r.not_attempted == 38);
  CHECK_THAT(r.orgs[3].error, Catch::Matchers::Contains("already exists"));
  CHECK(at_version(admin, schemas, 2) <= 1);  // org_0004 may have gone; nothing else did
  CHECK(at_version(admin, schemas, 1) >= 39);
  admin.execute("ALTER TABLE org_0003.notes DROP COLUMN body");

  // The application holds a lock on one org's table: that org times out, the rest go on.
  PgConn app(url);
  app.execute("BEGIN; LOCK TABLE org_0007.notes IN ACCESS EXCLUSIVE MODE");
  migrate::FleetOptions busy;
  busy.lock_timeout = std::chrono::milliseconds(100);
  busy.retries = 1;
  const auto t0 = std::chrono::steady_clock::now();
  r = migrate::run_fleet<PgConn>(connect, schemas, org_migrations(), busy);
  const auto took = std::chrono::steady_clock::now() - t0;
  CHECK(r.failed == 1);
  CHECK(r.orgs[7].busy);
  CHECK(r.orgs[7].attempts == 2);  // retried once, after the others
  CHECK_THAT(r.orgs[7].error, Catch::Matchers::Contains("lock timeout"));
  CHECK(at_version(admin, schemas, 2) == 39);
  CHECK(took < std::chrono::seconds(30));  // nobody waited for the lock
  app.execute("ROLLBACK");
  r = migrate::run_fleet<PgConn>(connect, schemas, org_migrations(), busy);
  CHECK(r.ok());
  CHECK(r.migrated == 1);
  CHECK(at_version(admin, schemas, 2) == 40);

  // A schema that does not exist is an error for that org; its migrations never land in public
  // (which a search path naming a missing schema first would make the current schema).
  r = migrate::run_fleet<PgConn>(connect, {"org_missing"}, org_migrations(), busy);
  CHECK(r.failed == 1);
  CHECK_THAT(r.orgs[0].error, Catch::Matchers::Contains("does not exist"));
  tenantry::Database db = tenantry::connect(url);
  CHECK(scalar(db, "SELECT COUNT(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                   " WHERE n.nspname = 'public' AND c.relname IN ('notes', 'applied_log', '_tenantry_migrations')") == 0);
}

TEST_CASE("fleet: measured on TENANTRY_FLEET_ORGS schemas (default 1000)", "[.fleet-measure]") {
  const char* env = std::getenv("TENANTRY_FLEET_ORGS");
  const std::size_t n = env != nullptr ? std::strtoul(env, nullptr, 10) : 1000;
  const std::string url = tenantry_test::pg_url();
  PgConn admin(url);
  const auto t0 = std::chrono::steady_clock::now();
  const auto schemas = make_schemas(admin, n);
  const double create_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (std::size_t c : {std::size_t{1}, std::size_t{2}, std::size_t{4}, std::size_t{8}}) {
    // Each round: reset every org to nothing, then the two migrations.
    // (in batches: one transaction dropping every schema would run out of lock slots)
    for (std::size_t at = 0; at < schemas.size(); at += 50) {
      std::string sql;
      for (std::size_t i = at; i < std::min(schemas.size(), at + 50); ++i)
        sql += "DROP SCHEMA \"" + schemas[i] + "\" CASCADE; CREATE SCHEMA \"" + schemas[i] + "\";\n";
      admin.execute(sql);
    }
    migrate::FleetOptions opt;
    opt.connections = c;
    std::size_t peak_backends = 0;
    std::atomic<bool> stop{false};
    std::thread sampler([&] {
      PgConn probe(url);
      const tenantry::Sql q = tenantry::intern_sql(
          "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'");
      while (!stop) {
        auto& st = probe.prepare(q);
        if (st.step()) peak_backends = std::max<std::size_t>(peak_backends, static_cast<std::size_t>(st.column_int(0)));
        st.reset();
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    });
    const auto r = migrate::run_fleet<PgConn>([&] { return PgConn(url); }, schemas, org_migrations(), opt);
    stop = true;
    sampler.join();
    REQUIRE(r.ok());
    std::vector<double> per;
    for (const auto& o : r.orgs) per.push_back(static_cast<double>(o.took.count()) / 1000.0);
    std::sort(per.begin(), per.end());
    const double total_s = static_cast<double>(r.total.count()) / 1000.0;
    std::printf("fleet measure: %zu org schemas, %zu connection(s): total %.2f s, %.2f ms per org (wall), per-org "
                "median %.2f ms, p95 %.2f ms, max %.2f ms; peak worker connections %zu, peak client backends %zu"
                " (incl. the probe and the test's own); 10,000 orgs at this rate: %.0f s (schemas created in %.2f s)\n",
                n, c, total_s, total_s * 1000.0 / static_cast<double>(n), per[per.size() / 2],
                per[per.size() * 95 / 100], per.back(), r.peak_connections, peak_backends, total_s * 10000.0 / static_cast<double>(n),
                create_s);
  }
}
