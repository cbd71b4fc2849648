// expect: a foreign key between org-scoped entities needs one org type on both sides
// errors: 1
#include "support/org_key_entities.hpp"

#include <tenantry/ddl.hpp>

using namespace tenantry;

struct Comment {
  Uuid id;
  TextOrgId organization_id;
  Uuid project_id;
};
template <>
struct tenantry::entity<Comment> {
  static constexpr std::string_view table = "comments";
  static constexpr auto primary_key = key(&Comment::id);
  static constexpr auto constraints = std::tuple{foreign_key(&Comment::project_id, &org_keys::NumProject::id)};
};

int main() { (void)table_info<Comment>(); }
