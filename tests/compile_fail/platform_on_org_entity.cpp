// expect: tenantry::platform reaches rows of no org, and this entity's org column is a plain OrgId
// errors: 1
// Every row of an entity with a plain OrgId column has an org: there is no platform scope.
#include "support/entities.hpp"

#include <tenantry/sqlite.hpp>

using namespace tenantry;
using namespace fixtures;

int main() {
  sqlite::Connection db(":memory:");
  Repository<ApiToken, SqliteDialect> tokens{db};
  (void)tokens.list(platform);
}
