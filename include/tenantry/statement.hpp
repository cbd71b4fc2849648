// tenantry/statement.hpp - a statement as data.
//
// Every statement tenantry sends is first described by a Statement: which tables (and how they
// are joined), which columns come out, the predicate tree, grouping, ordering, paging, the SET
// list or the conflict target. The description is built from the call's types and nothing else
// (never from values), and it is the only input of the SQL writer (sql_writer.hpp): the same
// description always yields the same text. It is also the cache key (statement_cache.hpp), so
// the text a call runs and the key it is found under cannot disagree.
//
// The org rule lives in the writer, not here: every source whose table is org-scoped gets its
// org equality written by the writer (in WHERE, or in the ON clause of the optional side of a
// left join), so no description can express a statement that misses one. A predicate is a
// tree of library nodes; the writer parenthesizes every AND/OR it writes, so a user's OR can
// never escape the org filter it is ANDed with.
//
// Parameters are numbered by one rule, which the binder follows (repository.hpp, select.hpp):
//   $1 the org (when any source is org-scoped; every org equality reuses it; none in the
//   platform scope, whose org conditions are `IS NULL`), then the key
//   columns (by-key statements), then the INSERT values, then the SET values, then the values
//   in the SELECT list (INSERT ... SELECT constants), then the ON predicates, then the WHERE
//   predicate's values in node order (subqueries depth first), then the keyset row's values,
//   then HAVING's, then LIMIT, OFFSET.
#pragma once

#include "tenantry/schema.hpp"

#include <boost/container/small_vector.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <vector>

namespace tenantry::stmt {

template <class T, std::size_t N>
using small_vector = boost::container::small_vector<T, N>;

enum class Verb : std::uint8_t {
  select,       // SELECT outputs FROM sources ...
  count,        // SELECT COUNT(*) FROM ...
  exists,       // SELECT EXISTS (SELECT 1 FROM ...)
  erase,        // DELETE FROM ...
  update,       // UPDATE ... SET ...
  insert,       // INSERT ... VALUES (...) [RETURNING generated]
  insert_rows,  // INSERT ... VALUES (...), (...) for `rows` rows
  insert_select,  // INSERT INTO target (org, set...) SELECT $1, outputs FROM sources ...
  upsert,       // INSERT ... ON CONFLICT ...
  insert_unnest,  // INSERT ... SELECT * FROM unnest($1::T[], ...) [RETURNING generated]: PostgreSQL
};

/// A column of one source of the statement. `scope` is 0 for the statement's own sources and n
/// for the n-th enclosing statement (a correlated subquery naming an outer column).
struct ColRef {
  std::uint8_t scope = 0;
  std::uint8_t source = 0;
  std::uint16_t column = 0;
  friend bool operator==(const ColRef&, const ColRef&) = default;
};

enum class Cmp : std::uint8_t { eq, ne, lt, le, gt, ge, like };

enum class NodeKind : std::uint8_t {
  all_of,          // AND of the next `count` subtrees
  any_of,          // OR of the next `count` subtrees
  negation,        // NOT of the next subtree
  compare,         // a <cmp> ?
  null_test,       // a IS NULL (negated: IS NOT NULL)
  in_list,         // a IN (?, ... `count` times) (negated: NOT IN); count 0: matches nothing
  column_compare,  // a <cmp> b
  exists,          // EXISTS (subquery `count`) (negated: NOT EXISTS)
  in_subquery,     // a IN (subquery `count`) (negated: NOT IN)
};

/// `value` is an output that is a bound parameter (a constant column of an INSERT ... SELECT).
enum class Aggregate : std::uint8_t { none, count_star, count, count_distinct, sum, min, max, avg, value };

/// One node of a predicate tree, in prefix order: an all_of/any_of/negation node is followed by
/// its children. In HAVING, a compare node's left side may be an aggregate of column a.
struct Node {
  NodeKind kind = NodeKind::compare;
  Cmp cmp = Cmp::eq;
  bool negated = false;
  Aggregate agg = Aggregate::none;
  ColRef a{}, b{};
  std::uint32_t count = 0;
  friend bool operator==(const Node&, const Node&) = default;
};

enum class Join : std::uint8_t { from, inner, left };

/// A table in the statement. The first source is the FROM table; each later one is joined with
/// the ON predicate nodes [on_begin, on_end) of Statement::on.
struct Source {
  const TableInfo* table = nullptr;
  Join join = Join::from;
  std::uint16_t on_begin = 0, on_end = 0;
  friend bool operator==(const Source&, const Source&) = default;
};

/// One output column: a column, or an aggregate of one.
struct Output {
  Aggregate fn = Aggregate::none;
  ColRef col{};
  friend bool operator==(const Output&, const Output&) = default;
};

struct OrderTerm {
  ColRef col{};
  bool descending = false;
  /// Sorts by the output column at this position (1-based) instead, for aggregates.
  std::uint16_t output = 0;
  friend bool operator==(const OrderTerm&, const OrderTerm&) = default;
};

struct Statement;

/// What a statement is about. Values are never part of it: two calls that differ only in the
/// values they bind have equal descriptions, and share one SQL text and one prepared statement.
struct Statement {
  Verb verb = Verb::select;
  small_vector<Source, 3> sources;
  /// The SELECT list; empty for Verb::select means every column of source 0, in field order.
  small_vector<Output, 4> outputs;
  /// Filters the first source by its primary key (without the org column) after the org.
  bool by_key = false;
  /// With by_key: the key is matched against arrays of keys, one array parameter per key column
  /// (PostgreSQL: `k = ANY($2::T[])`, or `(a, b) IN (SELECT * FROM unnest($2::A[], $3::B[]))`).
  bool key_array = false;
  bool distinct = false;
  bool has_limit = false;
  bool has_offset = false;
  /// Keyset pagination: only rows after a given row in `order` (whose last terms are the key).
  bool keyset = false;
  /// The platform scope (types.hpp, PlatformScope): every org-scoped source, here and in the
  /// subqueries, is filtered by `org IS NULL` instead of `org = $1`, and there is no org
  /// parameter. The writer refuses it for a table whose org column is not optional.
  bool platform = false;
  small_vector<Node, 8> where;
  small_vector<Node, 2> on;
  small_vector<ColRef, 2> group_by;
  small_vector<Node, 2> having;
  small_vector<OrderTerm, 3> order;
  /// UPDATE's SET list; upsert's DO UPDATE list. Columns of source 0.
  small_vector<std::uint16_t, 4> set;
  /// Upsert: the conflict target (columns of source 0) and whether to keep the existing row.
  small_vector<std::uint16_t, 3> conflict;
  bool do_nothing = false;
  /// Upsert: RETURNING every column, so the row as stored comes back. Without it the statement
  /// returns nothing and its change count tells whether it wrote (Repository::put).
  bool read_back = true;
  /// Verb::insert_rows: the number of VALUES rows.
  std::uint32_t rows = 1;
  /// Verb::insert_select: the table written (its columns are `set`; its org column, when it is
  /// org-scoped, is written from $1 and never selected).
  const TableInfo* target = nullptr;
  /// EXISTS / IN subqueries, referenced by Node::count. A subquery's sources are its own; its
  /// org-scoped sources are filtered by the same org parameter.
  std::vector<Statement> subqueries;

  friend bool operator==(const Statement&, const Statement&) = default;
};

namespace detail {
inline void mix(std::size_t& h, std::size_t v) noexcept { h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2); }
inline std::size_t pack(const ColRef& c) noexcept {
  return (std::size_t{c.scope} << 24) | (std::size_t{c.source} << 16) | c.column;
}
inline void mix_nodes(std::size_t& h, const auto& nodes) noexcept {
  for (const Node& n : nodes) {
    mix(h, (std::size_t(n.agg) << 24) | (std::size_t(n.kind) << 16) | (std::size_t(n.cmp) << 8) | std::size_t(n.negated));
    mix(h, (pack(n.a) << 32) ^ pack(n.b));
    mix(h, n.count);
  }
  mix(h, nodes.size());
}
}  // namespace detail

/// A hash over everything the text depends on.
inline std::size_t hash(const Statement& s) noexcept {
  std::size_t h = std::size_t(s.verb) | (std::size_t(s.by_key) << 8) | (std::size_t(s.distinct) << 9) |
                  (std::size_t(s.has_limit) << 10) | (std::size_t(s.has_offset) << 11) | (std::size_t(s.do_nothing) << 12) |
                  (std::size_t(s.keyset) << 13) | (std::size_t(s.read_back) << 14) |
                  (std::size_t(s.key_array) << 15) | (std::size_t(s.platform) << 16);
  for (const Source& src : s.sources) {
    detail::mix(h, std::hash<const void*>{}(src.table));
    detail::mix(h, (std::size_t(src.join) << 32) | (std::size_t{src.on_begin} << 16) | src.on_end);
  }
  for (const Output& o : s.outputs) detail::mix(h, (std::size_t(o.fn) << 32) | detail::pack(o.col));
  detail::mix_nodes(h, s.where);
  detail::mix_nodes(h, s.on);
  for (const ColRef& c : s.group_by) detail::mix(h, detail::pack(c));
  detail::mix_nodes(h, s.having);
  for (const OrderTerm& o : s.order) detail::mix(h, (detail::pack(o.col) << 17) | (std::size_t{o.output} << 1) | o.descending);
  for (auto c : s.set) detail::mix(h, c);
  detail::mix(h, s.set.size());
  for (auto c : s.conflict) detail::mix(h, c);
  detail::mix(h, s.rows);
  detail::mix(h, std::hash<const void*>{}(s.target));
  for (const Statement& sub : s.subqueries) detail::mix(h, hash(sub));
  return h;
}

struct StatementHash {
  std::size_t operator()(const Statement& s) const noexcept { return hash(s); }
};

/// What a call's description depends on beyond the call's types: the few run-time facts (column
/// indexes, operators, an optional compared with nothing, IN list lengths, ORDER BY columns) that
/// the argument objects carry. Two calls of one C++ signature with equal shape keys have equal
/// descriptions, so a call site can find its SQL by this key without describing itself again
/// (memo_sql in statement_cache.hpp). Argument types that cannot say (subqueries) leave the key
/// unusable, and their calls take the full path. Fixed capacity: a key that would not fit is
/// unusable too.
struct ShapeKey {
  static constexpr std::size_t capacity = 14;
  std::uint32_t words[capacity];
  std::uint8_t size = 0;
  bool usable = true;

  void add(std::uint32_t w) noexcept {
    if (size == capacity) {
      usable = false;
      return;
    }
    words[size++] = w;
  }
  // Every word in use compared, two at a time (memo_sql compares a call's key on every call);
  // the words past size are never read (they may never have been written).
  friend bool operator==(const ShapeKey& a, const ShapeKey& b) noexcept {
    if (a.size != b.size) return false;
    std::size_t i = 0;
    for (; i + 2 <= a.size; i += 2) {
      std::uint64_t x, y;
      std::memcpy(&x, a.words + i, sizeof x);
      std::memcpy(&y, b.words + i, sizeof y);
      if (x != y) return false;
    }
    return i == a.size || a.words[i] == b.words[i];
  }
};

/// A one-source statement on `t`.
inline Statement on_table(Verb verb, const TableInfo& t) {
  Statement s;
  s.verb = verb;
  s.sources.push_back(Source{&t, Join::from, 0, 0});
  return s;
}

}  // namespace tenantry::stmt
