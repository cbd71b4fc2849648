// expect: this entity is global \(it has no OrgId field\): call find\(key\)
#include "support/entities.hpp"

#include <tenantry/sqlite.hpp>

using namespace tenantry;
using namespace fixtures;

int main() {
  sqlite::Connection db(":memory:");
  Repository<Organization, SqliteDialect> orgs{db};
  (void)orgs.find(OrgId::random(), Uuid::random());
}
