// expect: no entity declaration for this struct
#include "support/entities.hpp"

#include <tenantry/sqlite.hpp>

using namespace tenantry;
using namespace fixtures;

struct Lone { Uuid id; };
int main() { (void)table_info<Lone>(); }
