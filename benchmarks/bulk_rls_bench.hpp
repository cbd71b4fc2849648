// benchmarks/bulk_rls_bench.hpp - insert_many(1000) under row-level security (pg_bench.cpp):
// what the org context costs a bulk write, and what sending it with the statement saves.
//
// COPY is refused on a table with row-level security, so the one-statement bulk path is
// INSERT ... SELECT * FROM unnest($1::uuid[], ...) with the org set by
// set_config('app.current_org_id', org, true). One api_tokens table with tenantry's policy, in
// a schema of its own, written by an ordinary role (superusers bypass every policy), three ways:
//
//   tenantry      Repository::insert_many with pg::Options::org_context: one batch is one
//                 statement, sent with its set_config in one libpq pipeline (one round trip)
//   raw_pipeline  the same by hand: set_config and the prepared unnest INSERT in one pipeline
//                 (one sync, one implicit transaction)
//   raw_tx        the transaction form: BEGIN, set_config, the INSERT, COMMIT (four round trips,
//                 what tenantry did before)
//
// Pairs run in alternating batches (bm_paired, ops.hpp), named
// <target>_bulk_rls/insert_many_1000/<variant>_vs_<baseline>; counters raw_us / tenantry_us are
// the baseline's / the variant's time per call of 1,000 rows, ratio the median of their ratio.
// The rows are deleted between calls, untimed.
#pragma once

#include "ops.hpp"
#include "raw_pg.hpp"
#include "rls_bench.hpp"

#include <tenantry/postgres.hpp>

#include <libpq-fe.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bench {

inline std::string bulk_rls_schema(const std::string& target) { return "bench_" + target + "_bulk_rls"; }

/// Creates the schema (recreated) as the connecting superuser: the table with its policy, and
/// what rls_role needs to write it.
inline void create_bulk_rls_schema(const std::string& conninfo, const std::string& target) {
  tenantry::pg::Connection admin(conninfo);
  admin.execute(
      std::string("DO $$ BEGIN CREATE ROLE ") + rls_role +
      " LOGIN NOSUPERUSER NOBYPASSRLS; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$");
  const std::string schema = bulk_rls_schema(target);
  admin.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE; CREATE SCHEMA " + schema + "; SET search_path TO " +
                schema);
  tenantry::create_tables<Token>(admin, tenantry::DdlOptions{.row_level_security = true});
  admin.execute("GRANT USAGE ON SCHEMA " + schema + " TO " + rls_role +
                "; GRANT SELECT, INSERT, DELETE ON ALL TABLES IN SCHEMA " + schema + " TO " + rls_role);
  admin.execute("RESET search_path");
}

/// The SQL that sets the org for the current transaction, as tenantry sends it.
inline const char* bulk_rls_set_org_sql() { return "SELECT set_config('app.current_org_id', $1, true)"; }

/// The maintenance statement of BulkRun (a DELETE of the scratch org's rows), in a transaction
/// that sets the org first: the policy covers DELETE too.
inline std::string bulk_rls_in_org(const char* sql) {
  return "BEGIN; SELECT set_config('app.current_org_id', '" + Dataset::get().scratch.to_string() + "', true); " + sql +
         "; COMMIT";
}

/// tenantry with org_context, as rls_role.
class TenantryRlsBulk {
 public:
  TenantryRlsBulk(const std::string& conninfo, const std::string& target)
      : conn_(with_user(conninfo, rls_role), tenantry::pg::Options{.org_context = true}), repo_(conn_) {
    conn_.execute("SET search_path TO " + bulk_rls_schema(target));
  }
  void insert_many(OrgId org, std::vector<Token>& rows) { repo_.insert_many(org, rows); }
  void execute(const char* sql) {
    if (std::string_view(sql).starts_with("VACUUM")) return;  // not the table's owner
    conn_.execute(bulk_rls_in_org(sql));
  }

 private:
  tenantry::pg::Connection conn_;
  tenantry::Repository<Token, tenantry::PgDialect> repo_;
};

/// Hand-written libpq, as rls_role: the prepared unnest INSERT (binary arrays, as RawPg's
/// insert_unnest) with its org set in a pipeline (pipelined) or in BEGIN ... COMMIT.
class RawRlsBulk {
 public:
  RawRlsBulk(const std::string& conninfo, const std::string& target, bool pipelined) : pipelined_(pipelined) {
    conn_ = PQconnectdb(with_user(conninfo, rls_role).c_str());
    if (PQstatus(conn_) != CONNECTION_OK) fail("connect");
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);
    run(PQexec(conn_, ("SET search_path TO " + bulk_rls_schema(target)).c_str()), "search_path");
    const std::string& ins = SqlText<tenantry::PgDialect>::get().insert;
    const std::string sql = ins.substr(0, ins.find(" VALUES")) +
                            " SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], "
                            "$6::text[], $7::text[], $8::text[], $9::timestamptz[], $10::timestamptz[])";
    run(PQprepare(conn_, "bulk_rls_unnest", sql.c_str(), 0, nullptr), "prepare");
  }
  ~RawRlsBulk() { PQfinish(conn_); }
  RawRlsBulk(const RawRlsBulk&) = delete;
  RawRlsBulk& operator=(const RawRlsBulk&) = delete;

  void insert_many(OrgId org, std::vector<Token>& rows) {
    encode(rows);
    const char* values[10];
    int lengths[10], formats[10];
    for (std::size_t c = 0; c < 10; ++c) {
      values[c] = arrays_[c].data();
      lengths[c] = static_cast<int>(arrays_[c].size());
      formats[c] = 1;
    }
    char org_text[36];
    org.value.write(org_text);
    const char* org_value[] = {org_text};
    const int org_length[] = {36}, org_format[] = {1};
    if (!pipelined_) {
      run(PQexec(conn_, "BEGIN"), "BEGIN");
      run(PQexecParams(conn_, bulk_rls_set_org_sql(), 1, nullptr, org_value, org_length, org_format, 1), "set_config");
      run(PQexecPrepared(conn_, "bulk_rls_unnest", 10, values, lengths, formats, 1), "insert");
      run(PQexec(conn_, "COMMIT"), "COMMIT");
      return;
    }
    const bool sent = PQenterPipelineMode(conn_) == 1 &&
                      PQsendQueryParams(conn_, bulk_rls_set_org_sql(), 1, nullptr, org_value, org_length, org_format,
                                        1) == 1 &&
                      PQsendQueryPrepared(conn_, "bulk_rls_unnest", 10, values, lengths, formats, 1) == 1 &&
                      PQpipelineSync(conn_) == 1;
    if (!sent) fail("pipeline send");
    bool ok = true;
    for (int q = 0; q < 2; ++q) {
      while (PGresult* r = PQgetResult(conn_)) {
        const ExecStatusType s = PQresultStatus(r);
        ok = ok && (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK);
        PQclear(r);
      }
    }
    PGresult* sync = PQgetResult(conn_);
    ok = ok && PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
    PQclear(sync);
    if (PQexitPipelineMode(conn_) != 1 || !ok) fail("pipeline");
  }

  void execute(const char* sql) {
    if (std::string_view(sql).starts_with("VACUUM")) return;
    run(PQexec(conn_, bulk_rls_in_org(sql).c_str()), sql);
  }

 private:
  void encode(const std::vector<Token>& rows) {
    static constexpr Oid elem[10] = {
        pgwire::uuid_oid, pgwire::uuid_oid, pgwire::text_oid, pgwire::text_oid,        pgwire::text_oid,
        pgwire::text_oid, pgwire::text_oid, pgwire::text_oid, pgwire::timestamptz_oid, pgwire::timestamptz_oid};
    arrays_.resize(10);
    for (std::size_t c = 0; c < 10; ++c) {
      std::string& a = arrays_[c];
      a.clear();
      pgwire::append32(a, 1);  // dimensions
      pgwire::append32(a, 0);  // no NULLs
      pgwire::append32(a, elem[c]);
      pgwire::append32(a, static_cast<std::uint32_t>(rows.size()));
      pgwire::append32(a, 1);  // lower bound
    }
    const auto field = [](std::string& s, const void* p, std::size_t n) {
      pgwire::append32(s, static_cast<std::uint32_t>(n));
      s.append(static_cast<const char*>(p), n);
    };
    const auto text = [&](std::string& s, std::string_view v) { field(s, v.data(), v.size()); };
    for (const Token& t : rows) {
      field(arrays_[0], t.id.bytes.data(), 16);
      field(arrays_[1], t.org_id.value.bytes.data(), 16);
      text(arrays_[2], t.user_id);
      text(arrays_[3], t.name);
      text(arrays_[4], t.token_prefix);
      text(arrays_[5], t.token_hash);
      text(arrays_[6], t.scopes);
      text(arrays_[7], t.status == TokenStatus::active ? "active" : "inactive");
      pgwire::append32(arrays_[8], 8);
      pgwire::append_ts(arrays_[8], t.created_at);
      pgwire::append32(arrays_[9], 8);
      pgwire::append_ts(arrays_[9], t.updated_at);
    }
  }
  void run(PGresult* r, const char* what) {
    const ExecStatusType s = PQresultStatus(r);
    PQclear(r);
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) fail(what);
  }
  [[noreturn]] void fail(const char* what) const {
    throw std::runtime_error(std::string("raw rls bulk: ") + PQerrorMessage(conn_) + " (" + what + ")");
  }

  PGconn* conn_ = nullptr;
  bool pipelined_;
  std::vector<std::string> arrays_;
};

/// The pairs of one target, registered through `add` (pg_bench.cpp's registration helper).
template <class Add>
void register_bulk_rls_target(const std::string& target, const std::string& conninfo, Add add) {
  enum class Variant { tenantry_vs_raw_pipeline, tenantry_vs_raw_tx, raw_pipeline_vs_raw_tx };
  const std::pair<Variant, const char*> variants[] = {{Variant::tenantry_vs_raw_pipeline, "tenantry_vs_raw_pipeline"},
                                                      {Variant::tenantry_vs_raw_tx, "tenantry_vs_raw_tx"},
                                                      {Variant::raw_pipeline_vs_raw_tx, "raw_pipeline_vs_raw_tx"}};
  for (const auto& [variant, label] : variants) {
    add(
        target + "_bulk_rls/insert_many_1000/" + label,
        [target, conninfo, variant = variant](benchmark::State& st) {
          static std::vector<std::string> created;  // the schema is made once per target and process
          if (std::find(created.begin(), created.end(), target) == created.end()) {
            create_bulk_rls_schema(conninfo, target);
            created.push_back(target);
          }
          const auto ins = [](auto& side, OrgId org, std::vector<Token>& rows) { side.insert_many(org, rows); };
          const std::size_t n = 1000;
          if (variant == Variant::raw_pipeline_vs_raw_tx) {
            RawRlsBulk tx(conninfo, target, false), pipe(conninfo, target, true);
            BulkRun<RawRlsBulk, decltype(ins)> base(tx, false, n, ins), var(pipe, false, n, ins);
            return bm_paired(st, base, var);
          }
          RawRlsBulk raw(conninfo, target, variant == Variant::tenantry_vs_raw_pipeline);
          TenantryRlsBulk ten(conninfo, target);
          BulkRun<RawRlsBulk, decltype(ins)> base(raw, false, n, ins);
          BulkRun<TenantryRlsBulk, decltype(ins)> var(ten, false, n, ins);
          bm_paired(st, base, var);
        },
        true);
  }
}

}  // namespace bench
