// Statement observers (observe.hpp) on both databases: every execution a repository, a query or
// raw SQL makes is reported once with its org, id, text, rows, affected rows and error; the
// per-org counters add up to what was run; the slow threshold decides which executions reach
// the slow hook; a hook that throws changes nothing about the statement or the connection.
#include "support/backends.hpp"

#include <tenantry/observe.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

using namespace tenantry;
using fixtures::ApiToken;
using fixtures::Organization;
using parity::Repo;
using testdb::expect_throw;

namespace {

/// A StatementEvent copied out of the hook.
struct Seen {
  std::string dialect;
  std::optional<OrgId> org;
  std::string id, text;
  std::int64_t rows = 0, affected = 0;
  ErrorKind error = ErrorKind::none;
  std::string code, message;
  bool slow = false;
  std::chrono::nanoseconds duration{0};
};

struct Recorder {
  std::shared_ptr<std::vector<Seen>> events = std::make_shared<std::vector<Seen>>();
  std::shared_ptr<std::vector<Seen>> slow = std::make_shared<std::vector<Seen>>();
  std::shared_ptr<StatementObserver> observer;

  explicit Recorder(std::chrono::nanoseconds slow_threshold = {}) {
    const auto copy = [](const StatementEvent& e) {
      return Seen{std::string(e.dialect),
                  e.org != nullptr && e.org->get<OrgId>() != nullptr ? std::optional<OrgId>(*e.org->get<OrgId>())
                                                                     : std::nullopt,
                  std::string(e.id),
                  std::string(e.text),
                  e.rows,
                  e.affected,
                  e.error,
                  std::string(e.error_code),
                  std::string(e.error_message),
                  e.slow,
                  e.duration};
    };
    observer = std::make_shared<StatementObserver>(ObserverOptions{
        .on_statement = [events = events, copy](const StatementEvent& e) { events->push_back(copy(e)); },
        .on_slow_statement = [slow = slow, copy](const StatementEvent& e) { slow->push_back(copy(e)); },
        .slow_threshold = slow_threshold});
  }
  const Seen& last() const {
    REQUIRE_FALSE(events->empty());
    return events->back();
  }
};

/// f(driver connection): the connection itself, or the one a Database holds.
template <class Conn, class F>
decltype(auto) with_driver(Conn& conn, F&& f) {
  if constexpr (requires { conn.visit([](auto&) {}); }) return conn.visit(f);
  else return f(conn);
}

/// `sql` (?N placeholders) in the connection's own spelling.
template <class Conn>
std::string native(Conn& conn, std::string_view sql) {
  return with_driver(conn, [&](auto& c) { return parity::detail::native_sql<std::remove_cvref_t<decltype(c)>>(sql); });
}

struct NameRow {
  std::string name;
};

}  // namespace

TEMPLATE_TEST_CASE("an observer sees every statement once, with its org, id, text, rows and error",
                   "[parity][observability]", PARITY_BACKENDS) {
  using B = TestType;
  typename B::Conn conn = B::open();
  const OrgId a = parity::add_org(conn, "acme"), b = parity::add_org(conn, "bolt");
  Recorder rec;
  conn.set_observer(rec.observer);
  CHECK(conn.observer() == rec.observer);
  Repo<B, ApiToken> tokens{conn};
  const std::string dialect = B::is_postgres ? "postgres" : "sqlite";

  ApiToken t1 = tokens.insert(a, testdb::make_token("a1")), t2 = tokens.insert(a, testdb::make_token("a2"));
  ApiToken t3 = tokens.insert(b, testdb::make_token("b1"));
  REQUIRE(rec.events->size() == 3);
  for (const Seen& e : *rec.events) {
    CHECK(e.dialect == dialect);
    CHECK(e.text.starts_with("INSERT INTO"));
    CHECK(e.id == sql_statement_name(e.text));  // the PostgreSQL statement name, on both
    CHECK(e.affected == 1);
    CHECK(e.error == ErrorKind::none);
    CHECK(e.duration.count() > 0);
    CHECK_FALSE(e.slow);  // no threshold set
  }
  CHECK((*rec.events)[0].org == a);
  CHECK((*rec.events)[1].org == a);
  CHECK((*rec.events)[2].org == b);
  CHECK((*rec.events)[0].id == (*rec.events)[2].id);  // one statement, whatever the org

  CHECK(tokens.list(a).size() == 2);
  CHECK(rec.last().org == a);
  CHECK(rec.last().rows == 2);
  CHECK(rec.last().affected == 0);
  CHECK(rec.last().text.starts_with("SELECT"));

  CHECK(tokens.find(b, t3.id).has_value());
  CHECK(rec.last().org == b);
  CHECK(rec.last().rows == 1);
  CHECK_FALSE(tokens.find(b, t1.id).has_value());  // another org's row: no row, still one execution
  CHECK(rec.last().rows == 0);

  CHECK(tokens.set(a, t2.id, &ApiToken::name, std::string("renamed")));
  CHECK(rec.last().text.starts_with("UPDATE"));
  CHECK(rec.last().affected == 1);
  CHECK(tokens.erase(a, t1.id));
  CHECK(rec.last().org == a);
  CHECK(rec.last().affected == 1);
  CHECK(tokens.count(a) == 1);
  CHECK(rec.last().rows == 1);  // the COUNT(*) row

  // A global entity's statements carry no org.
  Repo<B, Organization> orgs{conn};
  CHECK(orgs.list().size() == 2);
  CHECK_FALSE(rec.last().org.has_value());
  CHECK(rec.last().rows == 2);

  // Raw SQL and queries are reported like repository calls.
  const std::string raw_text = native(conn, "SELECT name FROM api_tokens WHERE org_id = ?1 ORDER BY name");
  CHECK(raw_query<NameRow>(conn, b, raw_text).size() == 1);
  CHECK(rec.last().text == raw_text);
  CHECK(rec.last().org == b);
  CHECK(rec.last().rows == 1);
  const std::string raw_write = native(conn, "UPDATE api_tokens SET scopes = ?2 WHERE org_id = ?1");
  CHECK(raw_execute(conn, b, raw_write, std::string("write")) == 1);
  CHECK(rec.last().text == raw_write);
  CHECK(rec.last().affected == 1);
  CHECK(fetch(conn, a, select(col(&ApiToken::name)).from<ApiToken>()).size() == 1);
  CHECK(rec.last().org == a);
  CHECK(rec.last().rows == 1);
  // The same text has the same id on both databases.
  CHECK(raw_query_global<NameRow>(conn, "SELECT 'x' AS name").size() == 1);
  CHECK(rec.last().id == sql_statement_name("SELECT 'x' AS name"));

  // A failed statement: the caller gets the exception; the observer its kind, code and message.
  const std::size_t before = rec.events->size();
  ApiToken dup = testdb::make_token("a2");
  const auto e = expect_throw<UniqueViolation>([&] { tokens.insert(a, dup); });
  REQUIRE(rec.events->size() == before + 1);
  CHECK(rec.last().org == a);
  CHECK(rec.last().error == ErrorKind::unique_violation);
  CHECK(to_string(rec.last().error) == "unique_violation");
  CHECK(rec.last().code == e.code());
  CHECK(rec.last().code == parity::expected_code<B>(SQLITE_CONSTRAINT_UNIQUE, "23505"));
  CHECK(rec.last().message == e.what());
  CHECK(rec.last().affected == 0);
  CHECK(tokens.count(a) == 1);  // the connection goes on

  // Inside a transaction: each statement is reported (BEGIN and COMMIT are not statements of
  // the repository and are not reported).
  {
    auto tx = conn.transaction();
    tokens.insert(b, testdb::make_token("b2"));
    tokens.insert(b, testdb::make_token("b3"));
    tx.commit();
  }
  CHECK(rec.events->size() == before + 4);  // the failed insert, the count, the two inserts
  CHECK(rec.last().org == b);
  CHECK(tokens.count(b) == 3);

  // A statement the database refuses to prepare is reported too (it never executed).
  const std::size_t before_bad = rec.events->size();
  const auto bad = expect_throw<DatabaseError>(
      [&] { raw_query_global<NameRow>(conn, "SELECT name FROM no_such_table"); });
  REQUIRE(rec.events->size() == before_bad + 1);
  CHECK(rec.last().error == ErrorKind::database);
  CHECK(rec.last().code == bad.code());
  CHECK(rec.last().code == parity::expected_code<B>(SQLITE_ERROR, "42P01"));
  CHECK(rec.last().text == "SELECT name FROM no_such_table");
  CHECK(rec.last().id == sql_statement_name("SELECT name FROM no_such_table"));
  CHECK_FALSE(rec.last().org.has_value());

  // Uninstalled: nothing more is reported.
  conn.set_observer(nullptr);
  const std::size_t total = rec.events->size();
  CHECK(tokens.count(b) == 3);
  CHECK(rec.events->size() == total);
}

TEMPLATE_TEST_CASE("per-org counters add up to what each org ran", "[parity][observability]", PARITY_BACKENDS) {
  using B = TestType;
  typename B::Conn conn = B::open();
  const OrgId a = parity::add_org(conn, "acme"), b = parity::add_org(conn, "bolt");
  Recorder rec;
  conn.set_observer(rec.observer);
  Repo<B, ApiToken> tokens{conn};

  for (int i = 0; i < 5; ++i) tokens.insert(a, testdb::make_token("a" + std::to_string(i)));
  for (int i = 0; i < 2; ++i) tokens.insert(b, testdb::make_token("b" + std::to_string(i)));
  CHECK(tokens.list(a).size() == 5);
  CHECK(tokens.list(b).size() == 2);
  expect_throw<UniqueViolation>([&] { tokens.insert(b, testdb::make_token("b0")); });
  Repo<B, Organization> orgs{conn};
  CHECK(orgs.list().size() == 2);

  const OrgStatementStats sa = rec.observer->stats(&a), sb = rec.observer->stats(&b);
  const OrgStatementStats none = rec.observer->stats(nullptr);
  CHECK(sa.org == a);
  CHECK(sa.calls == 6);
  CHECK(sa.errors == 0);
  CHECK(sa.affected == 5);
  CHECK(sa.rows == 5);
  CHECK(sb.calls == 4);
  CHECK(sb.errors == 1);
  CHECK(sb.affected == 2);
  CHECK(sb.rows == 2);
  CHECK(none.calls == 1);
  CHECK(none.rows == 2);
  CHECK(none.org.is_nil());
  CHECK(sa.slow + sb.slow + none.slow == 0);

  // They agree with the events, call for call and nanosecond for nanosecond.
  std::chrono::nanoseconds time_a{0};
  std::uint64_t calls = 0;
  for (const Seen& e : *rec.events) {
    ++calls;
    if (e.org == a) time_a += e.duration;
  }
  CHECK(sa.time == time_a);
  CHECK(sa.time.count() > 0);
  const std::vector<OrgStatementStats> all = rec.observer->snapshot();
  REQUIRE(all.size() == 3);
  CHECK(all[0].org.is_nil());  // statements without an org first
  CHECK(all[0].calls + all[1].calls + all[2].calls == calls);
  CHECK(rec.observer->stats(nullptr).calls == 1);
  const OrgId nobody = OrgId::random();
  CHECK(rec.observer->stats(&nobody).calls == 0);
}

TEMPLATE_TEST_CASE("only executions at or above the slow threshold reach the slow hook", "[parity][observability]",
                   PARITY_BACKENDS) {
  using B = TestType;
  typename B::Conn conn = B::open();
  const OrgId a = parity::add_org(conn, "acme");
  Repo<B, ApiToken> tokens{conn};

  // A threshold nothing reaches: the slow hook is never called, nothing is counted slow.
  Recorder never(std::chrono::hours(1));
  conn.set_observer(never.observer);
  tokens.insert(a, testdb::make_token("a1"));
  CHECK(tokens.count(a) == 1);
  CHECK(never.events->size() == 2);
  CHECK(never.slow->empty());
  CHECK(never.observer->stats(&a).slow == 0);

  // A threshold every execution reaches: each one is slow, and reaches the slow hook once.
  Recorder always(std::chrono::nanoseconds(1));
  conn.set_observer(always.observer);
  tokens.insert(a, testdb::make_token("a2"));
  CHECK(tokens.count(a) == 2);
  REQUIRE(always.slow->size() == 2);
  CHECK(always.slow->at(0).text == always.events->at(0).text);
  CHECK(always.slow->at(1).org == a);
  CHECK(always.events->at(0).slow);
  CHECK(always.observer->stats(&a).slow == 2);

  // Only the slow hook: every_statement's hook left empty.
  auto slow_only = std::make_shared<std::vector<std::string>>();
  conn.set_observer(std::make_shared<StatementObserver>(
      ObserverOptions{.on_slow_statement = [slow_only](const StatementEvent& e) { slow_only->emplace_back(e.text); },
                      .slow_threshold = std::chrono::nanoseconds(1)}));
  CHECK(tokens.count(a) == 2);
  CHECK(slow_only->size() == 1);
}

TEMPLATE_TEST_CASE("a hook that throws is swallowed and counted; the statement and the connection are unaffected",
                   "[parity][observability]", PARITY_BACKENDS) {
  using B = TestType;
  typename B::Conn conn = B::open();
  const OrgId a = parity::add_org(conn, "acme");
  auto observer = std::make_shared<StatementObserver>(
      ObserverOptions{.on_statement = [](const StatementEvent&) { throw std::runtime_error("hook failed"); },
                      .on_slow_statement = [](const StatementEvent&) { throw 42; },
                      .slow_threshold = std::chrono::nanoseconds(1)});
  conn.set_observer(observer);
  Repo<B, ApiToken> tokens{conn};

  ApiToken t = tokens.insert(a, testdb::make_token("a1"));
  CHECK(observer->hook_failures() == 2);  // both hooks threw; both were swallowed
  CHECK(tokens.find(a, t.id).has_value());
  CHECK(observer->hook_failures() == 4);
  // The statement's own error is still the caller's, unchanged.
  expect_throw<UniqueViolation>([&] { tokens.insert(a, testdb::make_token("a1")); });
  CHECK(observer->hook_failures() == 6);
  {
    auto tx = conn.transaction();
    tokens.insert(a, testdb::make_token("a2"));
    tx.commit();
  }
  CHECK(parity::native_in_transaction(conn) == false);
  CHECK(tokens.count(a) == 2);
  const OrgStatementStats s = observer->stats(&a);
  CHECK(s.calls == 5);  // counted all the same
  CHECK(s.errors == 1);
}
