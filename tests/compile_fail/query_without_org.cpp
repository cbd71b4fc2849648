// expect: this query reads an org-scoped table: pass the org
#include "queries/queries.hpp"

#include <tenantry/sqlite.hpp>

using namespace tenantry;
using namespace qfx;

int main() {
  sqlite::Connection db(":memory:");
  (void)fetch(db, keys_with_owners());
}
