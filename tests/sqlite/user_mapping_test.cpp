// User types mapped onto text and bytes: the converted value is a temporary, which the
// statement must keep alive until it runs (drivers bind text by pointer).
#include <tenantry/sqlite.hpp>

#include <catch2/catch.hpp>

#include <string>

namespace {

struct Email {
  std::string local, domain;
  friend bool operator==(const Email&, const Email&) = default;
};

struct Contact {
  tenantry::Uuid id;
  tenantry::OrgId org_id;
  Email email;
};

}  // namespace

template <>
struct tenantry::type_mapping<Email> {
  using storage = std::string;
  static std::string to_storage(const Email& e) { return e.local + "@" + e.domain + std::string(64, ' '); }
  static Email from_storage(std::string s) {
    s.erase(s.find_last_not_of(' ') + 1);
    const auto at = s.find('@');
    return Email{s.substr(0, at), s.substr(at + 1)};
  }
};

template <>
struct tenantry::entity<Contact> {
  static constexpr std::string_view table = "contacts";
  static constexpr auto primary_key = key(&Contact::id);
};

TEST_CASE("a user type stored as text round-trips through a temporary", "[sqlite][types]") {
  tenantry::sqlite::Connection db(":memory:");
  tenantry::create_tables<Contact>(db);
  tenantry::Repository<Contact, tenantry::SqliteDialect> contacts{db};
  const auto org = tenantry::OrgId::random();
  Contact c{tenantry::Uuid::random(), {}, Email{"ada", "example.org"}};
  contacts.insert(org, c);
  // Several binds in a row: every temporary must still be intact when the statement runs.
  const auto found = contacts.list(org, tenantry::col(&Contact::email) == Email{"ada", "example.org"},
                                   tenantry::col(&Contact::email) != Email{"bob", "example.org"});
  REQUIRE(found.size() == 1);
  CHECK(found[0].email == c.email);
}
