// expect: tenantry::platform reaches rows of no org, and this entity has none: only an entity whose org column is a std::optional<OrgId> has them
// The same rule through a Database chosen at run time (stated once, not once per dialect).
#include "support/entities.hpp"

#include <tenantry/tenantry.hpp>

using namespace tenantry;
using namespace fixtures;

int main() {
  Database db = connect("sqlite::memory:");
  Repository<ApiToken> tokens{db};
  (void)tokens.erase(platform, Uuid::random());
}
