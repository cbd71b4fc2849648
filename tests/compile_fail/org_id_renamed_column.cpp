// expect: a field named or stored as the org column \(org_id\) must be a tenantry::OrgId
// A field of another type stored under the org column's name.
#include "support/entities.hpp"

using namespace tenantry;

struct Note { Uuid id; OrgId org_id; Uuid owner; };
template <> struct tenantry::entity<Note> {
  static constexpr std::string_view table = "notes";
  static constexpr auto primary_key = key(&Note::id);
  static constexpr auto columns = std::tuple{column(&Note::org_id).name("tenant_id"), column(&Note::owner).name("org_id")};
};
int main() { (void)table_info<Note>(); }
