// expect: a UNIQUE or unique index of an entity scoped through its parent must include the foreign key of its scope
// errors: 1
// unique(hash) across every org: org A's insert of a hash org B holds fails, telling A that B has it.
#include "parent_scope.hpp"

struct Secret { Uuid id; Uuid member_id; std::string password_hash; };
template <> struct tenantry::entity<Secret> {
  static constexpr auto scope = tenantry::through<&Secret::member_id>;
  static constexpr std::string_view table = "secrets";
  static constexpr auto primary_key = key(&Secret::id);
  static constexpr auto constraints = std::tuple{foreign_key(&Secret::member_id, &Member::id), unique(&Secret::password_hash)};
};
int main() { (void)table_info<Secret>(); }
