// expect: this query reads an org-scoped table: pass the org
// A query reading a table scoped through its parent needs the org, as one on the parent would.
#include "queries/queries.hpp"

#include <tenantry/select.hpp>
#include <tenantry/sqlite.hpp>

using namespace tenantry;
using namespace qfx;

int main() {
  sqlite::Connection db(":memory:");
  (void)fetch(db, select(col(&MemberSecret::password_hash)).from<MemberSecret>());
}
