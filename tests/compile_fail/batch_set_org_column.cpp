// expect: the org column cannot be changed
// errors: 1
// set() in a batch cannot move a row to another org: the org column is not settable.
#include "support/entities.hpp"

#include <tenantry/batch.hpp>
#include <tenantry/sqlite.hpp>

using namespace tenantry;
using namespace fixtures;

int main() {
  sqlite::Connection db(":memory:");
  Batch batch(db, OrgId::random());
  batch.set(Uuid::random(), &ApiToken::org_id, OrgId::random());
}
