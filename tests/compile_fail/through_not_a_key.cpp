// expect: must reference the parent.s primary key or a unique\(\) of it
// errors: 1
// Member::account_id is shared by the members of one account in every org: a child naming it
// would belong to several orgs.
#include "parent_scope.hpp"

struct Secret { Uuid id; Uuid account_id; std::string password_hash; };
template <> struct tenantry::entity<Secret> {
  static constexpr auto scope = tenantry::through<&Secret::account_id>;
  static constexpr std::string_view table = "secrets";
  static constexpr auto primary_key = key(&Secret::id);
  static constexpr auto constraints = std::tuple{foreign_key(&Secret::account_id, &Member::account_id)};
};
int main() { (void)table_info<Secret>(); }
