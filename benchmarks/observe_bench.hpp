// benchmarks/observe_bench.hpp - what a statement observer (observe.hpp) costs, on every target
// (sqlite_bench.cpp, pg_bench.cpp).
//
// The fixture's own tenantry connection, warm statements and preloaded table, run in
// alternating batches (bm_paired, ops.hpp) in these modes:
//   none       no observer installed: the library's default, and the hot path's one branch
//   counters   an observer with the per-org counters only (two clock reads, the thread's shard)
//   counting   counters and an on_statement hook that counts calls (an atomic increment): the
//              least a logging or metrics hook does
// Each side installs its mode on the connection before each of its batches. Benchmarks are
// named <target>_hook/<op>/<variant>_vs_none (find, insert); their counters raw_us and
// tenantry_us are the baseline's and the variant's time per call, ratio the median of
// variant / baseline. "none" against the raw C API is the suite's ordinary <target>/<op>/paired.
#pragma once

#include "ops.hpp"

#include <tenantry/observe.hpp>

#include <atomic>
#include <memory>
#include <string>

namespace bench {

/// A runner (ops.hpp) that installs `observer` (null: none) on the connection before its batches.
template <class Runner, class Conn>
struct ObservedRun {
  Runner& inner;
  Conn& conn;
  std::shared_ptr<tenantry::StatementObserver> observer;

  bool ready(std::size_t n) const { return inner.ready(n); }
  void prepare(std::size_t n) {
    conn.set_observer(observer);
    inner.prepare(n);
  }
  void call() { inner.call(); }
  void finish() {
    conn.set_observer(nullptr);
    inner.finish();
  }
  std::string error() const { return inner.error(); }
};

inline std::atomic<std::uint64_t> hook_calls{0};

inline std::shared_ptr<tenantry::StatementObserver> bench_observer(bool hook) {
  tenantry::ObserverOptions o;
  if (hook)
    o.on_statement = [](const tenantry::StatementEvent&) { hook_calls.fetch_add(1, std::memory_order_relaxed); };
  return std::make_shared<tenantry::StatementObserver>(std::move(o));
}

/// The observer pairs of one target; `side()` gives the fixture's TenantryApi (its connection
/// through connection()), `add(name, f, manual_time)` registers.
template <class Side, class Add>
void register_observe_target(const std::string& target, Side side, bool vacuum, Add add) {
  for (Op op : {Op::find, Op::insert}) {
    for (const bool hook : {false, true}) {
      const std::string name = target + "_hook/" + op_name(op) + "/" + (hook ? "counting" : "counters") + "_vs_none";
      add(
          name,
          [side, op, vacuum, hook](benchmark::State& st) {
            auto& ten = side();
            auto& conn = ten.connection();
            const auto observer = bench_observer(hook);
            with_runner(ten, op, vacuum, [&](auto& ra) {
              with_runner(ten, op, vacuum, [&](auto& rb) {
                ObservedRun<std::remove_reference_t<decltype(ra)>, std::remove_reference_t<decltype(conn)>> base{
                    ra, conn, nullptr};
                ObservedRun<std::remove_reference_t<decltype(rb)>, std::remove_reference_t<decltype(conn)>> variant{
                    rb, conn, observer};
                bm_paired(st, base, variant);
              });
            });
            const auto total = observer->snapshot();
            std::uint64_t calls = 0;
            for (const auto& s : total) calls += s.calls;
            st.counters["observed_calls"] = static_cast<double>(calls);
          },
          true);
    }
  }
}

}  // namespace bench
