// expect: this query reads an org-scoped table: pass the org
// errors: 1
#include "support/org_key_entities.hpp"

#include <tenantry/postgres.hpp>

using namespace tenantry;
using namespace org_keys;

int main() {
  pg::Connection db("postgresql://localhost/x");
  (void)fetch(db, select(col(&Note::body)).from<Note>());
}
