// expect: tenantry::platform reaches rows of no org, and this query reads a table whose org column is a plain OrgId \(every row has an org\), a table scoped through one
// errors: 1
// A table scoped through a parent whose every row has an org has no rows of the platform scope.
#include "queries/queries.hpp"

#include <tenantry/select.hpp>
#include <tenantry/sqlite.hpp>

using namespace tenantry;
using namespace qfx;

int main() {
  sqlite::Connection db(":memory:");
  (void)fetch(db, platform, select(col(&MemberSecret::password_hash)).from<MemberSecret>());
}
