// expect: entity<T>::scope is tenantry::global, tenantry::Scope::org, tenantry::per_org_schema or tenantry::through<&T::fk>
#include "support/entities.hpp"

using namespace tenantry;

struct Note { Uuid id; std::string text; };
template <> struct tenantry::entity<Note> {
  static constexpr bool scope = true;
  static constexpr std::string_view table = "notes";
  static constexpr auto primary_key = key(&Note::id);
};
int main() { (void)table_info<Note>(); }
