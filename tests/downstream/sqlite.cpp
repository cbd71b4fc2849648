// The sqlite component, compiled against the installed headers only, with libpq-fe.h hidden
// (tests/downstream.cmake): declares an org-scoped entity, applies a migration with the
// runner (which needs no crypto library), and runs a repository round trip on SQLite.
#include <tenantry/migrate.hpp>
#include <tenantry/sqlite.hpp>
#include <tenantry/version.hpp>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#ifdef LIBPQ_FE_H
#error "the sqlite component included the PostgreSQL driver"
#endif

struct Note {
  tenantry::Uuid id;
  tenantry::OrgId org_id;
  std::string text;
};

template <>
struct tenantry::entity<Note> {
  static constexpr std::string_view table = "notes";
  static constexpr auto primary_key = key(&Note::id);
};

int main(int argc, char** argv) {
  if (std::strcmp(tenantry::version_string, EXPECTED_VERSION_STRING) != 0) {
    std::printf("version.hpp says %s, the package %s\n", tenantry::version_string, EXPECTED_VERSION_STRING);
    return 1;
  }
  const std::filesystem::path dir = argc > 1 ? argv[1] : "migrations";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "0001_notes.up.sql") << tenantry::schema_sql<tenantry::SqliteDialect, Note>();
  tenantry::sqlite::Connection db{":memory:"};
  tenantry::migrate::Runner runner{db, dir};
  runner.up();
  tenantry::Repository<Note, tenantry::SqliteDialect> notes{db};
  const tenantry::OrgId org = tenantry::OrgId::random();
  Note n{tenantry::Uuid::random(), {}, "hello"};
  notes.insert(org, n);
  const auto found = notes.find(org, n.id);
  const bool ok = found && found->text == "hello" && notes.count(tenantry::OrgId::random()) == 0 &&
                  runner.status().size() == 1 && runner.status()[0].applied;
  std::printf("tenantry %s, sqlite component: %s\n", tenantry::version_string, ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
