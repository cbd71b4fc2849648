// Through PgBouncer in transaction pooling mode (scripts/pgbouncer.sh, TENANTRY_PGBOUNCER_URL):
// the library works with pg::Options{.server_prepared = false}, and the row-level security org
// setting, set per transaction with set_config(..., true), never reaches another client even
// though the clients share server sessions. Without PgBouncer these tests FAIL saying how to
// start it; they are never skipped.
#include "reliability/common.hpp"
#include "support/expect_throw.hpp"

#include <tenantry/pool.hpp>
#include <tenantry/tenantry.hpp>

#include <catch2/catch.hpp>

#include <libpq-fe.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <iterator>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

using namespace tenantry;
using namespace std::chrono_literals;
using rel::Item;

namespace {

constexpr const char* how_to_start =
    "The PgBouncer tests need PgBouncer in transaction pooling mode in front of the test server: run them "
    "through scripts/test.sh, or `scripts/pgbouncer.sh start` and "
    "`export TENANTRY_PGBOUNCER_URL=$(scripts/pgbouncer.sh url)`.";

/// Plain libpq: the first column of the first row of a simple query, or "" with `error` set.
std::string libpq_value(const std::string& conninfo, const std::string& sql, std::string& error) {
  const char* const keys[] = {"connect_timeout", "dbname", nullptr};
  const char* const values[] = {"5", conninfo.c_str(), nullptr};
  PGconn* c = PQconnectdbParams(keys, values, 1);
  std::string out;
  if (PQstatus(c) != CONNECTION_OK) {
    error = tenantry_test::pg_detail::trimmed(PQerrorMessage(c));
  } else {
    PGresult* r = PQexec(c, sql.c_str());
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0) out = PQgetvalue(r, 0, 0);
    else error = tenantry_test::pg_detail::trimmed(PQresultErrorMessage(r));
    PQclear(r);
  }
  PQfinish(c);
  return out;
}

/// The database of `direct_url` (a fresh test database) reached through PgBouncer. FAILs the
/// test, saying how to start PgBouncer, when it is not configured or does not answer.
std::string through_bouncer(const std::string& direct_url) {
  const char* env = std::getenv("TENANTRY_PGBOUNCER_URL");
  if (env == nullptr || *env == '\0') FAIL("TENANTRY_PGBOUNCER_URL is not set. " << how_to_start);
  std::string error;
  const std::string url = tenantry_test::pg_detail::url_for(env, rel::database_of(direct_url), error);
  if (url.empty()) FAIL(error);
  if (libpq_value(url, "SELECT 1", error) != "1")
    FAIL("cannot reach the test database through PgBouncer at " << tenantry_test::pg_detail::redacted(env) << ": "
                                                                << error << ". " << how_to_start);
  return url;
}

/// PgBouncer's own setting, from its admin console (SHOW CONFIG).
std::string bouncer_setting(const std::string& bouncer_url, const std::string& key) {
  std::string error;
  const std::string admin = tenantry_test::pg_detail::url_for(bouncer_url, "pgbouncer", error);
  const char* const keys[] = {"connect_timeout", "dbname", nullptr};
  const char* const values[] = {"5", admin.c_str(), nullptr};
  PGconn* c = PQconnectdbParams(keys, values, 1);
  std::string out;
  if (PQstatus(c) == CONNECTION_OK) {
    PGresult* r = PQexec(c, "SHOW CONFIG");
    if (PQresultStatus(r) == PGRES_TUPLES_OK)
      for (int i = 0; i < PQntuples(r); ++i)
        if (key == PQgetvalue(r, i, 0)) out = PQgetvalue(r, i, 1);
    PQclear(r);
  }
  PQfinish(c);
  return out;
}

}  // namespace

TEST_CASE("PgBouncer: runs in transaction pooling mode", "[reliability][pgbouncer]") {
  const std::string url = through_bouncer(tenantry_test::pg_url());
  CHECK(bouncer_setting(url, "pool_mode") == "transaction");
  std::string error;
  const std::string version = libpq_value(url, "SHOW server_version", error);
  INFO(error);
  CHECK_FALSE(version.empty());
}

TEST_CASE("PgBouncer: the load test through transaction pooling with server_prepared = false",
          "[reliability][pgbouncer][load]") {
  const std::string direct = tenantry_test::pg_url();
  const std::string url = through_bouncer(direct);
  pg::Connection admin(direct);
  create_tables<Item>(admin);

  // More clients than PgBouncer has server connections for the database (default_pool_size).
  Pool<Database> pool(url, {.size = 8, .acquire_timeout = 30s, .connect = {.postgres = {.server_prepared = false}}});
  const auto orgs = std::vector<OrgId>{OrgId::random(), OrgId::random(), OrgId::random(), OrgId::random()};
  const rel::LoadConfig config{.threads = 8, .ops_per_thread = rel::scaled(1500)};
  const auto start = std::chrono::steady_clock::now();
  const auto results = rel::run_load(pool, orgs, config);
  std::printf("reliability: PgBouncer: %d threads x %d ops in %.2f s\n", config.threads, config.ops_per_thread,
              rel::seconds_since(start));
  rel::verify(results, admin, pool, orgs);

  // The 8 client connections shared fewer server sessions: transaction pooling was at work.
  const std::string pool_size = bouncer_setting(url, "default_pool_size");
  CHECK(pool.stats().open == 8);
  const auto servers = rel::raw_int(admin, "SELECT count(*) FROM pg_stat_activity WHERE datname = '" +
                                               rel::database_of(direct) + "' AND pid <> pg_backend_pid()");
  INFO("server sessions " << servers << ", PgBouncer default_pool_size " << pool_size);
  CHECK(servers <= std::stoll(pool_size.empty() ? "0" : pool_size));
  CHECK(servers < 8);
}

TEST_CASE("PgBouncer: the org setting never leaks between clients (row-level security, org_context)",
          "[reliability][pgbouncer][rls]") {
  const std::string direct = tenantry_test::pg_url();
  const std::string bouncer = through_bouncer(direct);
  rel::create_rls_tables(direct);
  const std::string app_url = rel::as_role(bouncer, rel::rls_owner);
  const pg::Options app_options{.server_prepared = false, .org_context = true};
  const std::vector<OrgId> orgs{OrgId::random(), OrgId::random()};
  const std::string setting = "SELECT coalesce(current_setting('app.current_org_id', true), '')";

  // Two clients (each its own pool and connection to PgBouncer) take strict turns, each switching
  // org every turn: client 0 does A, B, A, ...; client 1 does B, A, B, ...
  constexpr int clients = 2;
  const int rounds = rel::scaled(200);
  std::mutex m;
  std::condition_variable cv;
  int turn = 0;
  std::vector<std::vector<std::string>> failures(clients);
  std::vector<std::set<std::int64_t>> backends(clients);
  std::vector<std::array<std::int64_t, 2>> inserted(clients, {0, 0});

  const auto client = [&](int c) {
    auto& fail = failures[static_cast<std::size_t>(c)];
    const std::string me = "client" + std::to_string(c);
    const auto expect = [&](bool ok, int round, const std::string& what) {
      if (!ok && fail.size() < 20) fail.push_back(me + " round " + std::to_string(round) + ": " + what);
    };
    try {
      Pool<pg::Connection> pool(app_url, {.size = 1, .acquire_timeout = 30s, .connect = app_options});
      for (int round = 0; round < rounds; ++round) {
        {
          std::unique_lock lock(m);
          cv.wait(lock, [&] { return turn == 2 * round + c; });
        }
        const int o = (round + c) % 2;
        const OrgId& org = orgs[static_cast<std::size_t>(o)];
        try {
          auto conn = pool.acquire();
          Repository<Item, PgDialect> items{*conn};
          // Outside a transaction each statement may run on any server session: none has an org.
          expect(rel::raw_text(*conn, setting).empty(), round, "an org setting is visible outside a transaction");
          expect(rel::fails_without_org(*conn, "SELECT count(*) FROM rel_items"), round,
                 "a read outside a transaction did not fail with OrgContextMissing");
          Item row;
          row.id = Uuid::random();
          row.owner = me;
          row.name = me + "-" + std::to_string(round);
          row.version = 1;
          items.insert(org, row);
          ++inserted[static_cast<std::size_t>(c)][static_cast<std::size_t>(o)];
          const auto mine = items.list(org, col(&Item::owner) == me);
          expect(static_cast<std::int64_t>(mine.size()) ==
                     inserted[static_cast<std::size_t>(c)][static_cast<std::size_t>(o)],
                 round, "wrong number of own rows");
          for (const Item& i : items.list(org)) expect(i.org_id == org, round, "a row of another org was listed");
          {
            auto tx = conn->transaction();  // one server session for the whole transaction
            const auto n = items.count(org);
            backends[static_cast<std::size_t>(c)].insert(rel::raw_int(*conn, "SELECT pg_backend_pid()"));
            expect(rel::raw_text(*conn, setting) == org.to_string(), round, "wrong org in the transaction");
            expect(rel::raw_int(*conn, "SELECT count(*) FROM rel_items") == n, round, "policy and repository disagree");
            tx.commit();
          }
          expect(rel::fails_without_org(*conn, "SELECT count(*) FROM rel_items"), round,
                 "a read after commit did not fail with OrgContextMissing");
        } catch (const std::exception& e) {
          expect(false, round, std::string("exception: ") + e.what());
        }
        {
          std::lock_guard lock(m);
          ++turn;
        }
        cv.notify_all();
      }
    } catch (const std::exception& e) {
      fail.push_back(me + ": " + e.what());
      std::lock_guard lock(m);
      turn = 1 << 30;  // release the other client
      cv.notify_all();
    }
  };
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) threads.emplace_back(client, c);
  for (auto& t : threads) t.join();
  for (const auto& f : failures)
    for (const auto& msg : f) FAIL_CHECK(msg);

  // The clients ran on the same server sessions, so a setting that outlived its transaction
  // would have reached the other client.
  std::set<std::int64_t> shared;
  for (auto pid : backends[0])
    if (backends[1].count(pid)) shared.insert(pid);
  INFO("server sessions: client 0 " << backends[0].size() << ", client 1 " << backends[1].size() << ", shared "
                                    << shared.size());
  CHECK_FALSE(shared.empty());

  pg::Connection admin(direct);
  for (int o = 0; o < 2; ++o) {
    CHECK(rel::raw_int(admin, "SELECT count(*) FROM rel_items WHERE org_id = '" +
                                  orgs[static_cast<std::size_t>(o)].to_string() + "'") ==
          inserted[0][static_cast<std::size_t>(o)] + inserted[1][static_cast<std::size_t>(o)]);
  }

  // Control, last because it pollutes a server session: a session-level setting (what
  // set_config(..., false) or SET would make) does reach the next client through PgBouncer.
  // This is why tenantry only ever sets the org with set_config(..., true).
  {
    pg::Connection one(app_url, {.server_prepared = false});
    pg::Connection other(app_url, {.server_prepared = false});
    one.execute("SELECT set_config('app.current_org_id', '" + orgs[0].to_string() + "', false)");
    CHECK(rel::raw_text(other, setting) == orgs[0].to_string());
    CHECK(rel::raw_int(other, "SELECT count(*) FROM rel_items") ==
          inserted[0][0] + inserted[1][0]);  // another client's org's rows, outside any transaction
    one.execute("RESET app.current_org_id");
    CHECK(rel::raw_text(other, setting).empty());
  }
}

// The one-round-trip form of a one-statement operation (insert_many of one batch): its
// set_config(..., true) and its INSERT travel in one pipeline, which PgBouncer keeps on one
// server session up to its sync. An attacker's view: two clients, each switching org on every
// call, share server sessions; a pipeline that carried one org's setting into the other's
// statement, or left it on the session, would put rows in the wrong org or let a read outside
// any transaction see one.
TEST_CASE("PgBouncer: a pipelined one-statement insert_many never spans two orgs",
          "[reliability][pgbouncer][rls][insert_many]") {
  const std::string direct = tenantry_test::pg_url();
  const std::string bouncer = through_bouncer(direct);
  rel::create_rls_tables(direct);
  const std::string app_url = rel::as_role(bouncer, rel::rls_owner);
  const pg::Options app_options{.server_prepared = false, .org_context = true};
  const std::vector<OrgId> orgs{OrgId::random(), OrgId::random()};
  const std::string setting = "SELECT coalesce(current_setting('app.current_org_id', true), '')";

  std::vector<pg::Connection> clients;
  for (int c = 0; c < 2; ++c) clients.emplace_back(app_url, app_options);
  REQUIRE(clients[0].org_statement_pipelined(orgs[0]));
  std::map<std::string, OrgId> written;  // name -> the org of the call that wrote it
  std::set<std::int64_t> backends[2];
  const int rounds = rel::scaled(30);
  for (int round = 0; round < rounds; ++round) {
    for (int c = 0; c < 2; ++c) {
      pg::Connection& conn = clients[static_cast<std::size_t>(c)];
      const OrgId& org = orgs[static_cast<std::size_t>((round + c) % 2)];
      Repository<Item, PgDialect> items{conn};
      std::vector<Item> batch(3);
      for (std::size_t k = 0; k < batch.size(); ++k) {
        Item& i = batch[k];
        i.id = Uuid::random();
        i.owner = "c" + std::to_string(c);
        i.name = i.owner + "-" + std::to_string(round) + "-" + std::to_string(k);
        i.version = 1;
        written.emplace(i.name, org);
      }
      items.insert_many(org, batch);
      backends[c].insert(rel::raw_int(conn, "SELECT pg_backend_pid()"));
      INFO("client " << c << " round " << round);
      // Nothing of the org stays on whatever server session ran the pipeline.
      CHECK(rel::raw_text(clients[0], setting).empty());
      CHECK(rel::raw_text(clients[1], setting).empty());
      CHECK(rel::fails_without_org(clients[1 - c], "SELECT count(*) FROM rel_items"));
    }
  }
  // Every row is in the org of the call that wrote it, and each org lists only its own.
  pg::Connection admin(direct);
  for (int o = 0; o < 2; ++o) {
    Repository<Item, PgDialect> items{clients[0]};
    const OrgId& org = orgs[static_cast<std::size_t>(o)];
    std::size_t expected = 0;
    for (const auto& [name, in] : written) expected += in == org ? 1 : 0;
    const auto listed = items.list(org);
    CHECK(listed.size() == expected);
    for (const Item& i : listed) {
      CHECK(i.org_id == org);
      CHECK(written.at(i.name) == org);
    }
    CHECK(rel::raw_int(admin, "SELECT count(*) FROM rel_items WHERE org_id = '" + org.to_string() + "'") ==
          static_cast<std::int64_t>(expected));
  }
  // The two clients did share server sessions (so a leak would have been seen by the other).
  std::set<std::int64_t> shared;
  for (auto pid : backends[0])
    if (backends[1].count(pid)) shared.insert(pid);
  INFO("server sessions: client 0 " << backends[0].size() << ", client 1 " << backends[1].size());
  CHECK_FALSE(shared.empty());
}

TEST_CASE("PgBouncer: a pipelined batch never spans two orgs, on server sessions the clients share",
          "[reliability][pgbouncer][rls][batch]") {
  const std::string direct = tenantry_test::pg_url();
  const std::string bouncer = through_bouncer(direct);
  rel::create_rls_tables(direct);
  const std::string app_url = rel::as_role(bouncer, rel::rls_owner);
  const pg::Options app_options{.server_prepared = false, .org_context = true};
  const std::vector<OrgId> orgs{OrgId::random(), OrgId::random()};
  const std::string setting = "SELECT coalesce(current_setting('app.current_org_id', true), '')";

  std::vector<pg::Connection> clients;
  for (int c = 0; c < 2; ++c) clients.emplace_back(app_url, app_options);
  std::map<std::string, OrgId> written;       // name -> the org of the batch that wrote it
  std::map<std::string, Uuid> ids;            // name -> id
  std::set<std::int64_t> backends[2];
  std::string last_name[2];                   // the last row each org wrote
  const int rounds = rel::scaled(30);
  for (int round = 0; round < rounds; ++round) {
    for (int c = 0; c < 2; ++c) {
      pg::Connection& conn = clients[static_cast<std::size_t>(c)];
      const int o = (round + c) % 2;
      const OrgId& org = orgs[static_cast<std::size_t>(o)];
      Batch batch(conn, org);
      for (int k = 0; k < 2; ++k) {
        Item i;
        i.id = Uuid::random();
        i.owner = "c" + std::to_string(c);
        i.name = i.owner + "-" + std::to_string(round) + "-" + std::to_string(k);
        i.version = 1;
        written.emplace(i.name, org);
        ids.emplace(i.name, i.id);
        batch.insert(i);  // `i` ends before run(): the batch holds its own copy
      }
      // The other org's last row, by key: this batch's org cannot reach it.
      const std::string& theirs = last_name[1 - o];
      if (!theirs.empty()) batch.set(ids.at(theirs), &Item::version, std::int64_t{-1});
      const BatchResult done = batch.run();
      if (!theirs.empty()) CHECK_FALSE(done.changed(2));
      last_name[o] = "c" + std::to_string(c) + "-" + std::to_string(round) + "-1";
      backends[c].insert(rel::raw_int(conn, "SELECT pg_backend_pid()"));
      INFO("client " << c << " round " << round);
      // Nothing of the org stays on whatever server session ran the pipeline.
      CHECK(rel::raw_text(clients[0], setting).empty());
      CHECK(rel::raw_text(clients[1], setting).empty());
      CHECK(rel::fails_without_org(clients[1 - c], "SELECT count(*) FROM rel_items"));
    }
    // A failing batch (a name its org has already) writes nothing, and the client goes on.
    Batch failing(clients[0], orgs[0]);
    Item dup;
    dup.id = Uuid::random();
    dup.owner = "dup";
    dup.name = last_name[0];
    Item fresh = dup;
    fresh.id = Uuid::random();
    fresh.name = "never-" + std::to_string(round);
    failing.insert(fresh);
    failing.insert(dup);
    CHECK_THROWS_AS(failing.run(), UniqueViolation);
    CHECK(rel::raw_text(clients[0], setting).empty());
  }
  // Every row is in the org of the batch that wrote it, unchanged by the other org.
  pg::Connection admin(direct);
  CHECK(rel::raw_int(admin, "SELECT count(*) FROM rel_items WHERE version <> 1 OR owner = 'dup'") == 0);
  for (int o = 0; o < 2; ++o) {
    Repository<Item, PgDialect> items{clients[0]};
    const OrgId& org = orgs[static_cast<std::size_t>(o)];
    std::size_t expected = 0;
    for (const auto& [name, in] : written) expected += in == org ? 1 : 0;
    const auto listed = items.list(org);
    CHECK(listed.size() == expected);
    for (const Item& i : listed) {
      CHECK(i.org_id == org);
      CHECK(written.at(i.name) == org);
    }
  }
  std::set<std::int64_t> shared;
  for (auto pid : backends[0])
    if (backends[1].count(pid)) shared.insert(pid);
  INFO("server sessions: client 0 " << backends[0].size() << ", client 1 " << backends[1].size());
  CHECK_FALSE(shared.empty());
}

// Not run by default: what happens with server-side prepared statements through transaction
// pooling (PgBouncer before 1.21 does not track them). Prints the failures it observes.
TEST_CASE("PgBouncer: observe server_prepared = true (not run by default)", "[.][pgbouncer][observe]") {
  const std::string direct = tenantry_test::pg_url();
  const std::string url = through_bouncer(direct);
  pg::Connection admin(direct);
  create_tables<Item>(admin);
  const auto orgs = std::vector<OrgId>{OrgId::random(), OrgId::random()};
  for (int threads : {1, 4}) {
    Pool<Database> pool(url, {.size = static_cast<std::size_t>(threads), .acquire_timeout = 30s,
                              .connect = {.postgres = {.server_prepared = true}}});
    const rel::LoadConfig config{.threads = threads, .ops_per_thread = 300};
    const auto results = rel::run_load(pool, orgs, config);
    std::map<std::string, int> kinds;
    std::uint64_t failed = 0;
    for (const auto& r : results) {
      failed += r.failed_ops;
      for (const auto& f : r.failures) {
        const auto p = f.find("postgres: ");
        ++kinds[p == std::string::npos ? f.substr(0, 80) : f.substr(p, 70)];
      }
    }
    std::printf("server_prepared = true, %d client(s): %llu of %d operations failed; first messages:\n", threads,
                static_cast<unsigned long long>(failed), threads * config.ops_per_thread);
    for (const auto& [k, n] : kinds) std::printf("  %3d x %s\n", n, k.c_str());
    admin.execute("TRUNCATE rel_items");
  }
  SUCCEED();
}

// ---- server-side prepared statements through transaction pooling --------------------------------
//
// Two processes behind PgBouncer share its server sessions, and a server session keeps every
// statement prepared on it whichever client prepared it. When statement names were a
// per-process counter ("tenantry_<intern id>"), two programs that built their statements in a
// different order gave one name to different SQL, and one process executed the other's statement
// with its own parameters: a count() ran a DELETE. Names now derive from the statement text.

namespace {

/// Only this test uses the table, so its statements are interned first by the forked children
/// (each child's first new statement takes the same intern id).
struct SwapRow {
  Uuid id;
  OrgId org_id;
  std::string owner;
  std::string name;
};

}  // namespace

template <>
struct tenantry::entity<SwapRow> {
  using T = SwapRow;
  static constexpr std::string_view table = "rel_swap_rows";
  static constexpr auto primary_key = key(&T::id);
  static constexpr auto constraints = std::tuple{index(&T::org_id, &T::owner)};
};

namespace {

constexpr int swap_rows_per_org = 50;

/// What one child process saw, sent to the parent through a pipe as "key value" lines.
struct ChildReport {
  std::map<std::string, long> counts;  // "ok", "wrong", "error <SQLSTATE>", ...
  std::string first_wrong, first_error;

  std::string serialize() const {
    std::string out;
    for (const auto& [k, v] : counts) out += k + "=" + std::to_string(v) + "\n";
    if (!first_wrong.empty()) out += "first_wrong=" + first_wrong + "\n";
    if (!first_error.empty()) out += "first_error=" + first_error + "\n";
    return out;
  }
  static ChildReport parse(const std::string& text) {
    ChildReport r;
    std::size_t at = 0;
    while (at < text.size()) {
      const std::size_t end = std::min(text.find('\n', at), text.size());
      const std::string line = text.substr(at, end - at);
      at = end + 1;
      const std::size_t eq = line.find('=');
      if (eq == std::string::npos) continue;
      const std::string key = line.substr(0, eq), value = line.substr(eq + 1);
      if (key == "first_wrong") r.first_wrong = value;
      else if (key == "first_error") r.first_error = value;
      else r.counts[key] = std::atol(value.c_str());
    }
    return r;
  }
  long get(const std::string& key) const {
    const auto it = counts.find(key);
    return it == counts.end() ? 0 : it->second;
  }
  /// Occurrences of keys starting with `prefix`.
  long total(const std::string& prefix) const {
    long n = 0;
    for (const auto& [k, v] : counts)
      if (k.starts_with(prefix)) n += v;
    return n;
  }
  std::set<std::string> pids() const {
    std::set<std::string> out;
    for (const auto& [k, v] : counts)
      if (k.starts_with("pid ")) out.insert(k);
    return out;
  }
};

enum class SwapRole { counter, deleter };

std::string one_line(std::string text) {
  for (char& ch : text)
    if (ch == '\n') ch = ' ';
  return text.substr(0, 300);
}

/// The body of one child process: `rounds` operations outside any transaction, then `rounds`
/// inside transactions, on one connection through PgBouncer with the default options
/// (server-side prepared statements). The counter counts org A's rows owned by "p1" (always
/// swap_rows_per_org); the deleter deletes org B's rows owned by "p1" (there are none: always 0).
/// Both statements take (uuid, text), so each would run with the other's parameters.
ChildReport run_swap_child(SwapRole role, const std::string& url, OrgId a, OrgId b, int rounds) {
  ChildReport report;
  const auto note = [&](const std::string& key, const std::string& what = {}) {
    ++report.counts[key];
    if (key == "wrong" && report.first_wrong.empty()) report.first_wrong = what;
  };
  try {
    pg::Connection conn(url);  // default options
    Repository<SwapRow, PgDialect> rows{conn};
    const auto once = [&] {
      if (role == SwapRole::counter) {
        const std::int64_t n = rows.count(a, col(&SwapRow::owner) == "p1");
        if (n == swap_rows_per_org) note("ok");
        else note("wrong", "count() returned " + std::to_string(n));
      } else {
        const std::int64_t n = rows.erase_where(b, col(&SwapRow::owner) == "p1");
        if (n == 0) note("ok");
        else note("wrong", "erase_where() returned " + std::to_string(n));
      }
    };
    for (int phase = 0; phase < 2; ++phase) {
      const std::string kind = phase == 0 ? "error " : "in_tx_error ";
      for (int i = 0; i < rounds; ++i) {
        try {
          if (phase == 0) {
            once();
          } else {
            auto tx = conn.transaction();
            once();
            // The server session this transaction ran on (for the parent: were they shared?).
            ++report.counts["pid " + std::to_string(rel::raw_int(conn, "SELECT pg_backend_pid()"))];
            tx.commit();
          }
        } catch (const DatabaseError& e) {
          note(kind + e.code());
          if (report.first_error.empty()) report.first_error = one_line(e.what());
        } catch (const std::exception& e) {
          note("wrong", one_line(std::string("exception: ") + e.what()));
        }
      }
    }
  } catch (const std::exception& e) {
    note("wrong", std::string("child died: ") + e.what());
  }
  return report;
}

/// Runs run_swap_child in a forked process; returns its pid and the read end of its pipe.
std::pair<pid_t, int> fork_swap_child(SwapRole role, const std::string& url, OrgId a, OrgId b, int rounds) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // The child: no Catch2, no destructors of the parent's objects (_exit), only its own
    // connection.
    ::close(fds[0]);
    const std::string out = run_swap_child(role, url, a, b, rounds).serialize();
    std::size_t done = 0;
    while (done < out.size()) {
      const ssize_t n = ::write(fds[1], out.data() + done, out.size() - done);
      if (n <= 0) break;
      done += static_cast<std::size_t>(n);
    }
    ::close(fds[1]);
    ::_exit(0);
  }
  ::close(fds[1]);
  return {pid, fds[0]};
}

ChildReport collect_swap_child(std::pair<pid_t, int> child) {
  std::string text;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(child.second, buffer, sizeof buffer);
    if (n <= 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(child.second);
  int status = 0;
  ::waitpid(child.first, &status, 0);
  ChildReport r = ChildReport::parse(text);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    ++r.counts["wrong"];
    r.first_wrong = "the child process did not exit cleanly (status " + std::to_string(status) + ")";
  }
  return r;
}

}  // namespace

TEST_CASE("PgBouncer: two processes with server-side prepared statements never run each other's statements",
          "[reliability][pgbouncer][prepared]") {
  const std::string direct = tenantry_test::pg_url();
  const std::string url = through_bouncer(direct);
  pg::Connection admin(direct);
  create_tables<SwapRow>(admin);
  const OrgId a = OrgId::random(), b = OrgId::random();
  {
    Repository<SwapRow, PgDialect> rows{admin};
    std::vector<SwapRow> seed;
    for (int i = 0; i < swap_rows_per_org; ++i) {
      seed.push_back({Uuid::random(), a, "p1", "a" + std::to_string(i)});
      seed.push_back({Uuid::random(), b, "p2", "b" + std::to_string(i)});
    }
    for (SwapRow& r : seed) rows.insert(r.org_id, r);
  }

  const int rounds = rel::scaled(400);
  const auto counter = fork_swap_child(SwapRole::counter, url, a, b, rounds);
  const auto deleter = fork_swap_child(SwapRole::deleter, url, a, b, rounds);
  const ChildReport c = collect_swap_child(counter), d = collect_swap_child(deleter);
  std::printf("reliability: PgBouncer prepared statements, 2 processes x %d x 2 operations\n  counter: %s  deleter: %s",
              rounds, c.serialize().c_str(), d.serialize().c_str());

  // Not one operation ran the other process's statement.
  INFO("counter: " << c.serialize() << "deleter: " << d.serialize());
  CHECK(c.get("wrong") == 0);
  CHECK(d.get("wrong") == 0);
  CHECK(rel::raw_int(admin, "SELECT count(*) FROM rel_swap_rows WHERE org_id = '" + a.to_string() +
                                "' AND owner = 'p1'") == swap_rows_per_org);
  CHECK(rel::raw_int(admin, "SELECT count(*) FROM rel_swap_rows") == 2 * swap_rows_per_org);
  // Outside transactions every operation succeeded: a statement the server session lacks is
  // prepared again and run in one transaction, so on one server session. (Inside a transaction
  // such an execution fails with 26000 and aborts it; that is allowed, a swap is not.)
  CHECK(c.total("error ") == 0);
  CHECK(d.total("error ") == 0);
  for (const ChildReport* r : {&c, &d})
    for (const auto& [key, n] : r->counts)
      if (key.starts_with("in_tx_error ")) CHECK(key == "in_tx_error 26000");
  CHECK(c.get("ok") >= rounds);
  CHECK(d.get("ok") >= rounds);
  // The two processes did run on the same server sessions.
  std::set<std::string> shared;
  for (const auto& pid : c.pids())
    if (d.pids().contains(pid)) shared.insert(pid);
  CHECK_FALSE(shared.empty());
}

TEST_CASE("PgBouncer: a statement name held by other SQL on every server session is refused, never run",
          "[reliability][pgbouncer][prepared]") {
  const std::string direct = tenantry_test::pg_url();
  const std::string url = through_bouncer(direct);
  pg::Connection admin(direct);
  admin.execute("CREATE TABLE rel_victims (x integer); INSERT INTO rel_victims SELECT generate_series(1, 10)");
  const Sql ours = intern_sql("SELECT count(*) FROM rel_victims WHERE x > $1 /* pgbouncer_test: taken everywhere */");

  // Another program on the same PgBouncer pool prepares a DELETE under our statement's name on
  // every server session: as many clients as the pool has sessions, each inside a transaction
  // (so each holds a session of its own), each preparing at the protocol level.
  const std::string pool_size = bouncer_setting(url, "default_pool_size");
  REQUIRE_FALSE(pool_size.empty());
  std::vector<PGconn*> others;
  for (int i = 0; i < std::stoi(pool_size); ++i) {
    PGconn* c = PQconnectdb(url.c_str());
    REQUIRE(PQstatus(c) == CONNECTION_OK);
    others.push_back(c);
    PQclear(PQexec(c, "BEGIN"));
    PGresult* r = PQprepare(c, ours.name->c_str(), "DELETE FROM rel_victims WHERE x > $1", 0, nullptr);
    CHECK(PQresultStatus(r) == PGRES_COMMAND_OK);
    PQclear(r);
  }
  std::set<std::string> sessions;
  for (PGconn* c : others) {
    PGresult* r = PQexec(c, "SELECT pg_backend_pid()");
    if (PQresultStatus(r) == PGRES_TUPLES_OK) sessions.insert(PQgetvalue(r, 0, 0));
    PQclear(r);
    PQclear(PQexec(c, "COMMIT"));
  }
  CHECK(sessions.size() == others.size());  // every server session of the pool

  pg::Connection conn(url);  // default options: server-side prepared statements
  for (int i = 0; i < 20; ++i) {
    const auto e = testdb::expect_throw<StatementNameCollision>([&] { conn.prepare(ours); });
    CHECK(e.name() == *ours.name);
  }
  CHECK(conn.statement_stats().collisions == 20);
  CHECK(rel::raw_int(admin, "SELECT count(*) FROM rel_victims") == 10);
  for (PGconn* c : others) PQfinish(c);
}

TEST_CASE("PgBouncer: a per-org statement_timeout never reaches another client on a shared server session",
          "[reliability][pgbouncer][observability]") {
  const std::string direct = tenantry_test::pg_url();
  const std::string url = through_bouncer(direct);
  const OrgId slow = OrgId::random(), fast = OrgId::random();
  const auto limits = [slow](const OrgId& org) { return org == slow ? 50ms : 0ms; };
  const pg::Options options{.server_prepared = false, .statement_timeout = limits};
  // Two clients, each its own pool, taking turns: the one of the slow org hits its limit, the
  // other then runs longer than that limit, and sees no limit outside its transactions.
  Pool<pg::Connection> slow_client(url, {.size = 1, .connect = options});
  Pool<pg::Connection> fast_client(url, {.size = 1, .connect = options});
  std::set<std::int64_t> slow_sessions, fast_sessions;
  const std::string sleep = "SELECT pg_sleep($2) WHERE $1::uuid IS NOT NULL";
  const std::string setting = "SELECT current_setting('statement_timeout')";
  for (int round = 0; round < 5; ++round) {
    INFO("round " << round);
    {
      auto conn = slow_client.acquire();
      // A committed operation of the slow org (a limit set at session level would stay behind on
      // the server session), then one that runs past the limit.
      CHECK_NOTHROW(raw_execute(*conn, slow, sleep, 0.0));
      CHECK_THROWS_AS(raw_execute(*conn, slow, sleep, 1.0), StatementTimeout);
      auto tx = conn->transaction();
      slow_sessions.insert(rel::raw_int(*conn, "SELECT pg_backend_pid()"));
      tx.commit();
    }
    {
      auto conn = fast_client.acquire();
      CHECK(rel::raw_text(*conn, setting) == "0");
      CHECK_NOTHROW(raw_execute(*conn, fast, sleep, 0.06));
      auto tx = conn->transaction();
      fast_sessions.insert(rel::raw_int(*conn, "SELECT pg_backend_pid()"));
      CHECK(rel::raw_text(*conn, setting) == "0");
      tx.commit();
    }
  }
  // The clients did share server sessions (else the test would prove nothing about leaking).
  std::vector<std::int64_t> shared;
  std::set_intersection(slow_sessions.begin(), slow_sessions.end(), fast_sessions.begin(), fast_sessions.end(),
                        std::back_inserter(shared));
  INFO("server sessions: slow client " << slow_sessions.size() << ", fast client " << fast_sessions.size());
  CHECK_FALSE(shared.empty());
}
