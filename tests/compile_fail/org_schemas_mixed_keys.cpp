// expect: the entities of one OrgSchemas<...> set have one org type
// errors: 1
#include "support/org_key_entities.hpp"

#include <tenantry/org_schema.hpp>

using namespace tenantry;
using namespace org_keys;

int main() { (void)OrgSchemas<SlugProject, NumProject>::table_names(); }
