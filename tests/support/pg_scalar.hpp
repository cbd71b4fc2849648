// One-value reads through the PostgreSQL driver for tests/pg: a test asks the server what it
// holds (a count, a setting, a role) with the connection under test.
//
//   CHECK(testdb::scalar(conn, "SELECT count(*) FROM api_tokens") == 2);
//   CHECK(testdb::text(conn, "SELECT current_setting('search_path')") == "\"org_x\", public");
//
// sql is the whole statement; when it names $1, `arg` is bound to it as text. The step runs
// outside REQUIRE so that an exception from the server reaches the caller's CHECK_THROWS.
#pragma once

#include "tenantry/driver/postgres.hpp"
#include "tenantry/sql_registry.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace testdb {

namespace pg_scalar_detail {
inline void bind_arg(tenantry::pg::Statement& st, const std::string& sql, const std::string& arg) {
  if (sql.find("$1") != std::string::npos) st.bind_text(1, arg);
}
}  // namespace pg_scalar_detail

/// The integer in the first column of the one row sql returns; fails the test when no row.
inline std::int64_t scalar(tenantry::pg::Connection& c, const std::string& sql, const std::string& arg = {}) {
  tenantry::pg::Statement& st = c.prepare(tenantry::intern_sql(sql));
  tenantry::pg::StatementScope scope(st);
  pg_scalar_detail::bind_arg(st, sql, arg);
  const bool row = st.step();
  REQUIRE(row);
  return st.column_int(0);
}

/// The first column of the first row as text: "<null>" for NULL, "<no row>" when there is none.
inline std::string text(tenantry::pg::Connection& c, const std::string& sql, const std::string& arg = {}) {
  tenantry::pg::Statement& st = c.prepare(tenantry::intern_sql(sql));
  tenantry::pg::StatementScope scope(st);
  pg_scalar_detail::bind_arg(st, sql, arg);
  if (!st.step()) return "<no row>";
  return st.column_is_null(0) ? std::string("<null>") : std::string(st.column_text(0));
}

/// The first column of every row, as text ("<null>" for NULL).
inline std::vector<std::string> texts(tenantry::pg::Connection& c, const std::string& sql,
                                      const std::string& arg = {}) {
  tenantry::pg::Statement& st = c.prepare(tenantry::intern_sql(sql));
  tenantry::pg::StatementScope scope(st);
  pg_scalar_detail::bind_arg(st, sql, arg);
  std::vector<std::string> out;
  while (st.step()) out.push_back(st.column_is_null(0) ? std::string("<null>") : std::string(st.column_text(0)));
  return out;
}

}  // namespace testdb
