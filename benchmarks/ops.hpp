// benchmarks/ops.hpp - the benchmarked operations, written once for both sides.
//
// A side is any type with the repository's operations on bench::Token:
//   insert(org, row&), insert_many(org, rows&), find(org, id), find_many(org, ids), list(org, user), count(org),
//   upsert(org, row&), set_updated_at(org, id, ts), erase(org, id), execute(sql),
//   set_batch(org, ids, n, ts) (n set_updated_at of one org in one transaction: a tenantry::Batch,
//   and on the raw side the same statements by hand, in one libpq pipeline on PostgreSQL)
// and the two queries across entities (select.hpp): join(org, user) (a user's tokens with the
// owner's e-mail, bench_sql.hpp's tokens_with_owner) and per_status(org) (tokens_per_status).
// TenantryApi below forwards them to a tenantry::Repository; RawSqlite / RawPg implement them with
// the C API. Every benchmark body is a template over the side, so both run the very same loop,
// keys and values, and differ only in the calls they make.
#pragma once

#include "bench_model.hpp"

#include <benchmark/benchmark.h>
#include <tenantry/batch.hpp>
#include <tenantry/query.hpp>
#include <tenantry/repository.hpp>
#include <tenantry/select.hpp>

#include "bench_sql.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bench {

/// The tenantry side: a repository and the connection it runs on.
template <class D>
class TenantryApi {
 public:
  using Conn = typename tenantry::connection_for<D>::type;
  using Repo = tenantry::Repository<Token, D>;
  static constexpr tenantry::ConflictTarget<Token> by_prefix = tenantry::on_conflict(&Token::org_id,
                                                                                     &Token::token_prefix);

  explicit TenantryApi(Conn& conn) : conn_(&conn), repo_(conn) {}

  void insert(OrgId org, Token& row) { repo_.insert(org, row); }
  void insert_many(OrgId org, std::vector<Token>& rows) { repo_.insert_many(org, rows); }
  std::optional<Token> find(OrgId org, const Uuid& id) { return repo_.find(org, id); }
  std::vector<Token> find_many(OrgId org, const std::vector<Uuid>& ids) { return repo_.find_many(org, ids); }
  std::vector<Token> list(OrgId org, const std::string& user) {
    return repo_.list(org, tenantry::col(&Token::user_id) == user);
  }
  std::int64_t count(OrgId org) { return repo_.count(org); }
  void upsert(OrgId org, Token& row) { repo_.upsert(org, row, by_prefix); }
  void put(OrgId org, const Token& row) { repo_.put(org, row, by_prefix); }
  bool set_updated_at(OrgId org, const Uuid& id, Timestamp ts) { return repo_.set(org, id, &Token::updated_at, ts); }
  bool erase(OrgId org, const Uuid& id) { return repo_.erase(org, id); }
  std::int64_t set_batch(OrgId org, const Uuid* ids, std::size_t n, Timestamp ts) {
    tenantry::Batch batch(*conn_, org);
    for (std::size_t k = 0; k < n; ++k) batch.set(ids[k], &Token::updated_at, ts);
    const tenantry::BatchResult done = batch.run();
    std::int64_t changed = 0;
    for (std::size_t k = 0; k < done.size(); ++k) changed += done.changed(k) ? 1 : 0;
    return changed;
  }
  std::vector<TokenWithOwner> join(OrgId org, const std::string& user) {
    return tenantry::fetch(*conn_, org, tokens_with_owner(user));
  }
  std::vector<StatusCount> per_status(OrgId org) { return tenantry::fetch(*conn_, org, tokens_per_status()); }
  void insert_owner(OrgId org, Owner& o) { owners_.insert(org, o); }
  void execute(const char* sql) { conn_->execute(sql); }

  Conn& connection() { return *conn_; }

 private:
  Conn* conn_;
  Repo repo_;
  tenantry::Repository<Owner, D> owners_{*conn_};
};

/// Deletes the scratch org's rows (what the write benchmarks inserted); `vacuum` also reclaims
/// them (PostgreSQL), so repeated runs keep the table and its indexes at the preloaded size.
template <class Side>
void cleanup_scratch(Side& side, bool vacuum) {
  const std::string sql = "DELETE FROM \"api_tokens\" WHERE \"org_id\" = '" + Dataset::get().scratch.to_string() + "'";
  side.execute(sql.c_str());
  if (vacuum) side.execute("VACUUM \"api_tokens\"");
}

// ---- the operations as runners -----------------------------------------------------------------
//
// A runner performs one operation on one side, call after call, and owns what that needs (keys,
// rows, a pool of rows to delete). Its interface:
//   call()        one call of the operation: the only thing ever timed
//   ready(n)      whether n more calls can run without maintenance
//   prepare(n)    the maintenance (untimed): deleting what insert_many wrote, refilling erase's pool
//   finish()      cleanup after the last call (the scratch org's rows are deleted)
//   error()       non-empty when a call did not do what it should (a row not found, ...)
//   rows          rows per call (insert_many: the batch size)
// The standard benchmarks run one runner; the paired ones run a raw and a tenantry runner in
// alternating batches (see bm_paired).

template <class Side>
struct Runner {
  Side& side;
  bool vacuum;
  const Dataset& d = Dataset::get();
  std::int64_t calls = 0, ok = 0;
  std::int64_t rows = 1;
  const char* what = "";  // the message of error() when a call went wrong
  Runner(Side& s, bool v) : side(s), vacuum(v) {}
  bool ready(std::size_t) const { return true; }
  void prepare(std::size_t) {}
  void finish() {}
  void tally(bool good) {
    ++calls;
    ok += good;
  }
  std::string error() const { return ok == calls ? std::string() : std::string(what); }
};

/// The operations that need no maintenance: call number c (0, 1, ...) runs
/// `step(side, dataset, i, c)` on the i-th of `cycle` inputs in turn (keys, orgs or rows of the
/// dataset), which returns whether the call did what it should. A step may keep state of its own
/// (a mutable lambda: upsert's copies of the rows).
template <class Side, class Step>
struct CycleRun : Runner<Side> {
  Step step;
  std::size_t cycle, i = 0;
  CycleRun(Side& s, bool v, const char* what, std::size_t n, Step st)
      : Runner<Side>(s, v), step(std::move(st)), cycle(n) {
    this->what = what;
  }
  void call() {
    const std::size_t at = i;
    if (++i == cycle) i = 0;
    this->tally(step(this->side, this->d, at, this->calls));
  }
};

template <class Side, class Step>
CycleRun<Side, Step> cycle_run(Side& s, bool vacuum, const char* what, std::size_t n, Step step) {
  return CycleRun<Side, Step>(s, vacuum, what, n, std::move(step));
}

/// One row inserted per call (autocommit), into the scratch org; deleted when the runner finishes.
template <class Side>
struct InsertRun : Runner<Side> {
  Token row;
  InsertRun(Side& s, bool v) : Runner<Side>(s, v), row(make_token(this->d.scratch, this->d.scratch_user, next_seq())) {}
  void call() {
    stamp(row, next_seq());  // new id, prefix and timestamps, written in place
    this->side.insert(this->d.scratch, row);
    this->tally(true);
  }
  void finish() { cleanup_scratch(this->side, this->vacuum); }
};

/// One call inserts `n` rows (the same ones each time: they are deleted between calls, untimed).
/// `insert` is the side's method: insert_many, or one of RawPg's bulk paths.
template <class Side, class Insert>
struct BulkRun : Runner<Side> {
  std::vector<Token> batch;
  Insert insert;
  bool dirty = false;
  BulkRun(Side& s, bool v, std::size_t n, Insert ins) : Runner<Side>(s, v), batch(scratch_rows(n)), insert(ins) {
    this->rows = static_cast<std::int64_t>(n);
  }
  bool ready(std::size_t n) const { return !dirty && n <= 1; }
  void prepare(std::size_t) {
    if (dirty) cleanup_scratch(this->side, this->vacuum);
    dirty = false;
  }
  void call() {
    insert(this->side, this->d.scratch, batch);
    dirty = true;
    this->tally(true);
  }
  void finish() { prepare(1); }
};

template <class Side>
auto insert_many_run(Side& s, bool vacuum, std::size_t n) {
  auto ins = [](Side& side, OrgId org, std::vector<Token>& rows) { side.insert_many(org, rows); };
  return BulkRun<Side, decltype(ins)>(s, vacuum, n, ins);
}

/// Deletes rows one by one (autocommit); the rows to delete are inserted beforehand, untimed.
template <class Side>
struct EraseRun : Runner<Side> {
  std::vector<Token> pool;
  std::size_t next = 0;
  EraseRun(Side& s, bool v) : Runner<Side>(s, v) { this->what = "erase: a row was not there"; }
  bool ready(std::size_t n) const { return pool.size() - next >= n; }
  void prepare(std::size_t n) {
    if (ready(n)) return;
    cleanup_scratch(this->side, this->vacuum);
    pool = scratch_rows(std::max<std::size_t>(n, 1000));
    this->side.insert_many(this->d.scratch, pool);
    next = 0;
  }
  void call() { this->tally(this->side.erase(this->d.scratch, pool[next++].id)); }
  void finish() { cleanup_scratch(this->side, this->vacuum); }
};

/// The ids of each org's preloaded rows, in the dataset's shuffled order: find_many's keys.
inline const std::vector<std::vector<Uuid>>& ids_per_org() {
  static const std::vector<std::vector<Uuid>> ids = [] {
    const Dataset& d = Dataset::get();
    std::vector<std::vector<Uuid>> out(org_count);
    for (const Key& k : d.keys)
      for (std::size_t o = 0; o < org_count; ++o)
        if (d.orgs[o] == k.org) out[o].push_back(k.id);
    return out;
  }();
  return ids;
}

enum class Op {
  insert,
  insert_many_1000,
  insert_many_10000,
  find,
  find_many,
  list,
  upsert,
  put,
  set,
  erase,
  count,
  join,
  per_status,
  batch_set_10
};

inline constexpr Op all_ops[] = {Op::insert,
                                 Op::insert_many_1000,
                                 Op::insert_many_10000,
                                 Op::find,
                                 Op::find_many,
                                 Op::list,
                                 Op::upsert,
                                 Op::put,
                                 Op::set,
                                 Op::erase,
                                 Op::count,
                                 Op::join,
                                 Op::per_status,
                                 Op::batch_set_10};

inline const char* op_name(Op op) {
  switch (op) {
    case Op::insert: return "insert";
    case Op::insert_many_1000: return "insert_many_1000";
    case Op::insert_many_10000: return "insert_many_10000";
    case Op::find: return "find";
    case Op::find_many: return "find_many_100";
    case Op::list: return "list_user_100";
    case Op::upsert: return "upsert";
    case Op::put: return "upsert_no_read_back";
    case Op::set: return "set";
    case Op::erase: return "erase";
    case Op::count: return "count";
    case Op::join: return "join_100";
    case Op::per_status: return "count_per_status";
    case Op::batch_set_10: return "batch_set_10";
  }
  return "?";
}

/// Calls f(runner) with the runner of `op` on `side`.
template <class Side, class F>
void with_runner(Side& side, Op op, bool vacuum, F&& f) {
  const Dataset& data = Dataset::get();
  const auto run = [&](auto&& r) { f(r); };
  const auto by_org = [&](const char* what, auto step) { run(cycle_run(side, vacuum, what, org_count, step)); };
  switch (op) {
    case Op::insert: return run(InsertRun<Side>(side, vacuum));
    case Op::insert_many_1000: return run(insert_many_run(side, vacuum, 1000));
    case Op::insert_many_10000: return run(insert_many_run(side, vacuum, 10000));
    case Op::erase: return run(EraseRun<Side>(side, vacuum));
    case Op::find:
      return run(cycle_run(side, vacuum, "find: a preloaded row was not found", data.keys.size(),
                           [](Side& s, const Dataset& d, std::size_t i, std::int64_t) {
                             std::optional<Token> row = s.find(d.keys[i].org, d.keys[i].id);
                             benchmark::DoNotOptimize(row);
                             return row.has_value();
                           }));
    case Op::find_many:
      return by_org("find_many: wrong rows", [](Side& s, const Dataset& d, std::size_t k, std::int64_t) {
        std::vector<Token> v = s.find_many(d.orgs[k], ids_per_org()[k]);
        benchmark::DoNotOptimize(v);
        return v.size() == rows_per_org;
      });
    case Op::list:
      return by_org("list: wrong row count", [](Side& s, const Dataset& d, std::size_t k, std::int64_t) {
        std::vector<Token> v = s.list(d.orgs[k], d.users[k]);
        benchmark::DoNotOptimize(v);
        return v.size() == rows_per_org;
      });
    case Op::count:
      return by_org("count: wrong count", [](Side& s, const Dataset& d, std::size_t k, std::int64_t) {
        return s.count(d.orgs[k]) == static_cast<std::int64_t>(rows_per_org);
      });
    case Op::join:  // one user's 100 tokens with the owner's e-mail
      return by_org("join: wrong rows", [](Side& s, const Dataset& d, std::size_t k, std::int64_t) {
        std::vector<TokenWithOwner> v = s.join(d.orgs[k], d.users[k]);
        benchmark::DoNotOptimize(v);
        return v.size() == rows_per_org && v.back().email == d.owners[k].email;
      });
    case Op::per_status:  // an org's tokens per status (2 groups: 90 active, 10 inactive)
      return by_org("per_status: wrong counts", [](Side& s, const Dataset& d, std::size_t k, std::int64_t) {
        std::vector<StatusCount> v = s.per_status(d.orgs[k]);
        benchmark::DoNotOptimize(v);
        return v.size() == 2 && v[0].n + v[1].n == static_cast<std::int64_t>(rows_per_org);
      });
    case Op::set:
      return run(cycle_run(side, vacuum, "set: a row was not updated", data.keys.size(),
                           [](Side& s, const Dataset& d, std::size_t i, std::int64_t c) {
                             return s.set_updated_at(d.keys[i].org, d.keys[i].id, Timestamp{base_micros + c + 1});
                           }));
    case Op::batch_set_10:  // ten of an org's rows, a window that moves on each round of the orgs
      return by_org("batch_set_10: a row was not updated",
                    [](Side& s, const Dataset& d, std::size_t k, std::int64_t c) {
                      const std::vector<Uuid>& ids = ids_per_org()[k];
                      const std::size_t at = static_cast<std::size_t>(c) / org_count * 10 % (ids.size() - 9);
                      return s.set_batch(d.orgs[k], ids.data() + at, 10, Timestamp{base_micros + c + 1}) == 10;
                    });
    case Op::upsert:  // an existing (org, token_prefix): the DO UPDATE path, the stored row read back
      return run(cycle_run(side, vacuum, "upsert: the existing row's id did not come back", data.order.size(),
                           [copies = data.rows](Side& s, const Dataset& d, std::size_t i, std::int64_t c) mutable {
                             Token& r = copies[d.order[i]];
                             r.id = uuid_v7(next_seq());  // as a caller would: a new id; the stored one comes back
                             r.updated_at = Timestamp{base_micros + c + 1};
                             s.upsert(r.org_id, r);
                             return r.id == d.rows[d.order[i]].id;
                           }));
    case Op::put:  // the same upsert without reading the stored row back (raw: no RETURNING)
      return run(cycle_run(side, vacuum, "put", data.order.size(),
                           [copies = data.rows](Side& s, const Dataset& d, std::size_t i, std::int64_t c) mutable {
                             Token& r = copies[d.order[i]];
                             r.updated_at = Timestamp{base_micros + c + 1};
                             s.put(r.org_id, r);
                             return true;
                           }));
  }
}

/// Runs `calls` calls of r in as few chunks as its maintenance allows (prepare() between chunks,
/// never inside one), calling `around(run_chunk)` for each chunk: what is measured (instructions,
/// protocol messages) wraps exactly the calls. Used by the fixed-count runners
/// (callgrind_ops.cpp, pg_counts.hpp).
template <class R, class Around>
void in_chunks(R& r, std::size_t calls, Around around) {
  for (std::size_t done = 0; done < calls;) {
    std::size_t chunk = calls - done;
    r.prepare(chunk);
    if (!r.ready(chunk)) {
      chunk = 1;
      r.prepare(1);
    }
    around([&] {
      for (std::size_t i = 0; i < chunk; ++i) r.call();
    });
    done += chunk;
  }
}

// ---- the two kinds of benchmark -----------------------------------------------------------------

/// One side alone: Google Benchmark times each call; maintenance runs with the clock stopped.
template <class R>
void bm_single(benchmark::State& st, R& r) {
  for (auto _ : st) {
    if (!r.ready(1)) {
      st.PauseTiming();
      r.prepare(1);
      st.ResumeTiming();
    }
    r.call();
  }
  r.finish();
  if (r.rows > 1) st.SetItemsProcessed(st.iterations() * r.rows);
  if (const std::string e = r.error(); !e.empty()) st.SkipWithError(e.c_str());
}

template <class Side>
void run_op(benchmark::State& st, Side& side, Op op, bool vacuum) {
  with_runner(side, op, vacuum, [&](auto& r) { bm_single(st, r); });
}

inline double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}
inline double wall_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

inline double median_of(std::vector<double>& v) {
  if (v.empty()) return 0;
  const auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  return *mid;
}

/// Both sides in the same time window: each iteration is one round of a batch of raw calls and a
/// batch of tenantry calls (about 0.5 ms each, in alternating order), so load from other
/// processes falls on both alike, and a batch that was preempted is an outlier that the median
/// over rounds ignores. Reports, for the repetition: raw_us and tenantry_us (median wall time per
/// call over the batches), raw_cpu_us and tenantry_cpu_us (the same by this thread's CPU clock),
/// ratio and ratio_cpu (the median over rounds of tenantry / raw). With --benchmark_repetitions,
/// the medians of these are the overhead estimate that survives a loaded machine.
template <class RA, class RB>
void bm_paired(benchmark::State& st, RA& raw, RB& ten) {
  // Batch size: about 0.5 ms of raw calls, measured on a few warm calls. Bulk runners take one
  // call per batch (they clean up after each).
  std::size_t batch = 1;
  raw.prepare(4);
  if (raw.ready(4)) {
    const double t0 = wall_seconds();
    for (int i = 0; i < 4; ++i) raw.call();
    const double per_call = (wall_seconds() - t0) / 4;
    batch = static_cast<std::size_t>(std::clamp(0.5e-3 / std::max(per_call, 1e-9), 1.0, 2000.0));
  }
  std::vector<double> wall[2], cpu[2], ratio, ratio_cpu;
  bool raw_first = true;
  const auto run_batch = [&](auto& r, int side) {
    r.prepare(batch);
    const double w0 = wall_seconds(), c0 = thread_cpu_seconds();
    for (std::size_t b = 0; b < batch; ++b) r.call();
    const double w = wall_seconds() - w0, c = thread_cpu_seconds() - c0;
    wall[side].push_back(w / static_cast<double>(batch));
    cpu[side].push_back(c / static_cast<double>(batch));
    return w;
  };
  for (auto _ : st) {
    double round = 0;
    if (raw_first) {
      round += run_batch(raw, 0);
      round += run_batch(ten, 1);
    } else {
      round += run_batch(ten, 1);
      round += run_batch(raw, 0);
    }
    raw_first = !raw_first;
    ratio.push_back(wall[1].back() / wall[0].back());
    if (cpu[0].back() > 0) ratio_cpu.push_back(cpu[1].back() / cpu[0].back());
    st.SetIterationTime(round);
  }
  raw.finish();
  ten.finish();
  if (!ratio.empty()) {
    st.counters["raw_us"] = 1e6 * median_of(wall[0]);
    st.counters["tenantry_us"] = 1e6 * median_of(wall[1]);
    st.counters["raw_cpu_us"] = 1e6 * median_of(cpu[0]);
    st.counters["tenantry_cpu_us"] = 1e6 * median_of(cpu[1]);
    st.counters["ratio"] = median_of(ratio);
    if (!ratio_cpu.empty()) st.counters["ratio_cpu"] = median_of(ratio_cpu);
    st.counters["batch"] = static_cast<double>(batch);
  }
  std::string e = raw.error();
  if (e.empty()) e = ten.error();
  if (!e.empty()) st.SkipWithError(e.c_str());
}

template <class SideA, class SideB>
void run_paired(benchmark::State& st, SideA& raw, SideB& ten, Op op, bool vacuum) {
  with_runner(raw, op, vacuum,
              [&](auto& ra) { with_runner(ten, op, vacuum, [&](auto& rb) { bm_paired(st, ra, rb); }); });
}

/// Checks, before anything is timed, that both sides return the same rows for the same calls
/// (and so run equivalent statements), and warms every statement on both. Throws on a mismatch.
template <class A, class B>
void cross_check(A& a, B& b, bool vacuum) {
  const Dataset& d = Dataset::get();
  const auto fail = [](const std::string& what) { throw std::runtime_error("cross-check failed: " + what); };
  for (std::size_t i = 0; i < 50; ++i) {
    const Key& k = d.keys[i * 97 % d.keys.size()];
    const auto ra = a.find(k.org, k.id), rb = b.find(k.org, k.id);
    if (!ra || !rb || *ra != *rb) fail("find");
  }
  if (a.find(d.scratch, d.keys[0].id) || b.find(d.scratch, d.keys[0].id)) fail("find in another org");
  const auto by_id = [](std::vector<Token> v) {  // find_many promises no order
    std::sort(v.begin(), v.end(), [](const Token& x, const Token& y) { return x.id.bytes < y.id.bytes; });
    return v;
  };
  for (std::size_t k = 0; k < 3; ++k) {
    const auto ma = by_id(a.find_many(d.orgs[k], ids_per_org()[k])),
               mb = by_id(b.find_many(d.orgs[k], ids_per_org()[k]));
    if (ma.size() != rows_per_org || ma != mb) fail("find_many");
    if (!a.find_many(d.orgs[k + 1], ids_per_org()[k]).empty() || !b.find_many(d.orgs[k + 1], ids_per_org()[k]).empty())
      fail("find_many in another org");
  }
  for (std::size_t k = 0; k < 3; ++k) {
    const auto la = a.list(d.orgs[k], d.users[k]), lb = b.list(d.orgs[k], d.users[k]);
    if (la.size() != rows_per_org || la != lb) fail("list");
    if (a.count(d.orgs[k]) != static_cast<std::int64_t>(rows_per_org) || b.count(d.orgs[k]) != a.count(d.orgs[k]))
      fail("count");
    const auto ja = a.join(d.orgs[k], d.users[k]), jb = b.join(d.orgs[k], d.users[k]);
    if (ja.size() != rows_per_org || ja != jb || ja[0].email != d.owners[k].email) fail("join");
    const auto ga = a.per_status(d.orgs[k]), gb = b.per_status(d.orgs[k]);
    if (ga.size() != 2 || ga != gb || ga[0].n + ga[1].n != static_cast<std::int64_t>(rows_per_org)) fail("per_status");
  }

  // Writes, on the scratch org: the same sequence on both, then the same rows must be stored.
  std::vector<Token> rows = scratch_rows(4);
  auto ra = rows, rb = rows;
  a.insert(d.scratch, ra[0]);
  b.insert(d.scratch, rb[0]);
  std::vector<Token> many_a(ra.begin() + 1, ra.end()), many_b(rb.begin() + 1, rb.end());
  a.insert_many(d.scratch, many_a);
  b.insert_many(d.scratch, many_b);
  Token ua = ra[1], ub = rb[1];
  ua.id = ub.id = uuid_v7(next_seq());
  ua.name = ub.name = "renamed by upsert";
  a.upsert(d.scratch, ua);
  b.upsert(d.scratch, ub);
  if (ua != ub || ua.id != rows[1].id || ua.name != "renamed by upsert") fail("upsert");
  Token pa = rows[1], pb = rows[1];
  pa.id = pb.id = uuid_v7(next_seq());
  pa.name = pb.name = "renamed by put";
  a.put(d.scratch, pa);
  b.put(d.scratch, pb);
  const auto fa = a.find(d.scratch, rows[1].id), fb = b.find(d.scratch, rows[1].id);
  if (!fa || !fb || *fa != *fb || fa->name != "renamed by put") fail("put");
  const Timestamp ts{base_micros + 42};
  if (!a.set_updated_at(d.scratch, rows[2].id, ts) || !b.set_updated_at(d.scratch, rows[2].id, ts)) fail("set");
  if (!a.erase(d.scratch, rows[3].id) || !b.erase(d.scratch, rows[3].id)) fail("erase");
  if (a.erase(d.scratch, rows[3].id) || b.erase(d.scratch, rows[3].id)) fail("erase twice");
  {
    const Uuid ids[3] = {rows[0].id, rows[3].id, rows[1].id};  // rows[3] is gone: 2 of 3 change
    if (a.set_batch(d.scratch, ids, 3, ts) != 2 || b.set_batch(d.scratch, ids, 3, ts) != 2) fail("set_batch");
  }
  const auto sa = a.list(d.scratch, d.scratch_user), sb = b.list(d.scratch, d.scratch_user);
  if (sa.size() != 3 || sa != sb) fail("rows written");
  // A scratch-org token naming a user that exists only in org 0: the join must not reach org 0's
  // owner row (both sides run the writer's SQL, which filters each table by the org).
  std::vector<Token> stray = scratch_rows(1);
  stray[0].user_id = d.users[0];
  auto stray_b = stray;
  a.insert(d.scratch, stray[0]);
  b.insert(d.scratch, stray_b[0]);
  if (!a.join(d.scratch, d.users[0]).empty() || !b.join(d.scratch, d.users[0]).empty())
    fail("join reached another org");
  cleanup_scratch(a, vacuum);
  cleanup_scratch(b, vacuum);
}

// ---- command line ----------------------------------------------------------------------------

/// Takes our own flags out of argv (leaving Google Benchmark's): `--quick` becomes a tiny
/// --benchmark_min_time and one repetition (flags given later still win), `--name=value` flags
/// listed in `ours` are stored in `values`.
struct Flags {
  bool quick = false;
  std::vector<std::pair<std::string, std::string>> values;

  std::string get(std::string_view name, std::string fallback) const {
    for (const auto& [k, v] : values)
      if (k == name) return v;
    return fallback;
  }
};

inline Flags take_flags(int& argc, char**& argv, std::initializer_list<std::string_view> ours) {
  static std::vector<std::string> storage;
  static std::vector<char*> args;
  Flags f;
  storage.clear();
  storage.emplace_back(argv[0]);
  std::vector<std::string> rest;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--quick") {
      f.quick = true;
      continue;
    }
    bool taken = false;
    for (std::string_view name : ours) {
      const std::string prefix = "--" + std::string(name) + "=";
      if (a.starts_with(prefix)) {
        f.values.emplace_back(std::string(name), std::string(a.substr(prefix.size())));
        taken = true;
      }
    }
    if (!taken) rest.emplace_back(a);
  }
  if (f.quick) {
    storage.emplace_back("--benchmark_min_time=0.002");
    storage.emplace_back("--benchmark_repetitions=1");
  }
  for (auto& r : rest) storage.push_back(std::move(r));
  args.clear();
  for (auto& s : storage) args.push_back(s.data());
  args.push_back(nullptr);
  argc = static_cast<int>(storage.size());
  argv = args.data();
  return f;
}

inline std::string env_or(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

}  // namespace bench
