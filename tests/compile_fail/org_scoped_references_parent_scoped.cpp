// expect: an org-scoped entity cannot have a foreign key to an entity scoped through its parent
// errors: 1
// The database cannot pair the orgs of the two rows: org A's row could name org B's secret.
#include "parent_scope.hpp"

struct Login { Uuid id; OrgId org_id; Uuid secret_id; };
template <> struct tenantry::entity<Login> {
  static constexpr std::string_view table = "logins";
  static constexpr auto primary_key = key(&Login::id);
  static constexpr auto constraints = std::tuple{foreign_key(&Login::secret_id, &MemberSecret::id)};
};
int main() { (void)table_info<Login>(); }
