// expect: a per_org_schema entity's foreign key to an org-scoped entity must name one of the same OrgSchemas
// errors: 1
// The parent outside the set lives in public, shared by every org: a row of no org column
// could point at any org's row.
#include "support/org_key_entities.hpp"

#include <tenantry/org_schema.hpp>

using namespace tenantry;

struct Attachment {
  Uuid id;
  Uuid project_id;
};
template <>
struct tenantry::entity<Attachment> {
  static constexpr std::string_view table = "attachments";
  static constexpr auto primary_key = key(&Attachment::id);
  static constexpr auto scope = tenantry::per_org_schema;
  using org_type = TextOrgId;
  static constexpr auto constraints = std::tuple{foreign_key(&Attachment::project_id, &org_keys::SlugProject::id)};
};

int main() { (void)OrgSchemas<Attachment>::table_names(); }
