// tenantry/ddl.hpp - CREATE TABLE / CREATE INDEX from entity declarations.
//
//   std::string sql = tenantry::schema_sql<tenantry::PgDialect, Organization, ApiToken>();  // the DDL script
//   std::string one = tenantry::create_table_sql<tenantry::SqliteDialect>(tenantry::table_info<ApiToken>());
//   tenantry::sqlite::Connection conn{"app.db"};
//   tenantry::create_tables<Organization, ApiToken>(conn);  // in one transaction, parents first
//
// One entity definition yields the DDL for every dialect: column types come from the dialect,
// constraints are named deterministically (pk_/uq_/ck_/fk_/ix_/ux_<table>_<columns>), and each
// constraint is a table constraint so it can be referred to by name in errors and migrations.
#pragma once

#include "tenantry/dialect/common.hpp"
#include "tenantry/schema.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace tenantry {

struct DdlOptions {
  bool if_not_exists = false;       ///< CREATE ... IF NOT EXISTS (for ad hoc setup; migrations omit it)
  bool row_level_security = false;  ///< PostgreSQL: an org isolation policy on every org-scoped table
  /// PostgreSQL row-level security: the role the isolation policies apply to (CREATE POLICY ...
  /// TO role), normally the role the application connects as. Empty: PUBLIC, every role. Roles
  /// outside it (and not superuser or BYPASSRLS) see and write no row of an org-scoped table.
  std::string rls_role{};
  /// PostgreSQL schema per org (org_schema.hpp, which fills these two): when not empty, the
  /// table, its indexes and its policy are created in this schema, and each foreign key's parent
  /// is qualified too: with `schema` when the parent is one of `schema_tables`, else with
  /// public, where the shared tables live. Qualified at creation, a reference cannot bind to a
  /// same-named table elsewhere on whatever search path is in force.
  std::string schema{};
  std::vector<std::string> schema_tables{};
};


namespace detail {

template <class D>
void append_column_list(std::string& out, const TableInfo& t, const std::vector<std::size_t>& cols,
                        const std::vector<bool>* descending = nullptr) {
  out += '(';
  for (std::size_t k = 0; k < cols.size(); ++k) {
    if (k) out += ", ";
    D::quote(out, t.columns[cols[k]].name);
    if (descending && (*descending)[k]) out += " DESC";
  }
  out += ')';
}

/// ",\n  CONSTRAINT name " before a table constraint; without the name when it is empty (a
/// constraint declared named("") to match an SQLite table whose constraint has none).
template <class D>
void append_constraint(std::string& out, const std::string& name) {
  out += ",\n  ";
  if (name.empty()) return;
  out += "CONSTRAINT ";
  D::quote(out, name);
  out += ' ';
}

template <class D>
void append_check(std::string& out, const std::string& name, std::string_view expression) {
  append_constraint<D>(out, name);
  out += "CHECK (";
  out += expression;
  out += ')';
}

/// `table`, qualified with opt.schema when it is set (see DdlOptions::schema).
template <class D>
void append_table(std::string& out, std::string_view table, const DdlOptions& opt) {
  if (!opt.schema.empty()) {
    D::quote(out, opt.schema);
    out += '.';
  }
  D::quote(out, table);
}

/// The parent table of a foreign key: in opt.schema when it is one of opt.schema_tables, else in
/// public (the shared tables); unqualified when opt.schema is empty.
template <class D>
void append_parent_table(std::string& out, const std::string& table, const DdlOptions& opt) {
  if (!opt.schema.empty()) {
    const bool in_schema = std::find(opt.schema_tables.begin(), opt.schema_tables.end(), table) != opt.schema_tables.end();
    D::quote(out, in_schema ? std::string_view(opt.schema) : std::string_view("public"));
    out += '.';
  }
  D::quote(out, table);
}

inline std::string_view on_delete_sql(on_delete a) {
  switch (a) {
    case on_delete::cascade: return " ON DELETE CASCADE";
    case on_delete::set_null: return " ON DELETE SET NULL";
    case on_delete::restrict: return " ON DELETE RESTRICT";
    case on_delete::no_action: return {};
  }
  return {};
}

}  // namespace detail

/// CREATE TABLE for one table description.
template <class D>
std::string create_table_sql(const TableInfo& t, DdlOptions opt = {}) {
  std::string out = "CREATE TABLE ";
  if (opt.if_not_exists) out += "IF NOT EXISTS ";
  detail::append_table<D>(out, t.name, opt);
  out += " (";
  for (std::size_t i = 0; i < t.columns.size(); ++i) {
    const ColumnInfo& c = t.columns[i];
    out += i ? ",\n  " : "\n  ";
    D::quote(out, c.name);
    out += ' ';
    out += D::column_type(c);
    if (!c.nullable) out += " NOT NULL";
    if (c.identity && !c.serial) out += D::identity_clause();  // SERIAL is a type of its own
    switch (c.default_kind) {
      case DefaultKind::literal:
        out += " DEFAULT ";
        D::literal(out, c.default_literal);
        break;
      case DefaultKind::now:
        out += " DEFAULT ";
        out += D::now_expression(c);
        break;
      case DefaultKind::uuid:
        out += " DEFAULT ";
        out += D::uuid_expression();
        break;
      case DefaultKind::sql:
        out += " DEFAULT (";
        out += c.default_sql;
        out += ')';
        break;
      case DefaultKind::none: break;
    }
  }
  // A twin (UniqueInfo::implicit) is never the constraint a duplicate is reported as: the
  // primary key is, or the declared UNIQUE it doubles. So the primary key's twin comes first
  // (SQLite checks the indexes of a table newest first; PostgreSQL reports the key first
  // anyway), and a global unique's twin before it on SQLite, after it on PostgreSQL, which
  // reports the older of two violated UNIQUEs (D::reports_newest_unique_first).
  const auto append_unique = [&](const UniqueInfo& u) {
    detail::append_constraint<D>(out, u.name);
    out += "UNIQUE ";
    detail::append_column_list<D>(out, t, u.columns);
  };
  const std::string pk_name = t.primary_key_name();
  for (const UniqueInfo& u : t.uniques)
    if (u.implicit && u.twin_of == pk_name) append_unique(u);
  detail::append_constraint<D>(out, pk_name);
  out += "PRIMARY KEY ";
  detail::append_column_list<D>(out, t, t.primary_key);
  for (const UniqueInfo& u : t.uniques) {
    if (u.implicit && (u.twin_of == pk_name || !D::reports_newest_unique_first)) continue;
    append_unique(u);
    if (!u.implicit && !D::reports_newest_unique_first)
      for (const UniqueInfo& twin : t.uniques)
        if (twin.implicit && twin.twin_of == u.name) append_unique(twin);
  }
  // Checks: enum domains and the dialect's implicit ones first (per column), then declared.
  for (const ColumnInfo& c : t.columns) {
    if (c.is_enum) {
      std::string expr;
      D::quote(expr, c.name);
      expr += " IN (";
      for (std::size_t k = 0; k < c.enum_values.size(); ++k) {
        if (k) expr += ", ";
        detail::quote_string(expr, c.enum_values[k]);
      }
      expr += ')';
      detail::append_check<D>(out, c.check_named ? c.check_name : constraint_name("ck", t.name, {c.name}), expr);
    }
    if (auto implicit = D::implicit_check(c)) {
      detail::append_check<D>(out, c.check_named ? c.check_name : constraint_name("ck", t.name, {c.name, implicit->suffix}),
                              implicit->expression);
    }
  }
  for (const CheckInfo& ck : t.checks) {
    std::string expr;
    if (ck.column != reflect::npos) {
      D::quote(expr, t.columns[ck.column].name);
      expr += ' ';
      expr += ck.op;
      expr += ' ';
      D::literal(expr, ck.value);
    } else {
      expr = ck.raw_sql;
    }
    detail::append_check<D>(out, ck.name, expr);
  }
  for (const ForeignKeyInfo& fk : t.foreign_keys) {
    // A tenant-safe reference prepends the org on both sides. ON DELETE SET NULL must then null
    // only the declared columns, never the org: PostgreSQL says so with a column list. SQLite
    // has none, so there the reference is two keys: (org, columns) -> parent (org, columns)
    // with no action, which refuses a child pointing at another org's parent, and the declared
    // columns alone -> the parent's, which carries the SET NULL. When the parent row goes, the
    // second nulls the columns, after which the first has a NULL and holds.
    // An org-leading parent is unique only on (org, key), so the second key would reference
    // columns that are not unique: refuse rather than emit a broken key.
    if (fk.tenant_safe() && fk.parent_org_leading && fk.action == on_delete::set_null && !D::set_null_column_list)
      throw UsageError("tenantry: " + fk.name + ": ON DELETE SET NULL to the org-leading table '" + fk.parent_table +
                       "' needs a column list, which this database lacks; use another on_delete action");
    const auto append_key = [&](const std::string& name, const std::vector<std::size_t>& cols,
                                const std::vector<std::string>& parent_cols, on_delete action, bool set_null_columns) {
      detail::append_constraint<D>(out, name);
      out += "FOREIGN KEY ";
      detail::append_column_list<D>(out, t, cols);
      out += " REFERENCES ";
      detail::append_parent_table<D>(out, fk.parent_table, opt);
      out += " (";
      for (std::size_t k = 0; k < parent_cols.size(); ++k) {
        if (k) out += ", ";
        D::quote(out, parent_cols[k]);
      }
      out += ')';
      out += detail::on_delete_sql(action);
      if (set_null_columns) {
        out += ' ';
        detail::append_column_list<D>(out, t, fk.columns);
      }
    };
    if (!fk.tenant_safe()) {
      append_key(fk.name, fk.columns, fk.parent_columns, fk.action, false);
      continue;
    }
    std::vector<std::size_t> cols = fk.columns;
    std::vector<std::string> parent_cols = fk.parent_columns;
    cols.insert(cols.begin(), t.org_column);
    parent_cols.insert(parent_cols.begin(), fk.parent_org_column);
    if (fk.action != on_delete::set_null) {
      append_key(fk.name, cols, parent_cols, fk.action, false);
    } else if (D::set_null_column_list) {
      append_key(fk.name, cols, parent_cols, fk.action, true);
    } else {
      append_key(fk.name, cols, parent_cols, on_delete::no_action, false);
      append_key(fk.set_null_name(), fk.columns, fk.parent_columns, on_delete::set_null, false);
    }
  }
  out += "\n)";
  return out;
}

/// CREATE INDEX statements for one table description, one string per index.
template <class D>
std::vector<std::string> create_index_sql(const TableInfo& t, DdlOptions opt = {}) {
  std::vector<std::string> out;
  for (const IndexInfo& ix : t.indexes) {
    std::string s = ix.unique ? "CREATE UNIQUE INDEX " : "CREATE INDEX ";
    if (opt.if_not_exists) s += "IF NOT EXISTS ";
    D::quote(s, ix.name);
    s += " ON ";
    detail::append_table<D>(s, t.name, opt);
    s += ' ';
    detail::append_column_list<D>(s, t, ix.columns, &ix.descending);
    if (!ix.where.empty()) {
      s += " WHERE ";
      s += ix.where;
    }
    out.push_back(std::move(s));
  }
  return out;
}

/// The org the current statement runs for, as the row-level security policies read it
/// (PostgreSQL): `org_setting` cast to the org column's type, or, when that is unset or empty,
/// an error (OrgContextMissing: see org_setting_missing) instead of a NULL that would match no
/// row. A statement without org context therefore fails loudly rather than reading nothing.
/// The scalar subquery makes the planner evaluate it once per statement (an InitPlan, also
/// usable as an index condition), not once per row.
///
/// For a table with platform rows (an optional org column) the current org is NULL in the
/// platform context (platform_setting 'on'), without reading org_setting, so the org equality
/// matches no row there; rls_platform_sql is the other half of that table's policy.
template <class D>
std::string rls_current_org_sql(const ColumnInfo& org) {
  std::string out = "(SELECT CAST(";
  if (org.nullable) {
    out += "CASE WHEN current_setting(";
    detail::quote_string(out, platform_setting);
    out += ", true) = 'on' THEN NULL ELSE ";
  }
  out += "COALESCE(NULLIF(current_setting(";
  detail::quote_string(out, org_setting);
  out += ", true), ''), current_setting(";
  detail::quote_string(out, org_setting_missing);
  out += "))";
  if (org.nullable) out += " END";
  out += " AS ";
  out += D::column_type(org);
  out += "))";
  return out;
}

/// True in the platform context, as the policies of tables with platform rows read it: also a
/// scalar subquery, evaluated once per statement.
inline std::string rls_platform_sql() {
  std::string out = "(SELECT current_setting(";
  detail::quote_string(out, platform_setting);
  out += ", true) = 'on')";
  return out;
}

/// The name of table t's org isolation policy: <table>_org_isolation.
inline std::string row_level_security_policy_name(const TableInfo& t) { return t.name + "_org_isolation"; }

namespace detail {
/// `<col> = <current org>`, the row-level security org match of column `col` (the org column
/// `org`). For a nullable org column (platform rows) also the platform scope's rows:
///   (<col> = <current org>) OR (<col> IS NULL AND <platform context>)
/// parenthesized as a whole when `nested` (inside a parent's EXISTS).
template <class D>
void rls_org_matches(std::string& out, const std::string& col, const ColumnInfo& org, bool nested) {
  if (!org.nullable) {
    out += col + " = " + rls_current_org_sql<D>(org);
    return;
  }
  if (nested) out += '(';
  out += "(" + col + " = " + rls_current_org_sql<D>(org) + ") OR (" + col + " IS NULL AND " + rls_platform_sql() + ")";
  if (nested) out += ')';
}

/// EXISTS (SELECT 1 FROM parent AS "p<n>" WHERE "p<n>".key = <fk> AND <the parent in the current
/// org>), through the chain of parents: the row-level security form of sql_writer.hpp's filter.
template <class D>
void rls_parent_in_org(std::string& out, const TableInfo& child, const std::string& fk, const DdlOptions& opt, int& n) {
  // (a parent row of no org belongs to the platform scope, and so does its child)
  const TableInfo& p = *child.scope_parent;
  std::string alias;
  D::quote(alias, "p" + std::to_string(n++));
  out += "EXISTS (SELECT 1 FROM ";
  append_table<D>(out, p.name, opt);
  out += " AS " + alias + " WHERE " + alias + '.';
  D::quote(out, p.columns.at(child.scope_parent_column).name);
  out += " = " + fk + " AND ";
  if (p.org_scoped()) {
    std::string col = alias + '.';
    D::quote(col, p.columns[p.org_column].name);
    rls_org_matches<D>(out, col, p.columns[p.org_column], true);
  } else {
    std::string next = alias + '.';
    D::quote(next, p.columns.at(p.scope_column).name);
    rls_parent_in_org<D>(out, p, next, opt, n);
  }
  out += ')';
}
}  // namespace detail

/// The USING / WITH CHECK expression of t's policy: its org column equal to the current org, or,
/// for a table scoped through its parent, its parent row in the current org.
template <class D>
std::string row_level_security_predicate(const TableInfo& t, const DdlOptions& opt = {}) {
  std::string predicate;
  if (t.org_scoped()) {
    std::string col;
    D::quote(col, t.columns[t.org_column].name);
    detail::rls_org_matches<D>(predicate, col, t.columns[t.org_column], false);
  } else if (t.parent_scoped()) {
    std::string fk;
    D::quote(fk, t.name);
    fk += '.';
    D::quote(fk, t.columns.at(t.scope_column).name);
    int n = 0;
    detail::rls_parent_in_org<D>(predicate, t, fk, opt, n);
  }
  return predicate;
}

/// Row-level security for an org-scoped table (PostgreSQL): rows are visible and writable only
/// when their org equals the `app.current_org_id` setting (for a table scoped through its
/// parent: when its parent row, through the chain, is in that org) (see rls_current_org_sql; without it
/// a statement that meets a row fails). FORCE applies the policy to the table owner too, which
/// is often the role that created the tables; opt.rls_role names the role the policy applies to
/// (TO role), else it applies to every role. Empty for global tables and for dialects without
/// row-level security. Only opt.schema and opt.rls_role are read. pg::verify_rls (rls.hpp)
/// checks a live database against exactly these statements.
///
/// A table with platform rows (an optional org column) gets one policy covering both scopes:
///   org = <current org> OR (org IS NULL AND <platform context>)
/// so an org context shows that org's rows only, the platform context (platform_setting) the
/// rows of no org only, and neither fails (OrgContextMissing) as for every org-scoped table.
template <class D>
std::vector<std::string> row_level_security_sql(const TableInfo& t, const DdlOptions& opt = {}) {
  std::vector<std::string> out;
  if constexpr (D::supports_row_level_security) {
    if (!t.takes_org()) return out;
    std::string table;
    detail::append_table<D>(table, t.name, opt);
    const std::string predicate = row_level_security_predicate<D>(t, opt);
    out.push_back("ALTER TABLE " + table + " ENABLE ROW LEVEL SECURITY");
    out.push_back("ALTER TABLE " + table + " FORCE ROW LEVEL SECURITY");
    std::string policy = "CREATE POLICY ";
    D::quote(policy, row_level_security_policy_name(t));
    policy += " ON " + table;
    if (!opt.rls_role.empty()) {
      policy += " TO ";
      D::quote(policy, opt.rls_role);
    }
    policy += " USING (" + predicate + ") WITH CHECK (" + predicate + ")";
    out.push_back(std::move(policy));
  }
  return out;
}

/// Every statement that creates entity E's table and indexes in dialect D.
template <class E, class D>
std::vector<std::string> create_statements(DdlOptions opt = {}) {
  const TableInfo& t = table_info<E>();
  if (t.schema_scoped && opt.schema.empty())
    throw UsageError("tenantry: '" + t.name + "' is scoped by its schema (scope = tenantry::per_org_schema): create it "
                     "in an org's schema with OrgSchemas<...>::provision_org, never as a shared table");
  std::vector<std::string> out{create_table_sql<D>(t, opt)};
  for (auto& s : create_index_sql<D>(t, opt)) out.push_back(std::move(s));
  if (opt.row_level_security)
    for (auto& s : row_level_security_sql<D>(t, opt)) out.push_back(std::move(s));
  return out;
}

/// The DDL of several entities as one script, in the order given (parents before children),
/// each statement ended by ";\n". The set is checked as one (check_entity_set, entity.hpp).
template <class D, class... Es>
std::string schema_sql(DdlOptions opt = {}) {
  static_assert(check_entity_set<Es...>());
  static_assert(!(schema_scoped<Es> || ...),
                "tenantry: an entity with scope = tenantry::per_org_schema lives in each org's schema: create it with "
                "OrgSchemas<...>::provision_org, not as a shared table");
  std::string out;
  (
      [&] {
        for (const auto& s : create_statements<Es, D>(opt)) {
          out += s;
          out += ";\n";
        }
      }(),
      ...);
  return out;
}

/// Creates the tables of Es on `conn` (whose dialect is D), in one transaction.
template <class... Es, class Conn>
void create_tables(Conn& conn, DdlOptions opt = {}) {
  static_assert(check_entity_set<Es...>());
  using D = typename Conn::dialect;
  auto tx = conn.transaction();
  conn.execute(schema_sql<D, Es...>(opt));
  tx.commit();
}

}  // namespace tenantry
