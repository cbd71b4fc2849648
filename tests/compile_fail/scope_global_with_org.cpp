// expect: an entity with an OrgId field is org-scoped and cannot declare scope = tenantry::global
#include "support/entities.hpp"

#include <tenantry/sqlite.hpp>

using namespace tenantry;

struct Note { Uuid id; OrgId org_id; std::string text; };
template <> struct tenantry::entity<Note> {
  static constexpr auto scope = tenantry::global;
  static constexpr std::string_view table = "notes";
  static constexpr auto primary_key = key(&Note::id);
};
int main() { (void)table_info<Note>(); }
