// benchmarks/rls_bench.hpp - what PostgreSQL row-level security costs tenantry (pg_bench.cpp).
//
// The same api_tokens table three times, each in a schema of its own: without row-level
// security ("off"), with the policy tenantry generates ("rls": org = (SELECT ...), an InitPlan
// evaluated once per statement), and with the policy of before ("rls_old": org = CAST(NULLIF(
// current_setting(...)) ...), a stable expression the executor evaluates for every row it
// filters). Each holds 20,000 rows: one big org of 10,000 rows (10 users) and 100 orgs of 100.
// They are read through tenantry by an ordinary role (superusers bypass every policy):
//
//   find        find by key, cycling over the big org's rows: the index path
//   count_big   count() of the big org's 10,000 rows: the planner scans (half the table)
//   list_big    list() of the big org's 10,000 rows: the scan path with every row decoded
//   insert      insert of one row into a scratch org: the policy's WITH CHECK on every row
//               (rows written outside a transaction are deleted when the benchmark ends)
//
// The plan the server chose for each read, as the role, with the generated policy (EXPLAIN
// (COSTS OFF) EXECUTE of the statement tenantry prepares), is appended to the file named by
// TENANTRY_BENCH_RLS_PLANS, so the report can say which path each line measured. Each pair
// also counts its round trips per call, both sides, before timing (libpq trace, pg_counts.hpp):
// counters base_round_trips and variant_round_trips.
//
// in these modes:
//   off         org_context off, table without policy: tenantry's default
//   rls         org_context on, the generated policy, outside a transaction: set_config and the
//               statement in one pipeline, one round trip (in_org_statement, org_context.hpp;
//               before, BEGIN, set_config, the statement, COMMIT: four)
//   off_tx      as off, inside one open transaction
//   rls_tx      as rls, inside one open transaction in which the org is set once: the cost of
//               the policy alone
//   rls_old_tx  as rls_tx with the old policy
//
// Each benchmark is a pair run in alternating batches (bm_paired, ops.hpp), named
// <target>_rls/<op>/<variant>_vs_<baseline>; its counters raw_us and tenantry_us are the
// baseline's and the variant's time per call, ratio the median of variant / baseline.
#pragma once

#include "ops.hpp"
#include "pg_counts.hpp"

#include <tenantry/postgres.hpp>

#include <libpq-fe.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace bench {

inline constexpr const char* rls_role = "tenantry_bench_rls";
/// The baseline side of each pair connects as a role of its own (the same rights), so that
/// pg_stat_statements, which keys statements by user, tells the two sides' statements apart.
inline constexpr const char* rls_base_role = "tenantry_bench_rls_base";
inline constexpr std::size_t big_org_rows = 10000;

/// `conninfo` (URL or keywords) with its user replaced by `user`, as a keyword string.
inline std::string with_user(const std::string& conninfo, const std::string& user) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (options == nullptr) {
    const std::string why = error != nullptr ? error : "?";
    PQfreemem(error);
    throw std::runtime_error("cannot parse conninfo: " + why);
  }
  const auto quoted = [](const std::string& v) {
    std::string out = "'";
    for (char c : v) {
      if (c == '\'' || c == '\\') out += '\\';
      out += c;
    }
    return out + "'";
  };
  std::string out;
  for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr || *o->val == '\0' || std::string_view(o->keyword) == "user") continue;
    out += std::string(o->keyword) + "=" + quoted(o->val) + " ";
  }
  PQconninfoFree(options);
  return out + "user=" + quoted(user);
}

/// The big org's rows: 10,000, spread over 10 users, time-ordered ids.
struct BigOrg {
  OrgId org = org_of(5000);
  std::vector<Token> rows;
  BigOrg() {
    const std::uint64_t first = std::uint64_t{3} << 32;
    for (std::size_t i = 0; i < big_org_rows; ++i) rows.push_back(make_token(org, user_of(5000 + i % 10), first + i));
  }
  static const BigOrg& get() {
    static const BigOrg b;
    return b;
  }
};

enum class RlsTable { off, rls, rls_old };

struct RlsMode {
  const char* name;
  RlsTable table;
  bool org_context;
  bool in_transaction;
};
inline constexpr RlsMode mode_off{"off", RlsTable::off, false, false};
inline constexpr RlsMode mode_rls{"rls", RlsTable::rls, true, false};
inline constexpr RlsMode mode_off_tx{"off_tx", RlsTable::off, false, true};
inline constexpr RlsMode mode_rls_tx{"rls_tx", RlsTable::rls, true, true};
inline constexpr RlsMode mode_rls_old_tx{"rls_old_tx", RlsTable::rls_old, true, true};

inline std::string rls_schema(const std::string& target, RlsTable t) {
  return "bench_" + target + (t == RlsTable::off ? "_rls_off" : t == RlsTable::rls ? "_rls_new" : "_rls_old");
}

/// Creates the three schemas (recreated) as the connecting superuser and fills them.
inline void create_rls_schemas(const std::string& conninfo, const std::string& target) {
  tenantry::pg::Connection admin(conninfo);
  for (const char* role : {rls_role, rls_base_role})
    admin.execute(
        std::string("DO $$ BEGIN CREATE ROLE ") + role +
        " LOGIN NOSUPERUSER NOBYPASSRLS; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$");
  const Dataset& d = Dataset::get();
  for (RlsTable t : {RlsTable::off, RlsTable::rls, RlsTable::rls_old}) {
    const std::string schema = rls_schema(target, t);
    admin.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE; CREATE SCHEMA " + schema + "; SET search_path TO " +
                  schema);
    tenantry::create_tables<Token>(admin, tenantry::DdlOptions{.row_level_security = t != RlsTable::off});
    if (t == RlsTable::rls_old) {
      const std::string old = "\"org_id\" = CAST(NULLIF(current_setting('app.current_org_id', true), '') AS UUID)";
      admin.execute("ALTER POLICY \"api_tokens_org_isolation\" ON \"api_tokens\" USING (" + old + ") WITH CHECK (" +
                    old + ")");
    }
    tenantry::Repository<Token, tenantry::PgDialect> repo{admin};  // a superuser: no policy applies
    std::vector<Token> big = BigOrg::get().rows, small = d.rows;
    repo.insert_many(BigOrg::get().org, big);
    for (std::size_t k = 0; k < org_count; ++k) {
      std::vector<Token> one(small.begin() + static_cast<std::ptrdiff_t>(k * rows_per_org),
                             small.begin() + static_cast<std::ptrdiff_t>((k + 1) * rows_per_org));
      repo.insert_many(d.orgs[k], one);
    }
    admin.execute("VACUUM ANALYZE \"api_tokens\"");
    for (const char* role : {rls_role, rls_base_role})
      admin.execute("GRANT USAGE ON SCHEMA " + schema + " TO " + role +
                    "; GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA " + schema + " TO " + role);
  }
  admin.execute("RESET search_path");
}

/// One mode's connection (as `role`) and repository.
class RlsSide {
 public:
  RlsSide(const std::string& conninfo, const std::string& target, const RlsMode& mode, const char* role)
      : conn_(with_user(conninfo, role), tenantry::pg::Options{.org_context = mode.org_context}),
        repo_(conn_),
        admin_conninfo_(conninfo),
        schema_(rls_schema(target, mode.table)) {
    conn_.execute("SET search_path TO " + schema_);
    if (mode.in_transaction) tx_.emplace(conn_);
  }
  ~RlsSide() {
    if (tx_) tx_->rollback();
    if (inserted_ && !tx_) {  // what insert wrote outside a transaction (the role may not delete)
      tenantry::pg::Connection admin(admin_conninfo_);
      admin.execute("DELETE FROM " + schema_ + ".\"api_tokens\" WHERE \"org_id\" = '" +
                    Dataset::get().scratch.to_string() + "'");
    }
  }
  RlsSide(const RlsSide&) = delete;
  RlsSide& operator=(const RlsSide&) = delete;

  std::optional<Token> find(OrgId org, const Uuid& id) { return repo_.find(org, id); }
  std::int64_t count(OrgId org) { return repo_.count(org); }
  std::vector<Token> list(OrgId org) { return repo_.list(org); }
  void insert(OrgId org, Token& row) {
    inserted_ = true;
    repo_.insert(org, row);
  }
  PGconn* native() const { return conn_.native(); }

 private:
  tenantry::pg::Connection conn_;
  tenantry::Repository<Token, tenantry::PgDialect> repo_;
  std::optional<tenantry::Transaction<tenantry::pg::Connection>> tx_;
  std::string admin_conninfo_, schema_;
  bool inserted_ = false;
};

enum class RlsOp { find, count_big, list_big, insert };
inline const char* rls_op_name(RlsOp op) {
  return op == RlsOp::find        ? "find"
         : op == RlsOp::count_big ? "count_big"
         : op == RlsOp::list_big  ? "list_big"
                                  : "insert";
}

/// A runner (ops.hpp) of one RlsOp on one RlsSide.
struct RlsRun {
  RlsSide& side;
  RlsOp op;
  std::size_t i = 0;
  std::int64_t calls = 0, ok = 0, rows = 1;
  const BigOrg& big = BigOrg::get();
  Token row = make_token(Dataset::get().scratch, Dataset::get().scratch_user, next_seq());

  bool ready(std::size_t) const { return true; }
  void prepare(std::size_t) {}
  void finish() {}
  void call() {
    switch (op) {
      case RlsOp::find: {
        const Token& t = big.rows[i];
        if (++i == big.rows.size()) i = 0;
        std::optional<Token> row = side.find(big.org, t.id);
        ok += row.has_value() && row->id == t.id;
        benchmark::DoNotOptimize(row);
        break;
      }
      case RlsOp::count_big: ok += side.count(big.org) == static_cast<std::int64_t>(big_org_rows); break;
      case RlsOp::list_big: {
        std::vector<Token> v = side.list(big.org);
        ok += v.size() == big_org_rows;
        benchmark::DoNotOptimize(v);
        break;
      }
      case RlsOp::insert:
        stamp(row, next_seq());
        side.insert(row.org_id, row);
        ++ok;
        break;
    }
    ++calls;
  }
  std::string error() const { return ok == calls ? std::string() : std::string(rls_op_name(op)) + ": a wrong result"; }
};

/// The plan of op's statement as the role, under the generated policy, one line ("Index Scan
/// using ... / InitPlan 1 (returns $0) / ..."), from EXPLAIN (COSTS OFF) EXECUTE in a transaction
/// that sets the big org. Empty for insert.
inline std::string rls_plan(const std::string& conninfo, const std::string& target, RlsOp op) {
  namespace st = tenantry::statements;
  const auto w = [](const tenantry::stmt::Statement& d) { return tenantry::write_sql<tenantry::PgDialect>(d); };
  const BigOrg& big = BigOrg::get();
  const std::string org = big.org.to_string();
  std::string sql, args = "'" + org + "'";
  if (op == RlsOp::find) {
    sql = w(st::find<Token>());
    args += ", '" + big.rows[big.rows.size() / 2].id.to_string() + "'";
  } else if (op == RlsOp::count_big) {
    sql = w(st::count<Token>());
  } else if (op == RlsOp::list_big) {
    sql = w(st::list<Token>());
  } else {
    return {};
  }
  PGconn* c = PQconnectdb(with_user(conninfo, rls_role).c_str());
  std::string plan;
  const auto exec = [&](const std::string& q, bool keep) {
    PGresult* r = PQexec(c, q.c_str());
    if (keep && PQresultStatus(r) == PGRES_TUPLES_OK)
      for (int i = 0; i < PQntuples(r); ++i) {
        std::string line = PQgetvalue(r, i, 0);
        if (line.find("->") != std::string::npos) line.erase(0, line.find("->") + 2);
        line.erase(0, line.find_first_not_of(' '));
        plan += (plan.empty() ? "" : " / ") + line;
      }
    else if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
      plan += "(" + std::string(PQerrorMessage(c)) + ")";
    PQclear(r);
  };
  if (PQstatus(c) == CONNECTION_OK) {
    exec("BEGIN", false);
    exec("SET LOCAL search_path TO " + rls_schema(target, RlsTable::rls), false);
    exec("SELECT set_config('app.current_org_id', '" + org + "', true)", false);
    exec("PREPARE rls_plan AS " + sql, false);
    exec("EXPLAIN (COSTS OFF) EXECUTE rls_plan(" + args + ")", true);
    exec("ROLLBACK", false);
  }
  PQfinish(c);
  return plan;
}

/// Appends each read's plan to the file named by TENANTRY_BENCH_RLS_PLANS, one line each:
/// "<target>\t<op>\t<plan>" (scripts/bench.sh sets it; the report shows the plans).
inline void write_rls_plans(const std::string& conninfo, const std::string& target) {
  const char* path = std::getenv("TENANTRY_BENCH_RLS_PLANS");
  if (path == nullptr || *path == '\0') return;
  std::ofstream out(path, std::ios::app);
  for (RlsOp o : {RlsOp::find, RlsOp::count_big, RlsOp::list_big})
    out << target << '\t' << rls_op_name(o) << '\t' << rls_plan(conninfo, target, o) << '\n';
}

/// Round trips per call of r on `conn`, over `calls` calls (the libpq trace of pg_counts.hpp).
inline double rls_round_trips(RlsRun& r, PGconn* conn, int calls) {
  WireCounts c;
  WireTrace trace(conn);
  trace.start();
  for (int i = 0; i < calls; ++i) r.call();
  trace.stop(c);
  return static_cast<double>(c.round_trips) / calls;
}

/// The server's own time for each side's statement (pg_stat_statements' executor time, min and
/// mean over the pair's calls: the minimum is what a call costs when nothing preempts it, the
/// figure of a loaded machine), as counters base_/variant_server_min_us and _mean_us. Nothing
/// when the server does not preload pg_stat_statements.
class ServerTimes {
 public:
  explicit ServerTimes(const std::string& conninfo) : conn_(PQconnectdb(conninfo.c_str())) {
    PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
    PGresult* r = PQexec(conn_, "SELECT current_setting('shared_preload_libraries') LIKE '%pg_stat_statements%'");
    on_ = PQresultStatus(r) == PGRES_TUPLES_OK && std::string_view(PQgetvalue(r, 0, 0)) == "t";
    PQclear(r);
    if (on_) {
      PQclear(PQexec(conn_, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"));
    }
  }
  ~ServerTimes() { PQfinish(conn_); }
  ServerTimes(const ServerTimes&) = delete;
  ServerTimes& operator=(const ServerTimes&) = delete;

  void reset() {
    if (on_) PQclear(PQexec(conn_, "SELECT pg_stat_statements_reset()"));
  }
  void read(benchmark::State& st) {
    if (!on_) return;
    // Each side's operation statement: the one it ran most (not BEGIN, COMMIT or set_config).
    const std::string q = std::string(
                              "SELECT DISTINCT ON (r.rolname) r.rolname, s.min_exec_time, s.mean_exec_time "
                              "FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid "
                              "WHERE r.rolname IN ('") +
                          rls_role + "', '" + rls_base_role +
                          "') AND s.query NOT IN ('BEGIN', 'COMMIT', 'ROLLBACK') AND s.query NOT LIKE '%set_config%' "
                          "ORDER BY r.rolname, s.calls DESC";
    PGresult* r = PQexec(conn_, q.c_str());
    if (PQresultStatus(r) == PGRES_TUPLES_OK)
      for (int i = 0; i < PQntuples(r); ++i) {
        const std::string side = std::string_view(PQgetvalue(r, i, 0)) == rls_role ? "variant" : "base";
        st.counters[side + "_server_min_us"] = 1000 * std::strtod(PQgetvalue(r, i, 1), nullptr);
        st.counters[side + "_server_mean_us"] = 1000 * std::strtod(PQgetvalue(r, i, 2), nullptr);
      }
    PQclear(r);
  }

 private:
  PGconn* conn_;
  bool on_ = false;
};

/// The RLS pairs of one target, registered through `add` (pg_bench.cpp's registration helper).
template <class Add>
void register_rls_target(const std::string& target, const std::string& conninfo, Add add) {
  struct Pair {
    RlsMode variant, baseline;
  };
  static const Pair pairs[] = {{mode_rls, mode_off}, {mode_rls_tx, mode_off_tx}, {mode_rls_old_tx, mode_rls_tx}};
  for (RlsOp op : {RlsOp::find, RlsOp::count_big, RlsOp::list_big, RlsOp::insert}) {
    for (const Pair& p : pairs) {
      const std::string name = target + "_rls/" + rls_op_name(op) + "/" + p.variant.name + "_vs_" + p.baseline.name;
      add(
          name,
          [target, conninfo, op, p](benchmark::State& st) {
            static std::vector<std::string> created;  // schemas made once per target and process
            if (std::find(created.begin(), created.end(), target) == created.end()) {
              create_rls_schemas(conninfo, target);
              write_rls_plans(conninfo, target);
              created.push_back(target);
            }
            RlsSide base(conninfo, target, p.baseline, rls_base_role), variant(conninfo, target, p.variant, rls_role);
            RlsRun rb{base, op}, rv{variant, op};
            // Warm both (statements prepared, plans cached) and check their answers first.
            for (int k = 0; k < 3; ++k) {
              rb.call();
              rv.call();
            }
            if (!rb.error().empty() || !rv.error().empty())
              throw std::runtime_error("cross-check: " + rb.error() + rv.error());
            const int traced = op == RlsOp::find || op == RlsOp::insert ? 20 : 2;
            const double base_trips = rls_round_trips(rb, base.native(), traced);
            const double variant_trips = rls_round_trips(rv, variant.native(), traced);
            ServerTimes server(conninfo);
            server.reset();
            bm_paired(st, rb, rv);
            st.counters["base_round_trips"] = base_trips;
            st.counters["variant_round_trips"] = variant_trips;
            server.read(st);
          },
          true);
    }
  }
}

}  // namespace bench
