// expect: per_org_schema lives in per-org schemas, which only PostgreSQL has
// errors: 1
#include "support/org_key_entities.hpp"

#include <tenantry/sqlite.hpp>

using namespace tenantry;
using namespace org_keys;

int main() {
  sqlite::Connection db(":memory:");
  Repository<Note, SqliteDialect> notes{db};
  (void)notes.count(OrgId::random());
}
