// expect: this entity is org-scoped: call find\(org, key\)
// errors: 1
// Through Repository<E> over a run-time chosen Database the rule is stated once, not once per
// dialect (it used to be reported twice, in 35 lines with g++).
#include "support/entities.hpp"

#include <tenantry/tenantry.hpp>

using namespace tenantry;
using namespace fixtures;

int main() {
  Database db = connect("sqlite::memory:");
  Repository<ApiToken> tokens{db};
  (void)tokens.find(Uuid::random());
}
