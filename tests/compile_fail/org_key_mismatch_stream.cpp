// expect: an org id of one key type cannot stand for another
// errors: 1
// stream_each_row over a text-keyed table with an integer org does not compile.
#include "support/org_key_entities.hpp"

#include <tenantry/sqlite.hpp>

using namespace tenantry;
using namespace org_keys;

int main() {
  sqlite::Connection db(":memory:");
  stream_each_row(db, IntOrgId{7}, select(col(&SlugProject::name)).from<SlugProject>(), [](const auto&) {});
}
