// What the values look like in an SQLite table when read with plain SQL: the on-disk format
// other programs and migrations depend on (fixed-width ISO-8601 text, canonical lowercase UUID
// text, 0/1 booleans, BLOBs, enum names). The round trips of every type through repositories run
// on both databases in tests/parity/roundtrip_test.cpp; what the sqlite3 shell prints, and rows
// it writes, are in tests/parity/interop_test.cpp.
#include "support/sqlite_db.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

using namespace tenantry;
using fixtures::Color;
using fixtures::Gadget;
using fixtures::Money;
using testdb::Raw;
using testdb::Repo;

namespace {

Bytes bytes(std::initializer_list<int> values) {
  Bytes out;
  for (int v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

/// Canonical lowercase version-4 UUID text, as the SQLite default_uuid() expression makes it.
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

}  // namespace

TEST_CASE("stored representation, read with plain SQL", "[sqlite][roundtrip][format]") {
  testdb::FileDb db;
  const OrgId org = testdb::add_org(db.conn, "acme");
  Repo<Gadget> gadgets{db.conn};

  Gadget g = testdb::make_gadget("the title");
  g.ref = Uuid::parse("0A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D");  // parsed from upper case
  g.flag = true;
  g.at = Timestamp{-1};  // 1969-12-31T23:59:59.999999Z
  g.maybe_at = Timestamp{Timestamp::min_micros};
  g.payload = bytes({0x00, 0x01, 0x00, 0xff, 0x00});
  g.color = Color::green;
  g.price = Money{-42};
  g.u64 = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  g.real32 = 0.5f;
  gadgets.insert(org, g);

  Raw q(db.conn,
        "SELECT at, typeof(at), maybe_at, created_at, ref, org_id, stamp, flag, typeof(flag), title, typeof(payload),"
        " hex(payload), price, typeof(price), color, u64, typeof(u64), note, typeof(real32), real32, typeof(id)"
        " FROM gadgets WHERE id = ?1");
  q.bind(1, g.id).one_row();
  CHECK(q.text(0) == "1969-12-31T23:59:59.999999Z");
  CHECK(q.text(1) == "text");
  CHECK(q.text(2) == "0001-01-01T00:00:00.000000Z");
  const std::string created = q.text(3);
  CHECK(created.size() == 27);
  CHECK(created[10] == 'T');
  CHECK(created.substr(23) == "000Z");
  CHECK(created == g.created_at.to_iso());
  CHECK(q.text(4) == "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d");
  CHECK(q.text(5) == org.to_string());
  CHECK(q.text(6) == g.stamp.to_string());
  CHECK(is_canonical_v4(q.text(6)));
  CHECK(q.integer(7) == 1);
  CHECK(q.text(8) == "integer");
  CHECK(q.text(9) == "the title");
  CHECK(q.text(10) == "blob");
  CHECK(q.text(11) == "000100FF00");
  CHECK(q.integer(12) == -42);
  CHECK(q.text(13) == "integer");
  CHECK(q.text(14) == "green");
  CHECK(q.integer(15) == std::numeric_limits<std::int64_t>::max());
  CHECK(q.text(16) == "integer");
  CHECK(q.is_null(17));  // an empty optional is NULL, not the column's DEFAULT 'none'
  CHECK(q.text(18) == "real");
  CHECK(q.real(19) == 0.5);
  CHECK(q.text(20) == "integer");

  SECTION("false is 0 and an empty blob is a zero-length blob, not NULL") {
    Gadget h = testdb::make_gadget("second");
    h.flag = false;
    h.payload = {};
    gadgets.insert(org, h);
    Raw r(db.conn, "SELECT flag, typeof(payload), length(payload) FROM gadgets WHERE id = ?1");
    r.bind(1, h.id).one_row();
    CHECK(r.integer(0) == 0);
    CHECK(r.text(1) == "blob");
    CHECK(r.integer(2) == 0);
  }
  SECTION("the renamed field is the column \"title\"; there is no column \"label\"") {
    std::vector<std::string> names;
    Raw info(db.conn, "SELECT name FROM pragma_table_info('gadgets') ORDER BY cid");
    while (info.step()) names.push_back(info.text(0));
    REQUIRE(names.size() == 27);
    CHECK(names[13] == "title");
    CHECK(std::find(names.begin(), names.end(), "label") == names.end());
    CHECK(testdb::query_text(db.conn, "SELECT title FROM gadgets") == "the title");
  }
  SECTION("organization timestamps and enums") {
    Raw r(db.conn, "SELECT status, length(created_at), substr(created_at, 24), updated_at FROM organizations");
    r.one_row();
    CHECK(r.text(0) == "active");
    CHECK(r.integer(1) == 27);
    CHECK(r.text(2) == "000Z");
    CHECK(r.text(3).size() == 27);
    CHECK(r.text(3).back() == 'Z');
  }
}
