// expect: a global entity cannot have a foreign key to an org-scoped entity
// A child scoped only through its org-scoped parent is readable by every org.
#include "support/entities.hpp"

using namespace tenantry;
using namespace fixtures;

struct TokenSecret { Uuid id; Uuid token_id; std::string password_hash; };
template <> struct tenantry::entity<TokenSecret> {
  static constexpr auto scope = tenantry::global;
  static constexpr std::string_view table = "token_secrets";
  static constexpr auto primary_key = key(&TokenSecret::id);
  static constexpr auto constraints = std::tuple{foreign_key(&TokenSecret::token_id, &ApiToken::id, on_delete::cascade)};
};
int main() { (void)table_info<TokenSecret>(); }
