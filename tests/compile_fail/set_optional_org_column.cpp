// expect: the org column cannot be changed
// errors: 1
// Moving a row between an org and the platform scope (or to another org) is not an update.
#include "support/platform_entities.hpp"

#include <tenantry/sqlite.hpp>

using namespace tenantry;
using platform_fixtures::AuditEvent;

int main() {
  sqlite::Connection db(":memory:");
  Repository<AuditEvent, SqliteDialect> events{db};
  (void)events.set(platform, Uuid::random(), &AuditEvent::org_id, std::optional<OrgId>(OrgId::random()));
}
