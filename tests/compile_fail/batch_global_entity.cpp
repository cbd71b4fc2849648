// expect: a batch runs for one org, and this entity is global \(it has no org\)
// errors: 1
// A batch is bound to one org: a global entity's write, which has no org, cannot be part of it.
#include "support/entities.hpp"

#include <tenantry/batch.hpp>
#include <tenantry/sqlite.hpp>

using namespace tenantry;
using namespace fixtures;

int main() {
  sqlite::Connection db(":memory:");
  Batch batch(db, OrgId::random());
  Organization o{};
  batch.insert(o);
}
