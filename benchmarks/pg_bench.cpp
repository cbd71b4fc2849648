// benchmarks/pg_bench.cpp - tenantry vs hand-written libpq code, on PostgreSQL over the unix
// socket and over TCP loopback, plus raw bulk-insert baselines.
//
//   tenantry-bench-pg [--quick] [--pg-tcp=CONNINFO] [--pg-socket=CONNINFO] [--benchmark_* flags]
//
// CONNINFO is a libpq URL or keyword string. Defaults: TENANTRY_PG_URL (else the scripts/pg.sh
// server at 127.0.0.1:54329) for TCP; for the socket, host=$TENANTRY_PG_SOCKET_DIR (else
// /tmp/tenantry-pg-54329) with the same port. Exits 77 (CTest's "skipped") when no server answers.
//
// Row-level security on vs off (rls_bench.hpp): <target>_rls/<operation>/<variant>_vs_<baseline>;
// insert_many(1000) under row-level security (bulk_rls_bench.hpp): <target>_bulk_rls/...;
// the first use of a statement on a connection (prepare_bench.hpp): <target>_cold/prepare/...;
// with vs without a statement observer (observe_bench.hpp): <target>_hook/<op>/<variant>_vs_none.
//
// Benchmarks are named <target>/<operation>/<side>. Besides "raw" (the prepared-statement twin of
// what tenantry does), "tenantry" and "paired" (both in alternating batches, see ops.hpp),
// insert_many has the raw bulk paths: raw_pipeline,
// raw_multirow_values, raw_unnest and raw_copy. Each side works in a schema of its own
// (bench_<target>_raw / bench_<target>_tenantry, recreated at start) through search_path, so both
// send the same unqualified SQL text.
#if __has_include(<tenantry/driver/postgres.hpp>)

#include "bulk_rls_bench.hpp"
#include "observe_bench.hpp"
#include "pg_fixture.hpp"
#include "prepare_bench.hpp"
#include "rls_bench.hpp"

#include <benchmark/benchmark.h>
#include <libpq-fe.h>

#include <cstdio>
#include <exception>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace bench {
namespace {

std::map<std::string, std::string> g_conninfo;  // target -> conninfo

PgFixture& fixture(const std::string& target) {
  static std::map<std::string, std::unique_ptr<PgFixture>> fixtures;
  auto& f = fixtures[target];
  if (!f) f = std::make_unique<PgFixture>(g_conninfo.at(target), target);
  return *f;
}

using RawBulk = void (RawPg::*)(OrgId, std::vector<Token>&);

struct Baseline {
  const char* side;
  RawBulk fn;
  bool at_10000;
};
const Baseline baselines[] = {
    {"raw_pipeline", &RawPg::insert_pipeline, false},
    {"raw_multirow_values", &RawPg::insert_multirow, true},
    {"raw_unnest", &RawPg::insert_unnest, true},
    {"raw_copy", &RawPg::insert_copy, true},
};

bool g_quick = false;

template <class F>
void add(const std::string& name, F f, bool manual_time = false, double min_time = 0) {
  auto* b = benchmark::RegisterBenchmark(name.c_str(), [f](benchmark::State& st) {
    try {
      f(st);
    } catch (const std::exception& e) {
      st.SkipWithError(e.what());
    }
  });
  b->Unit(benchmark::kMicrosecond);
  if (manual_time) b->UseManualTime();
  else b->UseRealTime();
  if (min_time > 0 && !g_quick) b->MinTime(min_time);
}

void register_target(const std::string& target) {
  for (Op op : all_ops) {
    const std::string base = target + "/" + op_name(op) + "/";
    add(base + "raw", [target, op](benchmark::State& st) { run_op(st, fixture(target).raw_side(), op, true); });
    add(base + "tenantry",
        [target, op](benchmark::State& st) { run_op(st, fixture(target).tenantry_side(), op, true); });
    add(
        base + "paired",
        [target, op](benchmark::State& st) {
          PgFixture& f = fixture(target);
          run_paired(st, f.raw_side(), f.tenantry_side(), op, true);
        },
        true,
        // A paired round of a bulk insert is one call per side: give those more rounds.
        op == Op::insert_many_1000    ? 1.0
        : op == Op::insert_many_10000 ? 3.0
                                      : 0);
    if (op != Op::insert_many_1000 && op != Op::insert_many_10000) continue;
    const std::size_t n = op == Op::insert_many_1000 ? 1000 : 10000;
    for (const Baseline& b : baselines) {
      if (n == 10000 && !b.at_10000) continue;
      add(base + b.side, [target, n, fn = b.fn](benchmark::State& st) {
        auto ins = [fn](RawPg& raw, OrgId org, std::vector<Token>& rows) { (raw.*fn)(org, rows); };
        BulkRun<RawPg, decltype(ins)> r(fixture(target).raw_side(), true, n, ins);
        bm_single(st, r);
      });
    }
  }
}

bool reachable(const std::string& conninfo, std::string& error) {
  PGconn* c = PQconnectdb(conninfo.c_str());
  const bool ok = PQstatus(c) == CONNECTION_OK;
  if (!ok) error = PQerrorMessage(c);
  PQfinish(c);
  return ok;
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) {
  const bench::Flags flags = bench::take_flags(argc, argv, {"pg-tcp", "pg-socket"});
  const std::string port = bench::env_or("TENANTRY_PG_PORT", "54329");
  const std::string tcp = flags.get(
      "pg-tcp", bench::env_or("TENANTRY_PG_URL", "postgresql://tenantry@127.0.0.1:" + port + "/postgres"));
  const std::string socket = flags.get(
      "pg-socket", "host=" + bench::env_or("TENANTRY_PG_SOCKET_DIR", "/tmp/tenantry-pg-" + port) + " port=" + port +
                       " user=tenantry dbname=postgres");
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  bench::g_quick = flags.quick;

  int targets = 0;
  for (const auto& [target, conninfo] : {std::pair<std::string, std::string>{"pg_socket", socket}, {"pg_tcp", tcp}}) {
    std::string error;
    if (!bench::reachable(conninfo, error)) {
      std::fprintf(stderr, "tenantry-bench-pg: %s: cannot connect with '%s': %s", target.c_str(), conninfo.c_str(),
                   error.c_str());
      continue;
    }
    bench::g_conninfo[target] = conninfo;
    benchmark::AddCustomContext(target + "_conninfo", conninfo);
    bench::register_target(target);
    const auto add = [](const std::string& name, auto f, bool manual_time) { bench::add(name, f, manual_time); };
    bench::register_cold_prepare(target, conninfo, add);
    bench::register_rls_target(target, conninfo, add);
    bench::register_bulk_rls_target(target, conninfo, add);
    bench::register_observe_target(
        target,
        [target = target]() -> bench::TenantryApi<tenantry::PgDialect>& {  // clang 14: no capture of a binding
          return bench::fixture(target).tenantry_side();
        },
        true, add);
    ++targets;
  }
  if (targets == 0) {
    std::fprintf(stderr,
                 "tenantry-bench-pg: no PostgreSQL server answered; start one with `scripts/pg.sh start` (skipped)\n");
    return 77;
  }
  benchmark::AddCustomContext("libpq_version", std::to_string(PQlibVersion()));
  benchmark::AddCustomContext("quick", flags.quick ? "yes" : "no");
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

#else  // no PostgreSQL driver yet: the binary says so and CTest reports it skipped
#include <cstdio>
int main() {
  std::fprintf(stderr, "tenantry-bench-pg: built without <tenantry/driver/postgres.hpp> (skipped)\n");
  return 77;
}
#endif
