// expect: count and exists take predicates only
#include "support/entities.hpp"

#include <tenantry/sqlite.hpp>

using namespace tenantry;
using namespace fixtures;

int main() {
  sqlite::Connection db(":memory:");
  Repository<ApiToken, SqliteDialect> tokens{db};
  (void)tokens.count(OrgId::random(), order_by(&ApiToken::token_prefix), limit(2));
}
