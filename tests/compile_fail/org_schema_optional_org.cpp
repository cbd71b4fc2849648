// expect: OrgSchemas<\.\.\.> cannot hold an entity whose org column is optional
// errors: 1
// Rows of no org belong in no org's schema: such a table stays shared in public.
#include "support/platform_entities.hpp"

#include <tenantry/org_schema.hpp>

using namespace tenantry;

int main() { (void)OrgSchemas<fixtures::ApiToken, platform_fixtures::AuditEvent>::table_names(); }
