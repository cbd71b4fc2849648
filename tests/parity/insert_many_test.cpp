// insert_many with many rows. On PostgreSQL it sends multi-row INSERT ... VALUES statements of
// power-of-two batch sizes (1,024, 512, ... rows) and a last single row through the ordinary
// INSERT; on SQLite one prepared INSERT per row. Row counts here are chosen so that several batch
// sizes and the single-row tail all run. Both must write every type as given, hand the generated
// columns back to the right rows, and leave nothing behind when any row fails.
#include "support/backends.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

using namespace tenantry;
using fixtures::Color;
using fixtures::Gadget;
using parity::Repo;
using testdb::expect_throw;

namespace {

/// Row i: every field a value derived from i, so a row handed the wrong generated columns, or
/// stored with another row's values, reads back different from what was written.
Gadget numbered(std::size_t i) {
  const auto n = static_cast<std::int64_t>(i);
  Gadget g = testdb::make_gadget("g-" + std::to_string(i));
  g.i8 = static_cast<std::int8_t>(n % 127 - 63);
  g.i16 = static_cast<std::int16_t>(-n * 7);
  g.i32 = static_cast<std::int32_t>(n * 100'003);
  g.i64 = -n * 1'000'000'007LL;
  g.u8 = static_cast<std::uint8_t>(n % 256);
  g.u16 = static_cast<std::uint16_t>(n * 31);
  g.u32 = static_cast<std::uint32_t>(n * 4'000'037);
  g.u64 = static_cast<std::uint64_t>(n) * 9'000'000'000'000ULL;  // beyond 2^63 for n >= 1025
  g.real = static_cast<double>(n) / 8.0 + 0.25;
  g.real32 = static_cast<float>(n) * 0.5f;
  g.flag = i % 3 == 0;
  if (i % 2 == 0) g.note = "note " + std::to_string(i);
  if (i % 5 != 0) g.maybe_count = static_cast<std::int32_t>(n - 500);
  g.at = Timestamp{1'700'000'000'000'000 + n * 1'000'001};
  if (i % 4 == 1) g.maybe_at = Timestamp{-n * 86'400'000'000};
  g.meta = Json{"[" + std::to_string(i) + "]"};
  for (std::size_t b = 0; b < i % 9; ++b) g.payload.push_back(static_cast<std::byte>((i + b) % 256));
  g.color = static_cast<Color>(i % 3);
  g.price = fixtures::Money{n * 199};
  g.quantity = static_cast<std::int32_t>(i % 50);
  return g;
}

void check_same(const Gadget& got, const Gadget& want) {
  INFO("gadget " << want.label << " (id " << want.id << ")");
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
  CHECK(got.meta == want.meta);
  CHECK(testdb::hex(got.payload) == testdb::hex(want.payload));
  CHECK(got.color == want.color);
  CHECK(got.price == want.price);
  CHECK(got.parent_id == want.parent_id);
  CHECK(got.stamp == want.stamp);
  CHECK(got.created_at == want.created_at);
  CHECK(got.quantity == want.quantity);
}

}  // namespace

TEMPLATE_TEST_CASE("insert_many of many rows: every row, every type, generated columns to the right row",
                   "[parity][api][insert_many][batch]", PARITY_BACKENDS) {
  using B = TestType;
  auto conn = B::open();
  const OrgId org = parity::add_org(conn, "acme");
  const OrgId other = parity::add_org(conn, "other");
  Repo<B, Gadget> gadgets{conn};

  // 1,301 = 1,024 + 256 + 16 + 4 + 1 on PostgreSQL: four batch sizes and the single-row tail.
  std::vector<Gadget> rows;
  for (std::size_t i = 0; i < 1301; ++i) rows.push_back(numbered(i));
  gadgets.insert_many(org, rows);
  CHECK_FALSE(conn.in_transaction());

  // Identity keys were assigned in row order and handed back to the row they belong to.
  for (std::size_t i = 0; i < rows.size(); ++i) {
    CHECK(rows[i].org_id == org);
    CHECK_FALSE(rows[i].stamp.is_nil());
    if (i > 0) CHECK(rows[i].id > rows[i - 1].id);
  }
  CHECK(rows[0].stamp != rows[1].stamp);
  REQUIRE(gadgets.count(org) == 1301);
  CHECK(gadgets.count(other) == 0);

  // What is stored is what was written, row for row (list in id order = the rows' order).
  const std::vector<Gadget> stored = gadgets.list(org, order_by(&Gadget::id));
  REQUIRE(stored.size() == rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) check_same(stored[i], rows[i]);
  check_same(*gadgets.find(org, rows[1300].id), rows[1300]);

  // A second call reuses the batch statements (and a 2-row batch it has not used yet).
  std::vector<Gadget> more{numbered(5000), numbered(5001), numbered(5002)};
  gadgets.insert_many(org, more);
  CHECK(more[0].id > rows.back().id);
  CHECK(more[2].id > more[1].id);
  check_same(*gadgets.find(org, more[1].id), more[1]);
  CHECK(gadgets.count(org) == 1304);
}

TEMPLATE_TEST_CASE("insert_many of many rows: a violation in any batch writes nothing, naming the constraint",
                   "[parity][api][insert_many][batch]", PARITY_BACKENDS) {
  using B = TestType;
  auto conn = B::open();
  const OrgId org = parity::add_org(conn, "acme");
  Repo<B, Gadget> gadgets{conn};
  gadgets.insert(org, numbered(90'000));  // one row from before, which must survive

  std::vector<Gadget> rows;
  for (std::size_t i = 0; i < 1000; ++i) rows.push_back(numbered(i));

  SECTION("UNIQUE, against a row of an earlier batch") {
    rows[700].ref = rows[3].ref;  // row 3 is in the first (512-row) batch, row 700 in the second
    CHECK(expect_throw<UniqueViolation>([&] { gadgets.insert_many(org, rows); }).constraint() ==
          "uq_gadgets_org_id_ref");
  }
  SECTION("UNIQUE, within one batch") {
    rows[10].ref = rows[11].ref;
    CHECK(expect_throw<UniqueViolation>([&] { gadgets.insert_many(org, rows); }).constraint() ==
          "uq_gadgets_org_id_ref");
  }
  SECTION("CHECK, in the last row") {
    rows[999].quantity = -1;
    CHECK(expect_throw<CheckViolation>([&] { gadgets.insert_many(org, rows); }).constraint() ==
          "ck_gadgets_quantity_ge");
  }
  CHECK_FALSE(conn.in_transaction());
  CHECK(gadgets.count(org) == 1);
  CHECK(parity::rows_in(conn, "gadgets") == 1);

  // The connection is fine afterwards, and the same rows go in once the bad one is fixed.
  for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = numbered(i);
  gadgets.insert_many(org, rows);
  CHECK(gadgets.count(org) == 1001);
}
