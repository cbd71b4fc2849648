// tenantry/pool.hpp - a fixed-size, thread-safe connection pool (link tenantry::tenantry).
//
//   tenantry::Pool<tenantry::Database> pool{"postgres://app@db/app"};   // or "sqlite:app.db", "" = DATABASE_URL
//   {
//     auto conn = pool.acquire();                  // a Lease: waits up to acquire_timeout, else PoolTimeout
//     tenantry::Repository<ApiToken> tokens{*conn};
//     tokens.insert(org, token);
//   }                                              // back to the pool, clean (see "Return" below)
//
// Connection types: tenantry::Database (dialect chosen by the URL), sqlite::Connection and
// pg::Connection (URL of that kind only); PoolOptions<Conn>::connect holds the options the type
// opens with (ConnectOptions, sqlite::Options, pg::Options). Any other movable connection type
// works with the constructor that takes a factory.
//
// Size. PoolOptions::size when non-zero, else the environment variable DATABASE_POOL_SIZE, else
// 10. The pool never holds more connections than that; it opens one at construction (so a bad URL
// or an unreachable server fails there, not at the first request) and the others when a caller
// finds no idle one. A private in-memory SQLite database ("sqlite::memory:") is a different empty
// database on every connection, so its pool has exactly one connection (an explicit size > 1 is a
// UsageError rather than a silent surprise).
//
// Acquire. acquire() hands out an idle connection (most recently returned first, so the warm
// statement caches get used), opens a new one while the pool is below its size, or waits. Waiting
// callers are served in arrival order, by direct hand-off, so a steady stream of newcomers cannot
// starve an early waiter. After PoolOptions::acquire_timeout a waiter gets PoolTimeout, which
// names the pool size, how long it waited, and how many connections were in use. If opening a
// connection fails, the caller that needed it gets the ConnectionError at once (no waiting for a
// timeout while the database is down) and the slot is free for the next try.
//
// Health checks. A Lease destroyed while an exception is propagating (or marked with
// mark_failed()) puts its connection on probation: the next acquire() runs `SELECT 1` on it before
// handing it out, and replaces it with a freshly opened connection if that fails. A connection
// that sat idle for PoolOptions::idle_check_after gets the same check (servers, firewalls and
// PgBouncer close idle sockets). A connection whose reset fails, or that libpq reports broken, is
// closed on return instead of being pooled.
//
// Return (reset). When a Lease ends, before anyone else can get the connection:
//   * every open transaction scope is rolled back (all levels, also one opened with begin_scope()
//     and never ended), then a transaction begun with raw SQL ("BEGIN") is rolled back too;
//   * statements left part-way through their rows are reset (a half-read SELECT would otherwise
//     hand its remaining rows to the next user of that statement; with SQLite it would also keep
//     an old read snapshot alive);
//   * PostgreSQL: PoolOptions::postgres_reset runs (default `RESET app.current_org_id; RESET
//     app.platform_scope`). The org and platform contexts tenantry sets are transaction-local
//     (set_config(..., true)) and are already gone with the transaction; this guards against a
//     session-level one made with raw SQL (SET app.current_org_id / set_config(..., false)),
//     which would otherwise follow the connection to its next user. It costs one round trip per lease; set it to "" when the
//     application never sets session-level state, or to "RESET ALL" to clear every SET. (Not
//     "DISCARD ALL": it also drops the server-side prepared statements tenantry has cached.)
// If any of this fails the connection is closed, never pooled, and its slot is reopened on demand.
//
// Thread safety. Pool is safe to use from any number of threads. A Lease, and the connection it
// gives access to, belongs to one thread at a time (it may be moved to another). Everything done
// on the connection - transactions, statements, repositories - must end before the Lease does:
// a Transaction object that outlives its Lease would roll back on a connection someone else is
// using. Leases may outlive the Pool; their connections are then closed when they end.
#pragma once

#include "tenantry/database.hpp"
#include "tenantry/driver/postgres.hpp"
#include "tenantry/driver/sqlite.hpp"
#include "tenantry/error.hpp"
#include "tenantry/types.hpp"
#include "tenantry/url.hpp"

#include <libpq-fe.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace tenantry {

/// No pooled connection became free within the acquire timeout.
class PoolTimeout : public Error {
 public:
  PoolTimeout(std::size_t size, std::chrono::milliseconds waited, std::size_t in_use, std::size_t waiting)
      : Error("tenantry: pool: no connection became free within " + std::to_string(waited.count()) +
              " ms (pool size " + std::to_string(size) + ", " + std::to_string(in_use) + " in use, " +
              std::to_string(waiting) +
              " other callers waiting); raise PoolOptions::size or DATABASE_POOL_SIZE, or hold leases for less "
              "time"),
        size_(size),
        waited_(waited) {}
  /// The pool's size (its maximum number of connections).
  std::size_t size() const noexcept { return size_; }
  /// How long the caller waited.
  std::chrono::milliseconds waited() const noexcept { return waited_; }

 private:
  std::size_t size_;
  std::chrono::milliseconds waited_;
};

namespace detail {

/// A pool built from a factory has no connect options.
struct no_connect_options {};

template <class Conn>
struct connect_options {
  using type = no_connect_options;
};
template <>
struct connect_options<Database> {
  using type = ConnectOptions;
};
template <>
struct connect_options<sqlite::Connection> {
  using type = sqlite::Options;
};
template <>
struct connect_options<pg::Connection> {
  using type = pg::Options;
};

}  // namespace detail

/// How a Pool sizes, waits, checks and resets. Aggregate: Pool<Database> p{url, {.size = 8}}.
template <class Conn>
struct PoolOptions {
  /// Maximum number of connections; 0 takes DATABASE_POOL_SIZE, else 10.
  std::size_t size = 0;
  /// How long acquire() waits for a connection before throwing PoolTimeout.
  std::chrono::milliseconds acquire_timeout{10'000};
  /// A connection idle at least this long is checked with `SELECT 1` before it is handed out.
  std::chrono::milliseconds idle_check_after{30'000};
  /// Run on every PostgreSQL connection when it comes back (see the file comment); "" for none.
  std::string postgres_reset = "RESET " + std::string(org_setting) + "; RESET " + std::string(platform_setting);
  /// How each connection is opened (ConnectOptions, sqlite::Options or pg::Options).
  typename detail::connect_options<Conn>::type connect{};
};

/// Counters for monitoring and tests; a consistent snapshot taken under the pool's lock.
struct PoolStats {
  std::size_t size = 0;     ///< maximum connections
  std::size_t open = 0;     ///< open (or being opened) now, idle or leased
  std::size_t idle = 0;     ///< open and waiting in the pool
  std::size_t waiting = 0;  ///< callers blocked in acquire()
  std::uint64_t acquired = 0;       ///< leases handed out
  std::uint64_t waited = 0;         ///< of those, how many had to wait
  std::uint64_t timeouts = 0;       ///< PoolTimeout thrown
  std::uint64_t opened = 0;         ///< connections opened (including the first)
  std::uint64_t closed = 0;         ///< connections closed because a reset or health check failed
  std::uint64_t health_checks = 0;  ///< `SELECT 1` run on checkout
  std::uint64_t replaced = 0;       ///< health checks that failed (connection replaced)
  std::uint64_t rolled_back = 0;    ///< returns that found a transaction still open
};

namespace detail {

/// DATABASE_POOL_SIZE, strictly parsed; 0 when unset or empty.
inline std::size_t size_from_environment() {
  const char* env = std::getenv("DATABASE_POOL_SIZE");
  if (env == nullptr || *env == '\0') return 0;
  const std::string_view text(env);
  std::size_t n = 0;
  for (char ch : text) {
    if (ch < '0' || ch > '9' || n > 100000)
      throw UsageError("tenantry: pool: DATABASE_POOL_SIZE='" + std::string(text.substr(0, 32)) +
                       "' is not a pool size (a whole number from 1 to 100000)");
    n = n * 10 + static_cast<std::size_t>(ch - '0');
  }
  if (n == 0 || n > 100000)
    throw UsageError("tenantry: pool: DATABASE_POOL_SIZE='" + std::string(text) +
                     "' is not a pool size (a whole number from 1 to 100000)");
  return n;
}

inline constexpr std::size_t default_size = 10;

/// The pool size: explicit, else DATABASE_POOL_SIZE, else the default; a private in-memory SQLite
/// database allows exactly one connection.
inline std::size_t resolve_size(std::size_t explicit_size, bool private_memory) {
  if (private_memory) {
    if (explicit_size > 1)
      throw UsageError("tenantry: pool: every connection to sqlite::memory: is a separate, empty database, so its "
                       "pool has one connection; asked for " +
                       std::to_string(explicit_size) + " (use a database file for more)");
    return 1;
  }
  if (explicit_size > 0) return explicit_size;
  if (const std::size_t env = size_from_environment(); env > 0) return env;
  return default_size;
}

inline bool is_private_memory(const DatabaseUrl& url) { return !url.is_postgres() && url.sqlite_path == ":memory:"; }

inline sqlite::Options sqlite_options(const DatabaseUrl& url, sqlite::Options o) {
  o.read_only = o.read_only || url.read_only;
  o.create = o.create && url.create;
  return o;
}

inline Database open(const DatabaseUrl& url, const ConnectOptions& o) {
  if (url.is_postgres()) return Database(pg::Connection(url.pg_conninfo, o.postgres_options()));
  return Database(sqlite::Connection(url.sqlite_path, sqlite_options(url, o.sqlite_options())));
}
inline sqlite::Connection open(const DatabaseUrl& url, const sqlite::Options& o) {
  if (url.is_postgres())
    throw UrlError("tenantry: pool: a pool of sqlite::Connection needs a sqlite: URL, not a PostgreSQL one "
                   "(use Pool<pg::Connection> or Pool<Database>)");
  return sqlite::Connection(url.sqlite_path, sqlite_options(url, o));
}
inline pg::Connection open(const DatabaseUrl& url, const pg::Options& o) {
  if (!url.is_postgres())
    throw UrlError("tenantry: pool: a pool of pg::Connection needs a postgres:// URL, not '" + url.sqlite_path +
                   "' (use Pool<sqlite::Connection> or Pool<Database>)");
  return pg::Connection(url.pg_conninfo, o);
}

// ---- return-time reset, per driver: throws when the connection cannot be made clean ------------

/// Rolls back every transaction scope the connection tracks; true if there was one.
template <class C>
bool end_scopes(C& c) {
  const bool open = c.in_transaction();
  while (c.in_transaction()) c.rollback_scope();
  return open;
}

inline bool reset(sqlite::Connection& c, const std::string& /*postgres_reset*/) {
  bool rolled_back = end_scopes(c);
  sqlite3* db = c.native();
  // A statement stopped part-way through its rows holds a read snapshot (and its next step()
  // would continue the old rows); tenantry's own statements are always reset, raw ones may not be.
  for (sqlite3_stmt* s = sqlite3_next_stmt(db, nullptr); s != nullptr; s = sqlite3_next_stmt(db, s))
    if (sqlite3_stmt_busy(s)) sqlite3_reset(s);
  if (sqlite3_get_autocommit(db) == 0) {  // BEGIN issued with raw SQL
    c.execute("ROLLBACK");
    rolled_back = true;
  }
  return rolled_back;
}

inline bool reset(pg::Connection& c, const std::string& postgres_reset) {
  PGconn* native = c.native();
  if (native == nullptr || PQstatus(native) != CONNECTION_OK)
    throw ConnectionError("tenantry: pool: the connection is broken", "08003");
  // A statement stepped part-way keeps its result: its next step() would hand the old rows to
  // the next user instead of running that user's query.
  c.reset_statements();
  bool rolled_back = end_scopes(c);
  switch (PQtransactionStatus(native)) {
    case PQTRANS_IDLE:
      break;
    case PQTRANS_INTRANS:
    case PQTRANS_INERROR:  // BEGIN issued with raw SQL
      c.execute("ROLLBACK");
      rolled_back = true;
      break;
    default:  // a command still running, or the connection is gone
      throw ConnectionError("tenantry: pool: the connection is not idle", "08003");
  }
  if (!postgres_reset.empty()) c.execute(postgres_reset);
  return rolled_back;
}

inline bool reset(Database& d, const std::string& postgres_reset) {
  return d.visit([&](auto& c) { return reset(c, postgres_reset); });
}

/// A connection type without a reset of its own: roll back what it tracks, if it tracks anything.
template <class C>
bool reset(C& c, const std::string& /*postgres_reset*/) {
  if constexpr (requires { c.in_transaction(); c.rollback_scope(); }) return end_scopes(c);
  return false;
}

/// The checkout health check: a cheap round trip (for SQLite, a statement through the engine).
template <class C>
bool healthy(C& c) noexcept {
  try {
    if constexpr (requires { c.execute(std::string_view("SELECT 1")); }) c.execute(std::string_view("SELECT 1"));
    return true;
  } catch (...) {
    return false;
  }
}

}  // namespace detail

/// A fixed-size pool of connections of type Conn. See the file comment for the behaviour.
template <class Conn>
class Pool {
  static_assert(std::is_move_constructible_v<Conn>, "tenantry: pooled connections must be movable");

  using clock = std::chrono::steady_clock;

  struct Slot {
    Conn conn;
    bool on_probation = false;  // the last lease ended with an error: check before reuse
    clock::time_point idle_since{};
  };
  using SlotPtr = std::unique_ptr<Slot>;

  // A caller blocked in acquire(): served in arrival order with a connection, or with the right
  // to open one (a slot freed by a connection that was closed).
  struct Waiter {
    std::condition_variable cv;
    SlotPtr slot;
    bool may_open = false;
    bool closed = false;
  };

  struct State {
    std::mutex mutex;
    std::vector<SlotPtr> idle;     // back = most recently returned
    std::deque<Waiter*> waiters;   // front = waiting longest
    std::size_t open = 0;          // connections open or being opened (idle + leased + opening)
    bool closed = false;
    std::size_t size = 0;
    std::chrono::milliseconds acquire_timeout{};
    std::chrono::milliseconds idle_check_after{};
    std::string postgres_reset;
    std::function<Conn()> factory;
    PoolStats stats;  // counters only; the gauges are filled in by stats()

    /// Gives a freed slot (a closed connection's) to the longest waiter, or shrinks the count.
    void release_capacity() {
      std::lock_guard lock(mutex);
      if (!closed && !waiters.empty()) {
        Waiter* w = waiters.front();
        waiters.pop_front();
        w->may_open = true;
        w->cv.notify_one();  // under the lock: the waiter cannot wake, return and vanish first
        return;
      }
      --open;
    }

    /// Takes a connection back from a lease (or from a failed checkout). Never throws.
    void take_back(SlotPtr slot, bool failed) noexcept {
      bool keep = true;
      {
        std::lock_guard lock(mutex);
        keep = !closed;
      }
      if (keep) {
        try {
          if (detail::reset(slot->conn, postgres_reset)) {
            std::lock_guard lock(mutex);
            ++stats.rolled_back;
          }
        } catch (...) {
          keep = false;
        }
      }
      if (!keep) {
        slot.reset();  // close it outside the lock
        {
          std::lock_guard lock(mutex);
          if (!closed) ++stats.closed;
        }
        release_capacity();
        return;
      }
      slot->on_probation = slot->on_probation || failed;
      slot->idle_since = clock::now();
      std::unique_lock lock(mutex);
      if (closed) {
        --open;
        lock.unlock();
        return;  // slot closes here
      }
      if (!waiters.empty()) {
        Waiter* w = waiters.front();
        waiters.pop_front();
        w->slot = std::move(slot);
        w->cv.notify_one();
        return;
      }
      idle.push_back(std::move(slot));
    }
  };

 public:
  using connection_type = Conn;
  using options_type = PoolOptions<Conn>;

  /// A connection on loan from the pool; returns it (reset) when destroyed. Movable, not copyable.
  class [[nodiscard]] Lease {
   public:
    Lease() = default;
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&& other) noexcept {
      if (this != &other) {
        end();
        state_ = std::move(other.state_);
        slot_ = std::move(other.slot_);
        exceptions_ = other.exceptions_;
        failed_ = other.failed_;
      }
      return *this;
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { end(); }

    Conn& operator*() const noexcept { return slot_->conn; }
    Conn* operator->() const noexcept { return &slot_->conn; }
    Conn& get() const noexcept { return slot_->conn; }
    explicit operator bool() const noexcept { return slot_ != nullptr; }

    /// Have the next acquire() check this connection with `SELECT 1` before reusing it (done
    /// automatically when the Lease is destroyed by an exception).
    void mark_failed() noexcept { failed_ = true; }

    /// Returns the connection now (reset as usual); the Lease is empty afterwards.
    void release() noexcept { end(); }

   private:
    friend class Pool;
    Lease(std::shared_ptr<State> state, SlotPtr slot)
        : state_(std::move(state)), slot_(std::move(slot)), exceptions_(std::uncaught_exceptions()) {}

    void end() noexcept {
      if (!slot_) return;
      // Destroyed by stack unwinding: whatever threw may have left the connection unusable.
      const bool failed = failed_ || std::uncaught_exceptions() > exceptions_;
      state_->take_back(std::move(slot_), failed);
      state_.reset();
    }

    std::shared_ptr<State> state_;
    SlotPtr slot_;
    int exceptions_ = 0;
    bool failed_ = false;
  };

  /// A pool of connections to `url` (see url.hpp; "" reads DATABASE_URL). Opens the first
  /// connection now: throws UrlError, ConnectionError, or UsageError for a bad size.
  explicit Pool(std::string_view url, options_type options = {})
    requires(!std::is_same_v<typename detail::connect_options<Conn>::type, detail::no_connect_options>)
      : Pool(init_from_url(url, options), options) {}

  /// A pool of connections made by `factory`. It is called outside the pool's lock, possibly
  /// from several threads at once, so it must be thread-safe; what it throws reaches the caller
  /// of acquire() (or of this constructor, which opens the first connection).
  explicit Pool(std::function<Conn()> factory, options_type options = {})
      : Pool(Init{std::move(factory), detail::resolve_size(options.size, false)}, options) {}

  Pool(Pool&&) noexcept = default;
  Pool& operator=(Pool&&) noexcept = default;
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  /// Closes the idle connections; leased ones are closed when their Lease ends. Callers still
  /// waiting in acquire() get a UsageError.
  ~Pool() {
    if (!state_) return;
    std::vector<SlotPtr> idle;
    {
      std::lock_guard lock(state_->mutex);
      state_->closed = true;
      idle.swap(state_->idle);
      state_->open -= idle.size();
      for (Waiter* w : state_->waiters) {
        w->closed = true;
        w->cv.notify_one();
      }
      state_->waiters.clear();
    }
  }

  /// A connection, waiting up to the pool's acquire_timeout. Throws PoolTimeout, or the
  /// ConnectionError of a connection that had to be opened and could not be.
  Lease acquire() { return acquire(state_->acquire_timeout); }

  /// As acquire(), waiting up to `timeout`.
  Lease acquire(std::chrono::milliseconds timeout) {
    State& s = *state_;
    const auto start = clock::now();
    SlotPtr slot;
    bool open_new = false;
    {
      std::unique_lock lock(s.mutex);
      if (s.closed) throw UsageError("tenantry: pool: acquire() on a closed pool");
      if (s.waiters.empty() && !s.idle.empty()) {
        slot = std::move(s.idle.back());
        s.idle.pop_back();
      } else if (s.waiters.empty() && s.open < s.size) {
        ++s.open;
        open_new = true;
      } else {
        Waiter w;
        s.waiters.push_back(&w);
        ++s.stats.waited;
        // Clamped, so that a "forever" timeout (milliseconds::max()) cannot overflow the clock.
        const auto deadline = start + std::clamp(timeout, std::chrono::milliseconds{0},
                                                 std::chrono::milliseconds{std::chrono::hours{24 * 365}});
        while (!w.slot && !w.may_open && !w.closed) {
          if (w.cv.wait_until(lock, deadline) == std::cv_status::timeout && !w.slot && !w.may_open && !w.closed) {
            s.waiters.erase(std::find(s.waiters.begin(), s.waiters.end(), &w));
            ++s.stats.timeouts;
            throw PoolTimeout(s.size, std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - start),
                              s.open - s.idle.size(), s.waiters.size());
          }
        }
        if (w.closed) throw UsageError("tenantry: pool: the pool was destroyed while waiting in acquire()");
        slot = std::move(w.slot);
        open_new = w.may_open;
      }
      ++s.stats.acquired;
    }
    return checkout(std::move(slot), open_new);
  }

  /// Runs f(conn) on a leased connection and returns what f returns, by value (a reference into
  /// the connection would outlive the lease).
  template <class F>
  auto with(F&& f) {
    Lease lease = acquire();
    return std::forward<F>(f)(*lease);
  }

  std::size_t size() const noexcept { return state_->size; }

  PoolStats stats() const {
    std::lock_guard lock(state_->mutex);
    PoolStats out = state_->stats;
    out.size = state_->size;
    out.open = state_->open;
    out.idle = state_->idle.size();
    out.waiting = state_->waiters.size();
    return out;
  }

 private:
  struct Init {
    std::function<Conn()> factory;
    std::size_t size;
  };

  static Init init_from_url(std::string_view url, const options_type& options) {
    const DatabaseUrl parsed = parse_database_url(url);
    const std::size_t size = detail::resolve_size(options.size, detail::is_private_memory(parsed));
    auto connect = options.connect;
    return Init{[parsed, connect]() -> Conn { return detail::open(parsed, connect); }, size};
  }

  Pool(Init init, const options_type& options) : state_(std::make_shared<State>()) {
    State& s = *state_;
    s.size = init.size;
    s.acquire_timeout = options.acquire_timeout;
    s.idle_check_after = options.idle_check_after;
    s.postgres_reset = options.postgres_reset;
    s.factory = std::move(init.factory);
    // The first connection now: a wrong URL, password or host fails here.
    s.idle.push_back(std::make_unique<Slot>(Slot{s.factory(), false, clock::now()}));
    s.open = 1;
    s.stats.opened = 1;
  }

  /// Outside the lock: opens the connection a caller may open, or checks one on probation.
  Lease checkout(SlotPtr slot, bool open_new) {
    State& s = *state_;
    if (!open_new) {
      const bool check = slot->on_probation ||
                         std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - slot->idle_since) >=
                             s.idle_check_after;
      if (!check) return Lease(state_, std::move(slot));
      const bool ok = detail::healthy(slot->conn);
      {
        std::lock_guard lock(s.mutex);
        ++s.stats.health_checks;
        if (!ok) {
          ++s.stats.replaced;
          ++s.stats.closed;
        }
      }
      if (ok) {
        slot->on_probation = false;
        return Lease(state_, std::move(slot));
      }
      slot.reset();  // close the dead one; its slot is ours to refill
    }
    try {
      SlotPtr fresh = std::make_unique<Slot>(Slot{s.factory(), false, clock::now()});
      {
        std::lock_guard lock(s.mutex);
        ++s.stats.opened;
      }
      return Lease(state_, std::move(fresh));
    } catch (...) {
      s.release_capacity();
      throw;
    }
  }

  std::shared_ptr<State> state_;
};

}  // namespace tenantry
