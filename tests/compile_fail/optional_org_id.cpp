// expect: this entity is org-scoped: call list\(org, \.\.\.\)
// errors: 1
// std::optional<OrgId> (rows of no org allowed) is org-scoped: the org-less call of a global
// entity does not compile; its rows of no org are reached through tenantry::platform only.
#include "support/platform_entities.hpp"

#include <tenantry/sqlite.hpp>

using namespace tenantry;

int main() {
  sqlite::Connection db(":memory:");
  Repository<platform_fixtures::AuditEvent, SqliteDialect> events{db};
  (void)events.list();
}
