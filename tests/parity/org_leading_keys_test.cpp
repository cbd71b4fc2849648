// Org-leading keys (entity<T>::org_leading_keys, the layout for distribution by org): the schema
// the option emits is created on both databases and the repository works on it unchanged. Keys
// are unique per org only, so the same id or e-mail in two orgs is two rows, every operation
// still finds rows by (org, key), upserts conflict only within the org, and a reference to
// another org's parent is refused by the database. Checked with plain SQL where it matters.
#include "support/backends.hpp"
#include "support/org_leading_entities.hpp"

#include <string>
#include <vector>

// Named, so that a unity build of tests/parity (tests/CMakeLists.txt) keeps this file's
// using-declarations and helpers to itself.
namespace org_leading_keys_test {

using namespace tenantry;
using citus::Account;
using citus::Invoice;
using parity::Repo;
using parity::rows_in;
using testdb::expect_throw;

namespace {

template <class B>
struct OrgLeading {
  typename B::Conn conn = open();
  OrgId a = parity::add_org(conn, "org-a");
  OrgId b = parity::add_org(conn, "org-b");
  Repo<B, Account> accounts{conn};
  Repo<B, Invoice> invoices{conn};

  // The fixture schema (for organizations) plus the org-leading tables.
  static typename B::Conn open() {
    typename B::Conn c = B::open();
    if constexpr (std::is_same_v<typename B::Dialect, AnyDialect>) {
      if (c.is_postgres())
        c.execute(schema_sql<PgDialect, Account, Invoice, citus::Memo>());
      else
        c.execute(schema_sql<SqliteDialect, Account, Invoice>());
    } else if constexpr (B::is_postgres) {
      c.execute(schema_sql<PgDialect, Account, Invoice, citus::Memo>());
    } else {
      c.execute(schema_sql<SqliteDialect, Account, Invoice>());
    }
    return c;
  }
};

Account account(const Uuid& id, std::string email, std::string name) { return Account{id, OrgId{}, std::move(email), std::move(name)}; }

}  // namespace

TEMPLATE_TEST_CASE("org-leading keys: the same key in two orgs is two rows", "[parity][org][org_leading]", PARITY_BACKENDS) {
  OrgLeading<TestType> f;
  const Uuid id = Uuid::random();
  f.accounts.insert(f.a, account(id, "x@example.com", "Ann"));
  f.accounts.insert(f.b, account(id, "x@example.com", "Ann"));  // same id, same email, same name
  CHECK(rows_in(f.conn, "accounts") == 2);
  // A second row with the same id (or email) in one org is refused.
  const auto dup = expect_throw<UniqueViolation>([&] { f.accounts.insert(f.a, account(id, "y@example.com", "Other")); });
  CHECK(dup.constraint() == "pk_accounts");
  const auto dup_email = expect_throw<UniqueViolation>([&] { f.accounts.insert(f.a, account(Uuid::random(), "x@example.com", "Zed")); });
  CHECK(dup_email.constraint() == "uq_accounts_email");
  CHECK(rows_in(f.conn, "accounts") == 2);

  // Every keyed operation finds the row of its own org only.
  CHECK(f.accounts.set(f.b, id, &Account::name, std::string("Bea")));
  CHECK(f.accounts.find(f.a, id)->name == "Ann");
  CHECK(f.accounts.find(f.b, id)->name == "Bea");
  Account changed = *f.accounts.find(f.a, id);
  changed.email = "a@example.com";
  CHECK(f.accounts.update(f.a, changed));
  CHECK(f.accounts.find(f.b, id)->email == "x@example.com");
  CHECK(f.accounts.count(f.a) == 1);
  CHECK(f.accounts.count(f.b, col(&Account::email) == "x@example.com") == 1);

  // Upsert on the primary key: the org leads the conflict target, so org B's upsert of an id that
  // only org A has inserts B's own row instead of failing or touching A's.
  const Uuid only_a = Uuid::random();
  f.accounts.insert(f.a, account(only_a, "only@example.com", "A only"));
  Account up = f.accounts.upsert(f.b, account(only_a, "only@example.com", "B too"), on_conflict(&Account::id));
  CHECK(up.org_id == f.b);
  CHECK(f.accounts.find(f.a, only_a)->name == "A only");
  CHECK(f.accounts.find(f.b, only_a)->name == "B too");
  up = f.accounts.upsert(f.b, account(only_a, "only@example.com", "B again"), on_conflict(&Account::id));
  CHECK(f.accounts.find(f.b, only_a)->name == "B again");
  CHECK(f.accounts.find(f.a, only_a)->name == "A only");

  // Upsert on the declared UNIQUE (email), which is unique per org in this layout.
  Account by_email = f.accounts.upsert(f.a, account(Uuid::random(), "only@example.com", "A renamed"),
                                       on_conflict(&Account::email).update(only(&Account::name)));
  CHECK(by_email.id == only_a);  // the existing row of org A, read back
  CHECK(f.accounts.find(f.a, only_a)->name == "A renamed");
  CHECK(f.accounts.find(f.b, only_a)->name == "B again");
  CHECK(rows_in(f.conn, "accounts") == 4);

  // Erase: only the org's own row.
  CHECK_FALSE(f.accounts.erase(f.a, Uuid::random()));
  CHECK(f.accounts.erase(f.b, only_a));
  CHECK(f.accounts.find(f.a, only_a).has_value());
  CHECK(f.accounts.erase_where(f.a, col(&Account::email) == "a@example.com") == 1);
  CHECK(f.accounts.find(f.b, id).has_value());
  CHECK(rows_in(f.conn, "accounts") == 2);
}

TEMPLATE_TEST_CASE("org-leading keys: references stay inside the org", "[parity][org][org_leading]", PARITY_BACKENDS) {
  OrgLeading<TestType> f;
  const Uuid id = Uuid::random();
  f.accounts.insert(f.a, account(id, "x@example.com", "Ann"));
  const Uuid other = Uuid::random();
  f.accounts.insert(f.b, account(other, "x@example.com", "Bob"));

  f.invoices.insert(f.a, Invoice{Uuid::random(), OrgId{}, id, "INV-1", 100});
  f.invoices.insert(f.b, Invoice{Uuid::random(), OrgId{}, other, "INV-1", 200});  // same number, other org
  // Org B naming org A's account: (B, id) has no parent.
  expect_throw<ForeignKeyViolation>([&] { f.invoices.insert(f.b, Invoice{Uuid::random(), OrgId{}, id, "INV-2", 1}); });
  CHECK(rows_in(f.conn, "invoices") == 2);

  // The cascade deletes the invoices of the deleted (org, account) only.
  CHECK(f.accounts.erase(f.a, id));
  CHECK(f.invoices.count(f.a) == 0);
  CHECK(f.invoices.count(f.b) == 1);
  CHECK(rows_in(f.conn, "invoices") == 1);

  if constexpr (TestType::is_postgres) {
    // ON DELETE SET NULL ("account_id") nulls the reference and keeps the org.
    Repo<TestType, citus::Memo> memos{f.conn};
    const citus::Memo m = memos.insert(f.b, citus::Memo{Uuid::random(), OrgId{}, other, "note"});
    CHECK(f.accounts.erase(f.b, other));
    const auto after = memos.find(f.b, m.id);
    REQUIRE(after.has_value());
    CHECK_FALSE(after->account_id.has_value());
    CHECK(after->org_id == f.b);
  }
}

}  // namespace org_leading_keys_test
