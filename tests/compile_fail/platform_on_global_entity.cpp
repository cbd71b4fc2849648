// expect: tenantry::platform reaches rows of no org, and this entity has none
// errors: 1
// A global entity's rows belong to every org, not to none: it has no platform scope either.
#include "support/entities.hpp"

#include <tenantry/sqlite.hpp>

using namespace tenantry;
using namespace fixtures;

int main() {
  sqlite::Connection db(":memory:");
  Repository<Organization, SqliteDialect> orgs{db};
  (void)orgs.count(platform);
}
