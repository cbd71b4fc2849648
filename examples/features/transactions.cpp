// examples/features/transactions.cpp - transaction scopes: commit, rollback when the scope ends
// without commit (an exception, an early return), and nested scopes as savepoints.
#include <tenantry/sqlite.hpp>

#include <iostream>
#include <stdexcept>
#include <string>

struct Account {
  tenantry::Uuid id{};
  tenantry::OrgId org_id{};
  std::string name{};
  std::int64_t balance = 0;
};

template <>
struct tenantry::entity<Account> {
  static constexpr std::string_view table = "accounts";
  static constexpr auto primary_key = key(&Account::id);
  static constexpr auto constraints = std::tuple{check(&Account::balance, ">=", 0)};
};

int main() {
  using namespace tenantry;
  sqlite::Connection db{":memory:"};
  create_tables<Account>(db);
  Repository<Account, SqliteDialect> accounts{db};
  const OrgId org = OrgId::random();
  Account a{.id = Uuid::random(), .name = "a", .balance = 100}, b{.id = Uuid::random(), .name = "b"};
  accounts.insert(org, a);
  accounts.insert(org, b);

  // Moves `amount` from a to b: both writes or neither (the CHECK refuses a negative balance).
  const auto transfer = [&](std::int64_t amount) {
    auto tx = db.transaction();
    accounts.set(org, b.id, &Account::balance, accounts.find(org, b.id)->balance + amount);
    accounts.set(org, a.id, &Account::balance, accounts.find(org, a.id)->balance - amount);
    tx.commit();
  };
  transfer(30);
  bool refused = false;
  try {
    transfer(500);  // b's write happened first; the CHECK on a's rolls both back
  } catch (const CheckViolation& e) {
    refused = true;
    std::cout << "refused: " << e.constraint() << '\n';
  }

  {  // a nested scope is a savepoint: rolling it back keeps the outer work
    auto outer = db.transaction();
    accounts.set(org, a.id, &Account::name, std::string("alice"));
    {
      auto inner = db.transaction();
      accounts.set(org, b.id, &Account::name, std::string("bob"));
    }  // no commit: the savepoint is rolled back
    outer.commit();
  }
  const auto na = accounts.find(org, a.id), nb = accounts.find(org, b.id);
  std::cout << na->name << " " << na->balance << ", " << nb->name << " " << nb->balance << '\n';  // alice 70, b 30
  return refused && na->balance == 70 && nb->balance == 30 && na->name == "alice" && nb->name == "b" ? 0 : 1;
}
