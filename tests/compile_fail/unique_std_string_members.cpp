// expect: COMPILES
// unique(&E::a, &E::b) written unqualified over std::string members: argument-dependent lookup
// used to add std::unique (std is an associated namespace of `std::string E::*`) and pick it,
// failing inside <algorithm> with errors about iterators. tenantry's unique is a function object,
// which argument-dependent lookup never competes with.
#include <tenantry/sqlite.hpp>

#include <string>

struct Person {
  tenantry::Uuid id;
  tenantry::OrgId org_id;
  std::string first_name;
  std::string last_name;
};

template <>
struct tenantry::entity<Person> {
  static constexpr std::string_view table = "people";
  static constexpr auto primary_key = key(&Person::id);
  static constexpr auto constraints = std::tuple{unique(&Person::first_name, &Person::last_name),
                                                 unique(&Person::org_id, &Person::last_name)};
};

int main() { return tenantry::table_info<Person>().uniques.size() == 2 ? 0 : 1; }
