// expect: a UNIQUE or unique index of an org-scoped entity must include its OrgId column
// UNIQUE (name) across orgs: org A's insert failing tells it that org B has that name.
#include "support/entities.hpp"

using namespace tenantry;

struct Project { Uuid id; OrgId org_id; std::string name; };
template <> struct tenantry::entity<Project> {
  static constexpr std::string_view table = "projects";
  static constexpr auto primary_key = key(&Project::id);
  static constexpr auto constraints = std::tuple{unique(&Project::name)};
};
int main() { (void)table_info<Project>(); }
