// expect: scope = tenantry::per_org_schema is scoped by its schema and has no org column
// errors: 1
#include <tenantry/ddl.hpp>

using namespace tenantry;

struct Doc {
  Uuid id;
  TextOrgId organization_id;
};
template <>
struct tenantry::entity<Doc> {
  static constexpr std::string_view table = "docs";
  static constexpr auto primary_key = key(&Doc::id);
  static constexpr auto scope = tenantry::per_org_schema;
};

int main() { (void)table_info<Doc>(); }
