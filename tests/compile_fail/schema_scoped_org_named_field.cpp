// expect: a field named or stored as the org column \(org_id\) must be a tenantry::OrgId
// errors: 1
// The org-column naming rule holds for schema-scoped entities too: an `org_id` that is plain
// text would look like an org filter and be none.
#include <tenantry/ddl.hpp>

using namespace tenantry;

struct Doc {
  Uuid id;
  std::string org_id;
};
template <>
struct tenantry::entity<Doc> {
  static constexpr std::string_view table = "docs";
  static constexpr auto primary_key = key(&Doc::id);
  static constexpr auto scope = tenantry::per_org_schema;
};

int main() { (void)table_info<Doc>(); }
