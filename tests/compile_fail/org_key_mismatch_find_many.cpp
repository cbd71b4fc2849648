// expect: an org id of one key type cannot stand for another
// errors: 1
// find_many (and put, insert_many) of a bigint-keyed entity take an IntOrgId: a TextOrgId does
// not compile.
#include "support/org_key_entities.hpp"

#include <tenantry/sqlite.hpp>

#include <vector>

using namespace tenantry;
using namespace org_keys;

int main() {
  sqlite::Connection db(":memory:");
  Repository<NumProject, SqliteDialect> projects{db};
  (void)projects.find_many(TextOrgId{"7"}, std::vector<Uuid>{});
}
