// expect: like|no matching|constraints not satisfied
#include "support/entities.hpp"

#include <tenantry/sqlite.hpp>

using namespace tenantry;
using namespace fixtures;

int main() {
  sqlite::Connection db(":memory:");
  Repository<Gadget, SqliteDialect> gadgets{db};
  (void)gadgets.list(OrgId::random(), col(&Gadget::meta).like(Json{"%value%"}));
}
