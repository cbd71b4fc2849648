// expect: tenantry::platform writes rows of no org, and the target's org column is not optional
// errors: 1
#include "support/platform_entities.hpp"

#include <tenantry/select.hpp>
#include <tenantry/sqlite.hpp>

using namespace tenantry;
using platform_fixtures::AuditEvent;

int main() {
  sqlite::Connection db(":memory:");
  (void)insert_select(db, platform, into(&fixtures::ApiToken::name), select(col(&AuditEvent::code)).from<AuditEvent>());
}
