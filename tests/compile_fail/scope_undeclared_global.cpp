// expect: an entity with no OrgId field must declare `static constexpr auto scope = tenantry::global;`
// A struct without an OrgId field is no longer global by omission: it must say so.
#include "support/entities.hpp"

#include <tenantry/sqlite.hpp>

using namespace tenantry;

struct Note { Uuid id; std::string text; };
template <> struct tenantry::entity<Note> {
  static constexpr std::string_view table = "notes";
  static constexpr auto primary_key = key(&Note::id);
};
int main() {
  sqlite::Connection db(":memory:");
  Repository<Note, SqliteDialect> notes{db};
  (void)notes.list();
}
