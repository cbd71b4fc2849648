// The libpq driver against a real server (a fresh database per test from
// tests/support/pg_database.hpp): connecting, every type through a real table in both
// directions (checked against what the server itself says it stored), narrowing, decoding
// strictness, error mapping, transactions and savepoints, the statement cache and re-preparing,
// the pooler mode without server-side statements, changes(), and a backend killed under us.
#include "support/expect_throw.hpp"
#include "support/pg_database.hpp"
#include "support/pg_scalar.hpp"

#include <tenantry/postgres.hpp>
#include <tenantry/tenantry.hpp>  // Database, connect()

#include <catch2/catch.hpp>

#include <libpq-fe.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <optional>
#include <string>
#include <vector>

using namespace tenantry;
using testdb::scalar;
using Catch::Matchers::Contains;
using PgConn = tenantry::pg::Connection;
using tenantry::pg::StatementScope;
using testdb::expect_throw;

namespace {

bool query_bool(PgConn& conn, const std::string& sql) {
  auto& st = conn.prepare(intern_sql(sql));
  StatementScope scope(st);
  REQUIRE(st.step());
  return st.column_bool(0);
}

std::string query_text(PgConn& conn, const std::string& sql) {
  auto& st = conn.prepare(intern_sql(sql));
  StatementScope scope(st);
  REQUIRE(st.step());
  return std::string(st.column_text(0));
}

/// One setting of the connection as libpq resolved it (after defaults and the conninfo).
std::string conninfo_value(PgConn& conn, std::string_view keyword) {
  PQconninfoOption* options = PQconninfo(conn.native());
  std::string value;
  for (const PQconninfoOption* o = options; o != nullptr && o->keyword != nullptr; ++o)
    if (keyword == o->keyword && o->val != nullptr) value = o->val;
  PQconninfoFree(options);
  return value;
}

std::string with_query(const std::string& url, const std::string& params) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + params;
}

std::string shortest(double v) {
  char buf[32];
  return std::string(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

Bytes bytes(std::initializer_list<int> values) {
  Bytes out;
  for (int v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

std::string hex(const Bytes& b) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (std::byte x : b) {
    out += digits[std::to_integer<int>(x) >> 4];
    out += digits[std::to_integer<int>(x) & 0xF];
  }
  return out;
}

/// A row of the `everything` table: one column of each type the library maps, all nullable.
struct Everything {
  std::int32_t id = 0;
  std::optional<std::int16_t> s;
  std::optional<std::int32_t> i;
  std::optional<std::int64_t> b;
  std::optional<double> d;
  std::optional<float> r;
  std::optional<bool> flag;
  std::optional<std::string> t, v;
  std::optional<Json> j;
  std::optional<Bytes> blob;
  std::optional<Uuid> u;
  std::optional<Timestamp> ts;
};

/// Every field as text, so a mismatch shows which field differs and how.
std::string describe(const Everything& e) {
  std::string out = "id=" + std::to_string(e.id);
  const auto field = [&](const char* name, bool has, const std::string& text) {
    out += std::string(" ") + name + "=" + (has ? text : "NULL");
  };
  field("s", e.s.has_value(), e.s ? std::to_string(*e.s) : "");
  field("i", e.i.has_value(), e.i ? std::to_string(*e.i) : "");
  field("b", e.b.has_value(), e.b ? std::to_string(*e.b) : "");
  field("d", e.d.has_value(), e.d ? shortest(*e.d) : "");
  field("r", e.r.has_value(), e.r ? shortest(*e.r) : "");
  field("flag", e.flag.has_value(), e.flag ? (*e.flag ? "true" : "false") : "");
  field("t", e.t.has_value(), e.t ? "'" + *e.t + "'" : "");
  field("v", e.v.has_value(), e.v ? "'" + *e.v + "'" : "");
  field("j", e.j.has_value(), e.j ? e.j->text : "");
  field("blob", e.blob.has_value(), e.blob ? "x" + hex(*e.blob) : "");
  field("u", e.u.has_value(), e.u ? e.u->to_string() : "");
  field("ts", e.ts.has_value(), e.ts ? e.ts->to_iso() : "");
  return out;
}

const char* everything_ddl =
    "CREATE TABLE everything (id integer PRIMARY KEY, s smallint, i integer, b bigint, d double precision,"
    " r real, flag boolean, t text, v varchar(255), j jsonb, blob bytea, u uuid, ts timestamptz)";

void insert(PgConn& conn, const Everything& e) {
  static const Sql sql = intern_sql(
      "INSERT INTO everything (id, s, i, b, d, r, flag, t, v, j, blob, u, ts)"
      " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)");
  auto& st = conn.prepare(sql);
  StatementScope scope(st);
  int p = 1;
  bind_value(st, p++, e.id);
  bind_value(st, p++, e.s);
  bind_value(st, p++, e.i);
  bind_value(st, p++, e.b);
  bind_value(st, p++, e.d);
  bind_value(st, p++, e.r);
  bind_value(st, p++, e.flag);
  bind_value(st, p++, e.t);
  bind_value(st, p++, e.v);
  bind_value(st, p++, e.j);
  bind_value(st, p++, e.blob);
  bind_value(st, p++, e.u);
  bind_value(st, p++, e.ts);
  CHECK_FALSE(st.step());
  CHECK(st.changes() == 1);
}

Everything select(PgConn& conn, std::int32_t id) {
  static const Sql sql =
      intern_sql("SELECT id, s, i, b, d, r, flag, t, v, j, blob, u, ts FROM everything WHERE id = $1");
  auto& st = conn.prepare(sql);
  StatementScope scope(st);
  st.bind_int(1, id);
  REQUIRE(st.step());
  REQUIRE(st.column_count() == 13);
  Everything e;
  int c = 0;
  read_value(st, c++, e.id);
  read_value(st, c++, e.s);
  read_value(st, c++, e.i);
  read_value(st, c++, e.b);
  read_value(st, c++, e.d);
  read_value(st, c++, e.r);
  read_value(st, c++, e.flag);
  read_value(st, c++, e.t);
  read_value(st, c++, e.v);
  read_value(st, c++, e.j);
  read_value(st, c++, e.blob);
  read_value(st, c++, e.u);
  read_value(st, c++, e.ts);
  CHECK_FALSE(st.step());
  return e;
}

/// What the server says it stored, in its own text forms; NULL as "NULL".
std::string stored(PgConn& conn, std::int32_t id) {
  return query_text(
      conn,
      "SELECT concat_ws(' ', 'id=' || id, 's=' || coalesce(s::text, 'NULL'), 'i=' || coalesce(i::text, 'NULL'),"
      " 'b=' || coalesce(b::text, 'NULL'), 'flag=' || coalesce(flag::text, 'NULL'),"
      " 't=' || coalesce('x' || encode(convert_to(t, 'UTF8'), 'hex'), 'NULL'),"
      " 'v=' || coalesce('x' || encode(convert_to(v, 'UTF8'), 'hex'), 'NULL'),"
      " 'j=' || coalesce(j::text, 'NULL'), 'blob=' || coalesce('x' || encode(blob, 'hex'), 'NULL'),"
      " 'u=' || coalesce(u::text, 'NULL'),"
      " 'ts=' || coalesce(to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), 'NULL'))"
      " FROM everything WHERE id = " +
          std::to_string(id));
}

/// describe() without d and r (the server prints floats its own way) and with text in hex, to
/// compare with stored().
std::string expected_stored(const Everything& e) {
  const auto quoted = [](const std::string& s) { return "x" + hex(Bytes(reinterpret_cast<const std::byte*>(s.data()),
                                                                        reinterpret_cast<const std::byte*>(s.data()) + s.size())); };
  std::string out = "id=" + std::to_string(e.id);
  out += " s=" + (e.s ? std::to_string(*e.s) : "NULL");
  out += " i=" + (e.i ? std::to_string(*e.i) : "NULL");
  out += " b=" + (e.b ? std::to_string(*e.b) : "NULL");
  out += " flag=" + (e.flag ? std::string(*e.flag ? "true" : "false") : "NULL");
  out += " t=" + (e.t ? quoted(*e.t) : "NULL");
  out += " v=" + (e.v ? quoted(*e.v) : "NULL");
  out += " j=" + (e.j ? e.j->text : "NULL");
  out += " blob=" + (e.blob ? "x" + hex(*e.blob) : "NULL");
  out += " u=" + (e.u ? e.u->to_string() : "NULL");
  out += " ts=" + (e.ts ? e.ts->to_iso() : "NULL");
  return out;
}

void terminate_backend(PgConn& killer, std::int64_t pid) {
  // The timeout makes pg_terminate_backend wait until the backend has exited.
  auto& st = killer.prepare(intern_sql("SELECT pg_terminate_backend($1, 5000)"));
  StatementScope scope(st);
  st.bind_int(1, pid);
  REQUIRE(st.step());
  REQUIRE(st.column_bool(0));
}

}  // namespace

// ---- connecting --------------------------------------------------------------------------------

TEST_CASE("pg driver: connects with a URL and with a keyword string", "[pg][driver]") {
  const std::string url = tenantry_test::pg_url();
  PgConn conn{url};
  const std::string db = query_text(conn, "SELECT current_database()::text");
  CHECK(db.starts_with("tenantry_test_"));
  CHECK_FALSE(conn.in_transaction());

  // What the driver sets unless the conninfo says otherwise (TENANTRY_PG_URL may say otherwise).
  const auto url_sets = [&](const char* keyword) { return url.find(keyword) != std::string::npos; };
  CHECK(query_text(conn, "SELECT current_setting('client_encoding')") == "UTF8");
  if (!url_sets("application_name"))
    CHECK(query_text(conn, "SELECT current_setting('application_name')") == "tenantry");
  if (!url_sets("connect_timeout")) CHECK(conninfo_value(conn, "connect_timeout") == "10");
  if (!url_sets("keepalives")) {
    CHECK(conninfo_value(conn, "keepalives") == "1");
    CHECK(conninfo_value(conn, "keepalives_idle") == "30");
  }

  SECTION("a keyword string") {
    const std::string keywords = std::string("host=") + PQhost(conn.native()) + " port=" + PQport(conn.native()) +
                                 " user=" + PQuser(conn.native()) + " dbname=" + db;
    PgConn other{keywords};
    CHECK(query_text(other, "SELECT current_database()::text") == db);
  }
  SECTION("options, and the conninfo overriding them") {
    pg::Options options;
    options.connect_timeout_s = 3;
    PgConn with_options{url, options};
    if (!url_sets("connect_timeout")) CHECK(conninfo_value(with_options, "connect_timeout") == "3");
    PgConn overridden{with_query(url, "connect_timeout=4&application_name=mine&keepalives_idle=7"), options};
    CHECK(conninfo_value(overridden, "connect_timeout") == "4");
    CHECK(conninfo_value(overridden, "keepalives_idle") == "7");
    CHECK(query_text(overridden, "SELECT current_setting('application_name')") == "mine");
    // client_encoding is not negotiable: the driver reads and writes UTF-8.
    PgConn latin{with_query(url, "client_encoding=LATIN1")};
    CHECK(query_text(latin, "SELECT current_setting('client_encoding')") == "UTF8");
  }
  SECTION("through tenantry::connect and Database") {
    Database db_any = connect(url);
    REQUIRE(db_any.is_postgres());
    db_any.execute("CREATE TABLE via_database (x integer)");
    {
      auto tx = db_any.transaction();
      CHECK(db_any.in_transaction());
      db_any.execute("INSERT INTO via_database VALUES (1)");
      tx.commit();
    }
    CHECK(scalar(conn, "SELECT count(*) FROM via_database") == 1);
  }
}

TEST_CASE("pg driver: a bad conninfo or an unreachable server is a quick ConnectionError", "[pg][driver]") {
  using namespace std::chrono;
  const auto refused = [](const std::string& conninfo, pg::Options options = {}) {
    const auto start = steady_clock::now();
    const auto e = expect_throw<ConnectionError>([&] { PgConn c{conninfo, options}; });
    CHECK(steady_clock::now() - start < seconds(6));
    CHECK(e.code() == "08001");
    CHECK_THAT(e.what(), Contains("tenantry: postgres: cannot connect"));
    return std::string(e.what());
  };
  CHECK_THAT(refused("postgresql://127.0.0.1:1/nothing"), Contains("127.0.0.1") && Contains("refused"));
  CHECK_THAT(refused("postgresql://127.0.0.1:notaport/db"), Contains("notaport"));
  CHECK_THAT(refused("postgresql://127.0.0.1/db?no_such_setting=1"), Contains("no_such_setting"));
  CHECK_THAT(refused("postgres://127.0.0.1:1/nothing"), Contains("refused"));
  CHECK_THAT(refused("this is not = a conninfo"), Contains("this"));
  CHECK_THAT(refused("host=127.0.0.1 port=1 dbname=x"), Contains("refused"));

  // A host that never answers (TEST-NET-1): bounded by connect_timeout, not by TCP's minutes.
  pg::Options impatient;
  impatient.connect_timeout_s = 2;
  refused("postgresql://192.0.2.1:5432/nothing", impatient);

  // The server is there, the database is not.
  PgConn conn{tenantry_test::pg_url()};
  const std::string missing = std::string("host=") + PQhost(conn.native()) + " port=" + PQport(conn.native()) +
                              " user=" + PQuser(conn.native()) + " dbname=tenantry_no_such_database";
  CHECK_THAT(refused(missing), Contains("tenantry_no_such_database"));
}

// ---- values ------------------------------------------------------------------------------------

TEST_CASE("pg driver: every type round-trips through a real table", "[pg][driver][types]") {
  PgConn conn{tenantry_test::pg_url()};
  conn.execute(everything_ddl);

  std::vector<Everything> rows;
  {
    Everything low;
    low.id = 1;
    low.s = std::numeric_limits<std::int16_t>::min();
    low.i = std::numeric_limits<std::int32_t>::min();
    low.b = std::numeric_limits<std::int64_t>::min();
    low.d = -1.7976931348623157e308;
    low.r = -3.5f;
    low.flag = false;
    low.t = "";
    low.v = "";
    low.j = Json{"[]"};
    low.blob = Bytes{};
    low.u = Uuid{};
    low.ts = Timestamp{Timestamp::min_micros};  // 0001-01-01T00:00:00.000000Z
    rows.push_back(low);
  }
  {
    Everything high;
    high.id = 2;
    high.s = std::numeric_limits<std::int16_t>::max();
    high.i = std::numeric_limits<std::int32_t>::max();
    high.b = std::numeric_limits<std::int64_t>::max();
    high.d = 0.1;
    high.r = std::numeric_limits<float>::max();
    high.flag = true;
    high.t = "h\xC3\xA9llo \xE2\x9C\x93 'single' \"double\" \\back\\ \t\n";
    high.v = std::string(255, 'v');
    high.j = Json{R"({"a": null, "b": [1, 2.5, "x"], "c": {"d": true}})"};
    high.blob = bytes({0x00, 0xFF, 0x00, 0x7F, 0x80, 0x00});
    high.u = Uuid::parse("ffffffff-ffff-ffff-ffff-ffffffffffff");
    high.ts = Timestamp{Timestamp::max_micros};  // 9999-12-31T23:59:59.999999Z
    rows.push_back(high);
  }
  {
    Everything mid;
    mid.id = 3;
    mid.s = 0;
    mid.i = -1;
    mid.b = 1234567890123LL;
    mid.d = std::numeric_limits<double>::denorm_min();
    mid.r = 1e-3f;
    mid.flag = true;
    mid.t = std::string(100000, 'x');  // larger than any small buffer
    mid.v = "x";
    mid.j = Json{R"("just a string")"};
    mid.blob = bytes({0x00});
    mid.u = Uuid::random();
    mid.ts = Timestamp{-1};  // 1969-12-31T23:59:59.999999Z: before the epoch, not rounded to it
    rows.push_back(mid);
  }
  {
    Everything now;
    now.id = 4;
    now.b = -1;
    now.d = -0.0;
    now.r = 0.0f;
    now.u = Uuid::time_ordered();
    now.ts = Timestamp::now();  // microseconds
    now.j = Json{"{}"};
    rows.push_back(now);
  }
  {
    Everything micro;
    micro.id = 5;
    micro.ts = Timestamp{1234567};  // 1970-01-01T00:00:01.234567Z
    micro.t = "1";
    rows.push_back(micro);
  }
  {
    Everything nothing;  // every column NULL but the key
    nothing.id = 6;
    rows.push_back(nothing);
  }

  for (const Everything& row : rows) insert(conn, row);
  for (const Everything& row : rows) {
    INFO("row " << row.id);
    CHECK(describe(select(conn, row.id)) == describe(row));
    // Not only symmetric: the server stored the values the C++ side meant.
    CHECK(stored(conn, row.id) == expected_stored(row));
  }
  // Floats as the server has them.
  CHECK(query_text(conn, "SELECT d::text FROM everything WHERE id = 2") == "0.1");
  CHECK(query_text(conn, "SELECT r::text FROM everything WHERE id = 1") == "-3.5");
  CHECK(scalar(conn, "SELECT length(t) FROM everything WHERE id = 3") == 100000);

  SECTION("jsonb comes back in the server's normal form") {
    conn.execute("UPDATE everything SET j = '{\"b\":[1,2],   \"a\":null}' WHERE id = 1");
    CHECK(select(conn, 1).j->text == R"({"a": null, "b": [1, 2]})");
  }
  SECTION("NULLs read as NULL, as empty text and blobs, and refuse other reads") {
    auto& st = conn.prepare(intern_sql("SELECT s, t, blob, u, ts FROM everything WHERE id = 6"));
    StatementScope scope(st);
    REQUIRE(st.step());
    for (int c = 0; c < 5; ++c) CHECK(st.column_is_null(c));
    CHECK(st.column_text(1).empty());
    CHECK(st.column_blob(2).empty());
    CHECK_THAT(expect_throw<ValueError>([&] { st.column_int(0); }).what(), Contains("'s' is NULL"));
    expect_throw<ValueError>([&] { st.column_uuid(3); });
    expect_throw<ValueError>([&] { st.column_timestamp(4); });
    std::int16_t not_optional = 0;
    expect_throw<ValueError>([&] { read_value(st, 0, not_optional); });
  }
}

TEST_CASE("pg driver: values bound to other column types are converted", "[pg][driver][types]") {
  PgConn conn{tenantry_test::pg_url()};
  conn.execute(
      "CREATE TABLE mixed (k integer PRIMARY KEY, n numeric, t text, i integer, dt date, tn timestamp,"
      " f real, d double precision, u uuid, j jsonb, js json, c char(3), flag boolean, tz timestamptz)");
  const Sql insert_sql = intern_sql(
      "INSERT INTO mixed (k, n, t, i, dt, tn, f, d, u, j, js, c, flag, tz)"
      " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)");
  auto& ins = conn.prepare(insert_sql);
  // The types the server inferred from the SQL, described once when prepared.
  const std::vector<Oid> inferred(ins.param_types().begin(), ins.param_types().end());
  CHECK(inferred == std::vector<Oid>{pg::oid::int4, pg::oid::numeric, pg::oid::text, pg::oid::int4, pg::oid::date,
                                     pg::oid::timestamp, pg::oid::float4, pg::oid::float8, pg::oid::uuid,
                                     pg::oid::jsonb, pg::oid::json, pg::oid::bpchar, pg::oid::boolean,
                                     pg::oid::timestamptz});
  CHECK(ins.column_count() == 0);

  const Uuid u = Uuid::random();
  const std::string u_text = u.to_string();  // bound text is read at step(): it must outlive the binding
  const Timestamp at = Timestamp::parse("2024-05-01T12:30:45.123456Z");
  const auto run_insert = [&](auto&& bind) {
    StatementScope scope(ins);
    bind(ins);
    CHECK_FALSE(ins.step());
  };

  SECTION("numbers, uuids, timestamps and booleans into text, numeric and other types") {
    run_insert([&](pg::Statement& st) {
      st.bind_int(1, 1);
      st.bind_int(2, -12345678901234LL);  // into numeric: decimal text
      st.bind_uuid(3, u);                 // into text: canonical text
      st.bind_bool(4, true);              // into integer: 1
      st.bind_timestamp(5, at);           // into date: the server takes the date part
      st.bind_timestamp(6, at);           // into timestamp without time zone: UTC
      st.bind_int(7, 3);                  // into real
      st.bind_int(8, -7);                 // into double precision
      st.bind_text(9, u_text);            // text into uuid: parsed by the server
      st.bind_text(10, R"({"k": [1]})");  // text into jsonb
      st.bind_json(11, R"({"k":  2})");   // json is kept as written
      st.bind_text(12, "ab");             // char(3) pads
      st.bind_text(13, "yes");            // parsed by boolin
      st.bind_text(14, "2024-05-01 14:30:45.123456+02");
    });
    CHECK(query_text(conn, "SELECT n::text FROM mixed") == "-12345678901234");
    CHECK(query_text(conn, "SELECT t FROM mixed") == u.to_string());
    CHECK(scalar(conn, "SELECT i FROM mixed") == 1);
    CHECK(query_text(conn, "SELECT dt::text FROM mixed") == "2024-05-01");
    CHECK(query_text(conn, "SELECT to_char(tn, 'YYYY-MM-DD HH24:MI:SS.US') FROM mixed") ==
          "2024-05-01 12:30:45.123456");
    CHECK(query_text(conn, "SELECT f::text || ' ' || d::text FROM mixed") == "3 -7");
    CHECK(query_text(conn, "SELECT u::text FROM mixed") == u.to_string());
    CHECK(query_text(conn, "SELECT j::text FROM mixed") == R"({"k": [1]})");
    CHECK(query_text(conn, "SELECT js::text FROM mixed") == R"({"k":  2})");
    CHECK(query_text(conn, "SELECT c || '|' FROM mixed") == "ab|");  // concatenation drops char's padding
    CHECK(query_text(conn, "SELECT flag::text FROM mixed") == "true");
    CHECK(query_bool(conn, "SELECT tz = '2024-05-01T12:30:45.123456Z' FROM mixed"));

    // Reading them back through the driver's decoders.
    auto& st = conn.prepare(intern_sql("SELECT n, t, i, dt, tn, f, d, u, j, js, c, flag, tz FROM mixed"));
    StatementScope scope(st);
    REQUIRE(st.step());
    CHECK(st.column_int(0) == -12345678901234LL);  // an integral numeric reads as an integer
    CHECK(st.column_double(0) == -12345678901234.0);
    CHECK(st.column_uuid(1) == u);  // uuid text in a text column
    CHECK(st.column_bool(2));       // integer 1
    CHECK(st.column_timestamp(3) == Timestamp::parse("2024-05-01"));
    CHECK(st.column_timestamp(4) == at);
    CHECK(st.column_double(5) == 3.0);
    CHECK(st.column_double(6) == -7.0);
    CHECK(st.column_uuid(7) == u);
    CHECK(st.column_text(8) == R"({"k": [1]})");
    CHECK(st.column_text(9) == R"({"k":  2})");
    CHECK(st.column_text(10) == "ab ");
    CHECK(st.column_bool(11));
    CHECK(st.column_timestamp(12) == at);
  }
  SECTION("the other way round: timestamps and ints as text, doubles into numeric, blobs as raw values") {
    run_insert([&](pg::Statement& st) {
      st.bind_int(1, 2);
      st.bind_double(2, 2.5);
      st.bind_timestamp(3, at);  // into text: ISO
      st.bind_text(4, "-42");    // text into integer: parsed by the server
      st.bind_null(5);
      st.bind_null(6);
      st.bind_double(7, 0.25);
      st.bind_bool(8, true);  // into double precision
      static Bytes raw;  // outlives the binding
      raw.resize(u.bytes.size());
      for (std::size_t k = 0; k < raw.size(); ++k) raw[k] = static_cast<std::byte>(u.bytes[k]);
      st.bind_blob(9, raw);  // 16 raw bytes: the uuid's binary form
      st.bind_json(10, "[true]");
      st.bind_int(11, 5);  // into json: the number 5
      st.bind_int(12, 123);
      st.bind_int(13, 1);  // into boolean: 0 or 1 only
      st.bind_null(14);
    });
    CHECK(query_text(conn, "SELECT n::text FROM mixed") == "2.5");
    CHECK(query_text(conn, "SELECT t FROM mixed") == at.to_iso());
    CHECK(scalar(conn, "SELECT i FROM mixed") == -42);
    CHECK(query_text(conn, "SELECT d::text FROM mixed") == "1");
    CHECK(query_text(conn, "SELECT u::text FROM mixed") == u.to_string());
    CHECK(query_text(conn, "SELECT j::text || js::text || c FROM mixed") == "[true]5123");
    CHECK(query_text(conn, "SELECT flag::text FROM mixed") == "true");

    auto& st = conn.prepare(intern_sql("SELECT n, t, dt FROM mixed"));
    StatementScope scope(st);
    REQUIRE(st.step());
    CHECK(st.column_double(0) == 2.5);
    CHECK_THAT(expect_throw<ValueError>([&] { st.column_int(0); }).what(), Contains("fraction"));
    CHECK(st.column_timestamp(1) == at);  // ISO text in a text column
    CHECK(st.column_is_null(2));
  }
  SECTION("special doubles and big numerics") {
    auto& st = conn.prepare(intern_sql(
        "SELECT $1::numeric, $2::numeric, $3::numeric, 1e30::numeric, (-9223372036854775808)::numeric,"
        " 9223372036854775808::numeric, 'NaN'::numeric, 0.000001::numeric, sum(g) FROM generate_series(1, 100000) g"));
    StatementScope scope(st);
    st.bind_double(1, std::numeric_limits<double>::quiet_NaN());
    st.bind_double(2, std::numeric_limits<double>::infinity());
    st.bind_double(3, -1e-7);
    REQUIRE(st.step());
    CHECK_THAT(expect_throw<ValueError>([&] { st.column_double(0); }).what(), Contains("NaN"));
    expect_throw<ValueError>([&] { st.column_double(1); });
    CHECK(st.column_double(2) == -1e-7);
    CHECK(st.column_double(3) == 1e30);
    CHECK_THAT(expect_throw<ValueError>([&] { st.column_int(3); }).what(), Contains("64 bits"));
    CHECK(st.column_int(4) == std::numeric_limits<std::int64_t>::min());
    expect_throw<ValueError>([&] { st.column_int(5); });
    expect_throw<ValueError>([&] { st.column_int(6); });
    CHECK(st.column_double(7) == 0.000001);
    CHECK(st.column_int(8) == 5000050000LL);  // sum() of integers is a numeric
  }
  SECTION("text with a NUL byte") {
    using namespace std::string_view_literals;
    auto& st = conn.prepare(intern_sql("SELECT $1::numeric, $2::text"));
    StatementScope scope(st);
    CHECK_THAT(expect_throw<ValueError>([&] { st.bind_text(1, "1\0002"sv); }).what(), Contains("NUL"));
    st.bind_text(1, "12");
    // A NUL inside a text value is refused before anything is sent, so an open
    // transaction is not aborted by the server's 22021 error.
    CHECK_THAT(expect_throw<ValueError>([&] { st.bind_text(2, "a\0b"sv); }).what(),
               Contains("$2") && Contains("NUL"));
    st.bind_text(2, "ab");
    REQUIRE(st.step());
    CHECK(st.column_text(1) == "ab");
  }
}

TEST_CASE("pg driver: values that do not fit are ValueErrors before anything is sent", "[pg][driver][types]") {
  PgConn conn{tenantry_test::pg_url()};
  conn.execute("CREATE TABLE narrow (s smallint, i integer, r real, flag boolean, o oid)");
  auto& st = conn.prepare(intern_sql("INSERT INTO narrow (s, i, r, flag, o) VALUES ($1, $2, $3, $4, $5)"));
  StatementScope scope(st);

  CHECK_THAT(expect_throw<ValueError>([&] { st.bind_int(1, 32768); }).what(),
             Contains("32768") && Contains("$1") && Contains("smallint"));
  expect_throw<ValueError>([&] { st.bind_int(1, -32769); });
  expect_throw<ValueError>([&] { st.bind_int(2, 2147483648LL); });
  expect_throw<ValueError>([&] { st.bind_int(2, -2147483649LL); });
  expect_throw<ValueError>([&] { st.bind_double(3, 1e39); });
  expect_throw<ValueError>([&] { st.bind_int(4, 2); });
  expect_throw<ValueError>([&] { st.bind_int(5, -1); });
  expect_throw<ValueError>([&] { st.bind_timestamp(1, Timestamp{Timestamp::max_micros + 1}); });
  expect_throw<ValueError>([&] { st.bind_timestamp(1, Timestamp{Timestamp::min_micros - 1}); });
  expect_throw<ValueError>([&] { bind_value(st, 2, std::numeric_limits<std::uint64_t>::max()); });
  CHECK_THAT(expect_throw<UsageError>([&] { st.bind_int(6, 1); }).what(), Contains("has 5"));
  expect_throw<UsageError>([&] { st.bind_int(0, 1); });

  // The statement is still usable, with the values at the edges of each type.
  st.bind_int(1, -32768);
  st.bind_int(2, 2147483647);
  st.bind_double(3, std::numeric_limits<double>::infinity());
  st.bind_int(4, 0);
  st.bind_int(5, 4294967295LL);
  CHECK_FALSE(st.step());
  CHECK(query_text(conn, "SELECT concat_ws(' ', s, i, r, flag, o) FROM narrow") ==
        "-32768 2147483647 Infinity f 4294967295");

  // Reading into a narrower field is checked too.
  auto& read = conn.prepare(intern_sql("SELECT 300::smallint"));
  StatementScope read_scope(read);
  REQUIRE(read.step());
  std::int8_t small = 0;
  expect_throw<ValueError>([&] { read_value(read, 0, small); });
}

TEST_CASE("pg driver: reads are strict about column types", "[pg][driver][types]") {
  PgConn conn{tenantry_test::pg_url()};
  auto& st = conn.prepare(intern_sql(
      "SELECT 'text' AS label, 42 AS answer, interval '1 day' AS span, 'infinity'::timestamptz AS forever,"
      " '10000-01-01'::timestamptz AS far, 2 AS two, 'not a uuid' AS bad_uuid, true AS yes, 1.5::float8 AS real,"
      " '\\x0102'::bytea AS raw, 'x'::name AS n, '{\"a\":1}'::jsonb AS doc"));
  CHECK(st.column_count() == 12);  // described when prepared
  StatementScope scope(st);
  CHECK_THAT(expect_throw<UsageError>([&] { st.column_int(0); }).what(), Contains("step()"));
  REQUIRE(st.step());
  CHECK_THAT(expect_throw<ValueError>([&] { st.column_int(0); }).what(),
             Contains("'label'") && Contains("text") && Contains("integer"));
  CHECK_THAT(expect_throw<ValueError>([&] { st.column_text(1); }).what(), Contains("'answer'") && Contains("::text"));
  CHECK_THAT(expect_throw<ValueError>([&] { st.column_text(2); }).what(), Contains("interval"));
  expect_throw<ValueError>([&] { st.column_int(2); });
  expect_throw<ValueError>([&] { st.column_timestamp(3); });
  expect_throw<ValueError>([&] { st.column_timestamp(4); });
  CHECK_THAT(expect_throw<ValueError>([&] { st.column_bool(5); }).what(), Contains("not 0 or 1"));
  expect_throw<ValueError>([&] { st.column_uuid(6); });
  expect_throw<ValueError>([&] { st.column_int(7); });
  CHECK(st.column_bool(7));
  expect_throw<ValueError>([&] { st.column_int(8); });
  CHECK(st.column_double(8) == 1.5);
  CHECK(st.column_double(1) == 42.0);  // integers read as doubles, as in SQLite
  CHECK(st.column_blob(9).size() == 2);
  expect_throw<ValueError>([&] { st.column_blob(1); });
  CHECK(st.column_text(10) == "x");
  CHECK(st.column_text(11) == R"({"a": 1})");
  CHECK(st.column_timestamp(5) == Timestamp{2000000});  // integers are unix seconds, as in SQLite
  expect_throw<UsageError>([&] { st.column_int(12); });
  expect_throw<UsageError>([&] { st.column_is_null(-1); });
  CHECK_FALSE(st.step());
  CHECK_FALSE(st.step());  // stays done until reset()
  expect_throw<UsageError>([&] { st.column_int(1); });
}

// ---- errors ------------------------------------------------------------------------------------

TEST_CASE("pg driver: constraint violations name their table and constraint", "[pg][driver][errors]") {
  PgConn conn{tenantry_test::pg_url()};
  conn.execute(
      "CREATE TABLE parents (id integer CONSTRAINT pk_parents PRIMARY KEY,"
      " email text CONSTRAINT uq_parents_email UNIQUE, age integer CONSTRAINT ck_parents_age CHECK (age >= 0),"
      " name text NOT NULL);"
      "CREATE TABLE children (id integer PRIMARY KEY,"
      " parent_id integer CONSTRAINT fk_children_parent REFERENCES parents (id));"
      "INSERT INTO parents VALUES (1, 'a@example.com', 30, 'A');"
      "INSERT INTO children VALUES (1, 1);");
  auto& ins = conn.prepare(intern_sql("INSERT INTO parents (id, email, age, name) VALUES ($1, $2, $3, $4)"));
  const auto insert_parent = [&](std::int64_t id, const char* email, std::int64_t age, const char* name) {
    StatementScope scope(ins);
    ins.bind_int(1, id);
    ins.bind_text(2, email);
    ins.bind_int(3, age);
    if (name != nullptr) ins.bind_text(4, name);
    else ins.bind_null(4);
    ins.step();
  };

  SECTION("unique") {
    const auto e = expect_throw<UniqueViolation>([&] { insert_parent(2, "a@example.com", 1, "B"); });
    CHECK(e.code() == "23505");
    CHECK(e.table() == "parents");
    CHECK(e.constraint() == "uq_parents_email");
    CHECK_THAT(e.what(), Contains("uq_parents_email") && Contains("DETAIL: Key (email)=(a@example.com)") &&
                             Contains("while executing: INSERT INTO parents"));
    const auto pk = expect_throw<UniqueViolation>([&] { insert_parent(1, "b@example.com", 1, "B"); });
    CHECK(pk.constraint() == "pk_parents");
  }
  SECTION("foreign key, both ways") {
    auto& child = conn.prepare(intern_sql("INSERT INTO children (id, parent_id) VALUES ($1, $2)"));
    StatementScope scope(child);
    child.bind_int(1, 2);
    child.bind_int(2, 99);
    const auto e = expect_throw<ForeignKeyViolation>([&] { child.step(); });
    CHECK(e.code() == "23503");
    CHECK(e.table() == "children");
    CHECK(e.constraint() == "fk_children_parent");
    const auto del = expect_throw<ForeignKeyViolation>([&] { conn.execute("DELETE FROM parents WHERE id = 1"); });
    CHECK(del.constraint() == "fk_children_parent");
    CHECK_FALSE(del.table().empty());
  }
  SECTION("check") {
    const auto e = expect_throw<CheckViolation>([&] { insert_parent(3, "c@example.com", -1, "C"); });
    CHECK(e.code() == "23514");
    CHECK(e.table() == "parents");
    CHECK(e.constraint() == "ck_parents_age");
  }
  SECTION("not null") {
    const auto e = expect_throw<NotNullViolation>([&] { insert_parent(4, "d@example.com", 1, nullptr); });
    CHECK(e.code() == "23502");
    CHECK(e.table() == "parents");
    CHECK(e.columns() == std::vector<std::string>{"name"});
  }
  SECTION("other constraints are ConstraintViolations") {
    conn.execute("CREATE EXTENSION IF NOT EXISTS btree_gist");
    conn.execute("CREATE TABLE slots (r int4range, CONSTRAINT ex_slots EXCLUDE USING gist (r WITH &&))");
    conn.execute("INSERT INTO slots VALUES ('[1,5)')");
    const auto e =
        expect_throw<ConstraintViolation>([&] { conn.execute("INSERT INTO slots VALUES ('[3,7)')"); });
    CHECK(e.code() == "23P01");
    CHECK(e.constraint() == "ex_slots");
  }
  // The connection is fine afterwards (no transaction was open).
  CHECK(scalar(conn, "SELECT count(*) FROM parents") == 1);
}

TEST_CASE("pg driver: other errors carry their SQLSTATE", "[pg][driver][errors]") {
  const std::string url = tenantry_test::pg_url();
  PgConn conn{url};
  conn.execute("CREATE TABLE locked (x integer)");

  const auto syntax = expect_throw<DatabaseError>([&] { conn.prepare(intern_sql("SELEC 1")); });
  CHECK(syntax.code() == "42601");
  CHECK_THAT(syntax.what(), Contains("syntax error") && Contains("SELEC 1"));
  CHECK(expect_throw<DatabaseError>([&] { conn.prepare(intern_sql("SELECT * FROM no_such_table")); }).code() ==
        "42P01");
  // The failed prepare left nothing behind; a later prepare of the same text tries again.
  CHECK(expect_throw<DatabaseError>([&] { conn.prepare(intern_sql("SELEC 1")); }).code() == "42601");

  auto& divide = conn.prepare(intern_sql("SELECT 1 / $1"));
  {
    StatementScope scope(divide);
    divide.bind_int(1, 0);
    CHECK(expect_throw<DatabaseError>([&] { divide.step(); }).code() == "22012");
  }
  {
    StatementScope scope(divide);
    divide.bind_int(1, 1);
    REQUIRE(divide.step());
    CHECK(divide.column_int(0) == 1);
  }

  SECTION("lock timeout: a BusyError") {
    PgConn holder{url};
    auto hold = holder.transaction();
    holder.execute("LOCK TABLE locked IN ACCESS EXCLUSIVE MODE");
    conn.execute("SET lock_timeout = '100ms'");
    const auto e = expect_throw<BusyError>([&] { conn.execute("SELECT * FROM locked"); });
    CHECK(e.code() == "55P03");
  }
  SECTION("statement timeout") {
    conn.execute("SET statement_timeout = '50ms'");
    const auto e = expect_throw<DatabaseError>([&] { conn.execute("SELECT pg_sleep(5)"); });
    CHECK(e.code() == "57014");
    conn.execute("RESET statement_timeout");
  }
  CHECK(scalar(conn, "SELECT 5") == 5);
}

// ---- transactions ------------------------------------------------------------------------------

TEST_CASE("pg driver: transactions and nested savepoints", "[pg][driver][transaction]") {
  const std::string url = tenantry_test::pg_url();
  PgConn conn{url};
  PgConn observer{url};
  conn.execute("CREATE TABLE items (id integer CONSTRAINT pk_items PRIMARY KEY)");
  auto& ins = conn.prepare(intern_sql("INSERT INTO items (id) VALUES ($1)"));
  const auto add = [&](std::int64_t id) {
    StatementScope scope(ins);
    ins.bind_int(1, id);
    ins.step();
  };
  const auto ids = [&](PgConn& c) {
    std::vector<std::int64_t> out;
    auto& st = c.prepare(intern_sql("SELECT id FROM items ORDER BY id"));
    StatementScope scope(st);
    while (st.step()) out.push_back(st.column_int(0));
    return out;
  };
  using Ids = std::vector<std::int64_t>;

  SECTION("commit makes rows visible to others; destruction rolls back") {
    {
      auto tx = conn.transaction();
      CHECK(conn.in_transaction());
      add(1);
      CHECK(ids(observer).empty());
      tx.commit();
      CHECK_FALSE(tx.active());
    }
    CHECK_FALSE(conn.in_transaction());
    CHECK(ids(observer) == Ids{1});
    {
      auto tx = conn.transaction();
      add(2);
    }
    CHECK(ids(observer) == Ids{1});
    {
      auto tx = conn.transaction();
      add(3);
      tx.rollback();
      CHECK_THROWS_AS(tx.commit(), UsageError);
    }
    CHECK(ids(conn) == Ids{1});
  }
  SECTION("nested scopes are savepoints") {
    {
      auto outer = conn.transaction();
      add(1);
      {
        auto middle = conn.transaction();
        add(2);
        {
          auto inner = conn.transaction();
          add(3);
          inner.rollback();  // only the innermost scope's row goes
        }
        CHECK(conn.in_transaction());
        middle.commit();
      }
      {
        auto committed_then_lost = conn.transaction();
        add(4);
        committed_then_lost.commit();
      }
      outer.commit();
    }
    CHECK(ids(observer) == Ids{1, 2, 4});
    {
      auto outer = conn.transaction();
      {
        auto inner = conn.transaction();
        add(5);
        inner.commit();
      }
    }  // the outer scope rolls back, and the committed inner scope with it
    CHECK(ids(observer) == Ids{1, 2, 4});
    // Many levels, opened and closed repeatedly.
    for (int round = 0; round < 3; ++round) {
      auto a = conn.transaction();
      auto b = conn.transaction();
      auto c = conn.transaction();
      add(10 + round);
      c.commit();
      b.commit();
      a.commit();
    }
    CHECK(ids(observer) == Ids{1, 2, 4, 10, 11, 12});
  }
  SECTION("an exception rolls back every scope it leaves") {
    try {
      auto outer = conn.transaction();
      add(1);
      auto inner = conn.transaction();
      add(2);
      throw std::runtime_error("boom");
    } catch (const std::runtime_error&) {
    }
    CHECK_FALSE(conn.in_transaction());
    CHECK(ids(observer).empty());
  }
  SECTION("a failed statement in an inner scope: roll the scope back and carry on") {
    auto outer = conn.transaction();
    add(1);
    try {
      auto inner = conn.transaction();
      add(2);
      add(1);  // duplicate
      inner.commit();
    } catch (const UniqueViolation& e) {
      CHECK(e.constraint() == "pk_items");
    }
    add(3);
    outer.commit();
    CHECK(ids(observer) == Ids{1, 3});
  }
  SECTION("committing an inner scope whose statement failed: the scope is undone, the outer goes on") {
    auto outer = conn.transaction();
    add(1);
    {
      auto inner = conn.transaction();
      add(2);
      CHECK_THROWS_AS(add(1), UniqueViolation);
      CHECK(expect_throw<DatabaseError>([&] { inner.commit(); }).code() == "25P02");
    }
    CHECK(conn.in_transaction());
    add(3);
    outer.commit();
    CHECK(ids(observer) == Ids{1, 3});
  }
  SECTION("committing after a failed statement reports the rollback") {
    {
      auto tx = conn.transaction();
      add(1);
      CHECK_THROWS_AS(add(1), UniqueViolation);
      const auto e = expect_throw<DatabaseError>([&] { tx.commit(); });
      CHECK(e.code() == "25P02");
      CHECK_THAT(e.what(), Contains("rolled the transaction back"));
    }
    CHECK_FALSE(conn.in_transaction());
    CHECK(ids(observer).empty());
    add(7);  // the connection is usable, in autocommit again
    CHECK(ids(observer) == Ids{7});
  }
  SECTION("a COMMIT that fails (deferred constraint) leaves the connection usable") {
    conn.execute(
        "CREATE TABLE dparent (id integer PRIMARY KEY);"
        "CREATE TABLE dchild (id integer PRIMARY KEY, parent integer CONSTRAINT fk_dchild_parent"
        " REFERENCES dparent (id) DEFERRABLE INITIALLY DEFERRED)");
    {
      auto tx = conn.transaction();
      conn.execute("INSERT INTO dchild VALUES (1, 99)");  // checked at COMMIT
      add(1);
      const auto e = expect_throw<ForeignKeyViolation>([&] { tx.commit(); });
      CHECK(e.constraint() == "fk_dchild_parent");
      CHECK_FALSE(conn.in_transaction());
    }
    CHECK(ids(observer).empty());
    auto tx = conn.transaction();
    add(2);
    tx.commit();
    CHECK(ids(observer) == Ids{2});
  }
  SECTION("misuse") {
    CHECK_THROWS_AS(conn.commit_scope(), UsageError);
    CHECK_THROWS_AS(conn.rollback_scope(), UsageError);
    auto tx = conn.transaction();
    auto moved = std::move(tx);
    CHECK_FALSE(tx.active());
    CHECK(moved.active());
    moved.commit();
    CHECK_FALSE(conn.in_transaction());
  }
}

// ---- the statement cache -----------------------------------------------------------------------

TEST_CASE("pg driver: statements are prepared once per connection and cached", "[pg][driver][cache]") {
  PgConn conn{tenantry_test::pg_url()};
  const Sql twice = intern_sql("SELECT $1::bigint * 2 AS doubled");
  auto& a = conn.prepare(twice);
  auto& b = conn.prepare(twice);
  CHECK(&a == &b);
  const std::string a_name = a.name();  // `a` itself dies with clear_statement_cache()
  // Named after the text (SHA-256 of "SELECT $1::bigint * 2 AS doubled", first 192 bits), not
  // after anything this process chose: every process gives this SQL this name.
  CHECK(a_name == "tenantry_4de2423d012ba1fa5804b6f0fd3198bd2a535774e5372165");
  CHECK(a_name == sql_statement_name(*twice.text));
  CHECK(a_name == *twice.name);
  CHECK(a_name.size() == 57);  // PostgreSQL keeps 63 bytes of a name
  const auto run = [&](std::int64_t v) {
    StatementScope scope(a);
    a.bind_int(1, v);
    REQUIRE(a.step());
    const std::int64_t out = a.column_int(0);
    CHECK_FALSE(a.step());
    return out;
  };
  CHECK(run(21) == 42);
  CHECK(run(-5) == -10);
  const auto prepared_named = [&](const std::string& name) {
    return scalar(conn, "SELECT count(*) FROM pg_prepared_statements WHERE name = '" + name + "'");
  };
  CHECK(prepared_named(a_name) == 1);

  SECTION("a statement the server forgot is prepared again") {
    conn.execute("DEALLOCATE " + a_name);
    CHECK(prepared_named(a_name) == 0);
    CHECK(run(4) == 8);
    CHECK(prepared_named(a_name) == 1);
    conn.execute("DISCARD ALL");
    CHECK(run(5) == 10);
  }
  SECTION("inside a transaction the failure stands, and the next use prepares again") {
    {
      auto tx = conn.transaction();
      conn.execute("DEALLOCATE " + a_name);
      StatementScope scope(a);
      a.bind_int(1, 1);
      CHECK(expect_throw<DatabaseError>([&] { a.step(); }).code() == "26000");
    }
    CHECK(run(6) == 12);
  }
  SECTION("a name taken on the session by other SQL is refused, and that SQL never runs") {
    conn.execute("CREATE TABLE victims (x integer); INSERT INTO victims VALUES (1), (2)");
    const Sql fresh = intern_sql("SELECT count(*) FROM victims WHERE x > $1 /* driver_test: name taken */");
    // Another client of the same server session (behind a pooler) holds our name for a DELETE.
    conn.execute("PREPARE " + *fresh.name + "(integer) AS DELETE FROM victims WHERE x > $1");
    const auto before = conn.statement_stats();
    const auto e = expect_throw<StatementNameCollision>([&] { conn.prepare(fresh); });
    CHECK(e.code() == "42P05");
    CHECK(e.name() == *fresh.name);
    CHECK_THAT(e.what(), Contains("DELETE FROM victims") && Contains("refusing to execute"));
    CHECK(conn.statement_stats().collisions == before.collisions + 1);
    // Refused every time, in a transaction too, which stays usable.
    {
      auto tx = conn.transaction();
      CHECK_THROWS_AS(conn.prepare(fresh), StatementNameCollision);
      CHECK(scalar(conn, "SELECT count(*) FROM victims") == 2);
      tx.commit();
    }
    CHECK(scalar(conn, "SELECT count(*) FROM victims") == 2);
  }
  SECTION("a name taken on the session by the same SQL is used as it is") {
    const Sql fresh = intern_sql("SELECT 7 AS seven /* driver_test: name taken */");
    conn.execute("PREPARE " + *fresh.name + " AS SELECT 7 AS seven /* driver_test: name taken */");
    // SQL-level PREPARE records its whole command as the text: not ours, so refused.
    CHECK_THROWS_AS(conn.prepare(fresh), StatementNameCollision);
    conn.execute("DEALLOCATE " + *fresh.name);
    // The protocol-level PREPARE another client of the session made records exactly our text.
    PGresult* r = PQprepare(conn.native(), fresh.name->c_str(), fresh.text->c_str(), 0, nullptr);
    REQUIRE(PQresultStatus(r) == PGRES_COMMAND_OK);
    PQclear(r);
    const auto before = conn.statement_stats();
    CHECK(scalar(conn, *fresh.text) == 7);
    CHECK(conn.statement_stats().found == before.found + 1);
    CHECK(conn.statement_stats().prepared == before.prepared);
  }
  SECTION("clear_statement_cache forgets them here and on the server") {
    conn.clear_statement_cache();
    CHECK(scalar(conn, "SELECT count(*) FROM pg_prepared_statements") == 1);  // this query itself
    auto& again = conn.prepare(twice);
    StatementScope scope(again);
    again.bind_int(1, 50);
    REQUIRE(again.step());
    CHECK(again.column_int(0) == 100);
  }
  SECTION("clear_statement_cache inside a failed transaction") {
    {
      auto tx = conn.transaction();
      CHECK_THROWS_AS(conn.execute("SELECT 1 / 0"), DatabaseError);
      conn.clear_statement_cache();  // cannot DEALLOCATE now; the names stay taken on the server
    }
    // Both the counting query and `twice` find their names taken by their own text, and use them.
    const auto before = conn.statement_stats();
    CHECK(prepared_named(a_name) == 1);
    CHECK(conn.statement_stats().found == before.found + 1);
    auto& again = conn.prepare(twice);
    StatementScope scope(again);
    again.bind_int(1, 8);
    REQUIRE(again.step());
    CHECK(again.column_int(0) == 16);
  }
}

TEST_CASE("pg driver: preparing runs in one transaction, leaves none behind, and fails as a statement does",
          "[pg][driver][cache]") {
  PgConn conn{tenantry_test::pg_url()};
  conn.execute("CREATE TABLE kept (x integer)");
  const auto status = [&] { return PQtransactionStatus(conn.native()); };
  const auto before = conn.statement_stats();

  // Outside a transaction: prepared (BEGIN ... COMMIT of its own), nothing left open.
  const Sql one = intern_sql("SELECT count(*) FROM kept WHERE x > $1 /* driver_test: prepare */");
  conn.prepare(one);
  CHECK(status() == PQTRANS_IDLE);
  CHECK(PQpipelineStatus(conn.native()) == PQ_PIPELINE_OFF);
  CHECK(conn.statement_stats().prepared == before.prepared + 1);

  // Inside the caller's transaction: its work and the transaction stay, the savepoint is gone.
  {
    auto tx = conn.transaction();
    conn.execute("INSERT INTO kept VALUES (1)");
    const Sql two = intern_sql("SELECT count(*) FROM kept WHERE x < $1 /* driver_test: prepare */");
    conn.prepare(two);
    CHECK(status() == PQTRANS_INTRANS);
    CHECK(expect_throw<DatabaseError>([&] { conn.execute("RELEASE SAVEPOINT tenantry_prepare"); }).code() == "3B001");
  }  // rolled back (the RELEASE failed it)
  {
    auto tx = conn.transaction();
    conn.execute("INSERT INTO kept VALUES (2)");
    conn.prepare(intern_sql("SELECT x FROM kept WHERE x = $1 /* driver_test: prepare */"));
    tx.commit();
  }
  CHECK(scalar(conn, "SELECT count(*) FROM kept") == 1);

  // SQL the server refuses: the error, as from any statement; outside a transaction nothing
  // stays open, inside one the transaction is aborted.
  const Sql bad = intern_sql("SELEC 1 /* driver_test: prepare */");
  CHECK(expect_throw<DatabaseError>([&] { conn.prepare(bad); }).code() == "42601");
  CHECK(status() == PQTRANS_IDLE);
  CHECK(PQpipelineStatus(conn.native()) == PQ_PIPELINE_OFF);
  CHECK(scalar(conn, "SELECT count(*) FROM kept") == 1);
  {
    auto tx = conn.transaction();
    CHECK(expect_throw<DatabaseError>([&] { conn.prepare(bad); }).code() == "42601");
    CHECK(expect_throw<DatabaseError>([&] { conn.execute("SELECT 1"); }).code() == "25P02");
  }
  CHECK(scalar(conn, "SELECT count(*) FROM kept") == 1);
  // And in a failed transaction, preparing reports the failed transaction.
  {
    auto tx = conn.transaction();
    CHECK_THROWS_AS(conn.execute("SELECT 1 / 0"), DatabaseError);
    const Sql later = intern_sql("SELECT 2 /* driver_test: prepare in a failed transaction */");
    CHECK(expect_throw<DatabaseError>([&] { conn.prepare(later); }).code() == "25P02");
  }
  CHECK(scalar(conn, "SELECT 3 /* driver_test: prepare */") == 3);
}

TEST_CASE("pg driver: changes() counts the rows the last execution touched", "[pg][driver]") {
  PgConn conn{tenantry_test::pg_url()};
  conn.execute("CREATE TABLE counted (x integer); INSERT INTO counted SELECT generate_series(1, 3)");
  auto& update = conn.prepare(intern_sql("UPDATE counted SET x = x + 10 WHERE x > $1"));
  {
    StatementScope scope(update);
    CHECK(update.changes() == 0);
    update.bind_int(1, 1);
    CHECK_FALSE(update.step());
    CHECK(update.changes() == 2);
  }
  CHECK(update.changes() == 0);  // reset forgets the result
  {
    StatementScope scope(update);
    update.bind_int(1, 1000);
    CHECK_FALSE(update.step());
    CHECK(update.changes() == 0);
  }
  auto& insert = conn.prepare(intern_sql("INSERT INTO counted VALUES ($1) RETURNING x"));
  {
    StatementScope scope(insert);
    insert.bind_int(1, 9);
    REQUIRE(insert.step());
    CHECK(insert.column_int(0) == 9);
    CHECK(insert.changes() == 1);
  }
  auto& remove = conn.prepare(intern_sql("DELETE FROM counted"));
  StatementScope scope(remove);
  CHECK_FALSE(remove.step());
  CHECK(remove.changes() == 4);
}

// ---- without server-side prepared statements (PgBouncer transaction pooling) -------------------

TEST_CASE("pg driver: server_prepared = false sends typed values with every execution", "[pg][driver][pooler]") {
  pg::Options options;
  options.server_prepared = false;
  PgConn conn{tenantry_test::pg_url(), options};
  conn.execute(
      "CREATE TABLE pooled (id uuid PRIMARY KEY, n integer NOT NULL, doc jsonb, at timestamptz, label text,"
      " small smallint, data bytea, ok boolean, score double precision, price numeric)");
  const Uuid id = Uuid::random();
  const std::string id_text = id.to_string();
  const Bytes data = bytes({0, 1, 0});
  const Timestamp at = Timestamp::parse("1969-07-20T20:17:40.123456Z");
  auto& ins = conn.prepare(intern_sql(
      "INSERT INTO pooled (id, n, doc, at, label, small, data, ok, score, price)"
      " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"));
  CHECK(ins.param_types().empty());  // nothing was described
  {
    StatementScope scope(ins);
    ins.bind_uuid(1, id);
    ins.bind_int(2, 1234567);
    ins.bind_json(3, R"({"z": 1, "a": [true]})");
    ins.bind_timestamp(4, at);
    ins.bind_text(5, "label");
    ins.bind_int(6, -3);
    ins.bind_blob(7, data);
    ins.bind_bool(8, true);
    ins.bind_double(9, 2.75);
    ins.bind_text(10, "12.50");
    CHECK_FALSE(ins.step());
    CHECK(ins.changes() == 1);
  }
  auto& sel = conn.prepare(
      intern_sql("SELECT id, n, doc, at, label, small, data, ok, score, price FROM pooled WHERE id = $1 AND n = $2"));
  {
    StatementScope scope(sel);
    sel.bind_uuid(1, id);
    sel.bind_int(2, 1234567);
    REQUIRE(sel.step());
    CHECK(sel.column_uuid(0) == id);
    CHECK(sel.column_int(1) == 1234567);
    CHECK(sel.column_text(2) == R"({"a": [true], "z": 1})");
    CHECK(sel.column_timestamp(3) == at);
    CHECK(sel.column_text(4) == "label");
    CHECK(sel.column_int(5) == -3);
    CHECK(hex(Bytes(sel.column_blob(6).begin(), sel.column_blob(6).end())) == "000100");
    CHECK(sel.column_bool(7));
    CHECK(sel.column_double(8) == 2.75);
    CHECK(sel.column_double(9) == 12.5);
    CHECK_FALSE(sel.step());
  }
  // Text is sent untyped, so the server reads it as whatever the SQL needs.
  {
    auto& upd = conn.prepare(intern_sql("UPDATE pooled SET n = $1, at = $2 WHERE id = $3"));
    StatementScope scope(upd);
    upd.bind_text(1, "77");
    upd.bind_text(2, "2024-01-02T03:04:05Z");
    upd.bind_text(3, id_text);
    CHECK_FALSE(upd.step());
    CHECK(upd.changes() == 1);
  }
  CHECK(scalar(conn, "SELECT n FROM pooled") == 77);
  CHECK(query_text(conn, "SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') FROM pooled") ==
        "2024-01-02 03:04:05");
  // Nothing was ever prepared on the server.
  CHECK(scalar(conn, "SELECT count(*) FROM pg_prepared_statements") == 0);
  // Integers travel as bigint: a value too big for the column is the server's error here.
  {
    auto& upd = conn.prepare(intern_sql("UPDATE pooled SET n = $1"));
    StatementScope scope(upd);
    upd.bind_int(1, 1LL << 40);
    CHECK(expect_throw<DatabaseError>([&] { upd.step(); }).code() == "22003");
  }
  // Transactions work the same way.
  {
    auto tx = conn.transaction();
    conn.execute("DELETE FROM pooled");
  }
  CHECK(scalar(conn, "SELECT count(*) FROM pooled") == 1);
}

TEST_CASE("pg driver: reset() unbinds every parameter; a parameter not bound again is NULL, prepared or not",
          "[pg][driver][bind]") {
  // The bind_* calls write libpq's parameter arrays directly: reset() must leave none of the
  // last execution's values (or pointers to the caller's bytes) behind.
  for (const bool prepared : {true, false}) {
    pg::Options options;
    options.server_prepared = prepared;
    PgConn conn{tenantry_test::pg_url(), options};
    auto& st = conn.prepare(
        intern_sql("SELECT $1::uuid IS NULL, $2::bigint IS NULL, $3::text IS NULL, $4::timestamptz IS NULL"));
    {
      StatementScope scope(st);
      std::string text = "kept only until reset";
      st.bind_uuid(1, Uuid::random());
      st.bind_int(2, 7);
      st.bind_text(3, text);
      st.bind_timestamp(4, Timestamp::parse("2024-01-02T03:04:05Z"));
      REQUIRE(st.step());
      for (int c = 0; c < 4; ++c) CHECK_FALSE(st.column_bool(c));
    }
    {
      StatementScope scope(st);
      st.bind_int(2, 8);  // only $2 this time
      REQUIRE(st.step());
      CHECK(st.column_bool(0));
      CHECK_FALSE(st.column_bool(1));
      CHECK(st.column_bool(2));
      CHECK(st.column_bool(3));
    }
    // A failed bind leaves its parameter unbound, not holding what it held before.
    {
      StatementScope scope(st);
      st.bind_text(3, "before");
      CHECK_THROWS_AS(st.bind_text(3, std::string_view("a\0b", 3)), ValueError);
      REQUIRE(st.step());
      CHECK(st.column_bool(2));
    }
  }
}

TEST_CASE("pg driver: values bound before the server lost the statement are encoded again for its new types",
          "[pg][driver][bind]") {
  // The fast binds write the wire form for the described type; when the statement is prepared
  // again at execution with other parameter types (the schema changed, the server forgot it),
  // every bound value is encoded again for the new types, and a parameter left unbound stays NULL.
  PgConn conn{tenantry_test::pg_url()};
  conn.execute("CREATE TABLE retyped (id bigint PRIMARY KEY, v bigint, w uuid, note text)");
  const Sql insert = intern_sql("INSERT INTO retyped (id, v, w, note) VALUES ($1, $2, $3, $4)");
  {
    auto& st = conn.prepare(insert);
    StatementScope scope(st);
    st.bind_int(1, 1);
    st.bind_int(2, 10);
    st.bind_uuid(3, Uuid::random());
    st.bind_text(4, "first");
    CHECK_FALSE(st.step());
  }
  auto& st = conn.prepare(insert);
  REQUIRE(st.param_types().size() == 4);
  CHECK(st.param_types()[1] == pg::oid::int8);
  conn.execute("ALTER TABLE retyped ALTER v TYPE text, ALTER w TYPE text; DEALLOCATE ALL");
  const Uuid w = Uuid::random();
  {
    StatementScope scope(st);
    st.bind_int(1, 2);
    st.bind_int(2, 20);   // int8 when bound; text when sent
    st.bind_uuid(3, w);   // uuid when bound; its text form when sent
    CHECK_FALSE(st.step());  // $4 unbound: NULL
  }
  CHECK(st.param_types()[1] == pg::oid::text);
  CHECK(query_text(conn, "SELECT v || ',' || w || ',' || coalesce(note, 'null') FROM retyped WHERE id = 2") ==
        "20," + w.to_string() + ",null");
}

TEST_CASE("pg driver: a bound Timestamp does not depend on the session's TimeZone, prepared or not",
          "[pg][driver][types][timestamp]") {
  // A Timestamp into timestamp without time zone is its UTC wall clock, into date its UTC date,
  // into text its ISO form: the same bytes in both modes. Without server-side preparation it
  // used to travel typed timestamptz, and the server's cast wrote the session zone's wall clock
  // (here the next day in Tokyo).
  const std::string url = tenantry_test::pg_url();
  const bool prepared = GENERATE(true, false);
  INFO("server_prepared = " << prepared);
  pg::Options options;
  options.server_prepared = prepared;
  PgConn conn{url, options};
  conn.execute("SET TimeZone = 'Asia/Tokyo'");
  conn.execute("CREATE TABLE times (ts timestamp, tz timestamptz, d date, label text)");
  const Timestamp at = Timestamp::parse("2024-01-15T23:30:00.250000Z");
  {
    auto& ins = conn.prepare(intern_sql("INSERT INTO times (ts, tz, d, label) VALUES ($1, $2, $3, $4)"));
    StatementScope scope(ins);
    for (int i = 1; i <= 4; ++i) ins.bind_timestamp(i, at);
    CHECK_FALSE(ins.step());
  }
  CHECK(query_text(conn, "SELECT ts::text FROM times") == "2024-01-15 23:30:00.25");
  CHECK(query_text(conn, "SELECT tz::text FROM times") == "2024-01-16 08:30:00.25+09");  // the session's zone
  CHECK(query_text(conn, "SELECT d::text FROM times") == "2024-01-15");
  CHECK(query_text(conn, "SELECT label FROM times") == "2024-01-15T23:30:00.250000Z");
  {
    auto& sel = conn.prepare(intern_sql("SELECT ts, tz, d, label FROM times WHERE ts = $1 AND tz = $2"));
    StatementScope scope(sel);
    sel.bind_timestamp(1, at);
    sel.bind_timestamp(2, at);
    REQUIRE(sel.step());
    CHECK(sel.column_timestamp(0) == at);
    CHECK(sel.column_timestamp(1) == at);
    CHECK(sel.column_timestamp(2) == Timestamp::parse("2024-01-15"));
    CHECK(sel.column_timestamp(3) == at);
  }
  // Where the SQL does not say the type, the server takes the parameter as text in both modes;
  // a cast says it.
  {
    auto& echo = conn.prepare(intern_sql("SELECT $1, date_trunc('day', $2::timestamptz)"));
    StatementScope scope(echo);
    echo.bind_timestamp(1, at);
    echo.bind_timestamp(2, at);
    REQUIRE(echo.step());
    CHECK(echo.column_text(0) == "2024-01-15T23:30:00.250000Z");
    CHECK(echo.column_timestamp(1) == Timestamp::parse("2024-01-15T15:00:00Z"));  // midnight in Tokyo
  }
}

// ---- execute() ---------------------------------------------------------------------------------

TEST_CASE("pg driver: execute runs scripts, keeps notices off stderr and refuses COPY", "[pg][driver]") {
  PgConn conn{tenantry_test::pg_url()};
  conn.execute("CREATE TABLE script (x integer); INSERT INTO script VALUES (1), (2);");
  CHECK(scalar(conn, "SELECT count(*) FROM script") == 2);
  conn.execute("");
  conn.execute("-- only a comment");

  // Several statements in one call are one implicit transaction: the first is undone too.
  const auto e = expect_throw<DatabaseError>(
      [&] { conn.execute("INSERT INTO script VALUES (3); INSERT INTO script VALUES ('three')"); });
  CHECK(e.code() == "22P02");
  CHECK(scalar(conn, "SELECT count(*) FROM script") == 2);

  SECTION("notices and warnings are not printed") {
    std::fflush(stderr);
    std::FILE* capture = std::tmpfile();
    REQUIRE(capture != nullptr);
    const int saved = ::dup(2);
    ::dup2(::fileno(capture), 2);
    conn.execute("DO $$ BEGIN RAISE NOTICE 'a notice'; RAISE WARNING 'a warning'; END $$");
    conn.execute("DROP TABLE IF EXISTS no_such_table_here");  // NOTICE: does not exist, skipping
    conn.execute("ROLLBACK");                                 // WARNING: no transaction in progress
    std::fflush(stderr);
    ::dup2(saved, 2);
    ::close(saved);
    std::fseek(capture, 0, SEEK_END);
    CHECK(std::ftell(capture) == 0);
    std::fclose(capture);
  }
  SECTION("COPY to or from the client is refused and the connection stays usable") {
    CHECK_THROWS_AS(conn.execute("COPY script TO STDOUT"), UsageError);
    CHECK(scalar(conn, "SELECT count(*) FROM script") == 2);
    CHECK_THROWS_AS(conn.execute("COPY script FROM STDIN"), UsageError);
    CHECK(scalar(conn, "SELECT count(*) FROM script") == 2);
    auto& copy = conn.prepare(intern_sql("COPY script TO STDOUT"));
    StatementScope scope(copy);
    CHECK_THROWS_AS(copy.step(), UsageError);
    CHECK(scalar(conn, "SELECT count(*) FROM script") == 2);
  }
}

// ---- ownership and failure ---------------------------------------------------------------------

TEST_CASE("pg driver: a moved connection keeps its cached statements", "[pg][driver]") {
  PgConn first{tenantry_test::pg_url()};
  auto& st = first.prepare(intern_sql("SELECT $1::text || '!'"));
  PgConn second = std::move(first);
  StatementScope scope(st);
  st.bind_text(1, "moved");
  REQUIRE(st.step());
  CHECK(st.column_text(0) == "moved!");
  CHECK(&second.prepare(intern_sql("SELECT $1::text || '!'")) == &st);
  CHECK(first.native() == nullptr);                                     // NOLINT(bugprone-use-after-move)
  CHECK_THROWS_AS(first.execute("SELECT 1"), UsageError);               // NOLINT(bugprone-use-after-move)
}

TEST_CASE("pg driver: a killed backend is a ConnectionError, then and on every later call", "[pg][driver][fault]") {
  using namespace std::chrono;
  const std::string url = tenantry_test::pg_url();
  PgConn victim{url};
  PgConn killer{url};
  const std::int64_t pid = scalar(victim, "SELECT pg_backend_pid()");
  auto& cached = victim.prepare(intern_sql("SELECT 'cached before the kill'"));

  const auto every_call_fails_at_once = [&](bool cache_cleared = false) {
    const auto start = steady_clock::now();
    CHECK_THROWS_AS(victim.execute("SELECT 1"), ConnectionError);
    CHECK_THROWS_AS(victim.prepare(intern_sql("SELECT 'prepared after the kill'")), ConnectionError);
    if (!cache_cleared) CHECK_THROWS_AS(cached.step(), ConnectionError);
    CHECK_THROWS_AS(victim.transaction(), ConnectionError);
    CHECK_THROWS_AS(scalar(victim, "SELECT pg_backend_pid()"), ConnectionError);
    CHECK(steady_clock::now() - start < seconds(1));
    CHECK_FALSE(victim.in_transaction());
  };

  SECTION("while idle") {
    terminate_backend(killer, pid);
    const auto e = expect_throw<ConnectionError>([&] { cached.step(); });
    CHECK((e.code() == "57P01" || e.code() == "08006"));
    cached.reset();
    every_call_fails_at_once();
  }
  SECTION("inside a transaction: its scope ends quietly, nothing is committed") {
    {
      auto tx = victim.transaction();
      victim.execute("CREATE TABLE doomed (x integer)");
      terminate_backend(killer, pid);
      CHECK_THROWS_AS(victim.execute("INSERT INTO doomed VALUES (1)"), ConnectionError);
      CHECK(victim.in_transaction());  // until the scope ends
    }
    every_call_fails_at_once();
    CHECK(scalar(killer, "SELECT count(*) FROM pg_tables WHERE tablename = 'doomed'") == 0);
  }
  SECTION("commit after the kill") {
    auto outer = victim.transaction();
    auto inner = victim.transaction();
    terminate_backend(killer, pid);
    CHECK_THROWS_AS(inner.commit(), ConnectionError);
    CHECK(victim.in_transaction());
    CHECK_THROWS_AS(outer.commit(), ConnectionError);
    every_call_fails_at_once();
  }
  SECTION("clear_statement_cache on a dead connection does not throw") {
    terminate_backend(killer, pid);
    CHECK_THROWS_AS(victim.execute("SELECT 1"), ConnectionError);
    victim.clear_statement_cache();  // `cached` is gone with it
    every_call_fails_at_once(true);
  }
}
