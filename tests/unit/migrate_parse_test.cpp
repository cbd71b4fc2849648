// The migration runner's file handling, without a database: file names, the no-transaction
// directive, clashes between files, SHA-256 checksums, and the PostgreSQL statement splitter.
#include <tenantry/migrate.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

using tenantry::MigrationError;
// Named, so that a unity build of tests/unit (tests/CMakeLists.txt) keeps this file's
// using-directives and helpers to itself.
namespace migrate_parse_test {

using namespace tenantry::migrate;

namespace {

/// Runs f, which must throw MigrationError of `kind`; returns its message.
template <class F>
std::string error_of(MigrationError::Kind kind, F&& f) {
  try {
    f();
  } catch (const MigrationError& e) {
    CHECK(static_cast<int>(e.kind()) == static_cast<int>(kind));
    return e.what();
  }
  FAIL("expected a MigrationError");
  return {};
}

SourceFile file(std::string name, std::string contents) {
  return SourceFile{name, "migrations/" + name, std::move(contents)};
}

}  // namespace

TEST_CASE("migration file names", "[unit][migrate]") {
  SECTION("up and down names") {
    const auto up = parse_file_name("0001_create_users.up.sql");
    REQUIRE(up);
    CHECK(up->version == 1);
    CHECK(up->description == "create users");
    CHECK(up->direction == Direction::up);

    const auto down = parse_file_name("0042_add_index_on_users_email.down.sql");
    REQUIRE(down);
    CHECK(down->version == 42);
    CHECK(down->description == "add index on users email");
    CHECK(down->direction == Direction::down);
  }

  SECTION("versions are the leading digits as an int64") {
    CHECK(parse_file_name("7_x.up.sql")->version == 7);
    CHECK(parse_file_name("000000123_x.up.sql")->version == 123);
    CHECK(parse_file_name("20240131120000_timestamped.up.sql")->version == 20240131120000);
    CHECK(parse_file_name("9223372036854775807_max.up.sql")->version == INT64_MAX);
    // Everything after the first '_' is description, digits and dots included.
    CHECK(parse_file_name("3_v2.1_backfill_2024.up.sql")->description == "v2.1 backfill 2024");
  }

  SECTION("files that are not migrations are skipped") {
    for (const char* name :
         {"README.md", ".gitkeep", "notes.txt", ".0001_init.up.sql", "0001_init.up.sql.swp", "0001_init.up.sql~", ""}) {
      INFO(name);
      CHECK_FALSE(parse_file_name(name));
    }
  }

  SECTION("malformed .sql names are errors naming the file") {
    const std::vector<std::pair<const char*, const char*>> cases = {
        {"0001_init.sql", "does not end in '.up.sql' or '.down.sql'"},
        {"0001_init.UP.SQL", "does not end in '.up.sql' or '.down.sql'"},
        {"0001_init.sideways.sql", "does not end in '.up.sql' or '.down.sql'"},
        {"init.up.sql", "does not start with a version number"},
        {"_init.up.sql", "does not start with a version number"},
        {"0001-init.up.sql", "expected '_' after the version number"},
        {"0001.up.sql", "expected '_' after the version number"},
        {"0001_.down.sql", "description after '_' is empty"},
        {"0000_zero.up.sql", "version 0 is reserved"},
        {"9223372036854775808_too_big.up.sql", "larger than 9223372036854775807"},
        {"99999999999999999999999_too_big.up.sql", "larger than 9223372036854775807"},
    };
    for (const auto& c : cases) {
      const char* name = c.first;  // (clang 14 cannot capture structured bindings)
      const char* why = c.second;
      INFO(name);
      const std::string msg = error_of(MigrationError::Kind::bad_file, [&] { (void)parse_file_name(name); });
      CHECK_THAT(msg, Catch::Contains(std::string("'") + name + "'"));
      CHECK_THAT(msg, Catch::Contains(why));
    }
  }
}

TEST_CASE("the no-transaction directive", "[unit][migrate]") {
  CHECK_FALSE(has_no_transaction_directive("CREATE TABLE t (id INTEGER);\n", "f"));
  CHECK_FALSE(has_no_transaction_directive("", "f"));
  CHECK(has_no_transaction_directive("-- tenantry:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);\n", "f"));
  // Blank lines and other comments may come first (a licence header, a note); CRLF, a BOM,
  // trailing blanks and no space after "--" are all fine.
  CHECK(has_no_transaction_directive("-- Copyright 2024\n\n-- why: CONCURRENTLY\n-- tenantry:no-transaction\nVACUUM;",
                                     "f"));
  CHECK(has_no_transaction_directive("\xEF\xBB\xBF-- tenantry:no-transaction\r\nVACUUM;\r\n", "f"));
  CHECK(has_no_transaction_directive("  -- tenantry:no-transaction   \nVACUUM;", "f"));
  CHECK(has_no_transaction_directive("--tenantry:no-transaction", "f"));
  // Ordinary comments that merely mention the word are not directives.
  CHECK_FALSE(
      has_no_transaction_directive("-- this runs in a transaction (no-transaction is not set)\nSELECT 1;", "f"));

  SECTION("a misspelt directive is an error, not silently a transaction") {
    for (const char* text : {"-- tenantry:no_transaction\nVACUUM;", "-- tenantry: no-transaction\nVACUUM;",
                             "-- tenantry:notransaction\nVACUUM;", "-- tenantry:no-transaction please\nVACUUM;"}) {
      INFO(text);
      const std::string msg = error_of(MigrationError::Kind::bad_file,
                                       [&] { (void)has_no_transaction_directive(text, "m/0003_x.up.sql"); });
      CHECK_THAT(msg, Catch::Contains("'m/0003_x.up.sql' line 1"));
      CHECK_THAT(msg, Catch::Contains("unknown directive"));
    }
  }
  SECTION("a directive after the first statement is an error") {
    const std::string msg = error_of(MigrationError::Kind::bad_file, [] {
      (void)has_no_transaction_directive("CREATE TABLE t (a INT);\n-- tenantry:no-transaction\n", "m/0004_y.up.sql");
    });
    CHECK_THAT(msg, Catch::Contains("'m/0004_y.up.sql' line 2"));
    CHECK_THAT(msg, Catch::Contains("must come before the first SQL statement"));
  }
}

TEST_CASE("SHA-256 checksums", "[unit][migrate]") {
  // FIPS 180-2 test vectors.
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // Bytes, not text: a NUL in the middle counts.
  CHECK(sha256_hex(std::string_view("a\0b", 3)) != sha256_hex("ab"));
  // Longer than one block: FIPS 180-2's million 'a's.
  CHECK(sha256_hex(std::string(1'000'000, 'a')) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // Every padding case (lengths 0-129 cross the 55/56 and 64-byte boundaries twice), bytes above
  // 0x7F included: the digests of all 130 inputs, concatenated and hashed again, as Python's
  // hashlib computes it (the same digest OpenSSL gave, which earlier versions recorded).
  std::string digests;
  for (std::size_t n = 0; n < 130; ++n) {
    std::string input;
    for (std::size_t i = 0; i < n; ++i) input += static_cast<char>(((i * 7 + 3) * (n + 1)) & 0xFF);
    digests += sha256_hex(input);
  }
  CHECK(sha256_hex(digests) == "d3ce8813a84cc5b65a6534f63e3bd1f015ef18afdae5eefbc595ab25217bb901");
}

TEST_CASE("building a migration set from files", "[unit][migrate]") {
  SECTION("sorted by version, down files attached, directives and checksums read") {
    std::vector<SourceFile> files = {
        file("0010_add_index.up.sql", "-- tenantry:no-transaction\nCREATE INDEX i ON t (a);\n"),
        file("0002_create_t.up.sql", "CREATE TABLE t (a INT);\n"),
        file("0002_create_t.down.sql", "DROP TABLE t;\n"),
        file("README.md", "not a migration"),
        file("0010_add_index.down.sql", "DROP INDEX i;\n"),
    };
    const std::vector<Migration> ms = parse_migrations(files);
    REQUIRE(ms.size() == 2);
    CHECK(ms[0].version == 2);
    CHECK(ms[0].description == "create t");
    CHECK(ms[0].up.path == "migrations/0002_create_t.up.sql");
    CHECK(ms[0].up.sql == "CREATE TABLE t (a INT);\n");
    CHECK_FALSE(ms[0].up.no_transaction);
    CHECK(ms[0].checksum == sha256_hex("CREATE TABLE t (a INT);\n"));
    REQUIRE(ms[0].down);
    CHECK(ms[0].down->path == "migrations/0002_create_t.down.sql");
    CHECK(ms[1].version == 10);
    CHECK(ms[1].up.no_transaction);
    REQUIRE(ms[1].down);
    CHECK_FALSE(ms[1].down->no_transaction);  // each file has its own directive
  }

  SECTION("a missing down file is allowed until down() needs it") {
    const auto ms = parse_migrations({file("0001_a.up.sql", "SELECT 1;")});
    REQUIRE(ms.size() == 1);
    CHECK_FALSE(ms[0].down);
  }

  SECTION("two up files with one version") {
    const std::string msg = error_of(MigrationError::Kind::duplicate_version, [] {
      (void)parse_migrations({file("0001_first.up.sql", "SELECT 1;"), file("1_second.up.sql", "SELECT 2;")});
    });
    CHECK_THAT(msg, Catch::Contains("0001_first.up.sql"));
    CHECK_THAT(msg, Catch::Contains("1_second.up.sql"));
    CHECK_THAT(msg, Catch::Contains("version 1"));
  }

  SECTION("two down files with one version") {
    const std::string msg = error_of(MigrationError::Kind::duplicate_version, [] {
      (void)parse_migrations({file("0001_a.up.sql", ""), file("0001_a.down.sql", ""), file("01_a.down.sql", "")});
    });
    CHECK_THAT(msg, Catch::Contains("0001_a.down.sql"));
    CHECK_THAT(msg, Catch::Contains("01_a.down.sql"));
  }

  SECTION("a down file without an up file") {
    const std::string msg = error_of(MigrationError::Kind::bad_file, [] {
      (void)parse_migrations({file("0001_a.up.sql", ""), file("0002_b.down.sql", "")});
    });
    CHECK_THAT(msg, Catch::Contains("'migrations/0002_b.down.sql' has no matching up file"));
  }

  SECTION("up and down files of one version must agree on the description") {
    const std::string msg = error_of(MigrationError::Kind::bad_file, [] {
      (void)parse_migrations({file("0001_create_users.up.sql", ""), file("0001_create_user.down.sql", "")});
    });
    CHECK_THAT(msg, Catch::Contains("0001_create_users.up.sql"));
    CHECK_THAT(msg, Catch::Contains("0001_create_user.down.sql"));
  }

  SECTION("a malformed name among the files names that file") {
    const std::string msg = error_of(MigrationError::Kind::bad_file, [] {
      (void)parse_migrations({file("0001_a.up.sql", ""), file("2_b.sql", "")});
    });
    CHECK_THAT(msg, Catch::Contains("'2_b.sql'"));
  }

  SECTION("a NUL byte means the file is not SQL text") {
    const std::string msg = error_of(MigrationError::Kind::bad_file, [] {
      (void)parse_migrations({file("0001_a.up.sql", std::string("SELECT 1;\0garbage", 17))});
    });
    CHECK_THAT(msg, Catch::Contains("'migrations/0001_a.up.sql' contains a NUL byte"));
  }
}

TEST_CASE("splitting PostgreSQL SQL into statements", "[unit][migrate]") {
  using V = std::vector<std::string_view>;
  CHECK(split_statements("") == V{});
  CHECK(split_statements("  \n-- only a comment\n/* and another */ ;; \n") == V{});
  CHECK(split_statements("SELECT 1") == V{"SELECT 1"});
  CHECK(split_statements("SELECT 1;\nSELECT 2;\n") == V{"SELECT 1", "SELECT 2"});
  CHECK(split_statements("-- tenantry:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);\n") ==
        V{"-- tenantry:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a)"});
  // Semicolons inside strings, identifiers, comments and dollar-quoted bodies do not split.
  CHECK(split_statements("INSERT INTO t VALUES ('a;b', 'it''s;'); SELECT 2") ==
        V{"INSERT INTO t VALUES ('a;b', 'it''s;')", "SELECT 2"});
  CHECK(split_statements("SELECT E'back\\';slash'; SELECT 'plain\\'; SELECT 3") ==
        V{"SELECT E'back\\';slash'", "SELECT 'plain\\'", "SELECT 3"});
  CHECK(split_statements("CREATE TABLE \"a;b\" (\"c\"\"d;\" INT); SELECT 1") ==
        V{"CREATE TABLE \"a;b\" (\"c\"\"d;\" INT)", "SELECT 1"});
  CHECK(split_statements("SELECT 1 -- not; split\n; SELECT /* a; /* nested; */ b; */ 2") ==
        V{"SELECT 1 -- not; split", "SELECT /* a; /* nested; */ b; */ 2"});
  CHECK(split_statements("CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql; SELECT 2") ==
        V{"CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql", "SELECT 2"});
  CHECK(split_statements("DO $body$ BEGIN PERFORM 1; RAISE NOTICE '$$;'; END $body$; SELECT 2") ==
        V{"DO $body$ BEGIN PERFORM 1; RAISE NOTICE '$$;'; END $body$", "SELECT 2"});
  // $1 is a parameter, a$b an identifier: neither opens a dollar quote.
  CHECK(split_statements("PREPARE p AS SELECT $1; SELECT a$b FROM t") ==
        V{"PREPARE p AS SELECT $1", "SELECT a$b FROM t"});
  // Unterminated quotes run to the end (the server reports the error).
  CHECK(split_statements("SELECT 'oops; SELECT 2") == V{"SELECT 'oops; SELECT 2"});
}

TEST_CASE("the first keyword of a statement", "[unit][migrate]") {
  CHECK(first_keyword("") == "");
  CHECK(first_keyword("begin") == "BEGIN");
  CHECK(first_keyword("  -- a note\n/* a /* nested */ comment */ Commit;") == "COMMIT");
  std::string_view rest;
  CHECK(first_keyword("-- undo\nROLLBACK TO SAVEPOINT a", &rest) == "ROLLBACK");
  CHECK(first_keyword(rest) == "TO");
  CHECK(first_keyword("/* unterminated") == "");
  CHECK(first_keyword("CREATE INDEX CONCURRENTLY") == "CREATE");
}

TEST_CASE("the parsers accept any input without crashing", "[unit][migrate]") {
  // A small deterministic fuzz: random names and bodies built from the characters that matter.
  std::mt19937 rng(12345);
  const std::string alphabet = "0123456789_.-updownsqlUPSQL$'\";/*\n\r\\E tenantry:no-transaction\xEF\xBB\xBF";
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1), len(0, 40);
  int bad = 0;  // counted rather than CHECKed one by one, to keep the report short
  for (int round = 0; round < 20000; ++round) {
    std::string s;
    for (std::size_t n = len(rng); n > 0; --n) s += alphabet[pick(rng)];
    try {
      if (auto name = parse_file_name(s); name && name->version <= 0) ++bad;
    } catch (const MigrationError&) {
    }
    try {
      (void)has_no_transaction_directive(s, "fuzz");
    } catch (const MigrationError&) {
    }
    for (std::string_view piece : split_statements(s)) {
      // Every piece is a non-empty view into the input.
      if (piece.empty() || piece.data() < s.data() || piece.data() + piece.size() > s.data() + s.size()) ++bad;
      std::string_view rest;
      (void)first_keyword(piece, &rest);
      if (rest.size() > piece.size()) ++bad;
    }
  }
  CHECK(bad == 0);
}

TEST_CASE("the PostgreSQL advisory lock key is fixed", "[unit][migrate]") {
  // 64-bit FNV-1a of "tenantry_migrations"; documented in docs/migrations.md. Changing it would
  // let old and new runners run at the same time.
  STATIC_REQUIRE(advisory_lock_key == 5779008217442347500LL);
}

}  // namespace migrate_parse_test
