// expect: one statement cannot read tables of different org types
// errors: 1
// Joining a text-keyed table with a UUID-keyed one: their org columns cannot be compared.
#include "support/entities.hpp"
#include "support/org_key_entities.hpp"

#include <tenantry/sqlite.hpp>

using namespace tenantry;
using namespace org_keys;

int main() {
  sqlite::Connection db(":memory:");
  (void)fetch(db, TextOrgId{"acme"},
              select(col(&SlugProject::name), col(&fixtures::ApiToken::name))
                  .from<SlugProject>()
                  .join<fixtures::ApiToken>(col(&fixtures::ApiToken::name) == col(&SlugProject::name)));
}
