// expect: scope = tenantry::through<&T::fk> names a field of this entity
// errors: 1
// The foreign key of the scope is one of the entity's own fields.
#include "parent_scope.hpp"

struct Secret { Uuid id; Uuid member_id; std::string password_hash; };
template <> struct tenantry::entity<Secret> {
  static constexpr auto scope = tenantry::through<&Member::account_id>;
  static constexpr std::string_view table = "secrets";
  static constexpr auto primary_key = key(&Secret::id);
  static constexpr auto constraints = std::tuple{foreign_key(&Secret::member_id, &Member::id)};
};
int main() { (void)table_info<Secret>(); }
