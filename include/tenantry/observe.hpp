// tenantry/observe.hpp - statement hooks and per-org counters, for logs, traces and metrics.
//
//   auto observer = std::make_shared<tenantry::StatementObserver>(tenantry::ObserverOptions{
//       .on_slow_statement = [](const tenantry::StatementEvent& e) { std::fprintf(stderr, "slow: %.*s\n",
//       int(e.text.size()), e.text.data()); }, .slow_threshold = std::chrono::milliseconds(100)});
//   tenantry::sqlite::Connection conn{"app.db", {.observer = observer}};  // pg::Options, ConnectOptions: the same
//   tenantry::Repository<ApiToken, tenantry::SqliteDialect> repo{conn};
//   repo.count(org);
//   for (const tenantry::OrgStatementStats& s : observer->snapshot()) std::printf("%llu calls\n", (unsigned long
//   long)s.calls);
//
// What is observed. Every execution of a prepared statement on a connection that has an
// observer: repository calls, queries (select.hpp), raw_query / raw_execute, and the statements
// tenantry runs for the org context (set_config). Not observed: what Connection::execute() runs
// (DDL, transaction control, migrations' scripts) and statements run by a hook itself on the
// connection that is reporting. For each execution the observer gets a StatementEvent: the org
// of the call (none for global tables and platform work), the statement's id and text, its
// duration, rows returned and affected, and the error it raised, if any.
//
// Where it is installed: once per connection, through the options the connection is opened
// with (sqlite::Options::observer, pg::Options::observer, ConnectOptions::observer), so a Pool
// installs it on every connection it opens from PoolOptions::connect. Not process-wide: a
// process may hold several pools (primary and replica, several services, tests) that want
// their own counters and hooks, and no global state is shared between threads on the hot path.
// One observer may serve any number of connections and threads.
//
// The id is sql_statement_name(text) (sql_registry.hpp): "tenantry_" and 48 hex digits of the
// SHA-256 of the text, the name PostgreSQL knows the prepared statement by, computed the same
// way on SQLite. It is stable across processes and builds; equal text gives equal ids on both
// dialects (tenantry writes different text per dialect for the same call: ?1 and $1, so a
// repository call has one id per dialect).
//
// Cost. With no observer, a statement pays one well-predicted branch per step() and per
// reset(), and the org of each org-scoped call is noted in the connection (a pointer and its
// key type: a few stores, never a copy of the org): no
// clock read, no allocation (benchmarks: <target>_hook/...). With one, two clock reads per
// execution, the counters (a per-thread shard: no lock shared between threads once an org has
// been seen on a thread) and the hooks you install (see docs/observability.md for numbers).
//
// Hooks run on the thread that ran the statement, right after it ended (before the call
// returns or throws). A hook that throws is swallowed and counted (hook_failures()); the
// statement's result, its exception and the connection are unaffected. A hook must not use the
// connection that is reporting (statements it runs there are not observed; better not to).
#pragma once

#include "tenantry/error.hpp"
#include "tenantry/types.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <deque>
#include <exception>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

namespace tenantry {

/// The kind of error a statement raised, from the exception tree of error.hpp (most derived).
enum class ErrorKind : std::uint8_t {
  none,
  usage,
  value,
  org_mismatch,
  database,
  connection,
  unsupported_version,
  busy,
  storage_full,
  read_only,
  org_not_provisioned,
  org_context_missing,
  statement_name_collision,
  query_canceled,
  statement_timeout,
  constraint,
  unique_violation,
  foreign_key_violation,
  check_violation,
  not_null_violation,
  other,  ///< an exception that is not a tenantry::Error
};

/// "unique_violation", "statement_timeout", ...: the enumerator's name, for logs and labels.
constexpr std::string_view to_string(ErrorKind k) noexcept {
  constexpr std::string_view names[] = {"none",
                                        "usage",
                                        "value",
                                        "org_mismatch",
                                        "database",
                                        "connection",
                                        "unsupported_version",
                                        "busy",
                                        "storage_full",
                                        "read_only",
                                        "org_not_provisioned",
                                        "org_context_missing",
                                        "statement_name_collision",
                                        "query_canceled",
                                        "statement_timeout",
                                        "constraint",
                                        "unique_violation",
                                        "foreign_key_violation",
                                        "check_violation",
                                        "not_null_violation",
                                        "other"};
  const auto i = static_cast<std::size_t>(k);
  return i < std::size(names) ? names[i] : "other";
}

/// The kind of `e`: its most derived class in error.hpp's tree.
inline ErrorKind error_kind(const std::exception& e) noexcept {
  const auto is = [&](auto* type) { return dynamic_cast<decltype(type)>(&e) != nullptr; };
  if (is(static_cast<const UniqueViolation*>(nullptr))) return ErrorKind::unique_violation;
  if (is(static_cast<const ForeignKeyViolation*>(nullptr))) return ErrorKind::foreign_key_violation;
  if (is(static_cast<const CheckViolation*>(nullptr))) return ErrorKind::check_violation;
  if (is(static_cast<const NotNullViolation*>(nullptr))) return ErrorKind::not_null_violation;
  if (is(static_cast<const ConstraintViolation*>(nullptr))) return ErrorKind::constraint;
  if (is(static_cast<const StatementTimeout*>(nullptr))) return ErrorKind::statement_timeout;
  if (is(static_cast<const QueryCanceled*>(nullptr))) return ErrorKind::query_canceled;
  if (is(static_cast<const UnsupportedVersion*>(nullptr))) return ErrorKind::unsupported_version;
  if (is(static_cast<const ConnectionError*>(nullptr))) return ErrorKind::connection;
  if (is(static_cast<const BusyError*>(nullptr))) return ErrorKind::busy;
  if (is(static_cast<const StorageFull*>(nullptr))) return ErrorKind::storage_full;
  if (is(static_cast<const ReadOnlyError*>(nullptr))) return ErrorKind::read_only;
  if (is(static_cast<const OrgNotProvisioned*>(nullptr))) return ErrorKind::org_not_provisioned;
  if (is(static_cast<const OrgContextMissing*>(nullptr))) return ErrorKind::org_context_missing;
  if (is(static_cast<const StatementNameCollision*>(nullptr))) return ErrorKind::statement_name_collision;
  if (is(static_cast<const DatabaseError*>(nullptr))) return ErrorKind::database;
  if (is(static_cast<const OrgMismatch*>(nullptr))) return ErrorKind::org_mismatch;
  if (is(static_cast<const ValueError*>(nullptr))) return ErrorKind::value;
  if (is(static_cast<const UsageError*>(nullptr))) return ErrorKind::usage;
  return ErrorKind::other;
}

/// The org of an observed statement, whatever the key type of its entity set: an OrgId, a
/// TextOrgId or an IntOrgId, or none (a statement without an org). Orgs of different key types
/// are different orgs (the text org "1" is not the integer org 1, nor a UUID org spelled like
/// it), and keys compare exactly ("Acme" is not "acme"). Ordered: none first, then UUID, text
/// and integer orgs.
class AnyOrgId {
 public:
  AnyOrgId() = default;
  template <class K>
  AnyOrgId(const BasicOrgId<K>& org) : v_(org) {}  // NOLINT(google-explicit-constructor): any org is one

  /// True for none (no org), and for a nil org id of any type.
  bool is_nil() const noexcept {
    return std::visit(
        [](const auto& o) {
          if constexpr (std::is_same_v<std::remove_cvref_t<decltype(o)>, std::monostate>) return true;
          else return o.is_nil();
        },
        v_);
  }
  /// The org id when it is of type O (OrgId, TextOrgId, IntOrgId), else null.
  template <org_id_type O>
  const O* get() const noexcept {
    return std::get_if<O>(&v_);
  }
  /// The key's text form ("" for none): a UUID, the text key itself, decimal digits.
  std::string to_string() const {
    return std::visit(
        [](const auto& o) {
          if constexpr (std::is_same_v<std::remove_cvref_t<decltype(o)>, std::monostate>) return std::string();
          else return o.to_string();
        },
        v_);
  }
  /// "uuid", "text", "int", or "" for none: with to_string(), a label that keeps types apart.
  std::string_view key_type_name() const noexcept {
    constexpr std::string_view names[] = {"", "uuid", "text", "int"};
    return names[v_.index()];
  }
  std::size_t hash() const noexcept {
    const std::size_t h = std::visit(
        [](const auto& o) -> std::size_t {
          using O = std::remove_cvref_t<decltype(o)>;
          if constexpr (std::is_same_v<O, std::monostate>) {
            return 0;
          } else if constexpr (std::is_same_v<O, OrgId>) {
            std::uint64_t a = 0, b = 0;
            std::memcpy(&a, o.value.bytes.data(), 8);
            std::memcpy(&b, o.value.bytes.data() + 8, 8);
            return static_cast<std::size_t>(a ^ (b * 0x9e3779b97f4a7c15ull));
          } else {
            return std::hash<typename O::key_type>{}(o.value);
          }
        },
        v_);
    return h ^ (v_.index() * 0x9e3779b97f4a7c15ull);
  }

  friend bool operator==(const AnyOrgId& a, const AnyOrgId& b) { return a.v_ == b.v_; }
  friend bool operator<(const AnyOrgId& a, const AnyOrgId& b) { return a.v_ < b.v_; }

 private:
  std::variant<std::monostate, OrgId, TextOrgId, IntOrgId> v_;
};

/// One execution of a statement, as its observer sees it. The views are valid during the hook
/// call only: copy what you keep.
struct StatementEvent {
  std::string_view dialect;  ///< "sqlite" or "postgres"
  /// The org of the call that ran it, of the key type of its entities (org->get<OrgId>(),
  /// org->get<TextOrgId>(), ...); null for a statement without one (global tables, queries
  /// without an org, platform work).
  const AnyOrgId* org = nullptr;
  std::string_view id;    ///< sql_statement_name(text): "tenantry_" + 48 hex digits
  std::string_view text;  ///< the SQL text, as sent
  /// From the first step to the end of the execution: the round trip on PostgreSQL; on SQLite
  /// (which computes rows as they are read) the stepping through all rows read.
  std::chrono::nanoseconds duration{0};
  /// Rows the statement returned (a SELECT's rows, RETURNING rows): on PostgreSQL the rows of
  /// the result, on SQLite the rows read before the statement was reset.
  std::int64_t rows = 0;
  std::int64_t affected = 0;          ///< rows inserted, updated or deleted (0 for reads and failures)
  ErrorKind error = ErrorKind::none;  ///< none when it succeeded
  std::string_view error_code;        ///< DatabaseError::code(): SQLSTATE, or SQLite's extended code
  std::string_view error_message;     ///< the exception's what()
  bool slow = false;                  ///< duration >= ObserverOptions::slow_threshold (when set)

  bool failed() const noexcept { return error != ErrorKind::none; }
};

/// One org's counters (StatementObserver::snapshot()).
struct OrgStatementStats {
  AnyOrgId org;                      ///< none (is_nil()): statements without an org
  std::uint64_t calls = 0;           ///< executions
  std::uint64_t errors = 0;          ///< of which failed
  std::uint64_t slow = 0;            ///< of which were at or above the slow threshold
  std::uint64_t rows = 0;            ///< rows returned, summed
  std::uint64_t affected = 0;        ///< rows inserted, updated or deleted, summed
  std::chrono::nanoseconds time{0};  ///< durations, summed
};

/// What an observer does with each execution. Aggregate: ObserverOptions{.on_statement = f}.
struct ObserverOptions {
  /// Called for every execution; empty: not called.
  std::function<void(const StatementEvent&)> on_statement{};
  /// Called for executions at or above slow_threshold only (and only when it is set).
  std::function<void(const StatementEvent&)> on_slow_statement{};
  /// 0: no execution is slow.
  std::chrono::nanoseconds slow_threshold{0};
  /// Keep per-org counters (snapshot()).
  bool counters = true;
};

/// Receives every execution of the connections it is installed on (see the file comment);
/// shared by them (std::shared_ptr), thread-safe.
class StatementObserver {
 public:
  explicit StatementObserver(ObserverOptions options = {}) : options_(std::move(options)), serial_(next_serial()) {}
  StatementObserver(const StatementObserver&) = delete;
  StatementObserver& operator=(const StatementObserver&) = delete;

  const ObserverOptions& options() const noexcept { return options_; }

  /// Every org's counters so far, by org (the nil org, statements without one, first). A
  /// consistent total per counter only when no statement runs meanwhile; cheap enough to call
  /// from a metrics endpoint.
  std::vector<OrgStatementStats> snapshot() const {
    std::map<AnyOrgId, OrgStatementStats> merged;
    std::lock_guard lock(shards_mutex_);
    for (const Shard& s : shards_) {
      std::lock_guard shard_lock(s.mutex);
      for (const auto& [org, c] : s.orgs) {
        OrgStatementStats& m = merged[org];
        m.org = org;
        m.calls += c.calls.load(std::memory_order_relaxed);
        m.errors += c.errors.load(std::memory_order_relaxed);
        m.slow += c.slow.load(std::memory_order_relaxed);
        m.rows += c.rows.load(std::memory_order_relaxed);
        m.affected += c.affected.load(std::memory_order_relaxed);
        m.time += std::chrono::nanoseconds(c.nanos.load(std::memory_order_relaxed));
      }
    }
    std::vector<OrgStatementStats> out;
    out.reserve(merged.size());
    for (auto& [org, m] : merged) out.push_back(m);
    return out;
  }

  /// The counters of one org (zero when it ran nothing), of any org type; nullptr or a nil org:
  /// statements without an org.
  template <class O>
  requires(org_id_type<O> || std::is_same_v<O, AnyOrgId>) OrgStatementStats stats(const O* org)
  const { return stats_of(org != nullptr && !org->is_nil() ? AnyOrgId(*org) : AnyOrgId()); }
  OrgStatementStats stats(std::nullptr_t) const { return stats_of(AnyOrgId()); }

  /// How many times a hook threw (each was swallowed; the statement went on unaffected).
  std::uint64_t hook_failures() const noexcept { return hook_failures_.load(std::memory_order_relaxed); }

  /// Counts the execution and calls the hooks; never throws. Drivers call it.
  void record(const StatementEvent& e) noexcept {
    if (options_.counters) count(e);
    if (options_.on_statement) call(options_.on_statement, e);
    if (e.slow && options_.on_slow_statement) call(options_.on_slow_statement, e);
  }

 private:
  OrgStatementStats stats_of(const AnyOrgId& key) const {
    for (const OrgStatementStats& s : snapshot())
      if (s.org == key) return s;
    OrgStatementStats none;
    none.org = key;
    return none;
  }

  struct Counters {
    std::atomic<std::uint64_t> calls{0}, errors{0}, slow{0}, rows{0}, affected{0}, nanos{0};
  };
  struct OrgHash {
    std::size_t operator()(const AnyOrgId& o) const noexcept { return o.hash(); }
  };
  /// One thread's counters: written by that thread only (plain load + store, no read-modify-
  /// write), read by snapshot(). The mutex guards the map's structure: taken by the owner when
  /// it adds an org, and by snapshot().
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<AnyOrgId, Counters, OrgHash> orgs;
  };

  static std::uint64_t next_serial() noexcept {
    static std::atomic<std::uint64_t> serial{0};
    return serial.fetch_add(1, std::memory_order_relaxed) + 1;
  }

  /// This thread's shard, found in a short per-thread list keyed by the observer's serial (never
  /// reused, so an entry left by a destroyed observer never matches a new one).
  Shard& shard() {
    struct Entry {
      std::uint64_t serial;
      Shard* shard;
    };
    thread_local std::vector<Entry> mine;
    for (const Entry& e : mine)
      if (e.serial == serial_) return *e.shard;
    Shard* s = nullptr;
    {
      std::lock_guard lock(shards_mutex_);
      s = &shards_.emplace_back();
    }
    // A thread that outlives many observers keeps 16 entries; one dropped here re-registers
    // with a new shard of the same observer, which snapshot() sums as well.
    if (mine.size() >= 16) mine.erase(mine.begin());
    mine.push_back({serial_, s});
    return *s;
  }

  static void add(std::atomic<std::uint64_t>& a, std::uint64_t n) noexcept {
    a.store(a.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }

  void count(const StatementEvent& e) noexcept {
    try {
      Shard& s = shard();
      const AnyOrgId none;
      const AnyOrgId& key = e.org != nullptr ? *e.org : none;
      auto it = s.orgs.find(key);
      if (it == s.orgs.end()) {
        std::lock_guard lock(s.mutex);
        it = s.orgs.try_emplace(key).first;
      }
      Counters& c = it->second;
      add(c.calls, 1);
      if (e.failed()) add(c.errors, 1);
      if (e.slow) add(c.slow, 1);
      add(c.rows, static_cast<std::uint64_t>(e.rows));
      add(c.affected, static_cast<std::uint64_t>(e.affected));
      add(c.nanos, static_cast<std::uint64_t>(e.duration.count()));
    } catch (...) {
      // Out of memory adding an org: this execution goes uncounted.
    }
  }

  void call(const std::function<void(const StatementEvent&)>& hook, const StatementEvent& e) noexcept {
    try {
      hook(e);
    } catch (...) {
      hook_failures_.fetch_add(1, std::memory_order_relaxed);
    }
  }

  ObserverOptions options_;
  std::uint64_t serial_;
  mutable std::mutex shards_mutex_;
  std::deque<Shard> shards_;  // deque: a shard never moves once handed to its thread
  std::atomic<std::uint64_t> hook_failures_{0};
};

namespace detail {

/// A pointer to the org of the operation running, of any org type (the org lives in the caller's
/// frame for the whole operation).
class OrgRef {
 public:
  OrgRef() = default;
  template <class K>
  explicit OrgRef(const BasicOrgId<K>& org) noexcept
      : p_(&org),
        kind_(std::is_same_v<K, Uuid>          ? 1
              : std::is_same_v<K, std::string> ? 2
                                               : 3) {}
  explicit operator bool() const noexcept { return p_ != nullptr; }
  /// A copy of the org (none when empty).
  AnyOrgId copy() const {
    switch (kind_) {
      case 1: return *static_cast<const OrgId*>(p_);
      case 2: return *static_cast<const TextOrgId*>(p_);
      case 3: return *static_cast<const IntOrgId*>(p_);
      default: return {};
    }
  }

 private:
  const void* p_ = nullptr;
  std::uint8_t kind_ = 0;
};

/// A connection's observation state, shared with its statements (it lives on the heap, so a
/// connection can move while its statements point at it).
struct StatementWatch {
  StatementObserver* observer = nullptr;  // the hot-path test: null when nothing is installed
  std::shared_ptr<StatementObserver> owner;
  OrgRef org{};          // the org of the operation running now (in_org_context)
  bool in_hook = false;  // a hook is running: what it runs here is not observed

  void install(std::shared_ptr<StatementObserver> o) noexcept {
    owner = std::move(o);
    observer = owner.get();
  }
};

/// Statements made without a connection's watch point here; nothing is ever installed on it.
inline StatementWatch unwatched{};

/// Notes the org of an operation in its connection's watch for as long as the operation runs
/// (in_org_context), so that its statements are reported with it. A few stores, no branch, no
/// copy of the org (an Execution copies it only when an observer is installed).
class OrgLabel {
 public:
  template <class K>
  OrgLabel(StatementWatch& w, const BasicOrgId<K>& org) noexcept : w_(&w), previous_(w.org) {
    w.org = OrgRef(org);
  }
  ~OrgLabel() { w_->org = previous_; }
  OrgLabel(const OrgLabel&) = delete;
  OrgLabel& operator=(const OrgLabel&) = delete;

 private:
  StatementWatch* w_;
  OrgRef previous_;
};

/// Reports a statement that failed before it could execute (preparing it failed: a syntax error,
/// an unknown table, a lost connection), as an execution of no rows with that error.
inline void report_unprepared(StatementWatch& w, std::string_view dialect, std::string_view id, std::string_view text,
                              std::chrono::steady_clock::time_point start, const std::exception& error) noexcept {
  StatementObserver* o = w.observer;
  if (o == nullptr || w.in_hook) return;
  StatementEvent e;
  e.duration = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start);
  e.dialect = dialect;
  AnyOrgId org;
  try {
    org = w.org.copy();
  } catch (...) {
    // out of memory: reported without its org
  }
  e.org = org.is_nil() ? nullptr : &org;
  e.id = id;
  e.text = text;
  e.error = error_kind(error);
  e.error_message = error.what();
  if (const auto* d = dynamic_cast<const DatabaseError*>(&error)) e.error_code = d->code();
  const auto threshold = o->options().slow_threshold;
  e.slow = threshold.count() > 0 && e.duration >= threshold;
  w.in_hook = true;
  o->record(e);
  w.in_hook = false;
}

/// One statement's execution being observed, from its first step to its end (the last step,
/// an error, or reset()). Each driver's Statement holds one.
class Execution {
 public:
  enum class State : std::uint8_t { idle, running, ended };

  /// True while the driver's observed step() runs the plain one (so it does not recurse).
  bool stepping = false;

  State state() const noexcept { return state_; }
  void begin(const StatementWatch& w) noexcept {
    state_ = State::running;
    has_org_ = static_cast<bool>(w.org);
    if (has_org_) {
      try {
        org_ = w.org.copy();  // allocates only for a text key longer than the string's buffer
      } catch (...) {
        has_org_ = false;  // out of memory: reported without its org
      }
    }
    rows_ = 0;
    start_ = std::chrono::steady_clock::now();
  }
  void row() noexcept { ++rows_; }

  /// The observed form of a driver's step(), the part both drivers share: `step()` runs the
  /// plain step (the driver's step() sees `stepping` and does not come back here); the first
  /// call begins the execution, each row is counted, and `end(failed, error)` (the driver's own
  /// report: what it knows of rows and changes) runs when the rows are exhausted or step()
  /// throws, the error passed on. What a hook runs, and steps after the end, are not observed.
  template <class Step, class End>
  bool observe_step(const StatementWatch& w, Step&& step, End&& end) {
    stepping = true;
    struct Done {
      bool& stepping;
      ~Done() { stepping = false; }
    } done{stepping};
    if (w.in_hook || state_ == State::ended) return step();
    if (state_ == State::idle) begin(w);
    try {
      const bool has_row = step();
      if (has_row) row();
      else end(false, nullptr);
      return has_row;
    } catch (const std::exception& e) {
      end(true, &e);
      throw;
    } catch (...) {
      end(true, nullptr);
      throw;
    }
  }
  std::int64_t rows() const noexcept { return rows_; }
  void clear() noexcept { state_ = State::idle; }

  /// Ends a running execution and reports it to w's observer; `failed` with the exception
  /// (null when it was not a std::exception).
  void end(StatementWatch& w, std::string_view dialect, std::string_view id, std::string_view text, std::int64_t rows,
           std::int64_t affected, bool failed, const std::exception* error) noexcept {
    if (state_ != State::running) return;
    state_ = State::ended;
    StatementObserver* o = w.observer;
    if (o == nullptr) return;
    StatementEvent e;
    e.duration = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start_);
    e.dialect = dialect;
    e.org = has_org_ ? &org_ : nullptr;
    e.id = id;
    e.text = text;
    e.rows = rows;
    e.affected = failed ? 0 : affected;
    if (failed) {
      e.error = error != nullptr ? error_kind(*error) : ErrorKind::other;
      if (error != nullptr) e.error_message = error->what();
      if (const auto* d = dynamic_cast<const DatabaseError*>(error)) e.error_code = d->code();
    }
    const auto threshold = o->options().slow_threshold;
    e.slow = threshold.count() > 0 && e.duration >= threshold;
    w.in_hook = true;
    o->record(e);
    w.in_hook = false;
  }

 private:
  State state_ = State::idle;
  bool has_org_ = false;
  AnyOrgId org_{};
  std::int64_t rows_ = 0;
  std::chrono::steady_clock::time_point start_{};
};

}  // namespace detail

}  // namespace tenantry
