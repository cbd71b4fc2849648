// tenantry/driver/sqlite.hpp - the SQLite driver: an RAII connection, cached prepared
// statements, typed binding and reading, and error mapping.
//
// A Connection is used by one thread at a time (open one per thread, or take them from a pool).
// It opens the database with the settings a multi-tenant app wants and SQLite does not default
// to: foreign keys enforced, WAL journal for files (readers never block the writer), a busy
// timeout so concurrent writers wait rather than fail, extended result codes (so a UNIQUE
// violation is told apart from a CHECK one), and double-quoted string literals disabled (so a
// misspelt "identifier" is an error rather than a string).
//
// The statement interface below (bind_* with 1-based indexes, step(), column_* with 0-based
// columns, changes(), reset()) is the one every tenantry driver implements; repositories are
// written against it.
#pragma once

#include "tenantry/driver/sqlite_foreign_keys.hpp"
#include "tenantry/driver/transaction.hpp"
#include "tenantry/error.hpp"
#include "tenantry/fwd.hpp"
#include "tenantry/observe.hpp"
#include "tenantry/sql_registry.hpp"
#include "tenantry/types.hpp"

#include <sqlite3.h>

#if SQLITE_VERSION_NUMBER < TENANTRY_MIN_SQLITE_VERSION_NUMBER
#error "tenantry needs SQLite 3.37.0 or later (sqlite3.h is older): RETURNING needs 3.35, sqlite3_changes64 3.37"
#endif

#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace tenantry::sqlite {

/// How a Connection opens its database.
struct Options {
  int busy_timeout_ms = 5000;  ///< how long a writer waits for another writer's lock
  bool wal = true;             ///< WAL journal for file databases (ignored for :memory:)
  bool read_only = false;      ///< open read-only; writes fail with a DatabaseError
  bool create = true;          ///< create the file when missing
  /// Told about every statement this connection executes (observe.hpp); null: nothing is.
  std::shared_ptr<StatementObserver> observer{};
};

class Connection;

namespace detail {

/// What SQLite said about a failure, read at once: running anything else on the connection
/// (as naming a foreign key does) replaces its error message.
struct Failure {
  int rc = 0;
  int ext = 0;
  std::string msg;
  int system_error = 0;
  /// The table and constraint of a broken foreign key, when found (sqlite_foreign_keys.hpp).
  std::pair<std::string, std::string> foreign_key;

  bool is_foreign_key() const {
    return ext == SQLITE_CONSTRAINT_FOREIGNKEY ||
           (ext == SQLITE_CONSTRAINT_TRIGGER && msg.starts_with("FOREIGN KEY constraint failed"));
  }
};

inline Failure failure(sqlite3* db, int rc) {
  Failure f;
  f.rc = rc;
  f.ext = db != nullptr ? sqlite3_extended_errcode(db) : rc;
  f.msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  f.system_error = db != nullptr && (f.ext & 0xFF) == SQLITE_IOERR ? sqlite3_system_errno(db) : 0;
  return f;
}

[[noreturn]] inline void throw_failure(Failure f, std::string_view context);

/// Throws UnsupportedVersion when the SQLite library in use (`number` as sqlite3_libversion_number()
/// gives it, `text` as sqlite3_libversion()) is older than tenantry's minimum. The program may
/// run with an older libsqlite3 than the sqlite3.h it was compiled with; every Connection checks
/// before it opens anything.
inline void require_library_version(int number, std::string_view text) {
  if (number < TENANTRY_MIN_SQLITE_VERSION_NUMBER)
    throw UnsupportedVersion("SQLite library", number, std::string(text), TENANTRY_MIN_SQLITE_VERSION_NUMBER,
                             TENANTRY_MIN_SQLITE_VERSION_STRING,
                             "RETURNING needs 3.35, sqlite3_changes64 3.37; upgrade libsqlite3");
}

// Throws the tenantry exception that matches an SQLite extended result code.
[[noreturn]] inline void throw_error(sqlite3* db, int rc, std::string_view context) {
  throw_failure(failure(db, rc), context);
}

/// For a statement that failed in step() and was reset (it keeps its parameters): the failure,
/// with the broken foreign key named when it is one.
[[noreturn]] inline void throw_step_error(sqlite3* db, sqlite3_stmt* stmt, int rc, std::string_view context) {
  Failure f = failure(db, rc);
  if (f.is_foreign_key()) f.foreign_key = fk_detail::foreign_key_violation(db, stmt);
  throw_failure(std::move(f), context);
}

[[noreturn]] inline void throw_failure(Failure f, std::string_view context) {
  const int ext = f.ext;
  const int system_error = f.system_error;
  std::string msg = std::move(f.msg);
  // SQLite reports a write refused for lack of space (EFBIG from a file size limit, ENOSPC,
  // EDQUOT) as a bare "disk I/O error": say which, and make it a StorageFull below.
  const bool no_space = system_error == ENOSPC || system_error == EFBIG || system_error == EDQUOT;
  if (no_space) msg += " (the database cannot grow: " + std::generic_category().message(system_error) + ")";
  const bool foreign_key = ext == SQLITE_CONSTRAINT_FOREIGNKEY ||
                           (ext == SQLITE_CONSTRAINT_TRIGGER && msg.starts_with("FOREIGN KEY constraint failed"));
  if (foreign_key && !f.foreign_key.second.empty())
    msg += ": " + f.foreign_key.second + " (table " + f.foreign_key.first + ")";
  const std::string code = std::to_string(ext);
  std::string what = "tenantry: sqlite: " + msg;
  if (!context.empty()) what += " (while " + std::string(context) + ")";

  // "UNIQUE constraint failed: t.a, t.b" / "NOT NULL constraint failed: t.a" /
  // "CHECK constraint failed: ck_name"
  const auto after_colon = [&]() -> std::string {
    const auto p = msg.find(": ");
    return p == std::string::npos ? std::string{} : msg.substr(p + 2);
  };
  const auto table_columns = [&](ConstraintViolation& e) {
    std::string list = after_colon();
    std::vector<std::string> cols;
    std::string table;
    std::size_t start = 0;
    while (start <= list.size() && !list.empty()) {
      std::size_t end = list.find(", ", start);
      if (end == std::string::npos) end = list.size();
      std::string item = list.substr(start, end - start);
      if (auto dot = item.find('.'); dot != std::string::npos) {
        table = item.substr(0, dot);
        cols.push_back(item.substr(dot + 1));
      }
      start = end + 2;
    }
    e.set_table(std::move(table));
    e.set_columns(std::move(cols));
  };
  switch (ext) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY: {
      UniqueViolation e(what, code, "", "");
      table_columns(e);
      throw e;
    }
    case SQLITE_CONSTRAINT_NOTNULL: {
      NotNullViolation e(what, code, "", "");
      table_columns(e);
      throw e;
    }
    case SQLITE_CONSTRAINT_CHECK: throw CheckViolation(what, code, "", after_colon());
    case SQLITE_CONSTRAINT_FOREIGNKEY:
    case SQLITE_CONSTRAINT_TRIGGER:
      // ON DELETE RESTRICT is enforced by an internal trigger and reported with this code. The
      // names are the child table's and its constraint's, as PostgreSQL reports them.
      if (foreign_key) throw ForeignKeyViolation(what, code, f.foreign_key.first, f.foreign_key.second);
      break;
    default: break;
  }
  if ((ext & 0xFF) == SQLITE_CONSTRAINT) throw ConstraintViolation(what, code, "", "");
  switch (ext & 0xFF) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED: throw BusyError(what, code);
    case SQLITE_CANTOPEN:
    case SQLITE_NOTADB: throw ConnectionError(what, code);
    case SQLITE_FULL: throw StorageFull(what, code);
    case SQLITE_READONLY: throw ReadOnlyError(what, code);
    case SQLITE_INTERRUPT: throw QueryCanceled(what, code);
    case SQLITE_IOERR:
      if (no_space) throw StorageFull(what, code);
      throw DatabaseError(what, code);
    default: throw DatabaseError(what, code);
  }
}

}  // namespace detail

/// A prepared statement owned by a Connection. Bind with 1-based indexes, step() to execute and
/// advance, read with 0-based columns; reset() before reuse (StatementScope does it for you).
class Statement {
 public:
  /// The dialect a value type may need to know when it binds (Decimal<P, S>, sql_types.hpp).
  static constexpr bool is_postgres = false;

  Statement(sqlite3* db, std::string_view sql) : db_(db) {
    const int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt_,
                                      nullptr);
    if (rc != SQLITE_OK) detail::throw_error(db, rc, "preparing: " + std::string(sql.substr(0, 200)));
    scratch_.resize(static_cast<std::size_t>(sqlite3_bind_parameter_count(stmt_)));
  }
  /// A connection's cached statement: reported to the connection's observer, if any, under
  /// the interned text's id.
  Statement(sqlite3* db, const Sql& sql, tenantry::detail::StatementWatch& watch) : Statement(db, sql.view()) {
    sql_ = sql;
    watch_ = &watch;
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // ---- binding (1-based). Text and blobs are bound without copying: the caller keeps them
  // alive until the statement is reset, which repositories guarantee by binding from the row.
  void bind_null(int i) { check(sqlite3_bind_null(stmt_, i)); }
  void bind_int(int i, std::int64_t v) { check(sqlite3_bind_int64(stmt_, i, v)); }
  void bind_double(int i, double v) { check(sqlite3_bind_double(stmt_, i, v)); }
  void bind_bool(int i, bool v) { check(sqlite3_bind_int(stmt_, i, v ? 1 : 0)); }
  void bind_text(int i, std::string_view v) {
    // A null pointer would bind NULL: an empty std::string_view{} is the empty text.
    check(sqlite3_bind_text64(stmt_, i, v.data() != nullptr ? v.data() : "", v.size(), SQLITE_STATIC, SQLITE_UTF8));
  }
  /// JSON text: refused with ValueError unless it is one JSON document (json_error()).
  void bind_json(int i, std::string_view v) {
    tenantry::detail::require_json(v, i);
    bind_text(i, v);
  }
  void bind_blob(int i, std::span<const std::byte> v) {
    // A zero-length blob with a null pointer would bind NULL; zeroblob(0) is an empty blob.
    if (v.empty()) check(sqlite3_bind_zeroblob(stmt_, i, 0));
    else check(sqlite3_bind_blob64(stmt_, i, v.data(), v.size(), SQLITE_STATIC));
  }
  // UUIDs and timestamps are bound as text written into the parameter's own buffer, which lives
  // as long as the statement: no copy inside SQLite, no allocation (SQLITE_TRANSIENT would do both).
  void bind_uuid(int i, const Uuid& v) {
    char* text = scratch(i);
    v.write(text);
    check(sqlite3_bind_text(stmt_, i, text, 36, SQLITE_STATIC));
  }
  void bind_timestamp(int i, Timestamp v) {
    char* text = scratch(i);
    v.write_iso(text);
    check(sqlite3_bind_text(stmt_, i, text, 27, SQLITE_STATIC));
  }

  /// Executes on the first call, then advances. True while a row is available.
  bool step() {
    if (watch_->observer != nullptr && !observed_.stepping) [[unlikely]]
      return observed_step();
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    // sqlite3_reset returns the same error and leaves the statement reusable.
    sqlite3_reset(stmt_);
    detail::throw_step_error(db_, stmt_, rc, "executing: " + std::string(sqlite3_sql(stmt_)).substr(0, 200));
  }

  /// Rows changed by the last INSERT, UPDATE or DELETE.
  std::int64_t changes() const { return sqlite3_changes64(db_); }

  // ---- reading (0-based), valid after step() returned true
  int column_count() const { return sqlite3_column_count(stmt_); }
  [[gnu::always_inline]] bool column_is_null(int c) const { return sqlite3_column_type(stmt_, c) == SQLITE_NULL; }
  [[gnu::always_inline]] std::int64_t column_int(int c) const {
    if (sqlite3_column_type(stmt_, c) != SQLITE_INTEGER) mistyped(c, "an integer");
    return sqlite3_column_int64(stmt_, c);
  }
  double column_double(int c) const {
    const int t = sqlite3_column_type(stmt_, c);
    if (t != SQLITE_FLOAT && t != SQLITE_INTEGER) mistyped(c, "a number");
    return sqlite3_column_double(stmt_, c);
  }
  bool column_bool(int c) const {
    const std::int64_t v = column_int(c);
    if (v != 0 && v != 1) throw ValueError("tenantry: stored boolean is " + std::to_string(v) + ", not 0 or 1");
    return v != 0;
  }
  [[gnu::always_inline]] std::string_view column_text(int c) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, c));
    const int n = sqlite3_column_bytes(stmt_, c);
    return p == nullptr ? std::string_view{} : std::string_view(p, static_cast<std::size_t>(n));
  }
  std::span<const std::byte> column_blob(int c) const {
    const auto* p = static_cast<const std::byte*>(sqlite3_column_blob(stmt_, c));
    const int n = sqlite3_column_bytes(stmt_, c);
    return p == nullptr ? std::span<const std::byte>{} : std::span<const std::byte>(p, static_cast<std::size_t>(n));
  }
  /// True when column c holds a BLOB (asked before any other read of it, which could convert it).
  bool column_is_blob(int c) const { return sqlite3_column_type(stmt_, c) == SQLITE_BLOB; }
  /// A number as decimal text, for the exact decimal types (Decimal<P, S>, sql_types.hpp): an
  /// INTEGER as its digits, a REAL as the 15 significant digits SQLite keeps of a number (as SQLite
  /// prints it: "7.50000000000000e+00"), TEXT as stored. A BLOB or NULL is a ValueError. Valid until
  /// the next call or reset().
  std::string_view column_number_text(int c) const {
    const int t = sqlite3_column_type(stmt_, c);
    char buf[32];
    std::to_chars_result r{buf, std::errc{}};
    if (t == SQLITE_INTEGER) r = std::to_chars(buf, buf + sizeof buf, sqlite3_column_int64(stmt_, c));
    else if (t == SQLITE_FLOAT)
      r = std::to_chars(buf, buf + sizeof buf, sqlite3_column_double(stmt_, c), std::chars_format::scientific, 14);
    else if (t == SQLITE_TEXT) return column_text(c);
    else mistyped(c, "a number");
    if (r.ec != std::errc{}) mistyped(c, "a finite number");
    number_text_.assign(buf, r.ptr);
    return number_text_;
  }
  [[gnu::always_inline]] Uuid column_uuid(int c) const {
    // Two calls, as for any text column: the length, then the bytes. sqlite3_column_bytes converts
    // neither TEXT in the database's UTF-8 nor a BLOB (so the storage class is still known), and
    // whatever it did convert (a number to its digits, UTF-16 text to UTF-8) sqlite3_column_blob
    // then returns unchanged, so the pointer and the length describe the same bytes. Only a
    // 16-byte value needs the storage class: 16 raw bytes (as some applications store UUIDs) when
    // it is a BLOB, else text that no UUID parse accepts. (A null pointer with a length is an
    // allocation that failed: no value, refused below like empty text.)
    const int n = sqlite3_column_bytes(stmt_, c);
    const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, c));
    if (n == 16 && p != nullptr && sqlite3_column_type(stmt_, c) == SQLITE_BLOB) {
      Uuid u;
      for (std::size_t i = 0; i < 16; ++i) u.bytes[i] = static_cast<std::uint8_t>(p[i]);
      return u;
    }
    const std::string_view text = p == nullptr ? std::string_view{} : std::string_view(p, static_cast<std::size_t>(n));
    if (auto u = Uuid::try_parse(text)) [[likely]]
      return *u;
    not_a(text, "a UUID");
  }
  [[gnu::always_inline]] Timestamp column_timestamp(int c) const {
    // Unix seconds, as SQLite's unixepoch() writes them: an INTEGER in an untyped column, or
    // digits in a TEXT column (whose affinity turned the integer into text). Only seconds within
    // years 0001-9999 are a Timestamp: beyond them the multiplication would overflow, or give a
    // value no database (and no to_iso()) can take back.
    const auto from_seconds = [&](std::int64_t secs) {
      if (secs < Timestamp::min_micros / 1000000 || secs > Timestamp::max_micros / 1000000)
        throw ValueError("tenantry: column '" + column_name(c) + "' holds unix seconds " + std::to_string(secs) +
                         ", outside years 0001-9999");
      return Timestamp{secs * 1000000};
    };
    // Read as text, which is how tenantry stores timestamps; an INTEGER reads as its decimal
    // digits, so one path serves both without asking for the storage class.
    const std::string_view text = column_text(c);
    if (auto t = Timestamp::try_parse(text)) return *t;
    if (auto secs = unix_seconds(text)) return from_seconds(*secs);
    not_a(text, "an ISO-8601 timestamp or unix seconds");
  }

  /// Keeps `value` alive until reset() and returns a view of it, for binding a temporary.
  std::string_view keep(std::string value) { return kept_.emplace_back(std::move(value)); }

  /// The name of result column c (its alias, or the column's own name), for messages.
  std::string column_name(int c) const {
    const char* name = sqlite3_column_name(stmt_, c);
    return name != nullptr ? name : "?";
  }
  /// Clears bindings and rewinds, releasing any read lock the statement held.
  void reset() noexcept {
    if (observed_.state() != tenantry::detail::Execution::State::idle) [[unlikely]]
      end_observed_at_reset();
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    if (!kept_.empty()) kept_.clear();
  }

  sqlite3_stmt* native() const noexcept { return stmt_; }

 private:
  void check(int rc) const {
    if (rc != SQLITE_OK) detail::throw_error(db_, rc, "binding a parameter");
  }
  // Parameter i's text buffer (36 bytes: a UUID or an ISO timestamp). An index out of range gets
  // none here and is refused by sqlite3_bind_text itself (SQLITE_RANGE), as for any other bind.
  char* scratch(int i) {
    if (i < 1 || static_cast<std::size_t>(i) > scratch_.size()) return overflow_.data();
    return scratch_[static_cast<std::size_t>(i - 1)].data();
  }
  static std::optional<std::int64_t> unix_seconds(std::string_view text) {
    std::size_t i = !text.empty() && text.front() == '-' ? 1 : 0;
    if (i == text.size() || text.size() - i > 12) return std::nullopt;  // 12 digits reach year 33658
    std::int64_t v = 0;
    for (; i < text.size(); ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      v = v * 10 + (text[i] - '0');
    }
    return text.front() == '-' ? -v : v;
  }
  [[noreturn, gnu::cold, gnu::noinline]] static void not_a(std::string_view text, const char* what) {
    throw ValueError(std::string("tenantry: not ") + what + ": '" + std::string(text.substr(0, 64)) + "'");
  }
  [[noreturn, gnu::cold, gnu::noinline]] void mistyped(int c, const char* expected) const {
    const char* name = sqlite3_column_name(stmt_, c);
    throw ValueError(std::string("tenantry: column '") + (name ? name : "?") + "' holds " +
                     type_name(sqlite3_column_type(stmt_, c)) + ", expected " + expected);
  }
  static const char* type_name(int t) {
    switch (t) {
      case SQLITE_INTEGER: return "an integer";
      case SQLITE_FLOAT: return "a real";
      case SQLITE_TEXT: return "text";
      case SQLITE_BLOB: return "a blob";
      default: return "NULL";
    }
  }

  // ---- observation (observe.hpp): only with an observer installed ----------------------------
  [[gnu::noinline]] bool observed_step() {
    return observed_.observe_step(
        *watch_, [&] { return step(); }, [&](bool failed, const std::exception* e) { end_observed(failed, e); });
  }
  [[gnu::noinline]] void end_observed_at_reset() noexcept {
    if (observed_.state() == tenantry::detail::Execution::State::running) {
      sqlite3_reset(stmt_);  // completes the statement, so that its changes are counted
      end_observed(false, nullptr);
    }
    observed_.clear();
  }
  void end_observed(bool failed, const std::exception* error) noexcept {
    const std::string_view text = sql_.text != nullptr ? sql_.view() : std::string_view(sqlite3_sql(stmt_));
    if (sql_.name == nullptr && id_.empty()) {
      try {
        id_ = sql_statement_name(text);
      } catch (...) {
      }
    }
    const std::string_view id = sql_.name != nullptr ? std::string_view(*sql_.name) : std::string_view(id_);
    const std::int64_t affected = failed || sqlite3_stmt_readonly(stmt_) != 0 ? 0 : changes();
    observed_.end(*watch_, "sqlite", id, text, observed_.rows(), affected, failed, error);
  }

  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  Sql sql_{};  // interned text and id (null: made by hand)
  tenantry::detail::StatementWatch* watch_ = &tenantry::detail::unwatched;
  tenantry::detail::Execution observed_;
  std::string id_;                             // the id of a statement made by hand, computed when first reported
  std::deque<std::string> kept_;               // deque: growing it never moves the strings bound by pointer
  std::vector<std::array<char, 36>> scratch_;  // one per parameter, sized when prepared
  std::array<char, 36> overflow_{};            // for an index SQLite is about to refuse
  mutable std::string number_text_;            // column_number_text()
};

/// Resets a statement when the scope ends, whatever way it ends, so a cached statement never
/// keeps a read transaction open or carries old bindings into its next use.
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

/// An open SQLite database. Movable, not copyable; one thread at a time.
class Connection {
 public:
  using dialect = SqliteDialect;
  using statement = Statement;

  /// Opens `path`: a file name, ":memory:", or a "file:" URI. Throws ConnectionError
  /// (UnsupportedVersion when the SQLite library is older than 3.37.0, before anything is opened).
  explicit Connection(const std::string& path, Options options = {}) : path_(path) {
    detail::require_library_version(sqlite3_libversion_number(), sqlite3_libversion());
    watch_->install(std::move(options.observer));
    int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI;
    flags |= options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
    if (options.create && !options.read_only) flags |= SQLITE_OPEN_CREATE;
    sqlite3* db = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
    db_.reset(db);
    if (rc != SQLITE_OK) {
      const std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
      throw ConnectionError("tenantry: sqlite: cannot open '" + path + "': " + msg, std::to_string(rc));
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_db_config(db, SQLITE_DBCONFIG_DQS_DML, 0, nullptr);
    sqlite3_db_config(db, SQLITE_DBCONFIG_DQS_DDL, 0, nullptr);
    sqlite3_busy_timeout(db, options.busy_timeout_ms);
    execute("PRAGMA foreign_keys = ON");
    const bool in_memory = path == ":memory:" || path.empty() || path.find("mode=memory") != std::string::npos;
    if (options.wal && !in_memory && !options.read_only) {
      execute("PRAGMA journal_mode = WAL");
      execute("PRAGMA synchronous = NORMAL");  // durable at checkpoints; safe with WAL
    }
  }

  Connection(Connection&&) noexcept = default;
  Connection& operator=(Connection&&) noexcept = default;
  ~Connection() {
    statements_.clear();  // finalize before close
  }

  /// The cached prepared statement for `sql`, prepared on first use.
  Statement& prepare(const Sql& sql) {
    require_open_scope();
    if (sql.id >= statements_.size()) statements_.resize(sql.id + 1);
    auto& slot = statements_[sql.id];
    if (!slot) {
      const auto start = watch_->observer != nullptr ? std::chrono::steady_clock::now()
                                                     : std::chrono::steady_clock::time_point{};
      try {
        slot = std::make_unique<Statement>(db_.get(), sql, *watch_);
      } catch (const std::exception& e) {
        tenantry::detail::report_unprepared(*watch_, "sqlite", sql.name != nullptr ? *sql.name : "", sql.view(), start,
                                            e);
        throw;
      }
    }
    return *slot;
  }

  /// Runs one or more statements without parameters (DDL, PRAGMA), one after another, stopping
  /// at the first that fails (as sqlite3_exec does; each is prepared and stepped here so that a
  /// broken foreign key can be named).
  void execute(std::string_view sql) {
    require_open_scope();
    const std::string text(sql);
    const char* tail = text.c_str();
    const char* const end = tail + text.size();
    while (tail < end) {
      sqlite3_stmt* st = nullptr;
      int rc = sqlite3_prepare_v2(db_.get(), tail, static_cast<int>(end - tail), &st, &tail);
      if (rc != SQLITE_OK) detail::throw_error(db_.get(), rc, "executing: " + text.substr(0, 200));
      if (st == nullptr) break;  // only whitespace or comments left
      do rc = sqlite3_step(st);
      while (rc == SQLITE_ROW);
      if (rc != SQLITE_DONE) {
        sqlite3_reset(st);
        struct Finalize {
          sqlite3_stmt* s;
          ~Finalize() { sqlite3_finalize(s); }
        } finalize{st};
        detail::throw_step_error(db_.get(), st, rc, "executing: " + text.substr(0, 200));
      }
      sqlite3_finalize(st);
    }
  }

  /// Opens a transaction scope (BEGIN IMMEDIATE, or a savepoint when one is open).
  Transaction<Connection> transaction() { return Transaction<Connection>(*this); }

  /// True while a transaction scope opened through transaction() is active.
  bool in_transaction() const noexcept { return depth_ > 0; }

  /// Drops every cached prepared statement (e.g. after the schema changed under them).
  void clear_statement_cache() { statements_.clear(); }

  sqlite3* native() const noexcept { return db_.get(); }
  const std::string& path() const noexcept { return path_; }

  /// The observer told about this connection's statements (observe.hpp), or null. Install one
  /// with Options::observer, or here before the connection is used (not while a statement on
  /// it is being read).
  const std::shared_ptr<StatementObserver>& observer() const { return watch().owner; }
  void set_observer(std::shared_ptr<StatementObserver> observer) { watch().install(std::move(observer)); }
  /// Used by in_org_context to name the org of the operation running (observe.hpp).
  tenantry::detail::StatementWatch& statement_watch() { return watch(); }

  // ---- used by Transaction -------------------------------------------------------------------
  // Writers begin with BEGIN IMMEDIATE: taking the write lock up front means a busy database
  // makes us wait at BEGIN (under busy_timeout) instead of failing half way through.
  void begin_scope() {
    if (depth_ == 0) execute("BEGIN IMMEDIATE");
    else execute("SAVEPOINT tenantry_" + std::to_string(depth_));
    ++depth_;
  }
  void commit_scope() {
    if (depth_ == 0) throw UsageError("tenantry: commit without an open transaction");
    if (depth_ == 1) {
      try {
        execute("COMMIT");
      } catch (...) {
        // A failed COMMIT leaves the transaction open; end it so the connection stays usable.
        if (!sqlite3_get_autocommit(db_.get())) sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
        depth_ = 0;
        throw;
      }
    } else {
      const std::string name = "tenantry_" + std::to_string(depth_ - 1);
      try {
        execute("RELEASE " + name);
      } catch (...) {
        // Undo the savepoint so the scope ends either way and the outer one stays usable.
        --depth_;
        sqlite3_exec(db_.get(), ("ROLLBACK TO " + name + "; RELEASE " + name).c_str(), nullptr, nullptr, nullptr);
        throw;
      }
    }
    --depth_;
  }
  void rollback_scope() {
    if (depth_ == 0) throw UsageError("tenantry: rollback without an open transaction");
    if (transaction_lost()) {
      // SQLite already rolled everything back: every open scope ends here, and the connection
      // is usable again once the outermost one has gone.
      --depth_;
      return;
    }
    --depth_;
    if (depth_ == 0) {
      execute("ROLLBACK");
    } else {
      const std::string name = "tenantry_" + std::to_string(depth_);
      execute("ROLLBACK TO " + name + "; RELEASE " + name);
    }
  }

 private:
  // SQLite rolls a whole transaction back by itself after some errors (SQLITE_FULL, SQLITE_IOERR,
  // SQLITE_NOMEM, some SQLITE_BUSY cases: https://sqlite.org/lang_transaction.html, "Response To
  // Errors Within A Transaction") and carries on in autocommit mode. Statements run after that
  // inside what the caller still believes is one transaction would each commit on their own, so
  // a half-done unit of work would persist. Until the scopes are rolled back, every statement is
  // refused instead (PostgreSQL does the same on its side, with SQLSTATE 25P02).
  bool transaction_lost() const noexcept { return depth_ > 0 && sqlite3_get_autocommit(db_.get()) != 0; }
  void require_open_scope() const {
    if (transaction_lost())
      throw DatabaseError(
          "tenantry: sqlite: the open transaction was rolled back by SQLite after an earlier error;"
          " nothing more runs in it: roll back the transaction scope and start again",
          std::to_string(SQLITE_ABORT_ROLLBACK));
  }

  tenantry::detail::StatementWatch& watch() const {
    if (!watch_) throw UsageError("tenantry: sqlite: use of a moved-from connection");
    return *watch_;
  }

  struct Closer {
    void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
  };
  std::unique_ptr<sqlite3, Closer> db_;
  // Before statements_: statements point at it (heap, so moving the connection keeps it).
  std::unique_ptr<tenantry::detail::StatementWatch> watch_ = std::make_unique<tenantry::detail::StatementWatch>();
  std::vector<std::unique_ptr<Statement>> statements_;  // indexed by Sql::id
  std::string path_;
  int depth_ = 0;
};

}  // namespace tenantry::sqlite

template <>
struct tenantry::connection_for<tenantry::SqliteDialect> {
  using type = tenantry::sqlite::Connection;
};
