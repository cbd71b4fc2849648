// expect: references org-scoped entities only through the foreign key of its scope
// errors: 1
// A second reference to an org-scoped row could name another org's row.
#include "parent_scope.hpp"

struct Secret { Uuid id; Uuid member_id; Uuid role_id; };
template <> struct tenantry::entity<Secret> {
  static constexpr auto scope = tenantry::through<&Secret::member_id>;
  static constexpr std::string_view table = "secrets";
  static constexpr auto primary_key = key(&Secret::id);
  static constexpr auto constraints = std::tuple{foreign_key(&Secret::member_id, &Member::id), foreign_key(&Secret::role_id, &Role::id)};
};
int main() { (void)table_info<Secret>(); }
