// expect: fields must be values, not references
#include "support/entities.hpp"

#include <tenantry/sqlite.hpp>

using namespace tenantry;
using namespace fixtures;

struct Lone { Uuid id; const std::string& name; };
template <> struct tenantry::entity<Lone> {
  static constexpr auto scope = tenantry::global;
  static constexpr std::string_view table = "lone";
  static constexpr auto primary_key = key(&Lone::id);
};
int main() { (void)table_info<Lone>(); }
