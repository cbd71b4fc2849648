// expect: a batch runs for one org, and this entity is global \(it has no org\)
// errors: 1
// erase<E>(key) of a global entity in a batch: a delete without an org is not a statement of a batch.
#include "support/entities.hpp"

#include <tenantry/batch.hpp>
#include <tenantry/postgres.hpp>

using namespace tenantry;
using namespace fixtures;

int main() {
  pg::Connection db("");
  Batch batch(db, OrgId::random());
  batch.erase<Organization>(Uuid::random());
}
