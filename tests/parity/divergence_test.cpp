// Calls that give different results on SQLite and PostgreSQL although nothing in the API or in
// docs/dialects.md says they should were library bugs; these tests pin the fixes. Each test runs
// the same calls on every backend and requires the same observations.
#include "support/backends.hpp"

#include <string>
#include <vector>

using namespace tenantry;
using fixtures::ApiToken;
using fixtures::Gadget;
using parity::Repo;

namespace {

/// Runs `calls` (a generic lambda taking a fresh connection of backend B) and collects what it
/// observed; an exception is an observation too, by its type and code, not its text.
template <class B, class Calls>
std::vector<std::string> observe(Calls&& calls) {
  auto conn = B::open();
  std::vector<std::string> seen;
  calls(conn, seen);
  return seen;
}

template <class F>
std::string outcome(F&& f) {
  try {
    return f();
  } catch (const UsageError&) {
    return "UsageError";
  } catch (const ValueError&) {
    return "ValueError";
  } catch (const DatabaseError& e) {
    return "DatabaseError " + e.code();
  }
}

/// The same observations on every backend, compared with SQLite's.
template <class Calls>
void same_everywhere(Calls&& calls) {
  const auto sqlite = observe<parity::SqliteFile>(calls);
  const auto postgres = observe<parity::Postgres>(calls);
  const auto unprepared = observe<parity::PostgresUnprepared>(calls);
  const auto any = observe<parity::AnyUrl<parity::Postgres>>(calls);
  REQUIRE(sqlite.size() == postgres.size());
  for (std::size_t k = 0; k < sqlite.size(); ++k) {
    INFO("observation " << k);
    CHECK(sqlite[k] == postgres[k]);
    CHECK(sqlite[k] == unprepared[k]);
    CHECK(sqlite[k] == any[k]);
  }
}

template <class Conn>
OrgId tokens_abc(Conn& conn) {
  const OrgId org = parity::add_org(conn, "acme");
  tenantry::Repository<ApiToken, typename Conn::dialect, Conn> tokens{conn};
  for (const char* prefix : {"a", "b", "c"}) tokens.insert(org, testdb::make_token(prefix));
  return org;
}

}  // namespace

// count() and exists() take predicates only: order_by/limit/offset there do not compile
// (tests/compile_fail/count_with_paging.cpp).

// A negative limit(n) or offset(n) would mean "no limit" / 0 to SQLite and an error (2201W,
// 2201X) to PostgreSQL: the repository refuses it with a UsageError on both.
TEST_CASE("a negative limit or offset behaves the same on both", "[parity][divergence]") {
  same_everywhere([](auto& conn, std::vector<std::string>& seen) {
    const OrgId org = tokens_abc(conn);
    tenantry::Repository<ApiToken, typename std::remove_reference_t<decltype(conn)>::dialect,
                         std::remove_reference_t<decltype(conn)>>
        tokens{conn};
    seen.push_back(outcome([&] { return std::to_string(tokens.list(org, limit(-1)).size()); }));
    seen.push_back(outcome([&] { return std::to_string(tokens.list(org, offset(-1)).size()); }));
    seen.push_back(outcome([&] { return std::to_string(tokens.list(org, limit(-5), offset(-5)).size()); }));
  });
}

// SQLite sorts NULL first ascending, PostgreSQL last: for nullable columns the ORDER BY spells
// the position out (NULLS LAST ascending, NULLS FIRST descending, PostgreSQL's rule) on both.
TEST_CASE("ORDER BY a nullable column puts NULLs in the same place on both", "[parity][divergence]") {
  same_everywhere([](auto& conn, std::vector<std::string>& seen) {
    using Conn = std::remove_reference_t<decltype(conn)>;
    const OrgId org = parity::add_org(conn, "acme");
    tenantry::Repository<Gadget, typename Conn::dialect, Conn> gadgets{conn};
    for (const char* label : {"a", "b", "c"}) {
      Gadget g = testdb::make_gadget(label);
      if (std::string(label) != "b") g.note = label;
      else g.note = std::nullopt;
      gadgets.insert(org, g);
    }
    std::string asc, desc;
    for (const Gadget& g : gadgets.list(org, order_by(&Gadget::note))) asc += g.label;
    for (const Gadget& g : gadgets.list(org, order_by(&Gadget::note).desc())) desc += g.label;
    seen.push_back("asc " + asc);
    seen.push_back("desc " + desc);
  });
}

// like() is offered on text columns only: like() on a Json column does not compile
// (tests/compile_fail/like_on_json.cpp).
