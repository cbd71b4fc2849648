// The proof case of the migration generator: the seeds' single-tenant -> multi-tenant upgrade.
// Two copies of the same populated single-tenant database (migrations/upgrade/<dialect>/0001);
// one is upgraded by the hand-written 0002_multi_tenant, the other by the 0002 generated from
// the diff between its catalog and the app's multi-tenant entities (examples/app/upgrade.hpp
// holds the decisions: fill org_id with the default org, seed it, convert SQLite's session
// expiry). Then, on both dialects:
//   * the two catalogs are identical (SQLite: the same CREATE statements byte for byte;
//     PostgreSQL: every column in the same position, constraint, index and flag);
//   * every row is identical (the default org's timestamps aside: both say now());
//   * the generated down file restores the original catalog and rows exactly, and refuses
//     while a second org exists.
#include "gen_support.hpp"

#include "app/single_tenant_rows.hpp"
#include "app/upgrade.hpp"
#include "support/migration_dir.hpp"

#include <tenantry/migration_gen.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <vector>

using namespace gen_test;
namespace migrate = tenantry::migrate;
namespace catalog = tenantry::catalog;

namespace {

/// Every row of every table but the migration records, as sorted lines (organizations without
/// its timestamps).
std::vector<std::string> every_row(tenantry::Database& db) {
  std::vector<std::string> out;
  for (const auto& t : catalog::read_schema(db).tables) {
    std::vector<std::string> cols;
    for (const auto& c : t.columns)
      if (t.name != "organizations" || (c.name != "created_at" && c.name != "updated_at")) cols.push_back(c.name);
    std::sort(cols.begin(), cols.end());
    std::string expr;
    for (const auto& c : cols) {
      if (!expr.empty()) expr += " || '|' || ";
      expr += db.is_sqlite() ? "quote(\"" + c + "\")" : "quote_nullable(\"" + c + "\"::text)";
    }
    for (auto& line : texts(db, "SELECT " + expr + " FROM \"" + t.name + "\"")) out.push_back(t.name + ": " + line);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("seed upgrade: the generated multi-tenant upgrade equals the hand-written one, and goes back",
          "[migrate_gen][seed_upgrade]") {
  const Dialect d = GENERATE(Dialect::sqlite, Dialect::postgres);
  SECTION(name(d)) {
    const bool pg = d == Dialect::postgres;
    const std::filesystem::path hand = migrations(std::string("upgrade/") + name(d));
    std::optional<TempSqlite> file_a, file_b;
    tenantry::Database a = tenantry::connect(fresh_url(d, file_a));
    tenantry::Database b = tenantry::connect(fresh_url(d, file_b));
    for (tenantry::Database* db : {&a, &b}) {
      migrate::Runner(*db, hand).up(app::initial_schema_version);
      db->execute(single_tenant_rows(d));
    }
    const auto single_tenant_schema = schema_snapshot(b);
    const auto single_tenant_rows_before = every_row(b);
    REQUIRE(single_tenant_rows_before.size() == 23);

    // The generated 0002, next to a copy of the hand-written 0001.
    testdb::MigrationDir dir("seed-upgrade");
    for (const char* f : {"0001_single_tenant.up.sql", "0001_single_tenant.down.sql"})
      std::filesystem::copy_file(hand / f, dir.file(f));
    const catalog::Schema single = catalog::read_schema(b);
    const catalog::Schema multi = app::entity_schema(b);
    const migrate::Generated g = migrate::generate(single, multi, app::multi_tenant_upgrade_decisions(pg));
    const auto up_path = migrate::write_files(dir.path(), "multi_tenant", g);
    CHECK(up_path.filename() == "0002_multi_tenant.up.sql");
    INFO("generated up:\n" << migrate::read_file(up_path));
    CHECK(g.up.no_transaction == !pg);  // SQLite: the table rebuild, in the file's own transaction

    // ---- the same upgrade, one hand-written, one generated
    migrate::Runner hand_runner(a, hand);
    migrate::Runner gen_runner(b, dir.path());
    REQUIRE(hand_runner.up(app::multi_tenant_upgrade_version).versions == std::vector<std::int64_t>{2});
    REQUIRE(gen_runner.up().versions == std::vector<std::int64_t>{2});
    {
      const auto by_hand = schema_snapshot(a), generated = schema_snapshot(b);
      INFO("hand-written vs generated:\n" << diff(by_hand, generated));
      CHECK(by_hand == generated);
    }
    {
      const auto by_hand = every_row(a), generated = every_row(b);
      INFO("rows, hand-written vs generated:\n" << diff(by_hand, generated));
      CHECK(by_hand == generated);
      CHECK(generated.size() == single_tenant_rows_before.size() + 1);  // + the default org
    }
    // And it is what the entities describe: nothing left to generate.
    CHECK(migrate::diff(catalog::read_schema(b), app::entity_schema(b)).empty());
    if (!pg) CHECK(scalar(b, "PRAGMA foreign_keys") == 1);

    // ---- down: refused while another org exists
    b.execute(std::string("INSERT INTO organizations (id, slug, display_name, kc_client_id, client_secret,"
                          " encryption_key, status, created_at, updated_at) VALUES"
                          " ('00000000-0000-4000-8000-0000000000b2', 'other', 'Other', '', '', '', 'active', ") +
              (pg ? "now(), now())" : "'2024-01-01T00:00:00.000000Z', '2024-01-01T00:00:00.000000Z')"));
    const auto multi_tenant_schema = schema_snapshot(b);
    try {
      gen_runner.down(app::initial_schema_version);
      FAIL("down went back to single-tenant with a second org present");
    } catch (const tenantry::MigrationError& e) {
      CHECK(e.kind() == tenantry::MigrationError::Kind::failed);
      CHECK_THAT(e.what(), Catch::Matchers::Contains(pg ? "other organizations exist" : "other_orgs_exist"));
      CHECK(e.marked_dirty() == !pg);
    }
    if (!pg) gen_runner.force(app::multi_tenant_upgrade_version);  // the file's own transaction rolled back
    CHECK(schema_snapshot(b) == multi_tenant_schema);
    b.execute("DELETE FROM organizations WHERE slug = 'other'");

    // ---- down: the original catalog and rows, exactly
    REQUIRE(gen_runner.down(app::initial_schema_version).versions == std::vector<std::int64_t>{2});
    {
      const auto back = schema_snapshot(b);
      INFO("after the generated down vs the single-tenant schema:\n" << diff(back, single_tenant_schema));
      CHECK(back == single_tenant_schema);
    }
    CHECK(every_row(b) == single_tenant_rows_before);
    if (!pg) CHECK(scalar(b, "PRAGMA foreign_keys") == 1);
    // ... and up again.
    REQUIRE(gen_runner.up().versions == std::vector<std::int64_t>{2});
    CHECK(schema_snapshot(b) == schema_snapshot(a));
  }
}
