// expect: this entity is org-scoped: call list\(org
#include "support/entities.hpp"

#include <tenantry/sqlite.hpp>

using namespace tenantry;
using namespace fixtures;

int main() {
  sqlite::Connection db(":memory:");
  Repository<ApiToken, SqliteDialect> tokens{db};
  (void)tokens.list(col(&ApiToken::user_id) == "u");
}
