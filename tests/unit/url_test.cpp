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

TEST_CASE("libpq keyword/value strings are PostgreSQL, passed to libpq whole", "[url]") {
  const auto u = parse_database_url("host=db.internal port=6432 dbname=app user=alice sslmode=disable");
  CHECK(u.is_postgres());
  CHECK(u.pg_conninfo == "host=db.internal port=6432 dbname=app user=alice sslmode=disable");
  CHECK(u.host == "db.internal");
  CHECK(u.port == "6432");
  CHECK(u.database == "app");
  // Spaces around '=', quoted values with escapes, hostaddr when there is no host.
  const auto q = parse_database_url("  dbname = 'my app'  hostaddr=127.0.0.1 password='it\\'s'");
  CHECK(q.is_postgres());
  CHECK(q.database == "my app");
  CHECK(q.host == "127.0.0.1");
  CHECK(parse_database_url("dbname=app").host.empty());
  CHECK(parse_database_url("host=/var/run/postgresql dbname=app").host == "/var/run/postgresql");
  CHECK(parse_database_url("host=h1,h2 port=5432,5433 dbname=app").port == "5432,5433");
}

TEST_CASE("near misses of a PostgreSQL URL say exactly what is wrong", "[url]") {
  const auto message = [](const char* url) {
    try {
      (void)parse_database_url(url);
    } catch (const UrlError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  CHECK(message("postgres:/x") ==
        "tenantry: bad database URL 'postgres:/x': a PostgreSQL URL starts with 'postgres://' (two slashes), as in "
        "postgres://user@host:5432/dbname; for a local socket use postgres:///dbname");
  CHECK_THAT(message("postgresql:x"), Catch::Contains("starts with 'postgresql://' (two slashes)"));
  CHECK_THAT(message("Postgres://db/app"), Catch::Contains("lower case: 'postgres://'"));
  CHECK_THAT(message("SQLITE:app.db"), Catch::Contains("lower case: 'sqlite:'"));
  CHECK_THAT(message("pgsql://db/app"), Catch::Contains("for PostgreSQL write postgres://"));
  CHECK_THAT(message("postgres:/x"), !Catch::Contains("unknown scheme"));
  // Keyword strings that libpq could not read either.
  CHECK_THAT(message("host=db dbname"), Catch::Contains("missing '=' after 'dbname'"));
  CHECK_THAT(message("host=db dbname='app"), Catch::Contains("unterminated quoted value of 'dbname'"));
  CHECK_THAT(message("host=db port=54x2"), Catch::Contains("port '54x2' is not a number"));
  CHECK_THAT(message("host=db port=99999"), Catch::Contains("out of range"));
  CHECK_THAT(message("host=db =x"), Catch::Contains("expected a keyword"));
  // A password in a keyword string is not echoed, quoted or not, whatever follows it.
  for (const char* bad : {"host=db password=hunter2 port=x", "host=db password = 'hunter 2' port=x",
                          "password='hunter2 port=x", "host=db  password=hun\\ ter2 port=x"}) {
    const std::string m = message(bad);
    CHECK_THAT(m, !Catch::Contains("hunter"));
    CHECK_THAT(m, Catch::Contains("password"));
  }
  // Nor is what the parser reads as a keyword after a password that held a space, nor the
  // userinfo of a URL given as a keyword's value (libpq expands dbname='postgresql://...').
  for (const char* bad : {"host=db password=two hunter2", "host=db password=two hunter2='x",
                          "host=db password=two =hunter2", "dbname='postgresql://u:hunter2@db/app' port=x",
                          "host=db port=postgres://u:hunter2@db", "host=db port=5432://hunter2hunter2hunter2@db"}) {
    const std::string m = message(bad);
    CHECK_THAT(m, !Catch::Contains("hunter"));
    CHECK_THAT(m, Catch::Contains("bad database URL"));
  }
  CHECK_THAT(message("host=db password=two words"), Catch::Contains("missing '=' after keyword #3"));
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
