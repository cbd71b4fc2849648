// expect: the field of scope = tenantry::through<&T::fk> cannot be std::optional
// errors: 1
// A row whose parent is NULL would belong to no org (and to every org's NOT EXISTS).
#include "parent_scope.hpp"

struct Secret { Uuid id; std::optional<Uuid> member_id; std::string password_hash; };
template <> struct tenantry::entity<Secret> {
  static constexpr auto scope = tenantry::through<&Secret::member_id>;
  static constexpr std::string_view table = "secrets";
  static constexpr auto primary_key = key(&Secret::id);
  static constexpr auto constraints = std::tuple{foreign_key(&Secret::member_id, &Member::id)};
};
int main() { (void)table_info<Secret>(); }
