// expect: an entity with no OrgId field must declare `static constexpr auto scope = tenantry::global;`
// A projection of an org-scoped table without its OrgId column used to be global, so its
// repository read and erased every org's tokens. Now it does not compile.
#include "support/entities.hpp"

#include <tenantry/sqlite.hpp>

using namespace tenantry;

struct TokenView { Uuid id; std::string user_id; };
template <> struct tenantry::entity<TokenView> {
  static constexpr std::string_view table = "api_tokens";
  static constexpr auto primary_key = key(&TokenView::id);
};
int main() {
  sqlite::Connection db(":memory:");
  Repository<TokenView, SqliteDialect> views{db};
  (void)views.erase_where(col(&TokenView::user_id) == "u1");
}
