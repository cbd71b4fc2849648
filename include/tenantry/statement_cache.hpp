// tenantry/statement_cache.hpp - the one cache from statement descriptions to SQL.
//
//   Sql s = tenantry::cached_sql<PgDialect>(description);
//
// A description is looked up in the calling thread's cache of dialect D (no lock on the hot
// path); on a miss the SQL writer runs once and the text is interned process-wide
// (sql_registry.hpp), which gives it the dense id connections index their prepared statements
// by. The description is the key, so the text found is always the text the writer makes of
// it. Repositories memoize the result for their fixed statements (find, insert, ...) in
// statics; every text still comes from here.
#pragma once

#include "tenantry/sql_registry.hpp"
#include "tenantry/sql_writer.hpp"
#include "tenantry/statement.hpp"

#include <unordered_map>

namespace tenantry {

template <class D>
Sql cached_sql(const stmt::Statement& s) {
  thread_local std::unordered_map<stmt::Statement, Sql, stmt::StatementHash> cache;
  if (auto it = cache.find(s); it != cache.end()) return it->second;
  const Sql out = intern_sql(write_sql<D>(s));
  cache.emplace(s, out);
  return out;
}

}  // namespace tenantry
