// expect: cannot be scoped through a foreign key to its own table
// errors: 1
// A row scoped through a row of its own table never reaches an org.
#include "parent_scope.hpp"

struct Folder { Uuid id; Uuid parent_id; std::string name; };
template <> struct tenantry::entity<Folder> {
  static constexpr auto scope = tenantry::through<&Folder::parent_id>;
  static constexpr std::string_view table = "folders";
  static constexpr auto primary_key = key(&Folder::id);
  static constexpr auto constraints = std::tuple{foreign_key(&Folder::parent_id, &Folder::id)};
};
int main() { (void)table_info<Folder>(); }
