// Rows written by plain SQL (other programs, migrations, the sqlite3 shell) read back through
// repositories: the other timestamp and UUID spellings SQLite users write, and values SQLite's
// dynamic typing lets in that cannot be decoded (which must throw ValueError rather than produce
// a wrong value). Canonical rows written by the sqlite3 shell, and the DDL defaults, are read
// back on both databases in tests/parity/interop_test.cpp and tests/parity/roundtrip_test.cpp.
#include "support/sqlite_db.hpp"

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

using namespace tenantry;
using fixtures::Color;
using fixtures::Gadget;
using testdb::expect_throw;
using testdb::Raw;
using testdb::Repo;

namespace rawtest {
/// An entity over a table created by hand without any CHECK or NOT NULL, so that values the
/// fixture schema would refuse can be stored and read back.
struct Loose {
  Uuid id;
  Color color = Color::red;
  std::int8_t small = 0;
  bool flag = false;
  Timestamp at;
};
/// A UUID in an untyped column (no affinity): a blob stays a blob, an integer an integer.
struct LooseRef {
  Uuid id;
  Uuid ref;
};
}  // namespace rawtest

template <>
struct tenantry::entity<rawtest::Loose> {
  static constexpr auto scope = tenantry::global;
  static constexpr std::string_view table = "loose";
  static constexpr auto primary_key = key(&rawtest::Loose::id);
};
template <>
struct tenantry::entity<rawtest::LooseRef> {
  static constexpr auto scope = tenantry::global;
  static constexpr std::string_view table = "loose_refs";
  static constexpr auto primary_key = key(&rawtest::LooseRef::id);
};

namespace {

constexpr std::int64_t s = 1'000'000;                    // microseconds per second
constexpr std::int64_t jan2_030405 = 1'704'164'645 * s;  // 2024-01-02T03:04:05Z

struct Db {
  testdb::FileDb db;
  OrgId org = testdb::add_org(db.conn, "acme");
  Repo<Gadget> gadgets{db.conn};

  Gadget read(std::int64_t id) {
    auto g = gadgets.find(org, id);
    REQUIRE(g.has_value());
    return *g;
  }
  Timestamp at_of(const std::string& at_sql) { return read(testdb::raw_insert_gadget(db.conn, org, "t", at_sql)).at; }
};

}  // namespace

TEST_CASE("timestamps in other spellings", "[sqlite][raw][timestamp]") {
  Db f;
  CHECK(f.at_of("'2024-01-02 03:04:05'") == Timestamp{jan2_030405});
  CHECK(f.at_of("'2024-01-02T03:04:05+02:00'") == Timestamp{jan2_030405 - 2 * 3600 * s});
  CHECK(f.at_of("'2024-01-02T03:04:05.5-01:30'") == Timestamp{jan2_030405 + 5400 * s + 500'000});
  CHECK(f.at_of("'2024-01-02T03:04:05+0200'") == Timestamp{jan2_030405 - 2 * 3600 * s});
  CHECK(f.at_of("'2024-01-02t03:04:05z'") == Timestamp{jan2_030405});
  CHECK(f.at_of("'2024-01-02 03:04'") == Timestamp{jan2_030405 - 5 * s});
  CHECK(f.at_of("'2024-01-02'") == Timestamp{1'704'153'600 * s});
  CHECK(f.at_of("'2024-01-02T03:04:05.1234567Z'") == Timestamp{jan2_030405 + 123456});  // truncated
  CHECK(f.at_of("datetime(1704164645, 'unixepoch')") == Timestamp{jan2_030405});
  CHECK(f.at_of("strftime('%Y-%m-%d %H:%M:%f', '2024-01-02 03:04:05.250')") == Timestamp{jan2_030405 + 250'000});
  CHECK(f.at_of("'1969-07-20T20:17:40Z'") == Timestamp{-14'182'940 * s});

  SECTION("text that is not a timestamp is a ValueError, not a wrong time") {
    for (const char* bad : {"'yesterday'", "'2024-13-01'", "'2024-02-30T00:00:00Z'", "'2024-01-02T03:04:05+'",
                            "'2024-01-02T25:00:00Z'", "''", "2460311.5"}) {
      INFO("at = " << bad);
      const std::int64_t id = testdb::raw_insert_gadget(f.db.conn, f.org, "t", bad);
      expect_throw<ValueError>([&] { (void)f.gadgets.find(f.org, id); });
    }
  }
}

// tenantry's DDL declares timestamp columns TEXT, and TEXT affinity turns an integer written by
// plain SQL (or by unixepoch()) into its decimal text: the driver must read those digits as unix
// seconds. The hand-made table test below covers the INTEGER storage class on an untyped column.
TEST_CASE("timestamps stored as integer unix seconds in a tenantry table", "[sqlite][raw][timestamp]") {
  Db f;
  const std::int64_t id = testdb::raw_insert_gadget(f.db.conn, f.org, "t", "1704164645");
  CHECK(testdb::query_text(f.db.conn, "SELECT typeof(at) FROM gadgets WHERE id = " + std::to_string(id)) == "text");
  CHECK(f.read(id).at == Timestamp{jan2_030405});
  CHECK(f.at_of("-1") == Timestamp{-1 * s});
  CHECK(f.at_of("unixepoch('2024-01-02 03:04:05')") == Timestamp{jan2_030405});
  CHECK(f.at_of("CAST(1704164645 AS INTEGER)") == Timestamp{jan2_030405});
}

TEST_CASE("uuids in other spellings", "[sqlite][raw][uuid]") {
  Db f;
  const std::int64_t id = testdb::raw_insert_gadget(f.db.conn, f.org, "u");
  const Uuid expected = Uuid::parse("0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d");

  f.db.conn.execute("UPDATE gadgets SET ref = '0A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D', parent_id = NULL WHERE id = " +
                    std::to_string(id));
  CHECK(f.read(id).ref == expected);
  f.db.conn.execute("UPDATE gadgets SET ref = x'0a1b2c3d4e5f4a6b8c7d9e0f1a2b3c4d' WHERE id = " + std::to_string(id));
  CHECK(f.read(id).ref == expected);  // 16 raw bytes
  f.db.conn.execute("UPDATE gadgets SET ref = 'not-a-uuid' WHERE id = " + std::to_string(id));
  expect_throw<ValueError>([&] { (void)f.gadgets.find(f.org, id); });
  f.db.conn.execute("UPDATE gadgets SET ref = '0a1b2c3d4e5f4a6b8c7d9e0f1a2b3c4d' WHERE id = " + std::to_string(id));
  expect_throw<ValueError>([&] { (void)f.gadgets.find(f.org, id); });  // 32 hex digits without dashes
}

// SQLite's dynamic typing lets a column hold what its declared type would refuse elsewhere.
// (Integers that are integers but do not fit the field run on both databases in
// tests/parity/roundtrip_test.cpp.)
TEST_CASE("integer columns holding text or reals", "[sqlite][raw][integer]") {
  Db f;
  const std::int64_t id = testdb::raw_insert_gadget(f.db.conn, f.org, "i");
  const auto with = [&](const std::string& assignment) {
    f.db.conn.execute("UPDATE gadgets SET " + assignment + " WHERE id = " + std::to_string(id));
  };
  for (const char* bad : {"i32 = 'abc'", "i32 = 1.5", "i32 = x'01'"}) {
    INFO(bad);
    with(bad);
    expect_throw<ValueError>([&] { (void)f.gadgets.find(f.org, id); });
  }
  with("i32 = '12'");  // INTEGER affinity turns numeric text into an integer
  CHECK(f.read(id).i32 == 12);
  with("i32 = 3.0");  // ... and a real with no fraction
  CHECK(f.read(id).i32 == 3);
}

TEST_CASE("values the schema's CHECKs would refuse, stored with the checks ignored", "[sqlite][raw][enum]") {
  Db f;
  const std::int64_t id = testdb::raw_insert_gadget(f.db.conn, f.org, "c");
  f.db.conn.execute("UPDATE gadgets SET color = 'green' WHERE id = " + std::to_string(id));
  CHECK(f.read(id).color == Color::green);

  f.db.conn.execute("PRAGMA ignore_check_constraints = ON");
  SECTION("unknown enumerator text") {
    f.db.conn.execute("UPDATE gadgets SET color = 'purple' WHERE id = " + std::to_string(id));
    const auto e = expect_throw<ValueError>([&] { (void)f.gadgets.find(f.org, id); });
    CHECK(std::string(e.what()).find("'purple'") != std::string::npos);
    expect_throw<ValueError>([&] { (void)f.gadgets.list(f.org); });
    CHECK(f.gadgets.count(f.org) == 1);  // counting does not decode
    f.db.conn.execute("UPDATE gadgets SET color = 'Green' WHERE id = " + std::to_string(id));
    expect_throw<ValueError>([&] { (void)f.gadgets.find(f.org, id); });  // names are case-sensitive
    // The cached statements that threw mid-read are reusable once the row is readable.
    f.db.conn.execute("UPDATE gadgets SET color = 'red' WHERE id = " + std::to_string(id));
    CHECK(f.read(id).color == Color::red);
    CHECK(f.gadgets.list(f.org).size() == 1);
  }
  SECTION("a boolean that is neither 0 nor 1") {
    f.db.conn.execute("UPDATE gadgets SET flag = 2 WHERE id = " + std::to_string(id));
    expect_throw<ValueError>([&] { (void)f.gadgets.find(f.org, id); });
  }
  f.db.conn.execute("PRAGMA ignore_check_constraints = OFF");
  CHECK(enum_from_text<Color>("purple") == std::nullopt);
  CHECK(enum_from_text<Color>("blue") == Color::blue);
  CHECK(std::string(enum_to_text(Color::green)) == "green");
}

TEST_CASE("a hand-made table without constraints, read through an entity", "[sqlite][raw][enum]") {
  testdb::MemoryDb db;
  // "at" has no declared type, so no affinity: integers stay integers, text stays text.
  db.conn.execute("CREATE TABLE loose (id TEXT, color TEXT, small INTEGER, flag INTEGER, at)");
  Repo<rawtest::Loose> loose{db.conn};
  const auto put = [&](const std::string& values) {
    const Uuid id = Uuid::random();
    db.conn.execute("INSERT INTO loose VALUES ('" + id.to_string() + "', " + values + ")");
    return id;
  };
  const Uuid good = put("'blue', -5, 1, '2024-01-02 03:04:05'");
  const rawtest::Loose row = *loose.find(good);
  CHECK(row.color == Color::blue);
  CHECK(int(row.small) == -5);
  CHECK(row.flag);
  CHECK(row.at == Timestamp{jan2_030405});
  CHECK(loose.find(put("'red', 0, 0, 1704164645"))->at == Timestamp{jan2_030405});  // INTEGER: unix seconds
  CHECK(loose.find(put("'red', 0, 0, -86400"))->at == Timestamp{-86400 * s});

  for (const char* bad : {"'purple', 0, 0, '2024-01-01'", "NULL, 0, 0, '2024-01-01'", "'red', 300, 0, '2024-01-01'",
                          "'red', 0, 7, '2024-01-01'", "'red', 0, NULL, '2024-01-01'", "'red', 0, 0, NULL",
                          "'red', 0, 'yes', '2024-01-01'"}) {
    INFO(bad);
    const Uuid id = put(bad);
    expect_throw<ValueError>([&] { (void)loose.find(id); });
  }
}

// The driver reads a UUID cell as its length and then its bytes, asking for the storage class
// only when the length is 16: only a 16-byte BLOB is raw bytes, and text or a number of 16
// characters is refused like any other text that is not a UUID. In a UTF-16 database the length
// is that of the UTF-8 text the driver reads, not of the stored UTF-16.
TEST_CASE("uuid cells of every storage class in an untyped column", "[sqlite][raw][uuid]") {
  for (const char* encoding : {"UTF-8", "UTF-16le"}) {
    INFO("encoding " << encoding);
    testdb::Conn conn{":memory:"};
    conn.execute(std::string("PRAGMA encoding = '") + encoding + "'");
    REQUIRE(testdb::query_text(conn, "PRAGMA encoding") == encoding);
    conn.execute("CREATE TABLE loose_refs (id TEXT, ref)");
    Repo<rawtest::LooseRef> refs{conn};
    const Uuid expected = Uuid::parse("0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d");
    const auto put = [&](const std::string& ref_sql) {
      const Uuid id = Uuid::random();
      conn.execute("INSERT INTO loose_refs VALUES ('" + id.to_string() + "', " + ref_sql + ")");
      return id;
    };
    CHECK(refs.find(put("'0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d'"))->ref == expected);
    CHECK(refs.find(put("x'0a1b2c3d4e5f4a6b8c7d9e0f1a2b3c4d'"))->ref == expected);  // 16 raw bytes
    if (std::string_view(encoding) == "UTF-8")  // the text's own bytes (UTF-16 ones elsewhere)
      CHECK(refs.find(put("CAST('0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d' AS BLOB)"))->ref == expected);

    for (const char* bad : {"'0123456789abcdef'", "1234567890123456", "x'0a1b2c3d4e5f4a6b8c7d9e0f1a2b3c'",
                            "x'0a1b2c3d4e5f4a6b8c7d9e0f1a2b3c4d5e'", "''", "x''", "1.5"}) {
      INFO("ref = " << bad);
      const Uuid id = put(bad);
      const auto e = expect_throw<ValueError>([&] { (void)refs.find(id); });
      CHECK(std::string(e.what()).find("column 'ref'") != std::string::npos);
    }
    const auto e = expect_throw<ValueError>([&] { (void)refs.find(put("NULL")); });
    CHECK(std::string(e.what()).find("is NULL") != std::string::npos);
  }
}
