// expect: the org column cannot be changed
// errors: 1
// Through a Database too, and once.
#include "support/entities.hpp"

#include <tenantry/tenantry.hpp>

using namespace tenantry;
using namespace fixtures;

int main() {
  Database db = connect("sqlite::memory:");
  Repository<ApiToken> tokens{db};
  (void)tokens.set(OrgId::random(), Uuid::random(), &ApiToken::org_id, OrgId::random());
}
