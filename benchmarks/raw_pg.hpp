// benchmarks/raw_pg.hpp - the hand-written libpq twin of the tenantry repository, plus the raw
// bulk-insert baselines (pipeline mode, multi-row VALUES, unnest of arrays, binary COPY).
//
// What "the best straightforward libpq code" means here:
//   * every statement is prepared once per connection (PQprepare, types inferred by the server
//     from the same SQL text tenantry sends) and run with PQexecPrepared;
//   * parameters travel in the formats tenantry's driver chooses for these column types: binary
//     UUIDs (16 bytes) and timestamptz (int64 microseconds since 2000-01-01), text as its bytes in
//     binary format (no terminating NUL, no copy); results are requested in binary too;
//   * parameter arrays live on the stack (or, for the bulk statements, in member buffers that keep
//     their capacity): the only per-call allocations are libpq's own (the PGresult) and the
//     strings of the rows returned.
#pragma once

#include "bench_model.hpp"
#include "bench_sql.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bench {

namespace pgwire {
inline constexpr std::int64_t epoch_micros = 946684800LL * 1000000;  // 2000-01-01 in unix micros
inline constexpr Oid uuid_oid = 2950, text_oid = 25, timestamptz_oid = 1184;

inline void put32(char* o, std::uint32_t v) {
  o[0] = static_cast<char>(v >> 24);
  o[1] = static_cast<char>(v >> 16);
  o[2] = static_cast<char>(v >> 8);
  o[3] = static_cast<char>(v);
}
inline void put64(char* o, std::uint64_t v) {
  put32(o, static_cast<std::uint32_t>(v >> 32));
  put32(o + 4, static_cast<std::uint32_t>(v));
}
inline std::uint64_t get64(const char* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
inline void append32(std::string& s, std::uint32_t v) {
  char b[4];
  put32(b, v);
  s.append(b, 4);
}
inline void append16(std::string& s, std::uint16_t v) {
  s += static_cast<char>(v >> 8);
  s += static_cast<char>(v);
}
inline void append_ts(std::string& s, Timestamp t) {
  char b[8];
  put64(b, static_cast<std::uint64_t>(t.micros - epoch_micros));
  s.append(b, 8);
}
}  // namespace pgwire

class RawPg {
 public:
  /// Connects and makes `schema` the session's search path (each side has its own schema, so the
  /// unqualified SQL text is the same on both).
  RawPg(const std::string& conninfo, std::string schema) : schema_(std::move(schema)) {
    conn_ = PQconnectdb(conninfo.c_str());
    if (PQstatus(conn_) != CONNECTION_OK) fail("connect");
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);
    execute(("SET search_path TO " + schema_).c_str());
  }
  ~RawPg() { PQfinish(conn_); }
  RawPg(const RawPg&) = delete;
  RawPg& operator=(const RawPg&) = delete;

  /// Creates the table with tenantry's DDL (in a fresh schema), then prepares every statement.
  void create_schema() {
    execute(("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE").c_str());
    execute(("CREATE SCHEMA " + schema_).c_str());
    for (const std::string& s : SqlText<tenantry::PgDialect>::get().ddl) execute(s.c_str());
    prepare_all();
  }

  void execute(const char* sql) {
    PGresult* r = PQexec(conn_, sql);
    const ExecStatusType s = PQresultStatus(r);
    PQclear(r);
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) fail(sql);
  }

  // ---- the operations, with the repository's signatures ------------------------------------

  void insert(OrgId, Token& row) {
    RowParams p(row);
    command(PQexecPrepared(conn_, "raw_insert", 10, p.values, p.lengths, p.formats, 1), "insert");
  }

  /// The twin of Repository::insert_many: one prepared INSERT per row inside BEGIN/COMMIT.
  void insert_many(OrgId, std::vector<Token>& rows) {
    execute("BEGIN");
    for (Token& row : rows) {
      RowParams p(row);
      PGresult* r = PQexecPrepared(conn_, "raw_insert", 10, p.values, p.lengths, p.formats, 1);
      if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        PQclear(r);
        execute("ROLLBACK");
        fail("insert_many");
      }
      PQclear(r);
    }
    execute("COMMIT");
  }

  std::optional<Token> find(OrgId org, const Uuid& id) {
    const char* values[2] = {uuid_ptr(org.value), uuid_ptr(id)};
    static constexpr int lengths[2] = {16, 16}, formats[2] = {1, 1};
    PGresult* r = PQexecPrepared(conn_, "raw_find", 2, values, lengths, formats, 1);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
      PQclear(r);
      fail("find");
    }
    std::optional<Token> out;
    if (PQntuples(r) == 1) read_row(r, 0, out.emplace());
    PQclear(r);
    return out;
  }

  /// One statement for all the keys: `"id" = ANY($2::UUID[])`, the ids as one binary uuid[].
  std::vector<Token> find_many(OrgId org, const std::vector<Uuid>& ids) {
    std::string& a = key_array_;
    a.clear();
    pgwire::append32(a, 1);  // dimensions
    pgwire::append32(a, 0);  // no NULLs
    pgwire::append32(a, pgwire::uuid_oid);
    pgwire::append32(a, static_cast<std::uint32_t>(ids.size()));
    pgwire::append32(a, 1);  // lower bound
    for (const Uuid& id : ids) append_field(a, uuid_ptr(id), 16);
    const char* values[2] = {uuid_ptr(org.value), a.data()};
    const int lengths[2] = {16, static_cast<int>(a.size())};
    static constexpr int formats[2] = {1, 1};
    PGresult* r = PQexecPrepared(conn_, "raw_find_many", 2, values, lengths, formats, 1);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
      PQclear(r);
      fail("find_many");
    }
    const int n = PQntuples(r);
    std::vector<Token> out;
    out.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) read_row(r, i, out.emplace_back());
    PQclear(r);
    return out;
  }

  std::vector<Token> list(OrgId org, const std::string& user) {
    const char* values[2] = {uuid_ptr(org.value), user.data()};
    const int lengths[2] = {16, static_cast<int>(user.size())};
    static constexpr int formats[2] = {1, 1};
    PGresult* r = PQexecPrepared(conn_, "raw_list", 2, values, lengths, formats, 1);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
      PQclear(r);
      fail("list");
    }
    const int n = PQntuples(r);
    std::vector<Token> out;
    for (int i = 0; i < n; ++i) read_row(r, i, out.emplace_back());
    PQclear(r);
    return out;
  }

  std::int64_t count(OrgId org) {
    const char* values[1] = {uuid_ptr(org.value)};
    static constexpr int lengths[1] = {16}, formats[1] = {1};
    PGresult* r = PQexecPrepared(conn_, "raw_count", 1, values, lengths, formats, 1);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1 || PQgetlength(r, 0, 0) != 8) {
      PQclear(r);
      fail("count");
    }
    const auto n = static_cast<std::int64_t>(pgwire::get64(PQgetvalue(r, 0, 0)));
    PQclear(r);
    return n;
  }

  void upsert(OrgId, Token& row) {
    RowParams p(row);
    PGresult* r = PQexecPrepared(conn_, "raw_upsert", 10, p.values, p.lengths, p.formats, 1);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
      PQclear(r);
      fail("upsert");
    }
    read_row(r, 0, row);
    PQclear(r);
  }

  /// The same INSERT ... ON CONFLICT ... DO UPDATE without RETURNING: nothing read back.
  void put(OrgId, const Token& row) {
    RowParams p(row);
    if (!command(PQexecPrepared(conn_, "raw_put", 10, p.values, p.lengths, p.formats, 1), "put")) fail("put");
  }

  bool set_updated_at(OrgId org, const Uuid& id, Timestamp ts) {
    char t[8];
    pgwire::put64(t, static_cast<std::uint64_t>(ts.micros - pgwire::epoch_micros));
    const char* values[3] = {uuid_ptr(org.value), uuid_ptr(id), t};
    static constexpr int lengths[3] = {16, 16, 8}, formats[3] = {1, 1, 1};
    return command(PQexecPrepared(conn_, "raw_set", 3, values, lengths, formats, 1), "set");
  }

  /// n set_updated_at in one transaction, by hand in libpq's pipeline mode: BEGIN, the n
  /// prepared UPDATEs and COMMIT with one sync, one round trip. Returns the rows changed.
  std::int64_t set_batch(OrgId org, const Uuid* ids, std::size_t n, Timestamp ts) {
    char t[8];
    pgwire::put64(t, static_cast<std::uint64_t>(ts.micros - pgwire::epoch_micros));
    static constexpr int lengths[3] = {16, 16, 8}, formats[3] = {1, 1, 1};
    if (PQenterPipelineMode(conn_) != 1) fail("enter pipeline mode");
    bool ok = PQsendQueryParams(conn_, "BEGIN", 0, nullptr, nullptr, nullptr, nullptr, 0) == 1;
    for (std::size_t k = 0; k < n; ++k) {
      const char* values[3] = {uuid_ptr(org.value), uuid_ptr(ids[k]), t};
      ok = ok && PQsendQueryPrepared(conn_, "raw_set", 3, values, lengths, formats, 1) == 1;
    }
    ok = ok && PQsendQueryParams(conn_, "COMMIT", 0, nullptr, nullptr, nullptr, nullptr, 0) == 1;
    ok = ok && PQpipelineSync(conn_) == 1;
    if (!ok) fail("pipeline send");
    bool failed = false;
    std::int64_t changed = 0;
    for (std::size_t q = 0; q < n + 2; ++q) {
      bool first = true;
      while (PGresult* r = PQgetResult(conn_)) {
        failed = failed || PQresultStatus(r) != PGRES_COMMAND_OK;
        if (first && q > 0 && q <= n) changed += std::strcmp(PQcmdTuples(r), "0") != 0 ? 1 : 0;
        first = false;
        PQclear(r);
      }
    }
    PGresult* sync = PQgetResult(conn_);
    failed = failed || PQresultStatus(sync) != PGRES_PIPELINE_SYNC;
    PQclear(sync);
    if (PQexitPipelineMode(conn_) != 1 || failed) fail("set_batch pipeline");
    return changed;
  }

  bool erase(OrgId org, const Uuid& id) {
    const char* values[2] = {uuid_ptr(org.value), uuid_ptr(id)};
    static constexpr int lengths[2] = {16, 16}, formats[2] = {1, 1};
    return command(PQexecPrepared(conn_, "raw_erase", 2, values, lengths, formats, 1), "erase");
  }

  /// The join of bench_sql.hpp (tokens_with_owner): the same text, binary results.
  std::vector<TokenWithOwner> join(OrgId org, const std::string& user) {
    const char* values[2] = {uuid_ptr(org.value), user.data()};
    const int lengths[2] = {16, static_cast<int>(user.size())};
    static constexpr int formats[2] = {1, 1};
    PGresult* r = PQexecPrepared(conn_, "raw_join", 2, values, lengths, formats, 1);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
      PQclear(r);
      fail("join");
    }
    const int n = PQntuples(r);
    std::vector<TokenWithOwner> out;
    for (int i = 0; i < n; ++i) {
      TokenWithOwner& t = out.emplace_back();
      t.id = uuid(r, i, 0);
      t.name.assign(text(r, i, 1));
      t.status = status(r, i, 2);
      t.created_at = timestamp(r, i, 3);
      t.email.assign(text(r, i, 4));
    }
    PQclear(r);
    return out;
  }

  /// The grouped count (tokens_per_status).
  std::vector<StatusCount> per_status(OrgId org) {
    const char* values[1] = {uuid_ptr(org.value)};
    static constexpr int lengths[1] = {16}, formats[1] = {1};
    PGresult* r = PQexecPrepared(conn_, "raw_per_status", 1, values, lengths, formats, 1);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
      PQclear(r);
      fail("per_status");
    }
    const int n = PQntuples(r);
    std::vector<StatusCount> out;
    for (int i = 0; i < n; ++i) {
      if (PQgetlength(r, i, 1) != 8) [[unlikely]] {
        PQclear(r);
        fail("per_status: count");
      }
      out.push_back(StatusCount{status(r, i, 0), static_cast<std::int64_t>(pgwire::get64(PQgetvalue(r, i, 1)))});
    }
    PQclear(r);
    return out;
  }

  void insert_owner(OrgId, Owner& o) {
    const char* values[4] = {o.id.data(), uuid_ptr(o.org_id.value), o.email.data(), o.display_name.data()};
    const int lengths[4] = {static_cast<int>(o.id.size()), 16, static_cast<int>(o.email.size()),
                            static_cast<int>(o.display_name.size())};
    static constexpr int formats[4] = {1, 1, 1, 1};
    command(PQexecPrepared(conn_, "raw_insert_owner", 4, values, lengths, formats, 1), "insert_owner");
  }

  // ---- bulk-insert baselines (one call inserts all `rows`, all or nothing) -----------------

  /// Pipeline mode: BEGIN, one prepared INSERT per row, COMMIT, all sent before any result is
  /// read; one round trip in all. (Fine for batches whose results fit the socket buffers, as
  /// here; larger ones would interleave reading with sending.)
  void insert_pipeline(OrgId, std::vector<Token>& rows) {
    if (PQenterPipelineMode(conn_) != 1) fail("enter pipeline mode");
    bool ok = PQsendQueryParams(conn_, "BEGIN", 0, nullptr, nullptr, nullptr, nullptr, 0) == 1;
    for (Token& row : rows) {
      RowParams p(row);
      ok = ok && PQsendQueryPrepared(conn_, "raw_insert", 10, p.values, p.lengths, p.formats, 1) == 1;
    }
    ok = ok && PQsendQueryParams(conn_, "COMMIT", 0, nullptr, nullptr, nullptr, nullptr, 0) == 1;
    ok = ok && PQpipelineSync(conn_) == 1;
    if (!ok) fail("pipeline send");
    bool failed = false;
    for (std::size_t q = 0; q < rows.size() + 2; ++q) {
      while (PGresult* r = PQgetResult(conn_)) {
        failed = failed || PQresultStatus(r) != PGRES_COMMAND_OK;
        PQclear(r);
      }
    }
    PGresult* sync = PQgetResult(conn_);
    failed = failed || PQresultStatus(sync) != PGRES_PIPELINE_SYNC;
    PQclear(sync);
    if (PQexitPipelineMode(conn_) != 1 || failed) fail("pipeline");
  }

  /// INSERT ... VALUES (...), (...), ...: one statement per 1,000 rows (10,000 parameters),
  /// prepared once per batch size; in a transaction when there is more than one.
  void insert_multirow(OrgId, std::vector<Token>& rows) {
    constexpr std::size_t per_statement = 1000;
    const bool tx = rows.size() > per_statement;
    if (tx) execute("BEGIN");
    for (std::size_t first = 0; first < rows.size(); first += per_statement) {
      const std::size_t n = std::min(per_statement, rows.size() - first);
      const std::string& name = multirow_statement(n);
      values_.resize(10 * n);
      lengths_.resize(10 * n);
      formats_.assign(10 * n, 1);
      stamps_.resize(16 * n);
      for (std::size_t i = 0; i < n; ++i) {
        const Token& t = rows[first + i];
        char* ts = stamps_.data() + 16 * i;
        pgwire::put64(ts, static_cast<std::uint64_t>(t.created_at.micros - pgwire::epoch_micros));
        pgwire::put64(ts + 8, static_cast<std::uint64_t>(t.updated_at.micros - pgwire::epoch_micros));
        fill_row(values_.data() + 10 * i, lengths_.data() + 10 * i, t, ts);
      }
      PGresult* r = PQexecPrepared(conn_, name.c_str(), static_cast<int>(10 * n), values_.data(), lengths_.data(),
                                   formats_.data(), 1);
      const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
      PQclear(r);
      if (!ok) {
        if (tx) execute("ROLLBACK");
        fail("insert_multirow");
      }
    }
    if (tx) execute("COMMIT");
  }

  /// INSERT ... SELECT * FROM unnest($1::uuid[], ...): one statement, ten binary arrays.
  void insert_unnest(OrgId, std::vector<Token>& rows) {
    static constexpr Oid elem[10] = {
        pgwire::uuid_oid, pgwire::uuid_oid, pgwire::text_oid, pgwire::text_oid,        pgwire::text_oid,
        pgwire::text_oid, pgwire::text_oid, pgwire::text_oid, pgwire::timestamptz_oid, pgwire::timestamptz_oid};
    arrays_.resize(10);
    for (int c = 0; c < 10; ++c) {
      std::string& a = arrays_[static_cast<std::size_t>(c)];
      a.clear();
      pgwire::append32(a, 1);  // dimensions
      pgwire::append32(a, 0);  // no NULLs
      pgwire::append32(a, elem[c]);
      pgwire::append32(a, static_cast<std::uint32_t>(rows.size()));
      pgwire::append32(a, 1);  // lower bound
    }
    for (const Token& t : rows) {
      append_field(arrays_[0], uuid_ptr(t.id), 16);
      append_field(arrays_[1], uuid_ptr(t.org_id.value), 16);
      append_text(arrays_[2], t.user_id);
      append_text(arrays_[3], t.name);
      append_text(arrays_[4], t.token_prefix);
      append_text(arrays_[5], t.token_hash);
      append_text(arrays_[6], t.scopes);
      append_text(arrays_[7], status_text(t.status));
      pgwire::append32(arrays_[8], 8);
      pgwire::append_ts(arrays_[8], t.created_at);
      pgwire::append32(arrays_[9], 8);
      pgwire::append_ts(arrays_[9], t.updated_at);
    }
    const char* values[10];
    int lengths[10], formats[10];
    for (int c = 0; c < 10; ++c) {
      values[c] = arrays_[static_cast<std::size_t>(c)].data();
      lengths[c] = static_cast<int>(arrays_[static_cast<std::size_t>(c)].size());
      formats[c] = 1;
    }
    command(PQexecPrepared(conn_, "raw_unnest", 10, values, lengths, formats, 1), "insert_unnest");
  }

  /// COPY api_tokens (...) FROM STDIN (FORMAT binary): the rows streamed in one buffer.
  void insert_copy(OrgId, std::vector<Token>& rows) {
    std::string& b = copy_buffer_;
    b.assign("PGCOPY\n\xff\r\n\0", 11);
    pgwire::append32(b, 0);  // flags
    pgwire::append32(b, 0);  // header extension length
    for (const Token& t : rows) {
      pgwire::append16(b, 10);
      append_field(b, uuid_ptr(t.id), 16);
      append_field(b, uuid_ptr(t.org_id.value), 16);
      append_text(b, t.user_id);
      append_text(b, t.name);
      append_text(b, t.token_prefix);
      append_text(b, t.token_hash);
      append_text(b, t.scopes);
      append_text(b, status_text(t.status));
      pgwire::append32(b, 8);
      pgwire::append_ts(b, t.created_at);
      pgwire::append32(b, 8);
      pgwire::append_ts(b, t.updated_at);
    }
    pgwire::append16(b, 0xFFFF);  // trailer
    PGresult* r = PQexec(conn_, copy_sql_.c_str());
    const bool started = PQresultStatus(r) == PGRES_COPY_IN;
    PQclear(r);
    if (!started) fail("COPY");
    if (PQputCopyData(conn_, b.data(), static_cast<int>(b.size())) != 1 || PQputCopyEnd(conn_, nullptr) != 1)
      fail("COPY data");
    bool ok = true;
    while (PGresult* res = PQgetResult(conn_)) {
      ok = ok && PQresultStatus(res) == PGRES_COMMAND_OK;
      PQclear(res);
    }
    if (!ok) fail("COPY end");
  }

  PGconn* native() const noexcept { return conn_; }

 private:
  /// One row's ten parameters, in the insert's column order.
  struct RowParams {
    const char* values[10];
    int lengths[10];
    int formats[10] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    char stamps[16];
    explicit RowParams(const Token& t) {
      pgwire::put64(stamps, static_cast<std::uint64_t>(t.created_at.micros - pgwire::epoch_micros));
      pgwire::put64(stamps + 8, static_cast<std::uint64_t>(t.updated_at.micros - pgwire::epoch_micros));
      fill_row(values, lengths, t, stamps);
    }
  };

  static const char* uuid_ptr(const Uuid& u) { return reinterpret_cast<const char*>(u.bytes.data()); }
  static std::string_view status_text(TokenStatus s) {
    return s == TokenStatus::active ? std::string_view("active") : std::string_view("inactive");
  }

  static void fill_row(const char** values, int* lengths, const Token& t, const char* stamps) {
    const auto text = [&](int i, std::string_view v) {
      values[i] = v.data();
      lengths[i] = static_cast<int>(v.size());
    };
    values[0] = uuid_ptr(t.id);
    lengths[0] = 16;
    values[1] = uuid_ptr(t.org_id.value);
    lengths[1] = 16;
    text(2, t.user_id);
    text(3, t.name);
    text(4, t.token_prefix);
    text(5, t.token_hash);
    text(6, t.scopes);
    text(7, status_text(t.status));
    values[8] = stamps;
    lengths[8] = 8;
    values[9] = stamps + 8;
    lengths[9] = 8;
  }

  static void append_field(std::string& s, const char* p, std::uint32_t n) {
    pgwire::append32(s, n);
    s.append(p, n);
  }
  static void append_text(std::string& s, std::string_view v) {
    append_field(s, v.data(), static_cast<std::uint32_t>(v.size()));
  }

  static std::string_view text(const PGresult* r, int row, int c) {
    return {PQgetvalue(r, row, c), static_cast<std::size_t>(PQgetlength(r, row, c))};
  }
  static Uuid uuid(const PGresult* r, int row, int c) {
    if (PQgetlength(r, row, c) != 16) [[unlikely]]
      throw std::runtime_error("raw pg: malformed uuid");
    Uuid u;
    std::memcpy(u.bytes.data(), PQgetvalue(r, row, c), 16);
    return u;
  }
  static Timestamp timestamp(const PGresult* r, int row, int c) {
    if (PQgetlength(r, row, c) != 8) [[unlikely]]
      throw std::runtime_error("raw pg: malformed timestamptz");
    return Timestamp{static_cast<std::int64_t>(pgwire::get64(PQgetvalue(r, row, c))) + pgwire::epoch_micros};
  }
  static TokenStatus status(const PGresult* r, int row, int c) {
    const std::string_view st = text(r, row, c);
    if (st == "active") return TokenStatus::active;
    if (st == "inactive") return TokenStatus::inactive;
    throw std::runtime_error("raw pg: unknown status");
  }
  // Column order: the table's (SELECT and RETURNING list every column in declaration order).
  static void read_row(const PGresult* r, int i, Token& t) {
    t.id = uuid(r, i, 0);
    t.org_id.value = uuid(r, i, 1);
    t.user_id.assign(text(r, i, 2));
    t.name.assign(text(r, i, 3));
    t.token_prefix.assign(text(r, i, 4));
    t.token_hash.assign(text(r, i, 5));
    t.scopes.assign(text(r, i, 6));
    t.status = status(r, i, 7);
    t.created_at = timestamp(r, i, 8);
    t.updated_at = timestamp(r, i, 9);
  }

  /// Clears a command's result; true when it changed a row. Throws when it failed.
  bool command(PGresult* r, const char* what) {
    const ExecStatusType s = PQresultStatus(r);
    const bool changed = s == PGRES_COMMAND_OK && std::strcmp(PQcmdTuples(r), "0") != 0;
    PQclear(r);
    if (s != PGRES_COMMAND_OK) [[unlikely]]
      fail(what);
    return changed;
  }

  void prepare(const char* name, const std::string& sql) {
    PGresult* r = PQprepare(conn_, name, sql.c_str(), 0, nullptr);
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok) fail(sql.c_str());
  }

  /// The column list of tenantry's INSERT: `INSERT INTO "api_tokens" ("id", ...)`.
  static std::string insert_head() {
    const std::string& ins = SqlText<tenantry::PgDialect>::get().insert;
    return ins.substr(0, ins.find(" VALUES"));
  }

  void prepare_all() {
    const auto& q = SqlText<tenantry::PgDialect>::get();
    prepare("raw_insert", q.insert);
    prepare("raw_find", q.find);
    prepare("raw_find_many", q.find_many);
    prepare("raw_list", q.list_by_user);
    prepare("raw_count", q.count);
    prepare("raw_upsert", q.upsert);
    prepare("raw_put", q.put);
    prepare("raw_set", q.set_updated_at);
    prepare("raw_erase", q.erase);
    prepare("raw_insert_owner", q.insert_owner);
    prepare("raw_join", q.join);
    prepare("raw_per_status", q.per_status);
    prepare("raw_unnest", insert_head() +
                              " SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], "
                              "$6::text[], $7::text[], $8::text[], $9::timestamptz[], $10::timestamptz[])");
    const std::string head = insert_head();
    copy_sql_ = "COPY" + head.substr(std::string_view("INSERT INTO").size()) + " FROM STDIN (FORMAT binary)";
    multirow_.clear();
  }

  const std::string& multirow_statement(std::size_t n) {
    for (const auto& [size, name] : multirow_)
      if (size == n) return name;
    std::string sql = insert_head() + " VALUES ";
    int p = 1;
    for (std::size_t i = 0; i < n; ++i) {
      sql += i ? ", (" : "(";
      for (int c = 0; c < 10; ++c, ++p) {
        if (c) sql += ", ";
        sql += '$';
        sql += std::to_string(p);
      }
      sql += ')';
    }
    std::string name = "raw_multirow_" + std::to_string(n);
    prepare(name.c_str(), sql);
    multirow_.emplace_back(n, std::move(name));
    return multirow_.back().second;
  }

  [[noreturn]] void fail(const char* what) const {
    std::string msg = PQerrorMessage(conn_);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    throw std::runtime_error("raw pg: " + msg + " (" + std::string(what).substr(0, 120) + ")");
  }

  PGconn* conn_ = nullptr;
  std::string schema_;
  std::string copy_sql_;
  std::vector<std::pair<std::size_t, std::string>> multirow_;
  // Buffers of the bulk paths, kept across calls.
  std::vector<const char*> values_;
  std::vector<int> lengths_, formats_;
  std::vector<char> stamps_;
  std::vector<std::string> arrays_;
  std::string copy_buffer_;
  std::string key_array_;
};

}  // namespace bench
