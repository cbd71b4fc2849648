// expect: a subquery on an org-scoped table needs an org
// A global entity's repository call takes no org; a subquery on an org-scoped table inside it
// would have no org to filter by.
#include "queries/queries.hpp"

#include <tenantry/sqlite.hpp>

using namespace tenantry;
using namespace qfx;

int main() {
  sqlite::Connection db(":memory:");
  Repository<Account, SqliteDialect> accounts{db};
  (void)accounts.count(exists(from<Member>().where(col(&Member::account_id) == col(&Account::id))));
}
