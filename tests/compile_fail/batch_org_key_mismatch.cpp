// expect: this entity's org type is not the batch's \(OrgId, TextOrgId, IntOrgId\)
// errors: 1
// A batch of a UUID org cannot write a row of an entity keyed by integer orgs: the batch's org
// does not name any of that entity's orgs.
#include "support/org_key_entities.hpp"

#include <tenantry/batch.hpp>
#include <tenantry/sqlite.hpp>

using namespace tenantry;
using namespace org_keys;

int main() {
  sqlite::Connection db(":memory:");
  Batch batch(db, OrgId::random());
  NumProject p{};
  batch.update(p);
}
