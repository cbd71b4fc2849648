// expect: a foreign key between org-scoped entities must pair the child's OrgId column with the parent's
#include "support/entities.hpp"

using namespace tenantry;
using namespace fixtures;

struct Badge { Uuid id; OrgId org_id; std::string holder; };
template <> struct tenantry::entity<Badge> {
  static constexpr std::string_view table = "badges";
  static constexpr auto primary_key = key(&Badge::id);
  static constexpr auto constraints = std::tuple{foreign_key(
      fields(&Badge::org_id, &Badge::holder), fields(&Membership::user_id, &Membership::org_id), on_delete::cascade)};
};
int main() { (void)table_info<Badge>(); }
