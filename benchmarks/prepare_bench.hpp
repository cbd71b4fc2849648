// benchmarks/prepare_bench.hpp - the first use of a statement on a connection (pg_bench.cpp).
//
// Each call forgets every prepared statement of the session (DEALLOCATE ALL) and prepares the
// find statement again, as the first use on a new connection does: raw libpq sends PREPARE and
// DESCRIBE (two round trips); tenantry (Connection::clear_statement_cache, then prepare) sends
// them in one pipeline inside a transaction of their own, so that behind a pooler they happen on
// one server session (driver/postgres.hpp). Named <target>_cold/prepare/tenantry_vs_raw; the
// counters of bm_paired (ops.hpp): raw_us, tenantry_us, ratio = tenantry / raw.
#pragma once

#include "bench_sql.hpp"
#include "ops.hpp"

#include <tenantry/postgres.hpp>

#include <libpq-fe.h>

#include <stdexcept>
#include <string>

namespace bench {

/// Raw: DEALLOCATE ALL, PQprepare, PQdescribePrepared.
struct RawColdPrepare {
  PGconn* conn;
  std::int64_t calls = 0, ok = 0, rows = 1;
  explicit RawColdPrepare(const std::string& conninfo) : conn(PQconnectdb(conninfo.c_str())) {
    if (PQstatus(conn) != CONNECTION_OK) throw std::runtime_error("raw cold prepare: cannot connect");
  }
  ~RawColdPrepare() { PQfinish(conn); }
  RawColdPrepare(const RawColdPrepare&) = delete;
  RawColdPrepare& operator=(const RawColdPrepare&) = delete;
  bool ready(std::size_t) const { return true; }
  void prepare(std::size_t) {}
  void finish() {}
  void call() {
    PQclear(PQexec(conn, "DEALLOCATE ALL"));
    PGresult* p = PQprepare(conn, "raw_find", SqlText<tenantry::PgDialect>::get().find.c_str(), 0, nullptr);
    const bool prepared = PQresultStatus(p) == PGRES_COMMAND_OK;
    PQclear(p);
    PGresult* d = PQdescribePrepared(conn, "raw_find");
    ok += prepared && PQresultStatus(d) == PGRES_COMMAND_OK && PQnparams(d) == 2;
    PQclear(d);
    ++calls;
  }
  std::string error() const { return ok == calls ? std::string() : std::string("raw cold prepare failed"); }
};

/// tenantry: clear_statement_cache (DEALLOCATE ALL), then prepare.
struct TenantryColdPrepare {
  tenantry::pg::Connection conn;
  tenantry::Sql sql = tenantry::intern_sql(SqlText<tenantry::PgDialect>::get().find);
  std::int64_t calls = 0, ok = 0, rows = 1;
  explicit TenantryColdPrepare(const std::string& conninfo) : conn(conninfo) {}
  bool ready(std::size_t) const { return true; }
  void prepare(std::size_t) {}
  void finish() {}
  void call() {
    conn.clear_statement_cache();
    ok += conn.prepare(sql).param_types().size() == 2;
    ++calls;
  }
  std::string error() const { return ok == calls ? std::string() : std::string("tenantry cold prepare failed"); }
};

/// Registers <target>_cold/prepare/tenantry_vs_raw through `add` (pg_bench.cpp's helper). Each
/// side's session gets the statement's table as a temporary table of its own.
template <class Add>
void register_cold_prepare(const std::string& target, const std::string& conninfo, Add add) {
  add(
      target + "_cold/prepare/tenantry_vs_raw",
      [conninfo](benchmark::State& st) {
        RawColdPrepare raw(conninfo);
        TenantryColdPrepare ten(conninfo);
        // The statement needs its table: a temporary one of the same shape in each session.
        for (const std::string& ddl : SqlText<tenantry::PgDialect>::get().ddl) {
          const std::string temp = "CREATE TEMPORARY TABLE" + ddl.substr(std::string("CREATE TABLE").size());
          if (!ddl.starts_with("CREATE TABLE")) continue;
          PQclear(PQexec(raw.conn, temp.c_str()));
          ten.conn.execute(temp);
        }
        bm_paired(st, raw, ten);
      },
      true);
}

}  // namespace bench
