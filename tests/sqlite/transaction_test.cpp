// SQLite's locking, with two connections on the same WAL file: BEGIN IMMEDIATE makes a second
// writer wait for the first instead of failing half way, and a writer that waits past its busy
// timeout gets BusyError. Commit, rollback, savepoints, misuse and the isolation of uncommitted
// rows run on both databases in tests/parity/transaction_test.cpp.
#include "support/sqlite_db.hpp"

#include <atomic>
#include <chrono>
#include <exception>
#include <stdexcept>
#include <thread>

using namespace tenantry;
using fixtures::ApiToken;
using testdb::expect_throw;
using testdb::Repo;
using testdb::rows_in;

namespace {

using Clock = std::chrono::steady_clock;

std::int64_t millis_since(Clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
}

struct Fixture {
  testdb::FileDb db;
  OrgId org = testdb::add_org(db.conn, "acme");
  Repo<ApiToken> tokens{db.conn};
  std::int64_t count() { return tokens.count(org); }
  bool has(const char* prefix) { return tokens.exists(org, col(&ApiToken::token_prefix) == prefix); }
  void add(const char* prefix) { tokens.insert(org, testdb::make_token(prefix)); }
};

}  // namespace

TEST_CASE("a second writer waits for the first (BEGIN IMMEDIATE)", "[sqlite][tx][wal]") {
  Fixture f;
  const std::string path = f.db.file.string();
  std::atomic<bool> first_committed{false};
  std::atomic<bool> second_started{false};
  bool saw_first_commit = false;
  std::int64_t waited_ms = -1;
  std::exception_ptr failure;

  auto tx = f.db.conn.transaction();
  f.add("first");

  std::thread second([&] {
    try {
      tenantry::sqlite::Options options;
      options.busy_timeout_ms = 4000;  // bounds the test if the first writer never lets go
      testdb::Conn conn{path, options};
      Repo<ApiToken> tokens{conn};
      second_started = true;
      const auto t0 = Clock::now();
      auto tx2 = conn.transaction();  // blocks until the first writer commits
      waited_ms = millis_since(t0);
      saw_first_commit = first_committed.load();
      tokens.insert(f.org, testdb::make_token("second"));
      tx2.commit();
    } catch (...) {
      failure = std::current_exception();
    }
  });
  while (!second_started) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  first_committed = true;
  tx.commit();
  second.join();

  if (failure) std::rethrow_exception(failure);
  CHECK(saw_first_commit);
  CHECK(waited_ms >= 100);
  CHECK(waited_ms < 4000);
  CHECK(f.has("first"));
  CHECK(f.has("second"));
  CHECK(f.count() == 2);
}

TEST_CASE("a writer that waits past its busy timeout gets BusyError", "[sqlite][tx][wal]") {
  Fixture f;
  tenantry::sqlite::Options options;
  options.busy_timeout_ms = 50;
  testdb::Conn second{f.db.file.string(), options};
  Repo<ApiToken> second_tokens{second};

  auto tx = f.db.conn.transaction();
  f.add("first");

  const auto t0 = Clock::now();
  const auto e = expect_throw<BusyError>([&] { auto tx2 = second.transaction(); });
  const std::int64_t elapsed = millis_since(t0);
  CHECK(elapsed >= 40);
  CHECK(elapsed < 2000);
  CHECK(e.code() == std::to_string(SQLITE_BUSY));
  CHECK_FALSE(second.in_transaction());
  // A single autocommit write waits and fails the same way, and writes nothing.
  expect_throw<BusyError>([&] { second_tokens.insert(f.org, testdb::make_token("second")); });

  tx.commit();
  // Once the lock is free, the same connection (and its cached statements) work.
  auto tx2 = second.transaction();
  second_tokens.insert(f.org, testdb::make_token("second"));
  tx2.commit();
  CHECK(f.count() == 2);
  CHECK(second_tokens.count(f.org) == 2);
}

// SQLite ends a transaction by itself after some errors (SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM)
// and goes on in autocommit mode. Statements the caller still runs "inside" its transaction would
// then each commit alone: a half-done unit of work would persist. The driver refuses them until
// the scope is rolled back.
TEST_CASE("statements after SQLite rolled a transaction back on its own are refused", "[sqlite][tx]") {
  Fixture f;
  f.add("before");

  SECTION("the transaction vanished under the scope") {
    {
      auto tx = f.db.conn.transaction();
      f.add("in-tx");
      // What SQLite does on its own after SQLITE_FULL or SQLITE_IOERR, done here directly so the
      // test does not depend on which error SQLite chooses to treat that way.
      REQUIRE(sqlite3_exec(f.db.conn.native(), "ROLLBACK", nullptr, nullptr, nullptr) == SQLITE_OK);
      const auto e = expect_throw<DatabaseError>([&] { f.add("after-loss"); });
      CHECK_THAT(e.what(), Catch::Contains("rolled back by SQLite"));
      CHECK(e.code() == std::to_string(SQLITE_ABORT_ROLLBACK));
      expect_throw<DatabaseError>([&] { f.db.conn.execute("DELETE FROM api_tokens"); });
      // Nor can a savepoint be opened in it.
      expect_throw<DatabaseError>([&] { auto inner = f.db.conn.transaction(); });
    }
  }
  SECTION("commit reports the loss instead of committing the statements after it") {
    auto tx = f.db.conn.transaction();
    f.add("in-tx");
    REQUIRE(sqlite3_exec(f.db.conn.native(), "ROLLBACK", nullptr, nullptr, nullptr) == SQLITE_OK);
    CHECK_THAT(expect_throw<DatabaseError>([&] { tx.commit(); }).what(), Catch::Contains("rolled back by SQLite"));
  }
  SECTION("nested scopes all end, and the connection is usable afterwards") {
    {
      auto outer = f.db.conn.transaction();
      auto inner = f.db.conn.transaction();
      f.add("in-savepoint");
      REQUIRE(sqlite3_exec(f.db.conn.native(), "ROLLBACK", nullptr, nullptr, nullptr) == SQLITE_OK);
      expect_throw<DatabaseError>([&] { inner.commit(); });
    }
  }
  SECTION("a real SQLITE_FULL inside a transaction scope loses the whole scope, never half of it") {
    f.db.conn.execute("PRAGMA max_page_count = " +
                      std::to_string(testdb::query_int(f.db.conn, "PRAGMA page_count") + 2));
    bool full = false;
    {
      auto tx = f.db.conn.transaction();
      f.add("first-in-tx");
      try {
        for (int i = 0; i < 5000; ++i) f.add(("filler-" + std::to_string(i)).c_str());
      } catch (const StorageFull&) {
        full = true;
      }
      // Whatever SQLite did with the transaction, a statement now either joins it (still open)
      // or is refused (SQLite ended it): it never commits alone.
      try {
        f.add("after-full");
      } catch (const DatabaseError&) {
      }
    }  // rolled back
    CHECK(full);
  }

  // In every case only the row committed before the scope remains, and the connection works.
  CHECK_FALSE(f.db.conn.in_transaction());
  f.db.conn.execute("PRAGMA max_page_count = 1000000");
  CHECK(f.count() == 1);
  CHECK(f.has("before"));
  f.add("later");
  CHECK(f.count() == 2);
}
