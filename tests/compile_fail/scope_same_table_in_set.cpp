// expect: two entities of one set declare the same table with different scopes
// A projection that says it is global, listed with the org-scoped entity of the same table.
#include "support/entities.hpp"

#include <tenantry/sqlite.hpp>

using namespace tenantry;
using namespace fixtures;

struct TokenView { Uuid id; std::string user_id; };
template <> struct tenantry::entity<TokenView> {
  static constexpr auto scope = tenantry::global;
  static constexpr std::string_view table = "api_tokens";
  static constexpr auto primary_key = key(&TokenView::id);
};
int main() {
  sqlite::Connection db(":memory:");
  create_tables<Organization, ApiToken, TokenView>(db);
}
