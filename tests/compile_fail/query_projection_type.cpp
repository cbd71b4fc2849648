// expect: a result field's type must be the selected output's type
#include "queries/queries.hpp"

#include <tenantry/sqlite.hpp>

using namespace tenantry;
using namespace qfx;

struct Wrong {
  Uuid id;
  std::int64_t name;  // the selected column is text
};

int main() {
  sqlite::Connection db(":memory:");
  (void)fetch(db, OrgId(Uuid::random()), select<Wrong>(col(&Key::id), col(&Key::name)).from<Key>());
}
