// expect: global_unique\(\) contradicts org_leading_keys
#include "support/entities.hpp"

using namespace tenantry;

struct Project { Uuid id; OrgId org_id; std::string name; };
template <> struct tenantry::entity<Project> {
  static constexpr bool org_leading_keys = true;
  static constexpr std::string_view table = "projects";
  static constexpr auto primary_key = key(&Project::id);
  static constexpr auto constraints = std::tuple{unique(&Project::name).global_unique()};
};
int main() { (void)table_info<Project>(); }
