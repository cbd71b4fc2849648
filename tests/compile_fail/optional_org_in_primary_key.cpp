// expect: the primary key of an entity whose org column is optional \(std::optional<OrgId>\) cannot include the org column
// errors: 1
#include "support/entities.hpp"

#include <tenantry/sqlite.hpp>

using namespace tenantry;

struct Otp { std::optional<OrgId> org_id; std::string code; };
template <> struct tenantry::entity<Otp> {
  static constexpr std::string_view table = "otps";
  static constexpr auto primary_key = key(&Otp::org_id, &Otp::code);
};
int main() { (void)table_info<Otp>(); }
