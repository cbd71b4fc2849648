// benchmarks/stream_rss.cpp - peak memory of reading a large result: stream_each_row
// against fetch() (materialised), on SQLite (a file) and PostgreSQL.
//
//   tenantry-bench-stream [--rows=N] [--dialect=sqlite|pg|both] [--bench-dir=DIR] [--pg=CONNINFO]
//
// It loads N rows (default 1,000,000) of a 5-column table into one org with plain SQL (a recursive
// CTE on SQLite, generate_series on PostgreSQL: the load is not what is measured), then for each
// backend reads every row of the org three ways, and prints the peak resident memory each read
// added over the process's memory before it (VmHWM, reset before each read through
// /proc/self/clear_refs):
//   stream N      stream_each_row over all N rows
//   stream N/10   stream_each_row over the first N/10 (limit), to show the peak does not grow with N
//   fetch N       fetch(): every row in a std::vector
// This reports; it asserts nothing (peak memory depends on the allocator and the machine), except
// that every read saw every row. CTest runs it with a small N as a smoke test.
#include "bench_model.hpp"

#include <tenantry/tenantry.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace bench {

/// The streamed row: an id, the org, a 100-byte payload, a number and a timestamp.
struct ExportRow {
  std::int64_t id = 0;
  OrgId org_id{};
  std::string payload;
  std::int64_t amount = 0;
  Timestamp at{};
};

}  // namespace bench

template <>
struct tenantry::entity<bench::ExportRow> {
  using T = bench::ExportRow;
  static constexpr std::string_view table = "bench_export";
  static constexpr auto primary_key = key(&T::org_id, &T::id);
};

namespace bench {
namespace {

std::string env_or(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

struct Row {
  std::int64_t id;
  std::string payload;
  std::int64_t amount;
  Timestamp at;
};

/// Peak resident memory (VmHWM) and current (VmRSS), in KiB.
std::int64_t status_kib(const char* field) {
  std::ifstream f("/proc/self/status");
  std::string line;
  const std::string key = std::string(field) + ":";
  while (std::getline(f, line))
    if (line.rfind(key, 0) == 0) return std::stoll(line.substr(key.size()));
  return -1;
}
void reset_peak() {
  std::ofstream f("/proc/self/clear_refs");
  f << "5";  // resets VmHWM to the current RSS (Linux >= 4.0)
}

template <class F>
std::int64_t peak_added_kib(F&& read) {
  reset_peak();
  const std::int64_t before = status_kib("VmRSS");
  read();
  return status_kib("VmHWM") - before;
}

template <class Conn>
void measure(const char* name, Conn& conn, OrgId org, std::int64_t rows) {
  using tenantry::col;
  const auto all = tenantry::select<Row>(col(&ExportRow::id), col(&ExportRow::payload), col(&ExportRow::amount),
                                         col(&ExportRow::at))
                       .template from<ExportRow>();
  const auto check = [&](std::int64_t seen, std::int64_t want, const char* what) {
    if (seen != want)
      throw std::runtime_error(std::string(name) + " " + what + ": " + std::to_string(seen) + " rows, expected " +
                               std::to_string(want));
  };
  std::int64_t seen = 0;
  const std::int64_t stream_all = peak_added_kib(
      [&] { tenantry::stream_each_row(conn, org, all, [&](const Row& r) { seen += r.payload.size() == 100; }); });
  check(seen, rows, "stream");
  seen = 0;
  const std::int64_t tenth = rows / 10;
  const std::int64_t stream_tenth = peak_added_kib([&] {
    tenantry::stream_each_row(conn, org, all.limit(tenth), [&](const Row& r) { seen += r.payload.size() == 100; });
  });
  check(seen, tenth, "stream (limit)");
  std::size_t fetched = 0;
  const std::int64_t fetch_all = peak_added_kib([&] { fetched = tenantry::fetch(conn, org, all).size(); });
  check(static_cast<std::int64_t>(fetched), rows, "fetch");
  std::printf(
      "%-10s stream %9lld rows: peak +%8.1f MiB | stream %9lld rows: peak +%8.1f MiB | fetch %9lld rows: peak +%8.1f "
      "MiB\n",
      name, static_cast<long long>(rows), static_cast<double>(stream_all) / 1024, static_cast<long long>(tenth),
      static_cast<double>(stream_tenth) / 1024, static_cast<long long>(rows), static_cast<double>(fetch_all) / 1024);
}

// 100 characters, the same on both backends.
constexpr const char* payload_sql_sqlite = "printf('%0100d', x)";
constexpr const char* payload_sql_pg = "lpad(x::text, 100, '0')";

void run_sqlite(const std::string& dir, std::int64_t rows) {
  namespace fs = std::filesystem;
  fs::create_directories(dir);
  const std::string path = (fs::path(dir) / "stream.db").string();
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(path + suffix);
  tenantry::sqlite::Connection conn(path);
  tenantry::create_tables<ExportRow>(conn);
  const OrgId org = org_of(7);
  conn.execute("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < " + std::to_string(rows) +
               ") INSERT INTO bench_export (id, org_id, payload, amount, at) SELECT x, '" + org.to_string() + "', " +
               payload_sql_sqlite + ", x * 7, '2024-04-24T00:00:00.000000Z' FROM n");
  measure("sqlite", conn, org, rows);
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(path + suffix);
}

void run_pg(const std::string& conninfo, std::int64_t rows) {
  tenantry::pg::Connection conn(conninfo);
  conn.execute("DROP SCHEMA IF EXISTS bench_stream CASCADE");
  conn.execute("CREATE SCHEMA bench_stream");
  conn.execute("SET search_path TO bench_stream");
  tenantry::create_tables<ExportRow>(conn);
  const OrgId org = org_of(7);
  conn.execute("INSERT INTO bench_export (id, org_id, payload, amount, at) SELECT x, '" + org.to_string() + "', " +
               payload_sql_pg + ", x * 7, '2024-04-24T00:00:00Z' FROM generate_series(1, " + std::to_string(rows) +
               ") AS x");
  conn.execute("ANALYZE bench_export");
  measure("postgres", conn, org, rows);
  conn.execute("DROP SCHEMA bench_stream CASCADE");
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) {
  std::int64_t rows = 1'000'000;
  std::string dialect = "both", dir = bench::env_or("TENANTRY_BENCH_DIR", "tenantry-bench-tmp");
  const std::string port = bench::env_or("TENANTRY_PG_PORT", "54329");
  std::string pg = bench::env_or("TENANTRY_PG_URL", "postgresql://tenantry@127.0.0.1:" + port + "/postgres");
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto value = [&](const char* flag) { return a.substr(std::string(flag).size()); };
    if (a.rfind("--rows=", 0) == 0) rows = std::stoll(value("--rows="));
    else if (a.rfind("--dialect=", 0) == 0) dialect = value("--dialect=");
    else if (a.rfind("--bench-dir=", 0) == 0) dir = value("--bench-dir=");
    else if (a.rfind("--pg=", 0) == 0) pg = value("--pg=");
    else {
      std::fprintf(stderr, "tenantry-bench-stream: unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  try {
    if (dialect == "sqlite" || dialect == "both") bench::run_sqlite(dir, rows);
    if (dialect == "pg" || dialect == "both") {
      try {
        tenantry::pg::Connection probe(pg);
      } catch (const tenantry::ConnectionError& e) {
        std::fprintf(stderr, "tenantry-bench-stream: no PostgreSQL (%s); skipped\n", e.what());
        return dialect == "pg" ? 77 : 0;
      }
      bench::run_pg(pg, rows);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tenantry-bench-stream: %s\n", e.what());
    return 1;
  }
  return 0;
}
