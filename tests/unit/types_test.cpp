// Value types and reflection, without a database.
#include "support/entities.hpp"

#include <tenantry/reflect.hpp>
#include <tenantry/statement_lease.hpp>
#include <tenantry/types.hpp>

#include <catch2/catch.hpp>

#include <limits>
#include <memory>
#include <set>
#include <string>
#include <vector>

using namespace tenantry;

TEST_CASE("field names are read at compile time", "[reflect]") {
  STATIC_REQUIRE(reflect::field_name<fixtures::ApiToken, 0> == "id");
  STATIC_REQUIRE(reflect::field_name<fixtures::ApiToken, 1> == "org_id");
  STATIC_REQUIRE(reflect::field_name<fixtures::ApiToken, 8> == "last_used_by");
  STATIC_REQUIRE(reflect::field_names<fixtures::Setting>.size() == 3);
  STATIC_REQUIRE(reflect::index_of(&fixtures::Gadget::payload) == 20);
  CHECK(reflect::runtime_index_of(&fixtures::Gadget::payload) == 20);
  CHECK(reflect::runtime_index_of(&fixtures::Gadget::id) == 0);
}

TEST_CASE("org scoping is a property of the type", "[reflect]") {
  STATIC_REQUIRE(org_scoped<fixtures::ApiToken>);
  STATIC_REQUIRE(org_field<fixtures::ApiToken> == 1);
  STATIC_REQUIRE(!org_scoped<fixtures::Organization>);
  STATIC_REQUIRE(!org_scoped<fixtures::Setting>);
}

TEST_CASE("enum names are reflected in value order", "[types]") {
  STATIC_REQUIRE(enum_traits<fixtures::OrgStatus>::values.size() == 3);
  STATIC_REQUIRE(enum_to_text(fixtures::OrgStatus::suspended) == "suspended");
  STATIC_REQUIRE(enum_from_text<fixtures::Color>("blue") == fixtures::Color::blue);
  STATIC_REQUIRE(!enum_from_text<fixtures::Color>("purple").has_value());
  STATIC_REQUIRE(enum_to_text(static_cast<fixtures::Color>(9)).empty());
  // At run time too (one inline comparison per name): a prefix, an extension or another case
  // of a name is none.
  const std::vector<std::string> texts{"blue", "blu", "bluee", "Blue", "", "red"};
  CHECK(enum_from_text<fixtures::Color>(texts[0]) == fixtures::Color::blue);
  for (std::size_t i = 1; i < 5; ++i) CHECK_FALSE(enum_from_text<fixtures::Color>(texts[i]).has_value());
  CHECK(enum_from_text<fixtures::Color>(texts[5]) == fixtures::Color::red);
}

TEST_CASE("UUIDs parse, print and generate", "[types]") {
  const Uuid u = Uuid::parse("123E4567-e89b-12d3-A456-426614174000");
  CHECK(u.to_string() == "123e4567-e89b-12d3-a456-426614174000");
  CHECK_FALSE(Uuid::try_parse("123e4567e89b12d3a456426614174000").has_value());
  CHECK_FALSE(Uuid::try_parse("123e4567-e89b-12d3-a456-42661417400g").has_value());
  CHECK_FALSE(Uuid::try_parse("").has_value());
  CHECK_THROWS_AS(Uuid::parse("nope"), ValueError);
  CHECK(Uuid{}.is_nil());
  std::set<Uuid> seen;
  for (int i = 0; i < 1000; ++i) {
    const Uuid r = Uuid::random();
    CHECK((r.bytes[6] >> 4) == 4);
    CHECK((r.bytes[8] & 0xC0) == 0x80);
    seen.insert(r);
  }
  CHECK(seen.size() == 1000);
  const Uuid a = Uuid::time_ordered();
  CHECK((a.bytes[6] >> 4) == 7);
}

TEST_CASE("timestamps round-trip through fixed-width ISO-8601", "[types]") {
  const Timestamp t = Timestamp::parse("2024-02-29T23:59:59.123456Z");
  CHECK(t.to_iso() == "2024-02-29T23:59:59.123456Z");
  CHECK(Timestamp{0}.to_iso() == "1970-01-01T00:00:00.000000Z");
  CHECK(Timestamp{-1}.to_iso() == "1969-12-31T23:59:59.999999Z");
  CHECK(Timestamp{Timestamp::min_micros}.to_iso() == "0001-01-01T00:00:00.000000Z");
  CHECK(Timestamp{Timestamp::max_micros}.to_iso() == "9999-12-31T23:59:59.999999Z");
  CHECK_THROWS_AS(Timestamp{Timestamp::max_micros + 1}.to_iso(), ValueError);
  CHECK_THROWS_AS(Timestamp{std::numeric_limits<std::int64_t>::min()}.to_iso(), ValueError);
  for (std::int64_t us : {std::int64_t{1}, std::int64_t{-86400000001}, std::int64_t{1700000000123456}, Timestamp::min_micros}) {
    CHECK(Timestamp::parse(Timestamp{us}.to_iso()).micros == us);
  }
}

TEST_CASE("timestamps accept the forms other writers use", "[types]") {
  const auto at = [](const char* s) { return Timestamp::parse(s).to_iso(); };
  CHECK(at("2024-01-02 03:04:05") == "2024-01-02T03:04:05.000000Z");          // SQLite datetime()
  CHECK(at("2024-01-02T03:04:05.123Z") == "2024-01-02T03:04:05.123000Z");     // milliseconds
  CHECK(at("2024-01-02T03:04:05.1234567891Z") == "2024-01-02T03:04:05.123456Z");
  CHECK(at("2024-01-02T05:04:05+02:00") == "2024-01-02T03:04:05.000000Z");    // offset
  CHECK(at("2024-01-02T01:04:05-0200") == "2024-01-02T03:04:05.000000Z");
  CHECK(at("2024-01-02") == "2024-01-02T00:00:00.000000Z");
  for (const char* bad : {"2024-13-01", "2024-02-30T00:00:00Z", "2024-01-02T03:04:05Zjunk", "yesterday", "2024-01-02T25:00:00",
                          "2024-01-02T03:04:05.", ""}) {
    INFO(bad);
    CHECK_FALSE(Timestamp::try_parse(bad).has_value());
  }
}

TEST_CASE("user types map onto stored types", "[types]") {
  STATIC_REQUIRE(value_traits<fixtures::Money>::kind == Kind::integer);
  STATIC_REQUIRE(value_traits<std::optional<fixtures::Money>>::nullable);
  STATIC_REQUIRE(value_traits<std::uint32_t>::int_bytes == 8);
  STATIC_REQUIRE(value_traits<std::int16_t>::int_bytes == 2);
  STATIC_REQUIRE(value_traits<fixtures::Color>::kind == Kind::text);
}

TEST_CASE("a statement lease is refused while the statement is held, however deep the nesting", "[lease]") {
  // Past 16 held statements the leases go on in a vector: the refusal must hold on both sides.
  std::vector<int> statements(40);
  std::vector<std::unique_ptr<StatementLease>> held;
  for (int& s : statements) {
    held.push_back(std::make_unique<StatementLease>(&s));
    for (const int& t : statements) {
      if (&t > &s) break;
      CHECK_THROWS_AS(StatementLease(&t), UsageError);
    }
  }
  // Released out of order (every other one, from the middle), each can be leased again, and
  // only it.
  for (std::size_t k = 5; k < statements.size(); k += 2) {
    held[k].reset();
    {
      const StatementLease again(&statements[k]);
      CHECK_THROWS_AS(StatementLease(&statements[k]), UsageError);
    }
    CHECK_THROWS_AS(StatementLease(&statements[k - 1]), UsageError);
  }
  held.clear();
  for (int& s : statements) CHECK_NOTHROW(StatementLease(&s));
}
