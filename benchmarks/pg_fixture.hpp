// benchmarks/pg_fixture.hpp - one PostgreSQL target (a conninfo): the tenantry side and the raw
// side, each on its own connection and in its own schema (recreated), created with tenantry's
// DDL, preloaded with the same 100 orgs x 100 rows, vacuumed and analyzed, and cross-checked
// before anything is measured.
#pragma once

#include "ops.hpp"
#include "raw_pg.hpp"

#include <tenantry/postgres.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace bench {

class PgFixture {
 public:
  PgFixture(const std::string& conninfo, const std::string& target)
      : conn_(conninfo), ten_(conn_), raw_(conninfo, "bench_" + target + "_raw") {
    const std::string schema = "bench_" + target + "_tenantry";
    conn_.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    conn_.execute("CREATE SCHEMA " + schema);
    conn_.execute("SET search_path TO " + schema);
    tenantry::create_tables<Token, Owner>(conn_);
    raw_.create_schema();
    const Dataset& d = Dataset::get();
    for (std::size_t k = 0; k < org_count; ++k) {
      std::vector<Token> a(d.rows.begin() + static_cast<std::ptrdiff_t>(k * rows_per_org),
                           d.rows.begin() + static_cast<std::ptrdiff_t>((k + 1) * rows_per_org));
      std::vector<Token> b = a;
      ten_.insert_many(d.orgs[k], a);
      raw_.insert_copy(d.orgs[k], b);
      Owner oa = d.owners[k], ob = d.owners[k];
      ten_.insert_owner(d.orgs[k], oa);
      raw_.insert_owner(d.orgs[k], ob);
    }
    conn_.execute("VACUUM ANALYZE \"api_tokens\"");
    conn_.execute("VACUUM ANALYZE \"bench_users\"");
    raw_.execute("VACUUM ANALYZE \"api_tokens\"");
    raw_.execute("VACUUM ANALYZE \"bench_users\"");
    cross_check(ten_, raw_, true);
  }

  TenantryApi<tenantry::PgDialect>& tenantry_side() { return ten_; }
  RawPg& raw_side() { return raw_; }

 private:
  tenantry::pg::Connection conn_;
  TenantryApi<tenantry::PgDialect> ten_;
  RawPg raw_;
};

}  // namespace bench
