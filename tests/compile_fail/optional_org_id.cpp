// expect: std::optional<OrgId> \(rows of no org\) needs the platform scope of issue 10 class 3
// A nullable org column made the entity global (no OrgId field): every org's rows readable.
#include "support/entities.hpp"

#include <tenantry/sqlite.hpp>

using namespace tenantry;

struct AuditEvent { Uuid id; std::optional<OrgId> org_id; std::string what; };
template <> struct tenantry::entity<AuditEvent> {
  static constexpr std::string_view table = "audit_events";
  static constexpr auto primary_key = key(&AuditEvent::id);
};
int main() {
  sqlite::Connection db(":memory:");
  Repository<AuditEvent, SqliteDialect> events{db};
  (void)events.list();
}
