// expect: this entity is global \(it has no OrgId field\): call find\(key\)
// errors: 1
// The other direction through a Database: an org passed to a global entity, stated once.
#include "support/entities.hpp"

#include <tenantry/tenantry.hpp>

using namespace tenantry;
using namespace fixtures;

int main() {
  Database db = connect("sqlite::memory:");
  Repository<Organization> orgs{db};
  (void)orgs.find(OrgId::random(), Uuid::random());
}
