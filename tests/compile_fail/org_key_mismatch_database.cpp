// expect: an org id of one key type cannot stand for another
// errors: 1
// Through Repository<E> over a run-time chosen Database the rule is stated once.
#include "support/org_key_entities.hpp"

#include <tenantry/tenantry.hpp>

using namespace tenantry;
using namespace org_keys;

int main() {
  Database db = connect("sqlite::memory:");
  Repository<NumProject> projects{db};
  (void)projects.find(TextOrgId{"acme"}, Uuid::random());
}
