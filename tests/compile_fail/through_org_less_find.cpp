// expect: this entity is org-scoped: call find\(org, key\)
// A table scoped through its parent takes the org like an org-scoped one.
#include "queries/entities.hpp"

#include <tenantry/repository.hpp>
#include <tenantry/sqlite.hpp>

using namespace tenantry;
using namespace qfx;

int main() {
  sqlite::Connection db(":memory:");
  Repository<MemberSecret, SqliteDialect> secrets{db};
  (void)secrets.find(Uuid::random());
}
