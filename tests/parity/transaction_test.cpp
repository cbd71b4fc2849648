// Transactions on both databases: commit, rollback on destruction and on exceptions, savepoints
// for nested scopes, misuse, a second connection that sees committed rows only, and the one
// place the databases really differ: what a failed statement does to the open transaction.
// SQLite's locking (BEGIN IMMEDIATE waiting, BusyError) stays in tests/sqlite/transaction_test.cpp.
#include "support/backends.hpp"

#include <stdexcept>
#include <string>

using namespace tenantry;
using fixtures::ApiToken;
using parity::native_in_transaction;
using parity::Repo;
using parity::rows_in;
using testdb::expect_throw;

namespace {

template <class B>
struct Fixture {
  typename B::Conn conn = B::open();
  OrgId org = parity::add_org(conn, "acme");
  Repo<B, ApiToken> tokens{conn};
  std::int64_t count() { return tokens.count(org); }
  bool has(const char* prefix) { return tokens.exists(org, col(&ApiToken::token_prefix) == prefix); }
  void add(const char* prefix) { tokens.insert(org, testdb::make_token(prefix)); }
};

}  // namespace

TEMPLATE_TEST_CASE("commit makes the writes permanent", "[parity][tx]", PARITY_BACKENDS) {
  Fixture<TestType> f;
  {
    auto tx = f.conn.transaction();
    CHECK(f.conn.in_transaction());
    CHECK(native_in_transaction(f.conn));
    f.add("a");
    f.add("b");
    CHECK(tx.active());
    tx.commit();
    CHECK_FALSE(tx.active());
    CHECK_FALSE(f.conn.in_transaction());
  }
  CHECK_FALSE(native_in_transaction(f.conn));
  CHECK(f.count() == 2);
  auto other = TestType::reopen(f.conn);
  CHECK(rows_in(other, "api_tokens") == 2);
}

TEMPLATE_TEST_CASE("a scope that ends without commit rolls back", "[parity][tx]", PARITY_BACKENDS) {
  Fixture<TestType> f;
  f.add("before");

  SECTION("destruction without commit") {
    auto tx = f.conn.transaction();
    f.add("a");
    CHECK(f.count() == 2);  // visible inside the transaction
  }
  SECTION("an exception") {
    try {
      auto tx = f.conn.transaction();
      f.add("a");
      throw std::runtime_error("boom");
    } catch (const std::runtime_error& e) {
      CHECK(std::string(e.what()) == "boom");
    }
  }
  SECTION("a constraint violation after a successful write") {
    CHECK_THROWS_AS(
        [&] {
          auto tx = f.conn.transaction();
          f.add("a");
          f.add("before");  // UNIQUE (org_id, token_prefix)
          tx.commit();
        }(),
        UniqueViolation);
  }
  SECTION("explicit rollback()") {
    auto tx = f.conn.transaction();
    f.add("a");
    tx.rollback();
    CHECK_FALSE(tx.active());
    CHECK_FALSE(f.conn.in_transaction());
    CHECK(f.count() == 1);
  }
  CHECK_FALSE(f.conn.in_transaction());
  CHECK_FALSE(native_in_transaction(f.conn));
  CHECK(f.count() == 1);
  CHECK_FALSE(f.has("a"));
  CHECK(rows_in(f.conn, "api_tokens") == 1);
  // The connection is usable afterwards.
  f.add("after");
  CHECK(f.count() == 2);
}

// The difference: after a failed statement SQLite's transaction goes on (only that statement is
// undone), while PostgreSQL's is aborted: every later statement fails with 25P02
// in_failed_sql_transaction, and COMMIT rolls everything back, which the driver reports as a
// DatabaseError rather than let the caller believe the earlier writes were kept.
TEMPLATE_TEST_CASE("a failed statement inside a transaction", "[parity][tx]", PARITY_BACKENDS) {
  using B = TestType;
  Fixture<B> f;
  auto tx = f.conn.transaction();
  f.add("a");
  CHECK_THROWS_AS(f.add("a"), UniqueViolation);
  if constexpr (B::is_postgres) {
    CHECK(expect_throw<DatabaseError>([&] { f.add("b"); }).code() == "25P02");
    CHECK(expect_throw<DatabaseError>([&] { (void)f.count(); }).code() == "25P02");
    CHECK(expect_throw<DatabaseError>([&] { tx.commit(); }).code() == "25P02");
    CHECK_FALSE(f.conn.in_transaction());
    CHECK_FALSE(native_in_transaction(f.conn));
    CHECK(f.count() == 0);
  } else {
    f.add("b");
    tx.commit();
    CHECK(f.count() == 2);
    CHECK(f.has("a"));
    CHECK(f.has("b"));
  }
  // The connection works afterwards on both.
  f.add("c");
  CHECK(f.has("c"));
}

TEMPLATE_TEST_CASE("a savepoint around a statement that may fail keeps the transaction going on both",
                   "[parity][tx]", PARITY_BACKENDS) {
  Fixture<TestType> f;
  auto tx = f.conn.transaction();
  f.add("a");
  try {
    auto sp = f.conn.transaction();
    f.add("a");  // UNIQUE (org_id, token_prefix)
    sp.commit();
    FAIL("the duplicate was accepted");
  } catch (const UniqueViolation& e) {
    CHECK(e.constraint() == "uq_api_tokens_org_id_token_prefix");
  }
  CHECK(f.conn.in_transaction());
  f.add("b");
  tx.commit();
  CHECK(f.count() == 2);
  CHECK(f.has("a"));
  CHECK(f.has("b"));
}

TEMPLATE_TEST_CASE("nested scopes are savepoints", "[parity][tx]", PARITY_BACKENDS) {
  Fixture<TestType> f;

  SECTION("inner rollback keeps the outer work") {
    auto outer = f.conn.transaction();
    f.add("outer");
    {
      auto inner = f.conn.transaction();
      f.add("inner");
      CHECK(f.count() == 2);
    }
    CHECK(f.conn.in_transaction());
    CHECK(f.count() == 1);
    f.add("outer2");
    outer.commit();
    CHECK(f.has("outer"));
    CHECK(f.has("outer2"));
    CHECK_FALSE(f.has("inner"));
    CHECK(f.count() == 2);
  }
  SECTION("inner commit then outer rollback discards both") {
    {
      auto outer = f.conn.transaction();
      f.add("outer");
      {
        auto inner = f.conn.transaction();
        f.add("inner");
        inner.commit();
      }
      CHECK(f.count() == 2);
    }
    CHECK(f.count() == 0);
  }
  SECTION("inner commit and outer commit keep both") {
    auto outer = f.conn.transaction();
    f.add("outer");
    auto inner = f.conn.transaction();
    f.add("inner");
    inner.commit();
    outer.commit();
    CHECK(f.count() == 2);
  }
  SECTION("three levels: the middle rollback discards the innermost committed work") {
    auto outer = f.conn.transaction();
    f.add("1");
    {
      auto middle = f.conn.transaction();
      f.add("2");
      {
        auto inner = f.conn.transaction();
        f.add("3");
        inner.commit();
      }
      middle.rollback();
    }
    {
      auto again = f.conn.transaction();  // the savepoint name is reused correctly
      f.add("4");
      again.commit();
    }
    outer.commit();
    CHECK(f.has("1"));
    CHECK_FALSE(f.has("2"));
    CHECK_FALSE(f.has("3"));
    CHECK(f.has("4"));
    CHECK(f.count() == 2);
  }
  SECTION("a failure inside a savepoint, rolled back, then more work at the same level") {
    auto outer = f.conn.transaction();
    f.add("1");
    {
      auto inner = f.conn.transaction();
      f.add("2");
      CHECK_THROWS_AS(f.add("1"), UniqueViolation);
    }  // rolled back: on PostgreSQL this also clears the aborted state
    {
      auto inner = f.conn.transaction();
      f.add("3");
      inner.commit();
    }
    outer.commit();
    CHECK(f.has("1"));
    CHECK_FALSE(f.has("2"));
    CHECK(f.has("3"));
  }
  CHECK_FALSE(f.conn.in_transaction());
  CHECK_FALSE(native_in_transaction(f.conn));
  // Whatever was committed is stored, as another connection sees it.
  auto other = TestType::reopen(f.conn);
  CHECK(rows_in(other, "api_tokens") == f.count());
}

TEMPLATE_TEST_CASE("transaction misuse is a UsageError", "[parity][tx]", PARITY_BACKENDS) {
  Fixture<TestType> f;
  auto tx = f.conn.transaction();
  f.add("a");
  tx.commit();
  expect_throw<UsageError>([&] { tx.commit(); });
  expect_throw<UsageError>([&] { tx.rollback(); });
  CHECK(f.count() == 1);

  auto rolled = f.conn.transaction();
  rolled.rollback();
  expect_throw<UsageError>([&] { rolled.commit(); });
  expect_throw<UsageError>([&] { f.conn.commit_scope(); });
  expect_throw<UsageError>([&] { f.conn.rollback_scope(); });
  CHECK_FALSE(native_in_transaction(f.conn));
}

// SQLite in WAL mode and PostgreSQL (READ COMMITTED) both let a reader go on while a writer's
// transaction is open, and neither shows it the uncommitted rows.
TEMPLATE_TEST_CASE("a second connection sees committed rows only, without waiting", "[parity][tx]", PARITY_BACKENDS) {
  Fixture<TestType> f;
  auto reader_conn = TestType::reopen(f.conn);
  Repo<TestType, ApiToken> reader{reader_conn};
  f.add("committed");

  auto tx = f.conn.transaction();
  f.add("pending");
  CHECK(f.count() == 2);
  CHECK(reader.count(f.org) == 1);
  CHECK_FALSE(reader.exists(f.org, col(&ApiToken::token_prefix) == "pending"));
  CHECK(rows_in(reader_conn, "api_tokens") == 1);
  tx.commit();
  CHECK(reader.count(f.org) == 2);
  CHECK(reader.exists(f.org, col(&ApiToken::token_prefix) == "pending"));
}
