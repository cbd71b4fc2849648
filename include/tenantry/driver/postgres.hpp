// tenantry/driver/postgres.hpp - the PostgreSQL driver (libpq): an RAII connection, cached
// server-side prepared statements, typed binary binding and reading, and error mapping.
//
// The statement and connection interface is the one every tenantry driver implements (see
// driver/sqlite.hpp): bind_* with 1-based indexes, step(), column_* with 0-based columns,
// changes(), reset(). Repositories are templates over it, so the two drivers must stay in step.
//
// How values travel. Each statement is prepared once per connection without parameter types, so
// the server infers them from the SQL ("$1" compared with a UUID column is a uuid), and is
// described once to learn those types. A bound value is then encoded in the form the inferred
// type wants: the binary form for integers, floats, booleans, bytea, uuid and timestamps (exact,
// no parsing on either side, independent of DateStyle/TimeZone), the text bytes as they are for
// text-like types, and canonical text for everything else (numeric, date, enums, ...), which the
// server parses. Results are always requested in binary form and decoded per column type, so a
// timestamptz reads back as the exact microsecond that was stored whatever the session settings.
//
// Server-side statements are named after their text ("tenantry_" + 192 bits of its SHA-256,
// sql_registry.hpp), never after anything local to the process, so one name means one SQL text
// on every server session, whichever client prepared it there. PREPARE and DESCRIBE run in one
// transaction (one libpq pipeline, one round trip), so on one server session even behind a
// pooler; when the session already holds the name, what it holds is read in that transaction: a
// statement with our text is used, other text under our name is refused
// (StatementNameCollision) and never executed.
//
// Options::server_prepared = false never prepares on the server (PgBouncer in transaction
// pooling mode): every execution is a PQexecParams whose parameter types come from the bound
// values (int8, float8, bool, bytea, uuid, jsonb; text, and timestamps as ISO-8601 text, as
// "unknown" so the server infers the type from the SQL), and the server casts where the column
// type differs. With server_prepared = true behind such a pooler, no statement ever runs in
// place of another, but an execution inside a transaction fails (26000) when the pooler gave the
// transaction a server session that lacks the statement; outside a transaction it is prepared
// again and run on one session.
//
// Timestamps and time zones. A Timestamp is an instant. In a timestamptz it is stored as such;
// in a timestamp without time zone as its UTC wall clock, in every mode: binary (both types'
// binary form is microseconds since 2000-01-01), text ("...Z", whose zone timestamp input
// ignores) and unprepared (untyped text, parsed as the column's type). No path goes through the
// session's TimeZone, so a Timestamp reads back as written whatever TimeZone says.
//
// A Connection is used by one thread at a time. A connection the server dropped is marked broken
// and every later call throws ConnectionError at once; tenantry never reconnects on its own,
// because the open transaction (and its work) died with the old session.
#pragma once

#include "tenantry/driver/transaction.hpp"
#include "tenantry/error.hpp"
#include "tenantry/fwd.hpp"
#include "tenantry/observe.hpp"
#include "tenantry/sql_registry.hpp"
#include "tenantry/types.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <exception>
#include <functional>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace tenantry {
struct PgDialect;
}

namespace tenantry::pg {

namespace detail {
/// The org type a callable takes when it has one non-template call operator (a lambda with a
/// typed parameter, a function pointer, a std::function); void otherwise (a generic lambda).
template <class F>
struct org_parameter {
  using type = void;
};
template <class F>
  requires requires { &F::operator(); }
struct org_parameter<F> : org_parameter<decltype(&F::operator())> {};
template <class R, class A>
struct org_parameter<R (*)(A)> {
  using type = std::remove_cvref_t<A>;
};
template <class C, class R, class A>
struct org_parameter<R (C::*)(A)> : org_parameter<R (*)(A)> {};
template <class C, class R, class A>
struct org_parameter<R (C::*)(A) const> : org_parameter<R (*)(A)> {};
template <class C, class R, class A>
struct org_parameter<R (C::*)(A) noexcept> : org_parameter<R (*)(A)> {};
template <class C, class R, class A>
struct org_parameter<R (C::*)(A) const noexcept> : org_parameter<R (*)(A)> {};

/// True when F is meant for orgs of type O: it names O as its parameter, or it names none (a
/// generic lambda) and can be called with one. Never by conversion: an org type does not
/// convert to another.
template <class F, class O>
inline constexpr bool takes_org_type = std::is_same_v<typename org_parameter<F>::type, O> ||
                                       (std::is_void_v<typename org_parameter<F>::type> &&
                                        std::is_invocable_r_v<std::chrono::milliseconds, const F&, const O&>);
}  // namespace detail

/// Options::statement_timeout: the limit of each org, as one function per org type. Assigned
/// from a function of OrgId, TextOrgId or IntOrgId (or a generic lambda, for all three). Asked
/// for an org of a type it was not given a function for, it throws UsageError: an entity set
/// keyed differently from the function never runs without the limit unnoticed.
class OrgStatementTimeout {
 public:
  OrgStatementTimeout() = default;
  template <class F>
    requires(!std::is_same_v<std::remove_cvref_t<F>, OrgStatementTimeout> &&
             (detail::takes_org_type<std::remove_cvref_t<F>, OrgId> ||
              detail::takes_org_type<std::remove_cvref_t<F>, TextOrgId> ||
              detail::takes_org_type<std::remove_cvref_t<F>, IntOrgId>))
  OrgStatementTimeout(F&& f) {  // NOLINT(google-explicit-constructor): assigned like a std::function
    using Fn = std::remove_cvref_t<F>;
    if constexpr (detail::takes_org_type<Fn, OrgId>) uuid_ = f;
    if constexpr (detail::takes_org_type<Fn, TextOrgId>) text_ = f;
    if constexpr (detail::takes_org_type<Fn, IntOrgId>) int_ = f;
  }

  /// True when a function is set (for any org type).
  explicit operator bool() const noexcept { return uuid_ || text_ || int_; }

  /// The limit of org (0: none); UsageError when no function takes its org type.
  template <org_id_type O>
  std::chrono::milliseconds operator()(const O& org) const {
    const auto& fn = pick<O>();
    if (!fn)
      throw UsageError(std::string("tenantry: postgres: Options::statement_timeout has no function for ") +
                       (std::is_same_v<O, OrgId> ? "OrgId" : std::is_same_v<O, TextOrgId> ? "TextOrgId" : "IntOrgId") +
                       " orgs (it was set for another org type); org " + org.to_string() + " would run without its limit");
    return fn(org);
  }

 private:
  template <class O>
  const std::function<std::chrono::milliseconds(const O&)>& pick() const noexcept {
    if constexpr (std::is_same_v<O, OrgId>) return uuid_;
    else if constexpr (std::is_same_v<O, TextOrgId>) return text_;
    else return int_;
  }
  std::function<std::chrono::milliseconds(const OrgId&)> uuid_;
  std::function<std::chrono::milliseconds(const TextOrgId&)> text_;
  std::function<std::chrono::milliseconds(const IntOrgId&)> int_;
};

/// How a Connection talks to the server.
struct Options {
  /// Prepare each statement once per connection on the server (the fast path). Turn off behind
  /// a pooler that does not track prepared statements (PgBouncer in transaction pooling mode
  /// before 1.21, or with max_prepared_statements = 0): left on there it stays safe (statement
  /// names derive from the SQL text, so a server session never runs another statement in place
  /// of ours), but a statement run inside a transaction fails with 26000 whenever the pooler's
  /// server session for that transaction has not prepared it yet.
  bool server_prepared = true;
  /// Seconds to wait for the connection to be established; a connect_timeout in the conninfo
  /// takes precedence. 0 waits forever.
  int connect_timeout_s = 10;
  /// Row-level security: before every org-scoped repository operation, set app.current_org_id
  /// for the current transaction (set_config(..., true)), opening a transaction around the
  /// operation when none is open; an operation of one statement sends the set_config with it in
  /// one pipeline instead (one round trip, one implicit transaction: in_org_statement). Nothing
  /// outlives the transaction, so a pooled connection never carries one client's org into the
  /// next client's transaction.
  bool org_context = false;
  /// Schema per org (org_schema.hpp): before every org-scoped repository operation, make the
  /// org's schema the first on the search path for the current transaction
  /// (set_config('search_path', '"org_<hex>", public', true)), opening a transaction around the
  /// operation when none is open. The statements stay unqualified, so the same cached statement
  /// serves every org; the server re-parses a prepared statement when search_path changes. An
  /// org without a schema is refused with OrgNotProvisioned. Like org_context, nothing outlives
  /// the transaction; both may be on together.
  bool org_schemas = false;
  /// Told about every statement this connection executes (observe.hpp); null: nothing is.
  std::shared_ptr<StatementObserver> observer{};
  /// A per-org statement_timeout: before every org-scoped operation, the org's limit (0: none,
  /// the session's setting applies) is set for the current transaction with
  /// set_config('statement_timeout', $1, true), opening a transaction around the operation when
  /// none is open (as org_context does). A statement that runs longer is cancelled by the server
  /// and throws StatementTimeout. Transaction-local, so nothing reaches the next transaction:
  /// not the next lease of a pooled connection, not another client behind PgBouncer in
  /// transaction mode. Within one transaction, an operation for an org without a limit after
  /// one with a limit puts back the value the transaction began with. Set it to a function of
  /// the org type your entities use (`[](const OrgId&) {...}`, `[](const TextOrgId&) {...}`),
  /// or a generic lambda for every type; an operation for an org type it does not take is a
  /// UsageError (a limit is never skipped silently). See OrgStatementTimeout.
  OrgStatementTimeout statement_timeout{};
};

/// Type OIDs from PostgreSQL's catalog (pg_type.dat); they are fixed across server versions.
namespace oid {
inline constexpr Oid boolean = 16, bytea = 17, char_ = 18, name = 19, int8 = 20, int2 = 21, int4 = 23, text = 25,
                     oid = 26, json = 114, xml = 142, float4 = 700, float8 = 701, unknown = 705, bpchar = 1042,
                     varchar = 1043, date = 1082, time = 1083, timestamp = 1114, timestamptz = 1184,
                     interval = 1186, numeric = 1700, uuid = 2950, jsonb = 3802;
}  // namespace oid

class Connection;
class Statement;

/// What a connection's server-side prepared statements went through (Connection::
/// statement_stats()). Directly on a server, `found` and `lost` stay 0 unless the session's
/// statements were cleared; behind a pooler in transaction mode they count how often a server
/// session already had a statement (prepared there by another client) or lacked one.
struct StatementStats {
  std::uint64_t prepared = 0;    ///< statements this connection prepared on a server session
  std::uint64_t found = 0;       ///< found already prepared on the session, with the same text
  std::uint64_t lost = 0;        ///< executions that found the session without the statement (26000)
  std::uint64_t collisions = 0;  ///< names held on the session by other SQL: refused, never run
};

namespace detail {

struct ResultDeleter {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};
/// Every PGresult is owned by one of these, so no path (error or not) can leak one.
using Result = std::unique_ptr<PGresult, ResultDeleter>;

/// PostgreSQL counts timestamps and dates from 2000-01-01; tenantry::Timestamp from 1970-01-01.
inline constexpr std::int64_t pg_epoch_micros = 946684800LL * 1000000;
inline constexpr std::int64_t pg_epoch_days = 10957;
inline constexpr std::int64_t micros_per_day = 86400LL * 1000000;

inline std::string trimmed(const char* message) {
  std::string s = message != nullptr ? message : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
  return s;
}

/// The state a Connection shares with its statements. It lives on the heap so that a Connection
/// can be moved (into a Database, a pool) while its cached statements keep pointing at it.
struct Session {
  PGconn* conn = nullptr;
  bool server_prepared = true;
  std::string broken;  // why the connection became unusable; empty while it works
  StatementStats stats;
  tenantry::detail::StatementWatch watch;  // observe.hpp
  bool streaming = false;  // a statement's streamed rows are pending (Statement::stream_next_execution)
  // A one-statement operation's org (Connection::pipeline_org): while armed, the next execution
  // sends set_config(app.current_org_id, org_text, true) before itself in one pipeline (one
  // round trip, one implicit transaction); once that execution succeeded it is spent, and any
  // further execution is refused instead of running without the org. Off outside such an operation.
  enum class Prelude : std::uint8_t { off, armed, spent };
  Prelude prelude = Prelude::off;
  std::array<char, 36> prelude_org{};

  Session() = default;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session() {
    if (conn != nullptr) PQfinish(conn);
  }

  /// Throws ConnectionError when the connection is known to be gone. libpq itself would answer
  /// a dead connection with an error too; checking first gives one consistent exception and
  /// never sends anything on a socket we already know is dead.
  void ensure_usable() {
    if (!streaming && broken.empty() && PQstatus(conn) == CONNECTION_OK) [[likely]]
      return;
    unusable();
  }
  // The errors out of line, so that the check above inlines into every execution.
  [[noreturn, gnu::cold, gnu::noinline]] void unusable() {
    if (streaming)
      throw UsageError("tenantry: postgres: a query's rows are being streamed on this connection (for_each_row); "
                       "nothing else can run on it until they are read: use another connection, or fetch() the rows "
                       "first");
    if (broken.empty()) broken = trimmed(PQerrorMessage(conn));
    throw ConnectionError("tenantry: postgres: the connection is broken (" + broken + "); open a new one", "08003");
  }
};

/// A result that ends a COPY we did not ask for: libpq would otherwise stay in COPY mode and
/// refuse every later command on this connection.
inline bool abandon_copy(PGconn* conn, ExecStatusType status) {
  if (status != PGRES_COPY_IN && status != PGRES_COPY_OUT && status != PGRES_COPY_BOTH) return false;
  if (status != PGRES_COPY_OUT) PQputCopyEnd(conn, "tenantry: COPY FROM STDIN is not supported");
  if (status != PGRES_COPY_IN) {
    char* buffer = nullptr;
    while (PQgetCopyData(conn, &buffer, 0) > 0) PQfreemem(buffer);
  }
  while (PGresult* r = PQgetResult(conn)) PQclear(r);
  return true;
}

inline std::string sqlstate(const PGresult* r) {
  const char* s = r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  return s != nullptr ? s : "";
}

/// Throws the tenantry exception matching a failed result (or a null one: libpq could not even
/// send). Marks the session broken when the failure was the connection's.
[[noreturn]] inline void throw_error(Session& s, const PGresult* r, std::string_view sql) {
  const auto field = [&](int code) -> std::string {
    const char* v = r != nullptr ? PQresultErrorField(r, code) : nullptr;
    return v != nullptr ? v : "";
  };
  const std::string code = field(PG_DIAG_SQLSTATE);
  std::string primary = field(PG_DIAG_MESSAGE_PRIMARY);
  if (primary.empty() && r != nullptr) primary = trimmed(PQresultErrorMessage(r));
  if (primary.empty()) primary = trimmed(PQerrorMessage(s.conn));
  if (primary.empty()) primary = "unknown error";
  std::string what = "tenantry: postgres: " + primary;
  if (const std::string d = field(PG_DIAG_MESSAGE_DETAIL); !d.empty()) what += "; DETAIL: " + d;
  if (const std::string h = field(PG_DIAG_MESSAGE_HINT); !h.empty()) what += "; HINT: " + h;
  if (!sql.empty()) what += " (while executing: " + std::string(sql.substr(0, 200)) + ")";

  // Class 08 is a connection exception, except 08P01 (protocol violation) which the server also
  // reports for a malformed request on a healthy connection (e.g. a wrong parameter count).
  // 57P01-57P03 end the session too: the server is shutting down or restarting (pg_ctl stop or
  // restart, pg_terminate_backend), crashed, or not accepting connections yet.
  const bool connection_class = (code.starts_with("08") && code != "08P01") || code == "57P01" ||
                                code == "57P02" || code == "57P03";
  if (PQstatus(s.conn) != CONNECTION_OK || connection_class) {
    if (s.broken.empty()) s.broken = primary;
    throw ConnectionError(what, code.empty() ? "08006" : code);
  }
  if (code.starts_with("23")) {
    std::string table = field(PG_DIAG_TABLE_NAME), constraint = field(PG_DIAG_CONSTRAINT_NAME);
    if (code == "23505") throw UniqueViolation(what, code, std::move(table), std::move(constraint));
    if (code == "23503") throw ForeignKeyViolation(what, code, std::move(table), std::move(constraint));
    if (code == "23514") throw CheckViolation(what, code, std::move(table), std::move(constraint));
    if (code == "23502") {
      NotNullViolation e(what, code, std::move(table), std::move(constraint));
      if (std::string column = field(PG_DIAG_COLUMN_NAME); !column.empty()) e.set_columns({std::move(column)});
      throw e;
    }
    throw ConstraintViolation(what, code, std::move(table), std::move(constraint));  // exclusion, ...
  }
  // lock_timeout / NOWAIT: a lock stayed taken past the time we agreed to wait, which is what
  // BusyError means for SQLite's busy timeout.
  if (code == "55P03") throw BusyError(what, code);
  // query_canceled: by statement_timeout (the server says so in its message, in English unless
  // lc_messages says otherwise), or by a cancel request.
  if (code == "57014") {
    if (primary.find("statement timeout") != std::string::npos) throw StatementTimeout(what, code);
    throw QueryCanceled(what, code);
  }
  if (code == "53100") throw StorageFull(what, code);
  if (code == "25006") throw ReadOnlyError(what, code);
  // A row-level security policy of tenantry's read the org context and found none (ddl.hpp,
  // rls_current_org_sql). The setting's name is in the message whatever the server's language.
  if (code == "42704" && primary.find(org_setting_missing) != std::string::npos) {
    throw OrgContextMissing("tenantry: postgres: no org context: a row-level security policy needs " +
                                std::string(org_setting) +
                                " and it is not set (connect with pg::Options::org_context, or set it in the "
                                "transaction); nothing was read or written. " +
                                what.substr(std::string_view("tenantry: postgres: ").size()),
                            code);
  }
  throw DatabaseError(what, code);
}

/// Runs a command without parameters through the simple query protocol (several statements
/// allowed). Returns the last statement's result.
inline Result exec_simple(Session& s, const char* sql) {
  s.ensure_usable();
  Result r(PQexec(s.conn, sql));
  const ExecStatusType status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY) return r;
  if (abandon_copy(s.conn, status)) {
    throw UsageError("tenantry: postgres: COPY ... FROM STDIN / TO STDOUT is not supported by execute(); use "
                     "native() with libpq's COPY functions");
  }
  throw_error(s, r.get(), sql);
}

// ---- binary wire formats: big-endian (network order) integers and IEEE floats ---------------

// A byte swap and one copy (compilers do not turn the byte-at-a-time loop into that).
template <class U>
constexpr U to_big_endian(U v) noexcept {
  static_assert(std::is_unsigned_v<U> && (sizeof(U) == 1 || sizeof(U) == 2 || sizeof(U) == 4 || sizeof(U) == 8));
  if constexpr (std::endian::native == std::endian::big || sizeof(U) == 1) return v;
  else if constexpr (sizeof(U) == 2) return __builtin_bswap16(v);
  else if constexpr (sizeof(U) == 4) return __builtin_bswap32(v);
  else return __builtin_bswap64(v);
}
template <class U>
inline void put_be(char* out, U v) noexcept {
  v = to_big_endian(v);
  std::memcpy(out, &v, sizeof(U));
}
template <class U>
inline U get_be(const char* p) noexcept {
  U v;
  std::memcpy(&v, p, sizeof(U));
  return to_big_endian(v);
}

/// Text-like types whose binary form is just the text bytes, so text bound to them needs neither
/// a copy nor a terminating NUL (libpq reads text-format values up to a NUL, binary ones by length).
[[gnu::always_inline]] constexpr bool text_bytes_type(Oid t) noexcept {
  return t == oid::text || t == oid::varchar || t == oid::bpchar || t == oid::name || t == oid::json;
}
/// Types column_text reads (their binary form is text; jsonb's after a version byte).
[[gnu::always_inline]] constexpr bool readable_as_text(Oid t) noexcept {
  return text_bytes_type(t) || t == oid::jsonb || t == oid::xml || t == oid::unknown || t == oid::char_;
}

/// The element type of a one-dimensional array type with a binary form the driver writes
/// (Statement::bind_array), or 0.
constexpr Oid array_element_type(Oid array) noexcept {
  switch (array) {
    case 1000: return oid::boolean;
    case 1001: return oid::bytea;
    case 1003: return oid::name;
    case 1005: return oid::int2;
    case 1007: return oid::int4;
    case 1009: return oid::text;
    case 1014: return oid::bpchar;
    case 1015: return oid::varchar;
    case 1016: return oid::int8;
    case 1021: return oid::float4;
    case 1022: return oid::float8;
    case 1115: return oid::timestamp;
    case 1185: return oid::timestamptz;
    case 199: return oid::json;
    case 2951: return oid::uuid;
    case 3807: return oid::jsonb;
    default: return 0;
  }
}

inline std::string type_label(Oid t) {
  switch (t) {
    case oid::boolean: return "boolean";
    case oid::bytea: return "bytea";
    case oid::char_: return "\"char\"";
    case oid::name: return "name";
    case oid::int8: return "bigint";
    case oid::int2: return "smallint";
    case oid::int4: return "integer";
    case oid::text: return "text";
    case oid::oid: return "oid";
    case oid::json: return "json";
    case oid::xml: return "xml";
    case oid::float4: return "real";
    case oid::float8: return "double precision";
    case oid::unknown: return "unknown";
    case oid::bpchar: return "character";
    case oid::varchar: return "character varying";
    case oid::date: return "date";
    case oid::time: return "time";
    case oid::timestamp: return "timestamp";
    case oid::timestamptz: return "timestamptz";
    case oid::interval: return "interval";
    case oid::numeric: return "numeric";
    case oid::uuid: return "uuid";
    case oid::jsonb: return "jsonb";
    default: return "type oid " + std::to_string(t);
  }
}

}  // namespace detail

/// A statement owned by a Connection. Bind with 1-based indexes, step() to execute and advance,
/// read with 0-based columns; reset() before reuse (StatementScope does it for you).
///
/// Text, JSON and blobs are bound by pointer where the wire allows it: the caller keeps them
/// alive until the statement is reset, as with the SQLite driver. Everything else is encoded into
/// per-parameter buffers that keep their capacity across executions, so a warm statement binds
/// without allocating.
class Statement {
 public:
  /// The dialect a value type may need to know when it binds (Decimal<P, S>, sql_types.hpp).
  static constexpr bool is_postgres = true;

  Statement(detail::Session& session, const Sql& sql) : session_(&session) {
    if (sql.text == nullptr) throw UsageError("tenantry: postgres: prepare() of an empty Sql");
    sql_ = sql.text;
    name_ = sql.name != nullptr ? *sql.name : sql_statement_name(*sql.text);
    if (session.server_prepared) prepare_on_server();
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // ---- binding (1-based) ----------------------------------------------------------------------
  void bind_null(int i) { bind(i, Value::null, [](Param&) {}); }
  [[gnu::always_inline]] void bind_int(int i, std::int64_t v) {
    const std::size_t k = static_cast<std::size_t>(i) - 1;
    if (natural(k, oid::int8)) [[likely]] {
      Param& p = params_[k];
      p.value = Value::integer;
      p.i = v;
      detail::put_be(p.small.data(), static_cast<std::uint64_t>(v));
      return wire(k, p.small.data(), 8);
    }
    bind(i, Value::integer, [&](Param& p) { p.i = v; });
  }
  void bind_double(int i, double v) { bind(i, Value::real, [&](Param& p) { p.d = v; }); }
  void bind_bool(int i, bool v) { bind(i, Value::boolean, [&](Param& p) { p.i = v ? 1 : 0; }); }
  [[gnu::always_inline]] void bind_text(int i, std::string_view v) {
    // The common case first: a text column, the caller's bytes sent as they are.
    const std::size_t k = static_cast<std::size_t>(i) - 1;
    if (natural(k, oid::text)) [[likely]] {
      if (v.size() >= static_cast<std::size_t>(std::numeric_limits<int>::max()) ||
          (!v.empty() && std::memchr(v.data(), '\0', v.size()) != nullptr)) [[unlikely]]
        return bind(i, Value::text, [&](Param& q) { q.ext = sized_bytes(v); });  // its error
      Param& p = params_[k];
      p.value = Value::text;
      p.ext = v;
      // Any non-null pointer for empty text: a null one is sent as NULL.
      return wire(k, v.empty() ? "" : v.data(), static_cast<int>(v.size()));
    }
    bind(i, Value::text, [&](Param& p) { p.ext = sized_bytes(v); });
  }
  /// JSON text: refused with ValueError unless it is one JSON document (json_error()).
  void bind_json(int i, std::string_view v) {
    tenantry::detail::require_json(v, i);
    bind(i, Value::json, [&](Param& p) { p.ext = sized_bytes(v); });
  }
  void bind_blob(int i, std::span<const std::byte> v) {
    const std::string_view bytes(reinterpret_cast<const char*>(v.data()), v.size());
    bind(i, Value::blob, [&](Param& p) { p.ext = sized_bytes(bytes); });
  }
  [[gnu::always_inline]] void bind_uuid(int i, const Uuid& v) {
    const std::size_t k = static_cast<std::size_t>(i) - 1;
    if (natural(k, oid::uuid)) [[likely]] {
      Param& p = params_[k];
      p.value = Value::uuid;
      p.uuid = v.bytes;  // uuid's binary form is its 16 bytes: sent from here
      return wire(k, reinterpret_cast<const char*>(p.uuid.data()), 16);
    }
    bind(i, Value::uuid, [&](Param& p) { p.uuid = v.bytes; });
  }
  [[gnu::always_inline]] void bind_timestamp(int i, Timestamp v) {
    // The same range SQLite's ISO text can hold, so a value is storable in both or in neither.
    if (v.micros < Timestamp::min_micros || v.micros > Timestamp::max_micros)
      throw ValueError("tenantry: timestamp outside years 0001-9999: " + std::to_string(v.micros) + " us");
    const std::size_t k = static_cast<std::size_t>(i) - 1;
    if (natural(k, oid::timestamptz)) [[likely]] {
      Param& p = params_[k];
      p.value = Value::timestamp;
      p.i = v.micros;
      detail::put_be(p.small.data(), static_cast<std::uint64_t>(v.micros - detail::pg_epoch_micros));
      return wire(k, p.small.data(), 8);
    }
    bind(i, Value::timestamp, [&](Param& p) { p.i = v.micros; });
  }

  /// Executes on the first call (with the bound parameters), then advances through the result.
  /// True while a row is available; false once the rows are exhausted, until reset().
  /// Inline: a row loop calls it once per row.
  [[gnu::always_inline]] bool step() {
    if (session_->watch.observer != nullptr && !observed_.stepping) [[unlikely]] return observed_step();
    if (stream_ != Stream::off) return stream_step();
    if (!result_) {
      execute();
      row_ = 0;
    } else if (row_ < rows_) {
      ++row_;
    }
    return row_ < rows_;
  }

  /// Rows affected by the last execution (INSERT/UPDATE/DELETE/MERGE; rows returned for SELECT).
  std::int64_t changes() const {
    if (!result_) return 0;
    // PQcmdTuples: the count's decimal digits, or "" for commands without one.
    std::int64_t v = 0;
    for (const char* d = PQcmdTuples(result_.get()); *d >= '0' && *d <= '9'; ++d) v = v * 10 + (*d - '0');
    return v;
  }

  // ---- reading (0-based), valid after step() returned true -----------------------------------
  int column_count() const { return result_ ? PQnfields(result_.get()) : described_columns_; }
  [[gnu::always_inline]] bool column_is_null(int c) const {
    check_cell(c);
    return PQgetisnull(result_.get(), row_, c) != 0;
  }
  [[gnu::always_inline]] std::int64_t column_int(int c) const {
    const Cell v = cell(c, "an integer");
    switch (v.type) {
      case oid::int8: return static_cast<std::int64_t>(detail::get_be<std::uint64_t>(sized(v, 8)));
      case oid::int4: return static_cast<std::int32_t>(detail::get_be<std::uint32_t>(sized(v, 4)));
      case oid::int2: return static_cast<std::int16_t>(detail::get_be<std::uint16_t>(sized(v, 2)));
      case oid::oid: return detail::get_be<std::uint32_t>(sized(v, 4));
      case oid::numeric: return numeric_to_int(v);
      default: mistyped(v, "an integer");
    }
  }
  double column_double(int c) const {
    const Cell v = cell(c, "a number");
    switch (v.type) {
      case oid::float8: return std::bit_cast<double>(detail::get_be<std::uint64_t>(sized(v, 8)));
      case oid::float4: return std::bit_cast<float>(detail::get_be<std::uint32_t>(sized(v, 4)));
      case oid::numeric: return numeric_to_double(v);
      case oid::int8:
      case oid::int4:
      case oid::int2:
      case oid::oid: return static_cast<double>(column_int(c));
      default: mistyped(v, "a number");
    }
  }
  bool column_bool(int c) const {
    const Cell v = cell(c, "a boolean");
    if (v.type == oid::boolean) return *sized(v, 1) != 0;
    if (v.type != oid::int2 && v.type != oid::int4 && v.type != oid::int8) mistyped(v, "a boolean");
    // An integer 0/1, as the SQLite driver reads booleans.
    const std::int64_t i = column_int(c);
    if (i != 0 && i != 1) throw ValueError("tenantry: stored boolean is " + std::to_string(i) + ", not 0 or 1");
    return i != 0;
  }
  /// Text-like columns only (text, varchar, char(n), name, json, jsonb, xml) and bytea's raw
  /// bytes; a NULL reads as empty. Valid until reset(). Cast other types to text in the SQL.
  [[gnu::always_inline]] std::string_view column_text(int c) const {
    const Cell v = cell_or_null(c);
    if (v.data == nullptr) return {};
    if (!detail::readable_as_text(v.type) && v.type != oid::bytea) mistyped(v, "text (cast it with ::text in the SQL)");
    return text_of(v);
  }
  /// bytea (and the bytes of text-like columns); a NULL reads as empty. Valid until reset().
  std::span<const std::byte> column_blob(int c) const {
    const Cell v = cell_or_null(c);
    if (v.data == nullptr) return {};
    if (!detail::readable_as_text(v.type) && v.type != oid::bytea) mistyped(v, "bytes");
    const std::string_view t = text_of(v);
    return {reinterpret_cast<const std::byte*>(t.data()), t.size()};
  }
  /// A number as decimal text, for the exact decimal types (Decimal<P, S>, sql_types.hpp): a
  /// numeric exactly, with its scale's decimals, as the server prints it ("-12.30"); an integer as
  /// its digits; a float4/float8 as the shortest text that reads back as the same value; text-like
  /// types as stored. NaN and infinities are ValueErrors. Valid until the next call or reset().
  std::string_view column_number_text(int c) const {
    const Cell v = cell(c, "a number");
    std::string& text = scratch_;
    char buf[40];
    std::to_chars_result r{buf, std::errc{}};
    switch (v.type) {
      case oid::numeric: {
        const Numeric n = numeric(v);
        const int dscale = static_cast<std::int16_t>(detail::get_be<std::uint16_t>(v.data + 6));
        // Digit group k is worth 10000^(weight - k): the integer part is groups 0..weight.
        const auto group = [&](int k) { return k >= 0 && k < n.ndigits ? n.digit(k) : 0; };
        text.assign(n.sign == 0x4000 ? "-" : "");
        if (n.weight < 0) text += '0';
        for (int k = 0; k <= n.weight; ++k) {
          const std::string g = std::to_string(group(k));
          if (k > 0) text.append(4 - g.size(), '0');
          text += g;
        }
        if (dscale > 0) {
          text += '.';
          std::string fraction;
          for (int k = n.weight + 1; static_cast<int>(fraction.size()) < dscale; ++k) {
            const std::string g = std::to_string(group(k));
            fraction.append(4 - g.size(), '0');
            fraction += g;
          }
          text.append(fraction, 0, static_cast<std::size_t>(dscale));
        }
        return text;
      }
      case oid::int8:
      case oid::int4:
      case oid::int2: r = std::to_chars(buf, buf + sizeof buf, column_int(c)); break;
      case oid::float8:
      case oid::float4: {
        const double d = column_double(c);
        if (!std::isfinite(d)) throw ValueError("tenantry: column '" + column_name(c) + "' holds a NaN or infinity");
        r = v.type == oid::float4 ? std::to_chars(buf, buf + sizeof buf, static_cast<float>(d))
                                  : std::to_chars(buf, buf + sizeof buf, d);
        break;
      }
      default:
        if (!detail::readable_as_text(v.type)) mistyped(v, "a number");
        return text_of(v);
    }
    text.assign(buf, r.ptr);
    return text;
  }
  [[gnu::always_inline]] Uuid column_uuid(int c) const {
    const Cell v = cell(c, "a UUID");
    if (v.type == oid::uuid || (v.type == oid::bytea && v.size == 16)) {
      Uuid u;
      std::memcpy(u.bytes.data(), sized(v, 16), 16);
      return u;
    }
    if (!detail::readable_as_text(v.type)) mistyped(v, "a UUID");
    return Uuid::parse(text_of(v));
  }
  /// The name of result column c, for messages.
  std::string column_name(int c) const {
    const char* n = result_ ? PQfname(result_.get(), c) : nullptr;
    return n != nullptr ? n : "?";
  }
  [[gnu::always_inline]] Timestamp column_timestamp(int c) const {
    const Cell v = cell(c, "a timestamp");
    std::int64_t micros = 0;
    switch (v.type) {
      case oid::timestamptz:
      case oid::timestamp: {
        const auto pg = static_cast<std::int64_t>(detail::get_be<std::uint64_t>(sized(v, 8)));
        // +-infinity are stored as the extreme int64 values and fall outside the range below.
        if (__builtin_add_overflow(pg, detail::pg_epoch_micros, &micros)) out_of_range(v);
        break;
      }
      case oid::date: {
        const auto days = static_cast<std::int32_t>(detail::get_be<std::uint32_t>(sized(v, 4)));
        if (__builtin_mul_overflow(std::int64_t{days} + detail::pg_epoch_days, detail::micros_per_day, &micros))
          out_of_range(v);
        break;
      }
      case oid::int2:
      case oid::int4:
      case oid::int8:  // unix seconds, as the SQLite driver reads integers
        if (__builtin_mul_overflow(column_int(c), std::int64_t{1000000}, &micros)) out_of_range(v);
        break;
      default:
        if (!detail::readable_as_text(v.type)) mistyped(v, "a timestamp");
        return Timestamp::parse(text_of(v));
    }
    if (micros < Timestamp::min_micros || micros > Timestamp::max_micros) out_of_range(v);
    return Timestamp{micros};
  }

  /// Forgets the bound parameters and the result. Buffers keep their capacity.
  /// Inline: every statement ends with it. What only some uses leave behind (an observed
  /// execution, a stream, kept temporaries) is ended out of line, first, as before.
  [[gnu::always_inline]] void reset() noexcept {
    if (observed_.state() != tenantry::detail::Execution::State::idle || stream_ != Stream::off || !kept_.empty())
        [[unlikely]]
      reset_rare();
    result_.reset();
    row_ = rows_ = columns_ = 0;
    // A null value pointer is an unbound parameter (sent as NULL): that is all a parameter's
    // state needs, since what a slot held is read again only for a pointer that is set.
    clear_values();
    if (!types_.empty()) [[unlikely]]
      std::fill(types_.begin(), types_.end(), Oid{0});
  }

  /// Keeps `value` alive until reset() and returns a view of it, for binding a temporary.
  std::string_view keep(std::string value) { return kept_.emplace_back(std::move(value)); }

  /// Binds parameter i as a one-dimensional array of n elements, for SQL that casts it
  /// ($i::uuid[] in `= ANY($i::uuid[])` or `unnest($i::uuid[], ...)`): element(elements, k) binds
  /// element k with the ArrayElements' bind_* calls. Sent in binary when the server described
  /// the parameter as an array of a type whose binary form the driver writes (and every element
  /// has one), in the text form {"...", NULL} otherwise, which the server parses as the cast's
  /// type. Every element is checked as a scalar parameter would be (NUL in text, JSON, ranges).
  template <class F>
  void bind_array(int i, std::size_t n, F&& element) {
    Param& p = slot(i);
    p.clear();
    publish(static_cast<std::size_t>(i - 1));  // unbound until the array is complete
    const Oid target = session_->server_prepared ? detail::array_element_type(param_types_[static_cast<std::size_t>(i - 1)]) : 0;
    try {
      if (target != 0 && fill_array(p.owned, i, n, target, element)) {
        p.format = 1;
      } else {
        fill_array(p.owned, i, n, 0, element);
        p.format = 0;
      }
    } catch (...) {
      p.clear();
      publish(static_cast<std::size_t>(i - 1));
      throw;
    }
    p.value = Value::array;
    p.where = Where::owned;
    p.length = static_cast<int>(p.owned.size());
    p.type = 0;  // the SQL's cast gives the type
    publish(static_cast<std::size_t>(i - 1));
  }

  /// Makes the next execution deliver its rows one at a time (libpq's single-row mode), for
  /// for_each_row: each step() then holds only the current row, so a result of any size is read
  /// in constant memory. While rows are pending, libpq has this query in flight and the
  /// connection can run nothing else: any other statement, transaction command or prepare on
  /// it throws UsageError until the last row has been read or reset() has drained the rest.
  /// reset() reads what is left (it does not cancel, which would abort an open transaction).
  void stream_next_execution() noexcept {
    if (stream_ == Stream::off) stream_ = Stream::requested;
  }

  /// The server-side name ("tenantry_" and 48 hex digits of the text's SHA-256, see
  /// sql_registry.hpp), the current result, and the parameter types the server inferred (empty
  /// without server-side preparation).
  const std::string& name() const noexcept { return name_; }
  const PGresult* result() const noexcept { return result_.get(); }
  std::span<const Oid> param_types() const noexcept { return param_types_; }

  // ---- pipelined batches (Connection::run_pipelined, batch.hpp) ------------------------------
  // A batch binds, queues and resets each statement in turn inside one libpq pipeline, and
  // hands each its result once the pipeline's sync point has been read. These sit beside
  // step()'s path (execute, send, take) rather than in it.

  /// Prepares and describes the statement on the server now, when it is not (a statement
  /// cannot be prepared in the middle of a pipeline, and binding needs its parameter types).
  void prepare_for_pipeline() {
    session_->ensure_usable();
    if (session_->server_prepared && !prepared_) prepare_on_server();
  }
  /// True when the statement can be queued as it is (prepared on the server, or never is).
  bool ready_for_pipeline() const noexcept { return !session_->server_prepared || prepared_; }
  /// Makes prepare_for_pipeline() prepare (or find) the statement on the server again: for a
  /// pipeline that failed because a server session lacked one of its statements, which only the
  /// first of them could tell.
  void prepare_again() noexcept { prepared_ = false; }

  /// Queues one execution with the bound parameters in the connection's open pipeline (results
  /// in binary, as step() asks for them). False when libpq could not queue it. The parameters
  /// are copied into libpq's buffer here: the statement may be reset and bound again at once.
  bool queue_in_pipeline() {
#ifdef LIBPQ_HAS_PIPELINING
    detail::Session& s = *session_;
    const int count = static_cast<int>(values_.size());  // libpq's arrays, filled as each value was bound
    return (s.server_prepared ? PQsendQueryPrepared(s.conn, name_.c_str(), count, values_.data(), lengths_.data(),
                                                    formats_.data(), 1)
                              : PQsendQueryParams(s.conn, sql_->c_str(), count, types_.data(), values_.data(),
                                                  lengths_.data(), formats_.data(), 1)) == 1;
#else
    return false;
#endif
  }

  /// Takes the result of this statement's queued execution as step() takes its own: a failed
  /// one throws the typed error step() would (a server session that lost the statement marks
  /// it to be prepared again), a successful one becomes the current result. True when it has a
  /// row, which is then current: read it with column_*() (step() moves to the next row).
  ///
  /// With a statement observer (observe.hpp) the execution is reported here, when its result
  /// is taken: its rows, changes or error are its own, its duration only the reading of its
  /// result (the round trip is the whole pipeline's, not one statement's).
  bool take_pipelined(detail::Result r) {
    detail::Session& s = *session_;
    const bool observed = s.watch.observer != nullptr && !s.watch.in_hook;
    if (observed) [[unlikely]]
      observed_.begin(s.watch);
    if (!succeeded(r)) {
      if (s.server_prepared && detail::sqlstate(r.get()) == "26000") {
        ++s.stats.lost;
        prepared_ = false;
      }
      try {
        detail::throw_error(s, r.get(), *sql_);
      } catch (const std::exception& e) {
        if (observed) end_observed(true, &e);
        throw;
      }
    }
    rows_ = PQntuples(r.get());
    result_ = std::move(r);
    row_ = 0;
    read_columns();
    if (observed) [[unlikely]]
      end_observed(false, nullptr);
    return rows_ > 0;
  }

 private:
  // array: an encoded array parameter (bind_array), never encoded again.
  enum class Value : std::uint8_t { null, integer, real, boolean, text, json, blob, uuid, timestamp, array };
  enum class Where : std::uint8_t { null, small, owned, external };

  struct Param {
    // What was bound, kept so the value can be encoded again if the server's type changes.
    Value value = Value::null;
    std::int64_t i = 0;  // integer, boolean (0/1), timestamp (unix micros)
    double d = 0;
    std::string_view ext;  // text, json, blob: the caller's bytes
    std::array<std::uint8_t, 16> uuid{};
    // Its wire form: where the bytes are, their length, text (0) or binary (1), and the type
    // sent with it (only without server-side preparation).
    Where where = Where::null;
    int length = 0;
    int format = 0;
    Oid type = 0;
    std::array<char, 40> small{};  // fixed-size encodings: numbers, uuid, timestamps
    std::string owned;             // copies (NUL-terminated text, jsonb's version byte)

    void clear() noexcept {
      value = Value::null;
      where = Where::null;
      type = 0;
      ext = {};
    }
    const char* data() const noexcept {
      switch (where) {
        case Where::small: return small.data();
        case Where::owned: return owned.c_str();
        case Where::external: return ext.empty() ? small.data() : ext.data();  // never null: null means SQL NULL
        case Where::null: break;
      }
      return nullptr;
    }
  };

  struct Cell {
    const char* data;
    int size;
    Oid type;
    int column;
  };

 public:
  /// The elements of an array parameter (bind_array): the same bind_* calls as a statement's,
  /// so bind_value(elements, 0, v) binds any storable value as the next element.
  class ArrayElements {
   public:
    static constexpr bool is_postgres = true;
    void bind_null(int) { add(Value::null, [](Param&) {}); }
    void bind_int(int, std::int64_t v) { add(Value::integer, [&](Param& p) { p.i = v; }); }
    void bind_double(int, double v) { add(Value::real, [&](Param& p) { p.d = v; }); }
    void bind_bool(int, bool v) { add(Value::boolean, [&](Param& p) { p.i = v ? 1 : 0; }); }
    void bind_text(int, std::string_view v) { add(Value::text, [&](Param& p) { p.ext = sized_bytes(v); }); }
    void bind_json(int, std::string_view v) {
      tenantry::detail::require_json(v, index_);
      add(Value::json, [&](Param& p) { p.ext = sized_bytes(v); });
    }
    void bind_blob(int, std::span<const std::byte> v) {
      const std::string_view bytes(reinterpret_cast<const char*>(v.data()), v.size());
      add(Value::blob, [&](Param& p) { p.ext = sized_bytes(bytes); });
    }
    void bind_uuid(int, const Uuid& v) { add(Value::uuid, [&](Param& p) { p.uuid = v.bytes; }); }
    void bind_timestamp(int, Timestamp v) {
      if (v.micros < Timestamp::min_micros || v.micros > Timestamp::max_micros)
        throw ValueError("tenantry: timestamp outside years 0001-9999: " + std::to_string(v.micros) + " us");
      add(Value::timestamp, [&](Param& p) { p.i = v.micros; });
    }
    std::string_view keep(std::string value) { return s_.keep(std::move(value)); }

   private:
    friend class Statement;
    ArrayElements(Statement& s, int index, Oid element, std::string& out) : s_(s), index_(index), element_(element), out_(out) {}
    template <class Set>
    void add(Value value, Set&& set) {
      e_.clear();
      e_.value = value;
      set(e_);
      if (element_ != 0) s_.append_binary_element(e_, element_, index_, out_, has_null_, binary_ok_);
      else s_.append_text_element(e_, index_, out_, count_);
      ++count_;
    }
    Statement& s_;
    int index_;
    Oid element_;  // binary elements of this type; 0: the text form {...}
    std::string& out_;
    Param e_;
    std::size_t count_ = 0;
    bool has_null_ = false, binary_ok_ = true;
  };

 private:

  // The general path (conversions, errors), out of line: the bind_* fast paths inline.
  template <class Set>
  [[gnu::noinline]] void bind(int i, Value value, Set&& set) {
    Param& p = slot(i);
    const auto k = static_cast<std::size_t>(i - 1);
    p.clear();
    p.value = value;
    try {
      set(p);
      encode(p, i);
    } catch (...) {
      p.clear();
      publish(k);
      throw;
    }
    publish(k);
  }

  /// Whether parameter k (0-based) was described by the server as `type`, the one type a
  /// bind_* call's value is sent as without conversion: its fast path, the same wire form
  /// encode() would choose, written straight into libpq's arrays (wire()). param_types_ is
  /// filled only by a description, so never without server-side preparation; a k from an index
  /// below 1 wraps past any size.
  [[gnu::always_inline]] bool natural(std::size_t k, Oid type) const noexcept {
    return k < param_types_.size() && param_types_[k] == type;
  }
  /// Parameter k's wire form, in binary, in the arrays handed to libpq.
  [[gnu::always_inline]] void wire(std::size_t k, const char* data, int length) noexcept {
    values_[k] = data;
    lengths_[k] = length;
    formats_[k] = 1;
  }
  /// reset()'s rarer half, before the result goes: the observer told of the execution (it reads
  /// the result), a streamed query's rest read, the temporaries bound by pointer released.
  [[gnu::noinline]] void reset_rare() noexcept {
    if (observed_.state() != tenantry::detail::Execution::State::idle) end_observed_at_reset();
    if (stream_ != Stream::off) end_stream();
    if (!kept_.empty()) kept_.clear();
  }
  /// Every parameter unbound again (reset()). Most statements have a handful of parameters:
  /// those are cleared with plain stores, where std::fill would call memset for each reset;
  /// longer lists take the fill. Every pointer is cleared either way.
  [[gnu::always_inline]] void clear_values() noexcept {
    const char** v = values_.data();
    switch (values_.size()) {
      case 4: v[3] = nullptr; [[fallthrough]];
      case 3: v[2] = nullptr; [[fallthrough]];
      case 2: v[1] = nullptr; [[fallthrough]];
      case 1: v[0] = nullptr; [[fallthrough]];
      case 0: break;
      default: std::fill(values_.begin(), values_.end(), nullptr);
    }
  }
  /// Parameter k's wire form as its slot describes it (the general path, bind_array).
  void publish(std::size_t k) noexcept {
    const Param& p = params_[k];
    values_[k] = p.data();
    lengths_[k] = p.length;
    formats_[k] = p.format;
    if (!types_.empty()) types_[k] = p.type;  // only without server-side preparation
  }
  /// The slots and libpq's arrays sized for n parameters, the arrays pointing into the slots
  /// again (resizing may move them): every bound parameter is sent as before.
  void resize_params(std::size_t n) {
    const std::size_t old = params_.size();
    params_.resize(n);
    values_.resize(n, nullptr);
    lengths_.resize(n, 0);
    formats_.resize(n, 0);
    if (!session_->server_prepared) types_.resize(n, 0);
    for (std::size_t k = 0; k < std::min(old, n); ++k)
      if (values_[k] != nullptr) publish(k);
  }

  /// libpq takes lengths as int (and the server's limit for one value is 1 GB anyway).
  static std::string_view sized_bytes(std::string_view v) {
    if (v.data() == nullptr) return std::string_view("", 0);  // a null pointer would be sent as NULL
    if (v.size() >= static_cast<std::size_t>(std::numeric_limits<int>::max()))
      throw ValueError("tenantry: a value of " + std::to_string(v.size()) + " bytes is too large for PostgreSQL");
    return v;
  }

  Param& slot(int i) {
    const std::size_t index = static_cast<std::size_t>(i) - 1;  // i < 1 wraps past any size
    if (index < params_.size()) [[likely]]
      return params_[index];
    return grow_slot(i);
  }
  [[gnu::noinline]] Param& grow_slot(int i) {
    if (i < 1) throw UsageError("tenantry: postgres: parameter index " + std::to_string(i) + " (indexes start at 1)");
    const auto index = static_cast<std::size_t>(i - 1);
    if (session_->server_prepared) {
      if (index >= params_.size())
        throw UsageError("tenantry: postgres: parameter $" + std::to_string(i) + " out of range: the statement has " +
                         std::to_string(params_.size()) + " (" + std::string(sql_->substr(0, 200)) + ")");
    } else if (index >= params_.size()) {
      resize_params(index + 1);  // without a description the highest index bound is the count
    }
    return params_[index];
  }

  /// The wire form of p for the parameter's type: the server's inferred type when prepared,
  /// otherwise a type chosen from the value.
  void encode(Param& p, int i) {
    if (p.value == Value::null || p.value == Value::array) return;
    // PostgreSQL text cannot hold NUL (the server would refuse it, aborting the open
    // transaction): refuse it here, before anything is sent.
    if ((p.value == Value::text || p.value == Value::json) && p.ext.find('\0') != std::string_view::npos)
      throw ValueError("tenantry: postgres: parameter $" + std::to_string(i) +
                       " holds a NUL byte, which PostgreSQL text cannot store");
    if (!session_->server_prepared) return encode_by_value(p);
    encode_as(p, param_types_[static_cast<std::size_t>(i - 1)], i);
  }

  /// The wire form of p for a parameter (or array element) of type `target`.
  void encode_as(Param& p, Oid target, int i) {
    switch (p.value) {
      case Value::integer: return encode_int(p, target, i);
      case Value::real: return encode_double(p, target, i);
      case Value::boolean:
        switch (target) {
          case oid::boolean: return put_small(p, 1, [&](char* o) { o[0] = static_cast<char>(p.i); });
          case oid::int2:
          case oid::int4:
          case oid::int8:
          case oid::float4:
          case oid::float8:
          case oid::numeric: return encode_int(p, target, i);  // a number 0/1, as SQLite stores it
          default: return text_small(p, p.i != 0 ? std::string_view("true") : std::string_view("false"));
        }
      case Value::text:
      case Value::json:
      case Value::blob:
        if (detail::text_bytes_type(target) || target == oid::bytea) return external(p);
        if (target == oid::jsonb) return jsonb(p);
        // A blob for any other type is taken as that type's binary form, supplied by the caller.
        if (p.value == Value::blob) return external(p);
        return owned_text(p, i);  // numeric, date, uuid, enums, ...: the server parses the text
      case Value::uuid:
        if (target == oid::uuid || target == oid::bytea)
          return put_small(p, 16, [&](char* o) { std::memcpy(o, p.uuid.data(), 16); });
        return text_small(p, 36, [&](char* o) { Uuid{p.uuid}.write(o); });
      case Value::timestamp:
        if (target == oid::timestamptz || target == oid::timestamp) return timestamp_binary(p);
        return text_small(p, 27, [&](char* o) { Timestamp{p.i}.write_iso(o); });
      case Value::null:
      case Value::array: break;
    }
  }

  // ---- array parameters (bind_array) ---------------------------------------------------------

  static void append_be32(std::string& out, std::uint32_t v) {
    char b[4];
    detail::put_be(b, v);
    out.append(b, 4);
  }

  /// Writes the n elements into `out`: binary elements of type `target`, or the text form when
  /// target is 0. False when an element has no binary form for target (the caller then writes
  /// the text form).
  template <class F>
  bool fill_array(std::string& out, int i, std::size_t n, Oid target, F& element) {
    if (n > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
      throw ValueError("tenantry: an array of " + std::to_string(n) + " elements is too large for PostgreSQL");
    out.clear();
    ArrayElements elements(*this, i, target, out);
    if (target != 0) {
      // ndim, has-nulls flag (patched below), element type, then the one dimension: size, lower bound.
      append_be32(out, n == 0 ? 0 : 1);
      append_be32(out, 0);
      append_be32(out, target);
      if (n > 0) {
        append_be32(out, static_cast<std::uint32_t>(n));
        append_be32(out, 1);
      }
    } else {
      out += '{';
    }
    for (std::size_t k = 0; k < n; ++k) {
      element(elements, k);
      if (!elements.binary_ok_) return false;
    }
    if (elements.count_ != n)
      throw UsageError("tenantry: postgres: array parameter $" + std::to_string(i) + " was given " +
                       std::to_string(elements.count_) + " elements for " + std::to_string(n));
    if (target != 0) {
      if (elements.has_null_) detail::put_be(out.data() + 4, std::uint32_t{1});
    } else {
      out += '}';
    }
    return true;
  }

  void append_binary_element(Param& e, Oid target, int i, std::string& out, bool& has_null, bool& ok) {
    if (e.value == Value::null) {
      append_be32(out, 0xFFFFFFFFu);  // length -1: NULL
      has_null = true;
      return;
    }
    if ((e.value == Value::text || e.value == Value::json) && e.ext.find('\0') != std::string_view::npos)
      throw ValueError("tenantry: postgres: an element of parameter $" + std::to_string(i) +
                       " holds a NUL byte, which PostgreSQL text cannot store");
    encode_as(e, target, i);
    // A text-format encoding is the binary form only for the text-like types.
    if (e.format == 0 && !detail::text_bytes_type(target)) {
      ok = false;
      return;
    }
    append_be32(out, static_cast<std::uint32_t>(e.length));
    out.append(e.data(), static_cast<std::size_t>(e.length));
  }

  /// One element of an array's text form: NULL, or the value's text in double quotes with '"'
  /// and '\' escaped.
  void append_text_element(Param& e, int i, std::string& out, std::size_t k) {
    if (k) out += ',';
    if (e.value == Value::null) {
      out += "NULL";
      return;
    }
    const auto quoted = [&](std::string_view text) {
      out += '"';
      for (const char c : text) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
      }
      out += '"';
    };
    char buf[40];
    switch (e.value) {
      case Value::integer: return quoted({buf, static_cast<std::size_t>(std::to_chars(buf, buf + 24, e.i).ptr - buf)});
      case Value::real:
        if (std::isnan(e.d)) return quoted("NaN");
        if (std::isinf(e.d)) return quoted(e.d > 0 ? "Infinity" : "-Infinity");
        return quoted({buf, static_cast<std::size_t>(std::to_chars(buf, buf + 32, e.d).ptr - buf)});
      case Value::boolean: return quoted(e.i != 0 ? "t" : "f");
      case Value::text:
      case Value::json:
        if (e.ext.find('\0') != std::string_view::npos)
          throw ValueError("tenantry: postgres: an element of parameter $" + std::to_string(i) +
                           " holds a NUL byte, which PostgreSQL text cannot store");
        return quoted(e.ext);
      case Value::blob: {
        static constexpr char hex[] = "0123456789abcdef";
        std::string& t = scratch_;
        t.assign("\\x");
        for (const char c : e.ext) {
          t += hex[static_cast<unsigned char>(c) >> 4];
          t += hex[static_cast<unsigned char>(c) & 15];
        }
        return quoted(t);
      }
      case Value::uuid:
        Uuid{e.uuid}.write(buf);
        return quoted({buf, 36});
      case Value::timestamp:
        Timestamp{e.i}.write_iso(buf);
        return quoted({buf, 27});
      case Value::null:
      case Value::array: break;
    }
  }

  /// Without server-side preparation the value decides the type; the server casts from it where
  /// the column differs (int8 into an integer column, uuid into text, ...).
  void encode_by_value(Param& p) {
    switch (p.value) {
      case Value::integer: return encode_int(p, oid::int8, 0);
      case Value::real: return encode_double(p, oid::float8, 0);
      case Value::boolean:
        p.type = oid::boolean;
        return put_small(p, 1, [&](char* o) { o[0] = static_cast<char>(p.i); });
      case Value::text: return owned_text(p, 0);  // type 0: the server infers it from the SQL
      case Value::json:
        owned_text(p, 0);
        p.type = oid::jsonb;
        return;
      case Value::blob:
        p.type = oid::bytea;
        return external(p);
      case Value::uuid:
        p.type = oid::uuid;
        return put_small(p, 16, [&](char* o) { std::memcpy(o, p.uuid.data(), 16); });
      case Value::timestamp:
        // Untyped ISO-8601 text ("...Z"), so that the server reads it as the type the SQL needs:
        // the exact instant for timestamptz, its UTC wall clock for timestamp without time zone
        // (which ignores the zone in its input), the UTC date for date. Typed timestamptz, a
        // timestamp column would get the instant converted to the session's TimeZone by the
        // implicit cast, and read back shifted by the zone's offset.
        return text_small(p, 27, [&](char* o) { Timestamp{p.i}.write_iso(o); });
      case Value::null:
      case Value::array: break;
    }
  }

  void encode_int(Param& p, Oid target, int i) {
    const std::int64_t v = p.i;
    const auto narrow = [&](auto type_tag, const char* name) {
      using T = decltype(type_tag);
      if (!std::in_range<T>(v))
        throw ValueError("tenantry: integer " + std::to_string(v) + " does not fit parameter $" + std::to_string(i) +
                         " (" + name + ")");
      return static_cast<T>(v);
    };
    p.type = target;
    switch (target) {
      case oid::int8:
        return put_small(p, 8, [&](char* o) { detail::put_be(o, static_cast<std::uint64_t>(v)); });
      case oid::int4: {
        const auto n = narrow(std::int32_t{}, "integer");
        return put_small(p, 4, [&](char* o) { detail::put_be(o, static_cast<std::uint32_t>(n)); });
      }
      case oid::int2: {
        const auto n = narrow(std::int16_t{}, "smallint");
        return put_small(p, 2, [&](char* o) { detail::put_be(o, static_cast<std::uint16_t>(n)); });
      }
      case oid::oid: {
        const auto n = narrow(std::uint32_t{}, "oid");
        return put_small(p, 4, [&](char* o) { detail::put_be(o, n); });
      }
      case oid::float8:
        return put_small(p, 8, [&](char* o) { detail::put_be(o, std::bit_cast<std::uint64_t>(static_cast<double>(v))); });
      case oid::float4:
        return put_small(p, 4, [&](char* o) { detail::put_be(o, std::bit_cast<std::uint32_t>(static_cast<float>(v))); });
      case oid::boolean:
        if (v != 0 && v != 1)
          throw ValueError("tenantry: integer " + std::to_string(v) + " bound to boolean parameter $" +
                           std::to_string(i) + " is not 0 or 1");
        return put_small(p, 1, [&](char* o) { o[0] = static_cast<char>(v); });
      default:  // numeric, text, ...: decimal text
        p.type = 0;
        return text_small(p, 0, [&](char* o) { return std::to_chars(o, o + 24, v).ptr - o; });
    }
  }

  void encode_double(Param& p, Oid target, int i) {
    const double v = p.d;
    p.type = target;
    if (target == oid::float8)
      return put_small(p, 8, [&](char* o) { detail::put_be(o, std::bit_cast<std::uint64_t>(v)); });
    if (target == oid::float4) {
      if (std::isfinite(v) && std::fabs(v) > std::numeric_limits<float>::max())
        throw ValueError("tenantry: " + std::to_string(v) + " does not fit parameter $" + std::to_string(i) + " (real)");
      return put_small(p, 4, [&](char* o) { detail::put_be(o, std::bit_cast<std::uint32_t>(static_cast<float>(v))); });
    }
    // numeric, text, ...: the shortest text that reads back as the same double, in the spelling
    // PostgreSQL's numeric and float inputs both accept for the special values.
    p.type = 0;
    if (std::isnan(v)) return text_small(p, "NaN");
    if (std::isinf(v)) return text_small(p, v > 0 ? "Infinity" : "-Infinity");
    text_small(p, 0, [&](char* o) { return std::to_chars(o, o + 32, v).ptr - o; });
  }

  /// timestamptz and timestamp share a binary form, microseconds since 2000-01-01: the instant
  /// for one, the wall clock for the other. A Timestamp's UTC wall clock is the same number, so
  /// both get these bytes and no conversion depends on the session's TimeZone.
  void timestamp_binary(Param& p) {
    put_small(p, 8, [&](char* o) { detail::put_be(o, static_cast<std::uint64_t>(p.i - detail::pg_epoch_micros)); });
  }

  template <class Write>
  void put_small(Param& p, int length, Write&& write) {
    write(p.small.data());
    p.where = Where::small;
    p.length = length;
    p.format = 1;
  }
  // Text format in the small buffer, NUL-terminated as libpq requires for text values. `write`
  // either fills exactly `length` bytes, or returns how many it wrote (length 0).
  template <class Write>
  void text_small(Param& p, int length, Write&& write) {
    if constexpr (std::is_void_v<decltype(write(p.small.data()))>) {
      write(p.small.data());
    } else {
      length = static_cast<int>(write(p.small.data()));
    }
    p.small[static_cast<std::size_t>(length)] = '\0';
    p.where = Where::small;
    p.length = length;
    p.format = 0;
  }
  void text_small(Param& p, std::string_view text) {
    text_small(p, static_cast<int>(text.size()), [&](char* o) { std::memcpy(o, text.data(), text.size()); });
  }
  void external(Param& p) {
    p.where = Where::external;
    p.length = static_cast<int>(p.ext.size());
    p.format = 1;
  }
  void jsonb(Param& p) {
    // jsonb's binary form is a version byte (1) followed by the JSON text.
    p.owned.assign(1, '\x01');
    p.owned.append(p.ext);
    p.where = Where::owned;
    p.length = static_cast<int>(p.owned.size());
    p.format = 1;
  }
  void owned_text(Param& p, int i) {
    // Text format is read up to a NUL, so a NUL inside would silently cut the value short.
    if (p.ext.find('\0') != std::string_view::npos)
      throw ValueError("tenantry: text bound to parameter $" + std::to_string(i) +
                       " contains a NUL byte, which PostgreSQL text cannot hold");
    p.owned.assign(p.ext);
    p.where = Where::owned;
    p.length = static_cast<int>(p.owned.size());
    p.format = 0;
    p.type = 0;
  }

  /// Prepares and describes the statement on the server: once per connection, and again only if
  /// the server lost it. The description gives the parameter types every bind encodes for.
  ///
  /// Behind a pooler in transaction mode (PgBouncer) every transaction may run on another server
  /// session, and a session keeps the statements every client prepared on it. So the PREPARE,
  /// the description and, when the session already holds our name, the look at what it holds,
  /// all run in one transaction (the caller's, or one opened here), which keeps them on one
  /// server session. A statement found under our name is ours only when its text is ours (then
  /// it is used as it is); other text is refused with StatementNameCollision and never executed.
  ///
  /// One round trip in the usual case: BEGIN (when no transaction is open), SAVEPOINT, PREPARE,
  /// DESCRIBE, RELEASE, COMMIT go as one libpq pipeline. When the PREPARE finds the name taken
  /// (42P05), the savepoint is rolled back, which leaves the transaction on the same session and
  /// usable, and pg_prepared_statements tells what the session holds under that name.
  void prepare_on_server() {
    detail::Session& s = *session_;
    s.ensure_usable();
    const PGTransactionStatusType status = PQtransactionStatus(s.conn);
    const bool own = status == PQTRANS_IDLE;
#ifdef LIBPQ_HAS_PIPELINING
    if ((own || status == PQTRANS_INTRANS) && PQenterPipelineMode(s.conn) == 1) return prepare_pipelined(own);
#endif
    // Without pipelining (or in a failed transaction, where the first command reports 25P02):
    // look first, then prepare.
    if (own) detail::exec_simple(s, "BEGIN");
    try {
      prepare_in_transaction();
      if (own) detail::exec_simple(s, "COMMIT");
    } catch (...) {
      if (own) rollback_own(s);
      throw;
    }
  }

#ifdef LIBPQ_HAS_PIPELINING
  /// prepare_on_server() in one round trip; the connection is in pipeline mode on entry.
  void prepare_pipelined(bool own) {
    detail::Session& s = *session_;
    const auto plain = [&](const char* sql) {
      return PQsendQueryParams(s.conn, sql, 0, nullptr, nullptr, nullptr, nullptr, 0) == 1;
    };
    const bool sent = (!own || plain("BEGIN")) && plain("SAVEPOINT tenantry_prepare") &&
                      PQsendPrepare(s.conn, name_.c_str(), sql_->c_str(), 0, nullptr) == 1 &&
                      PQsendDescribePrepared(s.conn, name_.c_str()) == 1 && plain("RELEASE SAVEPOINT tenantry_prepare") &&
                      (!own || plain("COMMIT")) && PQpipelineSync(s.conn) == 1;
    if (!sent) {
      if (s.broken.empty()) s.broken = detail::trimmed(PQerrorMessage(s.conn));
      throw ConnectionError("tenantry: postgres: cannot send to the server (" + s.broken + ")", "08006");
    }
    // Each command's result (the first PGresult of it), then the pipeline's sync point.
    const std::size_t commands = own ? 6 : 4, parse = own ? 2 : 1;
    std::array<detail::Result, 6> results;
    for (std::size_t q = 0; q < commands; ++q) {
      while (PGresult* r = PQgetResult(s.conn)) {
        if (!results[q]) results[q].reset(r);
        else PQclear(r);
      }
    }
    PQclear(PQgetResult(s.conn));  // PGRES_PIPELINE_SYNC (null when the connection is gone)
    PQexitPipelineMode(s.conn);
    std::size_t failed = commands;
    for (std::size_t q = 0; q < commands && failed == commands; ++q)
      if (!results[q] || PQresultStatus(results[q].get()) != PGRES_COMMAND_OK) failed = q;
    if (failed == commands) {
      describe(results[parse + 1].get());
      ++s.stats.prepared;
      return;
    }
    if (failed == parse && detail::sqlstate(results[parse].get()) == "42P05") {
      // The session holds our name already: back to before the PREPARE, on the same session.
      try {
        detail::exec_simple(s, "ROLLBACK TO SAVEPOINT tenantry_prepare; RELEASE SAVEPOINT tenantry_prepare");
        prepare_in_transaction();
        if (own) detail::exec_simple(s, "COMMIT");
      } catch (...) {
        if (own) rollback_own(s);
        throw;
      }
      return;
    }
    // Any other failure stands, as a failed statement's does: the caller's transaction is
    // aborted (its savepoint goes with it), ours is rolled back.
    if (own) rollback_own(s);
    detail::throw_error(s, results[failed].get(), *sql_);
  }
#endif

  /// The lookup, PREPARE and description of prepare_on_server(), one command at a time, inside
  /// an open transaction (so on one server session throughout).
  void prepare_in_transaction() {
    detail::Session& s = *session_;
    prepared_ = false;
    static constexpr const char* lookup = "SELECT statement FROM pg_catalog.pg_prepared_statements WHERE name = $1";
    const char* const name_value[] = {name_.c_str()};
    detail::Result held(PQexecParams(s.conn, lookup, 1, nullptr, name_value, nullptr, nullptr, 0));
    if (PQresultStatus(held.get()) != PGRES_TUPLES_OK) detail::throw_error(s, held.get(), lookup);
    if (PQntuples(held.get()) > 0) {
      // Prepared on this session before: by this connection (before clear_statement_cache(), or
      // when the server told us it had lost it and had not), or by another client of the pooler.
      const std::string_view theirs(PQgetvalue(held.get(), 0, 0),
                                    static_cast<std::size_t>(PQgetlength(held.get(), 0, 0)));
      if (theirs != *sql_) {
        ++s.stats.collisions;
        throw StatementNameCollision(name_, *sql_, std::string(theirs));
      }
      ++s.stats.found;
    } else {
      detail::Result r(PQprepare(s.conn, name_.c_str(), sql_->c_str(), 0, nullptr));
      if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) detail::throw_error(s, r.get(), *sql_);
      ++s.stats.prepared;
    }
    detail::Result d(PQdescribePrepared(s.conn, name_.c_str()));
    if (PQresultStatus(d.get()) != PGRES_COMMAND_OK) detail::throw_error(s, d.get(), *sql_);
    describe(d.get());
  }

  /// Takes the server's description of the prepared statement: parameter types and column count.
  void describe(const PGresult* d) {
    const int n = PQnparams(d);
    bool same = param_types_.size() == static_cast<std::size_t>(n);
    for (int k = 0; same && k < n; ++k) same = param_types_[static_cast<std::size_t>(k)] == PQparamtype(d, k);
    described_columns_ = PQnfields(d);
    described_types_.resize(static_cast<std::size_t>(described_columns_));
    for (int c = 0; c < described_columns_; ++c) described_types_[static_cast<std::size_t>(c)] = PQftype(d, c);
    prepared_ = true;
    if (same) return;
    param_types_.resize(static_cast<std::size_t>(n));
    for (int k = 0; k < n; ++k) param_types_[static_cast<std::size_t>(k)] = PQparamtype(d, k);
    // Re-prepared with other types (the schema changed under it): encode what is bound again
    // (a set value pointer: bound since the last reset) for the new types.
    const std::size_t old = params_.size();
    params_.resize(static_cast<std::size_t>(n));
    values_.resize(params_.size(), nullptr);
    lengths_.resize(params_.size(), 0);
    formats_.resize(params_.size(), 0);
    for (std::size_t k = 0; k < std::min(old, params_.size()); ++k) {
      if (values_[k] == nullptr) continue;
      Param& p = params_[k];
      try {
        if (p.value != Value::array) encode(p, static_cast<int>(k) + 1);
      } catch (...) {
        p.clear();
        publish(k);
        throw;
      }
      publish(k);
    }
  }

  /// Ends a transaction this statement opened itself, after a failure; never throws.
  static void rollback_own(detail::Session& s) noexcept {
    if (s.broken.empty() && PQstatus(s.conn) == CONNECTION_OK && PQtransactionStatus(s.conn) != PQTRANS_IDLE)
      PQclear(PQexec(s.conn, "ROLLBACK"));
  }

  /// Sends the execution with the bound parameters; results in binary (exact values, decoded per
  /// column type, see the file comment).
  detail::Result send() {
    detail::Session& s = *session_;
    const int count = static_cast<int>(values_.size());
    return detail::Result(s.server_prepared ? PQexecPrepared(s.conn, name_.c_str(), count, values_.data(),
                                                             lengths_.data(), formats_.data(), 1)
                                            : PQexecParams(s.conn, sql_->c_str(), count, types_.data(), values_.data(),
                                                           lengths_.data(), formats_.data(), 1));
  }

#ifdef LIBPQ_HAS_PIPELINING
  /// send() for an armed prelude: set_config(org setting, org, true) and this execution in one
  /// libpq pipeline with one sync, so one round trip and one implicit transaction (an explicit
  /// one when the caller's is open): the setting holds for exactly this statement and ends
  /// with it, as it would with the transaction of in_org_context. The set_config goes as an
  /// unnamed statement, so no server session ever lacks it (PgBouncer in transaction mode keeps
  /// the whole pipeline, up to its sync, on one server session). When it fails, the statement is
  /// skipped by the server and its error is thrown.
  detail::Result send_with_org() {
    detail::Session& s = *session_;
    static const std::string set_sql = "SELECT set_config('" + std::string(org_setting) + "', $1, true)";
    const int count = static_cast<int>(values_.size());
    const char* const org_value[] = {s.prelude_org.data()};
    const int org_length[] = {static_cast<int>(s.prelude_org.size())};
    const int org_format[] = {1};  // the text's bytes, no NUL needed
    const bool sent =
        PQenterPipelineMode(s.conn) == 1 &&
        PQsendQueryParams(s.conn, set_sql.c_str(), 1, nullptr, org_value, org_length, org_format, 1) == 1 &&
        (s.server_prepared ? PQsendQueryPrepared(s.conn, name_.c_str(), count, values_.data(), lengths_.data(),
                                                 formats_.data(), 1)
                           : PQsendQueryParams(s.conn, sql_->c_str(), count, types_.data(), values_.data(),
                                               lengths_.data(), formats_.data(), 1)) == 1 &&
        PQpipelineSync(s.conn) == 1;
    if (!sent) {
      if (PQpipelineStatus(s.conn) != PQ_PIPELINE_OFF) {
        while (PGresult* r = PQgetResult(s.conn)) PQclear(r);
        PQexitPipelineMode(s.conn);
      }
      if (s.broken.empty()) s.broken = detail::trimmed(PQerrorMessage(s.conn));
      throw ConnectionError("tenantry: postgres: cannot send to the server (" + s.broken + ")", "08006");
    }
    // Each command's first PGresult, then the sync point.
    detail::Result set, mine;
    for (detail::Result* out : {&set, &mine}) {
      while (PGresult* r = PQgetResult(s.conn)) {
        if (!*out) out->reset(r);
        else PQclear(r);
      }
    }
    PQclear(PQgetResult(s.conn));  // PGRES_PIPELINE_SYNC (null when the connection is gone)
    PQexitPipelineMode(s.conn);
    if (!set || PQresultStatus(set.get()) != PGRES_TUPLES_OK) detail::throw_error(s, set.get(), set_sql);
    return mine;
  }
#else
  detail::Result send_with_org() { throw UsageError("tenantry: postgres: libpq without pipeline mode"); }
#endif

  static bool succeeded(const detail::Result& r) noexcept {
    const ExecStatusType status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
    return status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK || status == PGRES_EMPTY_QUERY;
  }

  void take(detail::Result r) {
    rows_ = PQntuples(r.get());
    result_ = std::move(r);
    read_columns();
  }

  void execute() {
    detail::Session& s = *session_;
    s.ensure_usable();
    if (s.prelude != detail::Session::Prelude::off) [[unlikely]]
      return execute_with_org();
    if (!prepared_ && s.server_prepared) [[unlikely]]
      prepare_on_server();
    detail::Result r = send();
    if (succeeded(r)) [[likely]]
      return take(std::move(r));
    execute_failed(std::move(r));
  }

  // execute() inside Connection::pipeline_org: the first execution goes with the org's
  // set_config (send_with_org), any later one is refused. Out of line: the usual path never
  // looks at the prelude again.
  [[gnu::noinline]] void execute_with_org() {
    detail::Session& s = *session_;
    if (s.prelude == detail::Session::Prelude::spent)
      throw UsageError("tenantry: postgres: a second statement in an operation sent as one statement with its org "
                       "context (Connection::pipeline_org); nothing was sent (" +
                       std::string(sql_->substr(0, 200)) + ")");
    if (s.server_prepared && !prepared_) prepare_on_server();
    detail::Result r = send_with_org();
    if (succeeded(r)) {
      s.prelude = detail::Session::Prelude::spent;
      return take(std::move(r));
    }
    execute_failed(std::move(r));
  }

  // execute() after a failed execution: out of line, so the successful path stays short.
  [[gnu::noinline]] void execute_failed(detail::Result r) {
    detail::Session& s = *session_;
    if (detail::abandon_copy(s.conn, r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR))
      throw UsageError("tenantry: postgres: COPY through a prepared statement is not supported");
    // The server session does not have the statement: a pooler gave us another session than
    // the one it was prepared on, or the server forgot it (restart, DISCARD ALL, DEALLOCATE).
    // Outside a transaction, prepare it and run it again in one transaction, so that both happen
    // on the same server session even behind a pooler. Inside one the failure has already
    // aborted it, so only remember to prepare again on the next use.
    if (s.server_prepared && detail::sqlstate(r.get()) == "26000") {
      ++s.stats.lost;
      prepared_ = false;
      if (PQtransactionStatus(s.conn) == PQTRANS_IDLE) {
        detail::exec_simple(s, "BEGIN");
        try {
          prepare_on_server();  // in this transaction
          // Within pipeline_org the org's set_config goes with the retry too.
          const bool with_org = s.prelude == detail::Session::Prelude::armed;
          r = with_org ? send_with_org() : send();
          if (succeeded(r)) {
            detail::exec_simple(s, "COMMIT");
            if (with_org) s.prelude = detail::Session::Prelude::spent;
            return take(std::move(r));
          }
          if (detail::abandon_copy(s.conn, r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR))
            throw UsageError("tenantry: postgres: COPY through a prepared statement is not supported");
          detail::throw_error(s, r.get(), *sql_);
        } catch (...) {
          rollback_own(s);
          throw;
        }
      }
    }
    detail::throw_error(s, r.get(), *sql_);
  }

  // ---- observation (observe.hpp): only with an observer installed ----------------------------
  [[gnu::noinline]] bool observed_step() {
    return observed_.observe_step(
        session_->watch, [&] { return step(); }, [&](bool failed, const std::exception* e) { end_observed(failed, e); });
  }
  [[gnu::noinline]] void end_observed_at_reset() noexcept {
    end_observed(false, nullptr);
    observed_.clear();
  }
  void end_observed(bool failed, const std::exception* error) noexcept {
    // Rows of the result (the caller may have read fewer), or of the rows stepped through.
    const std::int64_t rows = std::max<std::int64_t>(observed_.rows(), result_ ? rows_ : 0);
    std::int64_t affected = 0;
    if (!failed && result_) {
      const std::string_view verb = PQcmdStatus(result_.get());
      if (verb.starts_with("INSERT") || verb.starts_with("UPDATE") || verb.starts_with("DELETE") ||
          verb.starts_with("MERGE"))
        affected = changes();
    }
    observed_.end(session_->watch, "postgres", name_, *sql_, rows, affected, failed, error);
  }

  // ---- streaming (single-row mode) -----------------------------------------------------------
  // A path of its own beside execute(): sends the execution without waiting (PQsendQuery*),
  // switches the query to single-row mode, and takes one PGresult per step().

  bool stream_step() {
    detail::Session& s = *session_;
    if (stream_ == Stream::finished) return false;
    if (stream_ == Stream::requested) stream_send();
    result_.reset(PQgetResult(s.conn));
    const ExecStatusType status = result_ ? PQresultStatus(result_.get()) : PGRES_FATAL_ERROR;
    row_ = 0;
    if (status == PGRES_SINGLE_TUPLE) {
      rows_ = 1;
      if (streamed_++ == 0) read_columns();  // every row of the query has the same columns
      return true;
    }
    rows_ = 0;
    detail::Result last = std::move(result_);
    const bool retried = stream_retried_;
    end_stream();  // reads the end of the query (and anything after an error)
    stream_ = Stream::finished;
    if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK || status == PGRES_EMPTY_QUERY) {
      result_ = std::move(last);  // the final, row-less result: changes() reads it
      return false;
    }
    // Lost by the server before any row came (DEALLOCATE, a restart behind a pooler): prepare
    // again and run once more, outside a transaction only, as execute() does.
    if (s.server_prepared && detail::sqlstate(last.get()) == "26000") {
      prepared_ = false;
      if (streamed_ == 0 && !retried && PQtransactionStatus(s.conn) == PQTRANS_IDLE) {
        stream_retried_ = true;
        stream_ = Stream::requested;
        return stream_step();
      }
    }
    detail::throw_error(s, last.get(), *sql_);
  }

  void stream_send() {
    detail::Session& s = *session_;
    s.ensure_usable();
    if (s.prelude != detail::Session::Prelude::off) [[unlikely]]
      throw UsageError("tenantry: postgres: a streamed query cannot be sent with its org context in one pipeline "
                       "(Connection::pipeline_org); run it in a transaction");
    if (s.server_prepared && !prepared_) prepare_on_server();
    const int count = static_cast<int>(values_.size());
    const int sent = s.server_prepared ? PQsendQueryPrepared(s.conn, name_.c_str(), count, values_.data(),
                                                             lengths_.data(), formats_.data(), 1)
                                       : PQsendQueryParams(s.conn, sql_->c_str(), count, types_.data(), values_.data(),
                                                           lengths_.data(), formats_.data(), 1);
    if (sent != 1) detail::throw_error(s, nullptr, *sql_);
    // Right after sending, before any result is read, as libpq requires. It cannot fail there.
    PQsetSingleRowMode(s.conn);
    stream_ = Stream::running;
    streamed_ = 0;
    s.streaming = true;
  }

  /// Reads whatever the streamed query still has to deliver, so the connection is free again.
  void end_stream() noexcept {
    if (stream_ == Stream::running) {
      while (PGresult* r = PQgetResult(session_->conn)) PQclear(r);
      session_->streaming = false;
    }
    stream_ = Stream::off;
    stream_retried_ = false;
  }

  // ---- decoding ------------------------------------------------------------------------------

  /// The current result's column count and types, read from libpq once per result rather than
  /// once per cell.
  /// A prepared statement's results have the columns its description gave (the server refuses
  /// to run it otherwise: "cached plan must not change result type"), so those are not asked
  /// for again.
  void read_columns() {
    const PGresult* r = result_.get();
    columns_ = PQnfields(r);
    if (prepared_ && columns_ == described_columns_) [[likely]] {
      column_type_ = described_types_.data();
      return;
    }
    column_types_.resize(static_cast<std::size_t>(columns_));
    for (int c = 0; c < columns_; ++c) column_types_[static_cast<std::size_t>(c)] = PQftype(r, c);
    column_type_ = column_types_.data();
  }

  [[gnu::always_inline]] void check_cell(int c) const {
    // rows_ is 0 without a result; an unsigned c below 0 is above any column count.
    if (row_ >= rows_ || static_cast<unsigned>(c) >= static_cast<unsigned>(columns_)) [[unlikely]]
      bad_cell(c);
  }
  [[noreturn, gnu::cold, gnu::noinline]] void bad_cell(int c) const {
    if (!result_ || row_ >= rows_)
      throw UsageError("tenantry: postgres: column read without a current row (step() must return true first)");
    throw UsageError("tenantry: postgres: column " + std::to_string(c) + " out of range: the result has " +
                     std::to_string(PQnfields(result_.get())) + " columns");
  }
  /// The current row's value in column c; throws ValueError for NULL (the caller wanted `what`).
  // The checks stay inline and their errors out of line, so that the readers inline into a
  // repository's row loop.
  [[gnu::always_inline]] Cell cell(int c, const char* what) const {
    const Cell v = cell_or_null(c);
    if (v.data == nullptr) [[unlikely]]
      null_cell(c, what);
    return v;
  }
  [[noreturn, gnu::cold, gnu::noinline]] void null_cell(int c, const char* what) const {
    throw ValueError("tenantry: column '" + column_name(c) + "' is NULL, expected " + what);
  }
  /// The current row's value in column c, with a null data pointer for NULL. libpq gives a NULL
  /// cell length 0, so only an empty value needs PQgetisnull.
  [[gnu::always_inline]] Cell cell_or_null(int c) const {
    check_cell(c);
    const PGresult* r = result_.get();
    Cell v{PQgetvalue(r, row_, c), PQgetlength(r, row_, c), column_type_[c], c};
    if (v.size == 0 && PQgetisnull(r, row_, c) != 0) v.data = nullptr;
    return v;
  }
  const char* sized(const Cell& v, int size) const {
    if (v.size != size) [[unlikely]]
      malformed(v);
    return v.data;
  }
  [[noreturn, gnu::cold, gnu::noinline]] void malformed(const Cell& v) const {
    throw ValueError("tenantry: column '" + column_name(v.column) + "' (" + detail::type_label(v.type) +
                     ") holds a malformed value of " + std::to_string(v.size) + " bytes");
  }
  [[gnu::always_inline]] std::string_view text_of(const Cell& v) const {
    if (v.type == oid::jsonb) [[unlikely]] {
      if (v.size < 1 || v.data[0] != 1) unknown_jsonb(v);
      return {v.data + 1, static_cast<std::size_t>(v.size - 1)};
    }
    return {v.data, static_cast<std::size_t>(v.size)};
  }
  [[noreturn, gnu::cold, gnu::noinline]] void unknown_jsonb(const Cell& v) const {
    throw ValueError("tenantry: column '" + column_name(v.column) + "' holds jsonb in an unknown binary version");
  }
  [[noreturn, gnu::cold, gnu::noinline]] void mistyped(const Cell& v, const char* expected) const {
    throw ValueError("tenantry: column '" + column_name(v.column) + "' holds " + detail::type_label(v.type) +
                     ", expected " + expected);
  }
  [[noreturn, gnu::cold, gnu::noinline]] void out_of_range(const Cell& v) const {
    throw ValueError("tenantry: column '" + column_name(v.column) + "' (" + detail::type_label(v.type) +
                     ") holds a time outside years 0001-9999 (or infinity)");
  }

  // numeric's binary form: ndigits, weight, sign, dscale (int16 each), then ndigits base-10000
  // digits, most significant first; the first digit is worth 10000^weight.
  struct Numeric {
    int ndigits, weight;
    std::uint16_t sign;
    const char* digits;
    int digit(int k) const { return static_cast<std::int16_t>(detail::get_be<std::uint16_t>(digits + 2 * k)); }
  };
  Numeric numeric(const Cell& v) const {
    const auto malformed = [&] { return ValueError("tenantry: column '" + column_name(v.column) + "' holds a malformed numeric"); };
    if (v.size < 8) throw malformed();
    Numeric n{static_cast<std::int16_t>(detail::get_be<std::uint16_t>(v.data)),
              static_cast<std::int16_t>(detail::get_be<std::uint16_t>(v.data + 2)),
              detail::get_be<std::uint16_t>(v.data + 4), v.data + 8};
    if (n.ndigits < 0 || v.size != 8 + 2 * n.ndigits) throw malformed();
    for (int k = 0; k < n.ndigits; ++k)
      if (n.digit(k) < 0 || n.digit(k) > 9999) throw malformed();
    if (n.sign == 0xC000 || n.sign == 0xD000 || n.sign == 0xF000)
      throw ValueError("tenantry: column '" + column_name(v.column) + "' holds a numeric NaN or infinity");
    return n;
  }
  /// An integral numeric (sum() of integers is one) read as an integer; a fraction or a value
  /// beyond 64 bits is a ValueError, never a rounded number.
  std::int64_t numeric_to_int(const Cell& v) const {
    const Numeric n = numeric(v);
    const auto fail = [&](const char* why) {
      return ValueError("tenantry: column '" + column_name(v.column) + "' holds a numeric " + why);
    };
    std::uint64_t magnitude = 0;
    for (int k = 0; k <= std::max(n.weight, n.ndigits - 1); ++k) {
      const int d = k < n.ndigits ? n.digit(k) : 0;
      if (k > n.weight) {
        if (d != 0) throw fail("with a fraction, expected an integer");
        continue;
      }
      if (__builtin_mul_overflow(magnitude, std::uint64_t{10000}, &magnitude) ||
          __builtin_add_overflow(magnitude, static_cast<std::uint64_t>(d), &magnitude))
        throw fail("beyond 64 bits");
    }
    const bool negative = n.sign == 0x4000;
    const std::uint64_t limit = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + (negative ? 1 : 0);
    if (magnitude > limit) throw fail("beyond 64 bits");
    return negative ? static_cast<std::int64_t>(0 - magnitude) : static_cast<std::int64_t>(magnitude);
  }
  /// Through decimal text, so the double is the correctly rounded value of the numeric.
  double numeric_to_double(const Cell& v) const {
    const Numeric n = numeric(v);
    if (n.ndigits == 0) return 0.0;
    // 0.<digits> x 10^(4 * (weight + 1))
    std::string& text = scratch_;
    text.assign(n.sign == 0x4000 ? "-0." : "0.");
    for (int k = 0; k < n.ndigits; ++k) {
      char group[4];
      int d = n.digit(k);
      for (int j = 3; j >= 0; --j, d /= 10) group[j] = static_cast<char>('0' + d % 10);
      text.append(group, 4);
    }
    text += 'e';
    text += std::to_string(4 * (n.weight + 1));
    double out = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    if (ec != std::errc{} || end != text.data() + text.size())
      throw ValueError("tenantry: column '" + column_name(v.column) + "' holds a numeric outside double's range");
    return out;
  }

  detail::Session* session_;
  const std::string* sql_ = nullptr;  // interned: lives as long as the process
  std::string name_;
  bool prepared_ = false;
  std::vector<Oid> param_types_;  // as described by the server; indexed by parameter - 1
  int described_columns_ = 0;
  std::vector<Oid> described_types_;  // of the result columns, from the description
  int columns_ = 0;                   // of result_ (read_columns)
  const Oid* column_type_ = nullptr;  // of result_'s columns: described_types_ or column_types_
  std::vector<Oid> column_types_;     // read from a result that has no description
  std::vector<Param> params_;
  // The arrays handed to libpq, one entry per parameter, written as each parameter is bound
  // (a null value: unbound, sent as NULL; reset() clears them). They point into params_ (the
  // small buffers, copies) or at the caller's bytes. types_ only without server-side preparation.
  std::vector<const char*> values_;
  std::vector<int> lengths_, formats_;
  std::vector<Oid> types_;
  detail::Result result_;
  int row_ = 0, rows_ = 0;
  // Streaming (stream_next_execution): off, asked for the next execution, rows pending, read.
  enum class Stream : std::uint8_t { off, requested, running, finished };
  Stream stream_ = Stream::off;
  bool stream_retried_ = false;
  std::uint64_t streamed_ = 0;  // rows delivered by the current streamed execution
  std::deque<std::string> kept_;  // temporaries bound by pointer (deque: never moves them)
  mutable std::string scratch_;  // numeric -> double conversion, column_number_text()
  tenantry::detail::Execution observed_;  // observe.hpp
};

/// Resets a statement when the scope ends, whatever way it ends, so a cached statement never
/// carries old bindings or a stale result into its next use.
class StatementScope {
 public:
  explicit StatementScope(Statement& s) noexcept : s_(s) {}
  ~StatementScope() { s_.reset(); }
  StatementScope(const StatementScope&) = delete;
  StatementScope& operator=(const StatementScope&) = delete;
  Statement* operator->() noexcept { return &s_; }
  Statement& operator*() noexcept { return s_; }

 private:
  Statement& s_;
};

namespace detail {

/// "15.4" for 150004, "9.6.24" for 90624: PQserverVersion()/PQlibVersion() as PostgreSQL writes it.
inline std::string version_text(int v) {
  if (v >= 100000) return std::to_string(v / 10000) + "." + std::to_string(v % 10000);
  return std::to_string(v / 10000) + "." + std::to_string(v / 100 % 100) + "." + std::to_string(v % 100);
}

/// Throws UnsupportedVersion when libpq (`lib`, as PQlibVersion() gives it) is older than
/// tenantry's minimum (version.hpp). Checked before connecting: libpq may be older at run time
/// than the libpq-fe.h the program was compiled with.
inline void require_libpq_version(int lib) {
  if (lib < TENANTRY_MIN_LIBPQ_VERSION)
    throw UnsupportedVersion("libpq", lib, version_text(lib), TENANTRY_MIN_LIBPQ_VERSION,
                             version_text(TENANTRY_MIN_LIBPQ_VERSION), "host lists and SCRAM authentication");
}

/// Throws UnsupportedVersion when the server (`server`, as PQserverVersion() gives it) is older
/// than tenantry's minimum. 0 (libpq could not tell) is let through.
inline void require_server_version(int server) {
  if (server != 0 && server < TENANTRY_MIN_POSTGRES_SERVER_VERSION)
    throw UnsupportedVersion("PostgreSQL server", server, version_text(server),
                             TENANTRY_MIN_POSTGRES_SERVER_VERSION, version_text(TENANTRY_MIN_POSTGRES_SERVER_VERSION),
                             "the generated DDL uses ON DELETE SET NULL (columns), new in 15, the oldest release "
                             "still supported upstream");
}

}  // namespace detail

/// An open PostgreSQL connection. Movable, not copyable; one thread at a time.
class Connection {
 public:
  using dialect = PgDialect;
  using statement = Statement;

  /// Connects with a libpq URL (postgresql://, postgres://) or keyword string ("host=... dbname=...").
  /// Throws ConnectionError with libpq's message; UnsupportedVersion (and closes the connection)
  /// when libpq or the server is older than tenantry's minimum (version.hpp).
  explicit Connection(const std::string& conninfo, Options options = {})
      : session_(std::make_unique<detail::Session>()) {
    detail::require_libpq_version(PQlibVersion());
    session_->server_prepared = options.server_prepared;
    org_context_ = options.org_context;
    org_schemas_ = options.org_schemas;
    statement_timeout_ = std::move(options.statement_timeout);
    has_timeout_ = static_cast<bool>(statement_timeout_);
    any_context_ = org_context_ || org_schemas_ || has_timeout_;
    session_->watch.install(std::move(options.observer));
    const std::string timeout = std::to_string(std::max(options.connect_timeout_s, 0));
    // Keywords are applied in order and the last one wins, so the defaults come before the
    // conninfo (expanded from "dbname") and the user's settings override them. TCP keepalives
    // make a server that vanished without closing the socket an error within about a minute
    // instead of a hang. client_encoding comes last: tenantry binds and reads UTF-8.
    const char* const keys[] = {"connect_timeout", "keepalives",   "keepalives_idle", "keepalives_interval",
                                "keepalives_count", "fallback_application_name", "dbname", "client_encoding",
                                nullptr};
    const char* const values[] = {timeout.c_str(), "1", "30", "10", "3", "tenantry", conninfo.c_str(), "UTF8", nullptr};
    session_->conn = PQconnectdbParams(keys, values, 1);
    if (session_->conn == nullptr) throw ConnectionError("tenantry: postgres: out of memory opening a connection", "08001");
    if (PQstatus(session_->conn) != CONNECTION_OK) {
      throw ConnectionError("tenantry: postgres: cannot connect: " + detail::trimmed(PQerrorMessage(session_->conn)),
                            "08001");
    }
    detail::require_server_version(PQserverVersion(session_->conn));
    // NOTICEs and WARNINGs would go to stderr; a library has no business writing there.
    PQsetNoticeProcessor(session_->conn, [](void*, const char*) {}, nullptr);
    // Binary timestamps are int64 microseconds only with integer datetimes (always, since 10).
    const char* integer_datetimes = PQparameterStatus(session_->conn, "integer_datetimes");
    if (integer_datetimes == nullptr || std::string_view(integer_datetimes) != "on")
      throw ConnectionError("tenantry: postgres: the server does not use integer datetimes", "08001");
  }

  Connection(Connection&&) noexcept = default;
  Connection& operator=(Connection&&) noexcept = default;
  // Statements never touch the server when destroyed (closing the connection frees their
  // server-side copies), so members may go in any order.
  ~Connection() = default;

  /// The cached statement for `sql`, prepared on the server on first use on this connection.
  /// Throws UsageError while a query's rows are streamed, ConnectionError once the connection
  /// is known to be broken. For a statement already cached that is all it asks: whether libpq
  /// has seen the connection fail since (PQstatus) is asked once per execution, by step().
  [[gnu::always_inline]] Statement& prepare(const Sql& sql) {
    if (!session_) [[unlikely]]
      moved_from();
    detail::Session& s = *session_;
    if (s.streaming || !s.broken.empty()) [[unlikely]]
      s.unusable();
    if (sql.id < statements_.size()) [[likely]]
      if (Statement* cached = statements_[sql.id].get()) [[likely]]
        return *cached;
    return prepare_new(sql);
  }

  /// Runs one or more statements without parameters (DDL, SET, ...) with the simple query
  /// protocol. Several statements in one call run in one implicit transaction unless they say
  /// otherwise.
  void execute(std::string_view sql) {
    const std::string text(sql);  // libpq wants a NUL-terminated string
    detail::exec_simple(session(), text.c_str());
  }

  /// Opens a transaction scope (BEGIN, or a savepoint when one is open).
  Transaction<Connection> transaction() { return Transaction<Connection>(*this); }

  /// True while a transaction scope opened through transaction() is active.
  bool in_transaction() const noexcept { return depth_ > 0; }

  /// Drops every cached statement and deallocates the session's prepared statements on the
  /// server (all of them, including ones prepared outside tenantry). Use after the schema changed
  /// the types of a cached statement's columns or parameters.
  void clear_statement_cache() {
    statements_.clear();
    detail::Session& s = session();
    // Impossible inside a failed transaction; a statement left behind has the name and text of
    // ours, and is used as it is when next prepared.
    if (!s.broken.empty() || PQstatus(s.conn) != CONNECTION_OK || PQtransactionStatus(s.conn) == PQTRANS_INERROR)
      return;
    try {
      detail::exec_simple(s, "DEALLOCATE ALL");
    } catch (const DatabaseError&) {
      // Nothing to undo: a statement still holding one of our names holds our text too, and a
      // lost connection is already marked broken.
    }
  }

  /// Resets every cached statement: drops its result and its bound values. A statement left
  /// part-way through its rows keeps the whole result, and its next step() would return the old
  /// rows instead of executing; Pool calls this when a connection comes back, so the next user
  /// of a cached statement runs its own query. No round trip.
  void reset_statements() noexcept {
    for (auto& statement : statements_)
      if (statement) statement->reset();
  }

  PGconn* native() const noexcept { return session_ ? session_->conn : nullptr; }

  /// Counts of what this connection's server-side statements went through (see StatementStats).
  StatementStats statement_stats() const noexcept { return session_ ? session_->stats : StatementStats{}; }

  /// The observer told about this connection's statements (observe.hpp), or null. Install one
  /// with Options::observer, or here before the connection is used (not while a statement on
  /// it is being read).
  const std::shared_ptr<StatementObserver>& observer() { return session().watch.owner; }
  void set_observer(std::shared_ptr<StatementObserver> observer) { session().watch.install(std::move(observer)); }
  /// Used by in_org_context to name the org of the operation running (observe.hpp).
  tenantry::detail::StatementWatch& statement_watch() { return session().watch; }

  // ---- org context for row-level security ----------------------------------------------------
  /// True when repositories must call set_org_context() before an org-scoped operation:
  /// Options::org_context (row-level security), Options::org_schemas (schema per org) or
  /// Options::statement_timeout (a per-org limit).
  bool org_context_enabled() const noexcept { return any_context_; }
  bool org_schemas_enabled() const noexcept { return org_schemas_; }
  /// org_context_enabled() for one operation of org: with only a statement_timeout configured,
  /// an org without a limit needs no transaction of its own (unless the open transaction holds
  /// another org's limit, which set_org_context() then takes back).
  template <org_id_type O>
  bool org_context_needed(const O& org) const {
    if (!any_context_) return false;
    if (org_context_ || org_schemas_) return true;
    return timeout_needed(org);
  }

  /// Sets the org for the rest of the current transaction: app.current_org_id (org_context)
  /// and/or the search path "org_<hex>", public (org_schemas), both with set_config(..., true),
  /// and the org's statement_timeout (Options::statement_timeout).
  /// Repositories call it before each org-scoped operation; it costs a round trip only when the
  /// org changes within the transaction. With org_schemas, an org whose schema does not exist
  /// throws OrgNotProvisioned and sets nothing: the one statement sets the path only for a row
  /// of pg_namespace, so a missing schema can never leave the path falling through to public.
  ///
  /// `org` is any org type (OrgId, TextOrgId, IntOrgId): the setting holds its text form (bound
  /// as a parameter, never spliced), which the policies cast to the org column's type; the
  /// schema is org_schema_name(org), which no org id can inject anything into.
  template <org_id_type O>
  void set_org_context(const O& org) {
    if (depth_ == 0) throw UsageError("tenantry: postgres: the org context is set inside a transaction only");
    if (org_set_ && !platform_in_transaction_ && std::holds_alternative<O>(org_in_transaction_) &&
        std::get<O>(org_in_transaction_) == org)
      return;
    org.check("(org context)");
    if (statement_timeout_) set_statement_timeout(org);
    if (platform_maybe_set_ && org_context_) {
      // This transaction was in the platform scope: leave it before the org is set.
      static const Sql off_sql = intern_sql("SELECT set_config('" + std::string(platform_setting) + "', '', true)");
      Statement& st = prepare(off_sql);
      StatementScope scope(st);
      st.step();
    }
    platform_in_transaction_ = false;
    if (!org_context_ && !org_schemas_) {
      org_in_transaction_.template emplace<O>(org);
      org_set_ = true;
      return;
    }
    char text[36];
    std::string org_string;
    std::string_view org_text;
    if constexpr (std::is_same_v<O, OrgId>) {
      org.value.write(text);
      org_text = std::string_view(text, sizeof text);
    } else {
      org_string = org.to_string();
      org_text = org_string;
    }
    if (!org_schemas_) {
      static const Sql set_sql = intern_sql("SELECT set_config('" + std::string(org_setting) + "', $1, true)");
      Statement& st = prepare(set_sql);
      StatementScope scope(st);
      st.bind_text(1, org_text);
      st.step();
    } else {
      static const std::string schema_sql =
          "SELECT set_config('search_path', $2, true)";
      static const Sql path_sql = intern_sql(schema_sql + " FROM pg_catalog.pg_namespace WHERE nspname = $1");
      static const Sql path_org_sql = intern_sql(schema_sql + ", set_config('" + std::string(org_setting) +
                                                 "', $3, true) FROM pg_catalog.pg_namespace WHERE nspname = $1");
      const std::string schema = org_schema_name(org);
      const std::string path = '"' + schema + "\", public";
      Statement& st = prepare(org_context_ ? path_org_sql : path_sql);
      StatementScope scope(st);
      st.bind_text(1, schema);
      st.bind_text(2, path);
      if (org_context_) st.bind_text(3, org_text);
      if (!st.step()) throw OrgNotProvisioned(org.to_string(), schema);
    }
    org_in_transaction_.template emplace<O>(org);
    org_set_ = true;
  }

  /// Whether a tenantry::platform call needs a transaction that sets its context: with
  /// row-level security or schema per org, or when the open transaction holds an org's
  /// statement_timeout (which the platform call must not inherit).
  bool platform_context_needed() const noexcept { return org_context_ || org_schemas_ || timeout_set_; }

  /// Sets the platform scope (types.hpp, PlatformScope) for the rest of the current
  /// transaction: platform_setting 'on' and org_setting empty (org_context), and/or the search
  /// path `public` alone (org_schemas: platform rows live in shared tables), all with
  /// set_config(..., true); an org's statement_timeout set earlier in the transaction is taken
  /// back (the platform scope has none of its own). Repositories and queries call it before each
  /// tenantry::platform call.
  void set_platform_context() {
    if (depth_ == 0) throw UsageError("tenantry: postgres: the platform context is set inside a transaction only");
    if (org_set_ && platform_in_transaction_) return;
    if (timeout_set_) apply_statement_timeout(std::chrono::milliseconds(0));
    if (!org_context_ && !org_schemas_) {
      platform_in_transaction_ = true;
      org_set_ = true;
      return;
    }
    static const std::string rls_part = "set_config('" + std::string(org_setting) + "', '', true), set_config('" +
                                        std::string(platform_setting) + "', 'on', true)";
    static const std::string path_part = "set_config('search_path', 'public', true)";
    static const Sql rls_sql = intern_sql("SELECT " + rls_part);
    static const Sql path_sql = intern_sql("SELECT " + path_part);
    static const Sql both_sql = intern_sql("SELECT " + path_part + ", " + rls_part);
    Statement& st = prepare(org_schemas_ ? (org_context_ ? both_sql : path_sql) : rls_sql);
    StatementScope scope(st);
    st.step();
    platform_maybe_set_ = true;
    platform_in_transaction_ = true;
    org_set_ = true;
  }

  /// True when an org-scoped operation of org that runs exactly one statement can send its org
  /// context with it (pipeline_org) instead of in a transaction of its own: row-level security
  /// only (Options::org_context, not org_schemas, no statement_timeout for the org), outside a
  /// transaction, with a libpq that has pipeline mode.
  [[gnu::always_inline]] bool org_statement_pipelined(const OrgId& org) const {
#ifdef LIBPQ_HAS_PIPELINING
    return org_context_ && !org_schemas_ && depth_ == 0 && (!has_timeout_ || !timeout_needed(org));
#else
    (void)org;
    return false;
#endif
  }

  /// While the returned guard lives, the next statement executed on this connection is sent
  /// together with set_config(app.current_org_id, org, true) in one pipeline: one round trip
  /// where in_org_context takes four (BEGIN, set_config, the statement, COMMIT), and the same
  /// scope, since both run in one implicit transaction that ends with the statement. A second
  /// statement while the guard lives is refused with UsageError (it would run without the org).
  /// The set_config is part of the statement's execution: a statement observer sees the one
  /// statement. For org_context.hpp's in_org_statement; check org_statement_pipelined(org) first.
  class PipelinedOrg {
   public:
    PipelinedOrg(const PipelinedOrg&) = delete;
    PipelinedOrg& operator=(const PipelinedOrg&) = delete;
    ~PipelinedOrg() { s_.prelude = detail::Session::Prelude::off; }

   private:
    friend class Connection;
    explicit PipelinedOrg(detail::Session& s) noexcept : s_(s) {}
    detail::Session& s_;
  };
  [[nodiscard]] PipelinedOrg pipeline_org(const OrgId& org) {
    detail::Session& s = session();
    if (depth_ != 0 || !org_context_) throw UsageError("tenantry: postgres: pipeline_org needs org_context and no open transaction");
    org.value.write(s.prelude_org.data());
    s.prelude = detail::Session::Prelude::armed;
    return PipelinedOrg(s);
  }

  // ---- pipelined batches (batch.hpp) ---------------------------------------------------------

  /// True when run_pipelined can send a batch in one pipeline (a libpq with pipeline mode).
  static constexpr bool can_pipeline() noexcept {
#ifdef LIBPQ_HAS_PIPELINING
    return true;
#else
    return false;
#endif
  }

  /// True when the statement for `sql` is cached and ready to be queued in a pipeline (when it
  /// is not, preparing it is a round trip, and with schema per org must happen in the org's
  /// schema, where its unqualified tables are).
  bool ready_for_pipeline(const Sql& sql) const noexcept {
    if (session_ && !session_->server_prepared) return true;  // nothing to prepare
    return sql.id < statements_.size() && statements_[sql.id] && statements_[sql.id]->ready_for_pipeline();
  }

  /// Runs `count` statements of one org as one libpq pipeline. queue(k) binds statement k and
  /// queues it (Statement::queue_in_pipeline; every statement prepared before, with
  /// prepare_for_pipeline); take(k, result) hands statement k its result
  /// (Statement::take_pipelined, which throws a failed statement's error).
  ///
  /// Outside a transaction: BEGIN, the org's context (the RLS setting, the schema's search path,
  /// the org's statement_timeout: whichever this connection sets, all with set_config(..., true)
  /// so they end with the transaction), the statements and COMMIT go with one sync, in one round
  /// trip. A statement that fails makes the server skip the rest up to the sync, COMMIT
  /// included: the transaction is rolled back (one more round trip, on that path only), nothing
  /// of the batch is written, and take() is called for the failed statement alone, to throw its
  /// error. A value that cannot be bound (queue throws) sends ROLLBACK in place of COMMIT.
  /// Schema per org: the search path is set only from an existing schema (the regnamespace cast
  /// fails otherwise), so a missing schema is OrgNotProvisioned and no statement runs against
  /// public. Behind PgBouncer in transaction pooling the pipeline up to its sync stays on one
  /// server session.
  ///
  /// Inside the caller's transaction it joins it: a savepoint, the org set in the transaction
  /// as any operation sets it (set_org_context), the statements in one pipeline, the savepoint
  /// released; a failure rolls back to the savepoint, so the caller's transaction goes on.
  template <org_id_type O, class Queue, class Take>
  void run_pipelined(const O& org, std::size_t count, Queue&& queue, Take&& take) {
    run_pipelined(org, count, [] {}, queue, take);
  }

  /// run_pipelined, and when a server session turns out to lack one of the statements (26000:
  /// DEALLOCATE, a restart, a pooler that gave the pipeline another session) outside a
  /// transaction, once more in one transaction of its own, so that preparing and executing
  /// share one server session: BEGIN, the org's context, prepare_again() (which prepares every
  /// statement of the batch again), the statements in one pipeline, COMMIT. Nothing of the
  /// failed pipeline was written, so nothing is written twice.
  template <org_id_type O, class PrepareAgain, class Queue, class Take>
  void run_pipelined(const O& org, std::size_t count, PrepareAgain&& prepare_again, Queue&& queue, Take&& take) {
    detail::Session& s = session();
    s.ensure_usable();
    if (s.prelude != detail::Session::Prelude::off)
      throw UsageError("tenantry: postgres: a batch inside an operation sent as one statement (Connection::pipeline_org)");
    if (depth_ > 0) {
      auto tx = transaction();
      if (org_context_needed(org)) set_org_context(org);
      pipeline(nullptr, count, queue, take);
      tx.commit();
      return;
    }
    org.check("(org context)");
    BatchContext context;
    const bool timeout = statement_timeout_ && statement_timeout_(org).count() != 0;
    if (timeout && statement_timeout_(org).count() < 0)
      throw UsageError("tenantry: postgres: a negative statement_timeout for org " + org.to_string());
    context.sql = &batch_context_sql(org_context_, org_schemas_, timeout);
    if (org_context_) context.values.push_back(org.to_string());
    if (org_schemas_) {
      context.schema = org_schema_name(org);
      context.values.push_back('"' + context.schema + '"');
    }
    if (timeout) context.values.push_back(std::to_string(statement_timeout_(org).count()));
    if (context.values.empty()) context.sql = nullptr;
    if (org_schemas_) context.org = org.to_string();
    try {
      pipeline(&context, count, queue, take);
      return;
    } catch (const DatabaseError& e) {
      if (e.code() != "26000" || !s.server_prepared) throw;
    }
    // The retry, on one server session: its own transaction, outside Transaction's count (no
    // operation can run in it: the context and the statements are sent from here only).
    detail::exec_simple(s, "BEGIN");
    try {
      if (context.sql != nullptr) {
        std::vector<const char*> values;
        for (const std::string& v : context.values) values.push_back(v.c_str());
        detail::Result r(PQexecParams(s.conn, context.sql->c_str(), static_cast<int>(values.size()), nullptr,
                                      values.data(), nullptr, nullptr, 0));
        if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
          if (!context.schema.empty() && detail::sqlstate(r.get()) == "3F000")
            throw OrgNotProvisioned(context.org, context.schema);
          detail::throw_error(s, r.get(), *context.sql);
        }
      }
      prepare_again();
      pipeline(nullptr, count, queue, take);
      const detail::Result r = detail::exec_simple(s, "COMMIT");
      if (std::string_view(PQcmdStatus(r.get())) == "ROLLBACK")
        throw DatabaseError("tenantry: postgres: COMMIT of a batch rolled it back; nothing was written", "25P02");
    } catch (...) {
      if (s.broken.empty() && PQstatus(s.conn) == CONNECTION_OK && PQtransactionStatus(s.conn) != PQTRANS_IDLE)
        PQclear(PQexec(s.conn, "ROLLBACK"));
      throw;
    }
  }

  // ---- used by Transaction -------------------------------------------------------------------
  void begin_scope() {
    if (session().prelude != detail::Session::Prelude::off)
      throw UsageError("tenantry: postgres: a transaction opened inside an operation sent as one statement "
                       "(Connection::pipeline_org)");
    if (depth_ == 0) org_set_ = timeout_set_ = platform_maybe_set_ = false;  // a new transaction starts with no org context
    if (depth_ == 0) detail::exec_simple(session(), "BEGIN");
    else detail::exec_simple(session(), savepoint(depth_).begin.c_str());
    ++depth_;
  }

  void commit_scope() {
    if (depth_ == 0) throw UsageError("tenantry: commit without an open transaction");
    detail::Session& s = session();
    if (depth_ == 1) {
      depth_ = 0;  // whatever happens, this scope is over
      org_set_ = timeout_set_ = false;
      try {
        const detail::Result r = detail::exec_simple(s, "COMMIT");
        // COMMIT of a transaction that an error had aborted succeeds and rolls back: report it,
        // or the caller would believe its writes were kept.
        if (std::string_view(PQcmdStatus(r.get())) == "ROLLBACK") {
          throw DatabaseError("tenantry: postgres: COMMIT rolled the transaction back because a statement in it had "
                              "failed; nothing was written",
                              "25P02");
        }
      } catch (const ConnectionError&) {
        throw;
      } catch (...) {
        // A failed COMMIT (deferred constraint, serialization failure) ends the transaction on
        // the server; make sure of it so the connection is usable for the next one.
        if (PQtransactionStatus(s.conn) != PQTRANS_IDLE) PQclear(PQexec(s.conn, "ROLLBACK"));
        throw;
      }
      return;
    }
    const SavepointSql& sp = savepoint(depth_ - 1);
    --depth_;  // the committing Transaction has let go of this scope
    try {
      detail::exec_simple(s, sp.release.c_str());
    } catch (const ConnectionError&) {
      throw;
    } catch (...) {
      // The scope cannot be kept (its transaction is in a failed state): undo it, so the
      // enclosing scope can go on or roll back cleanly, and report the failure.
      org_set_ = false;
      try {
        detail::exec_simple(s, sp.rollback.c_str());
      } catch (...) {
      }
      throw;
    }
  }

  void rollback_scope() {
    if (depth_ == 0) throw UsageError("tenantry: rollback without an open transaction");
    --depth_;
    if (depth_ == 0) timeout_set_ = false;
    // Rolling back to a savepoint also undoes a set_config made after it: forget what was set.
    org_set_ = false;
    // ROLLBACK works in a failed transaction, and so does ROLLBACK TO (which also makes the
    // enclosing transaction usable again).
    if (depth_ == 0) detail::exec_simple(session(), "ROLLBACK");
    else detail::exec_simple(session(), savepoint(depth_).rollback.c_str());
  }

 private:
  struct SavepointSql {
    std::string begin, release, rollback;
  };

  detail::Session& session() {
    if (!session_) [[unlikely]]
      moved_from();
    return *session_;
  }
  [[noreturn, gnu::cold, gnu::noinline]] static void moved_from() {
    throw UsageError("tenantry: postgres: use of a moved-from connection");
  }

  /// With a statement_timeout configured: whether org's operation needs its transaction for
  /// the limit (the org has one, or the open transaction holds another org's). Out of line, so
  /// that the checks before it inline into every operation.
  template <org_id_type O>
  [[gnu::noinline]] bool timeout_needed(const O& org) const {
    return timeout_set_ || statement_timeout_(org).count() != 0;
  }

  // prepare() of a statement not cached yet: out of line, so the cached lookup inlines.
  [[gnu::noinline]] Statement& prepare_new(const Sql& sql) {
    session().ensure_usable();
    if (sql.id >= statements_.size()) statements_.resize(sql.id + 1);
    auto& slot = statements_[sql.id];
    tenantry::detail::StatementWatch& w = session_->watch;
    const auto start = w.observer != nullptr ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    try {
      slot = std::make_unique<Statement>(*session_, sql);
    } catch (const std::exception& e) {
      tenantry::detail::report_unprepared(w, "postgres", sql.name != nullptr ? *sql.name : "", sql.view(), start, e);
      throw;
    }
    return *slot;
  }

  /// Options::statement_timeout for org, in the current transaction. The first limit set in a
  /// transaction also reads the value it replaces (the subquery runs before the outer
  /// set_config), which an org without a limit gets back later in the same transaction.
  template <org_id_type O>
  void set_statement_timeout(const O& org) {
    const std::chrono::milliseconds limit = statement_timeout_(org);
    if (limit.count() < 0) throw UsageError("tenantry: postgres: a negative statement_timeout for org " + org.to_string());
    apply_statement_timeout(limit);
  }
  /// `limit` (0: the value the transaction had before any org's limit) as the statement_timeout.
  void apply_statement_timeout(std::chrono::milliseconds limit) {
    if (limit.count() == 0 && !timeout_set_) return;  // the transaction's own setting stands
    static const Sql first_sql = intern_sql(
        "SELECT before.setting, set_config('statement_timeout', $1, true) FROM "
        "(SELECT current_setting('statement_timeout') AS setting OFFSET 0) AS before");
    static const Sql again_sql = intern_sql("SELECT set_config('statement_timeout', $1, true)");
    const std::string value = limit.count() == 0 ? timeout_before_ : std::to_string(limit.count());
    Statement& st = prepare(timeout_set_ ? again_sql : first_sql);
    StatementScope scope(st);
    st.bind_text(1, value);
    if (!st.step()) throw DatabaseError("tenantry: postgres: set_config('statement_timeout') returned no row", "");
    if (!timeout_set_) timeout_before_ = std::string(st.column_text(0));
    timeout_set_ = limit.count() != 0;
  }

  // ---- pipelined batches --------------------------------------------------------------------

  /// A batch's own transaction: the statement that sets the org's context in it (null: none)
  /// and its parameters, in the order batch_context_sql numbers them.
  struct BatchContext {
    const std::string* sql = nullptr;
    std::vector<std::string> values;
    std::string schema, org;  // for OrgNotProvisioned
  };

  /// One SELECT of set_config calls: the RLS setting, the search path from an existing schema
  /// (the quoted schema name through a regnamespace cast, which fails with 3F000 when there is
  /// no such schema), the statement_timeout; parameters numbered in that order.
  static const std::string& batch_context_sql(bool rls, bool schemas, bool timeout) {
    static const std::array<std::string, 8> texts = [] {
      std::array<std::string, 8> out;
      for (unsigned flags = 0; flags < 8; ++flags) {
        std::string sets;
        int n = 0;
        const auto add = [&](const std::string& part) { sets += (sets.empty() ? "" : ", ") + part; };
        if (flags & 1u) add("set_config('" + std::string(org_setting) + "', $" + std::to_string(++n) + ", true)");
        // The path is made from the regnamespace cast's output, so the cast cannot be left out.
        if (flags & 2u)
          add("set_config('search_path', $" + std::to_string(++n) + "::text::regnamespace::text || ', public', true)");
        if (flags & 4u) add("set_config('statement_timeout', $" + std::to_string(++n) + ", true)");
        out[flags] = "SELECT " + sets;
      }
      return out;
    }();
    return texts[(rls ? 1u : 0u) | (schemas ? 2u : 0u) | (timeout ? 4u : 0u)];
  }

  /// run_pipelined's pipeline: with `own`, BEGIN, its context statement and COMMIT around the
  /// statements; without, the statements alone (the caller's transaction holds them).
  template <class Queue, class Take>
  void pipeline(const BatchContext* own, std::size_t count, Queue& queue, Take& take) {
#ifdef LIBPQ_HAS_PIPELINING
    detail::Session& s = session();
    const auto plain = [&](const char* sql) {
      return PQsendQueryParams(s.conn, sql, 0, nullptr, nullptr, nullptr, nullptr, 0) == 1;
    };
    const auto unsendable = [&]() {
      if (PQpipelineStatus(s.conn) != PQ_PIPELINE_OFF) {
        while (PGresult* r = PQgetResult(s.conn)) PQclear(r);
        PQexitPipelineMode(s.conn);
      }
      if (s.broken.empty()) s.broken = detail::trimmed(PQerrorMessage(s.conn));
      throw ConnectionError("tenantry: postgres: cannot send to the server (" + s.broken + ")", "08006");
    };
    if (PQenterPipelineMode(s.conn) != 1) unsendable();
    // Commands sent, in order: [BEGIN, context], the statements, [COMMIT or ROLLBACK].
    std::size_t lead = 0;
    if (own) {
      if (!plain("BEGIN")) unsendable();
      ++lead;
      if (own->sql != nullptr) {
        std::vector<const char*> values;
        for (const std::string& v : own->values) values.push_back(v.c_str());
        if (PQsendQueryParams(s.conn, own->sql->c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                              nullptr, nullptr, 0) != 1)
          unsendable();
        ++lead;
      }
    }
    std::size_t queued = 0;
    std::exception_ptr refused;  // a value that could not be bound: nothing may be kept
    for (; queued < count; ++queued) {
      bool sent = false;
      try {
        sent = queue(queued);
      } catch (...) {
        refused = std::current_exception();
        break;
      }
      if (!sent) unsendable();
    }
    if (own && !plain(refused ? "ROLLBACK" : "COMMIT")) unsendable();
    if (PQpipelineSync(s.conn) != 1) unsendable();
    const std::size_t commands = lead + queued + (own ? 1 : 0);
    std::vector<detail::Result> results(commands);
    for (std::size_t q = 0; q < commands; ++q) {
      while (PGresult* r = PQgetResult(s.conn)) {
        if (!results[q]) results[q].reset(r);
        else PQclear(r);
      }
    }
    PQclear(PQgetResult(s.conn));  // PGRES_PIPELINE_SYNC (null when the connection is gone)
    PQexitPipelineMode(s.conn);
    // The first command that did not succeed; those after it were skipped (PIPELINE_ABORTED).
    std::size_t failed = commands;
    for (std::size_t q = 0; q < commands && failed == commands; ++q)
      if (!results[q] || (PQresultStatus(results[q].get()) != PGRES_COMMAND_OK &&
                          PQresultStatus(results[q].get()) != PGRES_TUPLES_OK))
        failed = q;
    const auto end_own = [&] {
      if (own && s.broken.empty() && PQstatus(s.conn) == CONNECTION_OK && PQtransactionStatus(s.conn) != PQTRANS_IDLE)
        PQclear(PQexec(s.conn, "ROLLBACK"));
    };
    if (refused) {
      end_own();
      std::rethrow_exception(refused);
    }
    if (failed < commands) {
      end_own();
      if (failed >= lead && failed < lead + queued) {
        take(failed - lead, std::move(results[failed]));  // throws the statement's own error
        throw DatabaseError("tenantry: postgres: a statement of a batch failed", "");
      }
      if (failed == 1 && own->sql != nullptr && !own->schema.empty() && detail::sqlstate(results[failed].get()) == "3F000")
        throw OrgNotProvisioned(own->org, own->schema);
      detail::throw_error(s, results[failed].get(), failed == 0 ? "BEGIN" : failed < lead ? *own->sql : "COMMIT");
    }
    if (own && std::string_view(PQcmdStatus(results[commands - 1].get())) == "ROLLBACK")
      throw DatabaseError("tenantry: postgres: COMMIT of a batch rolled it back; nothing was written", "25P02");
    for (std::size_t k = 0; k < queued; ++k) take(k, std::move(results[lead + k]));
#else
    (void)own, (void)count, (void)queue, (void)take;
    throw UsageError("tenantry: postgres: libpq without pipeline mode");
#endif
  }

  /// The commands for savepoint tenantry_<level>, built once per level per connection.
  const SavepointSql& savepoint(int level) {
    while (savepoints_.size() < static_cast<std::size_t>(level)) {
      const std::string name = "tenantry_" + std::to_string(savepoints_.size() + 1);
      savepoints_.push_back({"SAVEPOINT " + name, "RELEASE " + name, "ROLLBACK TO " + name + "; RELEASE " + name});
    }
    return savepoints_[static_cast<std::size_t>(level - 1)];
  }

  std::unique_ptr<detail::Session> session_;
  std::vector<std::unique_ptr<Statement>> statements_;  // indexed by Sql::id
  std::vector<SavepointSql> savepoints_;
  int depth_ = 0;
  bool org_context_ = false;
  bool org_schemas_ = false;
  bool org_set_ = false;  // the org context (setting, search path) is org_in_transaction_ in the open transaction
  std::variant<std::monostate, OrgId, TextOrgId, IntOrgId> org_in_transaction_{};
  OrgStatementTimeout statement_timeout_;  // Options::statement_timeout
  bool has_timeout_ = false;               // statement_timeout_ is set (for any org type)
  bool any_context_ = false;               // org_context_ || org_schemas_ || has_timeout_: org_context_enabled()
  bool timeout_set_ = false;               // a per-org statement_timeout is set in the open transaction
  std::string timeout_before_;             // the value it replaced
  bool platform_in_transaction_ = false;  // with org_set_: the context is the platform scope
  bool platform_maybe_set_ = false;       // set_platform_context ran in the open transaction
};

}  // namespace tenantry::pg

template <>
struct tenantry::connection_for<tenantry::PgDialect> {
  using type = tenantry::pg::Connection;
};
