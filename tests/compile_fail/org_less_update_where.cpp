// expect: this entity is org-scoped: call update_where\(org
#include "support/entities.hpp"

#include <tenantry/sqlite.hpp>

using namespace tenantry;
using namespace fixtures;

int main() {
  sqlite::Connection db(":memory:");
  Repository<ApiToken, SqliteDialect> tokens{db};
  (void)tokens.update_where(col(&ApiToken::user_id) == "u", assign(col(&ApiToken::name), "x"));
}
