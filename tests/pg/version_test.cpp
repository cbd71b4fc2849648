// Minimum versions on PostgreSQL (tenantry/version.hpp): libpq is checked before connecting and
// the server right after, so an old one is refused with UnsupportedVersion before any
// statement is sent. The test server is 15 or newer, so the refusals are shown on the
// functions the constructor calls, fed the numbers an older libpq or server reports.
#include "support/expect_throw.hpp"
#include "support/pg_database.hpp"

#include <tenantry/postgres.hpp>

#include <catch2/catch.hpp>

#include <libpq-fe.h>

#include <string>

using namespace tenantry;
using Catch::Matchers::Contains;
using testdb::expect_throw;

TEST_CASE("the test server passes the version check the connection makes", "[pg][version]") {
  pg::Connection conn{tenantry_test::pg_url()};
  const int server = PQserverVersion(conn.native());
  CHECK(server >= TENANTRY_MIN_POSTGRES_SERVER_VERSION);
  auto& st = conn.prepare(intern_sql("SELECT current_setting('server_version_num')::int"));
  pg::StatementScope scope(st);
  REQUIRE(st.step());
  CHECK(st.column_int(0) == server);  // what the check read is what the server says it is
  CHECK(PQlibVersion() >= TENANTRY_MIN_LIBPQ_VERSION);
  CHECK_NOTHROW(pg::detail::require_server_version(server));
  CHECK_NOTHROW(pg::detail::require_libpq_version(PQlibVersion()));
}

TEST_CASE("a PostgreSQL server older than 15 is refused with a typed error", "[pg][version]") {
  const auto e = expect_throw<UnsupportedVersion>([] { pg::detail::require_server_version(140011); });
  CHECK(std::string(e.what()) ==
        "tenantry: PostgreSQL server 14.11 is too old: tenantry needs PostgreSQL server 15.0 or later (the "
        "generated DDL uses ON DELETE SET NULL (columns), new in 15, the oldest release still supported upstream)");
  CHECK(e.component() == "PostgreSQL server");
  CHECK(e.found() == 140011);
  CHECK(e.minimum() == 150000);
  CHECK(e.code() == "0A000");
  // It is a ConnectionError: code that handles "cannot connect" handles it too.
  CHECK_THROWS_AS(pg::detail::require_server_version(90624), ConnectionError);
  CHECK_THAT(expect_throw<UnsupportedVersion>([] { pg::detail::require_server_version(90624); }).what(),
             Contains("PostgreSQL server 9.6.24 is too old"));
  CHECK_NOTHROW(pg::detail::require_server_version(150000));
  CHECK_NOTHROW(pg::detail::require_server_version(170002));
  CHECK_NOTHROW(pg::detail::require_server_version(0));  // libpq could not tell: not refused
}

TEST_CASE("a libpq older than 10 is refused with a typed error", "[pg][version]") {
  const auto e = expect_throw<UnsupportedVersion>([] { pg::detail::require_libpq_version(90624); });
  CHECK_THAT(e.what(), Contains("libpq 9.6.24 is too old: tenantry needs libpq 10.0 or later"));
  CHECK(e.found() == 90624);
  CHECK_NOTHROW(pg::detail::require_libpq_version(100000));
}
