// expect: scope = tenantry::through<&T::fk> needs foreign_key\(&T::fk, &Parent::key\)
// errors: 1
// The parent row is what gives a row its org: without a declared foreign key there is none.
#include "parent_scope.hpp"

struct Secret { Uuid id; Uuid member_id; std::string password_hash; };
template <> struct tenantry::entity<Secret> {
  static constexpr auto scope = tenantry::through<&Secret::member_id>;
  static constexpr std::string_view table = "secrets";
  static constexpr auto primary_key = key(&Secret::id);
};
int main() { (void)table_info<Secret>(); }
