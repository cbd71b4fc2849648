// expect: tenantry_conflict_target_must_be_the_primary_key_or_a_declared_unique
#include "support/entities.hpp"

#include <tenantry/sqlite.hpp>

using namespace tenantry;
using namespace fixtures;

int main() {
  sqlite::Connection db(":memory:");
  Repository<ApiToken, SqliteDialect> tokens{db};
  ApiToken t;
  tokens.upsert(OrgId::random(), t, on_conflict(&ApiToken::org_id, &ApiToken::user_id));
}
