// Load through the pool, nothing lost: 8 threads of mixed repository operations (insert, find,
// update, set, upsert, erase, list, count, committed / rolled-back / abandoned transactions,
// leases ended by exceptions) over four orgs, each thread on its own keys so its in-memory model
// knows every answer. At the end the table holds exactly what the models say, and no org sees a
// row of another. On SQLite (a WAL file), PostgreSQL, and PostgreSQL with row-level security and
// org_context, where two clients alternating orgs on one pooled connection never see each other.
#include "reliability/common.hpp"

#include <tenantry/pool.hpp>
#include <tenantry/tenantry.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace tenantry;
using namespace std::chrono_literals;
using rel::Item;

namespace {

std::vector<OrgId> four_orgs() { return {OrgId::random(), OrgId::random(), OrgId::random(), OrgId::random()}; }

template <class Conn>
void report(const char* what, const rel::LoadConfig& config, Pool<Conn>& pool, double seconds) {
  const PoolStats s = pool.stats();
  std::printf(
      "reliability: %s: %d threads x %d ops in %.2f s (pool %zu: %llu leases, %llu waited, %llu rolled back, "
      "%llu health checks)\n",
      what, config.threads, config.ops_per_thread, seconds, s.size, static_cast<unsigned long long>(s.acquired),
      static_cast<unsigned long long>(s.waited), static_cast<unsigned long long>(s.rolled_back),
      static_cast<unsigned long long>(s.health_checks));
}

/// What every load run must show in the pool's counters.
void check_stats(const PoolStats& s) {
  CHECK(s.open <= s.size);
  CHECK(s.timeouts == 0);
  CHECK(s.rolled_back > 0);    // abandoned transactions were rolled back by the pool
  CHECK(s.health_checks > 0);  // leases ended by exceptions were checked
  CHECK(s.replaced == 0);      // ...and found healthy
  CHECK(s.closed == 0);
}

}  // namespace

TEST_CASE("load: SQLite file (WAL) through Pool<Database>, nothing lost", "[reliability][sqlite][load]") {
  testdb::TempPath file("load");
  {
    sqlite::Connection setup(file.string());
    REQUIRE(rel::raw_text(setup, "PRAGMA journal_mode") == "wal");
    create_tables<Item>(setup);
  }
  Pool<Database> pool("sqlite:" + file.string(), {.size = 4, .acquire_timeout = 30s});
  const auto orgs = four_orgs();
  const rel::LoadConfig config{.threads = 8, .ops_per_thread = rel::scaled(2000)};
  const auto start = std::chrono::steady_clock::now();
  const auto results = rel::run_load(pool, orgs, config);
  report("SQLite WAL", config, pool, rel::seconds_since(start));

  sqlite::Connection admin(file.string());
  rel::verify(results, admin, pool, orgs);
  check_stats(pool.stats());
}

TEST_CASE("load: PostgreSQL through Pool<Database>, nothing lost", "[reliability][pg][load]") {
  const std::string url = tenantry_test::pg_url();
  pg::Connection admin(url);
  create_tables<Item>(admin);
  Pool<Database> pool(url, {.size = 4, .acquire_timeout = 30s});
  const auto orgs = four_orgs();
  const rel::LoadConfig config{.threads = 8, .ops_per_thread = rel::scaled(2000)};
  const auto start = std::chrono::steady_clock::now();
  const auto results = rel::run_load(pool, orgs, config);
  report("PostgreSQL", config, pool, rel::seconds_since(start));

  rel::verify(results, admin, pool, orgs);
  check_stats(pool.stats());
}

TEST_CASE("load: PostgreSQL with row-level security and org_context, nothing lost or leaked",
          "[reliability][pg][rls][load]") {
  const std::string url = tenantry_test::pg_url();
  rel::create_rls_tables(url);
  // The application role: an ordinary owner, so FORCE ROW LEVEL SECURITY applies to it.
  Pool<pg::Connection> pool(rel::as_role(url, rel::rls_owner),
                            {.size = 4, .acquire_timeout = 30s, .connect = {.org_context = true}});
  const auto orgs = four_orgs();
  const rel::LoadConfig config{.threads = 8, .ops_per_thread = rel::scaled(1500)};
  const auto start = std::chrono::steady_clock::now();
  const auto results = rel::run_load(pool, orgs, config);
  report("PostgreSQL RLS", config, pool, rel::seconds_since(start));

  pg::Connection admin(url);  // superuser: sees every org's rows, policies or not
  REQUIRE(rel::raw_int(admin, "SELECT count(*) FROM rel_items") > 0);
  rel::verify(results, admin, pool, orgs);
  check_stats(pool.stats());
  // Outside a transaction a pooled connection has no org, so a read fails (OrgContextMissing).
  auto conn = pool.acquire();
  CHECK(rel::fails_without_org(*conn, "SELECT count(*) FROM rel_items"));
}

TEST_CASE("row-level security: two clients alternating orgs on one pooled connection never see each other",
          "[reliability][pg][rls]") {
  const std::string url = tenantry_test::pg_url();
  rel::create_rls_tables(url);
  const std::string app_url = rel::as_role(url, rel::rls_owner);
  // One connection for two clients: every lease of one follows a lease of the other.
  Pool<pg::Connection> pool(app_url, {.size = 1, .acquire_timeout = 30s, .connect = {.org_context = true}});
  const std::vector<OrgId> orgs{OrgId::random(), OrgId::random()};

  constexpr int clients = 2;
  const int rounds = rel::scaled(300);
  const std::string setting = "SELECT coalesce(current_setting('app.current_org_id', true), '')";
  std::vector<std::vector<std::string>> failures(clients);
  std::vector<std::set<std::int64_t>> backends(clients);
  std::vector<std::array<std::int64_t, 2>> inserted(clients, {0, 0});

  const auto client = [&](int c) {
    auto& fail = failures[static_cast<std::size_t>(c)];
    const std::string me = "client" + std::to_string(c);
    const auto expect = [&](bool ok, int round, const std::string& what) {
      if (!ok && fail.size() < 20) fail.push_back(me + " round " + std::to_string(round) + ": " + what);
    };
    for (int round = 0; round < rounds; ++round) {
      // Client 0: A, B, A, ...; client 1: B, A, B, ...
      const int o = (round + c) % 2;
      const OrgId& org = orgs[static_cast<std::size_t>(o)];
      try {
        auto conn = pool.acquire();
        Repository<Item, PgDialect> items{*conn};
        backends[static_cast<std::size_t>(c)].insert(rel::raw_int(*conn, "SELECT pg_backend_pid()"));
        // Nothing is set when the lease starts: raw SQL outside a transaction fails to read.
        expect(rel::raw_text(*conn, setting).empty(), round, "an org setting survived into this lease");
        expect(rel::fails_without_org(*conn, "SELECT count(*) FROM rel_items"), round,
               "a read without an org did not fail with OrgContextMissing");

        Item row;
        row.id = Uuid::random();
        row.owner = me;
        row.name = me + "-" + std::to_string(round);
        row.version = 1;
        items.insert(org, row);
        ++inserted[static_cast<std::size_t>(c)][static_cast<std::size_t>(o)];
        const auto mine = items.list(org, col(&Item::owner) == me);
        expect(static_cast<std::int64_t>(mine.size()) == inserted[static_cast<std::size_t>(c)][static_cast<std::size_t>(o)],
               round, "wrong number of own rows in the org");
        for (const Item& i : mine) expect(i.org_id == org, round, "a row of another org listed");
        for (const Item& i : items.list(org)) expect(i.org_id == org, round, "a row of another org listed");

        {
          // Inside a transaction the policy shows exactly the org that was set.
          auto tx = conn->transaction();
          const auto n = items.count(org);
          expect(rel::raw_text(*conn, setting) == org.to_string(), round, "wrong org set in the transaction");
          expect(rel::raw_int(*conn, "SELECT count(*) FROM rel_items") == n, round, "policy and repository disagree");
          expect(rel::raw_int(*conn, "SELECT count(*) FROM rel_items WHERE org_id <> '" + org.to_string() + "'") == 0,
                 round, "rows of another org visible in the transaction");
          tx.commit();
        }
        expect(rel::raw_text(*conn, setting).empty(), round, "the org setting outlived the transaction");

        // Every few rounds, raw SQL sets a session-level org (a bug in application code): the
        // pool's reset must keep it from reaching the other client.
        if (round % 7 == 3)
          conn->execute("SELECT set_config('app.current_org_id', '" + org.to_string() + "', false)");
      } catch (const std::exception& e) {
        expect(false, round, std::string("exception: ") + e.what());
      }
    }
  };
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) threads.emplace_back(client, c);
  for (auto& t : threads) t.join();

  for (const auto& f : failures)
    for (const auto& msg : f) FAIL_CHECK(msg);
  // Both clients used the same server session (so a leak would have shown).
  CHECK(backends[0].size() == 1);
  CHECK(backends[0] == backends[1]);
  pg::Connection admin(url);
  for (int o = 0; o < 2; ++o) {
    const auto expected = inserted[0][static_cast<std::size_t>(o)] + inserted[1][static_cast<std::size_t>(o)];
    CHECK(rel::raw_int(admin, "SELECT count(*) FROM rel_items WHERE org_id = '" +
                                  orgs[static_cast<std::size_t>(o)].to_string() + "'") == expected);
  }
}
