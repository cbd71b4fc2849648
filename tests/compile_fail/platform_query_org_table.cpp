// expect: tenantry::platform reaches rows of no org, and this query reads a table whose org column is a plain OrgId
// errors: 1
// A query in the platform scope joining a plain org-scoped table.
#include "support/platform_entities.hpp"

#include <tenantry/select.hpp>
#include <tenantry/sqlite.hpp>

using namespace tenantry;
using platform_fixtures::EventLink;

int main() {
  sqlite::Connection db(":memory:");
  (void)fetch(db, platform,
              select(col(&EventLink::note))
                  .from<EventLink>()
                  .join<fixtures::ApiToken>(col(&fixtures::ApiToken::id) == col(&EventLink::token_id)));
}
