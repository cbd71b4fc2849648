// expect: scope = tenantry::through<&T::fk> references a global entity
// errors: 1
// A global parent belongs to every org: its children would too.
#include "parent_scope.hpp"

struct Secret { Uuid id; Uuid account_id; std::string password_hash; };
template <> struct tenantry::entity<Secret> {
  static constexpr auto scope = tenantry::through<&Secret::account_id>;
  static constexpr std::string_view table = "secrets";
  static constexpr auto primary_key = key(&Secret::id);
  static constexpr auto constraints = std::tuple{foreign_key(&Secret::account_id, &Account::id)};
};
int main() { (void)table_info<Secret>(); }
