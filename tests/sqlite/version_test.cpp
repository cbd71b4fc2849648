// Minimum SQLite library version (tenantry/version.hpp): every Connection checks the library it
// runs with (which may be older than the sqlite3.h it was compiled with) before opening
// anything. The installed library is new enough, so the refusal is shown on the function the
// constructor calls, fed the numbers an older library reports.
#include "support/expect_throw.hpp"

#include <tenantry/sqlite.hpp>

#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <string>

using namespace tenantry;
using Catch::Matchers::Contains;
using testdb::expect_throw;

TEST_CASE("the SQLite library in use passes the version check", "[sqlite][version]") {
  CHECK(sqlite3_libversion_number() >= TENANTRY_MIN_SQLITE_VERSION_NUMBER);
  CHECK_NOTHROW(sqlite::detail::require_library_version(sqlite3_libversion_number(), sqlite3_libversion()));
  sqlite::Connection db{":memory:"};
  CHECK_NOTHROW(db.execute("SELECT 1"));
}

TEST_CASE("an SQLite library older than 3.37 is refused with a typed error", "[sqlite][version]") {
  // 3.35 has RETURNING but not sqlite3_changes64 (3.37), which the driver calls.
  const auto e = expect_throw<UnsupportedVersion>([] { sqlite::detail::require_library_version(3035005, "3.35.5"); });
  CHECK(std::string(e.what()) ==
        "tenantry: SQLite library 3.35.5 is too old: tenantry needs SQLite library 3.37.0 or later (RETURNING "
        "needs 3.35, sqlite3_changes64 3.37; upgrade libsqlite3)");
  CHECK(e.component() == "SQLite library");
  CHECK(e.found() == 3035005);
  CHECK(e.minimum() == 3037000);
  CHECK_THROWS_AS(sqlite::detail::require_library_version(3031001, "3.31.1"), ConnectionError);
  CHECK_NOTHROW(sqlite::detail::require_library_version(3037000, "3.37.0"));
}
