// expect: a field named or stored as the org column \(org_id\) must be a tenantry::OrgId
// `Uuid org_id` looks org-scoped but is an ordinary column: refused, even when declared global.
#include "support/entities.hpp"

using namespace tenantry;

struct Note { Uuid id; Uuid org_id; std::string text; };
template <> struct tenantry::entity<Note> {
  static constexpr auto scope = tenantry::global;
  static constexpr std::string_view table = "notes";
  static constexpr auto primary_key = key(&Note::id);
};
int main() { (void)table_info<Note>(); }
