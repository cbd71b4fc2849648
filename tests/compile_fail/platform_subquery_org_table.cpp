// expect: a subquery of a tenantry::platform call reads a table whose every row has an org
// errors: 1
#include "support/platform_entities.hpp"

#include <tenantry/select.hpp>
#include <tenantry/sqlite.hpp>

using namespace tenantry;
using platform_fixtures::EventLink;

int main() {
  sqlite::Connection db(":memory:");
  Repository<EventLink, SqliteDialect> links{db};
  (void)links.count(platform,
                    exists(from<fixtures::ApiToken>().where(col(&fixtures::ApiToken::id) == col(&EventLink::token_id))));
}
