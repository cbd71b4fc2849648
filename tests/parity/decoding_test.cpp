// Row decoding and the per-call-site statement memo, on both databases.
//
// Decoding no longer asks the driver whether each cell is NULL before reading it: a NULL is
// found by the typed read that refuses it (integers, reals, booleans, UUIDs, timestamps, enums),
// by an empty text/JSON/bytes read, or asked first (user mappings). These tests pin that a NULL
// in a field that cannot hold one is still the same ValueError for every kind of field, and that
// empty values (which look like NULL to the cheap path) are not mistaken for it.
//
// Filtered calls and queries find their SQL by a shape key in a memo per C++ signature
// (statement_cache.hpp): the cases below run one call site (one template instantiation) with
// arguments that differ only in run-time facts (which column, which operator, an empty optional,
// an IN list's length, the direction of an ORDER BY) and check each result against the rows. A
// key that missed one of those facts would run the first shape's SQL for the second call.
#include "support/backends.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

using namespace tenantry;
using fixtures::Color;
using fixtures::Gadget;
using fixtures::Money;
using parity::Repo;
using testdb::expect_throw;

namespace {

template <class T>
struct One {
  T v;
};

template <class Conn>
bool postgres(Conn& conn) {
  if constexpr (std::is_same_v<Conn, Database>) return conn.is_postgres();
  else return std::is_same_v<Conn, pg::Connection>;
}

/// SELECT CAST(NULL AS <type>) AS v, in each dialect's spelling of the type.
template <class Conn>
std::string null_of(Conn& conn, const char* sqlite_type, const char* pg_type) {
  return std::string("SELECT CAST(NULL AS ") + (postgres(conn) ? pg_type : sqlite_type) + ") AS v";
}

template <class T, class Conn>
void null_is_refused(Conn& conn, const char* sqlite_type, const char* pg_type) {
  INFO("type " << pg_type);
  const std::string sql = null_of(conn, sqlite_type, pg_type);
  const ValueError e = expect_throw<ValueError>([&] { (void)raw_query_global<One<T>>(conn, sql); });
  CHECK_THAT(e.what(), Catch::Contains("column 'v' is NULL, read into a field that is not std::optional"));
  // The same column into an optional is an empty optional.
  const auto rows = raw_query_global<One<std::optional<T>>>(conn, sql);
  REQUIRE(rows.size() == 1);
  CHECK_FALSE(rows[0].v.has_value());
}

}  // namespace

TEMPLATE_TEST_CASE("a NULL read into a field that cannot hold one is a ValueError for every kind of field",
                   "[parity][decoding]", PARITY_BACKENDS) {
  auto conn = TestType::open();
  null_is_refused<std::int64_t>(conn, "INTEGER", "bigint");
  null_is_refused<std::int32_t>(conn, "INTEGER", "integer");
  null_is_refused<std::uint8_t>(conn, "INTEGER", "smallint");
  null_is_refused<double>(conn, "REAL", "double precision");
  null_is_refused<bool>(conn, "INTEGER", "boolean");
  null_is_refused<std::string>(conn, "TEXT", "text");
  null_is_refused<Uuid>(conn, "TEXT", "uuid");
  null_is_refused<OrgId>(conn, "TEXT", "uuid");
  null_is_refused<Timestamp>(conn, "TEXT", "timestamptz");
  null_is_refused<Json>(conn, "TEXT", "jsonb");
  null_is_refused<Bytes>(conn, "BLOB", "bytea");
  null_is_refused<Color>(conn, "TEXT", "text");
  null_is_refused<Money>(conn, "INTEGER", "bigint");
}

TEMPLATE_TEST_CASE("empty text, JSON and bytes are values, not NULL", "[parity][decoding]", PARITY_BACKENDS) {
  auto conn = TestType::open();
  const bool pg = postgres(conn);
  CHECK(raw_query_global<One<std::string>>(conn, "SELECT CAST('' AS TEXT) AS v").at(0).v.empty());
  CHECK(raw_query_global<One<std::optional<std::string>>>(conn, "SELECT CAST('' AS TEXT) AS v").at(0).v ==
        std::optional<std::string>(""));
  CHECK(raw_query_global<One<Bytes>>(conn, pg ? "SELECT CAST('' AS bytea) AS v" : "SELECT X'' AS v").at(0).v.empty());
  CHECK(raw_query_global<One<Json>>(conn, pg ? "SELECT CAST('\"\"' AS json) AS v" : "SELECT '' AS v").at(0).v.text ==
        (pg ? "\"\"" : ""));
}

TEMPLATE_TEST_CASE("rows of a repository read every field, NULLs of optional fields included, row after row",
                   "[parity][decoding]", PARITY_BACKENDS) {
  auto conn = TestType::open();
  const OrgId org = parity::add_org(conn, "acme");
  Repo<TestType, Gadget> gadgets{conn};
  std::vector<Gadget> rows;
  for (int k = 0; k < 4; ++k) {
    Gadget g = testdb::make_gadget("g" + std::to_string(k));
    g.i32 = k;
    // Alternate present and absent optionals, so a decoder that kept the previous row's value in
    // a reused row would show it.
    if (k % 2 == 0) {
      g.note = "note" + std::to_string(k);
      g.maybe_count = k * 10;
      g.maybe_at = Timestamp{k * 1'000'000LL};
    } else {
      g.note.reset();
      g.maybe_count.reset();
      g.maybe_at.reset();
    }
    g.label = "label" + std::to_string(k);
    // An empty NOT NULL value (read as empty, never taken for NULL) between non-empty ones.
    if (k != 1) g.payload = Bytes{std::byte{static_cast<unsigned char>(k)}, std::byte{0}};
    gadgets.insert(org, g);
    rows.push_back(g);
  }
  std::vector<Gadget> listed = gadgets.list(org, order_by(&Gadget::i32));
  REQUIRE(listed.size() == rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    CHECK(listed[i].note == rows[i].note);
    CHECK(listed[i].maybe_count == rows[i].maybe_count);
    CHECK(listed[i].maybe_at == rows[i].maybe_at);
    CHECK(listed[i].label == rows[i].label);
    CHECK(listed[i].payload == rows[i].payload);
    CHECK(listed[i].ref == rows[i].ref);
    CHECK(listed[i].at == rows[i].at);
    CHECK(listed[i].price == rows[i].price);
  }
  // The same through a query streamed with for_each_row, whose row object is reused.
  struct Row {
    std::int32_t i32;
    std::optional<std::string> note;
    std::optional<std::int32_t> maybe_count;
    std::string label;
  };
  std::vector<Row> streamed;
  for_each_row(conn, org,
               select<Row>(col(&Gadget::i32), col(&Gadget::note), col(&Gadget::maybe_count), col(&Gadget::label))
                   .template from<Gadget>()
                   .order_by(col(&Gadget::i32)),
               [&](const Row& r) { streamed.push_back(r); });
  REQUIRE(streamed.size() == rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    CHECK(streamed[i].i32 == rows[i].i32);
    CHECK(streamed[i].note == rows[i].note);
    CHECK(streamed[i].maybe_count == rows[i].maybe_count);
    CHECK(streamed[i].label == rows[i].label);
  }
}

namespace {

/// One call site for every predicate of one C++ type: the memo sees one signature.
template <class R, class P>
std::vector<std::string> labels_where(R& gadgets, OrgId org, const P& pred) {
  std::vector<std::string> out;
  for (const Gadget& g : gadgets.list(org, pred, order_by(&Gadget::label))) out.push_back(g.label);
  return out;
}
template <class R, class P>
std::int64_t count_where(R& gadgets, OrgId org, const P& pred) {
  return gadgets.count(org, pred);
}
template <class R>
std::vector<std::string> labels_ordered(R& gadgets, OrgId org, OrderBy<Gadget> o) {
  std::vector<std::string> out;
  for (const Gadget& g : gadgets.list(org, o)) out.push_back(g.label);
  return out;
}
template <class Conn, class P>
std::vector<std::string> query_labels(Conn& conn, OrgId org, const P& pred) {
  std::vector<std::string> out;
  for (const auto& [label] :
       fetch(conn, org, select(col(&Gadget::label)).from<Gadget>().where(pred).order_by(col(&Gadget::label))))
    out.push_back(label);
  return out;
}

using Labels = std::vector<std::string>;

}  // namespace

TEMPLATE_TEST_CASE(
    "one call site with different columns, operators, NULL tests, IN lengths and orderings runs each one's SQL",
    "[parity][memo]", PARITY_BACKENDS) {
  using B = TestType;
  auto conn = B::open();
  const OrgId org = parity::add_org(conn, "acme");
  const OrgId other = parity::add_org(conn, "other");
  Repo<B, Gadget> gadgets{conn};
  // i32 and quantity are both int32 columns with different values per row; so are the labels'
  // orders and the notes.
  const struct {
    const char* label;
    int i32, quantity;
    std::optional<std::string> note;
  } data[] = {{"a", 1, 3, "x"}, {"b", 2, 2, std::nullopt}, {"c", 3, 1, "y"}, {"d", 3, 3, std::nullopt}};
  for (const auto& d : data) {
    Gadget g = testdb::make_gadget(d.label);
    g.i32 = d.i32;
    g.quantity = d.quantity;
    g.note = d.note;
    const Gadget same = g;
    gadgets.insert(org, g);
    gadgets.insert(other, same);  // the same rows in another org: never counted
  }

  // Which column (same C++ type).
  CHECK(labels_where(gadgets, org, col(&Gadget::i32) == 3) == Labels{"c", "d"});
  CHECK(labels_where(gadgets, org, col(&Gadget::quantity) == 3) == Labels{"a", "d"});
  // Which operator.
  CHECK(labels_where(gadgets, org, col(&Gadget::i32) < 3) == Labels{"a", "b"});
  CHECK(labels_where(gadgets, org, col(&Gadget::i32) >= 3) == Labels{"c", "d"});
  CHECK(labels_where(gadgets, org, col(&Gadget::i32) != 3) == Labels{"a", "b"});
  // An empty optional compares as IS NULL, a value as =.
  CHECK(labels_where(gadgets, org, col(&Gadget::note) == std::optional<std::string>{}) == Labels{"b", "d"});
  CHECK(labels_where(gadgets, org, col(&Gadget::note) == std::optional<std::string>{"x"}) == Labels{"a"});
  CHECK(labels_where(gadgets, org, col(&Gadget::note) != std::optional<std::string>{}) == Labels{"a", "c"});
  // IN lists of different lengths, and NOT IN.
  CHECK(labels_where(gadgets, org, col(&Gadget::i32).in({1})) == Labels{"a"});
  CHECK(labels_where(gadgets, org, col(&Gadget::i32).in({1, 2, 3})) == Labels{"a", "b", "c", "d"});
  CHECK(labels_where(gadgets, org, col(&Gadget::i32).in({})).empty());
  CHECK(labels_where(gadgets, org, col(&Gadget::i32).not_in({1, 2})) == Labels{"c", "d"});
  // IS NULL and IS NOT NULL through one signature.
  CHECK(labels_where(gadgets, org, col(&Gadget::note).is_null()) == Labels{"b", "d"});
  CHECK(labels_where(gadgets, org, col(&Gadget::note).is_not_null()) == Labels{"a", "c"});
  // Trees of the same form over other columns and operators.
  CHECK(labels_where(gadgets, org, col(&Gadget::i32) == 3 && col(&Gadget::quantity) == 3) == Labels{"d"});
  CHECK(labels_where(gadgets, org, col(&Gadget::quantity) == 2 && col(&Gadget::i32) == 2) == Labels{"b"});
  CHECK(labels_where(gadgets, org, col(&Gadget::i32) > 2 && col(&Gadget::quantity) < 3) == Labels{"c"});
  // count through one call site.
  CHECK(count_where(gadgets, org, col(&Gadget::i32) == 3) == 2);
  CHECK(count_where(gadgets, org, col(&Gadget::quantity) == 2) == 1);
  CHECK(count_where(gadgets, org, col(&Gadget::quantity) > 0) == 4);
  // Orderings: column and direction.
  CHECK(labels_ordered(gadgets, org, order_by(&Gadget::label)) == Labels{"a", "b", "c", "d"});
  CHECK(labels_ordered(gadgets, org, order_by(&Gadget::label).desc()) == Labels{"d", "c", "b", "a"});
  CHECK(labels_ordered(gadgets, org, order_by(&Gadget::quantity).desc())[0] == "a");
  // update_where: which column is set.
  CHECK(gadgets.update_where(org, col(&Gadget::label) == std::string("a"), assign(col(&Gadget::i32), 7)) == 1);
  CHECK(gadgets.update_where(org, col(&Gadget::label) == std::string("a"), assign(col(&Gadget::quantity), 9)) == 1);
  const Gadget a = gadgets.list(org, col(&Gadget::label) == std::string("a")).at(0);
  CHECK((a.i32 == 7 && a.quantity == 9));
  // A query: one signature, other columns.
  CHECK(query_labels(conn, org, col(&Gadget::i32) == 3) == Labels{"c", "d"});
  CHECK(query_labels(conn, org, col(&Gadget::quantity) == 3) == Labels{"d"});
  // The other org's copies were never touched.
  CHECK(gadgets.count(other, col(&Gadget::i32) == 7) == 0);
}
