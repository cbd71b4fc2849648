// expect: an entity with an OrgId field is org-scoped: it cannot also be scoped through its parent
// errors: 1
// With an org column of its own, the entity is plainly org-scoped.
#include "parent_scope.hpp"

struct Secret { Uuid id; OrgId org_id; Uuid member_id; std::string password_hash; };
template <> struct tenantry::entity<Secret> {
  static constexpr auto scope = tenantry::through<&Secret::member_id>;
  static constexpr std::string_view table = "secrets";
  static constexpr auto primary_key = key(&Secret::id);
  static constexpr auto constraints = std::tuple{foreign_key(&Secret::member_id, &Member::id)};
};
int main() { (void)table_info<Secret>(); }
