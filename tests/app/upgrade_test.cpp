// The upgrade path (migrations/upgrade/<dialect>): a populated single-tenant database (0001, the
// ten tables without org_id and with global uniques) becomes the multi-tenant schema (0002), on
// SQLite (the table rebuild, outside the runner's transaction) and PostgreSQL (ALTER TABLE in
// one transaction):
//   * the result is the schema the entities generate (the fresh directory's), catalog for catalog;
//   * every row of every table survives, in the default org, and reads back through the app's
//     repositories;
//   * the uniques are org-scoped now: a second org may reuse an alias, a prefix, a toolset type,
//     a (user, slug); the same org still may not;
//   * going back (down) is refused while a second org exists, and otherwise returns to the
//     single-tenant schema with every row as it was.
#include "app_support.hpp"
#include "single_tenant_rows.hpp"

#include "app/repositories.hpp"
#include "app/schema.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <fstream>
#include <map>
#include <string>
#include <vector>

using namespace app_test;
namespace migrate = tenantry::migrate;
using tenantry::AnyDialect;
using tenantry::OrgId;
using tenantry::Timestamp;

namespace {

const OrgId default_org = OrgId::parse("00000000-0000-4000-8000-000000000001");

const std::vector<std::string> old_tables{
    "download_requests",   "access_requests", "api_tokens",   "api_model_aliases",   "model_metadata",
    "app_toolset_configs", "toolsets",        "user_aliases", "app_access_requests", "tower_sessions"};

/// The columns `table` has now, in order.
std::vector<std::string> columns_of(tenantry::Database& db, const std::string& table) {
  return texts(db, db.is_sqlite() ? "SELECT name FROM pragma_table_info('" + table + "') ORDER BY cid"
                                  : "SELECT column_name::text FROM information_schema.columns WHERE table_schema ="
                                    " current_schema() AND table_name = '" +
                                        table + "' ORDER BY ordinal_position");
}

/// Every row of every table, each as one line of SQL literals over the single-tenant columns
/// `cols` (org_id left out), ordered by id: equal before and after only if every value is.
std::map<std::string, std::vector<std::string>> rows_of(tenantry::Database& db,
                                                        const std::map<std::string, std::vector<std::string>>& cols,
                                                        bool multi_tenant) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& [table, names] : cols) {
    std::string expr;
    for (const auto& c : names) {
      if (!expr.empty()) expr += " || '|' || ";
      std::string value = "\"" + c + "\"";
      // On SQLite the upgrade turns tower-sessions' Unix seconds into ISO text: compare seconds.
      if (db.is_sqlite() && multi_tenant && table == "tower_sessions" && c == "expiry_date")
        value = "CAST(strftime('%s', \"expiry_date\") AS INTEGER)";
      expr += db.is_sqlite() ? "quote(" + value + ")" : "quote_nullable(" + value + "::text)";
    }
    out[table] = texts(db, "SELECT " + expr + " FROM \"" + table + "\" ORDER BY id");
  }
  return out;
}

template <class E>
std::int64_t count_in(tenantry::Database& db, OrgId org) {
  return tenantry::Repository<E, AnyDialect>(db).count(org);
}

/// An insert through the repository must be refused by a UNIQUE constraint.
template <class E>
void expect_unique_violation(tenantry::Database& db, OrgId org, E row) {
  row.id = tenantry::Uuid::time_ordered();
  row.org_id = {};
  row.created_at = row.updated_at = Timestamp::now();
  tenantry::Repository<E, AnyDialect> repo(db);
  CHECK_THROWS_AS(repo.insert(org, row), tenantry::UniqueViolation);
}

}  // namespace

TEST_CASE("upgrade path: a populated single-tenant database becomes multi-tenant, and back", "[app][upgrade]") {
  const Dialect d = GENERATE(Dialect::sqlite, Dialect::postgres);
  SECTION(name(d)) {
    const bool pg = d == Dialect::postgres;
    std::optional<TempSqlite> file, fresh_file;
    tenantry::Database db = tenantry::connect(fresh_url(d, file));
    migrate::Runner runner(db, migrations(std::string("upgrade/") + name(d)));

    // ---- the single-tenant database, with data in every table
    REQUIRE(versions(runner.up(app::initial_schema_version)) == std::vector<std::int64_t>{1});
    {
      auto tx = db.transaction();
      db.execute(single_tenant_rows(d));
      tx.commit();
    }
    const auto single_tenant_schema = schema_snapshot(db);
    std::map<std::string, std::vector<std::string>> old_columns;
    for (const auto& t : old_tables) old_columns[t] = columns_of(db, t);
    const auto rows_before = rows_of(db, old_columns, false);
    for (const auto& t : old_tables) {
      INFO(t);
      CHECK(rows_before.at(t).size() >= 2);
    }
    // The global uniques hold in the single-tenant schema.
    CHECK_THROWS(
        db.execute("INSERT INTO user_aliases (id, alias, repo, filename, snapshot, request_params,"
                   " context_params, created_at, updated_at) VALUES ('0191e2a4-0000-7000-8000-0000000020ff',"
                   " 'llama3:instruct', 'r', 'f', 'main', '{}', '[]', '2024-01-01T00:00:00Z',"
                   " '2024-01-01T00:00:00Z')"));

    // ---- the upgrade
    std::vector<migrate::Progress> finished;
    runner.on_progress([&](const migrate::Progress& p) {
      if (p.event == migrate::Progress::Event::finished) finished.push_back(p);
    });
    REQUIRE(versions(runner.up(app::multi_tenant_upgrade_version)) == std::vector<std::int64_t>{2});
    REQUIRE(finished.size() == 1);
    CHECK(finished[0].no_transaction == !pg);  // SQLite: the rebuild runs outside the runner's transaction
    if (!pg) CHECK(scalar(db, "PRAGMA foreign_keys") == 1);  // switched back on by the file

    // The schema is the one the entities generate: the fresh directory's 0001 (PostgreSQL: the
    // same catalog, except that org_id comes last on the upgraded tables).
    tenantry::Database fresh = tenantry::connect(fresh_url(d, fresh_file));
    migrate::Runner fresh_runner(fresh, migrations(name(d)));
    fresh_runner.up(app::initial_schema_version);
    const SnapshotOptions by_name{.ignore_column_order = pg};
    {
      const auto upgraded = schema_snapshot(db, by_name), created = schema_snapshot(fresh, by_name);
      INFO("upgraded vs created fresh:\n" << diff(upgraded, created));
      CHECK(upgraded == created);
    }

    // Every row survived, unchanged, in the default org.
    CHECK(rows_of(db, old_columns, true) == rows_before);
    for (const auto& t : old_tables) {
      INFO(t);
      CHECK(scalar(db, "SELECT COUNT(*) FROM \"" + t + "\" WHERE org_id <> '" + default_org.to_string() + "'") == 0);
    }
    app::DbService<AnyDialect> s(db);
    const auto def = s.orgs.get_org_by_slug("default");
    REQUIRE(def);
    CHECK(def->id == default_org.value);
    CHECK(s.orgs.list_orgs().size() == 1);
    // ... and reads back through the repositories, every column decoded.
    std::size_t k = 0;
    app::for_each_entity<app::OrgScopedEntities>([&]<class E>(std::type_identity<E>) {
      const std::string& table = tenantry::table_info<E>().name;
      INFO(table);
      CHECK(tenantry::Repository<E, AnyDialect>(db).list(default_org).size() == rows_before.at(table).size());
      ++k;
    });
    CHECK(k == old_tables.size());
    const auto session = s.sessions.load(default_org, "session-alice", Timestamp::parse("2000-01-01T00:00:00Z"));
    REQUIRE(session);
    CHECK(session->expiry_date == Timestamp::parse("2024-01-31T12:00:00Z"));
    CHECK(session->user_id == "alice");
    const auto alias = s.aliases.get_user_alias_by_name(default_org, "llama3:instruct");
    REQUIRE(alias);
    CHECK(alias->filename == "Meta-Llama-3-8B-Instruct.Q8_0.gguf");
    CHECK(s.models.list_download_requests(default_org, 1, 10).total == 3);
    CHECK(s.toolsets.get_app_toolset_config(default_org, "builtin-weather").value().enabled == false);

    // ---- the uniques are org-scoped now
    app::Organization other_org{.slug = "other",
                                .display_name = "Other",
                                .kc_client_id = "kc-other",
                                .client_secret = "enc:s",
                                .encryption_key = "enc:k"};
    s.orgs.create_org(other_org);
    const OrgId other{other_org.id};
    // The same alias, prefix, toolset type, (user, slug) and token prefix in a second org.
    app::UserAlias same_alias{.alias = "llama3:instruct",
                              .repo = "r",
                              .filename = "f",
                              .snapshot = "main",
                              .request_params = app::Json{"{}"},
                              .context_params = app::Json{"[]"}};
    s.aliases.set_user_alias(other, same_alias);
    CHECK(same_alias.id != alias->id);
    app::ApiModelAlias same_prefix{
        .name = "openai", .base_url = "https://example.com", .models = app::Json{"[]"}, .prefix = "oai/"};
    s.models.create_api_model_alias(other, same_prefix);
    s.toolsets.set_app_toolset_enabled(other, "builtin-weather", true, "admin2");
    app::Toolset same_slug{.user_id = "alice", .toolset_type = "builtin-exa-web-search", .slug = "exa-search"};
    s.toolsets.create_toolset(other, same_slug);
    app::ApiToken same_token{.user_id = "alice",
                             .name = "t",
                             .token_prefix = "bodhiapp_demo01",
                             .token_hash = "sha256:cc",
                             .scopes = "scope_token_user"};
    s.tokens.create_api_token(other, same_token);
    CHECK(count_in<app::UserAlias>(db, other) == 1);
    CHECK(count_in<app::UserAlias>(db, default_org) == 2);
    CHECK(s.aliases.get_user_alias_by_name(default_org, "llama3:instruct").value().id == alias->id);
    CHECK(s.toolsets.get_app_toolset_config(default_org, "builtin-weather").value().enabled == false);
    CHECK(s.toolsets.get_app_toolset_config(other, "builtin-weather").value().enabled == true);
    // Within one org they still conflict.
    expect_unique_violation(db, default_org, same_alias);
    expect_unique_violation(db, default_org, same_prefix);
    expect_unique_violation(db, default_org, same_slug);
    expect_unique_violation(db, default_org, same_token);
    app::AppToolsetConfig same_type{.toolset_type = "builtin-weather", .enabled = true, .updated_by = "x"};
    expect_unique_violation(db, default_org, same_type);

    // ---- PostgreSQL: the upgrade directory's 0003 adds the same row-level security
    if (pg) {
      CHECK(versions(runner.up()) == std::vector<std::int64_t>{3});
      fresh_runner.up();
      const auto upgraded = schema_snapshot(db, by_name), created = schema_snapshot(fresh, by_name);
      INFO("with row-level security, upgraded vs created fresh:\n" << diff(upgraded, created));
      CHECK(upgraded == created);
      CHECK(versions(runner.down(app::multi_tenant_upgrade_version)) == std::vector<std::int64_t>{3});
    }
    const auto multi_tenant_schema = schema_snapshot(db);

    // ---- going back is refused while another org exists; nothing changes
    try {
      runner.down(app::initial_schema_version);
      FAIL("down to the single-tenant schema succeeded with a second org present");
    } catch (const tenantry::MigrationError& e) {
      CHECK(e.kind() == tenantry::MigrationError::Kind::failed);
      CHECK(e.version() == 2);
      CHECK_THAT(e.what(), Catch::Matchers::Contains(pg ? "other organizations exist" : "other_orgs_exist"));
      // SQLite's down file runs outside the runner's transaction (it opens its own, which the
      // refusal rolled back): the record is dirty until someone says where the database is.
      CHECK(e.marked_dirty() == !pg);
    }
    if (!pg) {
      CHECK_THROWS_AS(runner.up(), tenantry::MigrationError);  // dirty: every run refuses
      runner.force(app::multi_tenant_upgrade_version);         // nothing of it took effect
    }
    CHECK(schema_snapshot(db) == multi_tenant_schema);
    CHECK(count_in<app::UserAlias>(db, other) == 1);

    // ---- without the second org, down returns to the single-tenant schema with every row
    CHECK(tenantry::Repository<app::Organization, AnyDialect>(db).erase(other_org.id));  // cascades its rows
    CHECK(versions(runner.down(app::initial_schema_version)) == std::vector<std::int64_t>{2});
    {
      const auto back = schema_snapshot(db);
      INFO("after down vs the single-tenant schema:\n" << diff(back, single_tenant_schema));
      CHECK(back == single_tenant_schema);
    }
    CHECK(rows_of(db, old_columns, false) == rows_before);
    if (!pg) CHECK(scalar(db, "PRAGMA foreign_keys") == 1);
    for (const auto& st : runner.status()) CHECK(st.applied == (st.version == 1));

    // ... and up again: the same multi-tenant schema and rows.
    CHECK(versions(runner.up(app::multi_tenant_upgrade_version)) == std::vector<std::int64_t>{2});
    CHECK(schema_snapshot(db) == multi_tenant_schema);
    CHECK(rows_of(db, old_columns, true) == rows_before);
  }
}

TEST_CASE("upgrade path: a foreign key violation aborts the SQLite rebuild and changes nothing", "[app][upgrade]") {
  // PRAGMA foreign_key_check only lists violations; the upgrade file turns a non-empty list into
  // an error that rolls its transaction back. To see that, run a copy of the upgrade directory
  // whose default org gets another id than the one the rows are copied into: every copied row
  // then references a missing org, which only the check can notice (foreign keys are off while
  // the tables are rebuilt).
  const fs::path dir = fs::temp_directory_path() / ("tenantry-app-upgrade-" + std::to_string(::getpid()) + "-" +
                                                    tenantry::Uuid::random().to_string().substr(0, 8));
  fs::create_directories(dir);
  struct RemoveDir {
    fs::path p;
    ~RemoveDir() {
      std::error_code ec;
      fs::remove_all(p, ec);
    }
  } cleanup{dir};
  for (const auto& entry : fs::directory_iterator(migrations("upgrade/sqlite"))) {
    std::string sql = tenantry::migrate::read_file(entry.path());
    if (entry.path().filename() == "0002_multi_tenant.up.sql") {
      const std::string from = "VALUES ('" + default_org.to_string() + "', 'default'";
      REQUIRE(sql.find(from) != std::string::npos);
      replace_all(sql, from, "VALUES ('00000000-0000-4000-8000-0000000000ff', 'default'");
    }
    std::ofstream(dir / entry.path().filename(), std::ios::binary) << sql;
  }

  TempSqlite file;
  tenantry::Database db = tenantry::connect(file.url());
  migrate::Runner runner(db, dir);
  runner.up(app::initial_schema_version);
  db.execute(single_tenant_rows(Dialect::sqlite));
  const auto before = schema_snapshot(db);
  try {
    runner.up();
    FAIL("the upgrade succeeded with rows referencing a missing org");
  } catch (const tenantry::MigrationError& e) {
    CHECK(e.kind() == tenantry::MigrationError::Kind::failed);
    CHECK(e.version() == 2);
    CHECK_THAT(e.what(), Catch::Matchers::Contains("foreign_key_check_found_violations"));
    CHECK(e.marked_dirty());
  }
  const auto after = schema_snapshot(db);
  INFO(diff(before, after));
  CHECK(after == before);  // the file's own transaction rolled back: still the single-tenant schema
  CHECK(scalar(db, "SELECT COUNT(*) FROM user_aliases") == 2);
}
