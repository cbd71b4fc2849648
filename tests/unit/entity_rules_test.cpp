// The scope, reference and uniqueness rules of entity.hpp as they show in TableInfo and the DDL,
// and the process-wide table scope registry (the compile-time side is tests/compile_fail/).
#include "support/entities.hpp"

#include <tenantry/ddl.hpp>
#include <tenantry/dialect/postgres.hpp>
#include <tenantry/dialect/sqlite.hpp>
#include <tenantry/schema.hpp>

#include "support/expect_throw.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace tenantry;

namespace rules {
/// A projection of api_tokens that says it is global: allowed on its own (no set shows it next
/// to ApiToken at compile time), refused at run time once ApiToken has claimed the table.
struct TokenView {
  Uuid id;
  std::string user_id;
};
/// A projection of api_tokens that keeps the org: same scope, accepted.
struct TokenName {
  Uuid id;
  OrgId org_id;
  std::string name;
};
}  // namespace rules

template <>
struct tenantry::entity<rules::TokenView> {
  static constexpr auto scope = tenantry::global;
  static constexpr std::string_view table = "api_tokens";
  static constexpr auto primary_key = key(&rules::TokenView::id);
};
template <>
struct tenantry::entity<rules::TokenName> {
  static constexpr std::string_view table = "api_tokens";
  static constexpr auto primary_key = key(&rules::TokenName::id);
};

namespace {

bool has(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

}  // namespace

TEST_CASE("scope is declared: tenantry::global for entities without an OrgId", "[rules][scope]") {
  STATIC_REQUIRE(scope_of<fixtures::Organization> == Scope::global);
  STATIC_REQUIRE(scope_of<fixtures::Pin> == Scope::global);
  STATIC_REQUIRE(scope_of<fixtures::ApiToken> == Scope::org);
  STATIC_REQUIRE(scope_of<rules::TokenView> == Scope::global);
  STATIC_REQUIRE(check_entity_set<fixtures::Organization, fixtures::ApiToken, rules::TokenName>());
}

TEST_CASE("one table has one scope in the whole process", "[rules][scope]") {
  (void)table_info<fixtures::ApiToken>();
  CHECK(table_info<rules::TokenName>().org_scoped());  // same scope: fine
  const auto e = testdb::expect_throw<UsageError>([] { (void)table_info<rules::TokenView>(); });
  const std::string msg = e.what();
  INFO(msg);
  CHECK(has(msg, "table 'api_tokens' is declared org-scoped by fixtures::ApiToken and global by rules::TokenView"));
  // Refused again on every later use, not just the first.
  testdb::expect_throw<UsageError>([] { (void)table_info<rules::TokenView>(); });
}

TEST_CASE("references between org-scoped tables include the org, whatever their target", "[rules][fk]") {
  const TableInfo& invites = table_info<fixtures::Invite>();
  REQUIRE(invites.foreign_keys.size() == 2);
  CHECK_FALSE(invites.foreign_keys[0].tenant_safe());  // -> organizations, a global table
  CHECK(invites.foreign_keys[1].tenant_safe());        // -> users (email), a non-key UNIQUE
  CHECK(invites.foreign_keys[1].parent_org_column == "org_id");
  const TableInfo& folders = table_info<fixtures::Folder>();
  CHECK(folders.foreign_keys[1].tenant_safe());  // the self-reference

  // SET NULL: PostgreSQL nulls only the declared column; SQLite has two keys.
  const std::string pg = create_table_sql<PgDialect>(folders);
  const std::string lite = create_table_sql<SqliteDialect>(folders);
  CHECK(has(pg, "CONSTRAINT \"fk_folders_parent_id\" FOREIGN KEY (\"org_id\", \"parent_id\") REFERENCES \"folders\" "
                "(\"org_id\", \"id\") ON DELETE SET NULL (\"parent_id\")"));
  CHECK_FALSE(has(pg, "_set_null"));
  CHECK(has(lite, "CONSTRAINT \"fk_folders_parent_id\" FOREIGN KEY (\"org_id\", \"parent_id\") REFERENCES "
                  "\"folders\" (\"org_id\", \"id\"),"));
  CHECK(has(lite, "CONSTRAINT \"fk_folders_parent_id_set_null\" FOREIGN KEY (\"parent_id\") REFERENCES "
                  "\"folders\" (\"id\") ON DELETE SET NULL"));
}

TEST_CASE("a global_unique() UNIQUE on an org-scoped table gets its org-including twin", "[rules][unique]") {
  const TableInfo& users = table_info<fixtures::User>();
  int twins = 0;
  for (const auto& u : users.uniques) {
    if (u.name == "uq_users_email") CHECK(u.global);
    if (u.implicit) ++twins;
  }
  CHECK(twins == 2);  // (org_id, id) for the key, (org_id, email) for the e-mail
  // The twin is created where each database reports the declared constraint for a duplicate:
  // before it on SQLite (newest checked first), after it on PostgreSQL.
  const std::string lite = create_table_sql<SqliteDialect>(users);
  const std::string pg = create_table_sql<PgDialect>(users);
  CHECK(lite.find("uq_users_org_id_email") < lite.find("uq_users_email\""));
  CHECK(pg.find("uq_users_org_id_email") > pg.find("uq_users_email\""));
  // A global table's UNIQUE needs no twin.
  for (const auto& u : table_info<fixtures::Organization>().uniques) CHECK_FALSE(u.implicit);
}
