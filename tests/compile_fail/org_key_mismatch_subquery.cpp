// expect: one statement cannot read tables of different org types
// errors: 1
// A predicate's subquery on a table of another org type, through a repository.
#include "support/org_key_entities.hpp"

#include <tenantry/sqlite.hpp>

using namespace tenantry;
using namespace org_keys;

int main() {
  sqlite::Connection db(":memory:");
  Repository<SlugProject, SqliteDialect> projects{db};
  (void)projects.count(TextOrgId{"acme"}, exists(select(col(&NumProject::id)).from<NumProject>()));
}
