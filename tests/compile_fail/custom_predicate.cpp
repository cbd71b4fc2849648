// expect: list/count/exists take a predicate on this entity
// A user-made type that claims to be a predicate and writes its own SQL: the set of predicates
// is closed to the library's nodes, so text of its own can never reach a statement.
#include "support/entities.hpp"

#include <tenantry/sqlite.hpp>

using namespace tenantry;

struct OrEverything {
  using entity_type = fixtures::ApiToken;
  static constexpr bool is_predicate = true;
  template <class D>
  void sql(std::string& out, const TableInfo&, int&) const {
    out += "1 = 1 OR 1 = 1";
  }
  template <class S>
  void bind(S&, int&) const {}
};

int main() {
  sqlite::Connection db(":memory:");
  Repository<fixtures::ApiToken, SqliteDialect> tokens{db};
  (void)tokens.list(OrgId(Uuid::random()), OrEverything{});
}
