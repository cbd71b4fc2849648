// expect: an entity with an OrgId field is org-scoped and cannot declare scope = tenantry::global
// errors: 1
// A nullable org column does not make an entity global.
#include "support/entities.hpp"

#include <tenantry/sqlite.hpp>

using namespace tenantry;

struct Otp { Uuid id; std::optional<OrgId> org_id; std::string code; };
template <> struct tenantry::entity<Otp> {
  static constexpr std::string_view table = "otps";
  static constexpr auto primary_key = key(&Otp::id);
  static constexpr auto scope = tenantry::global;
};
int main() { (void)table_info<Otp>(); }
