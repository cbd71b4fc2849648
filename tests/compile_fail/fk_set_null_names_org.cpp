// expect: ON DELETE SET NULL on a foreign key that names the org would null the org
#include "support/entities.hpp"

using namespace tenantry;
using namespace fixtures;

struct Note { Uuid id; OrgId org_id; std::optional<Uuid> widget_id; };
template <> struct tenantry::entity<Note> {
  static constexpr std::string_view table = "notes";
  static constexpr auto primary_key = key(&Note::id);
  static constexpr auto constraints = std::tuple{foreign_key(
      fields(&Note::org_id, &Note::widget_id), fields(&Widget::org_id, &Widget::id), on_delete::set_null)};
};
int main() { (void)table_info<Note>(); }
