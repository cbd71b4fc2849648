// expect: the primary key of an org-scoped entity must include its OrgId column or be one Uuid or identity\(\) column
// A caller-chosen text key, unique across orgs: inserting "acme-prod" tells org A whether org B has it.
#include "support/entities.hpp"

using namespace tenantry;

struct Environment { std::string slug; OrgId org_id; std::string region; };
template <> struct tenantry::entity<Environment> {
  static constexpr std::string_view table = "environments";
  static constexpr auto primary_key = key(&Environment::slug);
};
int main() { (void)table_info<Environment>(); }
