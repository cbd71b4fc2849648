// Bad input that is not a value: malformed database URLs given to connect(), and migration
// directories that are missing, hold an unreadable file, a malformed file name or two files of
// one version. The migration cases run on a SQLite file and on PostgreSQL and check that the
// runner changed nothing in the database (not even its record table).
#include "bad_input/bad_input.hpp"
#include "support/migration_dir.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

using namespace tenantry;
using badinput::message_has;
using badinput::World;
using testdb::expect_throw;
namespace fs = std::filesystem;

TEST_CASE("malformed URLs: connect() throws UrlError saying what is wrong, before any I/O", "[bad_input][url]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"app.db", "no scheme"},
      {":memory:", "no scheme"},
      {"mysql://root@localhost/app", "unknown scheme 'mysql'"},
      {"SQLITE:app.db", "must be written in lower case: 'sqlite:'"},
      {"postgres:/x", "starts with 'postgres://' (two slashes)"},
      {"host=db dbname='app", "unterminated quoted value of 'dbname'"},
      {"sqlite:", "no file path"},
      {"sqlite://", "no file path"},
      {"sqlite:app.db?mode=fast", "unknown SQLite option 'mode=fast'"},
      {"sqlite:app.db?cache=shared", "unknown SQLite option"},
      {std::string("sqlite:a\0b.db", 13), "'sqlite:a\\x00b.db': the path contains a NUL byte"},  // the message goes on
      {"postgres://localhost:port/app", "is not a number"},
      {"postgres://localhost:65536/app", "out of range"},
      {"postgres://localhost:99999999999999999999999/app", "out of range"},
      {"postgres://localhost:-1/app", "is not a number"},
      {"postgres://localhost:/app", "empty port"},
      {"postgres://localhost:0/app", "port 0"},
      {"postgres://h1:5432,h2:x/app", "is not a number"},
      {"postgresql://[::1/app", "unterminated '['"},
      {"postgresql://[::1]x/app", "unexpected text after the IPv6 host"},
  };
  for (const auto& c : cases) {
    INFO("url: " << c.first);
    const auto e = expect_throw<UrlError>([&] { (void)connect(c.first); });
    message_has(e, {"bad database URL", c.second});
  }
  // A password never appears in the message, wherever the URL is malformed and however long.
  const std::vector<std::string> secret_urls = {
      "postgres://alice:hunter2@localhost:bad/app", "postgres://alice:hun@ter2@localhost:bad/app",
      "postgresql://alice:hunter2@[::1/app", "postgres://alice:" + std::string(300, 'p') + "hunter2@localhost:bad/app",
      "postgres://localhost:bad/app?user=alice&password=hunter2&sslmode=disable"};
  for (const std::string& url : secret_urls) {
    INFO("url: " << url);
    const auto e = expect_throw<UrlError>([&] { (void)connect(url); });
    const std::string what = e.what();
    CHECK(what.find("hunter2") == std::string::npos);
    CHECK(what.find("ter2") == std::string::npos);
    CHECK(what.find("pppp") == std::string::npos);
    CHECK(what.find("***") != std::string::npos);
  }
}

TEST_CASE("well-formed URLs naming nothing usable: ConnectionError", "[bad_input][url]") {
  const testdb::TempPath missing("missing");
  message_has(expect_throw<ConnectionError>([&] { (void)connect("sqlite:" + missing.string() + "?mode=ro"); }),
              {"cannot open", missing.string()});
  CHECK_FALSE(fs::exists(missing.path()));  // mode=ro and mode=rw never create the file
  expect_throw<ConnectionError>([&] { (void)connect("sqlite:" + missing.string() + "?mode=rw"); });
  CHECK_FALSE(fs::exists(missing.path()));
  expect_throw<ConnectionError>([&] { (void)connect("sqlite:///nonexistent-directory-for-tenantry/x.db"); });
  // Port 1 on the loopback interface: nothing listens, the refusal is immediate.
  expect_throw<ConnectionError>([&] { (void)connect("postgres://tenantry@127.0.0.1:1/postgres?connect_timeout=2"); });
  // A database that does not exist on the real server: SQLSTATE 3D000 (invalid_catalog_name).
  const std::string url = parity::Postgres::url();
  const std::string base = url.substr(0, url.find('/', url.find("://") + 3));
  const std::string query = url.find('?') == std::string::npos ? "" : url.substr(url.find('?'));
  const auto e = expect_throw<ConnectionError>([&] { (void)connect(base + "/no_such_database_tenantry" + query); });
  message_has(e, {"no_such_database_tenantry"});
}

namespace {

/// A fresh migrations directory under the test temp directory, removed at scope end.
using testdb::MigrationDir;

/// A valid first migration that would create a table, so a runner that ran anything shows.
void write_valid(const MigrationDir& dir) {
  dir.write("0001_create_notes.up.sql", "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);\n");
  dir.write("0001_create_notes.down.sql", "DROP TABLE notes;\n");
}

/// Runs up() on a runner over `dir` and returns the MigrationError it must throw.
template <class Conn>
MigrationError up_fails(Conn& conn, const fs::path& dir) {
  migrate::Runner<Conn> runner{conn, dir};
  return expect_throw<MigrationError>([&] { (void)runner.up(); });
}

}  // namespace

TEMPLATE_TEST_CASE("bad migration directories: a MigrationError of the right kind, and nothing applied",
                   "[bad_input][migrate]", BAD_INPUT_BACKENDS) {
  using B = TestType;
  World<B> w;

  SECTION("the control: a valid directory changes the database, and the snapshot sees it") {
    MigrationDir dir;
    write_valid(dir);
    migrate::Runner<typename B::Conn> runner{w.conn, dir.path()};
    CHECK(runner.up().versions == std::vector<std::int64_t>{1});
    CHECK(badinput::snapshot(w.conn) != w.before);
    runner.down(0);
    CHECK(badinput::snapshot(w.conn).count("notes") == 0);
    return;  // _tenantry_migrations stays: this section changed the database on purpose
  }
  SECTION("the directory does not exist") {
    const fs::path missing = testdb::temp_dir() / "tenantry-no-such-migrations-dir";
    const auto e = up_fails(w.conn, missing);
    CHECK(e.kind() == MigrationError::Kind::io);
    CHECK(e.path() == missing.string());
    message_has(e, {"does not exist"});
  }
  SECTION("the path is a file, not a directory") {
    MigrationDir dir;
    write_valid(dir);
    const auto e = up_fails(w.conn, dir.path() / "0001_create_notes.up.sql");
    CHECK(e.kind() == MigrationError::Kind::io);
    message_has(e, {"is not a directory"});
  }
  SECTION("a migration file cannot be read: a directory with a migration's name") {
    MigrationDir dir;
    write_valid(dir);
    fs::create_directory(dir.path() / "0002_unreadable.up.sql");
    const auto e = up_fails(w.conn, dir.path());
    CHECK(e.kind() == MigrationError::Kind::io);
    CHECK(e.path() == (dir.path() / "0002_unreadable.up.sql").string());
    message_has(e, {"cannot read", "0002_unreadable.up.sql"});
  }
  SECTION("a migration file cannot be read: a dangling symbolic link") {
    MigrationDir dir;
    write_valid(dir);
    fs::create_symlink(dir.path() / "nowhere.sql.txt", dir.path() / "0002_dangling.up.sql");
    const auto e = up_fails(w.conn, dir.path());
    CHECK(e.kind() == MigrationError::Kind::io);
    message_has(e, {"cannot read", "0002_dangling.up.sql", "No such file"});
  }
  SECTION("a migration file cannot be read: no read permission") {
    MigrationDir dir;
    write_valid(dir);
    dir.write("0002_secret.up.sql", "SELECT 1;");
    fs::permissions(dir.path() / "0002_secret.up.sql", fs::perms::none);
    if (::geteuid() == 0) {
      // root reads it regardless; the two sections above cover an unreadable file for root.
      fs::permissions(dir.path() / "0002_secret.up.sql", fs::perms::owner_read | fs::perms::owner_write);
      SUCCEED("running as root: permission bits do not stop reads");
    } else {
      const auto e = up_fails(w.conn, dir.path());
      CHECK(e.kind() == MigrationError::Kind::io);
      message_has(e, {"Permission denied"});
    }
  }
  SECTION("malformed file names") {
    for (const char* name : {"1-create.up.sql", "0001_.up.sql", "0_zero.up.sql", "create.up.sql", "0001create.up.sql",
                             "0001_create.sql", "0001_create.UP.sql", "99999999999999999999_huge.up.sql"}) {
      INFO(name);
      MigrationDir dir;
      write_valid(dir);
      dir.write(name, "SELECT 1;");
      const auto e = up_fails(w.conn, dir.path());
      CHECK(e.kind() == MigrationError::Kind::bad_file);
      message_has(e, {name, "expected NNNN_description.up.sql"});
    }
  }
  SECTION("two files claim one version") {
    MigrationDir dir;
    write_valid(dir);
    dir.write("001_other.up.sql", "SELECT 1;");  // 001 == 0001
    const auto e = up_fails(w.conn, dir.path());
    CHECK(e.kind() == MigrationError::Kind::duplicate_version);
    CHECK(e.version() == 1);
    message_has(e, {"001_other.up.sql", "0001_create_notes.up.sql", "both have version 1"});
  }
  SECTION("bad contents: a NUL byte, a misspelt directive, a down file without an up file") {
    const std::vector<std::pair<std::string, std::string>> files = {
        {"0002_nul.up.sql", std::string("SELECT 1;\0", 10)},
        {"0002_typo.up.sql", "-- tenantry:no-transactoin\nSELECT 1;"},
        {"0002_late.up.sql", "SELECT 1;\n-- tenantry:no-transaction\n"},
        {"0002_orphan.down.sql", "SELECT 1;"},
    };
    for (const auto& [name, contents] : files) {
      INFO(name);
      MigrationDir dir;
      write_valid(dir);
      dir.write(name, contents);
      const auto e = up_fails(w.conn, dir.path());
      CHECK(e.kind() == MigrationError::Kind::bad_file);
      message_has(e, {name});
    }
  }
  // Whatever was wrong, nothing ran: no record table, no notes table, no row changed.
  w.unchanged();
}
