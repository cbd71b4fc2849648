// tenantry/sql_writer.hpp - the SQL text of a Statement, per dialect.
//
//   std::string text = tenantry::write_sql<PgDialect>(statement);
//
// One writer serves both dialects; what differs is asked of the dialect D (placeholders,
// quoting, LIMIT without a bound, how aggregates come back), the way sqlpp's connectors override
// single clauses. It runs once per statement shape (statement_cache.hpp interns the result).
//
// The writer is where the org rule is enforced for every statement form: each org-scoped
// source gets `<alias>.<org column> = $1` (in WHERE for the FROM table, in the ON clause for a
// joined table, so the optional side of a LEFT JOIN cannot bring another org's rows in), and a
// joined org-scoped table is also equated to the FROM table's org column. There is no
// description the writer turns into a statement that reads or writes an org-scoped table
// without its org. Subqueries follow the same rule with the same $1.
//
// A table scoped through its parent (TableInfo::parent_scoped, entity<T>::scope =
// tenantry::through<&T::fk>) has no org column: in the same places it gets
//   EXISTS (SELECT 1 FROM parent AS p0 WHERE p0.key = <alias>.fk AND p0.org = $1)
// (the parent's own filter nested the same way when the parent is scoped through its parent in
// turn). Its INSERT is `INSERT ... SELECT $2, ... WHERE EXISTS (parent of $k in the org)`, so a
// row whose parent is not a row of the org is not written (the repository then throws); its
// UPDATE that sets the foreign key also requires the new parent in the org; its upsert's DO
// UPDATE touches only an existing row whose parent is in the org.
//
// In the platform scope (Statement::platform) the places of the org equalities get
// `<alias>.<org column> IS NULL` instead, and there is no org parameter: only tables whose org
// column is optional can be part of such a statement (the writer throws UsageError for any other
// org-scoped table, and for a table scoped through its parent), and an INSERT ... SELECT writes
// NULL as the org. No statement form reaches every row, or an org's row, in the platform scope.
#pragma once

#include "tenantry/error.hpp"
#include "tenantry/schema.hpp"
#include "tenantry/statement.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tenantry {

namespace stmt {

/// True when any source of `s` or of its subqueries is org-scoped or scoped through its parent:
/// the statement then takes the org as parameter 1. Inserts into an org-scoped table carry the
/// org in their row and take no separate org parameter; inserts into a parent-scoped one do. The
/// platform scope has no org parameter.
inline bool needs_org(const Statement& s) {
  if (s.platform) return false;
  if (s.verb == Verb::insert || s.verb == Verb::insert_rows || s.verb == Verb::upsert || s.verb == Verb::insert_unnest)
    return !s.sources.empty() && s.sources.front().table->parent_scoped();
  if (s.verb == Verb::insert_select && s.target->takes_org()) return true;
  for (const Source& src : s.sources)
    if (src.table->takes_org()) return true;
  for (const Statement& sub : s.subqueries)
    if (needs_org(sub)) return true;
  return false;
}

/// Columns a caller passes as the key: the primary key without the org column.
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
class Writer {
 public:
  static std::string write(const Statement& s) {
    Writer w;
    w.statement(s);
    return std::move(w.out_);
  }

 private:
  // The aliases of one statement level's sources; empty strings mean "unqualified".
  struct Scope {
    const Statement* s;
    std::vector<std::string> alias;
  };
  std::string out_;
  std::vector<Scope> scopes_;
  int next_ = 1;
  int alias_counter_ = 0;
  int parent_alias_counter_ = 0;
  bool org_param_ = false;
  bool platform_ = false;
  // A parent-scoped table's new foreign key value (an UPDATE's SET parameter, an INSERT ...
  // SELECT's output), whose parent the top-level WHERE requires in the org.
  std::string new_parent_value_;
  std::size_t insert_scope_output_ = static_cast<std::size_t>(-1);

  void quote(std::string_view ident) { D::quote(out_, ident); }
  void placeholder(int n) { D::placeholder(out_, n); }

  static const TableInfo& table(const Statement& s, std::size_t source) { return *s.sources[source].table; }

  void column(const ColRef& c) {
    const Scope& sc = scopes_[scopes_.size() - 1 - c.scope];
    const TableInfo& t = table(*sc.s, c.source);
    if (c.column >= t.columns.size()) throw UsageError("tenantry: statement names column " + std::to_string(c.column) + " of '" + t.name + "', which has fewer");
    if (!sc.alias[c.source].empty()) {
      out_ += sc.alias[c.source];
      out_ += '.';
    }
    quote(t.columns[c.column].name);
  }
  void org_column(std::size_t source) {
    const Scope& sc = scopes_.back();
    const TableInfo& t = table(*sc.s, source);
    if (!sc.alias[source].empty()) {
      out_ += sc.alias[source];
      out_ += '.';
    }
    quote(t.columns[t.org_column].name);
  }
  // "<alias>.org = $1": the one place org equalities are written; in the platform scope
  // "<alias>.org IS NULL", on tables whose org column is optional only.
  void org_equals_param(std::size_t source) {
    if (platform_) {
      require_platform_rows(table(*scopes_.back().s, source));
      org_column(source);
      out_ += " IS NULL";
      return;
    }
    org_column(source);
    out_ += " = ";
    placeholder(1);
  }
  static void require_platform_rows(const TableInfo& t) {
    if (!t.org_optional())
      throw UsageError("tenantry: the platform scope reaches rows of no org, and every row of '" + t.name +
                       "' has an org (its org column is not optional)");
  }

  // The org filter of source `source` at the current level: its org equality when it is
  // org-scoped; for a table scoped through its parent, that its parent row is in the org. An
  // unqualified table is named by its table name here, so no column of the parent can capture
  // the reference.
  void org_filter(std::size_t source) {
    const Scope& sc = scopes_.back();
    const TableInfo& t = table(*sc.s, source);
    if (t.org_scoped()) return org_equals_param(source);
    std::string fk = sc.alias[source];
    if (fk.empty()) D::quote(fk, t.name);
    fk += '.';
    D::quote(fk, t.columns.at(t.scope_column).name);
    parent_in_org(t, fk);
  }

  // EXISTS (SELECT 1 FROM parent AS "p<n>" WHERE "p<n>".key = <fk> AND <parent in the org>):
  // the parent row `fk` names belongs to the org, through the whole chain of parents (in the
  // platform scope: the chain ends at a row of no org of a table whose org column is optional).
  void parent_in_org(const TableInfo& child, const std::string& fk) {
    const TableInfo& p = *child.scope_parent;
    std::string alias;
    D::quote(alias, "p" + std::to_string(parent_alias_counter_++));
    out_ += "EXISTS (SELECT 1 FROM ";
    quote(p.name);
    out_ += " AS ";
    out_ += alias;
    out_ += " WHERE ";
    out_ += alias;
    out_ += '.';
    quote(p.columns.at(child.scope_parent_column).name);
    out_ += " = ";
    out_ += fk;
    out_ += " AND ";
    if (p.org_scoped() && platform_) {
      // The platform scope: the chain ends at a row of no org (a child of a platform row).
      require_platform_rows(p);
      out_ += alias;
      out_ += '.';
      quote(p.columns[p.org_column].name);
      out_ += " IS NULL";
    } else if (p.org_scoped()) {
      out_ += alias;
      out_ += '.';
      quote(p.columns[p.org_column].name);
      out_ += " = ";
      placeholder(1);
    } else if (p.parent_scoped()) {
      std::string next = alias + '.';
      D::quote(next, p.columns.at(p.scope_column).name);
      parent_in_org(p, next);
    } else {
      throw UsageError("tenantry: '" + child.name + "' is scoped through '" + p.name + "', which is global");
    }
    out_ += ')';
  }
  std::string placeholder_text(int n) const {
    std::string out;
    D::placeholder(out, n);
    return out;
  }

  static std::string_view cmp_sql(Cmp c) {
    switch (c) {
      case Cmp::eq: return " = ";
      case Cmp::ne: return " <> ";
      case Cmp::lt: return " < ";
      case Cmp::le: return " <= ";
      case Cmp::gt: return " > ";
      case Cmp::ge: return " >= ";
      case Cmp::like: return " LIKE ";
    }
    return " = ";
  }

  // Writes the subtree at nodes[i] and returns the index after it. AND/OR are parenthesized
  // here, whatever built them: that is what keeps a user's OR inside its own parentheses.
  template <class NodeRange>
  std::size_t nodes_at(const Statement& s, const NodeRange& nodes, std::size_t i) {
    return node_impl(s, nodes.data(), nodes.size(), i);
  }
  std::size_t node_impl(const Statement& s, const Node* nodes, std::size_t size, std::size_t i) {
    if (i >= size) throw UsageError("tenantry: malformed predicate description");
    const Node& n = nodes[i];
    switch (n.kind) {
      case NodeKind::all_of:
      case NodeKind::any_of: {
        out_ += '(';
        std::size_t j = i + 1;
        for (std::uint32_t k = 0; k < n.count; ++k) {
          if (k) out_ += n.kind == NodeKind::all_of ? " AND " : " OR ";
          j = node_impl(s, nodes, size, j);
        }
        out_ += ')';
        return j;
      }
      case NodeKind::negation: {
        out_ += "NOT (";
        const std::size_t j = node_impl(s, nodes, size, i + 1);
        out_ += ')';
        return j;
      }
      case NodeKind::compare:
        if (n.agg != Aggregate::none) {
          output(s, Output{n.agg, n.a});
        } else {
          column(n.a);
        }
        out_ += cmp_sql(n.cmp);
        placeholder(next_++);
        return i + 1;
      case NodeKind::null_test:
        column(n.a);
        out_ += n.negated ? " IS NOT NULL" : " IS NULL";
        return i + 1;
      case NodeKind::in_list:
        if (n.count == 0) {
          out_ += n.negated ? "1 = 1" : "1 = 0";
          return i + 1;
        }
        column(n.a);
        out_ += n.negated ? " NOT IN (" : " IN (";
        for (std::uint32_t k = 0; k < n.count; ++k) {
          if (k) out_ += ", ";
          placeholder(next_++);
        }
        out_ += ')';
        return i + 1;
      case NodeKind::column_compare:
        column(n.a);
        out_ += cmp_sql(n.cmp);
        column(n.b);
        return i + 1;
      case NodeKind::exists:
        out_ += n.negated ? "NOT EXISTS (" : "EXISTS (";
        subquery(s, n.count);
        out_ += ')';
        return i + 1;
      case NodeKind::in_subquery:
        column(n.a);
        out_ += n.negated ? " NOT IN (" : " IN (";
        subquery(s, n.count);
        out_ += ')';
        return i + 1;
    }
    return i + 1;
  }

  void subquery(const Statement& s, std::uint32_t index) {
    if (index >= s.subqueries.size()) throw UsageError("tenantry: malformed subquery description");
    select_body(s.subqueries[index], /*nested=*/true);
  }

  // A sequence of top-level trees, ANDed.
  template <class NodeRange>
  void predicate_list(const Statement& s, const NodeRange& nodes, bool& first) {
    std::size_t i = 0;
    while (i < nodes.size()) {
      out_ += first ? "" : " AND ";
      first = false;
      i = nodes_at(s, nodes, i);
    }
  }

  // Pushes a scope whose sources are named by table (one source, top level) or by t<n>.
  void push_scope(const Statement& s, bool qualify) {
    Scope sc{&s, {}};
    const bool single = s.sources.size() == 1 && scopes_.empty();
    for (std::size_t k = 0; k < s.sources.size(); ++k) {
      if (single) {
        if (qualify) {
          std::string a;
          D::quote(a, s.sources[k].table->name);
          sc.alias.push_back(std::move(a));
        } else {
          sc.alias.emplace_back();
        }
      } else {
        std::string a;
        D::quote(a, "t" + std::to_string(alias_counter_++));
        sc.alias.push_back(std::move(a));
      }
    }
    scopes_.push_back(std::move(sc));
  }

  static bool any_subqueries(const Statement& s) { return !s.subqueries.empty(); }

  void from_clause(const Statement& s) {
    const Scope& sc = scopes_.back();
    quote(table(s, 0).name);
    const bool named_by_alias = s.sources.size() > 1 || scopes_.size() > 1;
    if (named_by_alias) {
      out_ += " AS ";
      out_ += sc.alias[0];
    }
    for (std::size_t k = 1; k < s.sources.size(); ++k) {
      const Source& src = s.sources[k];
      out_ += src.join == Join::left ? " LEFT JOIN " : " JOIN ";
      quote(src.table->name);
      out_ += " AS ";
      out_ += scopes_.back().alias[k];
      out_ += " ON ";
      bool first = true;
      if (src.on_end > src.on_begin) {
        small_vector<Node, 8> on(s.on.begin() + src.on_begin, s.on.begin() + src.on_end);
        predicate_list(s, on, first);
      }
      if (src.table->takes_org()) {
        // The joined table's own org filter sits in ON: for a LEFT JOIN that is what keeps a
        // row of another org from being joined in (in WHERE it would only turn the join inner).
        out_ += first ? "" : " AND ";
        first = false;
        org_filter(k);
        if (!platform_ && src.table->org_scoped() && table(s, 0).org_scoped()) {  // platform: both are IS NULL
          out_ += " AND ";
          org_column(k);
          out_ += " = ";
          org_column(0);
        }
      }
      if (first) out_ += "1 = 1";
    }
  }

  // WHERE <org of the FROM table> [AND key] [AND predicates]
  void where_clause(const Statement& s, int key_start) {
    bool first = true;
    const TableInfo& t = table(s, 0);
    const auto open = [&] {
      out_ += first ? " WHERE " : " AND ";
      first = false;
    };
    if (t.takes_org()) {
      open();
      org_filter(0);
    }
    if (!new_parent_value_.empty() && scopes_.size() == 1) {
      // A foreign key set by this statement names a parent in the org, or nothing is written.
      open();
      const TableInfo& target = s.verb == Verb::select && s.target ? *s.target : t;
      parent_in_org(target, std::exchange(new_parent_value_, std::string()));
    }
    if (s.by_key && s.key_array) {
      open();
      key_in_arrays(t, key_start);
    } else if (s.by_key) {
      int k = key_start;
      for (auto i : key_columns(t)) {
        open();
        column(ColRef{0, 0, static_cast<std::uint16_t>(i)});
        out_ += " = ";
        placeholder(k++);
      }
    }
    if (!s.where.empty()) {
      out_ += first ? " WHERE " : " AND ";
      first = false;
      bool f = true;
      predicate_list(s, s.where, f);
    }
    if (s.keyset) {
      open();
      keyset_condition(s);
    }
  }

  // Rows after the given one in ORDER BY order. When every term sorts the same way, a row value
  // comparison ("(a, b) > (?, ?)", which both databases evaluate as the lexicographic order and
  // can run as one index range); otherwise the expanded form, OR-ed per term:
  // (a > ?) OR (a = ? AND b < ?) ... . NULLs have no place in either, so the ordering columns
  // must be NOT NULL (statements.hpp checks it).
  void keyset_condition(const Statement& s) {
    if (s.order.empty()) throw UsageError("tenantry: after(row) needs an order_by(...) that ends in the key");
    bool same = true;
    for (const OrderTerm& o : s.order) same = same && o.descending == s.order.front().descending;
    if (same) {
      out_ += '(';
      for (std::size_t k = 0; k < s.order.size(); ++k) {
        if (k) out_ += ", ";
        column(s.order[k].col);
      }
      out_ += s.order.front().descending ? ") < (" : ") > (";
      for (std::size_t k = 0; k < s.order.size(); ++k) {
        if (k) out_ += ", ";
        placeholder(next_++);
      }
      out_ += ')';
      return;
    }
    out_ += '(';
    for (std::size_t k = 0; k < s.order.size(); ++k) {
      if (k) out_ += " OR ";
      out_ += '(';
      for (std::size_t j = 0; j < k; ++j) {
        column(s.order[j].col);
        out_ += " = ";
        placeholder(next_++);
        out_ += " AND ";
      }
      column(s.order[k].col);
      out_ += s.order[k].descending ? " < " : " > ";
      placeholder(next_++);
      out_ += ')';
    }
    out_ += ')';
  }

  void output(const Statement& s, const Output& o) {
    const auto& sc = scopes_[scopes_.size() - 1 - o.col.scope];
    const ColumnInfo* c = o.fn == Aggregate::count_star || o.fn == Aggregate::value
                              ? nullptr
                              : &table(*sc.s, o.col.source).columns.at(o.col.column);
    switch (o.fn) {
      case Aggregate::none: column(o.col); return;
      case Aggregate::value: placeholder(next_++); return;
      case Aggregate::count_star: out_ += "COUNT(*)"; return;
      case Aggregate::count:
        out_ += "COUNT(";
        column(o.col);
        out_ += ')';
        return;
      case Aggregate::count_distinct:
        out_ += "COUNT(DISTINCT ";
        column(o.col);
        out_ += ')';
        return;
      case Aggregate::min:
      case Aggregate::max:
        out_ += o.fn == Aggregate::min ? "MIN(" : "MAX(";
        column(o.col);
        out_ += ')';
        return;
      case Aggregate::sum:
      case Aggregate::avg: {
        // SUM of integers is NUMERIC and AVG is NUMERIC on PostgreSQL; both are read back as the
        // result field's type, so say it: BIGINT for integer sums, DOUBLE PRECISION otherwise.
        const bool integer_sum = o.fn == Aggregate::sum && c->kind == Kind::integer;
        if constexpr (D::is_postgres) out_ += "CAST(";
        out_ += o.fn == Aggregate::sum ? "SUM(" : "AVG(";
        column(o.col);
        out_ += ')';
        if constexpr (D::is_postgres) out_ += integer_sum ? " AS BIGINT)" : " AS DOUBLE PRECISION)";
        (void)s;
        return;
      }
    }
  }

  void select_list(const Statement& s) {
    if (s.outputs.empty()) {
      const TableInfo& t = table(s, 0);
      for (std::size_t i = 0; i < t.columns.size(); ++i) {
        if (i) out_ += ", ";
        column(ColRef{0, 0, static_cast<std::uint16_t>(i)});
      }
      return;
    }
    for (std::size_t k = 0; k < s.outputs.size(); ++k) {
      if (k) out_ += ", ";
      const std::size_t at = out_.size();
      output(s, s.outputs[k]);
      if (k == insert_scope_output_ && scopes_.size() == 1) new_parent_value_ = out_.substr(at);
    }
  }

  void order_clause(const Statement& s) {
    if (s.order.empty()) return;
    out_ += " ORDER BY ";
    for (std::size_t k = 0; k < s.order.size(); ++k) {
      if (k) out_ += ", ";
      const OrderTerm& o = s.order[k];
      bool nullable = false;
      if (o.output) {
        out_ += std::to_string(o.output);
        const Output& out = s.outputs.at(o.output - 1u);
        nullable = out.fn != Aggregate::count_star && out.fn != Aggregate::count && out.fn != Aggregate::count_distinct;
        if (nullable) {
          const auto& sc = scopes_[scopes_.size() - 1 - out.col.scope];
          nullable = out.fn != Aggregate::none || table(*sc.s, out.col.source).columns.at(out.col.column).nullable;
        }
      } else {
        column(o.col);
        const auto& sc = scopes_[scopes_.size() - 1 - o.col.scope];
        nullable = table(*sc.s, o.col.source).columns.at(o.col.column).nullable;
      }
      if (o.descending) out_ += " DESC";
      // The databases disagree on where NULLs sort (SQLite first, PostgreSQL last, ascending):
      // say it, PostgreSQL's way, for nullable columns.
      if (nullable) out_ += o.descending ? " NULLS FIRST" : " NULLS LAST";
    }
  }

  void limit_clause(const Statement& s) {
    if (s.has_limit) {
      out_ += " LIMIT ";
      placeholder(next_++);
    }
    if (s.has_offset) {
      // SQLite accepts OFFSET only after a LIMIT; LIMIT -1 means none there.
      if (!s.has_limit && !D::is_postgres) out_ += " LIMIT -1";
      out_ += " OFFSET ";
      placeholder(next_++);
    }
  }

  void group_clause(const Statement& s) {
    if (!s.group_by.empty()) {
      out_ += " GROUP BY ";
      for (std::size_t k = 0; k < s.group_by.size(); ++k) {
        if (k) out_ += ", ";
        column(s.group_by[k]);
      }
    }
    if (!s.having.empty()) {
      out_ += " HAVING ";
      bool first = true;
      predicate_list(s, s.having, first);
    }
  }

  // SELECT ... FROM ... [JOIN ...] WHERE ... [GROUP BY ...] [ORDER BY ...] [LIMIT/OFFSET]; a
  // subquery is the same with its own scope and no ORDER/LIMIT of its own unless described.
  void select_body(const Statement& s, bool nested, int key_start = 0) {
    // An INSERT ... SELECT into a parent-scoped table names a selected column inside the parent
    // check's subquery, where an unqualified name could mean the parent's column: qualify.
    push_scope(s, !nested && (any_subqueries(s) || (s.target && s.target->parent_scoped())));
    out_ += s.distinct ? "SELECT DISTINCT " : "SELECT ";
    if (nested && s.outputs.empty()) {
      out_ += '1';
    } else {
      select_list(s);
    }
    out_ += " FROM ";
    from_clause(s);
    where_clause(s, key_start);
    group_clause(s);
    order_clause(s);
    limit_clause(s);
    scopes_.pop_back();
  }

  void insert_head(const Statement& s, std::size_t rows) {
    const TableInfo& t = table(s, 0);
    out_ += "INSERT INTO ";
    quote(t.name);
    out_ += " (";
    const auto cols = insert_columns(t);
    for (std::size_t k = 0; k < cols.size(); ++k) {
      if (k) out_ += ", ";
      quote(t.columns[cols[k]].name);
    }
    if (t.parent_scoped()) {
      // INSERT ... SELECT $2, ... WHERE EXISTS (the parent of the row's foreign key, in the org):
      // a row whose parent is not the org's is not written, in the same statement.
      if (rows != 1) throw UsageError("tenantry: a multi-row INSERT into '" + t.name + "', which is scoped through its parent");
      out_ += ") SELECT ";
      std::string fk;
      for (std::size_t k = 0; k < cols.size(); ++k) {
        if (k) out_ += ", ";
        if (cols[k] == t.scope_column) fk = placeholder_text(next_);
        placeholder(next_++);
      }
      if (fk.empty()) throw UsageError("tenantry: the foreign key of the scope of '" + t.name + "' is not written by INSERT");
      out_ += " WHERE ";
      parent_in_org(t, fk);
      return;
    }
    out_ += ") VALUES ";
    for (std::size_t r = 0; r < rows; ++r) {
      out_ += r ? ", (" : "(";
      for (std::size_t k = 0; k < cols.size(); ++k) {
        if (k) out_ += ", ";
        placeholder(next_++);
      }
      out_ += ')';
    }
  }

  // An array parameter of column c's type: $n::TYPE[]. PostgreSQL only (SQLite has no arrays).
  void array_placeholder(int n, const ColumnInfo& c) {
    if constexpr (!D::is_postgres) {
      throw UsageError("tenantry: array parameters are PostgreSQL only");
    } else {
      placeholder(n);
      out_ += "::";
      out_ += D::column_type(c);
      out_ += "[]";
    }
  }

  // The key in arrays of keys: `k = ANY($n::T[])` for a one-column key (an index scan per
  // element), `(a, b) IN (SELECT * FROM unnest($n::A[], $m::B[]))` for a composite one.
  void key_in_arrays(const TableInfo& t, int key_start) {
    const auto cols = key_columns(t);
    int n = key_start;
    if (cols.size() == 1) {
      column(ColRef{0, 0, static_cast<std::uint16_t>(cols[0])});
      out_ += " = ANY(";
      array_placeholder(n, t.columns[cols[0]]);
      out_ += ')';
      return;
    }
    out_ += '(';
    for (std::size_t k = 0; k < cols.size(); ++k) {
      if (k) out_ += ", ";
      column(ColRef{0, 0, static_cast<std::uint16_t>(cols[k])});
    }
    out_ += ") IN (SELECT * FROM unnest(";
    for (std::size_t k = 0; k < cols.size(); ++k) {
      if (k) out_ += ", ";
      array_placeholder(n++, t.columns[cols[k]]);
    }
    out_ += "))";
  }

  // INSERT INTO t (cols) SELECT * FROM unnest($1::A[], $2::B[], ...): one array per column, the
  // rows in array order.
  void insert_unnest(const Statement& s) {
    const TableInfo& t = table(s, 0);
    // A parent-scoped row needs its parent checked in its own INSERT ... SELECT (insert_head).
    if (t.parent_scoped()) throw UsageError("tenantry: an INSERT of arrays into '" + t.name + "', which is scoped through its parent");
    out_ += "INSERT INTO ";
    quote(t.name);
    out_ += " (";
    const auto cols = insert_columns(t);
    for (std::size_t k = 0; k < cols.size(); ++k) {
      if (k) out_ += ", ";
      quote(t.columns[cols[k]].name);
    }
    out_ += ") SELECT * FROM unnest(";
    for (std::size_t k = 0; k < cols.size(); ++k) {
      if (k) out_ += ", ";
      array_placeholder(next_++, t.columns[cols[k]]);
    }
    out_ += ')';
  }

  void returning(const TableInfo& t, const std::vector<std::size_t>& cols) {
    if (cols.empty()) return;
    out_ += " RETURNING ";
    for (std::size_t k = 0; k < cols.size(); ++k) {
      if (k) out_ += ", ";
      quote(t.columns[cols[k]].name);
    }
  }

  // INSERT ... ON CONFLICT (target) DO UPDATE SET c = excluded.c ... RETURNING every column
  // (without RETURNING when the description does not read back).
  // When the target does not include the org column, a conflicting row may belong to another
  // org; the DO UPDATE is then guarded so it only ever touches a row of the same org, and such a
  // conflict returns no row and changes no row (the repository reports it as a unique violation).
  void upsert(const Statement& s) {
    const TableInfo& t = table(s, 0);
    insert_head(s, 1);
    bool target_has_org = false;
    for (auto i : s.conflict) target_has_org |= (i == t.org_column);
    out_ += " ON CONFLICT (";
    if (platform_ && target_has_org) {
      // A platform row conflicts through the unique index on the other columns WHERE org IS
      // NULL (schema.hpp, add_platform_rules); UNIQUE (org, ...) never sees two NULL orgs equal.
      require_platform_rows(t);
      bool first = true;
      for (auto c : s.conflict) {
        if (c == t.org_column) continue;
        if (!first) out_ += ", ";
        first = false;
        quote(t.columns[c].name);
      }
      out_ += ") WHERE ";
      quote(t.columns[t.org_column].name);
      out_ += " IS NULL";
    } else if (t.org_leading_keys && !target_has_org) {
      // Org-leading keys: the declared target is unique only together with the org (schema.hpp),
      // so the org leads the target and a conflict can only be with a row of the same org.
      quote(t.columns[t.org_column].name);
      out_ += ", ";
      target_has_org = true;
    }
    if (!(platform_ && target_has_org)) {
      for (std::size_t k = 0; k < s.conflict.size(); ++k) {
        if (k) out_ += ", ";
        quote(t.columns[s.conflict[k]].name);
      }
      out_ += ')';
    }
    out_ += " DO UPDATE SET ";
    if (s.do_nothing || s.set.empty()) {
      // A no-op assignment instead of DO NOTHING, so RETURNING yields the existing row on
      // conflict (DO NOTHING returns nothing).
      const auto& first = t.columns[s.conflict.front()].name;
      quote(first);
      out_ += " = excluded.";
      quote(first);
    } else {
      for (std::size_t k = 0; k < s.set.size(); ++k) {
        if (k) out_ += ", ";
        quote(t.columns[s.set[k]].name);
        out_ += " = excluded.";
        quote(t.columns[s.set[k]].name);
      }
    }
    if (t.org_scoped() && !target_has_org) {
      out_ += " WHERE ";
      quote(t.name);
      out_ += '.';
      quote(t.columns[t.org_column].name);
      // With an optional org, NULL (a platform row) must equal NULL and differ from any org.
      if (t.org_optional()) out_ += D::is_postgres ? " IS NOT DISTINCT FROM excluded." : " IS excluded.";
      else out_ += " = excluded.";
      quote(t.columns[t.org_column].name);
    }
    if (t.parent_scoped()) {
      // The existing row must be the org's too: a conflict with another org's row updates nothing.
      out_ += " WHERE ";
      std::string fk;
      D::quote(fk, t.name);
      fk += '.';
      D::quote(fk, t.columns[t.scope_column].name);
      parent_in_org(t, fk);
    }
    if (!s.read_back) return;
    std::vector<std::size_t> all(t.columns.size());
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
    returning(t, all);
  }

  void statement(const Statement& s) {
    if (s.sources.empty()) throw UsageError("tenantry: a statement needs a table");
    const TableInfo& t = table(s, 0);
    platform_ = s.platform;
    org_param_ = needs_org(s);
    next_ = org_param_ ? 2 : 1;
    const int key_start = next_;
    if (s.by_key) next_ += static_cast<int>(key_columns(t).size());
    switch (s.verb) {
      case Verb::select:
        select_body(s, false, key_start);
        return;
      case Verb::count:
      case Verb::exists: {
        push_scope(s, any_subqueries(s));
        out_ += s.verb == Verb::count ? "SELECT COUNT(*) FROM " : "SELECT EXISTS (SELECT 1 FROM ";
        from_clause(s);
        where_clause(s, key_start);
        limit_clause(s);
        if (s.verb == Verb::exists) out_ += ')';
        scopes_.pop_back();
        return;
      }
      case Verb::erase:
        push_scope(s, any_subqueries(s));
        out_ += "DELETE FROM ";
        quote(t.name);
        where_clause(s, key_start);
        scopes_.pop_back();
        return;
      case Verb::update:
        push_scope(s, any_subqueries(s));
        out_ += "UPDATE ";
        quote(t.name);
        out_ += " SET ";
        for (std::size_t k = 0; k < s.set.size(); ++k) {
          if (k) out_ += ", ";
          quote(t.columns[s.set[k]].name);
          out_ += " = ";
          if (t.parent_scoped() && s.set[k] == t.scope_column) new_parent_value_ = placeholder_text(next_);
          placeholder(next_++);
        }
        where_clause(s, key_start);
        scopes_.pop_back();
        return;
      case Verb::insert:
      case Verb::insert_rows:
        insert_head(s, s.verb == Verb::insert ? 1 : s.rows);
        returning(t, generated_columns(t));
        return;
      case Verb::upsert:
        upsert(s);
        return;
      case Verb::insert_unnest:
        insert_unnest(s);
        returning(t, generated_columns(t));
        return;
      case Verb::insert_select: {
        // INSERT INTO target (org, cols) SELECT $1, outputs ...: the org column is never
        // selected, so rows land in the call's org whatever the SELECT reads.
        const TableInfo& tt = *s.target;
        out_ += "INSERT INTO ";
        quote(tt.name);
        out_ += " (";
        bool first = true;
        if (tt.org_scoped()) {
          quote(tt.columns[tt.org_column].name);
          first = false;
        }
        for (auto c : s.set) {
          if (!first) out_ += ", ";
          first = false;
          quote(tt.columns[c].name);
        }
        out_ += ") ";
        Statement select = s;
        select.verb = Verb::select;
        if (tt.parent_scoped()) {
          // Each row's foreign key names a parent in the org (checked in WHERE, on the output).
          for (std::size_t k = 0; k < s.set.size(); ++k)
            if (s.set[k] == tt.scope_column) insert_scope_output_ = k;
          if (insert_scope_output_ >= s.outputs.size())
            throw UsageError("tenantry: INSERT ... SELECT into '" + tt.name + "' must write the foreign key of its scope, '" +
                             tt.columns[tt.scope_column].name + "'");
          const Aggregate fn = s.outputs[insert_scope_output_].fn;
          if (fn != Aggregate::none && fn != Aggregate::value)
            throw UsageError("tenantry: INSERT ... SELECT into '" + tt.name + "' selects its scope's foreign key as an aggregate");
        }
        const std::size_t at = out_.size();
        select_body(select, false, key_start);
        if (tt.org_scoped()) {
          // "$1, " ahead of the outputs, for the org column ("NULL, " in the platform scope).
          std::string org;
          if (platform_) {
            require_platform_rows(tt);
            org = "NULL";
          } else {
            D::placeholder(org, 1);
          }
          org += ", ";
          out_.insert(at + (select.distinct ? 16 : 7), org);  // after "SELECT " / "SELECT DISTINCT "
        }
        return;
      }
    }
  }
};

}  // namespace stmt

/// The SQL text of `s` in dialect D.
template <class D>
std::string write_sql(const stmt::Statement& s) {
  return stmt::Writer<D>::write(s);
}

}  // namespace tenantry
