// The reference app's migration directories on real databases of both dialects:
//   * migrations/<dialect> applies to a fresh database, and a second run does nothing;
//   * what it creates is exactly the schema the entities generate (SQLite: the same DDL text;
//     PostgreSQL: the same catalog, row-level security included);
//   * up / down / up leaves an identical schema, for the fresh directory, the upgrade path's
//     directory and the separate session database's directory.
#include "app_support.hpp"

#include "app/schema.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace app_test;
namespace migrate = tenantry::migrate;

namespace {

/// The schema the entities generate, created directly (not by the migrations), with the
/// row-level security policies on PostgreSQL.
std::vector<std::string> entities_snapshot(Dialect d) {
  std::optional<TempSqlite> file;
  tenantry::Database db = tenantry::connect(fresh_url(d, file));
  app::create_app_schema(db, tenantry::DdlOptions{.row_level_security = d == Dialect::postgres});
  return schema_snapshot(db);
}

/// up, then down(0), then up again on a fresh database: the schema after the second up is the
/// one after the first, and down(0) leaves no app table behind. Returns the schema.
std::vector<std::string> up_down_up(Dialect d, const fs::path& dir, const std::vector<std::int64_t>& all_versions) {
  std::optional<TempSqlite> file;
  tenantry::Database db = tenantry::connect(fresh_url(d, file));
  migrate::Runner runner(db, dir);

  CHECK(versions(runner.up()) == all_versions);
  const auto first = schema_snapshot(db);
  CHECK_FALSE(first.empty());

  std::vector<std::int64_t> reverted(all_versions.rbegin(), all_versions.rend());
  CHECK(versions(runner.down(0)) == reverted);
  const auto none = schema_snapshot(db);
  INFO("left behind by down(0):\n" << diff({}, none));
  CHECK(none.empty());
  for (const auto& s : runner.status()) CHECK_FALSE(s.applied);

  CHECK(versions(runner.up()) == all_versions);
  const auto again = schema_snapshot(db);
  INFO("schema after up/down/up differs from after up:\n" << diff(first, again));
  CHECK(again == first);
  return first;
}

}  // namespace

TEST_CASE("app migrations: a fresh database, then a second run that does nothing", "[app][migrate]") {
  const Dialect d = GENERATE(Dialect::sqlite, Dialect::postgres);
  SECTION(name(d)) {
    std::optional<TempSqlite> file;
    tenantry::Database db = tenantry::connect(fresh_url(d, file));
    migrate::Runner runner(db, migrations(name(d)));
    const std::vector<std::int64_t> expected = d == Dialect::sqlite ? std::vector<std::int64_t>{1}
                                                                    : std::vector<std::int64_t>{1, 3};

    std::vector<std::int64_t> finished;
    runner.on_progress([&](const migrate::Progress& p) {
      if (p.event == migrate::Progress::Event::finished) finished.push_back(p.version);
    });
    CHECK(versions(runner.up()) == expected);
    CHECK(finished == expected);

    const auto second = runner.up();
    CHECK(second.versions.empty());
    CHECK(second.skipped.empty());
    for (const auto& s : runner.status()) {
      INFO("version " << s.version);
      CHECK(s.applied);
      CHECK_FALSE(s.dirty);
      CHECK(s.checksum_ok);
      CHECK(s.has_down);
    }

    // What the migrations made is what the entities declare.
    const auto migrated = schema_snapshot(db);
    const auto declared = entities_snapshot(d);
    INFO("migrations vs entities:\n" << diff(migrated, declared));
    CHECK(migrated == declared);
  }
}

TEST_CASE("app migrations: up / down / up leaves an identical schema", "[app][migrate]") {
  const Dialect d = GENERATE(Dialect::sqlite, Dialect::postgres);
  SECTION(name(d)) {
    SECTION("migrations/<dialect>") {
      up_down_up(d, migrations(name(d)),
                 d == Dialect::sqlite ? std::vector<std::int64_t>{1} : std::vector<std::int64_t>{1, 3});
    }
    SECTION("migrations/upgrade/<dialect>") {
      up_down_up(d, migrations(std::string("upgrade/") + name(d)),
                 d == Dialect::sqlite ? std::vector<std::int64_t>{1, 2} : std::vector<std::int64_t>{1, 2, 3});
    }
    SECTION("migrations/sessions/<dialect>") {
      const auto sessions = up_down_up(
          d, migrations(std::string("sessions/") + name(d)),
          d == Dialect::sqlite ? std::vector<std::int64_t>{1} : std::vector<std::int64_t>{1, 2});
      // The session database holds tower_sessions alone, without the foreign key to organizations.
      for (const auto& line : sessions) {
        CHECK(line.find("tower_sessions") != std::string::npos);
        CHECK(line.find("REFERENCES") == std::string::npos);
      }
    }
  }
}

TEST_CASE("app migrations: row-level security is one migration of its own on PostgreSQL", "[app][migrate][rls]") {
  tenantry::Database db = tenantry::connect(tenantry_test::pg_url());
  migrate::Runner runner(db, migrations("postgres"));
  CHECK(versions(runner.up(app::row_level_security_version - 1)) == std::vector<std::int64_t>{1});
  const auto without = schema_snapshot(db);
  for (const auto& line : without) CHECK(line.find("policy ") != 0);

  CHECK(versions(runner.up()) == std::vector<std::int64_t>{3});
  const auto with = schema_snapshot(db);
  std::size_t policies = 0, forced = 0;
  for (const auto& line : with) {
    policies += line.starts_with("policy ");
    forced += line.starts_with("table ") && line.ends_with("rls true force true");
  }
  CHECK(policies == 10);  // one per org-scoped table; organizations is global
  CHECK(forced == 10);

  CHECK(versions(runner.down(1)) == std::vector<std::int64_t>{3});
  INFO(diff(without, schema_snapshot(db)));
  CHECK(schema_snapshot(db) == without);
}
