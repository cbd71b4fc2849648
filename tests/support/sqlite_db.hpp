// Helpers for the SQLite integration tests (tests/sqlite/*.cpp); the fixture rows (make_*), hex(),
// expect_throw, TempPath and the Catch StringMakers are shared with the parity tests
// (tests/support/backends.hpp, tests/parity/*.cpp).
//
//   testdb::TempPath   a fresh, unused database file name under $TENANTRY_TEST_TMP (or /tmp),
//                      removed with its -wal/-shm/-journal companions when it goes out of scope
//   testdb::FileDb     a TempPath plus a Connection on it with the fixture schema created
//   testdb::MemoryDb   the same on ":memory:"
//   testdb::Raw        a plain sqlite3 prepared statement, for looking at what was stored and
//                      for writing rows the way other programs would, bypassing tenantry
//   testdb::make_*     fixture rows with every required field filled
//   testdb::expect_throw<E>(f)   runs f, fails unless it throws E, returns the exception
#pragma once

#include "support/expect_throw.hpp"
#include "support/entities.hpp"

#include <tenantry/sqlite.hpp>

#include <catch2/catch.hpp>

#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace testdb {

namespace fs = std::filesystem;
using tenantry::SqliteDialect;
using Conn = tenantry::sqlite::Connection;

template <class E>
using Repo = tenantry::Repository<E, SqliteDialect>;

/// The directory temporary databases go to: $TENANTRY_TEST_TMP when set (created if missing),
/// /tmp otherwise.
inline fs::path temp_dir() {
  const char* env = std::getenv("TENANTRY_TEST_TMP");
  fs::path dir = (env != nullptr && *env != '\0') ? fs::path(env) : fs::path("/tmp");
  std::error_code ec;
  fs::create_directories(dir, ec);
  return dir;
}

/// A database file name nobody uses yet; the file and its companions are deleted at scope end.
class TempPath {
 public:
  explicit TempPath(std::string_view tag = "db") {
    static std::atomic<unsigned> counter{0};
    path_ = temp_dir() / ("tenantry-sqlite-" + std::string(tag) + "-" + std::to_string(::getpid()) + "-" +
                          std::to_string(counter++) + "-" + tenantry::Uuid::random().to_string().substr(0, 8) + ".db");
    remove_all_files();
  }
  ~TempPath() { remove_all_files(); }
  TempPath(const TempPath&) = delete;
  TempPath& operator=(const TempPath&) = delete;

  const fs::path& path() const noexcept { return path_; }
  std::string string() const { return path_.string(); }

 private:
  void remove_all_files() const noexcept {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(fs::path(path_.string() + suffix), ec);
  }
  fs::path path_;
};

inline void create_schema(Conn& conn) { conn.execute(fixtures::schema<SqliteDialect>()); }

/// A fresh database file with the fixture schema. The connection closes before the files go.
struct FileDb {
  TempPath file;
  Conn conn;
  explicit FileDb(tenantry::sqlite::Options options = {}) : file("file"), conn(file.string(), options) {
    create_schema(conn);
  }
};

/// An in-memory database with the fixture schema.
struct MemoryDb {
  Conn conn{":memory:"};
  MemoryDb() { create_schema(conn); }
};

// ---- plain sqlite3 access ----------------------------------------------------------------------

/// One prepared statement through the bare sqlite3 API, finalized at scope end.
class Raw {
 public:
  Raw(sqlite3* db, std::string_view sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr) != SQLITE_OK)
      throw std::runtime_error("raw prepare failed: " + std::string(sqlite3_errmsg(db)) + " in: " + std::string(sql));
  }
  Raw(Conn& conn, std::string_view sql) : Raw(conn.native(), sql) {}
  ~Raw() { sqlite3_finalize(stmt_); }
  Raw(const Raw&) = delete;
  Raw& operator=(const Raw&) = delete;

  Raw& bind(int i, std::int64_t v) { return check(sqlite3_bind_int64(stmt_, i, v)); }
  Raw& bind(int i, double v) { return check(sqlite3_bind_double(stmt_, i, v)); }
  Raw& bind(int i, std::string_view v) {
    return check(sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
  }
  Raw& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  Raw& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
  Raw& bind_blob(int i, const void* data, int n) { return check(sqlite3_bind_blob(stmt_, i, data, n, SQLITE_TRANSIENT)); }
  Raw& bind_null(int i) { return check(sqlite3_bind_null(stmt_, i)); }

  /// True while a row is available; throws on an error (with SQLite's message).
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw std::runtime_error("raw step failed: " + std::string(sqlite3_errmsg(db_)));
  }
  /// Steps a statement that must produce exactly one row.
  Raw& one_row() {
    if (!step()) throw std::runtime_error("raw query returned no row: " + std::string(sqlite3_sql(stmt_)));
    return *this;
  }
  /// Runs to completion (for writes).
  void run() {
    while (step()) {
    }
  }

  int type(int c) const { return sqlite3_column_type(stmt_, c); }
  bool is_null(int c) const { return type(c) == SQLITE_NULL; }
  std::int64_t integer(int c) const { return sqlite3_column_int64(stmt_, c); }
  double real(int c) const { return sqlite3_column_double(stmt_, c); }
  std::string text(int c) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, c));
    return p == nullptr ? std::string{} : std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, c)));
  }
  std::string blob_hex(int c) const {
    const auto* p = static_cast<const unsigned char*>(sqlite3_column_blob(stmt_, c));
    const int n = sqlite3_column_bytes(stmt_, c);
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (int k = 0; k < n; ++k) {
      out += hex[p[k] >> 4];
      out += hex[p[k] & 0xF];
    }
    return out;
  }

 private:
  Raw& check(int rc) {
    if (rc != SQLITE_OK) throw std::runtime_error("raw bind failed: " + std::string(sqlite3_errmsg(db_)));
    return *this;
  }
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

/// The single integer a query returns.
inline std::int64_t query_int(Conn& conn, std::string_view sql) { return Raw(conn, sql).one_row().integer(0); }
/// The single text value a query returns.
inline std::string query_text(Conn& conn, std::string_view sql) { return Raw(conn, sql).one_row().text(0); }
/// Rows in a table, counted with plain SQL (no org filter).
inline std::int64_t rows_in(Conn& conn, std::string_view table) {
  return query_int(conn, "SELECT COUNT(*) FROM \"" + std::string(table) + "\"");
}
/// One text column of the row whose text key column equals key.
inline std::optional<std::string> text_where(Conn& conn, std::string_view table, std::string_view column,
                                             std::string_view key_column, std::string_view key) {
  Raw q(conn, "SELECT \"" + std::string(column) + "\" FROM \"" + std::string(table) + "\" WHERE \"" +
                  std::string(key_column) + "\" = ?1");
  q.bind(1, key);
  if (!q.step() || q.is_null(0)) return std::nullopt;
  return q.text(0);
}

// ---- fixture rows ------------------------------------------------------------------------------

inline fixtures::Organization make_org(std::string slug) {
  fixtures::Organization o;
  o.id = tenantry::Uuid::random();
  o.display_name = "Org " + slug;
  o.slug = std::move(slug);
  o.status = fixtures::OrgStatus::active;
  o.created_at = tenantry::Timestamp::now();
  o.updated_at = o.created_at;
  return o;
}

/// Inserts an organization through the repository and returns its id as an OrgId.
inline tenantry::OrgId add_org(Conn& conn, std::string slug) {
  Repo<fixtures::Organization> orgs{conn};
  fixtures::Organization o = make_org(std::move(slug));
  orgs.insert(o);
  return tenantry::OrgId{o.id};
}

/// A token with org_id left nil (the repository fills it with the call's org).
inline fixtures::ApiToken make_token(std::string prefix, std::string user = "user-1") {
  fixtures::ApiToken t;
  t.id = tenantry::Uuid::random();
  t.user_id = std::move(user);
  t.name = "token " + prefix;
  t.token_hash = "hash-" + prefix;
  t.token_prefix = std::move(prefix);
  t.scopes = "read";
  t.status = fixtures::TokenStatus::active;
  t.created_at = tenantry::Timestamp{1'700'000'000'000'000};
  t.updated_at = t.created_at;
  return t;
}

/// A gadget with every NOT NULL field set and distinct unique keys (ref random, flag false).
inline fixtures::Gadget make_gadget(std::string label = "gadget") {
  fixtures::Gadget g;
  g.label = std::move(label);
  g.ref = tenantry::Uuid::random();
  g.at = tenantry::Timestamp{1'700'000'000'123'456};
  g.meta = tenantry::Json{"{}"};
  g.quantity = 1;
  return g;
}

/// Inserts a minimal gadget row with plain SQL; `at_sql` is the SQL expression stored in "at".
inline std::int64_t raw_insert_gadget(Conn& conn, const tenantry::OrgId& org, std::string_view title,
                                      std::string_view at_sql = "'2024-01-02T03:04:05.000000Z'") {
  Raw q(conn,
        "INSERT INTO gadgets (org_id, i8, i16, i32, i64, u8, u16, u32, u64, real, real32, flag, title, ref, at, meta,"
        " payload, color, price, quantity) VALUES (?1, 0, 0, 0, 0, 0, 0, 0, 0, 0.0, 0.0, 0, ?2, ?3, " +
            std::string(at_sql) + ", '{}', x'', 'red', 0, 1) RETURNING id");
  q.bind(1, org.to_string()).bind(2, title).bind(3, tenantry::Uuid::random().to_string());
  return q.one_row().integer(0);
}

/// Lower-case hex of a byte string. Tests compare Bytes through this: Catch's printer for
/// std::byte is compiled into the runner only when that is built as C++17 or later.
inline std::string hex(const tenantry::Bytes& bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (std::byte b : bytes) {
    out += digits[std::to_integer<unsigned>(b) >> 4];
    out += digits[std::to_integer<unsigned>(b) & 0xF];
  }
  return out;
}

// ---- exceptions --------------------------------------------------------------------------------

// expect_throw: support/expect_throw.hpp (testdb::expect_throw).

}  // namespace testdb

// Readable values in Catch's failure messages.
namespace Catch {
template <>
struct StringMaker<tenantry::Uuid> {
  static std::string convert(const tenantry::Uuid& u) { return u.to_string(); }
};
template <>
struct StringMaker<tenantry::OrgId> {
  static std::string convert(const tenantry::OrgId& o) { return "org " + o.to_string(); }
};
template <>
struct StringMaker<tenantry::Timestamp> {
  static std::string convert(const tenantry::Timestamp& t) {
    if (t.micros < tenantry::Timestamp::min_micros || t.micros > tenantry::Timestamp::max_micros)
      return std::to_string(t.micros) + " us";
    return t.to_iso();
  }
};
template <>
struct StringMaker<tenantry::Json> {
  static std::string convert(const tenantry::Json& j) { return "json " + j.text; }
};
template <>
struct StringMaker<fixtures::Money> {
  static std::string convert(const fixtures::Money& m) { return std::to_string(m.cents) + " cents"; }
};
}  // namespace Catch
