// expect: an org id of one key type cannot stand for another
// errors: 1
// A table scoped through a text-keyed parent takes the parent's TextOrgId: a UUID OrgId does
// not compile.
#include "support/org_key_entities.hpp"

#include <tenantry/sqlite.hpp>

using namespace tenantry;
using namespace org_keys;

int main() {
  sqlite::Connection db(":memory:");
  Repository<SlugSecret, SqliteDialect> secrets{db};
  (void)secrets.count(OrgId::random());
}
