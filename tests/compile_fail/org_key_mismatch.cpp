// expect: an org id of one key type cannot stand for another
// errors: 1
// A text-keyed entity's calls take a TextOrgId: a UUID OrgId does not compile.
#include "support/org_key_entities.hpp"

#include <tenantry/sqlite.hpp>

using namespace tenantry;
using namespace org_keys;

int main() {
  sqlite::Connection db(":memory:");
  Repository<SlugProject, SqliteDialect> projects{db};
  (void)projects.count(OrgId::random());
}
