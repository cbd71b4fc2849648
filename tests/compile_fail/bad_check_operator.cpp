// expect: tenantry_check_operator_must_be_one_of_eq_ne_lt_le_gt_ge
#include "support/entities.hpp"

#include <tenantry/sqlite.hpp>

using namespace tenantry;
using namespace fixtures;

struct Lone { Uuid id; int n; };
template <> struct tenantry::entity<Lone> {
  static constexpr auto scope = tenantry::global;
  static constexpr std::string_view table = "lone";
  static constexpr auto primary_key = key(&Lone::id);
  static constexpr auto constraints = std::tuple{check(&Lone::n, "=>", 1)};
};
int main() { (void)table_info<Lone>(); }
