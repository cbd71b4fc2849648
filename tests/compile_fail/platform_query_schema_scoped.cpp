// expect: tenantry::platform reaches rows of no org, and this query reads .* or one scoped by its schema
// errors: 1
// A query in the platform scope reading a schema-scoped table (scope = tenantry::per_org_schema):
// its rows live in the orgs' schemas, none of them is a platform row.
#include "support/org_key_entities.hpp"
#include "support/platform_entities.hpp"

#include <tenantry/postgres.hpp>
#include <tenantry/select.hpp>

using namespace tenantry;
using platform_fixtures::AuditEvent;

int main() {
  pg::Connection db("postgresql://localhost/x");
  (void)fetch(db, platform,
              select(col(&AuditEvent::what))
                  .from<AuditEvent>()
                  .join<org_keys::Note>(col(&org_keys::Note::id) == col(&AuditEvent::id)));
}
