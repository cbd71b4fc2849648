// expect: the result struct needs exactly one field per selected output
#include "queries/queries.hpp"

#include <tenantry/sqlite.hpp>

using namespace tenantry;
using namespace qfx;

struct OnlyId {
  Uuid id;
};

int main() {
  sqlite::Connection db(":memory:");
  // Two outputs, one field: the projection does not match what is selected.
  (void)fetch(db, OrgId(Uuid::random()), select<OnlyId>(col(&Key::id), col(&Key::name)).from<Key>());
}
