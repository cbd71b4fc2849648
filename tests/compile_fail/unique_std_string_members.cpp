// expect: COMPILES
// unique(&E::a, &E::b) written unqualified over two std::string members: argument-dependent
// lookup used to add std::unique (std is an associated namespace of `std::string E::*`) and pick
// it, failing inside <algorithm> with errors about iterators. tenantry's unique is a function
// object, which argument-dependent lookup never competes with. (A global entity: an org-scoped
// one's UNIQUE must lead with its OrgId, whose member pointer has another type.)
#include <tenantry/sqlite.hpp>

#include <string>

struct Person {
  tenantry::Uuid id;
  std::string first_name;
  std::string last_name;
};

template <>
struct tenantry::entity<Person> {
  static constexpr auto scope = tenantry::global;
  static constexpr std::string_view table = "people";
  static constexpr auto primary_key = key(&Person::id);
  static constexpr auto constraints = std::tuple{unique(&Person::first_name, &Person::last_name)};
};

int main() { return tenantry::table_info<Person>().uniques.size() == 1 ? 0 : 1; }
