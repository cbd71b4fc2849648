// expect: primary_key must be key\(&ThisStruct::member
#include "support/entities.hpp"

#include <tenantry/sqlite.hpp>

using namespace tenantry;
using namespace fixtures;

struct Lone { Uuid id; std::string name; };
template <> struct tenantry::entity<Lone> {
  static constexpr auto scope = tenantry::global;
  static constexpr std::string_view table = "lone";
  static constexpr auto primary_key = key(&Widget::id);
};
int main() { (void)table_info<Lone>(); }
