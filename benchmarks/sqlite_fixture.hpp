// benchmarks/sqlite_fixture.hpp - one SQLite target: the tenantry side and the raw side, each
// on its own database (same path kind, same settings), created with tenantry's DDL, preloaded
// with the same 100 orgs x 100 rows, and cross-checked before anything is measured.
#pragma once

#include "ops.hpp"
#include "raw_sqlite.hpp"

#include <tenantry/sqlite.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace bench {

class SqliteFixture {
 public:
  SqliteFixture(const std::string& tenantry_path, const std::string& raw_path)
      : conn_(tenantry_path), ten_(conn_), raw_(raw_path) {
    tenantry::create_tables<Token, Owner>(conn_);
    raw_.create_schema();
    const Dataset& d = Dataset::get();
    for (std::size_t k = 0; k < org_count; ++k) {
      std::vector<Token> a(d.rows.begin() + static_cast<std::ptrdiff_t>(k * rows_per_org),
                           d.rows.begin() + static_cast<std::ptrdiff_t>((k + 1) * rows_per_org));
      std::vector<Token> b = a;
      ten_.insert_many(d.orgs[k], a);
      raw_.insert_many(d.orgs[k], b);
      Owner oa = d.owners[k], ob = d.owners[k];
      ten_.insert_owner(d.orgs[k], oa);
      raw_.insert_owner(d.orgs[k], ob);
    }
    cross_check(ten_, raw_, false);
  }

  TenantryApi<tenantry::SqliteDialect>& tenantry_side() { return ten_; }
  RawSqlite& raw_side() { return raw_; }

 private:
  tenantry::sqlite::Connection conn_;
  TenantryApi<tenantry::SqliteDialect> ten_;
  RawSqlite raw_;
};

}  // namespace bench
