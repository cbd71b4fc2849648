// expect: Inherited types are not supported|must be a plain struct
#include "support/entities.hpp"

#include <tenantry/sqlite.hpp>

using namespace tenantry;
using namespace fixtures;

struct Base { Uuid id; };
struct Lone : Base { std::string name; };
template <> struct tenantry::entity<Lone> {
  static constexpr auto scope = tenantry::global;
  static constexpr std::string_view table = "lone";
  static constexpr auto primary_key = key(&Lone::name);
};
int main() { (void)table_info<Lone>(); }
