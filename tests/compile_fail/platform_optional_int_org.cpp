// expect: platform rows \(an optional org column\) need a std::optional<tenantry::OrgId>
// errors: 1
// Platform rows are UUID-only for now: a nullable integer-keyed org column is refused with the rule
// (never taken for a global entity, nor for one whose platform scope was never checked for text
// keys).
#include <tenantry/sqlite.hpp>

using namespace tenantry;

struct NumEvent {
  Uuid id;
  std::optional<IntOrgId> org_id;
  std::string what;
};
template <>
struct tenantry::entity<NumEvent> {
  static constexpr std::string_view table = "num_events";
  static constexpr auto primary_key = key(&NumEvent::id);
};

int main() {
  sqlite::Connection db(":memory:");
  Repository<NumEvent, SqliteDialect> events{db};
  (void)events.list(IntOrgId(7));
}
