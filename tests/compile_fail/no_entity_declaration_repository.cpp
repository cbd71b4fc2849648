// expect: no entity declaration for this struct
// errors: 1
// Through Repository too: the rule, once, instead of "incomplete type 'tenantry::entity<Lone>'".
#include <tenantry/sqlite.hpp>

struct Lone {
  tenantry::Uuid id;
  tenantry::OrgId org_id;
};

int main() {
  tenantry::sqlite::Connection db{":memory:"};
  tenantry::Repository<Lone, tenantry::SqliteDialect> lones{db};
  (void)lones.count(tenantry::OrgId::random());
}
