// expect: COMPILES
#include "support/entities.hpp"

#include <tenantry/sqlite.hpp>

using namespace tenantry;
using namespace fixtures;

int main() {
  sqlite::Connection db(":memory:");
  Repository<ApiToken, SqliteDialect> tokens{db};
  Repository<Organization, SqliteDialect> orgs{db};
  const OrgId org = OrgId::random();
  (void)tokens.find(org, Uuid::random());
  (void)tokens.list(org, col(&ApiToken::user_id) == "u", order_by(&ApiToken::created_at).desc(), limit(5));
  (void)orgs.find(Uuid::random());
  (void)orgs.list();
  ApiToken t;
  tokens.upsert(org, t, on_conflict(&ApiToken::org_id, &ApiToken::token_prefix));
  (void)tokens.set(org, t.id, &ApiToken::status, TokenStatus::revoked);
}
