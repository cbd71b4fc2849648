// expect: tenantry_conflict_target_cannot_include_an_identity_column_the_insert_never_sends
#include "support/entities.hpp"

#include <tenantry/sqlite.hpp>

using namespace tenantry;
using namespace fixtures;

int main() {
  sqlite::Connection db(":memory:");
  Repository<Gadget, SqliteDialect> gadgets{db};
  Gadget g;
  gadgets.upsert(OrgId::random(), g, on_conflict(&Gadget::id));
}
