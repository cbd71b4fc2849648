// expect: compared columns must hold the same C\+\+ type
#include "queries/queries.hpp"

#include <tenantry/sqlite.hpp>

using namespace tenantry;
using namespace qfx;

int main() {
  // A key's name (text) compared with a member's id (UUID).
  const auto q = select(col(&Key::name)).from<Key>().join<Member>(col(&Key::name) == col(&Member::id));
  (void)q;
}
