// tenantry::Pool: sizing, acquire timeouts and fairness, reset on return (transactions, the org
// setting), health checks and replacement, failures while opening, leases outliving the pool;
// and SQLite's concurrent writers waiting for each other instead of failing.
#include "reliability/common.hpp"

#include <tenantry/pool.hpp>
#include <tenantry/tenantry.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace tenantry;
using namespace std::chrono_literals;
using rel::Item;

namespace {

/// Sets (or unsets) an environment variable for the scope; tests run one at a time.
class EnvVar {
 public:
  EnvVar(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value != nullptr) ::setenv(name, value, 1);
    else ::unsetenv(name);
  }
  ~EnvVar() {
    if (old_) ::setenv(name_, old_->c_str(), 1);
    else ::unsetenv(name_);
  }
  EnvVar(const EnvVar&) = delete;
  EnvVar& operator=(const EnvVar&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

/// A fresh SQLite file with rel_items; the file goes at scope end.
struct SqliteItems {
  testdb::TempPath file{"pool"};
  std::string url = "sqlite:" + file.string();
  SqliteItems() {
    sqlite::Connection c(file.string());
    create_tables<Item>(c);
  }
};

/// A fresh PostgreSQL database with rel_items.
struct PgItems {
  std::string url = tenantry_test::pg_url();
  PgItems() {
    pg::Connection c(url);
    create_tables<Item>(c);
  }
};

Item item(const std::string& name) {
  Item i;
  i.id = Uuid::random();
  i.owner = "t";
  i.name = name;
  i.qty = 1;
  i.version = 1;
  return i;
}

void wait_until(const std::function<bool()>& condition) {
  for (int i = 0; i < 5000 && !condition(); ++i) std::this_thread::sleep_for(1ms);
  REQUIRE(condition());
}

}  // namespace

TEST_CASE("pool: size from PoolOptions, DATABASE_POOL_SIZE, or the default", "[reliability][pool]") {
  SqliteItems db;
  {
    EnvVar env("DATABASE_POOL_SIZE", nullptr);
    CHECK(Pool<Database>(db.url).size() == 10);
    CHECK(Pool<Database>(db.url, {.size = 3}).size() == 3);
  }
  {
    EnvVar env("DATABASE_POOL_SIZE", "7");
    CHECK(Pool<sqlite::Connection>(db.url).size() == 7);
    CHECK(Pool<sqlite::Connection>(db.url, {.size = 2}).size() == 2);  // explicit wins
  }
  for (const char* bad : {"abc", "0", "-1", "12x", "999999999999999999999"}) {
    EnvVar env("DATABASE_POOL_SIZE", bad);
    INFO("DATABASE_POOL_SIZE=" << bad);
    const auto e = testdb::expect_throw<UsageError>([&] { Pool<Database> p(db.url); });
    CHECK_THAT(e.what(), Catch::Contains("DATABASE_POOL_SIZE"));
  }
  // Every connection to sqlite::memory: is its own empty database: one connection, never more.
  {
    EnvVar env("DATABASE_POOL_SIZE", "8");
    CHECK(Pool<Database>("sqlite::memory:").size() == 1);
    const auto e = testdb::expect_throw<UsageError>([] { Pool<Database> p("sqlite::memory:", {.size = 2}); });
    CHECK_THAT(e.what(), Catch::Contains("separate"));
  }
  // The URL must suit the connection type; a bad URL fails at construction.
  CHECK_THROWS_AS(Pool<pg::Connection>(db.url), UrlError);
  CHECK_THROWS_AS(Pool<sqlite::Connection>("postgres://u@127.0.0.1:1/x"), UrlError);
  CHECK_THROWS_AS(Pool<Database>("mysql://x"), UrlError);
  CHECK_THROWS_AS(Pool<Database>("sqlite:/nonexistent-dir/x/y.db"), ConnectionError);
}

TEST_CASE("pool: opens lazily up to its size and reuses returned connections", "[reliability][pool]") {
  SqliteItems db;
  Pool<sqlite::Connection> pool(db.url, {.size = 3});
  CHECK(pool.stats().open == 1);  // the first one, opened by the constructor
  {
    auto a = pool.acquire();
    auto b = pool.acquire();
    auto c = pool.acquire();
    CHECK(pool.stats().open == 3);
    CHECK(pool.stats().idle == 0);
    CHECK(&*a != &*b);
  }
  CHECK(pool.stats().idle == 3);
  sqlite::Connection* last = nullptr;
  {
    auto a = pool.acquire();
    last = &*a;
  }
  auto again = pool.acquire();
  CHECK(&*again == last);  // most recently returned first: its statement cache is warm
  CHECK(pool.stats().opened == 3);
}

TEST_CASE("pool: acquire times out with PoolTimeout naming the size and the wait", "[reliability][pool]") {
  SqliteItems db;
  Pool<Database> pool(db.url, {.size = 2, .acquire_timeout = 150ms});
  auto a = pool.acquire();
  auto b = pool.acquire();
  const auto start = std::chrono::steady_clock::now();
  const auto e = testdb::expect_throw<PoolTimeout>([&] { (void)pool.acquire(); });
  CHECK(std::chrono::steady_clock::now() - start >= 150ms);
  CHECK(e.size() == 2);
  CHECK(e.waited() >= 150ms);
  CHECK_THAT(e.what(), Catch::Contains("pool size 2") && Catch::Contains("2 in use") && Catch::Contains("ms"));
  STATIC_REQUIRE(std::is_base_of_v<Error, PoolTimeout>);
  CHECK_THROWS_AS(pool.acquire(0ms), PoolTimeout);
  CHECK(pool.stats().timeouts == 2);
  b.release();
  CHECK_FALSE(b);
  auto c = pool.acquire(0ms);  // free again: no wait at all
  CHECK(c);
}

TEST_CASE("pool: waiters are served in arrival order", "[reliability][pool]") {
  SqliteItems db;
  Pool<sqlite::Connection> pool(db.url, {.size = 1, .acquire_timeout = 10s});
  auto held = pool.acquire();
  std::mutex m;
  std::vector<int> order;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      auto lease = pool.acquire();
      std::lock_guard lock(m);
      order.push_back(t);
    });
    // Thread t is queued before thread t + 1 starts.
    wait_until([&] { return pool.stats().waiting == static_cast<std::size_t>(t + 1); });
  }
  held.release();
  for (auto& t : threads) t.join();
  CHECK(order == std::vector<int>{0, 1, 2, 3});
  CHECK(pool.stats().waited == 4);
}

TEST_CASE("pool: a returned SQLite connection carries no transaction or half-read statement",
          "[reliability][pool][sqlite]") {
  SqliteItems db;
  Pool<sqlite::Connection> pool(db.url, {.size = 1});
  const OrgId org = OrgId::random();
  {
    auto conn = pool.acquire();
    Repository<Item, SqliteDialect> items{*conn};
    items.insert(org, item("kept"));
  }
  {
    auto conn = pool.acquire();
    Repository<Item, SqliteDialect> items{*conn};
    conn->begin_scope();
    conn->begin_scope();  // a savepoint too
    items.insert(org, item("leaked-1"));
  }  // never committed: rolled back on return
  {
    auto conn = pool.acquire();
    conn->execute("BEGIN");  // raw SQL, unknown to the driver
    Repository<Item, SqliteDialect> items{*conn};
    items.insert(org, item("leaked-2"));
  }
  {
    auto conn = pool.acquire();
    // A statement stepped once and left: it would keep a read snapshot open.
    auto& st = conn->prepare(intern_sql("SELECT name FROM rel_items"));
    REQUIRE(st.step());
    CHECK(sqlite3_stmt_busy(st.native()) != 0);
  }
  auto conn = pool.acquire();
  CHECK_FALSE(conn->in_transaction());
  CHECK(sqlite3_get_autocommit(conn->native()) != 0);
  for (sqlite3_stmt* s = sqlite3_next_stmt(conn->native(), nullptr); s; s = sqlite3_next_stmt(conn->native(), s))
    CHECK(sqlite3_stmt_busy(s) == 0);
  Repository<Item, SqliteDialect> items{*conn};
  CHECK(items.count(org) == 1);
  CHECK(pool.stats().rolled_back == 2);
  // The write lock was released: another connection can write at once.
  sqlite::Connection other(db.file.string(), {.busy_timeout_ms = 0});
  Repository<Item, SqliteDialect>{other}.insert(org, item("other"));
}

TEST_CASE("pool: a returned PostgreSQL connection carries no transaction and no org setting",
          "[reliability][pool][pg]") {
  PgItems db;
  Pool<pg::Connection> pool(db.url, {.size = 1, .connect = {.org_context = true}});
  const OrgId org = OrgId::random();
  const std::string setting = "SELECT coalesce(current_setting('app.current_org_id', true), '')";
  {
    auto conn = pool.acquire();
    Repository<Item, PgDialect> items{*conn};
    conn->begin_scope();
    conn->begin_scope();
    items.insert(org, item("leaked"));  // sets the org for the transaction
    CHECK(rel::raw_text(*conn, setting) == org.to_string());
  }
  {
    auto conn = pool.acquire();
    CHECK_FALSE(conn->in_transaction());
    CHECK(PQtransactionStatus(conn->native()) == PQTRANS_IDLE);
    CHECK(rel::raw_text(*conn, setting).empty());
    CHECK(Repository<Item, PgDialect>{*conn}.count(org) == 0);
    conn->execute("BEGIN");  // raw SQL, in a failed state on return
    CHECK_THROWS(conn->execute("SELECT 1/0"));
  }
  {
    auto conn = pool.acquire();
    CHECK(PQtransactionStatus(conn->native()) == PQTRANS_IDLE);
    // A session-level org (raw SQL, not tenantry) would outlive the transaction...
    conn->execute("SELECT set_config('app.current_org_id', '" + org.to_string() + "', false)");
    CHECK(rel::raw_text(*conn, setting) == org.to_string());
  }
  {
    auto conn = pool.acquire();  // ...but the pool reset it
    CHECK(rel::raw_text(*conn, setting).empty());
  }
  {
    // Org A committed through a transaction whose savepoint (also org A) was rolled back: the
    // next lease of the same connection still starts with no org at all.
    auto conn = pool.acquire();
    Repository<Item, PgDialect> items{*conn};
    auto tx = conn->transaction();
    {
      auto inner = conn->transaction();
      items.insert(org, item("savepoint-rolled-back"));
    }
    items.insert(org, item("committed"));
    tx.commit();
    CHECK(rel::raw_text(*conn, setting).empty());
  }
  {
    auto conn = pool.acquire();
    CHECK(rel::raw_text(*conn, setting).empty());
    Repository<Item, PgDialect> items{*conn};
    CHECK(items.count(org) == 1);
    CHECK(items.count(OrgId::random()) == 0);
  }
  CHECK(pool.stats().rolled_back == 2);
  CHECK(pool.stats().opened == 1);  // all on the one connection

  // Control: without the reset query, the session-level setting does follow the connection.
  Pool<pg::Connection> unguarded(db.url, {.size = 1, .postgres_reset = ""});
  {
    auto conn = unguarded.acquire();
    conn->execute("SELECT set_config('app.current_org_id', '" + org.to_string() + "', false)");
  }
  auto conn = unguarded.acquire();
  CHECK(rel::raw_text(*conn, setting) == org.to_string());
}

TEST_CASE("pool: a PostgreSQL statement left half-read is reset before the next lease",
          "[reliability][pool][pg]") {
  PgItems db;
  // The driver caches one Statement per Sql per connection and keeps the whole result until
  // reset(); a lease that stepped once and let go would hand the next user of the same Sql the
  // old rows (and the old bound values) instead of running its own query.
  const Sql numbers = intern_sql("SELECT n::bigint FROM generate_series($1::bigint, $1::bigint + 2) AS n");
  const auto half_read = [&](auto& pool) {
    {
      auto conn = pool.acquire();
      rel::with_driver(*conn, [&](auto& d) {
        auto& st = d.prepare(numbers);
        st.bind_int(1, 100);
        REQUIRE(st.step());
        CHECK(st.column_int(0) == 100);
      });  // no reset: rows 101 and 102 are left unread
    }
    auto conn = pool.acquire();
    rel::with_driver(*conn, [&](auto& d) {
      auto& st = d.prepare(numbers);
      rel::ResetOnExit guard{st};
      st.bind_int(1, 7);
      std::vector<std::int64_t> got;
      while (st.step()) got.push_back(st.column_int(0));
      CHECK(got == std::vector<std::int64_t>{7, 8, 9});
    });
  };
  SECTION("pg::Connection") {
    Pool<pg::Connection> pool(db.url, {.size = 1});
    half_read(pool);
    CHECK(pool.stats().opened == 1);  // the same connection both times
  }
  SECTION("tenantry::Database") {
    Pool<Database> pool(db.url, {.size = 1});
    half_read(pool);
    CHECK(pool.stats().opened == 1);
  }
  SECTION("without server-side preparation") {
    Pool<pg::Connection> pool(db.url, {.size = 1, .connect = {.server_prepared = false}});
    half_read(pool);
  }
}

TEST_CASE("pool: health checks replace connections the server dropped", "[reliability][pool][pg]") {
  PgItems db;
  pg::Connection admin(db.url);
  const auto kill = [&](std::int64_t pid) {
    CHECK(rel::raw_text(admin, "SELECT pg_terminate_backend(" + std::to_string(pid) + ")::text") == "true");
    // pg_terminate_backend only signals: wait until the backend is gone.
    wait_until([&] {
      return rel::raw_int(admin, "SELECT count(*) FROM pg_stat_activity WHERE pid = " + std::to_string(pid)) == 0;
    });
  };
  const std::string pid_sql = "SELECT pg_backend_pid()";

  SECTION("a lease that ended with an exception is checked on the next checkout") {
    Pool<pg::Connection> pool(db.url, {.size = 1});
    std::int64_t pid = 0;
    CHECK_THROWS_AS(pool.with([&](pg::Connection& c) {
                      pid = rel::raw_int(c, pid_sql);
                      throw std::runtime_error("request failed");
                    }),
                    std::runtime_error);
    kill(pid);  // the connection dies while on probation in the pool
    auto conn = pool.acquire();
    CHECK(rel::raw_int(*conn, pid_sql) != pid);  // replaced before we got it
    const auto s = pool.stats();
    CHECK(s.health_checks == 1);
    CHECK(s.replaced == 1);
    CHECK(s.opened == 2);
  }
  SECTION("a lease that ended normally is not checked (no round trip)") {
    Pool<pg::Connection> pool(db.url, {.size = 1});
    { auto conn = pool.acquire(); }
    { auto conn = pool.acquire(); }
    CHECK(pool.stats().health_checks == 0);
  }
  SECTION("an idle connection is checked after idle_check_after") {
    Pool<pg::Connection> pool(db.url, {.size = 1, .idle_check_after = 0ms});
    std::int64_t pid = 0;
    {
      auto conn = pool.acquire();
      pid = rel::raw_int(*conn, pid_sql);
    }
    kill(pid);
    auto conn = pool.acquire();
    CHECK(Repository<Item, PgDialect>{*conn}.count(OrgId::random()) == 0);  // works: replaced
    CHECK(pool.stats().replaced == 1);
  }
  SECTION("a connection that broke during the lease is closed on return, and reopened on demand") {
    Pool<pg::Connection> pool(db.url, {.size = 1});
    {
      auto conn = pool.acquire();
      kill(rel::raw_int(*conn, pid_sql));
      CHECK_THROWS_AS(rel::raw_int(*conn, pid_sql), ConnectionError);  // caught: the lease ends normally
    }
    CHECK(pool.stats().closed == 1);
    CHECK(pool.stats().open == 0);
    auto conn = pool.acquire();
    CHECK(rel::raw_int(*conn, "SELECT 1") == 1);
    CHECK(pool.stats().opened == 2);
  }
  SECTION("the same through tenantry::Database") {
    Pool<Database> pool(db.url, {.size = 1});
    std::int64_t pid = 0;
    try {
      auto conn = pool.acquire();
      pid = rel::raw_int(*conn, pid_sql);
      throw std::runtime_error("boom");
    } catch (const std::runtime_error&) {
    }
    kill(pid);
    auto conn = pool.acquire();
    CHECK(rel::raw_int(*conn, pid_sql) != pid);
    CHECK(pool.stats().replaced == 1);
  }
}

TEST_CASE("pool: a connection that cannot be opened fails its caller at once and frees the slot",
          "[reliability][pool]") {
  SqliteItems db;
  std::atomic<bool> down{false};
  Pool<sqlite::Connection> pool(
      [&] {
        if (down) throw ConnectionError("tenantry: test: database is down", "08001");
        return sqlite::Connection(db.file.string());
      },
      {.size = 2, .acquire_timeout = 10s});
  auto first = pool.acquire();
  down = true;
  const auto start = std::chrono::steady_clock::now();
  CHECK_THROWS_AS(pool.acquire(), ConnectionError);
  CHECK(std::chrono::steady_clock::now() - start < 5s);  // not the acquire timeout
  CHECK(pool.stats().open == 1);
  down = false;
  auto second = pool.acquire();
  CHECK(pool.stats().open == 2);
}

TEST_CASE("pool: leases may outlive the pool", "[reliability][pool]") {
  SqliteItems db;
  std::optional<Pool<Database>::Lease> kept;
  {
    Pool<Database> pool(db.url, {.size = 2});
    kept.emplace(pool.acquire());
  }
  Repository<Item> items{**kept};
  items.insert(OrgId::random(), item("after"));
  kept.reset();  // closes the connection; nothing to return it to
}

TEST_CASE("SQLite: concurrent writers wait for each other (WAL, busy_timeout, BEGIN IMMEDIATE)",
          "[reliability][sqlite]") {
  testdb::TempPath file("writers");
  {
    sqlite::Connection c(file.string());
    CHECK(rel::raw_text(c, "PRAGMA journal_mode") == "wal");
    c.execute("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL); INSERT INTO counter VALUES (1, 0)");
  }
  constexpr int threads = 8;
  const int increments = rel::scaled(250);
  Pool<sqlite::Connection> pool("sqlite:" + file.string(), {.size = threads});
  std::atomic<int> failures{0};
  std::mutex m;
  std::string first_error;
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  std::atomic<int> ready{0};
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      // All start together, so the writers really contend for the lock.
      ++ready;
      while (ready < threads) std::this_thread::yield();
      for (int i = 0; i < increments; ++i) {
        try {
          auto conn = pool.acquire();
          // Read-modify-write: a lost update would show in the final count.
          auto tx = conn->transaction();
          const std::int64_t n = rel::raw_int(*conn, "SELECT n FROM counter WHERE id = 1");
          conn->execute("UPDATE counter SET n = " + std::to_string(n + 1) + " WHERE id = 1");
          if (i % 25 == 0) std::this_thread::sleep_for(2ms);  // hold the lock: the others must wait
          tx.commit();
        } catch (const std::exception& e) {
          std::lock_guard lock(m);
          if (failures++ == 0) first_error = e.what();
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  INFO(first_error);
  CHECK(failures == 0);  // no BusyError: writers waited at BEGIN IMMEDIATE
  sqlite::Connection c(file.string());
  CHECK(rel::raw_int(c, "SELECT n FROM counter WHERE id = 1") == threads * increments);
  std::printf("reliability: SQLite %d writers x %d read-modify-write transactions in %.2f s\n", threads, increments,
              rel::seconds_since(start));
}

// Not run by default: what a lease costs, with and without the PostgreSQL reset query.
TEST_CASE("pool: cost of a lease (not run by default)", "[.][pool][observe]") {
  PgItems db;
  const OrgId org = OrgId::random();
  const int n = 5000;
  for (const char* reset : {"RESET app.current_org_id", ""}) {
    Pool<pg::Connection> pool(db.url, {.size = 1, .postgres_reset = reset});
    const auto time = [&](bool with_query) {
      const auto start = std::chrono::steady_clock::now();
      for (int i = 0; i < n; ++i) {
        auto conn = pool.acquire();
        if (with_query) (void)Repository<Item, PgDialect>{*conn}.count(org);
      }
      return rel::seconds_since(start) * 1e6 / n;
    };
    time(true);  // warm up
    const double empty = time(false), count = time(true);
    std::printf("postgres_reset = \"%s\": %.1f us per empty lease, %.1f us per lease with one count()\n", reset, empty,
                count);
  }
  SUCCEED();
}
