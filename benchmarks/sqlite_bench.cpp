// benchmarks/sqlite_bench.cpp - tenantry vs hand-written sqlite3_* code, on SQLite in memory and
// on a file in WAL mode.
//
//   tenantry-bench-sqlite [--quick] [--bench-dir=DIR] [--benchmark_* flags]
//
// Benchmarks are named <target>/<operation>/<side>: "raw" and "tenantry" time one side each;
// "paired" runs both in alternating ~1 ms batches and reports per-call times and their ratio as
// counters (the estimate that survives a loaded machine); <target>_hook/<op>/<variant>_vs_none
// compare tenantry with and without a statement observer (observe_bench.hpp). Run them with
// --benchmark_repetitions=N --benchmark_enable_random_interleaving=true and compare medians (as
// scripts/bench.sh does). Each side has its own database with the same schema (tenantry's DDL),
// the same 100 orgs x 100 rows, and the same settings; the write benchmarks insert into a scratch
// org and delete what they wrote when they finish, so every benchmark sees the preloaded table.
#include "observe_bench.hpp"
#include "sqlite_fixture.hpp"

#include <benchmark/benchmark.h>

#include <exception>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

namespace bench {
namespace {

std::string g_bench_dir;
bool g_quick = false;

std::string fresh_file(const std::string& name) {
  namespace fs = std::filesystem;
  fs::create_directories(g_bench_dir);
  const std::string path = (fs::path(g_bench_dir) / name).string();
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(path + suffix);
  return path;
}

SqliteFixture& fixture(const std::string& target) {
  static std::map<std::string, std::unique_ptr<SqliteFixture>> fixtures;
  auto& f = fixtures[target];
  if (!f) {
    if (target == "sqlite_memory") f = std::make_unique<SqliteFixture>(":memory:", ":memory:");
    else f = std::make_unique<SqliteFixture>(fresh_file("tenantry.db"), fresh_file("raw.db"));
  }
  return *f;
}

void register_all() {
  for (const std::string target : {"sqlite_memory", "sqlite_file"}) {
    for (Op op : all_ops) {
      for (const std::string side : {"raw", "tenantry", "paired"}) {
        const std::string name = target + "/" + op_name(op) + "/" + side;
        auto* b = benchmark::RegisterBenchmark(name.c_str(), [target, op, side](benchmark::State& st) {
          try {
            SqliteFixture& f = fixture(target);
            if (side == "raw") run_op(st, f.raw_side(), op, false);
            else if (side == "tenantry") run_op(st, f.tenantry_side(), op, false);
            else run_paired(st, f.raw_side(), f.tenantry_side(), op, false);
          } catch (const std::exception& e) {
            st.SkipWithError(e.what());
          }
        });
        b->Unit(benchmark::kMicrosecond);
        if (side == "paired") b->UseManualTime();
        else b->UseRealTime();
        // A paired round of a bulk insert is one call per side: give those more rounds.
        if (side == "paired" && !g_quick && op == Op::insert_many_1000) b->MinTime(1.0);
        if (side == "paired" && !g_quick && op == Op::insert_many_10000) b->MinTime(3.0);
      }
    }
    // With and without a statement observer (observe_bench.hpp): <target>_hook/<op>/...
    const auto add = [](const std::string& name, auto f, bool) {
      auto* b = benchmark::RegisterBenchmark(name.c_str(), [f](benchmark::State& st) {
        try {
          f(st);
        } catch (const std::exception& e) {
          st.SkipWithError(e.what());
        }
      });
      b->Unit(benchmark::kMicrosecond);
      b->UseManualTime();
    };
    register_observe_target(
        target, [target]() -> TenantryApi<tenantry::SqliteDialect>& { return fixture(target).tenantry_side(); }, false,
        add);
  }
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) {
  const bench::Flags flags = bench::take_flags(argc, argv, {"bench-dir"});
  bench::g_quick = flags.quick;
  bench::g_bench_dir = flags.get("bench-dir", bench::env_or("TENANTRY_BENCH_DIR", "tenantry-bench-tmp"));
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("sqlite_version", sqlite3_libversion());
  benchmark::AddCustomContext("sqlite_file_dir", bench::g_bench_dir);
  benchmark::AddCustomContext("quick", flags.quick ? "yes" : "no");
  bench::register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
