// The start-up drift check (tenantry/drift.hpp) on real databases: a database migrated by the
// app's migrations matches its entities; every kind of hand edit afterwards - the ones that
// would quietly weaken tenant isolation included (a dropped isolation policy, a UNIQUE no longer
// scoped to the org, a foreign key whose ON DELETE changed) - is reported, each as one line,
// all of them at once, in a SchemaDriftError.
#include "gen_support.hpp"

#include "support/expect_throw.hpp"

#include <tenantry/drift.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace gen_test;

namespace {

template <class... Es>
void check(tenantry::Database& db, std::type_identity<std::tuple<Es...>>, bool rls) {
  tenantry::check_schema<Es...>(db, tenantry::DriftOptions{.ddl = {.row_level_security = rls}});
}

bool mentions(const std::vector<std::string>& lines, const std::string& text) {
  return std::any_of(lines.begin(), lines.end(), [&](const std::string& l) { return l.find(text) != std::string::npos; });
}

}  // namespace

TEST_CASE("drift: a freshly migrated database matches its entities; every edit is reported", "[migrate_gen][drift]") {
  const Dialect d = GENERATE(Dialect::sqlite, Dialect::postgres);
  SECTION(name(d)) {
    const bool pg = d == Dialect::postgres;
    std::optional<TempSqlite> file;
    tenantry::Database db = tenantry::connect(fresh_url(d, file));
    tenantry::migrate::Runner(db, migrations(name(d))).up();
    const std::type_identity<app::AllEntities> all;
    check(db, all, pg);  // no throw: it matches
    // Without row-level security expected, the policies are differences.
    if (pg) {
      const auto e = testdb::expect_throw<tenantry::SchemaDriftError>([&] { check(db, all, false); });
      CHECK(e.differences().size() == 30);  // per table: drop policy, no force, disable
    }

    // ---- edits by hand
    db.execute("DROP INDEX ix_api_tokens_org_id_user_id");
    db.execute("CREATE TABLE scratch (id INTEGER PRIMARY KEY)");
    db.execute("ALTER TABLE user_aliases ADD COLUMN notes TEXT");
    if (pg) {
      db.execute("DROP POLICY api_tokens_org_isolation ON api_tokens");
      db.execute("ALTER TABLE toolsets DROP CONSTRAINT uq_toolsets_org_id_user_id_slug");
      db.execute("ALTER TABLE toolsets ADD CONSTRAINT uq_toolsets_org_id_user_id_slug UNIQUE (user_id, slug)");
      db.execute("ALTER TABLE download_requests ALTER COLUMN downloaded_bytes DROP DEFAULT");
      db.execute("ALTER TABLE access_requests DROP CONSTRAINT fk_access_requests_org_id");
      db.execute("ALTER TABLE access_requests ADD CONSTRAINT fk_access_requests_org_id FOREIGN KEY (org_id)"
                 " REFERENCES organizations (id) ON DELETE RESTRICT");
      db.execute("ALTER TABLE model_metadata ALTER COLUMN architecture SET NOT NULL");
    } else {
      // SQLite cannot alter a constraint in place: the table is rebuilt by hand without it.
      db.execute("PRAGMA foreign_keys = OFF");
      db.execute("CREATE TABLE t2 (id TEXT NOT NULL PRIMARY KEY, org_id TEXT NOT NULL, toolset_type TEXT NOT NULL,"
                 " enabled INTEGER NOT NULL, updated_by TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)");
      db.execute("DROP TABLE app_toolset_configs");
      db.execute("ALTER TABLE t2 RENAME TO app_toolset_configs");
      db.execute("PRAGMA foreign_keys = ON");
    }
    const auto e = testdb::expect_throw<tenantry::SchemaDriftError>([&] { check(db, all, pg); });
    INFO(e.what());
    const auto& diffs = e.differences();
    CHECK(mentions(diffs, "api_tokens: add index ix_api_tokens_org_id_user_id"));
    CHECK(mentions(diffs, "scratch: drop table"));
    CHECK(mentions(diffs, "user_aliases: drop column notes"));
    if (pg) {
      CHECK(mentions(diffs, "api_tokens: add policy api_tokens_org_isolation"));
      CHECK(mentions(diffs, "toolsets: drop unique uq_toolsets_org_id_user_id_slug (user_id, slug)"));
      CHECK(mentions(diffs, "toolsets: add unique uq_toolsets_org_id_user_id_slug (org_id, user_id, slug)"));
      CHECK(mentions(diffs, "download_requests: set the default of downloaded_bytes to 0"));
      CHECK(mentions(diffs, "access_requests: add foreign key fk_access_requests_org_id (org_id) REFERENCES organizations (id) ON DELETE CASCADE"));
      CHECK(mentions(diffs, "model_metadata: make architecture nullable"));
      CHECK(diffs.size() == 10);
    } else {
      CHECK(mentions(diffs, "app_toolset_configs: add unique uq_app_toolset_configs_org_id_toolset_type (org_id, toolset_type)"));
      CHECK(mentions(diffs, "app_toolset_configs: add foreign key fk_app_toolset_configs_org_id"));
      CHECK(mentions(diffs, "app_toolset_configs: add check ck_app_toolset_configs_enabled_bool"));
      CHECK(mentions(diffs, "app_toolset_configs: rename primary key (unnamed) to pk_app_toolset_configs"));
    }
    CHECK_THAT(e.what(), Catch::Matchers::Contains("does not match the entities"));
    // Tables the entities do not declare can be left out of the check.
    CHECK_FALSE(mentions(tenantry::schema_drift(db, app_entity_schema(db, pg), {.other_tables = {"scratch"}}),
                         "scratch"));
  }
}
