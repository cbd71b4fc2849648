// The migration runner against real SQLite database files and real migration directories:
// applying and re-running, up/down/up, edited and missing files, failures inside and outside a
// transaction (dirty, refused, force), missing down files, I/O errors, and two runners at once.
#include "support/migration_dir.hpp"
#include "support/sqlite_db.hpp"

#include <tenantry/migrate.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <latch>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace tenantry;
using migrate::Direction;
using migrate::Progress;
using migrate::Runner;
using testdb::Conn;
using testdb::MigrationDir;
using testdb::expect_throw;
using testdb::query_int;
using testdb::query_text;

namespace {

namespace fs = std::filesystem;


/// Three ordinary migrations with down files: two tables, a row, an index.
void write_basic(const MigrationDir& dir) {
  dir.write("0001_create_accounts.up.sql",
            "CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n"
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, account_id INTEGER REFERENCES accounts (id), body TEXT);\n");
  dir.write("0001_create_accounts.down.sql", "DROP TABLE notes;\nDROP TABLE accounts;\n");
  dir.write("0002_seed_admin.up.sql", "INSERT INTO accounts (id, name) VALUES (1, 'admin');\n");
  dir.write("0002_seed_admin.down.sql", "DELETE FROM accounts WHERE id = 1;\n");
  dir.write("0003_index_notes.up.sql",
            "-- notes are listed per account\nCREATE INDEX ix_notes_account ON notes (account_id);\n"
            "ALTER TABLE accounts ADD COLUMN email TEXT;\n");
  dir.write("0003_index_notes.down.sql", "DROP INDEX ix_notes_account;\nALTER TABLE accounts DROP COLUMN email;\n");
}

bool table_exists(Conn& conn, const std::string& name) {
  testdb::Raw q(conn, "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1");
  q.bind(1, name);
  return q.one_row().integer(0) == 1;
}

/// Every schema object, as "type|name|table|sql", in a fixed order.
std::vector<std::string> schema_rows(Conn& conn) {
  std::vector<std::string> rows;
  testdb::Raw q(conn, "SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_schema ORDER BY type, name");
  while (q.step()) rows.push_back(q.text(0) + "|" + q.text(1) + "|" + q.text(2) + "|" + q.text(3));
  return rows;
}

/// The recorded versions, ascending.
std::vector<std::int64_t> recorded_versions(Conn& conn) {
  std::vector<std::int64_t> out;
  testdb::Raw q(conn, "SELECT version FROM _tenantry_migrations ORDER BY version");
  while (q.step()) out.push_back(q.integer(0));
  return out;
}

using Versions = std::vector<std::int64_t>;

}  // namespace

TEST_CASE("migrations apply once; a second run does nothing", "[sqlite][migrate]") {
  MigrationDir dir;
  write_basic(dir);
  testdb::TempPath db;
  Conn conn{db.string()};

  std::vector<Progress> events;
  migrate::Options options;
  options.progress = [&](const Progress& p) { events.push_back(p); };
  Runner runner{conn, dir.path(), options};

  CHECK(runner.status().size() == 3);
  CHECK_FALSE(table_exists(conn, "_tenantry_migrations"));  // status() only reads

  const migrate::RunResult first = runner.up();
  CHECK(first.versions == Versions{1, 2, 3});
  CHECK(first.skipped.empty());
  CHECK(query_int(conn, "SELECT COUNT(*) FROM accounts WHERE name = 'admin'") == 1);
  CHECK(query_int(conn, "SELECT COUNT(*) FROM sqlite_schema WHERE name = 'ix_notes_account'") == 1);

  // The records: version, description, checksum of the up file, ISO applied_at, duration, clean.
  testdb::Raw rec(conn,
                  "SELECT version, description, checksum, applied_at, duration_ms, dirty FROM _tenantry_migrations"
                  " ORDER BY version");
  const char* names[] = {"0001_create_accounts.up.sql", "0002_seed_admin.up.sql", "0003_index_notes.up.sql"};
  const char* descriptions[] = {"create accounts", "seed admin", "index notes"};
  const Timestamp before = Timestamp{Timestamp::now().micros - 60'000'000};
  for (int i = 0; i < 3; ++i) {
    REQUIRE(rec.step());
    CHECK(rec.integer(0) == i + 1);
    CHECK(rec.text(1) == descriptions[i]);
    CHECK(rec.text(2) == migrate::sha256_hex(migrate::read_file(dir.file(names[i]))));
    const auto applied_at = Timestamp::try_parse(rec.text(3));
    REQUIRE(applied_at);
    CHECK(rec.text(3).size() == 27);  // tenantry's canonical ISO text
    CHECK(applied_at->micros > before.micros);
    CHECK(rec.integer(4) >= 0);
    CHECK(rec.integer(5) == 0);
  }
  CHECK_FALSE(rec.step());

  // Progress: started then finished, per migration, in order.
  REQUIRE(events.size() == 6);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(events[2 * i].event == Progress::Event::started);
    CHECK(events[2 * i + 1].event == Progress::Event::finished);
    CHECK(events[2 * i + 1].version == static_cast<std::int64_t>(i + 1));
    CHECK(events[2 * i + 1].direction == Direction::up);
    CHECK(events[2 * i + 1].path == dir.file(names[i]).string());
    CHECK(events[2 * i + 1].duration.count() >= 0);
  }

  events.clear();
  const auto schema = schema_rows(conn);
  const migrate::RunResult second = runner.up();
  CHECK(second.versions.empty());
  CHECK(second.skipped.empty());
  CHECK(events.empty());
  CHECK(schema_rows(conn) == schema);
  CHECK(query_int(conn, "SELECT COUNT(*) FROM accounts") == 1);

  for (const auto& s : runner.status()) {
    CHECK(s.applied);
    CHECK(s.checksum_ok);
    CHECK_FALSE(s.dirty);
    CHECK(s.applied_at.has_value());
    CHECK(s.has_down);
  }

  SECTION("a new file is picked up by the same runner") {
    dir.write("0004_more.up.sql", "CREATE TABLE more (x INTEGER);");
    CHECK(runner.up().versions == Versions{4});
    CHECK(table_exists(conn, "more"));
  }
}

TEST_CASE("up to a target version, then the rest", "[sqlite][migrate]") {
  MigrationDir dir;
  write_basic(dir);
  testdb::TempPath db;
  Conn conn{db.string()};
  Runner runner{conn, dir.path()};

  CHECK(runner.up(2).versions == Versions{1, 2});
  const auto status = runner.status();
  REQUIRE(status.size() == 3);
  CHECK(status[0].applied);
  CHECK(status[1].applied);
  CHECK_FALSE(status[2].applied);
  CHECK_FALSE(status[2].applied_at);
  CHECK(status[2].checksum_ok);  // nothing to compare yet
  CHECK(runner.up(2).versions.empty());
  CHECK(runner.up().versions == Versions{3});
}

TEST_CASE("up, down, up leaves an identical schema", "[sqlite][migrate]") {
  MigrationDir dir;
  write_basic(dir);
  testdb::TempPath db;
  Conn conn{db.string()};
  std::vector<Progress> events;
  Runner runner{conn, dir.path()};
  runner.on_progress([&](const Progress& p) { events.push_back(p); });

  const auto empty = schema_rows(conn);
  runner.up();
  const auto full = schema_rows(conn);

  SECTION("all the way down") {
    events.clear();
    const migrate::RunResult down = runner.down(0);
    CHECK(down.versions == Versions{3, 2, 1});
    CHECK(recorded_versions(conn).empty());
    auto after_down = schema_rows(conn);
    // Only the record table is left.
    REQUIRE(after_down.size() == empty.size() + 1);
    CHECK_THAT(after_down.back(), Catch::Contains("_tenantry_migrations"));
    REQUIRE(events.size() == 6);
    CHECK(events[1].event == Progress::Event::finished);
    CHECK(events[1].direction == Direction::down);
    CHECK(events[1].version == 3);
    CHECK_THAT(events[1].path, Catch::EndsWith("0003_index_notes.down.sql"));

    CHECK(runner.up().versions == Versions{1, 2, 3});
    CHECK(schema_rows(conn) == full);
  }
  SECTION("part of the way") {
    CHECK(runner.down(1).versions == Versions{3, 2});
    CHECK(recorded_versions(conn) == Versions{1});
    CHECK(query_int(conn, "SELECT COUNT(*) FROM accounts") == 0);
    CHECK(runner.down(1).versions.empty());
    CHECK(runner.up().versions == Versions{2, 3});
    CHECK(schema_rows(conn) == full);
  }
  SECTION("a missing down file stops down() before anything is reverted") {
    dir.remove("0002_seed_admin.down.sql");
    const auto e = expect_throw<MigrationError>([&] { runner.down(0); });
    CHECK(e.kind() == MigrationError::Kind::missing_down);
    CHECK(e.version() == 2);
    CHECK(e.path() == dir.file("0002_seed_admin.down.sql").string());
    CHECK_THAT(std::string(e.what()), Catch::Contains("0002_seed_admin.down.sql"));
    CHECK(recorded_versions(conn) == Versions{1, 2, 3});
    CHECK(schema_rows(conn) == full);
    // Reverting only what has down files still works.
    CHECK(runner.down(2).versions == Versions{3});
  }
}

TEST_CASE("an applied migration whose file was edited stops the run", "[sqlite][migrate]") {
  MigrationDir dir;
  write_basic(dir);
  testdb::TempPath db;
  Conn conn{db.string()};
  Runner runner{conn, dir.path()};
  runner.up();

  dir.write("0002_seed_admin.up.sql", "INSERT INTO accounts (id, name) VALUES (1, 'root');\n");
  dir.write("0004_later.up.sql", "CREATE TABLE later (x INTEGER);\n");
  const auto e = expect_throw<MigrationError>([&] { runner.up(); });
  CHECK(e.kind() == MigrationError::Kind::checksum_mismatch);
  CHECK(e.version() == 2);
  CHECK(e.path() == dir.file("0002_seed_admin.up.sql").string());
  CHECK_THAT(std::string(e.what()), Catch::Contains("version 2") && Catch::Contains("changed after it was applied"));
  CHECK_FALSE(table_exists(conn, "later"));  // nothing applied
  CHECK(recorded_versions(conn) == Versions{1, 2, 3});
  CHECK_THROWS_AS(runner.down(0), MigrationError);  // down() checks too
  CHECK(recorded_versions(conn) == Versions{1, 2, 3});

  const auto status = runner.status();
  CHECK(status[0].checksum_ok);
  CHECK_FALSE(status[1].checksum_ok);
  CHECK_FALSE(status[3].applied);

  SECTION("restoring the file lets the run go on") {
    write_basic(dir);
    CHECK(runner.up().versions == Versions{4});
  }
  SECTION("force() records the files as they are now") {
    runner.force(3);
    CHECK(runner.status()[1].checksum_ok);
    CHECK(runner.up().versions == Versions{4});
  }
}

TEST_CASE("an applied migration whose file is gone stops the run", "[sqlite][migrate]") {
  MigrationDir dir;
  write_basic(dir);
  testdb::TempPath db;
  Conn conn{db.string()};
  Runner runner{conn, dir.path()};
  runner.up();

  dir.remove("0002_seed_admin.up.sql");
  dir.remove("0002_seed_admin.down.sql");
  dir.write("0004_later.up.sql", "CREATE TABLE later (x INTEGER);\n");
  const auto e = expect_throw<MigrationError>([&] { runner.up(); });
  CHECK(e.kind() == MigrationError::Kind::missing_file);
  CHECK(e.version() == 2);
  CHECK_THAT(std::string(e.what()), Catch::Contains("version 2 (seed admin) is applied but its file is missing"));
  CHECK_FALSE(table_exists(conn, "later"));
  CHECK(recorded_versions(conn) == Versions{1, 2, 3});

  const auto status = runner.status();
  REQUIRE(status.size() == 4);
  CHECK(status[1].version == 2);
  CHECK(status[1].file_missing);
  CHECK(status[1].applied);
  CHECK_FALSE(status[1].checksum_ok);
}

TEST_CASE("a failing migration leaves no table and no record", "[sqlite][migrate]") {
  MigrationDir dir;
  dir.write("0001_ok.up.sql", "CREATE TABLE ok (x INTEGER);\n");
  dir.write("0002_broken.up.sql",
            "CREATE TABLE half (x INTEGER);\nINSERT INTO half VALUES (1);\nINSERT INTO no_such_table VALUES (1);\n");
  dir.write("0003_after.up.sql", "CREATE TABLE after_broken (x INTEGER);\n");
  testdb::TempPath db;
  Conn conn{db.string()};
  Runner runner{conn, dir.path()};

  const auto e = expect_throw<MigrationError>([&] { runner.up(); });
  CHECK(e.kind() == MigrationError::Kind::failed);
  CHECK(e.version() == 2);
  CHECK(e.path() == dir.file("0002_broken.up.sql").string());
  CHECK_FALSE(e.marked_dirty());
  const std::string msg = e.what();
  CHECK_THAT(msg, Catch::Contains("migration 2") && Catch::Contains("0002_broken.up.sql"));
  CHECK_THAT(msg, Catch::Contains("no such table: no_such_table"));  // the database's own words
  CHECK_FALSE(e.database_code().empty());
  REQUIRE(e.cause());
  CHECK_THROWS_AS(std::rethrow_exception(e.cause()), DatabaseError);

  CHECK(table_exists(conn, "ok"));  // committed before 2 started
  CHECK_FALSE(table_exists(conn, "half"));
  CHECK_FALSE(table_exists(conn, "after_broken"));
  CHECK(recorded_versions(conn) == Versions{1});
  CHECK_FALSE(conn.in_transaction());

  // The file is fixed; the next run applies it and what follows.
  dir.write("0002_broken.up.sql", "CREATE TABLE half (x INTEGER);\nINSERT INTO half VALUES (1);\n");
  CHECK(runner.up().versions == Versions{2, 3});
  CHECK(query_int(conn, "SELECT COUNT(*) FROM half") == 1);
}

TEST_CASE("no-transaction migrations", "[sqlite][migrate]") {
  MigrationDir dir;
  testdb::TempPath db;
  Conn conn{db.string()};
  dir.write("0001_base.up.sql", "CREATE TABLE base (x INTEGER);\n");
  dir.write("0001_base.down.sql", "DROP TABLE base;\n");

  SECTION("VACUUM cannot run in a transaction, and runs with the directive") {
    dir.write("0002_vacuum.up.sql", "VACUUM;\n");
    Runner runner{conn, dir.path()};
    const auto e = expect_throw<MigrationError>([&] { runner.up(); });
    CHECK(e.version() == 2);
    CHECK_THAT(std::string(e.what()), Catch::Contains("VACUUM"));
    CHECK(recorded_versions(conn) == Versions{1});

    dir.write("0002_vacuum.up.sql", "-- tenantry:no-transaction\nVACUUM;\n");
    CHECK(runner.up().versions == Versions{2});
    const auto s = runner.status();
    CHECK(s[1].no_transaction);
    CHECK_FALSE(s[1].dirty);
    CHECK(s[1].duration_ms.has_value());
  }

  SECTION("a failure marks the database dirty until force()") {
    dir.write("0002_partial.up.sql",
              "-- tenantry:no-transaction\nCREATE TABLE partial (x INTEGER);\nINSERT INTO nope VALUES (1);\n");
    dir.write("0002_partial.down.sql", "DROP TABLE partial;\n");
    dir.write("0003_next.up.sql", "CREATE TABLE next_one (x INTEGER);\n");
    Runner runner{conn, dir.path()};

    const auto failed = expect_throw<MigrationError>([&] { runner.up(); });
    CHECK(failed.kind() == MigrationError::Kind::failed);
    CHECK(failed.version() == 2);
    CHECK(failed.marked_dirty());
    CHECK_THAT(std::string(failed.what()), Catch::Contains("0002_partial.up.sql") && Catch::Contains("dirty"));
    CHECK(table_exists(conn, "partial"));  // outside a transaction: the first statement stayed
    CHECK_FALSE(table_exists(conn, "next_one"));
    CHECK(query_int(conn, "SELECT dirty FROM _tenantry_migrations WHERE version = 2") == 1);
    CHECK(query_int(conn, "SELECT duration_ms IS NOT NULL FROM _tenantry_migrations WHERE version = 2") == 1);

    // Every later run refuses, at once, naming the dirty version; status() still reports.
    const auto start = std::chrono::steady_clock::now();
    const auto refused = expect_throw<MigrationError>([&] { runner.up(); });
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
    CHECK(refused.kind() == MigrationError::Kind::dirty);
    CHECK(refused.version() == 2);
    CHECK_THAT(std::string(refused.what()), Catch::Contains("dirty at version 2") && Catch::Contains("force(2)") &&
                                                Catch::Contains("force(1)"));
    CHECK(expect_throw<MigrationError>([&] { runner.down(0); }).kind() == MigrationError::Kind::dirty);
    CHECK(expect_throw<MigrationError>([&] { Runner{conn, dir.path()}.up(); }).kind() == MigrationError::Kind::dirty);
    const auto status = runner.status();
    CHECK(status[1].dirty);
    CHECK(status[1].applied);
    CHECK_FALSE(table_exists(conn, "next_one"));

    SECTION("undone by hand: force to the version before") {
      conn.execute("DROP TABLE partial");
      dir.write("0002_partial.up.sql", "-- tenantry:no-transaction\nCREATE TABLE partial (x INTEGER);\n");
      runner.force(1);
      CHECK(recorded_versions(conn) == Versions{1});
      CHECK(runner.up().versions == Versions{2, 3});
      CHECK(table_exists(conn, "partial"));
      CHECK(query_int(conn, "SELECT COUNT(*) FROM _tenantry_migrations WHERE dirty") == 0);
    }
    SECTION("finished by hand: force to the failed version") {
      runner.force(2);
      CHECK(recorded_versions(conn) == Versions{1, 2});
      CHECK(query_int(conn, "SELECT COUNT(*) FROM _tenantry_migrations WHERE dirty") == 0);
      CHECK(runner.up().versions == Versions{3});
      CHECK(table_exists(conn, "next_one"));
    }
  }

  SECTION("a run that died part way is refused too (after waiting for it)") {
    dir.write("0002_long.up.sql", "-- tenantry:no-transaction\nCREATE TABLE long_one (x INTEGER);\n");
    Runner runner{conn, dir.path()};
    runner.up(1);
    // What a crashed runner leaves behind: claimed as dirty, never finished.
    conn.execute("INSERT INTO _tenantry_migrations (version, description, checksum, applied_at, duration_ms, dirty)"
                 " VALUES (2, 'long', '" + migrate::sha256_hex(migrate::read_file(dir.file("0002_long.up.sql"))) +
                 "', '2024-01-01T00:00:00.000000Z', NULL, 1)");
    std::vector<Progress> events;
    migrate::Options options;
    options.wait_timeout = std::chrono::milliseconds(300);
    options.progress = [&](const Progress& p) { events.push_back(p); };
    Runner impatient{conn, dir.path(), options};
    const auto start = std::chrono::steady_clock::now();
    const auto e = expect_throw<MigrationError>([&] { impatient.up(); });
    CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(300));
    CHECK(e.kind() == MigrationError::Kind::dirty);
    CHECK(e.version() == 2);
    CHECK_THAT(std::string(e.what()), Catch::Contains("2024-01-01T00:00:00.000000Z") && Catch::Contains("force(2)"));
    REQUIRE(events.size() == 1);
    CHECK(events[0].event == Progress::Event::waiting);
    CHECK(events[0].version == 2);
    runner.force(1);
    CHECK(runner.up().versions == Versions{2});
  }

  SECTION("SQLite's table rebuild: foreign keys off outside, the rebuild in the file's own transaction") {
    dir.write("0002_parent_child.up.sql",
              "CREATE TABLE parent (id INTEGER PRIMARY KEY);\n"
              "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id));\n"
              "INSERT INTO parent VALUES (1);\nINSERT INTO child VALUES (10, 1);\n");
    const std::string rebuild =
        "-- tenantry:no-transaction\n"
        "-- https://sqlite.org/lang_altertable.html#otheralter: foreign_keys can only change outside a transaction\n"
        "PRAGMA foreign_keys = OFF;\n"
        "BEGIN;\n"
        "CREATE TABLE parent_new (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT 'unnamed');\n"
        "INSERT INTO parent_new (id) SELECT id FROM parent;\n"
        "DROP TABLE parent;\n"
        "ALTER TABLE parent_new RENAME TO parent;\n"
        "INSERT INTO child VALUES (11, 1);\n";
    dir.write("0003_rebuild_parent.up.sql", rebuild + "INSERT INTO missing_table VALUES (1);\nCOMMIT;\n"
                                                      "PRAGMA foreign_keys = ON;\n");
    Runner runner{conn, dir.path()};
    const auto e = expect_throw<MigrationError>([&] { runner.up(); });
    CHECK(e.version() == 3);
    CHECK(e.marked_dirty());
    // The file's own transaction was rolled back and the connection is usable.
    CHECK_FALSE(conn.in_transaction());
    CHECK(query_int(conn, "SELECT COUNT(*) FROM child") == 1);
    CHECK(query_int(conn, "SELECT COUNT(*) FROM sqlite_schema WHERE name = 'parent_new'") == 0);
    // The file failed before its own `PRAGMA foreign_keys = ON`: the runner restored it, so the
    // connection still refuses an orphan.
    CHECK(query_int(conn, "PRAGMA foreign_keys") == 1);
    CHECK_THROWS_AS(conn.execute("INSERT INTO child VALUES (12, 99)"), ForeignKeyViolation);

    dir.write("0003_rebuild_parent.up.sql", rebuild + "PRAGMA foreign_key_check;\nCOMMIT;\nPRAGMA foreign_keys = ON;\n");
    runner.force(2);
    CHECK(runner.up().versions == Versions{3});
    CHECK(query_text(conn, "SELECT name FROM parent WHERE id = 1") == "unnamed");
    CHECK(query_int(conn, "SELECT COUNT(*) FROM child") == 2);
    CHECK(query_int(conn, "PRAGMA foreign_keys") == 1);
  }

  SECTION("a no-transaction file that leaves foreign keys off does not leave the connection so") {
    dir.write("0002_fk_off.up.sql", "-- tenantry:no-transaction\nPRAGMA foreign_keys = OFF;\nCREATE TABLE t2 (x INTEGER);\n");
    Runner runner{conn, dir.path()};
    CHECK(runner.up().versions == Versions{1, 2});
    CHECK(query_int(conn, "PRAGMA foreign_keys") == 1);
  }

  SECTION("a no-transaction down file that fails marks the database dirty") {
    dir.write("0002_t.up.sql", "CREATE TABLE t2 (x INTEGER);\n");
    dir.write("0002_t.down.sql", "-- tenantry:no-transaction\nDROP TABLE t2;\nDROP TABLE no_such;\n");
    Runner runner{conn, dir.path()};
    runner.up();
    const auto e = expect_throw<MigrationError>([&] { runner.down(0); });
    CHECK(e.marked_dirty());
    CHECK(e.path() == dir.file("0002_t.down.sql").string());
    CHECK_FALSE(table_exists(conn, "t2"));
    CHECK(table_exists(conn, "base"));  // version 1 was never reached
    CHECK(expect_throw<MigrationError>([&] { runner.up(); }).kind() == MigrationError::Kind::dirty);
    runner.force(1);
    CHECK(recorded_versions(conn) == Versions{1});
    CHECK(runner.up().versions == Versions{2});
  }
}

TEST_CASE("force() edge cases", "[sqlite][migrate]") {
  MigrationDir dir;
  write_basic(dir);
  testdb::TempPath db;
  Conn conn{db.string()};
  Runner runner{conn, dir.path()};

  const auto e = expect_throw<MigrationError>([&] { runner.force(7); });
  CHECK(e.kind() == MigrationError::Kind::unknown_version);
  CHECK(e.version() == 7);
  CHECK_THROWS_AS(runner.force(-1), UsageError);

  // Forcing on a fresh database records the files as applied without running them.
  runner.force(2);
  CHECK(recorded_versions(conn) == Versions{1, 2});
  CHECK_FALSE(table_exists(conn, "accounts"));
  const auto status = runner.status();
  CHECK(status[0].applied);
  CHECK_FALSE(status[0].duration_ms);  // forced, never run
  runner.force(0);
  CHECK(recorded_versions(conn).empty());
  CHECK(runner.up().versions == Versions{1, 2, 3});
}

TEST_CASE("runner calls must be made outside a transaction", "[sqlite][migrate]") {
  MigrationDir dir;
  write_basic(dir);
  testdb::TempPath db;
  Conn conn{db.string()};
  Runner runner{conn, dir.path()};
  auto tx = conn.transaction();
  CHECK_THROWS_AS(runner.up(), UsageError);
  CHECK_THROWS_AS(runner.down(0), UsageError);
  CHECK_THROWS_AS(runner.force(0), UsageError);
}

TEST_CASE("unreadable migrations are reported with their path", "[sqlite][migrate]") {
  testdb::TempPath db;
  Conn conn{db.string()};

  SECTION("a missing directory") {
    MigrationDir parent;
    const fs::path missing = parent.path() / "nope";
    const auto e = expect_throw<MigrationError>([&] { Runner{conn, missing}.up(); });
    CHECK(e.kind() == MigrationError::Kind::io);
    CHECK(e.path() == missing.string());
    CHECK_THAT(std::string(e.what()), Catch::Contains(missing.string()) && Catch::Contains("does not exist"));
    CHECK_FALSE(table_exists(conn, "_tenantry_migrations"));
  }
  SECTION("a file instead of a directory") {
    MigrationDir parent;
    parent.write("plain.txt", "x");
    const auto e = expect_throw<MigrationError>([&] { Runner{conn, parent.file("plain.txt")}.status(); });
    CHECK(e.kind() == MigrationError::Kind::io);
    CHECK_THAT(std::string(e.what()), Catch::Contains("is not a directory"));
  }
  SECTION("a migration that cannot be read (a dangling symlink)") {
    MigrationDir dir;
    dir.write("0001_ok.up.sql", "SELECT 1;");
    fs::create_symlink(dir.path() / "gone.sql.orig", dir.path() / "0002_gone.up.sql");
    const auto e = expect_throw<MigrationError>([&] { Runner{conn, dir.path()}.up(); });
    CHECK(e.kind() == MigrationError::Kind::io);
    CHECK(e.path() == dir.file("0002_gone.up.sql").string());
    CHECK_THAT(std::string(e.what()), Catch::Contains("0002_gone.up.sql") && Catch::Contains("No such file"));
    CHECK_FALSE(table_exists(conn, "_tenantry_migrations"));
  }
  SECTION("a directory named like a migration") {
    MigrationDir dir;
    fs::create_directory(dir.path() / "0001_odd.up.sql");
    const auto e = expect_throw<MigrationError>([&] { Runner{conn, dir.path()}.up(); });
    CHECK(e.kind() == MigrationError::Kind::io);
    CHECK_THAT(std::string(e.what()), Catch::Contains("0001_odd.up.sql"));
  }
  SECTION("a malformed name and a duplicate version") {
    MigrationDir dir;
    dir.write("0001_ok.up.sql", "SELECT 1;");
    dir.write("README.md", "skipped");
    dir.write("0002-typo.up.sql", "SELECT 2;");
    auto e = expect_throw<MigrationError>([&] { Runner{conn, dir.path()}.up(); });
    CHECK(e.kind() == MigrationError::Kind::bad_file);
    CHECK_THAT(std::string(e.what()), Catch::Contains("'0002-typo.up.sql'"));
    dir.remove("0002-typo.up.sql");
    dir.write("01_again.up.sql", "SELECT 1;");
    e = expect_throw<MigrationError>([&] { Runner{conn, dir.path()}.up(); });
    CHECK(e.kind() == MigrationError::Kind::duplicate_version);
    CHECK_THAT(std::string(e.what()), Catch::Contains("0001_ok.up.sql") && Catch::Contains("01_again.up.sql"));
    CHECK_FALSE(table_exists(conn, "_tenantry_migrations"));
  }
}

TEST_CASE("migrations given in memory", "[sqlite][migrate]") {
  Conn conn{":memory:"};
  std::vector<migrate::Migration> ms = migrate::parse_migrations({
      {"0002_b.up.sql", "embedded/0002_b.up.sql", "CREATE TABLE b (x INTEGER);"},
      {"0001_a.up.sql", "embedded/0001_a.up.sql", "CREATE TABLE a (x INTEGER);"},
  });
  Runner runner{conn, ms};
  CHECK(runner.up().versions == Versions{1, 2});
  CHECK(table_exists(conn, "b"));

  ms.push_back(ms.front());  // the same version twice
  CHECK(expect_throw<MigrationError>([&] { Runner{conn, ms}; }).kind() == MigrationError::Kind::duplicate_version);
}

TEST_CASE("two runners at once apply every migration exactly once", "[sqlite][migrate][concurrency]") {
  MigrationDir dir;
  // A log table every migration writes to: a migration applied twice would log twice (or fail
  // on its CREATE TABLE). Some migrations are slow enough for the runners to overlap, and one
  // runs outside a transaction.
  dir.write("0001_log.up.sql", "CREATE TABLE log (version INTEGER NOT NULL);\nINSERT INTO log VALUES (1);\n");
  for (int v = 2; v <= 8; ++v) {
    std::string sql = v == 5 ? "-- tenantry:no-transaction\n" : "";
    sql += "CREATE TABLE t" + std::to_string(v) + " (x INTEGER);\n";
    sql += "INSERT INTO t" + std::to_string(v) +
           " WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) SELECT i FROM n;\n";
    sql += "INSERT INTO log VALUES (" + std::to_string(v) + ");\n";
    dir.write("000" + std::to_string(v) + "_step_" + std::to_string(v) + ".up.sql", sql);
  }

  for (int round = 0; round < 8; ++round) {
    INFO("round " << round);
    testdb::TempPath db;
    // Opened here, one after the other (switching a new file to WAL wants a moment alone).
    Conn a{db.string()};
    Conn b{db.string()};
    // Odd rounds start from an existing record table (the usual case: a new release starting
    // on several hosts), so both runners get past creating it and race per migration; even
    // rounds start from an empty file.
    const bool existing = round % 2 == 1;
    if (existing) Runner{a, dir.path()}.up(1);
    std::latch go(2);
    migrate::RunResult result_a, result_b;
    std::string error_a, error_b;
    const auto run = [&](Conn& conn, migrate::RunResult& result, std::string& error) {
      try {
        Runner runner{conn, dir.path()};
        go.arrive_and_wait();
        result = runner.up();
      } catch (const std::exception& e) {
        error = e.what();
      }
    };
    std::thread ta(run, std::ref(a), std::ref(result_a), std::ref(error_a));
    std::thread tb(run, std::ref(b), std::ref(result_b), std::ref(error_b));
    ta.join();
    tb.join();
    CHECK(error_a == "");  // (compared to "" so that a failure shows the message)
    CHECK(error_b == "");

    std::multiset<std::int64_t> applied(result_a.versions.begin(), result_a.versions.end());
    applied.insert(result_b.versions.begin(), result_b.versions.end());
    if (existing) applied.insert(1);
    CHECK(applied == std::multiset<std::int64_t>{1, 2, 3, 4, 5, 6, 7, 8});
    // Whatever one runner skipped, the other applied.
    for (std::int64_t v : result_a.skipped) CHECK(std::count(result_b.versions.begin(), result_b.versions.end(), v) == 1);
    for (std::int64_t v : result_b.skipped) CHECK(std::count(result_a.versions.begin(), result_a.versions.end(), v) == 1);
    CHECK(query_int(a, "SELECT COUNT(*) FROM log") == 8);
    CHECK(query_int(a, "SELECT COUNT(DISTINCT version) FROM log") == 8);
    CHECK(query_int(a, "SELECT COUNT(*) FROM _tenantry_migrations WHERE NOT dirty") == 8);
    CHECK(query_int(a, "SELECT COUNT(*) FROM t5") == 20000);
  }
}

TEST_CASE("a runner waits for another runner's no-transaction migration", "[sqlite][migrate][concurrency]") {
  MigrationDir dir;
  dir.write("0001_base.up.sql", "CREATE TABLE base (x INTEGER);\n");
  // Outside a transaction and slow: the read in the middle takes a while and holds no write lock,
  // so the other runner can look at the record table meanwhile.
  dir.write("0002_slow.up.sql",
            "-- tenantry:no-transaction\n"
            "CREATE TABLE slow (x INTEGER);\n"
            "SELECT count(*) FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000000)"
            " SELECT i FROM n);\n"
            "INSERT INTO slow VALUES (1);\n");
  dir.write("0003_after.up.sql", "CREATE TABLE after_slow (x INTEGER);\n");
  testdb::TempPath db;
  Conn a{db.string()};
  Conn b{db.string()};
  Runner{a, dir.path()}.up(1);

  std::latch slow_started(1);
  std::vector<Progress> events_b;
  migrate::RunResult result_a, result_b;
  std::string error_a, error_b;

  std::thread ta([&] {
    migrate::Options options;
    options.progress = [&](const Progress& p) {
      if (p.event == Progress::Event::started && p.version == 2) slow_started.count_down();
    };
    try {
      result_a = Runner{a, dir.path(), options}.up();
    } catch (const std::exception& e) {
      error_a = e.what();
    }
    slow_started.count_down();  // (never leave b waiting, whatever happened)
  });
  std::thread tb([&] {
    slow_started.wait();  // a has claimed version 2 and is running it
    migrate::Options options;
    options.progress = [&](const Progress& p) { events_b.push_back(p); };
    try {
      result_b = Runner{b, dir.path(), options}.up();
    } catch (const std::exception& e) {
      error_b = e.what();
    }
  });
  ta.join();
  tb.join();
  CHECK(error_a.empty());
  CHECK(error_b.empty());
  CHECK(std::count(result_a.versions.begin(), result_a.versions.end(), 2) == 1);
  CHECK(std::count(result_b.versions.begin(), result_b.versions.end(), 2) == 0);
  REQUIRE_FALSE(events_b.empty());
  CHECK(events_b.front().event == Progress::Event::waiting);
  CHECK(events_b.front().version == 2);
  // Version 3 went to exactly one of them.
  CHECK(std::count(result_a.versions.begin(), result_a.versions.end(), 3) +
            std::count(result_b.versions.begin(), result_b.versions.end(), 3) ==
        1);
  CHECK(query_int(a, "SELECT COUNT(*) FROM slow") == 1);
  CHECK(recorded_versions(a) == Versions{1, 2, 3});
  CHECK(query_int(a, "SELECT COUNT(*) FROM _tenantry_migrations WHERE dirty") == 0);
}
