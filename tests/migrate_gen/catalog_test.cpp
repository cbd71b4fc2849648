// Reading the live schema (tenantry/catalog.hpp) on real databases of both dialects:
//   * the reference app's schema, created by its migrations, reads back as exactly what its
//     entities describe (entity_schema(): the same reader over the entities' DDL run where it
//     touches nothing);
//   * a hand-written schema (the single-tenant one of migrations/upgrade/) reads back with every
//     fact the description holds: types, NOT NULL, defaults, keys and their database-given
//     names, UNIQUEs, CHECKs, foreign key actions, DESC and partial indexes, policies;
//   * entity_schema() leaves no table behind.
#include "gen_support.hpp"

#include <catch2/catch.hpp>

using namespace gen_test;

TEST_CASE("catalog: the app's migrated schema reads back as its entities describe it", "[migrate_gen][catalog]") {
  const Dialect d = GENERATE(Dialect::sqlite, Dialect::postgres);
  SECTION(name(d)) {
    std::optional<TempSqlite> file;
    tenantry::Database db = tenantry::connect(fresh_url(d, file));
    tenantry::migrate::Runner runner(db, migrations(name(d)));
    runner.up();  // PostgreSQL: with 0003, row-level security
    const auto live = tenantry::catalog::read_schema(db);
    const auto want = app_entity_schema(db, d == Dialect::postgres);
    CHECK(live.tables.size() == 11);
    INFO(line_diff(tenantry::catalog::to_lines(live), tenantry::catalog::to_lines(want)));
    CHECK(tenantry::catalog::to_lines(live) == tenantry::catalog::to_lines(want));
    // The shadow left nothing behind.
    CHECK(tenantry::catalog::read_schema(db).tables.size() == 11);
    if (d == Dialect::postgres) CHECK(scalar(db, "SELECT COUNT(*) FROM pg_class WHERE relpersistence = 't'") == 0);
  }
}

TEST_CASE("catalog: a hand-written schema reads back fact by fact", "[migrate_gen][catalog]") {
  const Dialect d = GENERATE(Dialect::sqlite, Dialect::postgres);
  SECTION(name(d)) {
    const bool pg = d == Dialect::postgres;
    std::optional<TempSqlite> file;
    tenantry::Database db = tenantry::connect(fresh_url(d, file));
    tenantry::migrate::Runner runner(db, migrations(std::string("upgrade/") + name(d)));
    runner.up(1);
    db.execute(
        "CREATE TABLE extra (id INTEGER NOT NULL PRIMARY KEY, alias_id " + std::string(pg ? "UUID" : "TEXT") +
        " REFERENCES user_aliases (id) ON DELETE SET NULL, label VARCHAR(40) NOT NULL DEFAULT 'x',"
        " n INTEGER CHECK (n > 0), CONSTRAINT extra_label_n UNIQUE (label, n))");
    db.execute("CREATE INDEX extra_lower ON extra (lower(label) DESC) WHERE n IS NOT NULL");
    const auto s = tenantry::catalog::read_schema(db);
    CHECK(s.tables.size() == 11);
    const auto* t = s.table("download_requests");
    REQUIRE(t);
    REQUIRE(t->primary_key);
    CHECK(t->primary_key->name == (pg ? "download_requests_pkey" : ""));
    CHECK(t->primary_key->columns == std::vector<std::string>{"id"});
    const auto* col = t->column("downloaded_bytes");
    REQUIRE(col);
    CHECK(col->type == (pg ? "bigint" : "INTEGER"));
    CHECK(col->not_null);
    CHECK(col->default_sql == "0");
    CHECK_FALSE(t->column("error")->not_null);
    REQUIRE(t->checks.size() == 2);
    for (const auto& ck : t->checks) {
      if (pg) CHECK((ck.name == "download_requests_status_check" || ck.name == "download_requests_downloaded_bytes_check"));
    }
    CHECK(std::any_of(t->checks.begin(), t->checks.end(), [](const auto& ck) {
      return tenantry::sql_text::normalize_expression(ck.expression) == "downloaded_bytes >= 0";
    }));
    REQUIRE(t->indexes.size() == 3);
    const auto* created = &t->indexes[0];
    CHECK(created->name == "idx_download_requests_created_at");
    CHECK(created->keys.size() == 1);
    CHECK(created->keys[0].expression == "created_at");
    CHECK(created->keys[0].descending);

    const auto* ar = s.table("access_requests");
    REQUIRE(ar);
    REQUIRE(ar->indexes.size() == 2);
    const auto& pending = ar->indexes[0];
    CHECK(pending.name == "idx_access_requests_pending_user_id");
    CHECK(pending.unique);
    CHECK(tenantry::sql_text::normalize_expression(pending.where) == (pg ? "status = 'pending' :: text" : "status = 'pending'"));

    const auto* tok = s.table("api_tokens");
    REQUIRE(tok);
    REQUIRE(tok->uniques.size() == 1);
    CHECK(tok->uniques[0].name == (pg ? "api_tokens_token_prefix_key" : ""));
    CHECK(tok->uniques[0].columns == std::vector<std::string>{"token_prefix"});
    CHECK(tok->column("status")->default_sql == (pg ? "'active'::text" : "'active'"));

    const auto* mm = s.table("model_metadata");
    REQUIRE(mm->uniques.size() == 1);
    CHECK(mm->uniques[0].columns ==
          std::vector<std::string>{"source", "repo", "filename", "snapshot", "api_model_id"});

    const auto* x = s.table("extra");
    REQUIRE(x);
    REQUIRE(x->foreign_keys.size() == 1);
    CHECK(x->foreign_keys[0].columns == std::vector<std::string>{"alias_id"});
    CHECK(x->foreign_keys[0].parent_table == "user_aliases");
    CHECK(x->foreign_keys[0].parent_columns == std::vector<std::string>{"id"});
    CHECK(x->foreign_keys[0].on_delete == "SET NULL");
    CHECK(x->column("label")->type == (pg ? "character varying(40)" : "VARCHAR(40)"));
    REQUIRE(x->uniques.size() == 1);
    CHECK(x->uniques[0].name == "extra_label_n");
    CHECK(x->uniques[0].columns == std::vector<std::string>{"label", "n"});
    REQUIRE(x->indexes.size() == 1);
    CHECK_FALSE(x->indexes[0].keys[0].is_column);
    CHECK(x->indexes[0].keys[0].descending);
    CHECK(tenantry::sql_text::normalize_expression(x->indexes[0].keys[0].expression) ==
          (pg ? "lower ( label :: text )" : "lower ( label )"));
    CHECK(tenantry::sql_text::normalize_expression(x->indexes[0].where) == "n is not null");

    if (pg) {
      runner.up(2);
      runner.up(3);
      const auto rls = tenantry::catalog::read_schema(db);
      const auto* tt = rls.table("api_tokens");
      CHECK(tt->row_security);
      CHECK(tt->force_row_security);
      REQUIRE(tt->policies.size() == 1);
      CHECK(tt->policies[0].name == "api_tokens_org_isolation");
      CHECK(tt->policies[0].command == "ALL");
      CHECK(tt->policies[0].roles == std::vector<std::string>{"public"});
      CHECK_THAT(tt->policies[0].using_expr, Catch::Matchers::Contains("current_setting('app.current_org_id'"));
    }
  }
}
