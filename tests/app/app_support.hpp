// Helpers for the reference app's tests (tests/app/*.cpp): its migration directories, databases
// of both dialects opened the way the app opens them (tenantry::connect), plain queries through a
// tenantry::Database, and schema snapshots read from the catalogs for comparing two databases.
//
//   app_test::migrations("sqlite")          <source>/migrations/sqlite
//   app_test::TempSqlite f;  f.url()        a fresh SQLite file, deleted at scope end
//   app_test::fresh_url(Dialect::postgres)  a fresh PostgreSQL database (tenantry_test::pg_url())
//   app_test::schema_snapshot(db)           the app's tables, columns, constraints, indexes,
//                                           policies as sorted text lines (not the record table)
//   app_test::diff(a, b)                    the lines only in a / only in b, for messages
#pragma once

#include "support/pg_database.hpp"

#include <tenantry/migrate.hpp>
#include <tenantry/tenantry.hpp>

#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace app_test {

namespace fs = std::filesystem;

enum class Dialect { sqlite, postgres };

inline const char* name(Dialect d) { return d == Dialect::sqlite ? "sqlite" : "postgres"; }

/// <source>/migrations/<sub>, e.g. migrations("sqlite"), migrations("upgrade/postgres").
inline fs::path migrations(std::string_view sub) {
  return fs::path(TENANTRY_SOURCE_DIR) / "migrations" / std::string(sub);
}

/// A fresh SQLite file name under $TENANTRY_TEST_TMP (or /tmp); the file and its companions are
/// deleted at scope end.
class TempSqlite {
 public:
  TempSqlite() {
    static std::atomic<unsigned> counter{0};
    const char* env = std::getenv("TENANTRY_TEST_TMP");
    const fs::path dir = env != nullptr && *env != '\0' ? fs::path(env) : fs::temp_directory_path();
    std::error_code ec;
    fs::create_directories(dir, ec);
    path_ = dir / ("tenantry-app-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
                   tenantry::Uuid::random().to_string().substr(0, 8) + ".db");
    remove();
  }
  ~TempSqlite() { remove(); }
  TempSqlite(const TempSqlite&) = delete;
  TempSqlite& operator=(const TempSqlite&) = delete;

  std::string path() const { return path_.string(); }
  std::string url() const { return "sqlite:" + path_.string(); }

 private:
  void remove() const noexcept {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(fs::path(path_.string() + suffix), ec);
  }
  fs::path path_;
};

/// A URL to a fresh, empty database of the dialect; `file` keeps an SQLite file alive.
inline std::string fresh_url(Dialect d, std::optional<TempSqlite>& file) {
  if (d == Dialect::postgres) return tenantry_test::pg_url();
  file.emplace();
  return file->url();
}

using tenantry_test::as_role;  // support/pg_database.hpp

// ---- plain queries -------------------------------------------------------------------------------

template <class S>
struct ResetAtExit {
  S& st;
  ~ResetAtExit() { st.reset(); }
};

/// Runs `sql` (no parameters) on either database and calls row(statement) for each row.
template <class F>
void for_each_row(tenantry::Database& db, const std::string& sql, F&& row) {
  const tenantry::Sql s = tenantry::intern_sql(sql);
  db.visit([&](auto& conn) {
    auto& st = conn.prepare(s);
    ResetAtExit<std::remove_reference_t<decltype(st)>> reset{st};
    while (st.step()) row(st);
  });
}

/// The first column of every row, as text ("NULL" for NULL).
inline std::vector<std::string> texts(tenantry::Database& db, const std::string& sql) {
  std::vector<std::string> out;
  for_each_row(db, sql, [&](auto& st) {
    out.push_back(st.column_is_null(0) ? std::string("NULL") : std::string(st.column_text(0)));
  });
  return out;
}

inline std::int64_t scalar(tenantry::Database& db, const std::string& sql) {
  std::optional<std::int64_t> v;
  for_each_row(db, sql, [&](auto& st) { v = st.column_int(0); });
  REQUIRE(v);
  return *v;
}

// ---- schema snapshots ----------------------------------------------------------------------------

/// What a snapshot compares.
struct SnapshotOptions {
  /// PostgreSQL: compare columns by name only. ALTER TABLE ADD COLUMN appends, so a table
  /// upgraded in place has org_id last where a fresh one has it second.
  bool ignore_column_order = false;
};

/// The schema of the database's app tables (every table but the migration records) as text
/// lines, in a deterministic order:
///  * SQLite: sqlite_schema's type, name, table and exact SQL text of every table and index
///    (automatic indexes by name), so two snapshots are equal only when the DDL is;
///  * PostgreSQL (current schema): every column with its type, NOT NULL and default; every
///    constraint with pg_get_constraintdef; every index with pg_get_indexdef; every policy; the
///    row-level security flags of every table.
inline std::vector<std::string> schema_snapshot(tenantry::Database& db, SnapshotOptions opt = {}) {
  std::vector<std::string> out;
  const auto add = [&](const std::string& sql) {
    for (auto& line : texts(db, sql)) out.push_back(std::move(line));
  };
  if (db.is_sqlite()) {
    add("SELECT type || ' ' || name || ' ON ' || tbl_name || ': ' || COALESCE(sql, '(automatic)')"
        " FROM sqlite_schema WHERE tbl_name <> '_tenantry_migrations' ORDER BY type, name");
    return out;
  }
  const std::string app_table =
      " c.relnamespace = current_schema()::regnamespace AND c.relname <> '_tenantry_migrations'";
  add(std::string("SELECT 'column ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)"
                  " || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END"
                  " || COALESCE(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '')"
                  " FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
                  " LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
                  " WHERE c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped AND") +
      app_table + (opt.ignore_column_order ? " ORDER BY c.relname, a.attname" : " ORDER BY c.relname, a.attnum"));
  add("SELECT 'constraint ' || c.relname || ' ' || k.conname || ' ' || pg_get_constraintdef(k.oid)"
      " FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid WHERE" +
      app_table + " ORDER BY 1");
  add("SELECT 'index ' || c.relname || ' ' || i.relname || ' ' || pg_get_indexdef(i.oid)"
      " FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid WHERE" +
      app_table + " ORDER BY 1");
  add("SELECT 'policy ' || tablename || ' ' || policyname || ' ' || permissive || ' ' || cmd || ' '"
      " || array_to_string(roles, ',') || ' USING ' || COALESCE(qual, '-') || ' CHECK ' || COALESCE(with_check, '-')"
      " FROM pg_policies WHERE schemaname = current_schema() ORDER BY 1");
  add("SELECT 'table ' || c.relname || ' rls ' || c.relrowsecurity || ' force ' || c.relforcerowsecurity"
      " FROM pg_class c WHERE c.relkind = 'r' AND" +
      app_table + " ORDER BY 1");
  return out;
}

/// The lines only in `a` ("- ...") and only in `b` ("+ ..."); empty when both hold the same
/// lines in the same order (an order difference alone is reported as "(same lines, other order)").
inline std::string diff(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  if (a == b) return {};
  const std::multiset<std::string> sa(a.begin(), a.end()), sb(b.begin(), b.end());
  std::string out;
  for (const auto& l : a)
    if (!sb.contains(l)) out += "- " + l + "\n";
  for (const auto& l : b)
    if (!sa.contains(l)) out += "+ " + l + "\n";
  return out.empty() ? "(same lines, other order)\n" : out;
}

/// The versions a runner applied or reverted.
inline std::vector<std::int64_t> versions(const tenantry::migrate::RunResult& r) { return r.versions; }

}  // namespace app_test

namespace Catch {
template <>
struct StringMaker<tenantry::OrgId> {
  static std::string convert(const tenantry::OrgId& o) { return "org " + o.to_string(); }
};
template <>
struct StringMaker<tenantry::Uuid> {
  static std::string convert(const tenantry::Uuid& u) { return u.to_string(); }
};
}  // namespace Catch
