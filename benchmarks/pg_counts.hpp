// benchmarks/pg_counts.hpp - what one PostgreSQL operation costs in messages, counted rather than
// timed: round trips and statements per call, tenantry against the raw libpq twin.
//
//   tenantry-bench-callgrind --dialect=pg --counts=OUT.json [--n=N] [--op=...]
//
// Two independent counts, each over exactly the measured calls (the runners of ops.hpp, warmed
// first; their untimed maintenance between calls is not counted):
//   * the client's protocol trace (libpq's PQtrace on the side's own connection): a round trip
//     is a run of messages the client sent followed by the server's answer (the client waited);
//     also counted: Query (simple protocol) and Execute (extended protocol) messages, which are
//     the statements the client asked for, Sync messages, and bytes each way;
//   * the server's pg_stat_statements (calls per statement, read on a separate connection before
//     and after each batch of calls and subtracted): the statements the server executed,
//     BEGIN/COMMIT and set_config included, per statement text. It needs
//     shared_preload_libraries = 'pg_stat_statements'; scripts/bench.sh starts its own cluster so
//     configured (TENANTRY_PG_PRELOAD, scripts/pg.sh). Without it the server column is absent.
// The raw twin's counts are known from its code (one PQexecPrepared per call; insert_many: BEGIN,
// one per row, COMMIT), so both counters are checked against them before anything is written:
// a counter that disagreed with code whose answer is known would not be reported.
#pragma once

#include "ops.hpp"
#include "raw_pg.hpp"

#include <tenantry/postgres.hpp>

#include <libpq-fe.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bench {

/// What the calls of one (side, operation) sent and ran, summed over the calls.
struct WireCounts {
  std::int64_t calls = 0;
  std::int64_t round_trips = 0, queries = 0, executes = 0, syncs = 0, bytes_out = 0, bytes_in = 0;
  bool have_server = false;
  std::int64_t server_statements = 0;
  std::map<std::string, std::int64_t> by_statement;  // statement text (as pg_stat_statements shows it) -> calls
};

/// libpq's protocol trace of one connection, into memory, parsed when stopped.
class WireTrace {
 public:
  explicit WireTrace(PGconn* conn) : conn_(conn) {}
  void start() {
    file_ = open_memstream(&buffer_, &size_);
    if (file_ == nullptr) throw std::runtime_error("open_memstream failed");
    PQtrace(conn_, file_);
    PQsetTraceFlags(conn_, PQTRACE_SUPPRESS_TIMESTAMPS);
  }
  void stop(WireCounts& into) {
    PQuntrace(conn_);
    std::fclose(file_);
    parse(std::string_view(buffer_, size_), into);
    std::free(buffer_);
    buffer_ = nullptr;
    file_ = nullptr;
  }

 private:
  // Lines are "<F|B>\t<length>\t<message> ..." (timestamps suppressed).
  static void parse(std::string_view text, WireCounts& c) {
    char last = 0;
    while (!text.empty()) {
      const std::size_t eol = text.find('\n');
      const std::string_view line = text.substr(0, eol);
      text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
      if (line.size() < 4 || (line[0] != 'F' && line[0] != 'B') || line[1] != '\t') continue;
      const std::size_t tab = line.find('\t', 2);
      if (tab == std::string_view::npos) continue;
      const std::int64_t length = std::strtoll(std::string(line.substr(2, tab - 2)).c_str(), nullptr, 10);
      std::string_view message = line.substr(tab + 1);
      message = message.substr(0, message.find_first_of("\t "));
      if (line[0] == 'F') {
        c.bytes_out += length;
        c.queries += message == "Query";
        c.executes += message == "Execute";
        c.syncs += message == "Sync";
      } else {
        c.bytes_in += length;
        if (last == 'F') ++c.round_trips;
      }
      last = line[0];
    }
  }

  PGconn* conn_;
  FILE* file_ = nullptr;
  char* buffer_ = nullptr;
  std::size_t size_ = 0;
};

/// pg_stat_statements, read on a connection of its own (its own reads are left out).
class ServerStatements {
 public:
  explicit ServerStatements(const std::string& conninfo) : conn_(PQconnectdb(conninfo.c_str())) {
    if (PQstatus(conn_) != CONNECTION_OK) throw std::runtime_error("counts: cannot connect");
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);
    // Only where the server loaded it: no extension is created on a server that could not use it.
    PGresult* r = PQexec(conn_, "SELECT current_setting('shared_preload_libraries') LIKE '%pg_stat_statements%'");
    const bool loaded = PQresultStatus(r) == PGRES_TUPLES_OK && std::string_view(PQgetvalue(r, 0, 0)) == "t";
    PQclear(r);
    if (!loaded) {
      why_ = "the server does not preload it (shared_preload_libraries)";
      return;
    }
    r = PQexec(conn_, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
    PQclear(r);
    r = PQexec(conn_, "SELECT 1 FROM pg_stat_statements LIMIT 1");
    available_ = PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!available_) why_ = PQerrorMessage(conn_);
    PQclear(r);
  }
  ~ServerStatements() { PQfinish(conn_); }
  ServerStatements(const ServerStatements&) = delete;
  ServerStatements& operator=(const ServerStatements&) = delete;

  bool available() const { return available_; }
  const std::string& why() const { return why_; }

  /// (userid, dbid, queryid, toplevel) -> (query text, calls)
  using Snapshot = std::map<std::string, std::pair<std::string, std::int64_t>>;
  Snapshot snapshot() const {
    Snapshot s;
    if (!available_) return s;
    PGresult* r = PQexec(conn_,
                         "SELECT userid || '/' || dbid || '/' || queryid || '/' || toplevel, query, calls "
                         "FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%'");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
      const std::string e = PQerrorMessage(conn_);
      PQclear(r);
      throw std::runtime_error("counts: pg_stat_statements: " + e);
    }
    for (int i = 0; i < PQntuples(r); ++i)
      s[PQgetvalue(r, i, 0)] = {PQgetvalue(r, i, 1), std::strtoll(PQgetvalue(r, i, 2), nullptr, 10)};
    PQclear(r);
    return s;
  }

  static void add_difference(const Snapshot& before, const Snapshot& after, WireCounts& into) {
    into.have_server = true;
    for (const auto& [key, entry] : after) {
      const auto it = before.find(key);
      const std::int64_t n = entry.second - (it == before.end() ? 0 : it->second.second);
      if (n <= 0) continue;
      into.server_statements += n;
      into.by_statement[entry.first] += n;
    }
  }

 private:
  PGconn* conn_;
  bool available_ = false;
  std::string why_;
};

inline PGconn* native_of(RawPg& raw) { return raw.native(); }
inline PGconn* native_of(TenantryApi<tenantry::PgDialect>& ten) { return ten.connection().native(); }

/// Runs `calls` calls of r's operation (after warming it) with both counters on.
template <class R>
WireCounts count_calls(R& r, PGconn* conn, const ServerStatements& server, std::size_t calls) {
  for (int w = 0; w < 3; ++w) {
    r.prepare(1);
    r.call();
  }
  WireCounts c;
  WireTrace trace(conn);
  in_chunks(r, calls, [&](auto run_chunk) {
    const auto before = server.snapshot();
    trace.start();
    run_chunk();
    trace.stop(c);
    if (server.available()) ServerStatements::add_difference(before, server.snapshot(), c);
  });
  r.finish();
  c.calls = static_cast<std::int64_t>(calls);
  if (const std::string e = r.error(); !e.empty()) throw std::runtime_error("counts: " + e);
  return c;
}

/// What the raw twin sends per call, from its code (raw_pg.hpp): one prepared statement, one round
/// trip; insert_many: BEGIN, one INSERT per row, COMMIT, each waited for.
/// batch_set_10: BEGIN, ten UPDATEs and COMMIT in one pipeline, one round trip.
inline std::int64_t raw_statements_per_call(Op op) {
  if (op == Op::insert_many_1000) return 1002;
  if (op == Op::insert_many_10000) return 10002;
  if (op == Op::batch_set_10) return 12;
  return 1;
}
inline std::int64_t raw_round_trips_per_call(Op op) { return op == Op::batch_set_10 ? 1 : raw_statements_per_call(op); }

inline void check_raw(Op op, const WireCounts& c) {
  const auto check = [&](const char* what, std::int64_t got) {
    const std::int64_t want = (std::string_view(what) == "round trips" ? raw_round_trips_per_call(op)
                                                                       : raw_statements_per_call(op)) *
                              c.calls;
    if (got != want)
      throw std::runtime_error(std::string("counts: the ") + what + " of the raw " + op_name(op) + " came out at " +
                               std::to_string(got) + " for " + std::to_string(c.calls) + " calls, its code says " +
                               std::to_string(want) + ": the counter is wrong");
  };
  check("round trips", c.round_trips);
  check("Execute/Query messages", c.executes + c.queries);
  if (c.have_server) check("server statements", c.server_statements);
}

inline std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    if (ch == '\n' || ch == '\t') {
      out += ' ';
      continue;
    }
    if (static_cast<unsigned char>(ch) < 0x20) continue;
    out += ch;
  }
  return out + "\"";
}

inline std::string counts_json(const WireCounts& c) {
  const double n = static_cast<double>(c.calls);
  std::ostringstream o;
  o << "{\"calls\": " << c.calls << ", \"round_trips\": " << static_cast<double>(c.round_trips) / n
    << ", \"client_statements\": " << static_cast<double>(c.executes + c.queries) / n
    << ", \"syncs\": " << static_cast<double>(c.syncs) / n
    << ", \"bytes_out\": " << static_cast<double>(c.bytes_out) / n
    << ", \"bytes_in\": " << static_cast<double>(c.bytes_in) / n;
  if (c.have_server) {
    o << ", \"server_statements\": " << static_cast<double>(c.server_statements) / n << ", \"by_statement\": [";
    bool first = true;
    for (const auto& [q, k] : c.by_statement) {
      o << (first ? "" : ", ") << "[" << json_string(q.substr(0, 160)) << ", " << static_cast<double>(k) / n << "]";
      first = false;
    }
    o << "]";
  }
  o << "}";
  return o.str();
}

/// Counts every selected operation on both sides of the fixture and writes OUT.json:
/// {"target": ..., "server_statements": bool, "ops": {op: {"raw": {...}, "tenantry": {...}}}}.
template <class Fixture>
void write_counts(Fixture& f, const std::string& conninfo, const std::string& target, const std::string& op,
                  std::size_t n, const std::string& out_path) {
  const ServerStatements server(conninfo);
  if (!server.available())
    std::fprintf(stderr, "tenantry-bench-callgrind: no pg_stat_statements (%s); counting the client side only\n",
                 server.why().c_str());
  std::ostringstream o;
  o << "{\"target\": " << json_string(target) << ", \"server_statements\": " << (server.available() ? "true" : "false")
    << ", \"ops\": {";
  bool first = true;
  for (Op o_ : all_ops) {
    const std::string name = op_name(o_);
    if (o_ == Op::insert_many_10000 || (op != "all" && op != name)) continue;
    const std::size_t calls = o_ == Op::insert_many_1000 ? std::max<std::size_t>(2, n / 50) : n;
    WireCounts raw, ten;
    with_runner(f.raw_side(), o_, true, [&](auto& r) { raw = count_calls(r, native_of(f.raw_side()), server, calls); });
    with_runner(f.tenantry_side(), o_, true,
                [&](auto& r) { ten = count_calls(r, native_of(f.tenantry_side()), server, calls); });
    check_raw(o_, raw);
    std::printf("%-22s round trips/call raw %6.1f tenantry %6.1f | statements/call raw %6.1f tenantry %6.1f%s\n",
                name.c_str(), static_cast<double>(raw.round_trips) / static_cast<double>(calls),
                static_cast<double>(ten.round_trips) / static_cast<double>(calls),
                static_cast<double>(raw.have_server ? raw.server_statements : raw.executes + raw.queries) /
                    static_cast<double>(calls),
                static_cast<double>(ten.have_server ? ten.server_statements : ten.executes + ten.queries) /
                    static_cast<double>(calls),
                server.available() ? " (server)" : " (client messages)");
    o << (first ? "" : ", ") << json_string(name) << ": {\"raw\": " << counts_json(raw)
      << ", \"tenantry\": " << counts_json(ten) << "}";
    first = false;
  }
  o << "}}\n";
  std::ofstream file(out_path);
  file << o.str();
  if (!file) throw std::runtime_error("cannot write " + out_path);
}

}  // namespace bench
