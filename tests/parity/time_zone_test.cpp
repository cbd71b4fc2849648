// A Timestamp in a column declared sql_type("TIMESTAMP") (PostgreSQL's timestamp without time
// zone) under a session TimeZone that is not UTC: set with SET TimeZone, and given as a
// connection option (options=-c TimeZone=...), with server-side prepared statements and without
// them (PgBouncer's mode), next to SQLite, which has no session time zone.
//
// The rule (docs/guide.md, "Types"): such a column holds the Timestamp's UTC wall clock, and
// nothing depends on the session's TimeZone. Before: without server-side preparation the value
// was sent typed timestamptz and the server's implicit cast to timestamp wrote the wall clock of
// the session's zone (Asia/Tokyo: read back 9 hours late), a predicate compared in the session's
// zone too, and default_now() (DEFAULT now()) stored the session's wall clock in either mode.
#include "support/backends.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace fixtures {

/// Times in both kinds of PostgreSQL column.
struct Reading {
  tenantry::Uuid id;
  tenantry::OrgId org_id;
  tenantry::Timestamp wall;                      // TIMESTAMP
  std::optional<tenantry::Timestamp> maybe_wall;  // timestamp without time zone
  tenantry::Timestamp recorded;                  // TIMESTAMP, default_now()
  tenantry::Timestamp instant;                   // TIMESTAMPTZ, the default
};

}  // namespace fixtures

template <>
struct tenantry::entity<fixtures::Reading> {
  using T = fixtures::Reading;
  static constexpr std::string_view table = "readings";
  static constexpr auto primary_key = key(&T::id);
  static constexpr auto columns = std::tuple{column(&T::wall).sql_type("TIMESTAMP"),
                                             column(&T::maybe_wall).sql_type("timestamp without time zone"),
                                             column(&T::recorded).sql_type("TIMESTAMP").default_now()};
  static constexpr auto constraints =
      std::tuple{foreign_key(&T::org_id, &fixtures::Organization::id, on_delete::cascade)};
};

using namespace tenantry;
using fixtures::Reading;
using parity::Repo;

namespace {

const Timestamp t1 = Timestamp::parse("2024-05-01T12:00:00.123456Z");
const Timestamp t2 = Timestamp::parse("2024-01-15T23:30:00Z");  // the next day in Tokyo
const Timestamp t3 = Timestamp::parse("2030-12-31T20:59:59.999999Z");
constexpr std::int64_t one_us = 1;

Timestamp plus(Timestamp t, std::int64_t micros) { return Timestamp{t.micros + micros}; }

/// The URL with `-c TimeZone=<zone>` in its options parameter.
std::string with_time_zone(const std::string& url, const std::string& zone) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + "options=-c%20TimeZone%3D" +
         tenantry_test::pg_detail::percent_encoded(zone);
}

/// The stored text of column `column` of the reading `id`, with plain SQL.
template <class B>
std::string stored(typename B::Conn& conn, const char* column, const Uuid& id) {
  return parity::raw_text(conn, "SELECT CAST(" + std::string(column) + " AS TEXT) FROM readings WHERE id = ?1", id)
      .value_or("NULL");
}

/// Writes and reads Readings through every repository path on `conn`, whose session time zone
/// (PostgreSQL) is `zone`.
template <class B>
void check_readings(typename B::Conn& conn, const OrgId& org, const std::string& zone) {
  if constexpr (B::is_postgres) {
    REQUIRE(parity::raw_text(conn, "SELECT current_setting('TimeZone')") == zone);
    REQUIRE(parity::raw_int(conn, "SELECT CAST(EXTRACT(TIMEZONE FROM now()) AS BIGINT)") != 0);  // not UTC
  }
  Repo<B, Reading> readings{conn};
  Reading r{Uuid::random(), org, t1, t2, {}, t1};
  const Timestamp before = Timestamp::now();
  readings.insert(org, r);
  const Timestamp after = Timestamp::now();

  // default_now(): the current UTC time, read back through RETURNING and by find().
  INFO("recorded " << r.recorded.to_iso() << ", inserted between " << before.to_iso() << " and " << after.to_iso());
  CHECK(r.recorded.micros >= before.micros - 2'000'000);  // server and client clocks: the same host
  CHECK(r.recorded.micros <= after.micros + 2'000'000);

  const auto got = readings.find(org, r.id);
  REQUIRE(got);
  CHECK(got->wall == t1);
  CHECK(got->maybe_wall == t2);
  CHECK(got->instant == t1);
  CHECK(got->recorded == r.recorded);

  // What is stored: the UTC wall clock, as any other client sees it.
  if constexpr (B::is_postgres) {
    CHECK(stored<B>(conn, "wall", r.id) == "2024-05-01 12:00:00.123456");
    CHECK(stored<B>(conn, "maybe_wall", r.id) == "2024-01-15 23:30:00");
    // The timestamptz column prints in the session's zone: the setting is in effect.
    CHECK(stored<B>(conn, "instant", r.id) != "2024-05-01 12:00:00.123456+00");
    CHECK(parity::raw_int(conn, "SELECT COUNT(*) FROM readings WHERE wall = instant AT TIME ZONE 'UTC'") == 1);
    CHECK(parity::raw_int(conn, "SELECT COUNT(*) FROM readings WHERE"
                                " abs(EXTRACT(EPOCH FROM (now() AT TIME ZONE 'UTC') - recorded)) < 5") == 1);
  } else {
    CHECK(stored<B>(conn, "wall", r.id) == "2024-05-01T12:00:00.123456Z");
    CHECK(stored<B>(conn, "maybe_wall", r.id) == "2024-01-15T23:30:00.000000Z");
  }

  // Predicates compare with the UTC wall clock too.
  CHECK(readings.count(org, col(&Reading::wall) == t1) == 1);
  CHECK(readings.count(org, col(&Reading::wall) < plus(t1, one_us)) == 1);
  CHECK(readings.count(org, col(&Reading::wall) > plus(t1, -one_us)) == 1);
  CHECK(readings.count(org, col(&Reading::wall) > t1) == 0);
  CHECK(readings.count(org, col(&Reading::wall) < t1) == 0);
  CHECK(readings.count(org, col(&Reading::maybe_wall) == t2) == 1);
  CHECK(readings.count(org, col(&Reading::instant) == t1) == 1);

  // Every write path.
  CHECK(readings.set(org, r.id, &Reading::wall, t3));
  CHECK(readings.find(org, r.id)->wall == t3);
  r.wall = t3;
  r.maybe_wall = t3;
  CHECK(readings.update(org, r));
  CHECK(readings.find(org, r.id)->maybe_wall == t3);
  CHECK(readings.update_where(org, col(&Reading::wall) == t3, assign(col(&Reading::wall), t2)) == 1);
  CHECK(readings.find(org, r.id)->wall == t2);
  std::vector<Reading> batch = {Reading{Uuid::random(), org, t1, std::nullopt, {}, t2},
                                Reading{Uuid::random(), org, t3, t1, {}, t3}};
  readings.insert_many(org, batch);
  CHECK(readings.find(org, batch[0].id)->wall == t1);
  CHECK_FALSE(readings.find(org, batch[0].id)->maybe_wall.has_value());
  CHECK(readings.find(org, batch[1].id)->maybe_wall == t1);
  CHECK(readings.count(org, col(&Reading::wall) >= t1) == 2);  // t1 and t3, not t2

  // A UTC wall clock written by other SQL reads back as that UTC instant.
  parity::raw_query(conn, "UPDATE readings SET wall = '2031-02-03 04:05:06' WHERE id = ?1", [](auto&) {}, r.id);
  CHECK(readings.find(org, r.id)->wall == Timestamp::parse("2031-02-03T04:05:06Z"));
  CHECK(readings.erase(org, r.id));
}

}  // namespace

TEMPLATE_TEST_CASE("a Timestamp in a TIMESTAMP column is its UTC wall clock, whatever the session's TimeZone",
                   "[parity][types][timestamp]", parity::SqliteFile, parity::Postgres, parity::PostgresUnprepared) {
  using B = TestType;
  auto conn = B::open();
  const OrgId org = parity::add_org(conn, "tz");
  conn.execute(schema_sql<typename B::Dialect, Reading>());
  if constexpr (B::is_postgres) {
    SECTION("SET TimeZone = 'Asia/Tokyo' (UTC+9)") {
      conn.execute("SET TimeZone = 'Asia/Tokyo'");
      check_readings<B>(conn, org, "Asia/Tokyo");
    }
    SECTION("TimeZone America/St_Johns (UTC-3:30 or -2:30) given as a connection option") {
      const std::string url = with_time_zone(B::url(), "America/St_Johns");
      typename B::Conn zoned = [&] {
        if constexpr (requires { B::options(); }) return typename B::Conn(url, B::options());
        else return typename B::Conn(url);
      }();
      check_readings<B>(zoned, org, "America/St_Johns");
    }
  } else {
    check_readings<B>(conn, org, "");
  }
}

TEST_CASE("default_now() of a timestamp without time zone is the UTC wall clock", "[parity][types][timestamp]") {
  const std::string pg = schema_sql<PgDialect, Reading>();
  CHECK(pg.find(R"("recorded" TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'))") != std::string::npos);
  for (const char* type : {"TIMESTAMP", "timestamp", "TIMESTAMP(3)", "timestamp (6) without  time zone",
                           "TIMESTAMP WITHOUT TIME ZONE", "pg_catalog.timestamp"})
    CHECK(PgDialect::is_timestamp_without_time_zone(type));
  for (const char* type : {"TIMESTAMPTZ", "timestamptz(3)", "TIMESTAMP WITH TIME ZONE", "timestamp(3) with time zone",
                           "DATE", "TEXT", ""})
    CHECK_FALSE(PgDialect::is_timestamp_without_time_zone(type));
}
