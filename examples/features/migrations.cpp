// examples/features/migrations.cpp - the migration runner: a directory of NNNN_name.up.sql /
// .down.sql files, applied in order each in its own transaction, recorded with checksums,
// reverted newest first.
#include <tenantry/migrate.hpp>
#include <tenantry/sqlite.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;

int main() {
  const fs::path dir = fs::temp_directory_path() /
                       ("tenantry-example-migrations-" + tenantry::Uuid::random().to_string());
  fs::create_directories(dir);
  const auto write = [&](const char* name, const char* sql) { std::ofstream(dir / name) << sql; };
  write("0001_create_notes.up.sql",
        "CREATE TABLE notes (id TEXT PRIMARY KEY, org_id TEXT NOT NULL, body TEXT NOT NULL);\n");
  write("0001_create_notes.down.sql", "DROP TABLE notes;\n");
  write("0002_index_notes.up.sql", "CREATE INDEX ix_notes_org_id ON notes (org_id);\n");
  write("0002_index_notes.down.sql", "DROP INDEX ix_notes_org_id;\n");

  tenantry::sqlite::Connection db{":memory:"};
  tenantry::migrate::Runner runner{db, dir};
  runner.on_progress([](const tenantry::migrate::Progress& p) {
    if (p.event == tenantry::migrate::Progress::Event::finished)
      std::printf("  %s %04lld %s\n", p.direction == tenantry::migrate::Direction::up ? "up  " : "down",
                  static_cast<long long>(p.version), p.description.c_str());
  });
  const auto applied = runner.up();  // 0001, 0002
  for (const auto& s : runner.status())
    std::printf("%04lld %-14s %s\n", static_cast<long long>(s.version), s.description.c_str(),
                s.applied ? "applied" : "pending");
  const auto reverted = runner.down(1);  // back to version 1: reverts 0002
  const bool ok = applied.versions.size() == 2 && reverted.versions.size() == 1 && runner.status()[0].applied &&
                  !runner.status()[1].applied;
  fs::remove_all(dir);
  return ok ? 0 : 1;
}
