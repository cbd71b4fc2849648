// expect: the org column cannot be changed
#include "support/entities.hpp"

#include <tenantry/sqlite.hpp>

using namespace tenantry;
using namespace fixtures;

int main() {
  sqlite::Connection db(":memory:");
  Repository<ApiToken, SqliteDialect> tokens{db};
  (void)tokens.set(OrgId::random(), Uuid::random(), &ApiToken::org_id, OrgId::random());
}
