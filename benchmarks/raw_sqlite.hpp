// benchmarks/raw_sqlite.hpp - the hand-written sqlite3_* twin of the tenantry repository.
//
// What "the best straightforward C API code" means here:
//   * the connection is opened with the settings tenantry's driver uses (extended result codes,
//     no double-quoted strings, busy timeout, foreign keys on; WAL + synchronous=NORMAL for a
//     file), so both sides run on identically configured databases;
//   * every statement is prepared once (SQLITE_PREPARE_PERSISTENT, as tenantry does) and reused,
//     including BEGIN IMMEDIATE and COMMIT;
//   * values are bound in the formats tenantry uses (UUIDs and timestamps as canonical text,
//     enums as their names), but from stack buffers with SQLITE_STATIC: nothing is copied or
//     allocated to bind;
//   * after a statement ran it is only sqlite3_reset(): every parameter is bound again on the next
//     call, so sqlite3_clear_bindings() would be wasted work;
//   * rows are decoded into the same struct with the same parsers tenantry's value types offer
//     (Uuid::try_parse, Timestamp::try_parse), checking what a careful programmer checks (return
//     codes, parse failures) and trusting what the schema guarantees (NOT NULL).
#pragma once

#include "bench_model.hpp"
#include "bench_sql.hpp"

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bench {

class RawSqlite {
 public:
  /// Opens `path` (":memory:" or a file) as tenantry::sqlite::Connection would.
  explicit RawSqlite(const std::string& path) {
    const int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI | SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) fail("open");
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_db_config(db_, SQLITE_DBCONFIG_DQS_DML, 0, nullptr);
    sqlite3_db_config(db_, SQLITE_DBCONFIG_DQS_DDL, 0, nullptr);
    sqlite3_busy_timeout(db_, 5000);
    execute("PRAGMA foreign_keys = ON");
    if (path != ":memory:") {
      execute("PRAGMA journal_mode = WAL");
      execute("PRAGMA synchronous = NORMAL");
    }
  }
  ~RawSqlite() {
    for (sqlite3_stmt* s : {insert_, find_, list_, count_, upsert_, put_, set_, erase_, begin_, commit_, insert_owner_,
                            join_, per_status_})
      sqlite3_finalize(s);
    sqlite3_close_v2(db_);
  }
  RawSqlite(const RawSqlite&) = delete;
  RawSqlite& operator=(const RawSqlite&) = delete;

  /// Creates the table with tenantry's DDL, then prepares every statement.
  void create_schema() {
    for (const std::string& s : SqlText<tenantry::SqliteDialect>::get().ddl) execute(s.c_str());
    prepare_all();
  }

  void execute(const char* sql) {
    if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) fail(sql);
  }

  // ---- the operations, with the repository's signatures ------------------------------------

  void insert(OrgId /*the row carries it*/, Token& row) {
    Texts x(row);
    bind_row(insert_, row, x);
    run_done(insert_);
  }

  void insert_many(OrgId, std::vector<Token>& rows) {
    run_done(begin_);
    for (Token& row : rows) {
      Texts x(row);
      bind_row(insert_, row, x);
      if (sqlite3_step(insert_) != SQLITE_DONE) {
        sqlite3_reset(insert_);
        execute("ROLLBACK");
        fail("insert");
      }
      sqlite3_reset(insert_);
    }
    run_done(commit_);
  }

  std::optional<Token> find(OrgId org, const Uuid& id) {
    char o[36], k[36];
    bind_uuid(find_, 1, org.value, o);
    bind_uuid(find_, 2, id, k);
    std::optional<Token> out;
    const int rc = sqlite3_step(find_);
    if (rc == SQLITE_ROW) read_row(find_, out.emplace());
    sqlite3_reset(find_);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) fail("find");
    return out;
  }

  /// As Repository::find_many does in process: the prepared find once per key.
  std::vector<Token> find_many(OrgId org, const std::vector<Uuid>& ids) {
    std::vector<Token> out;
    out.reserve(ids.size());
    for (const Uuid& id : ids)
      if (std::optional<Token> row = find(org, id)) out.push_back(std::move(*row));
    return out;
  }

  std::vector<Token> list(OrgId org, const std::string& user) {
    char o[36];
    bind_uuid(list_, 1, org.value, o);
    bind_text(list_, 2, user);
    std::vector<Token> out;
    int rc;
    while ((rc = sqlite3_step(list_)) == SQLITE_ROW) read_row(list_, out.emplace_back());
    sqlite3_reset(list_);
    if (rc != SQLITE_DONE) fail("list");
    return out;
  }

  std::int64_t count(OrgId org) {
    char o[36];
    bind_uuid(count_, 1, org.value, o);
    if (sqlite3_step(count_) != SQLITE_ROW) {
      sqlite3_reset(count_);
      fail("count");
    }
    const std::int64_t n = sqlite3_column_int64(count_, 0);
    sqlite3_reset(count_);
    return n;
  }

  /// INSERT ... ON CONFLICT (org_id, token_prefix) DO UPDATE ... RETURNING *: the stored row is
  /// read back into `row`.
  void upsert(OrgId, Token& row) {
    Texts x(row);
    bind_row(upsert_, row, x);
    if (sqlite3_step(upsert_) != SQLITE_ROW) {
      sqlite3_reset(upsert_);
      fail("upsert");
    }
    read_row(upsert_, row);
    sqlite3_reset(upsert_);
  }

  /// The same INSERT ... ON CONFLICT ... DO UPDATE without RETURNING: nothing read back.
  void put(OrgId, const Token& row) {
    Texts x(row);
    bind_row(put_, row, x);
    run_done(put_);
    if (sqlite3_changes(db_) != 1) fail("put");
  }

  bool set_updated_at(OrgId org, const Uuid& id, Timestamp ts) {
    char o[36], k[36], t[27];
    bind_uuid(set_, 1, org.value, o);
    bind_uuid(set_, 2, id, k);
    bind_timestamp(set_, 3, ts, t);
    run_done(set_);
    return sqlite3_changes(db_) > 0;
  }

  /// n set_updated_at in one transaction: BEGIN IMMEDIATE, the n prepared UPDATEs, COMMIT.
  std::int64_t set_batch(OrgId org, const Uuid* ids, std::size_t n, Timestamp ts) {
    run_done(begin_);
    std::int64_t changed = 0;
    for (std::size_t j = 0; j < n; ++j) {
      char o[36], k[36], t[27];
      bind_uuid(set_, 1, org.value, o);
      bind_uuid(set_, 2, ids[j], k);
      bind_timestamp(set_, 3, ts, t);
      run_done(set_);
      changed += sqlite3_changes(db_) > 0 ? 1 : 0;
    }
    run_done(commit_);
    return changed;
  }

  bool erase(OrgId org, const Uuid& id) {
    char o[36], k[36];
    bind_uuid(erase_, 1, org.value, o);
    bind_uuid(erase_, 2, id, k);
    run_done(erase_);
    return sqlite3_changes(db_) > 0;
  }

  /// The join of bench_sql.hpp (tokens_with_owner): the same text, decoded column by column.
  std::vector<TokenWithOwner> join(OrgId org, const std::string& user) {
    char o[36];
    bind_uuid(join_, 1, org.value, o);
    bind_text(join_, 2, user);
    std::vector<TokenWithOwner> out;
    int rc;
    while ((rc = sqlite3_step(join_)) == SQLITE_ROW) {
      TokenWithOwner& t = out.emplace_back();
      t.id = uuid(join_, 0);
      t.name.assign(text(join_, 1));
      t.status = status(join_, 2);
      t.created_at = timestamp(join_, 3);
      t.email.assign(text(join_, 4));
    }
    sqlite3_reset(join_);
    if (rc != SQLITE_DONE) fail("join");
    return out;
  }

  /// The grouped count (tokens_per_status).
  std::vector<StatusCount> per_status(OrgId org) {
    char o[36];
    bind_uuid(per_status_, 1, org.value, o);
    std::vector<StatusCount> out;
    int rc;
    while ((rc = sqlite3_step(per_status_)) == SQLITE_ROW)
      out.push_back(StatusCount{status(per_status_, 0), sqlite3_column_int64(per_status_, 1)});
    sqlite3_reset(per_status_);
    if (rc != SQLITE_DONE) fail("per_status");
    return out;
  }

  void insert_owner(OrgId, Owner& o) {
    char org[36];
    bind_text(insert_owner_, 1, o.id);
    bind_uuid(insert_owner_, 2, o.org_id.value, org);
    bind_text(insert_owner_, 3, o.email);
    bind_text(insert_owner_, 4, o.display_name);
    run_done(insert_owner_);
  }

  sqlite3* native() const noexcept { return db_; }

 private:
  /// The text forms of a row's UUIDs and timestamps, on the caller's stack while it steps.
  struct Texts {
    char id[36], org[36], created[27], updated[27];
    explicit Texts(const Token& r) {
      r.id.write(id);
      r.org_id.value.write(org);
      r.created_at.write_iso(created);
      r.updated_at.write_iso(updated);
    }
  };

  void prepare_all() {
    const auto& q = SqlText<tenantry::SqliteDialect>::get();
    insert_ = prepare(q.insert);
    find_ = prepare(q.find);
    list_ = prepare(q.list_by_user);
    count_ = prepare(q.count);
    upsert_ = prepare(q.upsert);
    put_ = prepare(q.put);
    set_ = prepare(q.set_updated_at);
    erase_ = prepare(q.erase);
    insert_owner_ = prepare(q.insert_owner);
    join_ = prepare(q.join);
    per_status_ = prepare(q.per_status);
    begin_ = prepare("BEGIN IMMEDIATE");
    commit_ = prepare("COMMIT");
  }

  sqlite3_stmt* prepare(std::string_view sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &s, nullptr) !=
        SQLITE_OK)
      fail(std::string(sql).c_str());
    return s;
  }

  // Parameter order: the insert's column order (id, org_id, user_id, ..., updated_at).
  void bind_row(sqlite3_stmt* s, const Token& r, const Texts& x) {
    bind(s, sqlite3_bind_text(s, 1, x.id, 36, SQLITE_STATIC));
    bind(s, sqlite3_bind_text(s, 2, x.org, 36, SQLITE_STATIC));
    bind_text(s, 3, r.user_id);
    bind_text(s, 4, r.name);
    bind_text(s, 5, r.token_prefix);
    bind_text(s, 6, r.token_hash);
    bind_text(s, 7, r.scopes);
    bind_text(s, 8, r.status == TokenStatus::active ? std::string_view("active") : std::string_view("inactive"));
    bind(s, sqlite3_bind_text(s, 9, x.created, 27, SQLITE_STATIC));
    bind(s, sqlite3_bind_text(s, 10, x.updated, 27, SQLITE_STATIC));
  }

  void bind_text(sqlite3_stmt* s, int i, std::string_view v) {
    bind(s, sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC));
  }
  void bind_uuid(sqlite3_stmt* s, int i, const Uuid& u, char* buf) {
    u.write(buf);
    bind(s, sqlite3_bind_text(s, i, buf, 36, SQLITE_STATIC));
  }
  void bind_timestamp(sqlite3_stmt* s, int i, Timestamp t, char* buf) {
    t.write_iso(buf);
    bind(s, sqlite3_bind_text(s, i, buf, 27, SQLITE_STATIC));
  }
  void bind(sqlite3_stmt*, int rc) {
    if (rc != SQLITE_OK) [[unlikely]]
      fail("bind");
  }

  void run_done(sqlite3_stmt* s) {
    const int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) [[unlikely]]
      fail(sqlite3_sql(s));
  }

  static std::string_view text(sqlite3_stmt* s, int c) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, c));
    return {p, static_cast<std::size_t>(sqlite3_column_bytes(s, c))};
  }
  static Uuid uuid(sqlite3_stmt* s, int c) {
    const auto u = Uuid::try_parse(text(s, c));
    if (!u) [[unlikely]]
      throw std::runtime_error("raw sqlite: malformed uuid");
    return *u;
  }
  static Timestamp timestamp(sqlite3_stmt* s, int c) {
    const auto t = Timestamp::try_parse(text(s, c));
    if (!t) [[unlikely]]
      throw std::runtime_error("raw sqlite: malformed timestamp");
    return *t;
  }

  static TokenStatus status(sqlite3_stmt* s, int c) {
    const std::string_view st = text(s, c);
    if (st == "active") return TokenStatus::active;
    if (st == "inactive") return TokenStatus::inactive;
    throw std::runtime_error("raw sqlite: unknown status");
  }

  // Column order: the table's (SELECT and RETURNING list every column in declaration order).
  static void read_row(sqlite3_stmt* s, Token& t) {
    t.id = uuid(s, 0);
    t.org_id.value = uuid(s, 1);
    t.user_id.assign(text(s, 2));
    t.name.assign(text(s, 3));
    t.token_prefix.assign(text(s, 4));
    t.token_hash.assign(text(s, 5));
    t.scopes.assign(text(s, 6));
    t.status = status(s, 7);
    t.created_at = timestamp(s, 8);
    t.updated_at = timestamp(s, 9);
  }

  [[noreturn]] void fail(const char* what) const {
    throw std::runtime_error(std::string("raw sqlite: ") + sqlite3_errmsg(db_) + " (" + what + ")");
  }

  sqlite3* db_ = nullptr;
  sqlite3_stmt *insert_ = nullptr, *find_ = nullptr, *list_ = nullptr, *count_ = nullptr, *upsert_ = nullptr,
               *set_ = nullptr, *erase_ = nullptr, *begin_ = nullptr, *commit_ = nullptr, *insert_owner_ = nullptr,
               *join_ = nullptr, *per_status_ = nullptr, *put_ = nullptr;
};

}  // namespace bench
