// expect: a foreign key to an org-scoped entity must reference its primary key or one of its unique\(\) constraints
#include "support/entities.hpp"

using namespace tenantry;
using namespace fixtures;

struct Note { Uuid id; OrgId org_id; std::string user_id; };
template <> struct tenantry::entity<Note> {
  static constexpr std::string_view table = "notes";
  static constexpr auto primary_key = key(&Note::id);
  // api_tokens.user_id is indexed, not unique.
  static constexpr auto constraints = std::tuple{foreign_key(&Note::user_id, &ApiToken::user_id)};
};
int main() { (void)table_info<Note>(); }
