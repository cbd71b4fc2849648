// tenantry/statements.hpp - the description of every repository operation.
//
//   stmt::Statement s = tenantry::statements::list<ApiToken>(col(&ApiToken::user_id) == "u1", limit(10));
//   std::string text = tenantry::write_sql<SqliteDialect>(s);
//
// Repositories describe each call with these functions and run what the writer makes of the
// description; the golden tests call the same functions, so they pin exactly what a repository
// sends. Each function reads only the call's types (and whether an optional compared with is
// empty, which turns = into IS NULL): never the values it will bind.
//
// Parameter numbering (statement.hpp): $1 the org for org-scoped tables, then the key columns,
// then the INSERT or SET values, then the predicate's values, then LIMIT and OFFSET.
#pragma once

#include "tenantry/conflict.hpp"
#include "tenantry/error.hpp"
#include "tenantry/query.hpp"
#include "tenantry/schema.hpp"
#include "tenantry/sql_writer.hpp"
#include "tenantry/statement.hpp"

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

namespace tenantry {

namespace sql {
using stmt::generated_columns;
using stmt::insert_columns;
using stmt::key_columns;
using stmt::updatable_columns;
}  // namespace sql

namespace statements {

template <class E>
stmt::Statement insert() {
  return stmt::on_table(stmt::Verb::insert, table_info<E>());
}

/// INSERT ... VALUES (...), (...) for `rows` rows, parameters row after row; RETURNING the
/// generated columns, one result row per VALUES row in VALUES order.
template <class E>
stmt::Statement insert_rows(std::size_t rows) {
  stmt::Statement s = stmt::on_table(stmt::Verb::insert_rows, table_info<E>());
  s.rows = static_cast<std::uint32_t>(rows);
  return s;
}

/// INSERT ... SELECT * FROM unnest($1::A[], ...), one array parameter per inserted column (rows
/// in array order); RETURNING the generated columns in that order. PostgreSQL only.
template <class E>
stmt::Statement insert_unnest() {
  return stmt::on_table(stmt::Verb::insert_unnest, table_info<E>());
}

/// SELECT every column WHERE org = $1 AND key in arrays of keys ($2, one array per key column).
/// PostgreSQL only.
template <class E>
stmt::Statement find_many() {
  stmt::Statement s = stmt::on_table(stmt::Verb::select, table_info<E>());
  s.by_key = true;
  s.key_array = true;
  return s;
}

/// SELECT every column WHERE org = $1 AND key = $2 ...
template <class E>
stmt::Statement find() {
  stmt::Statement s = stmt::on_table(stmt::Verb::select, table_info<E>());
  s.by_key = true;
  return s;
}

/// UPDATE ... SET cols WHERE org AND key; the SET values follow the key.
template <class E>
stmt::Statement update(const std::vector<std::size_t>& set_cols) {
  stmt::Statement s = stmt::on_table(stmt::Verb::update, table_info<E>());
  s.by_key = true;
  for (auto i : set_cols) s.set.push_back(static_cast<std::uint16_t>(i));
  return s;
}
/// The whole-row update: every updatable column.
template <class E>
stmt::Statement update() {
  return update<E>(stmt::updatable_columns(table_info<E>()));
}

template <class E>
stmt::Statement erase() {
  stmt::Statement s = stmt::on_table(stmt::Verb::erase, table_info<E>());
  s.by_key = true;
  return s;
}

/// The columns an upsert's DO UPDATE sets when the target names none: every updatable column
/// the insert wrote, except the target's.
template <class E>
std::vector<std::size_t> upsert_set(const ConflictTarget<E>& target) {
  const TableInfo& t = table_info<E>();
  std::vector<std::size_t> tgt(target.columns.index.begin(), target.columns.index.begin() + target.columns.size);
  std::vector<std::size_t> set;
  if (target.set.size > 0) {
    set.assign(target.set.index.begin(), target.set.index.begin() + target.set.size);
  } else {
    for (auto i : stmt::updatable_columns(t))
      if (!t.columns[i].generated() && std::find(tgt.begin(), tgt.end(), i) == tgt.end()) set.push_back(i);
  }
  return set;
}

/// INSERT ... ON CONFLICT; `read_back`: RETURNING every column (Repository::upsert), or nothing
/// (Repository::put).
template <class E>
stmt::Statement upsert(const ConflictTarget<E>& target, bool read_back = true) {
  stmt::Statement s = stmt::on_table(stmt::Verb::upsert, table_info<E>());
  s.read_back = read_back;
  for (std::size_t k = 0; k < target.columns.size; ++k) s.conflict.push_back(static_cast<std::uint16_t>(target.columns.index[k]));
  if (!target.do_nothing)
    for (auto i : upsert_set(target)) s.set.push_back(static_cast<std::uint16_t>(i));
  s.do_nothing = target.do_nothing;
  return s;
}

namespace detail {

void tenantry_a_filtered_call_takes_predicates_order_by_limit_and_offset();

/// Adds one argument of a filtered call (list/count/exists/erase_where/update_where) to `s`.
template <class E, class C, class A>
void describe_argument(const C& ctx, stmt::Statement& s, const A& a) {
  if constexpr (predicate<A>) {
    static_assert(A::template names_only<E>,
                  "tenantry: predicate on another entity's columns: a repository filters its own entity");
    a.describe(ctx, s.where);
  } else if constexpr (std::is_same_v<A, OrderBy<E>>) {
    s.order.push_back(stmt::OrderTerm{stmt::ColRef{0, 0, static_cast<std::uint16_t>(a.index)}, a.descending, 0});
  } else if constexpr (std::is_same_v<A, After<E>>) {
    s.keyset = true;
  } else if constexpr (std::is_same_v<A, Limit>) {
    s.has_limit = true;
  } else if constexpr (std::is_same_v<A, Offset>) {
    s.has_offset = true;
  } else {
    static_assert(always_false<A>,
                  "tenantry: list/count/exists take a predicate on this entity (from col(...); no other type can be one), order_by(&ThisEntity::m), after(row), limit(n) and offset(n)");
  }
}

}  // namespace detail

/// The fields whose values after(row) binds, in the writer's order (sql_writer.hpp's
/// keyset_condition): each ordering column once when all sort the same way, else the expanded
/// OR form's columns term by term. Throws UsageError when the ordering does not end in the
/// primary key or names a nullable column.
inline std::vector<std::size_t> keyset_fields(const TableInfo& t, const stmt::Statement& s) {
  const auto key = stmt::key_columns(t);
  bool ends_in_key = s.order.size() >= key.size();
  for (std::size_t k = 0; ends_in_key && k < key.size(); ++k)
    ends_in_key = s.order[s.order.size() - key.size() + k].col.column == key[k];
  if (!ends_in_key)
    throw UsageError("tenantry: after(row) on '" + t.name + "' needs an ordering that ends in the primary key, so the next page starts exactly after the row");
  bool same = true;
  for (const auto& o : s.order) {
    if (t.columns[o.col.column].nullable)
      throw UsageError("tenantry: after(row) on '" + t.name + "': column '" + t.columns[o.col.column].name + "' is nullable; keyset paging needs NOT NULL ordering columns");
    same = same && o.descending == s.order.front().descending;
  }
  std::vector<std::size_t> out;
  if (same) {
    for (const auto& o : s.order) out.push_back(o.col.column);
  } else {
    for (std::size_t k = 0; k < s.order.size(); ++k)
      for (std::size_t j = 0; j <= k; ++j) out.push_back(s.order[j].col.column);
  }
  return out;
}

/// list / count / exists / erase_where over E, filtered by the call's arguments.
template <class E, class... Args>
stmt::Statement filtered(stmt::Verb verb, const Args&... args) {
  stmt::Statement s = stmt::on_table(verb, table_info<E>());
  [[maybe_unused]] const query_detail::Context<void, E> ctx{nullptr, &s};
  (detail::describe_argument<E>(ctx, s, args), ...);
  if (s.keyset) {
    if (verb != stmt::Verb::select) throw UsageError("tenantry: after(row) pages a list; count/exists/erase_where take predicates");
    (void)keyset_fields(table_info<E>(), s);
  }
  return s;
}

template <class E, class... Args>
stmt::Statement list(const Args&... args) {
  return filtered<E>(stmt::Verb::select, args...);
}
template <class E, class... Args>
stmt::Statement count(const Args&... args) {
  return filtered<E>(stmt::Verb::count, args...);
}
template <class E, class... Args>
stmt::Statement exists(const Args&... args) {
  return filtered<E>(stmt::Verb::exists, args...);
}
template <class E, class P>
stmt::Statement erase_where(const P& pred) {
  return filtered<E>(stmt::Verb::erase, pred);
}

/// UPDATE E SET cols WHERE org AND (pred): the SET values come after the org, then the
/// predicate's.
template <class E, class P>
stmt::Statement update_where(const std::vector<std::size_t>& set_cols, const P& pred) {
  stmt::Statement s = filtered<E>(stmt::Verb::update, pred);
  for (auto i : set_cols) s.set.push_back(static_cast<std::uint16_t>(i));
  return s;
}

}  // namespace statements

}  // namespace tenantry
