// expect: this entity is org-scoped: call erase\(org, key\)
#include "support/entities.hpp"

#include <tenantry/sqlite.hpp>

using namespace tenantry;
using namespace fixtures;

int main() {
  sqlite::Connection db(":memory:");
  Repository<ApiToken, SqliteDialect> tokens{db};
  (void)tokens.erase(Uuid::random());
}
