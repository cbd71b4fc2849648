// expect: names provided for structured binding|only [0-9]+ names provided|type .* decomposes into
// repeats: the error is Boost.PFR's structured binding, reported once per place that reflects the struct
#include "support/entities.hpp"

#include <tenantry/sqlite.hpp>

using namespace tenantry;
using namespace fixtures;

struct Lone { Uuid id; int codes[3]; };
template <> struct tenantry::entity<Lone> {
  static constexpr auto scope = tenantry::global;
  static constexpr std::string_view table = "lone";
  static constexpr auto primary_key = key(&Lone::id);
};
int main() { (void)table_info<Lone>(); }
