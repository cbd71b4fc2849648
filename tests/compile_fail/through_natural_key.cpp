// expect: the primary key of an entity scoped through its parent must include the foreign key of its scope
// errors: 1
// A chosen text key is unique across every org: an insert tells one org which keys another uses.
#include "parent_scope.hpp"

struct Secret { std::string name; Uuid member_id; std::string password_hash; };
template <> struct tenantry::entity<Secret> {
  static constexpr auto scope = tenantry::through<&Secret::member_id>;
  static constexpr std::string_view table = "secrets";
  static constexpr auto primary_key = key(&Secret::name);
  static constexpr auto constraints = std::tuple{foreign_key(&Secret::member_id, &Member::id)};
};
int main() { (void)table_info<Secret>(); }
