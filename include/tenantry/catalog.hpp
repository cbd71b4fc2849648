// tenantry/catalog.hpp - the schema a database has, read from its catalog, in one description
// for both dialects; and the schema the entities describe, in the same form.
//
//   tenantry::catalog::Schema live = tenantry::catalog::read_schema(conn);
//   tenantry::catalog::Schema want = tenantry::catalog::entity_schema<Organization, ApiToken>(conn);
//   // schema_diff.hpp compares two of them; drift.hpp reports the differences.
//
// Read from:
//   * PostgreSQL: pg_class, pg_attribute, pg_attrdef, pg_constraint, pg_index, pg_policy and
//     pg_trigger of one schema (the current one unless ReadOptions::schema says otherwise), with
//     the server's own text for types (format_type), defaults, CHECK expressions and index
//     predicates (pg_get_expr);
//   * SQLite: sqlite_schema, pragma_table_info, pragma_foreign_key_list and pragma_index_list,
//     plus the CREATE TABLE text (sql_text.hpp) for what no pragma reports: CHECK expressions and
//     constraint names.
//
// The entities' side is read with the same reader, so the two are comparable field for field:
// entity_schema() runs the DDL tenantry generates for them where it cannot touch the real tables
// and reads that back - on PostgreSQL in the session's temporary schema, inside a transaction
// that is rolled back (needs only the TEMPORARY privilege every role has by default), on SQLite
// in a private in-memory database. The database normalises the expressions exactly as it
// normalised the live ones, which a textual comparison of tenantry's DDL with pg_get_expr()
// output could never do.
#pragma once

#include "tenantry/ddl.hpp"
#include "tenantry/error.hpp"
#include "tenantry/sql_registry.hpp"
#include "tenantry/sql_text.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace tenantry::catalog {

/// One column. `type` is the database's spelling: format_type() on PostgreSQL ("uuid",
/// "character varying(255)", "timestamp with time zone"), the declared type on SQLite ("TEXT").
struct Column {
  std::string name;
  std::string type;
  bool not_null = false;
  std::string default_sql;  ///< empty: no default
  std::string identity;     ///< PostgreSQL: "", "BY DEFAULT" or "ALWAYS"
  std::string generated;    ///< a generated column's expression (STORED)
};

/// A primary key or UNIQUE constraint.
struct Key {
  std::string name;  ///< SQLite: empty when the constraint was declared without a name
  std::vector<std::string> columns;
};

struct Check {
  std::string name;
  std::string expression;  ///< without the CHECK keyword
};

struct ForeignKey {
  std::string name;
  std::vector<std::string> columns;
  std::string parent_table;
  std::string parent_schema;  ///< PostgreSQL: set only when the parent lives in another schema
  std::vector<std::string> parent_columns;
  std::string on_delete = "NO ACTION";
  std::string on_update = "NO ACTION";
  std::vector<std::string> set_null_columns;  ///< ON DELETE SET NULL (columns), PostgreSQL 15+
  bool deferrable = false;
  bool initially_deferred = false;
};

struct IndexKey {
  std::string expression;  ///< the column name when is_column, else the expression's text
  bool is_column = true;
  bool descending = false;
  std::string nulls;  ///< PostgreSQL: "FIRST"/"LAST" when not the default for the direction
};

struct Index {
  std::string name;
  std::vector<IndexKey> keys;
  bool unique = false;
  std::string where;   ///< a partial index's predicate
  std::string method;  ///< PostgreSQL access method ("btree")
  std::string sql;     ///< SQLite: the CREATE INDEX text
};

struct Policy {
  std::string name;
  bool permissive = true;
  std::string command = "ALL";  ///< ALL, SELECT, INSERT, UPDATE, DELETE
  std::vector<std::string> roles{"public"};
  std::string using_expr;
  std::string check_expr;
};

/// A trigger, kept so that an SQLite table rebuild can recreate it; not compared in detail.
struct Trigger {
  std::string name;
  std::string sql;  ///< SQLite: the CREATE TRIGGER text; PostgreSQL: pg_get_triggerdef()
};

struct Table {
  std::string name;
  std::vector<Column> columns;
  std::optional<Key> primary_key;
  std::vector<Key> uniques;
  std::vector<Check> checks;
  std::vector<ForeignKey> foreign_keys;
  std::vector<Index> indexes;
  bool row_security = false;
  bool force_row_security = false;
  std::vector<Policy> policies;
  std::vector<Trigger> triggers;
  std::vector<std::string> other_constraints;  ///< PostgreSQL EXCLUDE constraints, as defined
  std::string sql;  ///< SQLite: the CREATE TABLE text
  bool without_rowid = false;
  bool strict = false;

  const Column* column(std::string_view n) const {
    for (const Column& c : columns)
      if (c.name == n) return &c;
    return nullptr;
  }
};

struct Schema {
  bool postgres = false;
  std::string name;  ///< PostgreSQL: the schema read; SQLite: "main"
  std::vector<Table> tables;

  const Table* table(std::string_view n) const {
    for (const Table& t : tables)
      if (t.name == n) return &t;
    return nullptr;
  }
};

/// The description as text lines, one per column, constraint, index, policy and flag, each
/// naming its table, sorted: two schemas are the same exactly when their lines are. Column
/// order is not part of it (tenantry names every column it reads and writes); SQLite's
/// statement texts are not either (only what they declare).
inline std::vector<std::string> to_lines(const Schema& s) {
  std::vector<std::string> out;
  const auto join = [](const std::vector<std::string>& v) {
    std::string r;
    for (const auto& x : v) r += (r.empty() ? "" : ", ") + x;
    return r;
  };
  for (const Table& t : s.tables) {
    const std::string p = t.name + ": ";
    out.push_back(p + "table" + (t.without_rowid ? " WITHOUT ROWID" : "") + (t.strict ? " STRICT" : ""));
    for (const Column& c : t.columns)
      out.push_back(p + "column " + c.name + " " + c.type + (c.not_null ? " NOT NULL" : "") +
                    (c.default_sql.empty() ? "" : " DEFAULT " + c.default_sql) +
                    (c.identity.empty() ? "" : " GENERATED " + c.identity + " AS IDENTITY") +
                    (c.generated.empty() ? "" : " GENERATED ALWAYS AS (" + c.generated + ")"));
    if (t.primary_key) out.push_back(p + "primary key " + t.primary_key->name + " (" + join(t.primary_key->columns) + ")");
    for (const Key& k : t.uniques) out.push_back(p + "unique " + k.name + " (" + join(k.columns) + ")");
    for (const Check& c : t.checks) out.push_back(p + "check " + c.name + " " + c.expression);
    for (const ForeignKey& f : t.foreign_keys)
      out.push_back(p + "foreign key " + f.name + " (" + join(f.columns) + ") -> " +
                    (f.parent_schema.empty() ? "" : f.parent_schema + ".") + f.parent_table + " (" +
                    join(f.parent_columns) + ") ON DELETE " + f.on_delete +
                    (f.set_null_columns.empty() ? "" : " (" + join(f.set_null_columns) + ")") + " ON UPDATE " +
                    f.on_update + (f.deferrable ? " DEFERRABLE" : "") + (f.initially_deferred ? " INITIALLY DEFERRED" : ""));
    for (const Index& ix : t.indexes) {
      std::string keys;
      for (const IndexKey& k : ix.keys)
        keys += (keys.empty() ? "" : ", ") + k.expression + (k.descending ? " DESC" : "") +
                (k.nulls.empty() ? "" : " NULLS " + k.nulls);
      out.push_back(p + (ix.unique ? "unique index " : "index ") + ix.name + (ix.method.empty() ? "" : " " + ix.method) +
                    " (" + keys + ")" + (ix.where.empty() ? "" : " WHERE " + ix.where));
    }
    if (t.row_security || t.force_row_security)
      out.push_back(p + "row level security" + (t.row_security ? " enabled" : "") + (t.force_row_security ? " forced" : ""));
    for (const Policy& pol : t.policies)
      out.push_back(p + "policy " + pol.name + (pol.permissive ? " PERMISSIVE " : " RESTRICTIVE ") + pol.command +
                    " TO " + join(pol.roles) + " USING " + pol.using_expr + " WITH CHECK " + pol.check_expr);
    for (const Trigger& tr : t.triggers) out.push_back(p + "trigger " + tr.name + " " + tr.sql);
    for (const std::string& o : t.other_constraints) out.push_back(p + "constraint " + o);
  }
  std::sort(out.begin(), out.end());
  return out;
}

/// What read_schema() reads.
struct ReadOptions {
  /// PostgreSQL: the schema to read; empty: current_schema().
  std::string schema{};
  /// Tables left out (the migration runner's record table always is).
  std::vector<std::string> exclude{};
  /// When not empty, only these tables are read.
  std::vector<std::string> only{};
};

namespace detail {

inline constexpr char separator = '\x1f';

inline std::vector<std::string> split(std::string_view s) {
  std::vector<std::string> out;
  if (s.empty()) return out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t at = s.find(separator, start);
    out.emplace_back(s.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) break;
    start = at + 1;
  }
  return out;
}

inline bool wanted(const ReadOptions& opt, std::string_view table) {
  if (table.starts_with("_tenantry_")) return false;  // the migration runner's and fleet's records
  if (std::find(opt.exclude.begin(), opt.exclude.end(), table) != opt.exclude.end()) return false;
  return opt.only.empty() || std::find(opt.only.begin(), opt.only.end(), table) != opt.only.end();
}

template <class St>
std::string text(St& st, int c) {
  return st.column_is_null(c) ? std::string{} : std::string(st.column_text(c));
}

template <class St>
struct Reset {
  St& st;
  ~Reset() { st.reset(); }
};

/// Runs an interned query with text parameters and calls row(statement) per row.
template <class C, class F>
void query(C& conn, const Sql& sql, const std::vector<std::string>& params, F&& row) {
  auto& st = conn.prepare(sql);
  Reset<std::remove_reference_t<decltype(st)>> reset{st};
  for (std::size_t i = 0; i < params.size(); ++i) st.bind_text(static_cast<int>(i + 1), params[i]);
  while (st.step()) row(st);
}

inline Table* find(std::vector<Table>& tables, std::string_view name) {
  for (Table& t : tables)
    if (t.name == name) return &t;
  return nullptr;
}

// ---- PostgreSQL ---------------------------------------------------------------------------------

struct PgQueries {
  static const Sql& tables() {
    static const Sql s = intern_sql(
        "SELECT c.relname::text, c.relrowsecurity, c.relforcerowsecurity FROM pg_catalog.pg_class c"
        " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY c.relname");
    return s;
  }
  static const Sql& columns() {
    static const Sql s = intern_sql(
        "SELECT c.relname::text, a.attname::text, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull,"
        " pg_catalog.pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, a.attgenerated::text"
        " FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid"
        " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
        " LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
        " WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped"
        " ORDER BY c.relname, a.attnum");
    return s;
  }
  static const Sql& constraints() {
    // Column lists are joined with U+001F, which no identifier in practice contains.
    static const Sql s = intern_sql(
        "SELECT c.relname::text, k.conname::text, k.contype::text,"
        " (SELECT string_agg(a.attname::text, chr(31) ORDER BY u.ord) FROM unnest(k.conkey) WITH ORDINALITY"
        "   u(num, ord) JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.num),"
        " pc.relname::text, pn.nspname::text,"
        " (SELECT string_agg(a.attname::text, chr(31) ORDER BY u.ord) FROM unnest(k.confkey) WITH ORDINALITY"
        "   u(num, ord) JOIN pg_catalog.pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.num),"
        " k.confdeltype::text, k.confupdtype::text,"
        " (SELECT string_agg(a.attname::text, chr(31) ORDER BY u.ord) FROM unnest(k.confdelsetcols) WITH ORDINALITY"
        "   u(num, ord) JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.num),"
        " pg_catalog.pg_get_expr(k.conbin, k.conrelid), k.condeferrable, k.condeferred,"
        " pg_catalog.pg_get_constraintdef(k.oid)"
        " FROM pg_catalog.pg_constraint k JOIN pg_catalog.pg_class c ON c.oid = k.conrelid"
        " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
        " LEFT JOIN pg_catalog.pg_class pc ON pc.oid = k.confrelid"
        " LEFT JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace"
        " WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND k.contype IN ('p', 'u', 'c', 'f', 'x')"
        " ORDER BY c.relname, k.conname");
    return s;
  }
  static const Sql& indexes() {
    // Each key: "c:<column>" or "e:<expression>", then "|D" when descending and "|NF"/"|NL"
    // when its NULLS order is not the default for its direction.
    static const Sql s = intern_sql(
        "SELECT c.relname::text, i.relname::text, x.indisunique, am.amname::text,"
        " (SELECT string_agg(CASE WHEN x.indkey[k - 1] <> 0"
        "     THEN 'c:' || (SELECT a.attname::text FROM pg_catalog.pg_attribute a"
        "                   WHERE a.attrelid = x.indrelid AND a.attnum = x.indkey[k - 1])"
        "     ELSE 'e:' || pg_catalog.pg_get_indexdef(x.indexrelid, k, true) END"
        "   || CASE WHEN x.indoption[k - 1] & 1 = 1 THEN '|D' ELSE '' END"
        "   || CASE WHEN x.indoption[k - 1] & 3 = 2 THEN '|NF' WHEN x.indoption[k - 1] & 3 = 1 THEN '|NL' ELSE '' END,"
        "   chr(31) ORDER BY k) FROM generate_series(1, x.indnkeyatts) k),"
        " pg_catalog.pg_get_expr(x.indpred, x.indrelid)"
        " FROM pg_catalog.pg_index x JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid"
        " JOIN pg_catalog.pg_class c ON c.oid = x.indrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
        " JOIN pg_catalog.pg_am am ON am.oid = i.relam"
        " WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k"
        "   WHERE k.conrelid = x.indrelid AND k.conindid = x.indexrelid AND k.contype IN ('p', 'u', 'x'))"
        " ORDER BY c.relname, i.relname");
    return s;
  }
  static const Sql& policies() {
    static const Sql s = intern_sql(
        "SELECT c.relname::text, p.polname::text, p.polpermissive, p.polcmd::text,"
        " CASE WHEN p.polroles = '{0}' THEN 'public' ELSE (SELECT string_agg(r.rolname::text, chr(31) ORDER BY"
        "   r.rolname) FROM pg_catalog.pg_roles r WHERE r.oid = ANY (p.polroles)) END,"
        " pg_catalog.pg_get_expr(p.polqual, p.polrelid), pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid)"
        " FROM pg_catalog.pg_policy p JOIN pg_catalog.pg_class c ON c.oid = p.polrelid"
        " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1"
        " ORDER BY c.relname, p.polname");
    return s;
  }
  static const Sql& triggers() {
    static const Sql s = intern_sql(
        "SELECT c.relname::text, t.tgname::text, pg_catalog.pg_get_triggerdef(t.oid)"
        " FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid"
        " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND NOT t.tgisinternal"
        " ORDER BY c.relname, t.tgname");
    return s;
  }
  static const Sql& current_schema() {
    static const Sql s = intern_sql("SELECT current_schema()::text");
    return s;
  }
  static const Sql& temp_schema() {
    static const Sql s =
        intern_sql("SELECT nspname::text FROM pg_catalog.pg_namespace WHERE oid = pg_catalog.pg_my_temp_schema()");
    return s;
  }
};

inline std::string pg_action(std::string_view code) {
  if (code == "c") return "CASCADE";
  if (code == "n") return "SET NULL";
  if (code == "d") return "SET DEFAULT";
  if (code == "r") return "RESTRICT";
  return "NO ACTION";
}

inline std::string pg_command(std::string_view code) {
  if (code == "r") return "SELECT";
  if (code == "a") return "INSERT";
  if (code == "w") return "UPDATE";
  if (code == "d") return "DELETE";
  return "ALL";
}

template <class C>
Schema read_postgres(C& conn, const ReadOptions& opt) {
  Schema out;
  out.postgres = true;
  out.name = opt.schema;
  if (out.name.empty()) query(conn, PgQueries::current_schema(), {}, [&](auto& st) { out.name = text(st, 0); });
  if (out.name.empty()) throw Error("tenantry: catalog: the connection has no current schema (search_path is empty)");
  const std::vector<std::string> p{out.name};
  query(conn, PgQueries::tables(), p, [&](auto& st) {
    std::string name = text(st, 0);
    if (!wanted(opt, name)) return;
    Table t;
    t.name = std::move(name);
    t.row_security = st.column_bool(1);
    t.force_row_security = st.column_bool(2);
    out.tables.push_back(std::move(t));
  });
  query(conn, PgQueries::columns(), p, [&](auto& st) {
    Table* t = find(out.tables, text(st, 0));
    if (t == nullptr) return;
    Column c;
    c.name = text(st, 1);
    c.type = text(st, 2);
    c.not_null = st.column_bool(3);
    const std::string identity = text(st, 5), generated = text(st, 6);
    if (generated == "s") c.generated = text(st, 4);
    else c.default_sql = text(st, 4);
    c.identity = identity == "d" ? "BY DEFAULT" : identity == "a" ? "ALWAYS" : "";
    t->columns.push_back(std::move(c));
  });
  query(conn, PgQueries::constraints(), p, [&](auto& st) {
    Table* t = find(out.tables, text(st, 0));
    if (t == nullptr) return;
    const std::string name = text(st, 1), type = text(st, 2);
    std::vector<std::string> cols = split(text(st, 3));
    if (type == "p") {
      t->primary_key = Key{name, std::move(cols)};
    } else if (type == "u") {
      t->uniques.push_back(Key{name, std::move(cols)});
    } else if (type == "c") {
      t->checks.push_back(Check{name, text(st, 10)});
    } else if (type == "f") {
      ForeignKey fk;
      fk.name = name;
      fk.columns = std::move(cols);
      fk.parent_table = text(st, 4);
      if (std::string parent_schema = text(st, 5); parent_schema != out.name) fk.parent_schema = parent_schema;
      fk.parent_columns = split(text(st, 6));
      fk.on_delete = pg_action(text(st, 7));
      fk.on_update = pg_action(text(st, 8));
      fk.set_null_columns = split(text(st, 9));
      fk.deferrable = st.column_bool(11);
      fk.initially_deferred = st.column_bool(12);
      t->foreign_keys.push_back(std::move(fk));
    } else {
      t->other_constraints.push_back(name + " " + text(st, 13));
    }
  });
  query(conn, PgQueries::indexes(), p, [&](auto& st) {
    Table* t = find(out.tables, text(st, 0));
    if (t == nullptr) return;
    Index ix;
    ix.name = text(st, 1);
    ix.unique = st.column_bool(2);
    ix.method = text(st, 3);
    for (const std::string& k : split(text(st, 4))) {
      IndexKey key;
      std::string_view s = k;
      key.is_column = s.starts_with("c:");
      s.remove_prefix(2);
      for (;;) {
        if (s.ends_with("|D")) key.descending = true, s.remove_suffix(2);
        else if (s.ends_with("|NF")) key.nulls = "FIRST", s.remove_suffix(3);
        else if (s.ends_with("|NL")) key.nulls = "LAST", s.remove_suffix(3);
        else break;
      }
      key.expression = std::string(s);
      ix.keys.push_back(std::move(key));
    }
    ix.where = text(st, 5);
    t->indexes.push_back(std::move(ix));
  });
  query(conn, PgQueries::policies(), p, [&](auto& st) {
    Table* t = find(out.tables, text(st, 0));
    if (t == nullptr) return;
    Policy pol;
    pol.name = text(st, 1);
    pol.permissive = st.column_bool(2);
    pol.command = pg_command(text(st, 3));
    pol.roles = split(text(st, 4));
    pol.using_expr = text(st, 5);
    pol.check_expr = text(st, 6);
    t->policies.push_back(std::move(pol));
  });
  query(conn, PgQueries::triggers(), p, [&](auto& st) {
    Table* t = find(out.tables, text(st, 0));
    if (t != nullptr) t->triggers.push_back(Trigger{text(st, 1), text(st, 2)});
  });
  return out;
}

// ---- SQLite -------------------------------------------------------------------------------------

struct SqliteQueries {
#define TENANTRY_CATALOG_SQL(name, text)   \
  static const Sql& name() {               \
    static const Sql s = intern_sql(text); \
    return s;                              \
  }
  TENANTRY_CATALOG_SQL(tables,
                       "SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
                       " ORDER BY name")
  TENANTRY_CATALOG_SQL(columns, "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?1) ORDER BY cid")
  TENANTRY_CATALOG_SQL(foreign_keys,
                       "SELECT id, seq, \"table\", \"from\", \"to\", on_update, on_delete FROM pragma_foreign_key_list(?1)"
                       " ORDER BY id, seq")
  TENANTRY_CATALOG_SQL(indexes,
                       "SELECT i.name, s.sql FROM pragma_index_list(?1) i JOIN sqlite_schema s ON s.type = 'index' AND"
                       " s.name = i.name WHERE i.origin = 'c' ORDER BY i.name")
  TENANTRY_CATALOG_SQL(triggers,
                       "SELECT name, sql FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = ?1 ORDER BY name")
#undef TENANTRY_CATALOG_SQL
};

inline Table sqlite_table_from_text(std::string name, std::string sql) {
  Table t;
  t.name = std::move(name);
  t.sql = std::move(sql);
  const sql_text::ParsedTable parsed = sql_text::parse_create_table(t.sql);
  t.without_rowid = parsed.without_rowid;
  t.strict = parsed.strict;
  for (const auto& c : parsed.columns)
    if (c.primary_key) t.primary_key = Key{c.primary_key_name, {c.name}};
  if (parsed.primary_key) t.primary_key = Key{parsed.primary_key->name, parsed.primary_key->columns};
  for (const auto& u : parsed.uniques) t.uniques.push_back(Key{u.name, u.columns});
  for (const auto& c : parsed.checks) t.checks.push_back(Check{c.name, c.expression});
  for (const auto& f : parsed.foreign_keys) {
    ForeignKey fk;
    fk.name = f.name;
    fk.columns = f.columns;
    fk.parent_table = f.parent_table;
    fk.parent_columns = f.parent_columns;
    fk.on_delete = f.on_delete;
    fk.on_update = f.on_update;
    fk.deferrable = f.deferrable;
    fk.initially_deferred = f.deferrable;
    t.foreign_keys.push_back(std::move(fk));
  }
  for (const auto& c : parsed.columns)
    if (!c.generated.empty()) {
      // pragma_table_info leaves generated columns out; take them from the text.
      Column col;
      col.name = c.name;
      col.type = c.type;
      col.generated = c.generated;
      t.columns.push_back(std::move(col));
    }
  return t;
}

template <class C>
Schema read_sqlite(C& conn, const ReadOptions& opt) {
  Schema out;
  out.name = "main";
  std::vector<std::pair<std::string, std::string>> tables;
  query(conn, SqliteQueries::tables(), {}, [&](auto& st) {
    std::string name = text(st, 0);
    if (wanted(opt, name)) tables.emplace_back(std::move(name), text(st, 1));
  });
  for (auto& [name, sql] : tables) {
    Table t = sqlite_table_from_text(name, sql);
    std::vector<Column> generated = std::move(t.columns);
    t.columns.clear();
    std::vector<std::pair<int, std::string>> pk;
    query(conn, SqliteQueries::columns(), {name}, [&](auto& st) {
      Column c;
      c.name = text(st, 0);
      c.type = text(st, 1);
      c.not_null = st.column_int(2) != 0;
      c.default_sql = text(st, 3);
      if (const auto k = st.column_int(4); k > 0) pk.emplace_back(static_cast<int>(k), c.name);
      t.columns.push_back(std::move(c));
    });
    for (Column& g : generated) t.columns.push_back(std::move(g));
    if (!pk.empty()) {
      std::sort(pk.begin(), pk.end());
      Key key{t.primary_key ? t.primary_key->name : std::string{}, {}};
      for (auto& [k, col] : pk) key.columns.push_back(col);
      t.primary_key = std::move(key);
    }
    // A rowid alias (the one INTEGER PRIMARY KEY column of a rowid table) never holds NULL,
    // declared NOT NULL or not (inserting NULL assigns the next rowid): say so, or `id INTEGER
    // PRIMARY KEY` would differ from the same column declared NOT NULL.
    if (!t.without_rowid && pk.size() == 1)
      for (Column& c : t.columns)
        if (c.name == pk[0].second && sql_text::normalize_type(c.type) == "integer") c.not_null = true;
    // The pragma resolves what the text leaves implicit (REFERENCES parent without columns):
    // its parent columns replace the text's, matched in declaration order (the pragma numbers
    // foreign keys from the last declared to the first).
    std::vector<std::vector<std::string>> pragma_parent_cols;
    std::int64_t current = -1;
    query(conn, SqliteQueries::foreign_keys(), {name}, [&](auto& st) {
      if (st.column_int(0) != current) {
        current = st.column_int(0);
        pragma_parent_cols.emplace_back();
      }
      pragma_parent_cols.back().push_back(text(st, 4));
    });
    if (pragma_parent_cols.size() != t.foreign_keys.size())
      throw Error("tenantry: catalog: could not read the foreign keys of SQLite table '" + name + "' from its text");
    std::reverse(pragma_parent_cols.begin(), pragma_parent_cols.end());
    for (std::size_t i = 0; i < t.foreign_keys.size(); ++i) {
      ForeignKey& fk = t.foreign_keys[i];
      if (fk.parent_columns.empty()) {
        const bool known = std::none_of(pragma_parent_cols[i].begin(), pragma_parent_cols[i].end(),
                                        [](const std::string& c) { return c.empty(); });
        if (known) fk.parent_columns = pragma_parent_cols[i];
      }
    }
    query(conn, SqliteQueries::indexes(), {name}, [&](auto& st) {
      Index ix;
      ix.name = text(st, 0);
      ix.sql = text(st, 1);
      const sql_text::ParsedIndex parsed = sql_text::parse_create_index(ix.sql);
      ix.unique = parsed.unique;
      ix.where = parsed.where;
      for (const auto& k : parsed.keys) ix.keys.push_back(IndexKey{k.expression, k.is_column, k.descending, {}});
      t.indexes.push_back(std::move(ix));
    });
    query(conn, SqliteQueries::triggers(), {name}, [&](auto& st) { t.triggers.push_back(Trigger{text(st, 0), text(st, 1)}); });
    out.tables.push_back(std::move(t));
  }
  // A foreign key written without parent columns references the parent's primary key.
  for (Table& t : out.tables)
    for (ForeignKey& fk : t.foreign_keys)
      if (fk.parent_columns.empty())
        if (const Table* parent = out.table(fk.parent_table); parent != nullptr && parent->primary_key)
          fk.parent_columns = parent->primary_key->columns;
  return out;
}

template <class Conn>
inline constexpr bool runtime_database = requires(Conn& c) {
  { c.is_postgres() } -> std::convertible_to<bool>;
};

}  // namespace detail

/// The tables of the connection's database (PostgreSQL: of one schema), sorted by name. Tables
/// whose name starts with `_tenantry_` (the migration records) are never included.
/// Conn is a driver connection or a tenantry::Database.
template <class Conn>
Schema read_schema(Conn& conn, const ReadOptions& opt = {}) {
  if constexpr (detail::runtime_database<Conn>) {
    return conn.visit([&](auto& c) { return read_schema(c, opt); });
  } else if constexpr (Conn::dialect::is_postgres) {
    return detail::read_postgres(conn, opt);
  } else {
    return detail::read_sqlite(conn, opt);
  }
}

/// The schema that running `ddl` would create, read back without creating anything: on
/// PostgreSQL in the session's temporary schema inside a transaction (a savepoint when one is
/// open) that is rolled back; on SQLite in a fresh in-memory database. `tables` names the
/// tables the DDL creates (the others of a PostgreSQL temporary schema are left out). The DDL
/// must create unqualified names.
template <class Conn>
Schema describe_ddl(Conn& conn, const std::string& ddl, const std::vector<std::string>& tables) {
  if constexpr (detail::runtime_database<Conn>) {
    return conn.visit([&](auto& c) { return describe_ddl(c, ddl, tables); });
  } else if constexpr (Conn::dialect::is_postgres) {
    auto tx = conn.transaction();
    // pg_temp first: CREATE TABLE, CREATE INDEX and the REFERENCES of the DDL all resolve to the
    // temporary schema; public stays on the path for functions a default or CHECK may call.
    conn.execute("SET LOCAL search_path = pg_temp, public");
    conn.execute(ddl);
    std::string temp;
    detail::query(conn, detail::PgQueries::temp_schema(), {}, [&](auto& st) { temp = detail::text(st, 0); });
    ReadOptions opt;
    opt.schema = temp;
    opt.only = tables;
    Schema s = detail::read_postgres(conn, opt);
    s.name.clear();  // a description, not a place
    tx.rollback();   // nothing was created
    return s;
  } else {
    Conn shadow(std::string(":memory:"));
    shadow.execute(ddl);
    ReadOptions opt;
    opt.only = tables;
    return detail::read_sqlite(shadow, opt);
  }
}

/// The schema entities Es generate on the connection's dialect (see the header comment), in
/// the order given. `options` as for create_tables (row_level_security adds the policies; the
/// schema options are ignored: the description is of unqualified tables).
template <class... Es, class Conn>
Schema entity_schema(Conn& conn, DdlOptions options = {}) {
  if constexpr (detail::runtime_database<Conn>) {
    return conn.visit([&](auto& c) { return entity_schema<Es...>(c, options); });
  } else {
    using D = typename Conn::dialect;
    options.schema.clear();
    options.schema_tables.clear();
    options.if_not_exists = false;
    const std::vector<std::string> names{table_info<Es>().name...};
    Schema s = describe_ddl(conn, schema_sql<D, Es...>(options), names);
    // Keep the entities' order (parents first): the writers create tables in this order.
    std::vector<Table> ordered;
    for (const std::string& n : names)
      for (Table& t : s.tables)
        if (t.name == n) ordered.push_back(std::move(t));
    s.tables = std::move(ordered);
    return s;
  }
}

}  // namespace tenantry::catalog
