// expect: OrgSchemas<...> holds org-scoped entities only
#include "support/entities.hpp"

#include <tenantry/org_schema.hpp>

using namespace tenantry;
using namespace fixtures;

int main() { (void)OrgSchemas<ApiToken, Organization>::table_names(); }
