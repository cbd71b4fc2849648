// expect: platform rows \(an optional org column\) need a std::optional<tenantry::OrgId>
// errors: 1
// Platform rows are UUID-only for now: a nullable text-keyed org column is refused with the rule
// (never taken for a global entity, nor for one whose platform scope was never checked for text
// keys).
#include <tenantry/sqlite.hpp>

using namespace tenantry;

struct SlugEvent {
  Uuid id;
  std::optional<TextOrgId> org_id;
  std::string what;
};
template <>
struct tenantry::entity<SlugEvent> {
  static constexpr std::string_view table = "slug_events";
  static constexpr auto primary_key = key(&SlugEvent::id);
};

int main() {
  sqlite::Connection db(":memory:");
  Repository<SlugEvent, SqliteDialect> events{db};
  (void)events.list(TextOrgId("acme"));
}
