// expect: tenantry::platform reaches rows of no org, and this entity has none: only an entity whose org column is a std::optional<OrgId> has them
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
