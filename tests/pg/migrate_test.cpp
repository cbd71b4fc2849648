// The migration runner against a real PostgreSQL server (one fresh database per test, from
// tests/support/pg_database.hpp): applying and re-running, up/down/up compared through
// information_schema and pg_catalog, edited and missing files, failures inside and outside a
// transaction (CREATE INDEX CONCURRENTLY, dirty, refused, force), the advisory lock, two runners
// at once, and tenantry::Database chosen at run time.
#include "support/expect_throw.hpp"
#include "support/migration_dir.hpp"
#include "support/pg_database.hpp"
#include "support/pg_scalar.hpp"

#include <tenantry/migrate.hpp>
#include <tenantry/postgres.hpp>
#include <tenantry/tenantry.hpp>  // Database, connect()

#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <latch>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace tenantry;
using testdb::scalar;
using testdb::expect_throw;
using migrate::Direction;
using migrate::Progress;
using migrate::Runner;
using PgConn = tenantry::pg::Connection;

namespace {

namespace fs = std::filesystem;
using Versions = std::vector<std::int64_t>;
using testdb::MigrationDir;

/// Four migrations with down files: tables, a row, an index and a column, and two indexes built
/// CONCURRENTLY (which PostgreSQL refuses inside a transaction).
void write_basic(const MigrationDir& dir) {
  dir.write("0001_create_accounts.up.sql",
            "CREATE TABLE accounts (id BIGINT PRIMARY KEY, name TEXT NOT NULL);\n"
            "CREATE TABLE notes (id BIGINT PRIMARY KEY, account_id BIGINT REFERENCES accounts (id), body TEXT,\n"
            "  CONSTRAINT ck_notes_body CHECK (length(body) < 1000));\n");
  dir.write("0001_create_accounts.down.sql", "DROP TABLE notes;\nDROP TABLE accounts;\n");
  dir.write("0002_seed_admin.up.sql", "INSERT INTO accounts (id, name) VALUES (1, 'admin; not a statement end');\n");
  dir.write("0002_seed_admin.down.sql", "DELETE FROM accounts WHERE id = 1;\n");
  dir.write("0003_index_notes.up.sql",
            "CREATE INDEX ix_notes_account ON notes (account_id);\n"
            "ALTER TABLE accounts ADD COLUMN email TEXT;\n"
            "CREATE FUNCTION note_count() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM notes; $$;\n");
  dir.write("0003_index_notes.down.sql",
            "DROP FUNCTION note_count();\nDROP INDEX ix_notes_account;\nALTER TABLE accounts DROP COLUMN email;\n");
  dir.write("0004_concurrent_indexes.up.sql",
            "-- tenantry:no-transaction\n"
            "CREATE INDEX CONCURRENTLY ix_accounts_name ON accounts (name);\n"
            "CREATE INDEX CONCURRENTLY ix_notes_body ON notes (body);\n");
  dir.write("0004_concurrent_indexes.down.sql",
            "-- tenantry:no-transaction\n"
            "DROP INDEX CONCURRENTLY ix_notes_body;\n"
            "DROP INDEX CONCURRENTLY ix_accounts_name;\n");
}

// ---- plain queries through the driver interface ------------------------------------------------

/// Every row of a query whose columns are all text, each row joined with '|'.
std::vector<std::string> query_rows(PgConn& conn, const std::string& sql) {
  auto& st = conn.prepare(intern_sql(sql));
  struct Reset {
    decltype(st)& s;
    ~Reset() { s.reset(); }
  } reset{st};
  std::vector<std::string> rows;
  while (st.step()) {
    std::string row;
    for (int c = 0; c < st.column_count(); ++c) {
      if (c > 0) row += '|';
      row += st.column_is_null(c) ? std::string("NULL") : std::string(st.column_text(c));
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

bool table_exists(PgConn& conn, const std::string& name) {
  return scalar(conn, "SELECT count(*)::bigint FROM pg_catalog.pg_tables WHERE schemaname = 'public' AND tablename = '" +
                             name + "'") == 1;
}

/// The public schema as the catalogs describe it: columns in their logical order (a column
/// dropped and added again keeps its place at the end), constraints, indexes and functions.
std::vector<std::string> schema_rows(PgConn& conn) {
  std::vector<std::string> rows;
  for (const char* sql : {
           "SELECT 'column', table_name::text, column_name::text, data_type::text, is_nullable::text,"
           " coalesce(column_default::text, ''),"
           " (row_number() OVER (PARTITION BY table_name ORDER BY ordinal_position))::text"
           " FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 2, 7",
           "SELECT 'constraint', rel.relname::text, con.conname::text, pg_get_constraintdef(con.oid)::text"
           " FROM pg_catalog.pg_constraint con JOIN pg_catalog.pg_class rel ON rel.oid = con.conrelid"
           " JOIN pg_catalog.pg_namespace ns ON ns.oid = rel.relnamespace WHERE ns.nspname = 'public' ORDER BY 2, 3",
           "SELECT 'index', tablename::text, indexname::text, indexdef::text FROM pg_catalog.pg_indexes"
           " WHERE schemaname = 'public' ORDER BY 2, 3",
           "SELECT 'index valid', c.relname::text, i.indisvalid::text FROM pg_catalog.pg_index i"
           " JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid JOIN pg_catalog.pg_namespace ns"
           " ON ns.oid = c.relnamespace WHERE ns.nspname = 'public' ORDER BY 2",
           "SELECT 'function', p.proname::text, pg_get_functiondef(p.oid)::text FROM pg_catalog.pg_proc p"
           " JOIN pg_catalog.pg_namespace ns ON ns.oid = p.pronamespace WHERE ns.nspname = 'public' ORDER BY 2",
       }) {
    for (std::string& row : query_rows(conn, sql)) rows.push_back(std::move(row));
  }
  return rows;
}

Versions recorded_versions(PgConn& conn) {
  Versions out;
  for (const std::string& v : query_rows(conn, "SELECT version::text FROM _tenantry_migrations ORDER BY version"))
    out.push_back(std::stoll(v));
  return out;
}

/// Advisory locks held in the current database, by anyone.
std::int64_t advisory_locks(PgConn& conn) {
  return scalar(conn,
                   "SELECT count(*)::bigint FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND granted"
                   " AND database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())");
}

/// The SQLSTATE of the DatabaseError a MigrationError wraps.
std::string sqlstate_of(const MigrationError& e) {
  REQUIRE(e.cause());
  try {
    std::rethrow_exception(e.cause());
  } catch (const DatabaseError& db) {
    CHECK(db.code() == e.database_code());
    return db.code();
  } catch (...) {
  }
  FAIL("the cause is not a DatabaseError");
  return {};
}

}  // namespace

TEST_CASE("pg: migrations apply once; a second run does nothing", "[pg][migrate]") {
  MigrationDir dir;
  write_basic(dir);
  PgConn conn{tenantry_test::pg_url()};
  std::vector<Progress> events;
  migrate::Options options;
  options.progress = [&](const Progress& p) { events.push_back(p); };
  Runner runner{conn, dir.path(), options};

  CHECK(runner.status().size() == 4);
  CHECK_FALSE(table_exists(conn, "_tenantry_migrations"));  // status() only reads

  const migrate::RunResult first = runner.up();
  CHECK(first.versions == Versions{1, 2, 3, 4});
  CHECK(scalar(conn, "SELECT count(*)::bigint FROM accounts WHERE name = 'admin; not a statement end'") == 1);
  CHECK(scalar(conn, "SELECT note_count()") == 0);
  CHECK(scalar(conn, "SELECT count(*)::bigint FROM pg_catalog.pg_indexes WHERE indexname IN"
                        " ('ix_accounts_name', 'ix_notes_body', 'ix_notes_account')") == 3);
  REQUIRE(events.size() == 8);
  CHECK(events[7].event == Progress::Event::finished);
  CHECK(events[7].version == 4);
  CHECK(events[7].no_transaction);

  // The record table in PostgreSQL's types.
  CHECK(query_rows(conn,
                   "SELECT column_name::text, data_type::text, is_nullable::text FROM information_schema.columns"
                   " WHERE table_name = '_tenantry_migrations' ORDER BY ordinal_position") ==
        std::vector<std::string>{"version|bigint|NO", "description|text|NO", "checksum|text|NO",
                                 "applied_at|timestamp with time zone|NO", "duration_ms|bigint|YES",
                                 "dirty|boolean|NO"});
  const auto records = query_rows(conn,
                                   "SELECT version::text, description, checksum, dirty::text,"
                                   " (duration_ms >= 0)::text, (applied_at > now() - interval '1 minute')::text"
                                   " FROM _tenantry_migrations ORDER BY version");
  REQUIRE(records.size() == 4);
  CHECK(records[0] == "1|create accounts|" +
                          migrate::sha256_hex(migrate::read_file(dir.file("0001_create_accounts.up.sql"))) +
                          "|false|true|true");
  CHECK(records[3] == "4|concurrent indexes|" +
                          migrate::sha256_hex(migrate::read_file(dir.file("0004_concurrent_indexes.up.sql"))) +
                          "|false|true|true");

  events.clear();
  const auto schema = schema_rows(conn);
  const migrate::RunResult second = runner.up();
  CHECK(second.versions.empty());
  CHECK(second.skipped.empty());
  CHECK(events.empty());
  CHECK(schema_rows(conn) == schema);
  for (const auto& s : runner.status()) {
    CHECK(s.applied);
    CHECK(s.checksum_ok);
    CHECK_FALSE(s.dirty);
    REQUIRE(s.applied_at);
    CHECK(s.applied_at->micros > Timestamp::now().micros - 60'000'000);
  }
  CHECK(advisory_locks(conn) == 0);  // released at the end of each run
}

TEST_CASE("pg: up, down, up leaves an identical schema", "[pg][migrate]") {
  MigrationDir dir;
  write_basic(dir);
  PgConn conn{tenantry_test::pg_url()};
  Runner runner{conn, dir.path()};

  runner.up();
  const auto full = schema_rows(conn);
  REQUIRE(full.size() > 10);

  SECTION("all the way down") {
    CHECK(runner.down(0).versions == Versions{4, 3, 2, 1});
    CHECK(recorded_versions(conn).empty());
    CHECK(query_rows(conn, "SELECT tablename::text FROM pg_catalog.pg_tables WHERE schemaname = 'public'") ==
          std::vector<std::string>{"_tenantry_migrations"});
    CHECK(runner.up().versions == Versions{1, 2, 3, 4});
    CHECK(schema_rows(conn) == full);
  }
  SECTION("part of the way (a column dropped and added back)") {
    CHECK(runner.down(2).versions == Versions{4, 3});
    CHECK(recorded_versions(conn) == Versions{1, 2});
    CHECK(scalar(conn, "SELECT count(*)::bigint FROM information_schema.columns WHERE column_name = 'email'") == 0);
    CHECK(runner.up().versions == Versions{3, 4});
    CHECK(schema_rows(conn) == full);
  }
  SECTION("a missing down file stops down() before anything is reverted") {
    dir.remove("0002_seed_admin.down.sql");
    const auto e = expect_throw<MigrationError>([&] { runner.down(0); });
    CHECK(e.kind() == MigrationError::Kind::missing_down);
    CHECK(e.version() == 2);
    CHECK_THAT(std::string(e.what()), Catch::Contains("0002_seed_admin.down.sql"));
    CHECK(recorded_versions(conn) == Versions{1, 2, 3, 4});
    CHECK(schema_rows(conn) == full);
  }
}

TEST_CASE("pg: edited and missing files stop the run", "[pg][migrate]") {
  MigrationDir dir;
  write_basic(dir);
  PgConn conn{tenantry_test::pg_url()};
  Runner runner{conn, dir.path()};
  runner.up();
  dir.write("0005_later.up.sql", "CREATE TABLE later (x INT);\n");

  SECTION("edited") {
    dir.write("0003_index_notes.up.sql", "CREATE INDEX ix_notes_account ON notes (account_id, id);\n");
    const auto e = expect_throw<MigrationError>([&] { runner.up(); });
    CHECK(e.kind() == MigrationError::Kind::checksum_mismatch);
    CHECK(e.version() == 3);
    CHECK_THAT(std::string(e.what()), Catch::Contains("version 3") && Catch::Contains("0003_index_notes.up.sql"));
    CHECK_FALSE(runner.status()[2].checksum_ok);
  }
  SECTION("missing") {
    dir.remove("0002_seed_admin.up.sql");
    dir.remove("0002_seed_admin.down.sql");
    const auto e = expect_throw<MigrationError>([&] { runner.up(); });
    CHECK(e.kind() == MigrationError::Kind::missing_file);
    CHECK(e.version() == 2);
    CHECK_THAT(std::string(e.what()), Catch::Contains("version 2 (seed admin)"));
    CHECK(runner.status()[1].file_missing);
  }
  CHECK_FALSE(table_exists(conn, "later"));
  CHECK(recorded_versions(conn) == Versions{1, 2, 3, 4});
  CHECK(advisory_locks(conn) == 0);  // released on error too
}

TEST_CASE("pg: a failing migration leaves no table and no record", "[pg][migrate]") {
  MigrationDir dir;
  dir.write("0001_ok.up.sql", "CREATE TABLE ok (x INT);\n");
  dir.write("0002_broken.up.sql",
            "CREATE TABLE half (x INT);\nINSERT INTO half VALUES (1);\nINSERT INTO no_such_table VALUES (1);\n");
  dir.write("0003_after.up.sql", "CREATE TABLE after_broken (x INT);\n");
  PgConn conn{tenantry_test::pg_url()};
  Runner runner{conn, dir.path()};

  const auto e = expect_throw<MigrationError>([&] { runner.up(); });
  CHECK(e.kind() == MigrationError::Kind::failed);
  CHECK(e.version() == 2);
  CHECK(e.path() == dir.file("0002_broken.up.sql").string());
  CHECK_FALSE(e.marked_dirty());
  CHECK_THAT(std::string(e.what()), Catch::Contains("migration 2") && Catch::Contains("no_such_table"));
  CHECK(sqlstate_of(e) == "42P01");  // undefined_table
  CHECK(table_exists(conn, "ok"));
  CHECK_FALSE(table_exists(conn, "half"));
  CHECK_FALSE(table_exists(conn, "after_broken"));
  CHECK(recorded_versions(conn) == Versions{1});
  CHECK_FALSE(conn.in_transaction());
  CHECK(advisory_locks(conn) == 0);

  SECTION("a deferred constraint that fails at COMMIT is the migration's failure too") {
    dir.write("0002_broken.up.sql",
              "CREATE TABLE parent (id INT PRIMARY KEY);\n"
              "CREATE TABLE child (p INT REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED);\n"
              "INSERT INTO child VALUES (42);\n");
    const auto deferred = expect_throw<MigrationError>([&] { runner.up(); });
    CHECK(deferred.version() == 2);
    CHECK(sqlstate_of(deferred) == "23503");  // foreign_key_violation, raised by COMMIT
    CHECK_FALSE(table_exists(conn, "parent"));
    CHECK(recorded_versions(conn) == Versions{1});
  }
  SECTION("fixed, it applies with what follows") {
    dir.write("0002_broken.up.sql", "CREATE TABLE half (x INT);\nINSERT INTO half VALUES (1);\n");
    CHECK(runner.up().versions == Versions{2, 3});
  }
}

TEST_CASE("pg: no-transaction migrations, dirty state and force()", "[pg][migrate]") {
  MigrationDir dir;
  dir.write("0001_people.up.sql",
            "CREATE TABLE people (id INT PRIMARY KEY, email TEXT);\n"
            "INSERT INTO people VALUES (1, 'a@example.com'), (2, 'a@example.com');\n");
  PgConn conn{tenantry_test::pg_url()};
  Runner runner{conn, dir.path()};
  runner.up();

  SECTION("CREATE INDEX CONCURRENTLY is refused in a transaction") {
    dir.write("0002_ix.up.sql", "CREATE INDEX CONCURRENTLY ix_people_email ON people (email);\n");
    const auto e = expect_throw<MigrationError>([&] { runner.up(); });
    CHECK(sqlstate_of(e) == "25001");  // active_sql_transaction
    CHECK_FALSE(e.marked_dirty());
    CHECK(recorded_versions(conn) == Versions{1});
    dir.write("0002_ix.up.sql", "-- tenantry:no-transaction\nCREATE INDEX CONCURRENTLY ix_people_email ON people (email);\n");
    CHECK(runner.up().versions == Versions{2});
  }

  SECTION("a failed CREATE UNIQUE INDEX CONCURRENTLY leaves the database dirty") {
    // The classic: the build fails on duplicates and leaves an INVALID index behind.
    dir.write("0002_unique_email.up.sql",
              "-- tenantry:no-transaction\n"
              "CREATE TABLE audit (x INT);\n"
              "CREATE UNIQUE INDEX CONCURRENTLY ux_people_email ON people (email);\n");
    dir.write("0003_next.up.sql", "CREATE TABLE next_one (x INT);\n");
    const auto failed = expect_throw<MigrationError>([&] { runner.up(); });
    CHECK(failed.kind() == MigrationError::Kind::failed);
    CHECK(failed.version() == 2);
    CHECK(failed.marked_dirty());
    CHECK(sqlstate_of(failed) == "23505");  // unique_violation
    CHECK(table_exists(conn, "audit"));     // the first statement committed on its own
    CHECK(query_rows(conn, "SELECT i.indisvalid::text FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c"
                           " ON c.oid = i.indexrelid WHERE c.relname = 'ux_people_email'") ==
          std::vector<std::string>{"false"});
    CHECK(query_rows(conn, "SELECT dirty::text, (duration_ms IS NOT NULL)::text FROM _tenantry_migrations"
                           " WHERE version = 2") == std::vector<std::string>{"true|true"});
    CHECK(advisory_locks(conn) == 0);

    const auto refused = expect_throw<MigrationError>([&] { runner.up(); });
    CHECK(refused.kind() == MigrationError::Kind::dirty);
    CHECK(refused.version() == 2);
    CHECK_THAT(std::string(refused.what()), Catch::Contains("dirty at version 2") && Catch::Contains("force(1)"));
    CHECK(expect_throw<MigrationError>([&] { runner.down(0); }).kind() == MigrationError::Kind::dirty);
    CHECK_FALSE(table_exists(conn, "next_one"));
    CHECK(runner.status()[1].dirty);

    // Undo by hand, fix the data, force back to 1, run again.
    conn.execute("DROP INDEX ux_people_email");
    conn.execute("DROP TABLE audit");
    conn.execute("UPDATE people SET email = 'b@example.com' WHERE id = 2");
    runner.force(1);
    CHECK(recorded_versions(conn) == Versions{1});
    CHECK(runner.up().versions == Versions{2, 3});
    CHECK(scalar(conn, "SELECT count(*)::bigint FROM _tenantry_migrations WHERE dirty") == 0);
  }

  SECTION("a no-transaction file with its own transaction that fails inside it") {
    dir.write("0002_own_tx.up.sql",
              "-- tenantry:no-transaction\n"
              "CREATE INDEX CONCURRENTLY ix_people_email ON people (email);\n"
              "/* the rest together */ BEGIN;\n"
              "ALTER TABLE people ADD COLUMN name TEXT;\n"
              "UPDATE people SET name = 1 / 0;\n"
              "COMMIT;\n");
    const auto e = expect_throw<MigrationError>([&] { runner.up(); });
    CHECK(e.marked_dirty());
    CHECK(sqlstate_of(e) == "22012");  // division_by_zero
    // Its transaction was rolled back (the connection works, the column is not there); the index
    // built before it stays, and the record says dirty.
    CHECK_FALSE(conn.in_transaction());
    CHECK(scalar(conn, "SELECT count(*)::bigint FROM information_schema.columns WHERE table_name = 'people'"
                          " AND column_name = 'name'") == 0);
    CHECK(scalar(conn, "SELECT count(*)::bigint FROM pg_catalog.pg_indexes WHERE indexname = 'ix_people_email'") == 1);
    CHECK(scalar(conn, "SELECT count(*)::bigint FROM _tenantry_migrations WHERE dirty") == 1);

    conn.execute("DROP INDEX ix_people_email");
    dir.write("0002_own_tx.up.sql",
              "-- tenantry:no-transaction\n"
              "CREATE INDEX CONCURRENTLY ix_people_email ON people (email);\n"
              "BEGIN;\nALTER TABLE people ADD COLUMN name TEXT;\nUPDATE people SET name = 'x';\nCOMMIT;\n");
    runner.force(1);
    CHECK(runner.up().versions == Versions{2});
    CHECK(scalar(conn, "SELECT count(*)::bigint FROM people WHERE name = 'x'") == 2);
  }

  SECTION("an unfinished record is refused at once: the advisory lock rules out a live runner") {
    dir.write("0002_x.up.sql", "-- tenantry:no-transaction\nCREATE TABLE x (a INT);\n");
    conn.execute("INSERT INTO _tenantry_migrations (version, description, checksum, applied_at, duration_ms, dirty)"
                 " VALUES (2, 'x', 'whatever', now(), NULL, true)");
    migrate::Options patient;
    patient.wait_timeout = std::chrono::seconds(30);
    const auto start = std::chrono::steady_clock::now();
    const auto e = expect_throw<MigrationError>([&] { Runner{conn, dir.path(), patient}.up(); });
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
    CHECK(e.kind() == MigrationError::Kind::dirty);
    CHECK_THAT(std::string(e.what()), Catch::Contains("never finished"));
    // Whoever ran it died; the table is created by hand and the version declared done.
    conn.execute("CREATE TABLE x (a INT)");
    runner.force(2);
    const auto status = runner.status();
    CHECK_FALSE(status[1].dirty);
    CHECK(status[1].checksum_ok);  // force() recorded the file's checksum
    CHECK(runner.up().versions.empty());
  }
}

TEST_CASE("pg: the advisory lock is held for the whole run", "[pg][migrate]") {
  MigrationDir dir;
  write_basic(dir);
  const std::string url = tenantry_test::pg_url();
  PgConn conn{url};
  PgConn observer{url};
  const std::int64_t pid = scalar(conn, "SELECT pg_backend_pid()::bigint");
  std::vector<std::int64_t> held;
  migrate::Options options;
  options.progress = [&](const Progress& p) {
    if (p.event != Progress::Event::finished) return;
    // The key is split across classid (high 32 bits) and objid (low 32 bits).
    held.push_back(scalar(observer,
                             "SELECT count(*)::bigint FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND granted"
                             " AND pid = " + std::to_string(pid) +
                             " AND ((classid::bigint << 32) | objid::bigint) = " +
                             std::to_string(migrate::advisory_lock_key)));
  };
  Runner{conn, dir.path(), options}.up();
  CHECK(held == Versions{1, 1, 1, 1});
  CHECK(advisory_locks(observer) == 0);

  SECTION("a runner gives up on a lock held past the wait timeout") {
    observer.execute("SELECT pg_advisory_lock(" + std::to_string(migrate::advisory_lock_key) + ")");
    dir.write("0006_more.up.sql", "CREATE TABLE more (x INT);\n");
    std::vector<Progress> events;
    migrate::Options impatient;
    impatient.wait_timeout = std::chrono::milliseconds(300);
    impatient.progress = [&](const Progress& p) { events.push_back(p); };
    const auto e = expect_throw<MigrationError>([&] { Runner{conn, dir.path(), impatient}.up(); });
    CHECK(e.kind() == MigrationError::Kind::locked);
    REQUIRE(events.size() == 1);
    CHECK(events[0].event == Progress::Event::waiting);
    CHECK(events[0].version == 0);
    CHECK_FALSE(table_exists(conn, "more"));
    observer.execute("SELECT pg_advisory_unlock(" + std::to_string(migrate::advisory_lock_key) + ")");
    CHECK(Runner{conn, dir.path()}.up().versions == Versions{6});
  }
}

TEST_CASE("pg: two runners at once apply every migration exactly once", "[pg][migrate][concurrency]") {
  MigrationDir dir;
  dir.write("0001_log.up.sql", "CREATE TABLE log (version INT NOT NULL);\nINSERT INTO log VALUES (1);\n");
  for (int v = 2; v <= 6; ++v) {
    std::string sql = v == 4 ? "-- tenantry:no-transaction\n" : "";
    sql += "CREATE TABLE t" + std::to_string(v) + " AS SELECT g AS x FROM generate_series(1, 20000) g;\n";
    if (v == 4) sql += "CREATE INDEX CONCURRENTLY ix_t4 ON t4 (x);\n";
    sql += "SELECT pg_sleep(0.02);\nINSERT INTO log VALUES (" + std::to_string(v) + ");\n";
    dir.write("000" + std::to_string(v) + "_step_" + std::to_string(v) + ".up.sql", sql);
  }

  for (int round = 0; round < 4; ++round) {
    INFO("round " << round);
    const std::string url = tenantry_test::pg_url();
    PgConn a{url};
    PgConn b{url};
    std::latch go(2);
    migrate::RunResult result_a, result_b;
    std::string error_a, error_b;
    const auto run = [&](PgConn& conn, migrate::RunResult& result, std::string& error) {
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
    // The lock serialises whole runs: one runner applies everything, the other finds it done.
    const Versions all{1, 2, 3, 4, 5, 6};
    CHECK(((result_a.versions == all && result_b.versions.empty()) ||
           (result_b.versions == all && result_a.versions.empty())));
    CHECK(result_a.skipped.empty());
    CHECK(result_b.skipped.empty());
    CHECK(scalar(a, "SELECT count(*)::bigint FROM log") == 6);
    CHECK(scalar(a, "SELECT count(DISTINCT version)::bigint FROM log") == 6);
    CHECK(recorded_versions(a) == all);
    CHECK(advisory_locks(a) == 0);
  }
}

// ---- tenantry::Database: the dialect chosen at run time ---------------------------------------

TEST_CASE("pg: a Runner over a run-time selected Database", "[pg][migrate][database]") {
  SECTION("PostgreSQL") {
    MigrationDir dir;
    write_basic(dir);
    Database db = connect(tenantry_test::pg_url());
    REQUIRE(db.is_postgres());
    Runner runner{db, dir.path()};
    CHECK(runner.up().versions == Versions{1, 2, 3, 4});
    CHECK(runner.status().back().applied);
    CHECK(runner.down(1).versions == Versions{4, 3, 2});
    runner.force(0);
    CHECK_FALSE(runner.status().front().applied);
  }
  SECTION("SQLite") {
    MigrationDir dir;
    dir.write("0001_a.up.sql", "CREATE TABLE a (x INTEGER);\n");
    dir.write("0001_a.down.sql", "DROP TABLE a;\n");
    dir.write("0002_vacuum.up.sql", "-- tenantry:no-transaction\nVACUUM;\n");
    const fs::path file = dir.path() / "db.sqlite";
    Database db = connect("sqlite:" + file.string());
    REQUIRE(db.is_sqlite());
    Runner runner{db, dir.path()};
    CHECK(runner.up().versions == Versions{1, 2});
    CHECK(runner.up().versions.empty());
    CHECK(runner.status().size() == 2);
  }
}
