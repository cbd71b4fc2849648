// expect: a column of an entity that is not in the query
// A query naming a column of a table it does not read: the writer could not give that table
// its org filter, so the query does not compile.
#include "queries/queries.hpp"

#include <tenantry/sqlite.hpp>

using namespace tenantry;
using namespace qfx;

int main() {
  sqlite::Connection db(":memory:");
  const auto q = select(col(&Key::name)).from<Key>().where(col(&Member::display_name) == std::string("x"));
  (void)fetch(db, OrgId(Uuid::random()), q);
}
