// expect: this entity is org-scoped: call insert\(org, row\)
#include "support/entities.hpp"

#include <tenantry/sqlite.hpp>

using namespace tenantry;
using namespace fixtures;

int main() {
  sqlite::Connection db(":memory:");
  Repository<ApiToken, SqliteDialect> tokens{db};
  ApiToken t;
  tokens.insert(t);
}
