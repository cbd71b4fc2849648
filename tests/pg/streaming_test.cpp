// Streaming on PostgreSQL: stream_each_row reads its rows in libpq's single-row mode, so a result of
// any size is read one row at a time (benchmarks/stream_rss.cpp reports the memory). What a
// streamed query must never do: hold more than one row, leave the connection stuck in the middle
// of a result (after an early exit, an exception in the callback, a server error), run another
// statement while its rows are pending, or read another org's rows.
#include "support/expect_throw.hpp"
#include "support/pg_database.hpp"
#include "support/pg_scalar.hpp"

#include <tenantry/postgres.hpp>

#include <catch2/catch.hpp>

#include <libpq-fe.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

using namespace tenantry;
using Catch::Matchers::Contains;
using testdb::scalar;
using PgConn = tenantry::pg::Connection;
using tenantry::pg::StatementScope;
using testdb::expect_throw;

namespace stream_fx {
struct Item {
  std::int64_t id = 0;
  OrgId org_id;
  std::string name;
};
}  // namespace stream_fx

template <>
struct tenantry::entity<stream_fx::Item> {
  using T = stream_fx::Item;
  static constexpr std::string_view table = "stream_items";
  static constexpr auto primary_key = key(&T::org_id, &T::id);
};

using stream_fx::Item;

namespace {

const Sql series = intern_sql("SELECT x FROM generate_series(1, $1::int) AS x");

/// Two orgs with n items each (the same ids and names in both).
struct Items {
  PgConn conn{tenantry_test::pg_url()};
  OrgId a{Uuid::random()}, b{Uuid::random()};
  Repository<Item, PgDialect> items{conn};
  explicit Items(int n) {
    create_tables<Item>(conn);
    for (const OrgId& org : {a, b}) {
      std::vector<Item> rows;
      for (int i = 1; i <= n; ++i) rows.push_back(Item{i, org, "item" + std::to_string(i)});
      items.insert_many(org, rows);
    }
  }
};

const auto all_items =
    select<Item>(col(&Item::id), col(&Item::org_id), col(&Item::name)).from<Item>().order_by(col(&Item::id));

}  // namespace

TEST_CASE("pg streaming: each step holds one row of the result, and the end reports the command", "[pg][stream]") {
  PgConn conn{tenantry_test::pg_url()};
  auto& st = conn.prepare(series);
  StatementScope scope(st);
  st.bind_int(1, 5000);
  st.stream_next_execution();
  std::int64_t n = 0, sum = 0;
  while (st.step()) {
    REQUIRE(PQntuples(st.result()) == 1);  // single-row mode: never the whole result
    sum += st.column_int(0);
    ++n;
  }
  CHECK(n == 5000);
  CHECK(sum == 5000LL * 5001 / 2);
  CHECK_FALSE(st.step());  // stays at the end until reset
  CHECK(st.changes() == 5000);
}

TEST_CASE("pg streaming: nothing else runs on the connection while rows are pending; reset frees it", "[pg][stream]") {
  PgConn conn{tenantry_test::pg_url()};
  {
    auto& st = conn.prepare(series);
    StatementScope scope(st);
    st.bind_int(1, 100000);
    st.stream_next_execution();
    REQUIRE(st.step());
    CHECK_THAT(expect_throw<UsageError>([&] { conn.execute("SELECT 1"); }).what(), Contains("being streamed"));
    CHECK_THROWS_AS(scalar(conn, "SELECT 2"), UsageError);
    CHECK_THROWS_AS(conn.transaction(), UsageError);
    REQUIRE(st.step());
    CHECK(st.column_int(0) == 2);  // the stream itself goes on
  }                                // reset: the other 99,998 rows are read and dropped
  CHECK(scalar(conn, "SELECT 3") == 3);
  CHECK(PQtransactionStatus(conn.native()) == PQTRANS_IDLE);
}

TEST_CASE("pg streaming: an abandoned stream inside a transaction leaves the transaction usable", "[pg][stream]") {
  PgConn conn{tenantry_test::pg_url()};
  conn.execute("CREATE TABLE kept (v int)");
  auto tx = conn.transaction();
  {
    auto& st = conn.prepare(series);
    StatementScope scope(st);
    st.bind_int(1, 1000);
    st.stream_next_execution();
    REQUIRE(st.step());
  }
  conn.execute("INSERT INTO kept VALUES (1)");
  tx.commit();
  CHECK(scalar(conn, "SELECT count(*) FROM kept") == 1);
}

TEST_CASE(
    "pg streaming: a server error in the middle of the rows is the statement's error, and the connection recovers",
    "[pg][stream]") {
  PgConn conn{tenantry_test::pg_url()};
  auto& st = conn.prepare(intern_sql("SELECT 10 / (3 - x) FROM generate_series(1, 5) AS x"));
  {
    StatementScope scope(st);
    st.stream_next_execution();
    std::int64_t rows = 0;
    const DatabaseError e = expect_throw<DatabaseError>([&] {
      while (st.step()) ++rows;
    });
    CHECK(e.code() == "22012");  // division_by_zero
    CHECK(rows <= 2);
  }
  CHECK(scalar(conn, "SELECT 4") == 4);
}

TEST_CASE("pg streaming: a statement the server lost is prepared again before the first row", "[pg][stream]") {
  PgConn conn{tenantry_test::pg_url()};
  CHECK(scalar(conn, "SELECT 5") == 5);  // prepares something
  {
    auto& st = conn.prepare(series);
    StatementScope scope(st);
    st.bind_int(1, 3);
    REQUIRE(st.step());
  }
  PQclear(PQexec(conn.native(), "DEALLOCATE ALL"));
  auto& st = conn.prepare(series);
  StatementScope scope(st);
  st.bind_int(1, 3);
  st.stream_next_execution();
  std::int64_t n = 0;
  while (st.step()) ++n;
  CHECK(n == 3);
}

TEST_CASE("pg streaming: stream_each_row streams only the call's org, and its callback cannot use the busy connection",
          "[pg][stream][org]") {
  Items w(2000);
  std::int64_t n = 0;
  bool other_org = false;
  stream_each_row(w.conn, w.a, all_items, [&](const Item& row) {
    other_org = other_org || row.org_id != w.a;
    ++n;
  });
  CHECK(n == 2000);
  CHECK_FALSE(other_org);

  // A callback that runs another statement on the same connection: refused, clearly, and the
  // connection is usable afterwards (the rest of the stream was drained).
  const UsageError e = expect_throw<UsageError>(
      [&] { stream_each_row(w.conn, w.a, all_items, [&](const Item&) { (void)w.items.count(w.b); }); });
  CHECK_THAT(e.what(), Contains("fetch()"));
  CHECK(w.items.count(w.b) == 2000);

  // A callback that throws part-way: the exception is the caller's, the connection is free.
  std::int64_t seen = 0;
  CHECK_THROWS_AS(stream_each_row(w.conn, w.b, all_items,
                                  [&](const Item&) {
                                    if (++seen == 10) throw std::runtime_error("stop");
                                  }),
                  std::runtime_error);
  CHECK(seen == 10);
  CHECK(fetch(w.conn, w.b, all_items).size() == 2000);
  // fetch() and for_each_row are not streamed: their callers can run more statements.
  for (const Item& row : fetch(w.conn, w.a, all_items.limit(3))) CHECK(w.items.find(w.a, row.id).has_value());
  std::int64_t nested = 0;
  for_each_row(w.conn, w.a, all_items.limit(3), [&](const Item&) { nested += w.items.count(w.b); });
  CHECK(nested == 3 * 2000);
}

TEST_CASE("pg streaming: inside the org context of row-level security, stream_each_row still sees one org",
          "[pg][stream][org]") {
  // org_context opens a transaction around the query and sets the org for it: the stream runs
  // inside, and the transaction ends after the last row.
  const std::string url = tenantry_test::pg_url();
  {
    PgConn setup{url};
    setup.execute(schema_sql<PgDialect, Item>(DdlOptions{.row_level_security = true}));
  }
  PgConn conn{url, pg::Options{.org_context = true}};
  Repository<Item, PgDialect> items{conn};
  const OrgId a{Uuid::random()}, b{Uuid::random()};
  for (const OrgId& org : {a, b}) {
    std::vector<Item> rows;
    for (int i = 1; i <= 50; ++i) rows.push_back(Item{i, org, "x"});
    items.insert_many(org, rows);
  }
  std::int64_t n = 0;
  stream_each_row(conn, b, all_items, [&](const Item& row) {
    CHECK(row.org_id == b);
    ++n;
  });
  CHECK(n == 50);
  CHECK(PQtransactionStatus(conn.native()) == PQTRANS_IDLE);
}
