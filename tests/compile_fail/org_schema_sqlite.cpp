// expect: schema per org is PostgreSQL-only
#include "support/entities.hpp"

#include <tenantry/org_schema.hpp>
#include <tenantry/sqlite.hpp>

using namespace tenantry;
using namespace fixtures;

int main() {
  sqlite::Connection db(":memory:");
  OrgSchemas<ApiToken>::provision_org(db, OrgId::random());
}
