// benchmarks/callgrind_ops.cpp - runs operations a fixed number of times, for instruction counts.
//
//   valgrind --tool=callgrind --collect-atstart=no
//       tenantry-bench-callgrind --dialect=sqlite --side=both --op=find --n=2000
//
// For every (side, op) selected it warms the statement up, then runs the operation n times (the
// runners of ops.hpp, as the benchmarks do) with callgrind collecting (CALLGRIND_TOGGLE_COLLECT
// around exactly the calls, nothing else) and dumps
// the counts as "<dialect>/<op>/<side>" (CALLGRIND_DUMP_STATS_AT), so one valgrind run writes one
// callgrind.out file per measurement, whose total divided by n is the cost of one call. Instruction
// counts do not depend on the machine's load, unlike times. The same loops as the benchmarks,
// on SQLite in memory or on PostgreSQL over the unix socket (client-side instructions only: tenantry
// and libpq, not the server).
//
// Without valgrind the client requests do nothing; the program then prints wall time per call,
// which makes it a quick smoke test (CTest runs it so).
//
//   --dialect=sqlite|pg   --side=raw|tenantry|both   --n=N
//   --op=find|find_many_100|list_user_100|count|join_100|count_per_status|insert|insert_many_1000|
//        upsert|upsert_no_read_back|set|erase|all   (the names of ops.hpp's op_name)
//   --pg=CONNINFO         (default: the unix socket of scripts/pg.sh, as tenantry-bench-pg)
//   --observer=none|counters|counting   a statement observer on the tenantry side (observe_bench.hpp)
//   --counts=OUT.json     (pg) no instructions: round trips and statements per call of each
//                         --op, on both sides, into OUT.json (pg_counts.hpp); --n calls each
#include "observe_bench.hpp"
#include "sqlite_fixture.hpp"

#if __has_include(<tenantry/driver/postgres.hpp>)
#include "pg_counts.hpp"
#include "pg_fixture.hpp"
#define TENANTRY_BENCH_HAVE_PG 1
#else
#define TENANTRY_BENCH_HAVE_PG 0
#endif

#include <valgrind/callgrind.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace bench {
namespace {

/// Runs r's operation `calls` times with callgrind collecting around the calls only (maintenance
/// such as deleting what insert_many wrote runs between them, uncounted), then dumps the counts
/// under `label`. Prints the wall time per call too.
template <class R>
void measure(R& r, std::size_t calls, const std::string& label) {
  const std::size_t warm = r.ready(2) || (r.prepare(50), r.ready(50)) ? 50 : 1;
  for (std::size_t i = 0; i < warm; ++i) {
    r.prepare(1);
    r.call();
  }
  CALLGRIND_ZERO_STATS;
  double seconds = 0;
  in_chunks(r, calls, [&](auto run_chunk) {
    CALLGRIND_TOGGLE_COLLECT;
    const auto t0 = std::chrono::steady_clock::now();
    run_chunk();
    const auto t1 = std::chrono::steady_clock::now();
    CALLGRIND_TOGGLE_COLLECT;
    seconds += std::chrono::duration<double>(t1 - t0).count();
  });
  CALLGRIND_DUMP_STATS_AT(label.c_str());
  r.finish();
  if (const std::string e = r.error(); !e.empty()) throw std::runtime_error(label + ": " + e);
  std::printf("%-40s %8zu calls %10.2f us/call%s\n", label.c_str(), calls, 1e6 * seconds / static_cast<double>(calls),
              RUNNING_ON_VALGRIND ? " (under valgrind)" : "");
}

template <class Side>
void run(Side& side, Op op, std::size_t n, const std::string& label, bool vacuum) {
  // n counts rows for insert_many: n / 1,000 calls of 1,000 rows (at least one).
  const std::size_t calls = op == Op::insert_many_1000 ? std::max<std::size_t>(1, n / 1000) : n;
  with_runner(side, op, vacuum, [&](auto& r) { measure(r, calls, label); });
}

template <class Fixture>
void run_all(Fixture& f, const std::string& dialect, const std::string& side, const std::string& op, std::size_t n,
             bool vacuum) {
  bool any = false;
  for (Op o : all_ops) {
    const std::string name = op_name(o);
    if (o == Op::insert_many_10000 || (op != "all" && op != name)) continue;
    any = true;
    if (side == "raw" || side == "both") run(f.raw_side(), o, n, dialect + "/" + name + "/raw", vacuum);
    if (side == "tenantry" || side == "both") run(f.tenantry_side(), o, n, dialect + "/" + name + "/tenantry", vacuum);
  }
  if (!any) throw std::runtime_error("unknown --op=" + op);
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) {
  const bench::Flags flags = bench::take_flags(argc, argv, {"dialect", "side", "op", "n", "pg", "observer", "counts"});
  if (argc > 1) {
    std::fprintf(stderr, "tenantry-bench-callgrind: unknown argument %s\n", argv[1]);
    return 2;
  }
  const std::string dialect = flags.get("dialect", "sqlite");
  const std::string side = flags.get("side", "both");
  const std::string op = flags.get("op", "find");
  const std::size_t n = std::stoul(flags.get("n", "2000"));
  const std::string observer = flags.get("observer", "none");
  const auto observe = [&](auto& conn) {
    if (observer != "none") conn.set_observer(bench::bench_observer(observer == "counting"));
  };
  try {
    if (dialect == "sqlite") {
      bench::SqliteFixture f(":memory:", ":memory:");
      observe(f.tenantry_side().connection());
      bench::run_all(f, "sqlite_memory", side, op, n, false);
    } else if (dialect == "pg") {
#if TENANTRY_BENCH_HAVE_PG
      const std::string port = bench::env_or("TENANTRY_PG_PORT", "54329");
      const std::string conninfo = flags.get(
          "pg", "host=" + bench::env_or("TENANTRY_PG_SOCKET_DIR", "/tmp/tenantry-pg-" + port) + " port=" + port +
                    " user=tenantry dbname=postgres");
      if (const std::string counts = flags.get("counts", ""); !counts.empty()) {
        // Round trips and statements per call (pg_counts.hpp), not instructions.
        if (PGconn* c = PQconnectdb(conninfo.c_str()); PQstatus(c) != CONNECTION_OK) {
          std::fprintf(stderr, "tenantry-bench-callgrind: no PostgreSQL server at '%s' (skipped)\n", conninfo.c_str());
          PQfinish(c);
          return 77;
        } else {
          PQfinish(c);
        }
        bench::PgFixture f(conninfo, "counts");
        bench::write_counts(f, conninfo, "pg_socket", op, n, counts);
        return 0;
      }
      bench::PgFixture f(conninfo, "callgrind");
      observe(f.tenantry_side().connection());
      bench::run_all(f, "pg_socket", side, op, n, true);
#else
      std::fprintf(stderr, "tenantry-bench-callgrind: built without the PostgreSQL driver\n");
      return 77;
#endif
    } else {
      std::fprintf(stderr, "tenantry-bench-callgrind: --dialect is sqlite or pg\n");
      return 2;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tenantry-bench-callgrind: %s\n", e.what());
    return 1;
  }
  return 0;
}
