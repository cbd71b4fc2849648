// expect: this entity is org-scoped: call find\(org, key\)
// errors: 1
// A schema-scoped entity has no org column but is no way around the org: no org-less calls.
#include "support/org_key_entities.hpp"

#include <tenantry/postgres.hpp>

using namespace tenantry;
using namespace org_keys;

int main() {
  pg::Connection db("postgresql://localhost/x");
  Repository<Note, PgDialect> notes{db};
  (void)notes.find(Uuid::random());
}
