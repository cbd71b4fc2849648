// expect: this output can be NULL .* its result field must be a std::optional
#include "queries/queries.hpp"

#include <tenantry/sqlite.hpp>

using namespace tenantry;
using namespace qfx;

struct MemberKey {
  std::string member;
  std::string key;  // the optional side of a left join: NULL where a member has no key
};

int main() {
  sqlite::Connection db(":memory:");
  (void)fetch(db, OrgId(Uuid::random()),
              select<MemberKey>(col(&Member::display_name), col(&Key::name))
                  .from<Member>()
                  .left_join<Key>(col(&Key::member_id) == col(&Member::id)));
}
