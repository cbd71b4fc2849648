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
//
//   Sql s = tenantry::memo_sql<PgDialect, CallSite>(shape_key, [&] { return describe(...); });
//
// A filtered call (list, count, a query) would otherwise describe itself and hash the
// description on every call. Its description is a function of its C++ signature and a few
// run-time facts (stmt::ShapeKey), so memo_sql finds the SQL by those facts in a short per-thread
// list for the call site's signature, and describes only on a miss. The text still comes from
// cached_sql; debug builds (no NDEBUG) describe on every hit too and check that the memo gave the
// same text, so the tests run each key against the description it stands for.
#pragma once

#include "tenantry/sql_registry.hpp"
#include "tenantry/sql_writer.hpp"
#include "tenantry/statement.hpp"

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tenantry {

template <class D>
Sql cached_sql(const stmt::Statement& s) {
  thread_local std::unordered_map<stmt::Statement, Sql, stmt::StatementHash> cache;
  if (auto it = cache.find(s); it != cache.end()) return it->second;
  const Sql out = intern_sql(write_sql<D>(s));
  cache.emplace(s, out);
  return out;
}

/// The SQL of a call whose description depends only on `Site` (a type naming the call site's
/// signature) and `key`; `describe()` builds the description on a miss. An unusable key (an
/// argument that cannot give its shape) takes the full path every time.
namespace detail {
// memo_sql's per-thread list for call site Site (of dialect D). A call site has a handful of
// shapes; past this many the rest take the full path. A fixed array in a constant-initialised
// thread_local (ShapeKey and Sql are plain values): no allocation and no lazy-initialisation
// check on the way to a hit.
template <class D, class Site>
struct KnownShapes {
  static constexpr std::size_t max_shapes = 16;
  struct Entry {
    stmt::ShapeKey key;
    Sql sql;
  } entries[max_shapes];
  std::size_t size;
  static inline thread_local KnownShapes known{};
};

// A miss (or an unusable key): describe, write, remember. Out of line, so the lookup inlines.
template <class D, class Site, class Describe>
[[gnu::noinline]] Sql memo_miss(const stmt::ShapeKey& key, Describe& describe) {
  const Sql out = cached_sql<D>(describe());
  auto& known = KnownShapes<D, Site>::known;
  if (key.usable && known.size < KnownShapes<D, Site>::max_shapes) {
    auto& e = known.entries[known.size++];
    e.key.size = key.size;  // the words in use only: the others were never written
    e.key.usable = key.usable;
    std::copy_n(key.words, key.size, e.key.words);
    e.sql = out;
  }
  return out;
}
}  // namespace detail

/// The SQL of a call whose description depends only on `Site` (a type naming the call site's
/// signature) and `key`; `describe()` builds the description on a miss. An unusable key (an
/// argument that cannot give its shape) takes the full path every time.
template <class D, class Site, class Describe>
[[gnu::always_inline]] inline Sql memo_sql(const stmt::ShapeKey& key, Describe&& describe) {
  if (key.usable) [[likely]] {
    const auto& known = detail::KnownShapes<D, Site>::known;
    for (std::size_t i = 0; i < known.size; ++i) {
      const auto& [k, sql] = known.entries[i];
      if (k == key) {
#ifndef NDEBUG
        if (cached_sql<D>(describe()).text != sql.text)
          throw std::logic_error("tenantry: internal error: a shape key stands for two statements:\n  " + *sql.text +
                                 "\n  " + *cached_sql<D>(describe()).text);
#endif
        return sql;
      }
    }
  }
  return detail::memo_miss<D, Site>(key, describe);
}

}  // namespace tenantry
