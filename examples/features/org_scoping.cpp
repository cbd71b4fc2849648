// examples/features/org_scoping.cpp - what the org in every call buys: an org sees only its own
// rows, a row carrying another org is refused before anything is sent, and no update moves a
// row between orgs. (The org-less call does not compile at all: tests/compile_fail/org_less_*.cpp.)
#include <tenantry/sqlite.hpp>

#include <iostream>
#include <string>

struct Invoice {
  tenantry::Uuid id{};
  tenantry::OrgId org_id{};
  std::string number{};
  std::int64_t cents = 0;
};

template <>
struct tenantry::entity<Invoice> {
  static constexpr std::string_view table = "invoices";
  static constexpr auto primary_key = key(&Invoice::id);
  static constexpr auto constraints = std::tuple{unique(&Invoice::org_id, &Invoice::number)};
};

int main() {
  using namespace tenantry;
  sqlite::Connection db{":memory:"};
  create_tables<Invoice>(db);
  Repository<Invoice, SqliteDialect> invoices{db};
  const OrgId acme = OrgId::random(), globex = OrgId::random();

  Invoice a{.id = Uuid::random(), .number = "2024-001", .cents = 1200};
  invoices.insert(acme, a);  // a.org_id was nil: it takes the call's org
  Invoice g{.id = Uuid::random(), .number = "2024-001", .cents = 99};
  invoices.insert(globex, g);  // the same number in another org: allowed (UNIQUE is per org)

  const bool hidden = !invoices.find(globex, a.id) && invoices.count(globex) == 1;
  std::cout << "globex sees acme's invoice: " << (hidden ? "no" : "YES") << '\n';

  bool refused = false;
  try {
    Invoice stray = a;
    stray.id = Uuid::random();
    invoices.insert(globex, stray);  // carries acme's org through a globex-scoped call
  } catch (const OrgMismatch& e) {
    refused = true;
    std::cout << e.what() << '\n';
  }

  Invoice moved = a;
  moved.org_id = globex;  // an update cannot move the row: refused too, nothing written
  bool not_moved = false;
  try {
    invoices.update(acme, moved);
  } catch (const OrgMismatch&) {
    not_moved = invoices.find(acme, a.id).has_value();
  }
  const bool untouched = !invoices.update(globex, Invoice{.id = a.id, .number = "x"});  // 0 rows: not globex's
  return hidden && refused && not_moved && untouched && invoices.count(acme) == 1 ? 0 : 1;
}
