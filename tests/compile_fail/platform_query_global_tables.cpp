// expect: this query reads only global tables: call fetch\(conn, query\), without an org
// errors: 1
// The platform scope is a scope of org-scoped tables; a query over global tables takes none.
#include "support/entities.hpp"

#include <tenantry/select.hpp>
#include <tenantry/sqlite.hpp>

using namespace tenantry;
using namespace fixtures;

int main() {
  sqlite::Connection db(":memory:");
  (void)fetch(db, platform, select(col(&Organization::slug)).from<Organization>());
}
