// tenantry/statements.hpp - the SQL text of every repository operation, per dialect.
//
// Builders read a TableInfo and write the statement in dialect D. They run once per
// (entity, dialect, statement shape): repositories intern the result (sql_registry.hpp) and
// reuse it for the life of the process.
//
// Parameter numbering is fixed so that repositories can bind without consulting the text:
//   org-scoped tables: ?1 is the org id, then the key columns, then everything else;
//   global tables:     the key columns first, then everything else.
// Every statement on an org-scoped table filters by, or writes, the org column: there is no
// builder here that can produce one that does not.
#pragma once

#include "tenantry/schema.hpp"

#include <string>
#include <vector>

namespace tenantry::sql {

/// Key columns a caller passes: the primary key without the org column (the org is passed on
/// its own, first).
inline std::vector<std::size_t> key_columns(const TableInfo& t) {
  std::vector<std::size_t> out;
  for (auto i : t.primary_key)
    if (i != t.org_column) out.push_back(i);
  return out;
}

/// Columns an INSERT names: all but the ones the database generates.
inline std::vector<std::size_t> insert_columns(const TableInfo& t) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < t.columns.size(); ++i)
    if (!t.columns[i].generated()) out.push_back(i);
  return out;
}

/// Columns the database generates on insert, read back through RETURNING.
inline std::vector<std::size_t> generated_columns(const TableInfo& t) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < t.columns.size(); ++i)
    if (t.columns[i].generated()) out.push_back(i);
  return out;
}

/// Columns a whole-row UPDATE sets: never the key, the org, a database-assigned id (identity,
/// default_uuid) or a write-once column.
inline std::vector<std::size_t> updatable_columns(const TableInfo& t) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < t.columns.size(); ++i) {
    bool is_key = false;
    for (auto k : t.primary_key) is_key |= (k == i);
    const ColumnInfo& c = t.columns[i];
    if (!is_key && i != t.org_column && !c.identity && c.default_kind != DefaultKind::uuid && !c.write_once) out.push_back(i);
  }
  return out;
}

template <class D>
void column_list(std::string& out, const TableInfo& t, const std::vector<std::size_t>& cols) {
  for (std::size_t k = 0; k < cols.size(); ++k) {
    if (k) out += ", ";
    D::quote(out, t.columns[cols[k]].name);
  }
}

template <class D>
void all_columns(std::string& out, const TableInfo& t) {
  for (std::size_t i = 0; i < t.columns.size(); ++i) {
    if (i) out += ", ";
    D::quote(out, t.columns[i].name);
  }
}

/// " WHERE org = ?1" for org-scoped tables; returns the next parameter number.
template <class D>
int where_org(std::string& out, const TableInfo& t, bool& has_where) {
  has_where = false;
  if (!t.org_scoped()) return 1;
  out += " WHERE ";
  D::quote(out, t.columns[t.org_column].name);
  out += " = ";
  D::placeholder(out, 1);
  has_where = true;
  return 2;
}

/// " WHERE org = ?1 AND k1 = ?2 AND ..." ; returns the next parameter number.
template <class D>
int where_key(std::string& out, const TableInfo& t) {
  bool has_where;
  int next = where_org<D>(out, t, has_where);
  for (auto i : key_columns(t)) {
    out += has_where ? " AND " : " WHERE ";
    has_where = true;
    D::quote(out, t.columns[i].name);
    out += " = ";
    D::placeholder(out, next++);
  }
  return next;
}

template <class D>
std::string insert(const TableInfo& t) {
  std::string out = "INSERT INTO ";
  D::quote(out, t.name);
  out += " (";
  const auto cols = insert_columns(t);
  column_list<D>(out, t, cols);
  out += ") VALUES (";
  for (std::size_t k = 0; k < cols.size(); ++k) {
    if (k) out += ", ";
    D::placeholder(out, static_cast<int>(k) + 1);
  }
  out += ')';
  if (const auto gen = generated_columns(t); !gen.empty()) {
    out += " RETURNING ";
    column_list<D>(out, t, gen);
  }
  return out;
}

/// INSERT ... VALUES (...), (...), ... for `rows` rows: parameters numbered row after row, each
/// row's in insert_columns order; RETURNING the generated columns (one result row per VALUES row,
/// in VALUES order: the executor inserts a VALUES list in order and emits each row's RETURNING
/// as it inserts it). Used by insert_many on PostgreSQL.
template <class D>
std::string insert_rows(const TableInfo& t, std::size_t rows) {
  std::string out = "INSERT INTO ";
  D::quote(out, t.name);
  out += " (";
  const auto cols = insert_columns(t);
  column_list<D>(out, t, cols);
  out += ") VALUES ";
  int next = 1;
  for (std::size_t r = 0; r < rows; ++r) {
    out += r ? ", (" : "(";
    for (std::size_t k = 0; k < cols.size(); ++k) {
      if (k) out += ", ";
      D::placeholder(out, next++);
    }
    out += ')';
  }
  if (const auto gen = generated_columns(t); !gen.empty()) {
    out += " RETURNING ";
    column_list<D>(out, t, gen);
  }
  return out;
}

template <class D>
std::string find(const TableInfo& t) {
  std::string out = "SELECT ";
  all_columns<D>(out, t);
  out += " FROM ";
  D::quote(out, t.name);
  where_key<D>(out, t);
  return out;
}

/// UPDATE ... SET cols WHERE key; the SET values follow the key parameters.
template <class D>
std::string update(const TableInfo& t, const std::vector<std::size_t>& set_cols) {
  std::string where;
  int next = where_key<D>(where, t);
  std::string out = "UPDATE ";
  D::quote(out, t.name);
  out += " SET ";
  for (std::size_t k = 0; k < set_cols.size(); ++k) {
    if (k) out += ", ";
    D::quote(out, t.columns[set_cols[k]].name);
    out += " = ";
    D::placeholder(out, next++);
  }
  out += where;
  return out;
}

template <class D>
std::string erase(const TableInfo& t) {
  std::string out = "DELETE FROM ";
  D::quote(out, t.name);
  where_key<D>(out, t);
  return out;
}

/// INSERT ... ON CONFLICT (target) DO UPDATE SET c = excluded.c ... RETURNING every column.
/// When the target does not include the org column, a conflicting row may belong to another
/// org; the DO UPDATE is then guarded so it only ever touches a row of the same org, and such a
/// conflict returns no row (the repository reports it as a unique violation).
template <class D>
std::string upsert(const TableInfo& t, const std::vector<std::size_t>& target, const std::vector<std::size_t>& set_cols,
                   bool do_nothing) {
  std::string out = insert<D>(t);
  if (auto r = out.find(" RETURNING "); r != std::string::npos) out.resize(r);
  bool target_has_org = false;
  for (auto i : target) target_has_org |= (i == t.org_column);
  out += " ON CONFLICT (";
  if (t.org_leading_keys && !target_has_org) {
    // Org-leading keys: the declared target is unique only together with the org (schema.hpp),
    // so the org leads the target and a conflict can only be with a row of the same org.
    D::quote(out, t.columns[t.org_column].name);
    out += ", ";
    target_has_org = true;
  }
  column_list<D>(out, t, target);
  out += ')';
  if (do_nothing || set_cols.empty()) {
    // DO UPDATE with a no-op assignment instead of DO NOTHING, so RETURNING yields the existing
    // row on conflict (DO NOTHING returns nothing).
    out += " DO UPDATE SET ";
    const std::size_t first = target.front();
    D::quote(out, t.columns[first].name);
    out += " = excluded.";
    D::quote(out, t.columns[first].name);
  } else {
    out += " DO UPDATE SET ";
    for (std::size_t k = 0; k < set_cols.size(); ++k) {
      if (k) out += ", ";
      D::quote(out, t.columns[set_cols[k]].name);
      out += " = excluded.";
      D::quote(out, t.columns[set_cols[k]].name);
    }
  }
  if (t.org_scoped() && !target_has_org) {
    out += " WHERE ";
    D::quote(out, t.name);
    out += '.';
    D::quote(out, t.columns[t.org_column].name);
    out += " = excluded.";
    D::quote(out, t.columns[t.org_column].name);
  }
  out += " RETURNING ";
  all_columns<D>(out, t);
  return out;
}

/// The pieces of a filtered statement the repository fills in: the predicate's SQL (written
/// with parameters from `next` on) and the ORDER BY / LIMIT / OFFSET tail.
enum class Verb { select, count, exists, erase };

template <class D, class WritePredicate>
std::string filtered(const TableInfo& t, Verb verb, WritePredicate&& write_predicate,
                     const std::vector<std::pair<std::size_t, bool>>& order, bool has_limit, bool has_offset) {
  std::string out;
  switch (verb) {
    case Verb::select:
      out = "SELECT ";
      all_columns<D>(out, t);
      out += " FROM ";
      break;
    case Verb::count: out = "SELECT COUNT(*) FROM "; break;
    case Verb::exists: out = "SELECT EXISTS (SELECT 1 FROM "; break;
    case Verb::erase: out = "DELETE FROM "; break;
  }
  D::quote(out, t.name);
  bool has_where;
  int next = where_org<D>(out, t, has_where);
  std::string pred;
  write_predicate(pred, next);
  if (!pred.empty()) {
    out += has_where ? " AND " : " WHERE ";
    out += pred;
  }
  if (!order.empty()) {
    out += " ORDER BY ";
    for (std::size_t k = 0; k < order.size(); ++k) {
      if (k) out += ", ";
      D::quote(out, t.columns[order[k].first].name);
      if (order[k].second) out += " DESC";
      // The databases disagree on where NULLs sort (SQLite first, PostgreSQL last, ascending):
      // say it, PostgreSQL's way, for nullable columns.
      if (t.columns[order[k].first].nullable) out += order[k].second ? " NULLS FIRST" : " NULLS LAST";
    }
  }
  if (has_limit) {
    out += " LIMIT ";
    D::placeholder(out, next++);
  }
  if (has_offset) {
    // SQLite accepts OFFSET only after a LIMIT; LIMIT -1 means none there.
    if (!has_limit && !D::is_postgres) out += " LIMIT -1";
    out += " OFFSET ";
    D::placeholder(out, next++);
  }
  if (verb == Verb::exists) out += ')';
  return out;
}

/// UPDATE t SET a = ?, ... WHERE org = ?1 AND (predicate): the SET values come first after the
/// org, then the predicate's parameters.
template <class D, class WritePredicate>
std::string update_filtered(const TableInfo& t, const std::vector<std::size_t>& set_cols, WritePredicate&& write_predicate) {
  std::string out = "UPDATE ";
  D::quote(out, t.name);
  out += " SET ";
  int next = t.org_scoped() ? 2 : 1;
  for (std::size_t k = 0; k < set_cols.size(); ++k) {
    if (k) out += ", ";
    D::quote(out, t.columns[set_cols[k]].name);
    out += " = ";
    D::placeholder(out, next++);
  }
  bool has_where = false;
  if (t.org_scoped()) {
    out += " WHERE ";
    D::quote(out, t.columns[t.org_column].name);
    out += " = ";
    D::placeholder(out, 1);
    has_where = true;
  }
  std::string pred;
  write_predicate(pred, next);
  if (!pred.empty()) {
    out += has_where ? " AND " : " WHERE ";
    out += pred;
  }
  return out;
}

}  // namespace tenantry::sql
