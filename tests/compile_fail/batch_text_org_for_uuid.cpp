// expect: this entity's org type is not the batch's \(OrgId, TextOrgId, IntOrgId\)
// errors: 1
// A batch of a text org cannot insert a row of a UUID-keyed entity.
#include "support/entities.hpp"

#include <tenantry/batch.hpp>
#include <tenantry/sqlite.hpp>

using namespace tenantry;
using namespace fixtures;

int main() {
  sqlite::Connection db(":memory:");
  Batch batch(db, TextOrgId{"acme"});
  ApiToken t{};
  batch.insert(t);
}
