// expect: lives in each org's schema: create it with OrgSchemas<...>::provision_org, not as a shared table
// errors: 1
#include "support/org_key_entities.hpp"

#include <tenantry/postgres.hpp>

using namespace tenantry;
using namespace org_keys;

int main() {
  pg::Connection db("postgresql://localhost/x");
  create_tables<Note>(db);
}
