// Every supported type written through a repository and read back, on SQLite (a file and
// :memory:) and on PostgreSQL, directly and through a Database opened by URL; the same for the
// row an UPSERT hands back through RETURNING; values no database can hold; the DDL defaults; and
// stored integers that do not fit the field. The SQLite-only stored text forms stay in
// tests/sqlite/roundtrip_test.cpp.
#include "support/backends.hpp"

#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using namespace tenantry;
using fixtures::Color;
using fixtures::Gadget;
using fixtures::Money;
using fixtures::Widget;
using parity::Repo;
using testdb::expect_throw;

namespace {

using parity::bytes;  // support/backends.hpp

const Json messy_json{R"({ "a" : [1, 2.5, {"b": "c\"d"}], "u": "é", "n": null })"};
// PostgreSQL stores JSON as JSONB, which keeps the document's meaning, not its text: whitespace
// is normalised and object keys are sorted (shorter keys first, then bytewise). SQLite keeps the
// text exactly. docs/dialects.md, "Types".
const Json messy_json_as_jsonb{R"({"a": [1, 2.5, {"b": "c\"d"}], "n": null, "u": "é"})"};

/// The document a database hands back for `written`.
Json stored_json(bool postgres, const Json& written) {
  if (postgres && written == messy_json) return messy_json_as_jsonb;
  return written;  // "[]", "{}", "\"...\"" are canonical already
}

/// Every field equal, one CHECK per field so a failure names the field.
void check_same(bool postgres, const Gadget& got, const Gadget& want) {
  CHECK(got.id == want.id);
  CHECK(got.org_id == want.org_id);
  CHECK(int(got.i8) == int(want.i8));
  CHECK(got.i16 == want.i16);
  CHECK(got.i32 == want.i32);
  CHECK(got.i64 == want.i64);
  CHECK(unsigned(got.u8) == unsigned(want.u8));
  CHECK(got.u16 == want.u16);
  CHECK(got.u32 == want.u32);
  CHECK(got.u64 == want.u64);
  CHECK(got.real == want.real);
  CHECK(got.real32 == want.real32);
  CHECK(got.flag == want.flag);
  CHECK(got.label == want.label);
  CHECK(got.note == want.note);
  CHECK(got.maybe_count == want.maybe_count);
  CHECK(got.ref == want.ref);
  CHECK(got.at == want.at);
  CHECK(got.maybe_at == want.maybe_at);
  CHECK(got.meta == stored_json(postgres, want.meta));
  CHECK(testdb::hex(got.payload) == testdb::hex(want.payload));
  CHECK(got.color == want.color);
  CHECK(got.price == want.price);
  CHECK(got.parent_id == want.parent_id);
  CHECK(got.stamp == want.stamp);
  CHECK(got.created_at == want.created_at);
  CHECK(got.quantity == want.quantity);
}

bool is_canonical_v4(const std::string& s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < 36; ++i) {
    const char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return s[14] == '4' && (s[19] == '8' || s[19] == '9' || s[19] == 'a' || s[19] == 'b');
}

Gadget minimum_gadget() {
  // 59 characters: VARCHAR(64) counts characters on PostgreSQL (SQLite does not check lengths).
  Gadget g = testdb::make_gadget("O'Brien \"quoted\" `x` ; DROP TABLE gadgets; -- ünïcödé 日本語 🎉");
  g.i8 = std::numeric_limits<std::int8_t>::min();
  g.i16 = std::numeric_limits<std::int16_t>::min();
  g.i32 = std::numeric_limits<std::int32_t>::min();
  g.i64 = std::numeric_limits<std::int64_t>::min();
  g.real = std::numeric_limits<double>::lowest();
  g.real32 = -std::numeric_limits<float>::max();
  g.at = Timestamp{Timestamp::min_micros};  // 0001-01-01T00:00:00.000000Z
  g.meta = Json{"[]"};
  g.payload = {};
  g.price = Money{std::numeric_limits<std::int64_t>::min()};
  g.quantity = 0;
  return g;
}

Gadget maximum_gadget(const Uuid& parent) {
  Gadget g = testdb::make_gadget("max ✓");
  g.i8 = std::numeric_limits<std::int8_t>::max();
  g.i16 = std::numeric_limits<std::int16_t>::max();
  g.i32 = std::numeric_limits<std::int32_t>::max();
  g.i64 = std::numeric_limits<std::int64_t>::max();
  g.u8 = std::numeric_limits<std::uint8_t>::max();
  g.u16 = std::numeric_limits<std::uint16_t>::max();
  g.u32 = std::numeric_limits<std::uint32_t>::max();
  g.u64 = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  g.real = 999999999999.9998779296875;  // the largest double below the CHECK's bound 1e12
  g.real32 = std::numeric_limits<float>::max();
  g.flag = true;
  g.note = std::string(100000, 'x') + "\xe2\x9c\x93 end";  // long, multi-byte tail, no NUL
  g.maybe_count = std::numeric_limits<std::int32_t>::max();
  g.at = Timestamp{Timestamp::max_micros};  // 9999-12-31T23:59:59.999999Z
  g.maybe_at = Timestamp{-1};               // 1969-12-31T23:59:59.999999Z
  g.meta = messy_json;
  g.payload = bytes({0x00, 0x01, 0x00, 0xff, 0x00});
  g.color = Color::blue;
  g.price = Money{std::numeric_limits<std::int64_t>::max()};
  g.parent_id = parent;
  g.quantity = std::numeric_limits<std::int32_t>::max();
  return g;
}

Gadget odd_gadget() {
  Gadget g = testdb::make_gadget("tiny values");
  g.i8 = -1;
  g.i16 = 12345;
  g.i32 = -7;
  g.i64 = 1;
  g.u8 = 128;
  g.u16 = 32768;
  g.u32 = 2147483648u;
  g.u64 = 1;
  g.real = std::numeric_limits<double>::denorm_min();
  g.real32 = 0.1f;
  g.note = "";  // empty but present: not NULL
  g.maybe_count = 0;
  g.at = Timestamp{-86'399'999'999};  // 1969-12-31T00:00:00.000001Z
  g.maybe_at = Timestamp{1'234'567'890'123'456};
  g.meta = Json{"\"just a string\""};
  g.payload = bytes({0x00});
  g.color = Color::green;
  g.price = Money{-123456789012};
  return g;
}

/// default_now(): SQLite's clock has milliseconds (the stored text ends in "000Z"); PostgreSQL's
/// now() has microseconds. Both lie between the client's clock readings around the insert.
template <class B>
void check_generated_time(const Timestamp& t, const Timestamp& before, const Timestamp& after) {
  if constexpr (!B::is_postgres) CHECK(t.micros % 1000 == 0);
  CHECK(t.micros >= before.micros - 2000);
  CHECK(t.micros <= after.micros + 2000);
}

}  // namespace

TEMPLATE_TEST_CASE("every type round-trips", "[parity][roundtrip]", parity::SqliteMemory, PARITY_BACKENDS) {
  using B = TestType;
  auto conn = B::open();
  const OrgId org = parity::add_org(conn, "acme");
  Repo<B, Widget> widgets{conn};
  const Widget parent = widgets.insert(org, Widget{Uuid::random(), OrgId{}, "parent"});
  Repo<B, Gadget> gadgets{conn};

  std::vector<Gadget> written{minimum_gadget(), maximum_gadget(parent.id), odd_gadget()};
  const Timestamp before = Timestamp::now();
  for (Gadget& g : written) {
    gadgets.insert(org, g);  // writes id, stamp and created_at back into g, and the org
    CHECK(g.org_id == org);
  }
  const Timestamp after = Timestamp::now();

  // Identity keys come back from the database (RETURNING) and increase.
  REQUIRE(written[0].id > 0);
  CHECK(written[1].id > written[0].id);
  CHECK(written[2].id > written[1].id);
  for (const Gadget& g : written) {
    CHECK(is_canonical_v4(g.stamp.to_string()));  // default_uuid(): randomblob() / gen_random_uuid()
    check_generated_time<B>(g.created_at, before, after);
  }
  CHECK(written[0].stamp != written[1].stamp);
  CHECK(written[1].stamp != written[2].stamp);

  for (const Gadget& want : written) {
    INFO(B::name << ": gadget id " << want.id);
    const std::optional<Gadget> got = gadgets.find(org, want.id);
    REQUIRE(got.has_value());
    check_same(B::is_postgres, *got, want);
  }
  // list() reads rows with the same code as find(), through another statement.
  const std::vector<Gadget> listed = gadgets.list(org, order_by(&Gadget::id));
  REQUIRE(listed.size() == 3);
  for (std::size_t k = 0; k < 3; ++k) check_same(B::is_postgres, listed[k], written[k]);

  // update() writes every type again (max row -> min row's values, keeping its keys).
  Gadget swapped = minimum_gadget();
  swapped.id = written[1].id;
  swapped.ref = written[1].ref;
  swapped.stamp = written[1].stamp;
  swapped.created_at = written[1].created_at;
  swapped.org_id = org;
  CHECK(gadgets.update(org, swapped));
  check_same(B::is_postgres, *gadgets.find(org, swapped.id), swapped);
}

TEMPLATE_TEST_CASE("upsert RETURNING hands back every type as stored", "[parity][roundtrip][upsert]", PARITY_BACKENDS) {
  using B = TestType;
  auto conn = B::open();
  const OrgId org = parity::add_org(conn, "acme");
  Repo<B, Widget> widgets{conn};
  const Widget parent = widgets.insert(org, Widget{Uuid::random(), OrgId{}, "parent"});
  Repo<B, Gadget> gadgets{conn};
  const auto by_ref = on_conflict(&Gadget::org_id, &Gadget::ref);

  // Insert path: the RETURNING row carries the generated columns and the values as stored.
  Gadget first = maximum_gadget(parent.id);
  const Timestamp before = Timestamp::now();
  gadgets.upsert(org, first, by_ref);
  check_generated_time<B>(first.created_at, before, Timestamp::now());
  CHECK(first.id > 0);
  CHECK(first.meta == stored_json(B::is_postgres, messy_json));  // read back from RETURNING, not kept
  check_same(B::is_postgres, *gadgets.find(org, first.id), first);

  SECTION("conflict path: every column but keys and generated ones is replaced") {
    Gadget second = odd_gadget();
    second.ref = first.ref;
    gadgets.upsert(org, second, by_ref);
    CHECK(second.id == first.id);
    CHECK(second.stamp == first.stamp);
    CHECK(second.created_at == first.created_at);
    CHECK(second.label == "tiny values");
    check_same(B::is_postgres, *gadgets.find(org, first.id), second);
    CHECK(gadgets.count(org) == 1);
  }
  SECTION("conflict path with nothing(): the stored row comes back unchanged") {
    Gadget ignored = minimum_gadget();
    ignored.ref = first.ref;
    const Gadget got = gadgets.upsert(org, std::as_const(ignored), by_ref.nothing());
    check_same(B::is_postgres, got, first);
    check_same(B::is_postgres, *gadgets.find(org, first.id), first);
  }
  SECTION("conflict path with update(only(...)): the named columns change, the row comes back") {
    Gadget partial = minimum_gadget();
    partial.ref = first.ref;
    gadgets.upsert(org, partial, by_ref.update(only(&Gadget::i64, &Gadget::meta, &Gadget::payload, &Gadget::at)));
    Gadget want = first;
    want.i64 = partial.i64;
    want.meta = Json{"[]"};
    want.payload = {};
    want.at = Timestamp{Timestamp::min_micros};
    check_same(B::is_postgres, partial, want);
    check_same(B::is_postgres, *gadgets.find(org, first.id), want);
  }
}

TEMPLATE_TEST_CASE("default_now() is the statement's time on SQLite, the transaction's on PostgreSQL",
                   "[parity][roundtrip][default]", PARITY_BACKENDS) {
  using B = TestType;
  auto conn = B::open();
  const OrgId org = parity::add_org(conn, "acme");
  Repo<B, Gadget> gadgets{conn};
  auto tx = conn.transaction();
  Gadget a = gadgets.insert(org, testdb::make_gadget("a"));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  Gadget b = gadgets.insert(org, testdb::make_gadget("b"));
  tx.commit();
  // PostgreSQL's now() is the start of the transaction, so every row a transaction inserts gets
  // the same time; SQLite's strftime('now') is read per statement. docs/dialects.md, "Keys and
  // defaults".
  if constexpr (B::is_postgres) CHECK(b.created_at == a.created_at);
  else CHECK(b.created_at.micros - a.created_at.micros >= 15'000);
  CHECK(gadgets.find(org, b.id)->created_at == b.created_at);
}

TEMPLATE_TEST_CASE("values that cannot be stored are refused before anything is written", "[parity][roundtrip]",
                   PARITY_BACKENDS) {
  using B = TestType;
  auto conn = B::open();
  const OrgId org = parity::add_org(conn, "acme");
  Repo<B, Gadget> gadgets{conn};

  SECTION("uint64 above INT64_MAX") {
    Gadget g = testdb::make_gadget();
    g.u64 = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + 1;
    expect_throw<ValueError>([&] { gadgets.insert(org, g); });
    CHECK(g.id == 0);
    g.u64 = std::numeric_limits<std::uint64_t>::max();
    expect_throw<ValueError>([&] { gadgets.insert(org, g); });
  }
  SECTION("timestamp after year 9999") {
    Gadget g = testdb::make_gadget();
    g.at = Timestamp{Timestamp::max_micros + 1};
    expect_throw<ValueError>([&] { gadgets.insert(org, g); });
  }
  SECTION("timestamp before year 0001") {
    Gadget g = testdb::make_gadget();
    g.maybe_at = Timestamp{Timestamp::min_micros - 1};
    expect_throw<ValueError>([&] { gadgets.insert(org, g); });
  }
  SECTION("enum value without a name") {
    Gadget g = testdb::make_gadget();
    g.color = static_cast<Color>(7);
    expect_throw<ValueError>([&] { gadgets.insert(org, g); });
  }
  SECTION("the same through set() and a predicate") {
    Gadget ok = gadgets.insert(org, testdb::make_gadget("kept"));
    expect_throw<ValueError>([&] { gadgets.set(org, ok.id, &Gadget::at, Timestamp{Timestamp::max_micros + 1}); });
    expect_throw<ValueError>(
        [&] { (void)gadgets.count(org, col(&Gadget::u64) == std::numeric_limits<std::uint64_t>::max()); });
    CHECK(gadgets.find(org, ok.id)->at == ok.at);
    CHECK(gadgets.erase(org, ok.id));
  }
  CHECK(parity::rows_in(conn, "gadgets") == 0);
  CHECK(gadgets.count(org) == 0);

  // The refused statements left the cached INSERT reusable.
  Gadget ok = testdb::make_gadget();
  gadgets.insert(org, ok);
  CHECK(ok.id > 0);
  CHECK(parity::rows_in(conn, "gadgets") == 1);
}

TEMPLATE_TEST_CASE("doubles outside the ordinary numbers", "[parity][roundtrip]", PARITY_BACKENDS) {
  using B = TestType;
  auto conn = B::open();
  const OrgId org = parity::add_org(conn, "acme");
  Repo<B, Gadget> gadgets{conn};

  SECTION("negative infinity and negative zero round-trip") {
    Gadget g = testdb::make_gadget();
    g.real = -std::numeric_limits<double>::infinity();
    g.real32 = -0.0f;
    gadgets.insert(org, g);
    const Gadget got = *gadgets.find(org, g.id);
    CHECK(std::isinf(got.real));
    CHECK(got.real < 0);
    CHECK(got.real32 == 0.0f);
  }
  SECTION("NaN: no row, but the two databases refuse it differently") {
    Gadget g = testdb::make_gadget();
    g.real = std::numeric_limits<double>::quiet_NaN();
    if constexpr (B::is_postgres) {
      // A float8 holds NaN, and NaN sorts above every number, so CHECK (real < 1e12) refuses it.
      const auto e = expect_throw<CheckViolation>([&] { gadgets.insert(org, g); });
      CHECK(e.constraint() == "ck_gadgets_real_lt");
    } else {
      // SQLite stores a NaN double as NULL, which the NOT NULL column refuses.
      const auto e = expect_throw<NotNullViolation>([&] { gadgets.insert(org, g); });
      CHECK(e.columns() == std::vector<std::string>{"real"});
    }
    CHECK(parity::rows_in(conn, "gadgets") == 0);
  }
}

TEMPLATE_TEST_CASE("columns left to the DDL defaults read back through the repository", "[parity][roundtrip][default]",
                   PARITY_BACKENDS) {
  using B = TestType;
  auto conn = B::open();
  const OrgId org = parity::add_org(conn, "acme");
  Repo<B, Gadget> gadgets{conn};
  const Timestamp before = Timestamp::now();
  // Plain SQL in the subset both accept (FALSE is 0 in SQLite; PostgreSQL reads the ISO text as
  // timestamptz); only the empty blob needs each database's own spelling.
  const std::string empty_blob = B::is_postgres ? "'\\x'" : "x''";
  conn.execute("INSERT INTO gadgets (org_id, i8, i16, i32, i64, u8, u16, u32, u64, real, real32, flag, title, ref, at,"
               " meta, payload, color, price) VALUES ('" + org.to_string() +
               "', 0, 0, 0, 0, 0, 0, 0, 0, 0.0, 0.0, FALSE, 'defaults', '" + Uuid::random().to_string() +
               "', '2024-01-02T03:04:05.000000Z', '{}', " + empty_blob + ", 'red', 0)");
  const std::vector<Gadget> rows = gadgets.list(org);
  REQUIRE(rows.size() == 1);
  const Gadget& g = rows[0];
  CHECK(g.id > 0);                                      // identity
  CHECK(g.note == std::optional<std::string>("none"));  // DEFAULT 'none'
  CHECK(is_canonical_v4(g.stamp.to_string()));          // DEFAULT <random v4 uuid>
  check_generated_time<B>(g.created_at, before, Timestamp::now());
  CHECK(g.quantity == 1);  // DEFAULT 1
  CHECK(g.at == Timestamp{1'704'164'645'000'000});
  CHECK(g.payload.empty());
  CHECK_FALSE(g.flag);
}

TEMPLATE_TEST_CASE("stored integers that do not fit the field are a ValueError on read", "[parity][roundtrip][integer]",
                   PARITY_BACKENDS) {
  using B = TestType;
  auto conn = B::open();
  const OrgId org = parity::add_org(conn, "acme");
  Repo<B, Gadget> gadgets{conn};
  const Gadget row = gadgets.insert(org, testdb::make_gadget("i"));
  // Sets one column and zeroes the others (PostgreSQL refuses two assignments to one column).
  const auto with = [&](const std::string& assignment) {
    std::string set = assignment;
    for (const char* column : {"i8", "u8", "u16", "u32", "u64", "i32"})
      if (!assignment.starts_with(std::string(column) + " ")) set += std::string(", ") + column + " = 0";
    conn.execute("UPDATE gadgets SET " + set + " WHERE id = " + std::to_string(row.id));
  };
  with("i8 = 127");
  CHECK(int(gadgets.find(org, row.id)->i8) == 127);
  // PostgreSQL's column types are wider than the fields (SMALLINT for int8_t and uint8_t,
  // INTEGER for uint16_t, BIGINT for uint32_t and uint64_t), so both databases can hold these.
  for (const char* bad : {"i8 = 128", "i8 = -129", "u8 = 256", "u8 = -1", "u16 = 65536", "u16 = -1",
                          "u32 = 4294967296", "u32 = -1", "u64 = -1"}) {
    INFO(bad);
    with(bad);
    expect_throw<ValueError>([&] { (void)gadgets.find(org, row.id); });
    expect_throw<ValueError>([&] { (void)gadgets.list(org); });
  }
  // A value beyond the column's own type: SQLite stores any 64-bit integer and the read refuses
  // it; PostgreSQL's INTEGER refuses the write (22003 numeric_value_out_of_range).
  if constexpr (B::is_postgres) {
    const auto e = expect_throw<DatabaseError>([&] { with("i32 = 2147483648"); });
    CHECK(e.code() == "22003");
  } else {
    with("i32 = 2147483648");
    expect_throw<ValueError>([&] { (void)gadgets.find(org, row.id); });
  }
  with("i8 = -128");
  CHECK(int(gadgets.find(org, row.id)->i8) == -128);  // the statements that threw are reusable
}

// SQLite TEXT holds any bytes, including NUL; PostgreSQL text cannot hold a NUL byte at all.
TEMPLATE_TEST_CASE("text with an embedded NUL byte: SQLite keeps it, PostgreSQL refuses it",
                   "[parity][roundtrip][text]", PARITY_BACKENDS) {
  using B = TestType;
  auto conn = B::open();
  const OrgId org = parity::add_org(conn, "acme");
  Repo<B, Gadget> gadgets{conn};
  Gadget g = testdb::make_gadget("nul");
  g.note = std::string("before\0after", 12);
  if constexpr (B::is_postgres) {
    CHECK_THROWS_AS(gadgets.insert(org, g), Error);
    CHECK(parity::rows_in(conn, "gadgets") == 0);
  } else {
    gadgets.insert(org, g);
    CHECK(gadgets.find(org, g.id)->note == g.note);
    CHECK(gadgets.count(org, col(&Gadget::note) == g.note) == 1);
  }
}

// PostgreSQL text cannot hold a NUL byte. The driver refuses it before sending, in both
// server_prepared modes, naming the parameter, so an open transaction survives it (as the same
// value does on SQLite, which stores it).
TEMPLATE_TEST_CASE("text with a NUL byte is a ValueError before anything is sent, in both PostgreSQL modes",
                   "[parity][roundtrip][text]", parity::Postgres, parity::PostgresUnprepared,
                   parity::AnyUrl<parity::Postgres>) {
  using B = TestType;
  auto conn = B::open();
  const OrgId org = parity::add_org(conn, "acme");
  Repo<B, Gadget> gadgets{conn};
  Gadget g = testdb::make_gadget("nul");
  g.note = std::string("before\0after", 12);
  auto tx = conn.transaction();
  const Gadget kept = gadgets.insert(org, testdb::make_gadget("kept"));
  const auto e = expect_throw<ValueError>([&] { gadgets.insert(org, g); });
  // "note" is the 14th column the INSERT names (org_id, i8 ... title, note).
  CHECK_THAT(e.what(), Catch::Matchers::Contains("parameter $14"));
  tx.commit();  // the transaction was not aborted
  CHECK(gadgets.find(org, kept.id).has_value());
  CHECK(parity::rows_in(conn, "gadgets") == 1);
}
