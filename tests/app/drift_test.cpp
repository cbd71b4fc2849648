// Drift: the checked-in generated migration files (0001_initial_schema of each dialect, the
// PostgreSQL row-level security migration, the session database's table) must be byte for byte
// what the entities in examples/app/entities.hpp generate now. When an entity changes, this test
// fails until `tenantry-app schema --write` has regenerated them (and the change is reviewed).
#include "app_support.hpp"

#include "app/schema.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace app_test;

namespace {

std::optional<std::string> read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// "line 12: checked in '...', generated '...'" for the first line that differs.
std::string first_difference(const std::string& a, const std::string& b) {
  std::istringstream x(a), y(b);
  std::string la, lb;
  for (int line = 1;; ++line) {
    const bool ga = static_cast<bool>(std::getline(x, la)), gb = static_cast<bool>(std::getline(y, lb));
    if (!ga && !gb) return "they differ only in the final newline";
    if (!ga || !gb || la != lb) {
      return "first difference at line " + std::to_string(line) + ":\n  checked in: " + (ga ? la : "(end of file)") +
             "\n  generated:  " + (gb ? lb : "(end of file)");
    }
  }
}

void check_files(const std::vector<app::GeneratedFile>& files) {
  for (const app::GeneratedFile& f : files) {
    const fs::path path = migrations("") / f.path;
    INFO("migrations/" << f.path);
    const std::optional<std::string> on_disk = read(path);
    if (!on_disk) FAIL("migrations/" << f.path << " is missing: run `tenantry-app schema --write`");
    if (*on_disk != f.contents) {
      FAIL("migrations/" << f.path
                         << " differs from what examples/app/entities.hpp generates now; run "
                            "`tenantry-app schema --write --yes` to regenerate it (and review the change: an applied "
                            "migration must never change)\n"
                         << first_difference(*on_disk, f.contents));
    }
    SUCCEED();
  }
}

}  // namespace

TEST_CASE("drift: the checked-in SQLite migrations are what the entities generate", "[app][drift]") {
  const auto files = app::generated_migration_files<tenantry::SqliteDialect>();
  CHECK(files.size() == 4);  // 0001_initial_schema and the session table, up and down
  check_files(files);
}

TEST_CASE("drift: the checked-in PostgreSQL migrations are what the entities generate", "[app][drift]") {
  const auto files = app::generated_migration_files<tenantry::PgDialect>();
  CHECK(files.size() == 10);  // + 0003_row_level_security in both directories, sessions' 0002_row_level_security
  check_files(files);
}

TEST_CASE("drift: the generated files are the generator's DDL, not a copy of something else", "[app][drift]") {
  // 0001 is the entities' DDL, unchanged after its header comment.
  const auto up = app::initial_schema_up<tenantry::PgDialect>();
  CHECK(up.contents.ends_with(app::app_schema<tenantry::PgDialect>()));
  // The policy statements are tenantry::row_level_security_sql's, for every org-scoped table.
  const auto rls = app::row_level_security_up();
  std::size_t policies = 0;
  app::for_each_entity<app::OrgScopedEntities>([&]<class E>(std::type_identity<E>) {
    for (const auto& s : tenantry::row_level_security_sql<tenantry::PgDialect>(tenantry::table_info<E>())) {
      CHECK(rls.contents.find(s + ";\n") != std::string::npos);
      policies += s.starts_with("CREATE POLICY");
    }
  });
  CHECK(policies == 10);
  // The session database's policies are the same statements for its org-scoped table.
  const auto sessions_rls = app::sessions_row_level_security_up();
  std::size_t session_policies = 0;
  for (const auto& s : tenantry::row_level_security_sql<tenantry::PgDialect>(app::standalone_sessions_table())) {
    CHECK(sessions_rls.contents.find(s + ";\n") != std::string::npos);
    session_policies += s.starts_with("CREATE POLICY");
  }
  CHECK(session_policies == 1);
  // Both PostgreSQL directories hold the same 0003, so they agree from version 3 on.
  CHECK(read(migrations("postgres/0003_row_level_security.up.sql")) ==
        read(migrations("upgrade/postgres/0003_row_level_security.up.sql")));
}
