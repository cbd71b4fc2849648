// Database URL parsing: every accepted form, and a clear error for each malformed one.
#include <tenantry/url.hpp>

#include <catch2/catch.hpp>

#include <cstdlib>

using namespace tenantry;

TEST_CASE("SQLite URLs", "[url]") {
  CHECK(parse_database_url("sqlite:app.db").sqlite_path == "app.db");
  CHECK(parse_database_url("sqlite://app.db").sqlite_path == "app.db");
  CHECK(parse_database_url("sqlite:///var/lib/app.db").sqlite_path == "/var/lib/app.db");
  CHECK(parse_database_url("sqlite:/var/lib/app.db").sqlite_path == "/var/lib/app.db");
  CHECK(parse_database_url("sqlite::memory:").sqlite_path == ":memory:");
  CHECK(parse_database_url("sqlite://:memory:").sqlite_path == ":memory:");
  const auto ro = parse_database_url("sqlite:app.db?mode=ro");
  CHECK(ro.read_only);
  CHECK_FALSE(ro.create);
  CHECK_FALSE(parse_database_url("sqlite:app.db?mode=rw").create);
  CHECK_FALSE(parse_database_url("sqlite:app.db").is_postgres());
}

TEST_CASE("PostgreSQL URLs are passed to libpq whole", "[url]") {
  const auto u = parse_database_url("postgres://alice:secret@db.internal:6432/app?sslmode=disable");
  CHECK(u.is_postgres());
  CHECK(u.pg_conninfo == "postgres://alice:secret@db.internal:6432/app?sslmode=disable");
  CHECK(u.host == "db.internal");
  CHECK(u.port == "6432");
  CHECK(u.database == "app");
  CHECK(parse_database_url("postgresql://localhost/app").database == "app");
  CHECK(parse_database_url("postgresql://[::1]:5432/app").host == "[::1]");
  CHECK(parse_database_url("postgresql://h1:5432,h2:5433/app").port == "5432,h2:5433");
  CHECK(parse_database_url("postgresql:///app?host=/tmp").database == "app");
}

TEST_CASE("malformed URLs say what is wrong", "[url]") {
  const auto message = [](const char* url) {
    try {
      (void)parse_database_url(url);
    } catch (const UrlError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  CHECK_THAT(message("mysql://localhost/app"), Catch::Contains("unknown scheme 'mysql'"));
  CHECK_THAT(message("app.db"), Catch::Contains("no scheme"));
  CHECK_THAT(message("sqlite:"), Catch::Contains("no file path"));
  CHECK_THAT(message("sqlite://"), Catch::Contains("no file path"));
  CHECK_THAT(message("sqlite:app.db?mode=fast"), Catch::Contains("unknown SQLite option 'mode=fast'"));
  CHECK_THAT(message("postgres://localhost:54x2/app"), Catch::Contains("port '54x2' is not a number"));
  CHECK_THAT(message("postgres://localhost:99999/app"), Catch::Contains("out of range"));
  CHECK_THAT(message("postgres://localhost:/app"), Catch::Contains("empty port"));
  CHECK_THAT(message("postgres://localhost:0/app"), Catch::Contains("port 0"));
  CHECK_THAT(message("postgres://[::1/app"), Catch::Contains("unterminated '['"));
  // A password in a bad URL is not echoed into logs.
  const std::string m = message("postgres://alice:hunter2@localhost:bad/app");
  CHECK_THAT(m, !Catch::Contains("hunter2"));
  CHECK_THAT(m, Catch::Contains("***@localhost"));
}

TEST_CASE("an empty URL reads DATABASE_URL", "[url]") {
  ::setenv("DATABASE_URL", "sqlite::memory:", 1);
  CHECK(parse_database_url("").sqlite_path == ":memory:");
  ::unsetenv("DATABASE_URL");
  CHECK_THROWS_WITH(parse_database_url(""), Catch::Contains("DATABASE_URL is not set"));
}
