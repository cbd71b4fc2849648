// Statement observers and the per-org statement_timeout through pools (observe.hpp,
// pg::Options::statement_timeout): the timeout fires for the org that has one and for no other,
// is gone with the transaction (the next lease of the pooled connection, the session's own
// setting), raises StatementTimeout and leaves the connection usable; counters stay exact when
// many threads share one observer; a throwing hook does not break a pooled connection. PgBouncer:
// pgbouncer_test.cpp.
#include "reliability/common.hpp"
#include "support/expect_throw.hpp"

#include <tenantry/observe.hpp>
#include <tenantry/pool.hpp>
#include <tenantry/tenantry.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace tenantry;
using namespace std::chrono_literals;
using rel::Item;
using testdb::expect_throw;

namespace {

struct Value {
  std::string value;
};

/// statement_timeout as the org's operations see it (inside their transaction).
std::string timeout_for(pg::Connection& c, const OrgId& org) {
  return raw_query<Value>(c, org, "SELECT current_setting('statement_timeout') AS value WHERE $1::uuid IS NOT NULL")
      .at(0)
      .value;
}
/// statement_timeout outside any org's operation.
std::string timeout_outside(pg::Connection& c) {
  return raw_query_global<Value>(c, "SELECT current_setting('statement_timeout') AS value").at(0).value;
}
void sleep_in(pg::Connection& c, const OrgId& org, double seconds) {
  raw_execute(c, org, "SELECT pg_sleep($2) WHERE $1::uuid IS NOT NULL", seconds);
}

/// Events copied out of the hooks, from any thread.
struct Events {
  struct Seen {
    std::optional<OrgId> org;
    std::string text;
    ErrorKind error;
    std::chrono::nanoseconds duration;
  };
  std::mutex m;
  std::vector<Seen> all, slow;
  static Seen copy(const StatementEvent& e) {
    return {e.org && e.org->get<OrgId>() ? std::optional<OrgId>(*e.org->get<OrgId>()) : std::nullopt,
            std::string(e.text), e.error, e.duration};
  }
};

}  // namespace

TEST_CASE("statement_timeout: per org, per transaction, never on the next lease",
          "[reliability][pool][pg][observability]") {
  const std::string url = tenantry_test::pg_url();
  const OrgId slow = OrgId::random(), fast = OrgId::random();
  auto events = std::make_shared<Events>();
  auto observer = std::make_shared<StatementObserver>(ObserverOptions{.on_statement =
                                                                          [events](const StatementEvent& e) {
                                                                            std::lock_guard lock(events->m);
                                                                            events->all.push_back(Events::copy(e));
                                                                          },
                                                                      .on_slow_statement =
                                                                          [events](const StatementEvent& e) {
                                                                            std::lock_guard lock(events->m);
                                                                            events->slow.push_back(Events::copy(e));
                                                                          },
                                                                      .slow_threshold = 40ms});
  const auto limits = [slow](const OrgId& org) { return org == slow ? 50ms : 0ms; };
  // One connection: every lease is the same server session.
  Pool<pg::Connection> pool(url, {.size = 1, .connect = {.observer = observer, .statement_timeout = limits}});

  {
    auto conn = pool.acquire();
    CHECK(timeout_for(*conn, slow) == "50ms");
    CHECK(timeout_for(*conn, fast) == "0");
    CHECK(timeout_outside(*conn) == "0");
    // The slow org's long statement is cancelled, with a typed error; the connection goes on.
    const auto e = expect_throw<StatementTimeout>([&] { sleep_in(*conn, slow, 1.0); });
    CHECK(e.code() == "57014");
    CHECK_FALSE(conn->in_transaction());
    CHECK(PQtransactionStatus(conn->native()) == PQTRANS_IDLE);
    // Another org's statement longer than that limit runs to its end.
    sleep_in(*conn, fast, 0.06);
    CHECK(timeout_outside(*conn) == "0");
  }
  {
    auto conn = pool.acquire();  // the same connection, next lease: nothing of the limit is left
    CHECK(pool.stats().opened == 1);
    CHECK(timeout_outside(*conn) == "0");
    raw_execute(*conn, fast, "SELECT pg_sleep($2) WHERE $1::uuid IS NOT NULL", 0.06);
    CHECK(rel::raw_text(*conn, "SELECT current_setting('statement_timeout')") == "0");
  }
  {
    // In the caller's transaction: each org's operation gets its own limit, the org without one
    // gets back the value the transaction began with (here the session's own 5s).
    auto conn = pool.acquire();
    conn->execute("SET statement_timeout = '5s'");
    {
      auto tx = conn->transaction();
      CHECK(timeout_for(*conn, slow) == "50ms");
      CHECK(timeout_for(*conn, fast) == "5s");
      CHECK(timeout_for(*conn, slow) == "50ms");
      CHECK(timeout_for(*conn, slow) == "50ms");
      tx.commit();
    }
    CHECK(timeout_outside(*conn) == "5s");
    CHECK(timeout_for(*conn, fast) == "5s");
    // A timeout inside the caller's transaction aborts it, as any error does; rolled back, the
    // connection works.
    {
      auto tx = conn->transaction();
      expect_throw<StatementTimeout>([&] { sleep_in(*conn, slow, 1.0); });
      CHECK(PQtransactionStatus(conn->native()) == PQTRANS_INERROR);
    }
    CHECK(timeout_outside(*conn) == "5s");
    conn->execute("RESET statement_timeout");
  }
  {
    auto conn = pool.acquire();
    CHECK(timeout_outside(*conn) == "0");
  }

  // The observer saw the timeouts with their org and kind; only the sleeps reached the slow hook.
  std::lock_guard lock(events->m);
  int timeouts = 0;
  for (const auto& e : events->all)
    if (e.error == ErrorKind::statement_timeout) {
      ++timeouts;
      CHECK(e.org == slow);
      CHECK(e.duration >= 45ms);
    }
  CHECK(timeouts == 2);
  CHECK(observer->stats(&slow).errors == 2);
  CHECK(observer->stats(&fast).errors == 0);
  REQUIRE(events->slow.size() == 4);  // two timeouts at 50ms, two sleeps of 60ms
  for (const auto& e : events->slow) {
    CHECK(e.text.find("pg_sleep") != std::string::npos);
    CHECK(e.duration >= 40ms);
  }
  CHECK(observer->stats(&slow).slow + observer->stats(&fast).slow == 4);
}

TEST_CASE("statement_timeout: a negative limit is refused before anything runs", "[reliability][pg][observability]") {
  const std::string url = tenantry_test::pg_url();
  pg::Connection conn(url, {.statement_timeout = [](const OrgId&) { return -1ms; }});
  expect_throw<UsageError>([&] { timeout_for(conn, OrgId::random()); });
  CHECK(PQtransactionStatus(conn.native()) == PQTRANS_IDLE);
}

TEST_CASE("observer: counters are exact with many threads on one pool", "[reliability][pool][observability]") {
  testdb::TempPath file("observe");
  std::atomic<int> hooks{0};
  auto observer = std::make_shared<StatementObserver>(ObserverOptions{
      .on_statement = [&hooks](const StatementEvent&) { hooks.fetch_add(1, std::memory_order_relaxed); }});
  Pool<Database> pool("sqlite:" + file.string(), {.size = 4, .connect = {.observer = observer}});
  {
    auto conn = pool.acquire();
    create_tables<Item>(*conn);
  }
  const std::vector<OrgId> orgs{OrgId::random(), OrgId::random()};
  constexpr int threads = 4;
  const int per_thread = rel::scaled(100);
  std::vector<std::thread> workers;
  std::vector<std::string> failures(threads);
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      try {
        for (int i = 0; i < per_thread; ++i) {
          auto conn = pool.acquire();
          Repository<Item> items{*conn};
          Item row;
          row.id = Uuid::random();
          row.owner = "w" + std::to_string(t);
          row.name = row.owner + "-" + std::to_string(i);
          items.insert(orgs[static_cast<std::size_t>(i % 2)], row);
        }
      } catch (const std::exception& e) {
        failures[static_cast<std::size_t>(t)] = e.what();
      }
    });
  }
  for (auto& w : workers) w.join();
  for (const auto& f : failures) CHECK(f.empty());
  const auto total = static_cast<std::uint64_t>(threads * per_thread);
  const OrgStatementStats a = observer->stats(&orgs[0]), b = observer->stats(&orgs[1]);
  CHECK(a.calls + b.calls == total);
  CHECK(a.calls == total / 2);
  CHECK(a.affected == total / 2);
  CHECK(b.affected == total / 2);
  CHECK(a.errors + b.errors == 0);
  CHECK(hooks.load() == static_cast<int>(total));  // create_tables (Connection::execute) is not observed
}

TEST_CASE("observer: a throwing hook leaves pooled connections clean and usable",
          "[reliability][pool][observability]") {
  testdb::TempPath file("observe-throw");
  auto observer = std::make_shared<StatementObserver>(
      ObserverOptions{.on_statement = [](const StatementEvent&) { throw std::runtime_error("metrics backend down"); }});
  Pool<Database> pool("sqlite:" + file.string(), {.size = 1, .connect = {.observer = observer}});
  const OrgId org = OrgId::random();
  {
    auto conn = pool.acquire();
    create_tables<Item>(*conn);
    Repository<Item> items{*conn};
    auto tx = conn->transaction();
    Item row;
    row.id = Uuid::random();
    row.owner = "w";
    row.name = "one";
    items.insert(org, row);
    tx.commit();
    CHECK(items.count(org) == 1);
  }
  {
    auto conn = pool.acquire();
    CHECK(Repository<Item>(*conn).count(org) == 1);
    CHECK_FALSE(conn->in_transaction());
  }
  const PoolStats s = pool.stats();
  CHECK(s.opened == 1);
  CHECK(s.closed == 0);
  CHECK(s.rolled_back == 0);
  CHECK(observer->hook_failures() == 3);
  CHECK(observer->stats(&org).calls == 3);
}
