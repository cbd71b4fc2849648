// expect: org_leading_keys needs an org in every row, and this entity's org column is optional
// errors: 1
#include "support/entities.hpp"

#include <tenantry/sqlite.hpp>

using namespace tenantry;

struct Otp { Uuid id; std::optional<OrgId> org_id; std::string code; };
template <> struct tenantry::entity<Otp> {
  static constexpr std::string_view table = "otps";
  static constexpr auto primary_key = key(&Otp::id);
  static constexpr bool org_leading_keys = true;
};
int main() { (void)table_info<Otp>(); }
