// Bad values that are not text: extreme integers and narrower widths read back from wider stored
// values, extreme doubles, timestamps at and beyond years 0001-9999, nil org ids, and stored
// enum text the C++ enum does not know. On a SQLite file and on PostgreSQL, with the whole
// database compared with its snapshot after each case.
#include "bad_input/bad_input.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

using namespace tenantry;
using badinput::message_has;
using badinput::World;
using fixtures::ApiToken;
using fixtures::Color;
using fixtures::Gadget;
using fixtures::Money;
using parity::Repo;
using testdb::expect_throw;

namespace {
constexpr std::int64_t i64_min = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t i64_max = std::numeric_limits<std::int64_t>::max();
}  // namespace

TEMPLATE_TEST_CASE("INT64 min and max round-trip, in fields, user types and predicates", "[bad_input][integer]",
                   BAD_INPUT_BACKENDS) {
  using B = TestType;
  World<B> w;
  Repo<B, Gadget> gadgets{w.conn};
  for (const std::int64_t v : {i64_min, i64_max, std::int64_t{-1}}) {  // the background rows hold 0
    INFO("value " << v);
    Gadget g = testdb::make_gadget("int");
    g.i64 = v;
    g.price = Money{v};
    g.u64 = v < 0 ? 0 : static_cast<std::uint64_t>(v);
    gadgets.insert(w.a, g);
    const auto got = gadgets.find(w.a, g.id);
    CHECK(got->i64 == v);
    CHECK(got->price == Money{v});
    CHECK(got->u64 == g.u64);
    CHECK(parity::raw_int(w.conn, "SELECT i64 FROM gadgets WHERE id = ?1", g.id) == v);
    CHECK(gadgets.count(w.a, col(&Gadget::i64) == v) == 1);
    CHECK(gadgets.count(w.a, col(&Gadget::i64) >= v) >= 1);
    CHECK(gadgets.erase(w.a, g.id));
  }
  // UINT64 above INT64_MAX has no column: refused before sending, in a row and in a predicate.
  Gadget g = testdb::make_gadget("u64");
  g.u64 = static_cast<std::uint64_t>(i64_max) + 1;
  message_has(expect_throw<ValueError>([&] { gadgets.insert(w.a, g); }), {"9223372036854775808", "signed 64-bit"});
  expect_throw<ValueError>([&] { (void)gadgets.count(w.a, col(&Gadget::u64) == g.u64); });
  w.unchanged();
}

TEMPLATE_TEST_CASE("stored integers wider than the field: a ValueError naming the column and the value",
                   "[bad_input][integer]", BAD_INPUT_BACKENDS) {
  using B = TestType;
  World<B> w;
  Repo<B, Gadget> gadgets{w.conn};
  const Gadget row = gadgets.insert(w.a, testdb::make_gadget("narrow"));
  const auto set_raw = [&](const std::string& assignment) {
    w.conn.execute("UPDATE gadgets SET " + assignment + " WHERE id = " + std::to_string(row.id));
  };
  struct Case {
    const char* column;
    const char* bad;
    const char* good;
  };
  // PostgreSQL's columns are wider than the fields except for int16_t (SMALLINT, which refuses
  // the write itself); SQLite's INTEGER holds any 64-bit value.
  for (const Case c : {Case{"i8", "128", "-128"}, Case{"i16", "-32769", "32767"}, Case{"u8", "256", "255"},
                       Case{"u16", "-1", "65535"}, Case{"u32", "4294967296", "4294967295"}, Case{"u64", "-1", "0"}}) {
    INFO(c.column << " = " << c.bad);
    if (B::is_postgres && std::string_view(c.column) == "i16") {
      CHECK(expect_throw<DatabaseError>([&] { set_raw(std::string(c.column) + " = " + c.bad); }).code() == "22003");
      continue;
    }
    set_raw(std::string(c.column) + " = " + c.bad);
    const auto e = expect_throw<ValueError>([&] { (void)gadgets.find(w.a, row.id); });
    message_has(e, {std::string("column '") + c.column + "'", c.bad, "does not fit"});
    expect_throw<ValueError>([&] { (void)gadgets.list(w.a); });
    CHECK(gadgets.count(w.a) == 3);  // counting decodes nothing
    set_raw(std::string(c.column) + " = " + c.good);
    CHECK(gadgets.find(w.a, row.id).has_value());  // the statement that threw is reusable
    set_raw(std::string(c.column) + " = 0");
  }
  CHECK(gadgets.erase(w.a, row.id));
  w.unchanged();
}

TEMPLATE_TEST_CASE("extreme doubles round-trip; NaN is refused", "[bad_input][real]", BAD_INPUT_BACKENDS) {
  using B = TestType;
  World<B> w;
  Repo<B, Gadget> gadgets{w.conn};
  using L = std::numeric_limits<double>;
  // The double column has CHECK (real < 1e12): every extreme below that bound is stored.
  for (const double v : {L::lowest(), -L::infinity(), L::denorm_min(), -L::denorm_min(), L::min(), -0.0, 999999999999.0}) {
    INFO("value " << v);
    Gadget g = testdb::make_gadget("real");
    g.real = v;
    gadgets.insert(w.a, g);
    const double got = gadgets.find(w.a, g.id)->real;
    CHECK(got == v);
    // SQLite stores a REAL with an integral value as an integer, so -0.0 reads back as +0.0.
    CHECK(std::signbit(got) == (std::signbit(v) && (B::is_postgres || v != 0)));
    CHECK(gadgets.erase(w.a, g.id));
  }
  Gadget g = testdb::make_gadget("max");
  g.real = L::max();  // beyond the CHECK
  CHECK(expect_throw<CheckViolation>([&] { gadgets.insert(w.a, g); }).constraint() == "ck_gadgets_real_lt");
  g.real = L::quiet_NaN();
  CHECK_THROWS_AS(gadgets.insert(w.a, g), Error);  // SQLite: NOT NULL (NaN is NULL there); PostgreSQL: the CHECK
  w.unchanged();
}

TEMPLATE_TEST_CASE("timestamps: years 0001 and 9999 round-trip, anything beyond is a ValueError",
                   "[bad_input][timestamp]", BAD_INPUT_BACKENDS) {
  using B = TestType;
  World<B> w;
  Repo<B, Gadget> gadgets{w.conn};
  for (const std::int64_t v : {Timestamp::min_micros, Timestamp::max_micros, std::int64_t{-1}, std::int64_t{0}}) {
    INFO("micros " << v);
    Gadget g = testdb::make_gadget("ts");
    g.at = Timestamp{v};
    g.maybe_at = Timestamp{v};
    gadgets.insert(w.a, g);
    const auto got = gadgets.find(w.a, g.id);
    CHECK(got->at == g.at);
    CHECK(got->maybe_at == g.maybe_at);
    CHECK(gadgets.count(w.a, col(&Gadget::at) == g.at) == 1);
    CHECK(gadgets.erase(w.a, g.id));
  }
  CHECK(Timestamp{Timestamp::min_micros}.to_iso() == "0001-01-01T00:00:00.000000Z");
  CHECK(Timestamp{Timestamp::max_micros}.to_iso() == "9999-12-31T23:59:59.999999Z");

  // Out of range in C++: refused before sending, in rows, set() and predicates.
  for (const std::int64_t v : {Timestamp::min_micros - 1, Timestamp::max_micros + 1, i64_min, i64_max}) {
    INFO("micros " << v);
    Gadget g = testdb::make_gadget("ts-bad");
    g.at = Timestamp{v};
    message_has(expect_throw<ValueError>([&] { gadgets.insert(w.a, g); }), {"outside years 0001-9999"});
    expect_throw<ValueError>([&] { (void)gadgets.count(w.a, col(&Gadget::at) < Timestamp{v}); });
  }
  // Text that names an instant outside the range once its offset is applied is not a timestamp.
  CHECK_FALSE(Timestamp::try_parse("0001-01-01T00:00:00+01:00").has_value());
  CHECK_FALSE(Timestamp::try_parse("9999-12-31T23:59:60Z").has_value());
  CHECK(Timestamp::try_parse("0001-01-01T01:00:00+01:00") == Timestamp{Timestamp::min_micros});
  message_has(expect_throw<ValueError>([] { (void)Timestamp::parse("9999-12-31T23:00:00-01:00"); }), {"not an ISO-8601"});

  // Out of range in the database, written with plain SQL: a ValueError naming the column.
  const Gadget row = gadgets.insert(w.a, testdb::make_gadget("stored"));
  const auto stored = [&](const std::string& sql_value) {
    w.conn.execute("UPDATE gadgets SET at = " + sql_value + " WHERE id = " + std::to_string(row.id));
    return expect_throw<ValueError>([&] { (void)gadgets.find(w.a, row.id); });
  };
  if constexpr (B::is_postgres) {
    message_has(stored("'10000-01-01T00:00:00Z'"), {"column 'at'", "outside years 0001-9999"});
    message_has(stored("'infinity'"), {"column 'at'", "infinity"});
    message_has(stored("'-infinity'"), {"column 'at'"});
    message_has(stored("'0001-01-01T00:00:00Z'::timestamptz - interval '1 microsecond'"), {"column 'at'"});
  } else {
    message_has(stored("'10000-01-01T00:00:00.000000Z'"), {"column 'at'", "10000-01-01"});
    message_has(stored("'0001-01-01T00:00:00+01:00'"), {"column 'at'"});
    // Integers are unix seconds; beyond the range they are refused, not overflowed or wrapped.
    message_has(stored("253402300800"), {"column 'at'", "253402300800", "outside years 0001-9999"});
    message_has(stored("-62135596801"), {"column 'at'", "outside years"});
    message_has(stored("9223372036854775807"), {"column 'at'", "9223372036854775807"});
    message_has(stored("'999999999999'"), {"column 'at'", "outside years"});  // digits in TEXT affinity
    w.conn.execute("UPDATE gadgets SET at = 253402300799 WHERE id = " + std::to_string(row.id));
    CHECK(gadgets.find(w.a, row.id)->at == Timestamp{Timestamp::max_micros - 999999});
  }
  CHECK(gadgets.erase(w.a, row.id));
  w.unchanged();
}

TEMPLATE_TEST_CASE("a nil org id is refused with UsageError before anything is sent", "[bad_input][org]",
                   BAD_INPUT_BACKENDS) {
  using B = TestType;
  World<B> w;
  Repo<B, ApiToken> tokens{w.conn};
  Repo<B, Gadget> gadgets{w.conn};
  const OrgId nil{};
  REQUIRE(nil.is_nil());
  ApiToken t = testdb::make_token("nil-org");
  message_has(expect_throw<UsageError>([&] { tokens.insert(nil, t); }), {"nil org id", "api_tokens"});
  expect_throw<UsageError>([&] { (void)tokens.find(nil, t.id); });
  expect_throw<UsageError>([&] { (void)tokens.list(nil); });
  expect_throw<UsageError>([&] { (void)tokens.count(nil); });
  expect_throw<UsageError>([&] { (void)tokens.exists(nil); });
  expect_throw<UsageError>([&] { (void)tokens.erase(nil, t.id); });
  expect_throw<UsageError>([&] { (void)tokens.erase_where(nil, col(&ApiToken::user_id) == "user-1"); });
  expect_throw<UsageError>([&] { (void)tokens.set(nil, t.id, &ApiToken::name, "x"); });
  expect_throw<UsageError>([&] { (void)gadgets.update_where(nil, col(&Gadget::flag) == false, assign(col(&Gadget::quantity), 2)); });
  // A row carrying the nil org takes the call's org; one carrying another org is refused.
  t.org_id = w.b;
  CHECK(expect_throw<OrgMismatch>([&] { tokens.insert(w.a, t); }).row_org() == w.b.to_string());
  // Text that is no org id at all.
  for (const char* text : {"", "nil", "00000000-0000-0000-0000-00000000000", "00000000-0000-0000-0000-00000000000g",
                           "{00000000-0000-0000-0000-000000000000}"}) {
    INFO(text);
    expect_throw<ValueError>([&] { (void)OrgId::parse(text); });
  }
  CHECK(OrgId::parse("00000000-0000-0000-0000-000000000000").is_nil());  // parses, and is refused as above
  w.unchanged();
}

TEMPLATE_TEST_CASE("stored enum text the C++ enum does not know: a ValueError naming the column and the text",
                   "[bad_input][enum]", BAD_INPUT_BACKENDS) {
  using B = TestType;
  World<B> w;
  Repo<B, Gadget> gadgets{w.conn};
  const Gadget row = gadgets.insert(w.a, testdb::make_gadget("enum"));
  // The CHECK (color IN (...)) keeps such text out; another program, or an older or newer version
  // of this one, can still put it there: the CHECK dropped (PostgreSQL) or ignored (SQLite).
  if constexpr (B::is_postgres) w.conn.execute("ALTER TABLE gadgets DROP CONSTRAINT ck_gadgets_color");
  else w.conn.execute("PRAGMA ignore_check_constraints = ON");
  for (const char* text : {"purple", "Red", "", " red", "red ", "red'; --"}) {
    INFO("stored '" << text << "'");
    parity::raw_query(w.conn, "UPDATE gadgets SET color = ?1 WHERE title = 'enum'", [](auto&) {}, text);
    const auto e = expect_throw<ValueError>([&] { (void)gadgets.find(w.a, row.id); });
    message_has(e, {"column 'color'", "'" + std::string(text) + "'", "names no enumerator", "red, green, blue"});
    expect_throw<ValueError>([&] { (void)gadgets.list(w.a, col(&Gadget::flag) == false); });
    CHECK(gadgets.count(w.a) == 3);
    CHECK(gadgets.count(w.a, col(&Gadget::color) == Color::red) == 2);  // the background rows only
  }
  parity::raw_query(w.conn, "UPDATE gadgets SET color = 'blue' WHERE title = 'enum'", [](auto&) {});
  CHECK(gadgets.find(w.a, row.id)->color == Color::blue);
  if constexpr (!B::is_postgres) w.conn.execute("PRAGMA ignore_check_constraints = OFF");
  CHECK(gadgets.erase(w.a, row.id));
  // An enumerator with no name cannot be written.
  Gadget g = testdb::make_gadget("enum-7");
  g.color = static_cast<Color>(7);
  message_has(expect_throw<ValueError>([&] { gadgets.insert(w.a, g); }), {"enum value 7"});
  if constexpr (B::is_postgres) {
    // The snapshot compares rows; the dropped CHECK is the one change this case made on purpose.
    w.conn.execute("ALTER TABLE gadgets ADD CONSTRAINT ck_gadgets_color CHECK (color IN ('red', 'green', 'blue'))");
  }
  w.unchanged();
}

TEMPLATE_TEST_CASE("malformed stored UUIDs and booleans name their column", "[bad_input][uuid]", BAD_INPUT_BACKENDS) {
  using B = TestType;
  World<B> w;
  Repo<B, Gadget> gadgets{w.conn};
  const Gadget row = gadgets.insert(w.a, testdb::make_gadget("shape"));
  if constexpr (B::is_postgres) {
    // UUID and BOOLEAN columns hold nothing else; NULL in a NOT NULL field is the remaining case.
    w.conn.execute("ALTER TABLE gadgets ALTER COLUMN ref DROP NOT NULL");
    w.conn.execute("UPDATE gadgets SET ref = NULL WHERE id = " + std::to_string(row.id));
    message_has(expect_throw<ValueError>([&] { (void)gadgets.find(w.a, row.id); }), {"column 'ref'", "NULL"});
    w.conn.execute("DELETE FROM gadgets WHERE id = " + std::to_string(row.id));
    w.conn.execute("ALTER TABLE gadgets ALTER COLUMN ref SET NOT NULL");
  } else {
    w.conn.execute("UPDATE gadgets SET ref = 'not-a-uuid' WHERE id = " + std::to_string(row.id));
    message_has(expect_throw<ValueError>([&] { (void)gadgets.find(w.a, row.id); }), {"column 'ref'", "not-a-uuid"});
    w.conn.execute("PRAGMA ignore_check_constraints = ON");
    w.conn.execute("UPDATE gadgets SET ref = '" + Uuid::random().to_string() + "', flag = 2 WHERE id = " +
                   std::to_string(row.id));
    w.conn.execute("PRAGMA ignore_check_constraints = OFF");
    message_has(expect_throw<ValueError>([&] { (void)gadgets.find(w.a, row.id); }), {"column 'flag'", "2"});
    w.conn.execute("DELETE FROM gadgets WHERE id = " + std::to_string(row.id));
  }
  w.unchanged();
}
