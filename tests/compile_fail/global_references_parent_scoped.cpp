// expect: a global entity cannot have a foreign key to an org-scoped entity
// errors: 1
// A global child of a parent-scoped row would be readable by every org.
#include "parent_scope.hpp"

struct Rotation { Uuid id; Uuid secret_id; };
template <> struct tenantry::entity<Rotation> {
  static constexpr auto scope = tenantry::global;
  static constexpr std::string_view table = "rotations";
  static constexpr auto primary_key = key(&Rotation::id);
  static constexpr auto constraints = std::tuple{foreign_key(&Rotation::secret_id, &MemberSecret::id)};
};
int main() { (void)table_info<Rotation>(); }
