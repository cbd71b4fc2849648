// expect: a repository of a table scoped through its parent takes an org, never tenantry::platform
// errors: 1
// Even under a parent whose org column is optional, the repository forms take an org: the rows
// under platform rows are read with a query in the platform scope.
#include "support/platform_entities.hpp"

#include <tenantry/sqlite.hpp>

using namespace tenantry;
using platform_fixtures::EventNote;

int main() {
  sqlite::Connection db(":memory:");
  Repository<EventNote, SqliteDialect> notes{db};
  (void)notes.list(platform);
}
