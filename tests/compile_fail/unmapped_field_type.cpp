// expect: no column mapping
// errors: 1
#include "support/entities.hpp"

#include <tenantry/sqlite.hpp>

using namespace tenantry;
using namespace fixtures;

struct Opaque { int x; };
struct Lone { Uuid id; Opaque o; };
template <> struct tenantry::entity<Lone> {
  static constexpr auto scope = tenantry::global;
  static constexpr std::string_view table = "lone";
  static constexpr auto primary_key = key(&Lone::id);
};
int main() { (void)table_info<Lone>(); }
