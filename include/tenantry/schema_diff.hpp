// tenantry/schema_diff.hpp - what changes between two schemas, and which of those changes would
// lose data.
//
//   catalog::Schema live = catalog::read_schema(db), want = catalog::entity_schema<Es...>(db);
//   migrate::Decisions d;
//   d.renames.push_back(migrate::parse_rename("user_aliases.name=alias"));
//   migrate::SchemaDiff diff = migrate::diff(live, want, d);   // throws DataLossError if refused
//   // migration_writer.hpp turns a SchemaDiff into NNNN_name.up.sql / .down.sql.
//
// Rules:
//   * Renames are never guessed. A table or column that is in `from` and not in `to` is
//     dropped, and one in `to` and not in `from` is added, unless Decisions::renames names the
//     pair; the rename then keeps the data. (When a drop is refused and a plausible rename
//     target exists, the refusal says which --rename would express it.)
//   * Nothing loses data silently. Dropping a table or a column, changing a column's type to one
//     that may not hold every old value (narrowing, or another type family) without a conversion,
//     adding a NOT NULL column with no default and no fill value, and making a column NOT NULL
//     without a fill value for its NULLs are refused (DataLossError lists every one, with the
//     option that would allow it) unless Decisions allows it for that direction.
//   * Constraints and indexes carry no data, so they are matched by what they declare (columns,
//     expression, references, predicate); one that only changed its name is renamed.
//   * Triggers, views and PostgreSQL EXCLUDE constraints are not managed: they are never
//     compared (an SQLite table rebuild recreates the table's triggers).
#pragma once

#include "tenantry/catalog.hpp"
#include "tenantry/error.hpp"
#include "tenantry/sql_text.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tenantry::migrate {

// ==== decisions the diff cannot take by itself =================================================

/// A rename: a table (`table` empty, from -> to) or a column of table `table` (named as it is
/// in the target schema).
struct Rename {
  std::string table;
  std::string from, to;
};

/// Values for the existing rows of a column that becomes NOT NULL (a new column without a
/// default, or a nullable one made NOT NULL): an SQL expression from the program, e.g. a
/// literal. A new column gets it as a temporary DEFAULT (constant expressions only); NULLs of an
/// existing column are updated to it.
struct Fill {
  std::string table, column;
  std::string sql;
};

/// How the values of a column whose type changes are converted: SQL expressions for the up and
/// the down direction, each naming the table's columns as the schema it converts to names them
/// (renames are applied first; the column still holds its old values then). PostgreSQL uses
/// them as ALTER COLUMN ... TYPE ... USING, SQLite in the rebuild's copy.
struct Conversion {
  std::string table, column;  ///< as named in the target schema of the up direction
  std::string up_sql, down_sql;
};

/// SQL run right after a table is created (seed rows, e.g. the default org); write it
/// idempotently (INSERT ... ON CONFLICT DO NOTHING) if it may run on a table that has them.
struct Seed {
  std::string table;
  std::string sql;
};

/// A precondition checked before anything changes: `count_sql` is a query returning one
/// integer; anything but 0 stops the migration with an error naming `name` (letters, digits
/// and underscores: it becomes a constraint name on SQLite) and `message`.
struct Guard {
  std::string name;
  std::string count_sql;
  std::string message;
};

/// One destructive change allowed: kind "drop table", "drop column", "type", "not null", with
/// `object` "table" or "table.column"; "*" matches any table or column.
struct Allow {
  std::string kind;
  std::string object;
};

/// Decisions for one direction.
struct DirectionDecisions {
  std::vector<Fill> fills;
  std::vector<Seed> seeds;
  std::vector<Guard> guards;
  std::vector<Allow> allow;
};

/// Everything a diff needs to be told. Renames and conversions are given once, for the up
/// direction; the down direction uses them reversed.
struct Decisions {
  std::vector<Rename> renames;
  std::vector<Conversion> conversions;
  DirectionDecisions up, down;

  /// The decisions for the reverse diff (to -> from).
  Decisions reversed() const {
    Decisions r;
    for (const Rename& x : renames) {
      if (x.table.empty()) {
        r.renames.push_back(Rename{{}, x.to, x.from});
      } else {
        // A column rename names its table as in the target; in reverse, the target is `from`,
        // where the table may have had another name.
        std::string table = x.table;
        for (const Rename& t : renames)
          if (t.table.empty() && t.to == x.table) table = t.from;
        r.renames.push_back(Rename{table, x.to, x.from});
      }
    }
    for (const Conversion& c : conversions) {
      std::string table = c.table, column = c.column;
      for (const Rename& t : renames) {
        if (t.table.empty() && t.to == c.table) table = t.from;
        if (!t.table.empty() && t.table == c.table && t.to == c.column) column = t.from;
      }
      r.conversions.push_back(Conversion{table, column, c.down_sql, c.up_sql});
    }
    r.up = down;
    r.down = up;
    return r;
  }
};

/// "old=new" (a table) or "table.old=new" (a column of `table`, named as in the target).
inline Rename parse_rename(std::string_view text) {
  const auto eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == text.size())
    throw UsageError("tenantry: migrate: --rename takes old=new or table.old=new, not '" + std::string(text) + "'");
  Rename r;
  std::string_view left = text.substr(0, eq);
  r.to = std::string(text.substr(eq + 1));
  if (const auto dot = left.find('.'); dot != std::string_view::npos) {
    r.table = std::string(left.substr(0, dot));
    left = left.substr(dot + 1);
  }
  r.from = std::string(left);
  return r;
}

/// "table.column=sql".
inline Fill parse_fill(std::string_view text) {
  const auto eq = text.find('=');
  const auto dot = text.substr(0, eq).find('.');
  if (eq == std::string_view::npos || dot == std::string_view::npos || dot == 0 || dot + 1 == eq)
    throw UsageError("tenantry: migrate: --fill takes table.column=<sql>, not '" + std::string(text) + "'");
  return Fill{std::string(text.substr(0, dot)), std::string(text.substr(dot + 1, eq - dot - 1)),
              std::string(text.substr(eq + 1))};
}

/// "drop-table:T", "drop-column:T.C", "type:T.C", "not-null:T.C" ('*' for any).
inline Allow parse_allow(std::string_view text) {
  const auto colon = text.find(':');
  std::string kind(text.substr(0, colon));
  std::replace(kind.begin(), kind.end(), '-', ' ');
  if (colon == std::string_view::npos || colon + 1 == text.size() ||
      (kind != "drop table" && kind != "drop column" && kind != "type" && kind != "not null"))
    throw UsageError("tenantry: migrate: --allow takes drop-table:T, drop-column:T.C, type:T.C or not-null:T.C, not '" +
                     std::string(text) + "'");
  return Allow{kind, std::string(text.substr(colon + 1))};
}

// ==== the diff ==================================================================================

/// One difference between two schemas.
struct Change {
  enum class Kind {
    create_table, drop_table, rename_table,
    add_column, drop_column, rename_column, alter_type, set_not_null, drop_not_null, set_default, drop_default,
    add_identity, drop_identity, alter_generated,
    add_primary_key, drop_primary_key, add_unique, drop_unique, add_check, drop_check, add_foreign_key,
    drop_foreign_key, rename_constraint,
    add_index, drop_index, rename_index,
    enable_row_security, disable_row_security, force_row_security, no_force_row_security, add_policy, drop_policy,
  };
  Kind kind;
  std::string table;   ///< the table, as named in the target (its old name for drop_table)
  std::string object;  ///< the column, constraint, index or policy (old name for renames)
  std::string to;      ///< renames: the new name
  std::string detail;  ///< a human description, used in drift reports and migration comments
};

/// What a refused change was and how to allow it.
struct Refusal {
  std::string change;  ///< e.g. "drop column user_aliases.name"
  std::string reason;
  std::string allow;   ///< the option that allows it
};

/// Refused changes: the diff would lose data (see the header comment). Nothing was written.
class DataLossError : public Error {
 public:
  explicit DataLossError(std::vector<Refusal> refused) : Error(message(refused)), refused_(std::move(refused)) {}
  const std::vector<Refusal>& refused() const noexcept { return refused_; }

 private:
  static std::string message(const std::vector<Refusal>& r) {
    std::string m = "tenantry: migrate: " + std::to_string(r.size()) + " change(s) would lose data and were refused; nothing"
                    " was written:";
    for (const Refusal& x : r) m += "\n  * " + x.change + ": " + x.reason + " (" + x.allow + ")";
    return m;
  }
  std::vector<Refusal> refused_;
};

/// The differences of one table, with what a writer needs to carry its rows over.
struct TableDiff {
  std::string name;       ///< in the target schema
  std::string from_name;  ///< in the source schema (differs when renamed)
  bool created = false, dropped = false;
  std::vector<Change> changes;
  /// For every column of the target table that takes its values from the source table: the
  /// SQL expression giving them, over the table's columns once renames are applied (the quoted
  /// column, or its conversion).
  std::vector<std::pair<std::string, std::string>> copy;
  /// Target columns filled for existing rows (Decisions fills), by name.
  std::map<std::string, std::string> fills;
  /// Source column name for each target column that existed (renames applied).
  std::map<std::string, std::string> source_column;
};

/// The result of diff(): the two schemas and their differences, table by table (in the
/// target's order, then the dropped tables).
struct SchemaDiff {
  catalog::Schema from, to;
  std::vector<TableDiff> tables;
  DirectionDecisions decisions;  ///< the direction's fills, seeds, guards

  bool empty() const {
    return std::all_of(tables.begin(), tables.end(), [](const TableDiff& t) { return t.changes.empty(); });
  }
  /// Every change, one line each ("api_tokens: add column org_id uuid NOT NULL").
  std::vector<std::string> describe() const {
    std::vector<std::string> out;
    for (const TableDiff& t : tables)
      for (const Change& c : t.changes) out.push_back(t.name + ": " + c.detail);
    return out;
  }
  const TableDiff* table(std::string_view name) const {
    for (const TableDiff& t : tables)
      if (t.name == name) return &t;
    return nullptr;
  }
};

/// What diff() does with refused changes.
struct DiffOptions {
  /// true: throw DataLossError listing them (generating a migration); false: report them as
  /// changes all the same (a drift report, where nothing is run).
  bool refuse = true;
};

namespace detail {

inline std::string quote(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

inline std::string join(const std::vector<std::string>& v) {
  std::string r;
  for (const auto& x : v) r += (r.empty() ? "" : ", ") + x;
  return r;
}

inline std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

inline bool matches(std::string_view pattern, std::string_view value) { return pattern == "*" || pattern == value; }

inline bool allowed(const DirectionDecisions& d, std::string_view kind, std::string_view table, std::string_view column = {}) {
  for (const Allow& a : d.allow) {
    if (a.kind != kind) continue;
    const auto dot = a.object.find('.');
    if (column.empty()) {
      if (matches(a.object, table)) return true;
    } else if (dot != std::string::npos) {
      if (matches(a.object.substr(0, dot), table) && matches(a.object.substr(dot + 1), column)) return true;
    } else if (a.object == "*") {
      return true;
    }
  }
  return false;
}

/// The integer width of a type, or 0 when it is not one of the integer types.
inline int integer_width(std::string_view type) {
  const std::string t = sql_text::normalize_type(type);
  if (t == "smallint" || t == "int2") return 2;
  if (t == "integer" || t == "int" || t == "int4") return 4;
  if (t == "bigint" || t == "int8") return 8;
  return 0;
}

/// The length limit of character varying(n) / varchar(n) / character(n), or -1.
inline long char_limit(std::string_view type) {
  const std::string t = sql_text::normalize_type(type);
  for (std::string_view prefix : {"character varying(", "varchar(", "character(", "char("}) {
    if (t.starts_with(prefix)) return std::strtol(t.c_str() + prefix.size(), nullptr, 10);
  }
  return -1;
}

inline bool is_text(std::string_view type) {
  const std::string t = sql_text::normalize_type(type);
  return t == "text" || t == "character varying" || t == "varchar";
}

/// SQLite's type affinity of a declared type (https://sqlite.org/datatype3.html, 3.1).
inline std::string_view sqlite_affinity(std::string_view type) {
  const std::string t = lower(std::string(type));
  if (t.find("int") != std::string::npos) return "integer";
  if (t.find("char") != std::string::npos || t.find("clob") != std::string::npos || t.find("text") != std::string::npos)
    return "text";
  if (t.find("blob") != std::string::npos || t.empty()) return "blob";
  if (t.find("real") != std::string::npos || t.find("floa") != std::string::npos || t.find("doub") != std::string::npos)
    return "real";
  return "numeric";
}

/// True when every value of `from` fits `to` unchanged. PostgreSQL: the same type, a wider
/// integer, a longer or unlimited character type, real -> double precision. SQLite: the same
/// affinity (SQLite stores by affinity and ignores lengths; tenantry writes length limits as
/// CHECKs, which are compared as constraints).
inline bool widening(std::string_view from, std::string_view to, bool postgres) {
  const std::string f = sql_text::normalize_type(from), t = sql_text::normalize_type(to);
  if (f == t) return true;
  if (!postgres) return sqlite_affinity(f) == sqlite_affinity(t);
  if (const int a = integer_width(f), b = integer_width(t); a != 0 && b != 0) return a <= b;
  const long fl = char_limit(f), tl = char_limit(t);
  if (fl >= 0 && (is_text(t) || (tl >= fl && t.starts_with("character varying") == f.starts_with("character varying"))))
    return true;
  if (f == "real" && t == "double precision") return true;
  if (is_text(f) && is_text(t)) return true;
  return false;
}

/// The column list of a key with source names mapped to target names.
inline std::vector<std::string> mapped(const std::vector<std::string>& cols, const std::map<std::string, std::string>& m) {
  std::vector<std::string> out;
  for (const auto& c : cols) {
    auto it = m.find(c);
    out.push_back(it == m.end() ? c : it->second);
  }
  return out;
}

inline std::string expr_key(const std::string& e, const std::map<std::string, std::string>* renames = nullptr) {
  return sql_text::normalize_expression(e, renames);
}

inline std::string describe_column(const catalog::Column& c) {
  return c.name + " " + c.type + (c.not_null ? " NOT NULL" : "") + (c.default_sql.empty() ? "" : " DEFAULT " + c.default_sql) +
         (c.identity.empty() ? "" : " GENERATED " + c.identity + " AS IDENTITY");
}

inline std::string describe_fk(const catalog::ForeignKey& f) {
  return (f.name.empty() ? std::string("(unnamed)") : f.name) + " (" + join(f.columns) + ") REFERENCES " + (f.parent_schema.empty() ? "" : f.parent_schema + ".") +
         f.parent_table + " (" + join(f.parent_columns) + ") ON DELETE " + f.on_delete +
         (f.set_null_columns.empty() ? "" : " (" + join(f.set_null_columns) + ")") +
         (f.on_update != "NO ACTION" ? " ON UPDATE " + f.on_update : "");
}

inline std::string describe_index(const catalog::Index& ix) {
  std::string keys;
  for (const auto& k : ix.keys)
    keys += (keys.empty() ? "" : ", ") + k.expression + (k.descending ? " DESC" : "") + (k.nulls.empty() ? "" : " NULLS " + k.nulls);
  return ix.name + " (" + keys + ")" + (ix.where.empty() ? "" : " WHERE " + ix.where);
}

inline std::string describe_policy(const catalog::Policy& p) {
  return p.name + (p.permissive ? "" : " AS RESTRICTIVE") + " FOR " + p.command + " TO " + join(p.roles) + " USING (" +
         p.using_expr + ") WITH CHECK (" + p.check_expr + ")";
}

class Differ {
 public:
  Differ(const catalog::Schema& from, const catalog::Schema& to, const Decisions& d, const DiffOptions& o)
      : from_(from), to_(to), d_(d), opt_(o) {}

  SchemaDiff run() {
    SchemaDiff out;
    out.from = from_;
    out.to = to_;
    out.decisions = d_.up;
    std::set<std::string> matched_from;
    for (const catalog::Table& t : to_.tables) {
      std::string source = t.name;
      for (const Rename& r : d_.renames)
        if (r.table.empty() && r.to == t.name) source = r.from;
      const catalog::Table* f = from_.table(source);
      TableDiff td;
      td.name = t.name;
      td.from_name = source;
      if (f == nullptr) {
        if (source != t.name)
          throw UsageError("tenantry: migrate: --rename " + source + "=" + t.name + ": there is no table '" + source +
                           "' to rename");
        td.created = true;
        td.from_name.clear();
        td.changes.push_back(Change{Change::Kind::create_table, t.name, {}, {}, "create table"});
      } else {
        matched_from.insert(f->name);
        if (source != t.name)
          td.changes.push_back(Change{Change::Kind::rename_table, t.name, source, t.name, "rename table " + source + " to " + t.name});
        table(*f, t, td);
      }
      out.tables.push_back(std::move(td));
    }
    for (const catalog::Table& f : from_.tables) {
      if (matched_from.count(f.name) != 0) continue;
      TableDiff td;
      td.name = f.name;
      td.from_name = f.name;
      td.dropped = true;
      td.changes.push_back(Change{Change::Kind::drop_table, f.name, {}, {}, "drop table (its rows are lost)"});
      if (!allowed(d_.up, "drop table", f.name)) {
        std::string hint;
        for (const catalog::Table& t : to_.tables)
          if (from_.table(t.name) == nullptr) hint += (hint.empty() ? "" : " or ") + ("--rename " + f.name + "=" + t.name);
        refuse("drop table " + f.name, "its rows would be lost",
               (hint.empty() ? "" : "if it was renamed, say so: " + hint + "; ") + "to drop it, --allow drop-table:" + f.name);
      }
      out.tables.push_back(std::move(td));
    }
    for (const Rename& r : d_.renames)
      if (r.table.empty() && from_.table(r.from) == nullptr)
        throw UsageError("tenantry: migrate: --rename " + r.from + "=" + r.to + ": there is no table '" + r.from + "'");
    if (opt_.refuse && !refused_.empty()) throw DataLossError(refused_);
    return out;
  }

 private:
  void refuse(std::string change, std::string reason, std::string allow) {
    refused_.push_back(Refusal{std::move(change), std::move(reason), std::move(allow)});
  }

  const Conversion* conversion(const std::string& table, const std::string& column) const {
    for (const Conversion& c : d_.conversions)
      if (c.table == table && c.column == column) return &c;
    return nullptr;
  }
  const Fill* fill(const std::string& table, const std::string& column) const {
    for (const Fill& f : d_.up.fills)
      if (f.table == table && f.column == column) return &f;
    return nullptr;
  }

  void table(const catalog::Table& f, const catalog::Table& t, TableDiff& td) {
    using K = Change::Kind;
    const auto add = [&](K kind, std::string object, std::string to, std::string detail) {
      td.changes.push_back(Change{kind, t.name, std::move(object), std::move(to), std::move(detail)});
    };
    // ---- columns
    std::map<std::string, std::string> to_of;  // source column -> target column
    std::set<std::string> used;
    for (const catalog::Column& c : t.columns) {
      std::string source = c.name;
      for (const Rename& r : d_.renames)
        if (!r.table.empty() && r.table == t.name && r.to == c.name) source = r.from;
      const catalog::Column* fc = f.column(source);
      if (fc == nullptr && source != c.name)
        throw UsageError("tenantry: migrate: --rename " + t.name + "." + source + "=" + c.name + ": table '" + f.name +
                         "' has no column '" + source + "'");
      if (fc == nullptr) {
        add(K::add_column, c.name, {}, "add column " + describe_column(c));
        if (const Fill* fl = fill(t.name, c.name)) td.fills[c.name] = fl->sql;
        else if (c.not_null && c.default_sql.empty() && c.identity.empty() && c.generated.empty() &&
                 !allowed(d_.up, "not null", t.name, c.name))
          refuse("add column " + t.name + "." + c.name + " NOT NULL without a default",
                 "the rows the table may hold have no value for it",
                 "give their value with --fill " + t.name + "." + c.name + "=<sql>, declare a default, or --allow not-null:" +
                     t.name + "." + c.name + " if the table is empty");
        continue;
      }
      used.insert(fc->name);
      to_of[fc->name] = c.name;
      td.source_column[c.name] = fc->name;
      if (fc->name != c.name) add(K::rename_column, fc->name, c.name, "rename column " + fc->name + " to " + c.name);
      const Conversion* conv = conversion(t.name, c.name);
      td.copy.emplace_back(c.name, conv != nullptr ? conv->up_sql : quote(c.name));
      if (sql_text::normalize_type(fc->type) != sql_text::normalize_type(c.type)) {
        add(K::alter_type, c.name, c.type, "change type of " + c.name + " from " + fc->type + " to " + c.type);
        if (conv == nullptr && !widening(fc->type, c.type, to_.postgres) && !allowed(d_.up, "type", t.name, c.name))
          refuse("change type of " + t.name + "." + c.name + " from " + fc->type + " to " + c.type,
                 "values of the old type may not survive the change",
                 "give a conversion for " + t.name + "." + c.name + ", or --allow type:" + t.name + "." + c.name);
      } else if (conv != nullptr) {
        add(K::alter_type, c.name, c.type, "convert the values of " + c.name + " (" + c.type + ")");
      }
      if (fc->not_null && !c.not_null) add(K::drop_not_null, c.name, {}, "make " + c.name + " nullable");
      if (!fc->not_null && c.not_null) {
        add(K::set_not_null, c.name, {}, "make " + c.name + " NOT NULL");
        if (const Fill* fl = fill(t.name, c.name)) td.fills[c.name] = fl->sql;
        else if (!allowed(d_.up, "not null", t.name, c.name))
          refuse("make " + t.name + "." + c.name + " NOT NULL", "rows may hold NULL there",
                 "give their value with --fill " + t.name + "." + c.name + "=<sql>, or --allow not-null:" + t.name + "." + c.name);
      }
      if (expr_key(fc->default_sql) != expr_key(c.default_sql)) {
        if (c.default_sql.empty()) add(K::drop_default, c.name, {}, "drop the default of " + c.name);
        else add(K::set_default, c.name, c.default_sql, "set the default of " + c.name + " to " + c.default_sql);
      }
      if (fc->identity != c.identity) {
        if (!fc->identity.empty()) add(K::drop_identity, c.name, {}, "drop identity of " + c.name);
        if (!c.identity.empty()) add(K::add_identity, c.name, c.identity, "make " + c.name + " GENERATED " + c.identity + " AS IDENTITY");
      }
      if (expr_key(fc->generated) != expr_key(c.generated))
        add(K::alter_generated, c.name, c.generated, "change the generation expression of " + c.name);
    }
    for (const catalog::Column& fc : f.columns) {
      if (used.count(fc.name) != 0) continue;
      add(K::drop_column, fc.name, {}, "drop column " + fc.name + " (its values are lost)");
      if (!allowed(d_.up, "drop column", t.name, fc.name)) {
        std::string hint;
        for (const catalog::Column& c : t.columns)
          if (f.column(c.name) == nullptr && td.source_column.count(c.name) == 0)
            hint += (hint.empty() ? "" : " or ") + ("--rename " + t.name + "." + fc.name + "=" + c.name);
        refuse("drop column " + t.name + "." + fc.name, "its values would be lost",
               (hint.empty() ? "" : "if it was renamed, say so: " + hint + "; ") + "to drop it, --allow drop-column:" +
                   t.name + "." + fc.name);
      }
    }
    std::map<std::string, std::string> expr_renames;  // lower-case source name -> target name
    for (const auto& [src, dst] : to_of)
      if (src != dst) expr_renames[lower(src)] = dst;

    // ---- primary key
    const auto pk_cols = [&](const catalog::Table& x, bool source) {
      return x.primary_key ? (source ? mapped(x.primary_key->columns, to_of) : x.primary_key->columns) : std::vector<std::string>{};
    };
    if (pk_cols(f, true) != pk_cols(t, false)) {
      if (f.primary_key) add(K::drop_primary_key, f.primary_key->name, {}, "drop primary key " + display(f.primary_key->name) + " (" + join(f.primary_key->columns) + ")");
      if (t.primary_key) add(K::add_primary_key, t.primary_key->name, {}, "add primary key " + display(t.primary_key->name) + " (" + join(t.primary_key->columns) + ")");
    } else if (t.primary_key && f.primary_key->name != t.primary_key->name) {
      add(K::rename_constraint, f.primary_key->name, t.primary_key->name,
          "rename primary key " + display(f.primary_key->name) + " to " + display(t.primary_key->name));
    }

    // ---- uniques, checks, foreign keys: matched by what they declare
    match<catalog::Key>(f.uniques, t.uniques, [&](const catalog::Key& a, const catalog::Key& b) {
      return mapped(a.columns, to_of) == b.columns;
    }, [&](const catalog::Key& k) { add(K::drop_unique, k.name, {}, "drop unique " + display(k.name) + " (" + join(k.columns) + ")"); },
       [&](const catalog::Key& k) { add(K::add_unique, k.name, {}, "add unique " + display(k.name) + " (" + join(k.columns) + ")"); },
       [&](const catalog::Key& a, const catalog::Key& b) {
         add(K::rename_constraint, a.name, b.name, "rename unique " + display(a.name) + " to " + display(b.name));
       });
    match<catalog::Check>(f.checks, t.checks, [&](const catalog::Check& a, const catalog::Check& b) {
      return expr_key(a.expression, &expr_renames) == expr_key(b.expression);
    }, [&](const catalog::Check& k) { add(K::drop_check, k.name, {}, "drop check " + display(k.name) + " (" + k.expression + ")"); },
       [&](const catalog::Check& k) { add(K::add_check, k.name, {}, "add check " + display(k.name) + " (" + k.expression + ")"); },
       [&](const catalog::Check& a, const catalog::Check& b) {
         add(K::rename_constraint, a.name, b.name, "rename check " + display(a.name) + " to " + display(b.name));
       });
    match<catalog::ForeignKey>(f.foreign_keys, t.foreign_keys, [&](const catalog::ForeignKey& a, const catalog::ForeignKey& b) {
      std::string parent = a.parent_table;
      for (const Rename& r : d_.renames)
        if (r.table.empty() && r.from == parent) parent = r.to;
      return mapped(a.columns, to_of) == b.columns && parent == b.parent_table && a.parent_schema == b.parent_schema &&
             parent_columns(a, parent) == b.parent_columns && a.on_delete == b.on_delete && a.on_update == b.on_update &&
             mapped(a.set_null_columns, to_of) == b.set_null_columns && a.deferrable == b.deferrable &&
             a.initially_deferred == b.initially_deferred;
    }, [&](const catalog::ForeignKey& k) { add(K::drop_foreign_key, k.name, {}, "drop foreign key " + describe_fk(k)); },
       [&](const catalog::ForeignKey& k) { add(K::add_foreign_key, k.name, {}, "add foreign key " + describe_fk(k)); },
       [&](const catalog::ForeignKey& a, const catalog::ForeignKey& b) {
         add(K::rename_constraint, a.name, b.name, "rename foreign key " + display(a.name) + " to " + display(b.name));
       });

    // ---- indexes
    match<catalog::Index>(f.indexes, t.indexes, [&](const catalog::Index& a, const catalog::Index& b) {
      if (a.unique != b.unique || a.keys.size() != b.keys.size()) return false;
      if ((a.method.empty() ? "btree" : a.method) != (b.method.empty() ? "btree" : b.method)) return false;
      if (expr_key(a.where, &expr_renames) != expr_key(b.where)) return false;
      for (std::size_t i = 0; i < a.keys.size(); ++i) {
        const auto& x = a.keys[i];
        const auto& y = b.keys[i];
        if (x.is_column != y.is_column || x.descending != y.descending || x.nulls != y.nulls) return false;
        if (x.is_column ? mapped({x.expression}, to_of)[0] != y.expression
                        : expr_key(x.expression, &expr_renames) != expr_key(y.expression))
          return false;
      }
      return true;
    }, [&](const catalog::Index& k) { add(K::drop_index, k.name, {}, "drop index " + describe_index(k)); },
       [&](const catalog::Index& k) { add(K::add_index, k.name, {}, std::string("add ") + (k.unique ? "unique " : "") + "index " + describe_index(k)); },
       [&](const catalog::Index& a, const catalog::Index& b) {
         add(K::rename_index, a.name, b.name, "rename index " + a.name + " to " + display(b.name));
       });

    // ---- row-level security
    if (!f.row_security && t.row_security) add(K::enable_row_security, {}, {}, "enable row level security");
    if (!f.force_row_security && t.force_row_security) add(K::force_row_security, {}, {}, "force row level security");
    if (f.force_row_security && !t.force_row_security) add(K::no_force_row_security, {}, {}, "no longer force row level security");
    if (f.row_security && !t.row_security) add(K::disable_row_security, {}, {}, "disable row level security");
    match<catalog::Policy>(f.policies, t.policies, [&](const catalog::Policy& a, const catalog::Policy& b) {
      return a.name == b.name && a.permissive == b.permissive && a.command == b.command && a.roles == b.roles &&
             expr_key(a.using_expr, &expr_renames) == expr_key(b.using_expr) &&
             expr_key(a.check_expr, &expr_renames) == expr_key(b.check_expr);
    }, [&](const catalog::Policy& p) { add(K::drop_policy, p.name, {}, "drop policy " + describe_policy(p)); },
       [&](const catalog::Policy& p) { add(K::add_policy, p.name, {}, "add policy " + describe_policy(p)); },
       [](const catalog::Policy&, const catalog::Policy&) {});
  }

  std::vector<std::string> parent_columns(const catalog::ForeignKey& fk, const std::string& target_parent) const {
    // The parent's columns as named in the target (a renamed parent column keeps the reference).
    std::vector<std::string> out = fk.parent_columns;
    for (auto& c : out)
      for (const Rename& r : d_.renames)
        if (!r.table.empty() && r.table == target_parent && r.from == c) c = r.to;
    return out;
  }

  static std::string display(const std::string& name) { return name.empty() ? "(unnamed)" : name; }

  /// Pairs up `from` and `to` items that declare the same thing (same(a, b)); an equal pair with
  /// different names is a rename. Unpaired ones are dropped / added.
  template <class T, class Same, class Drop, class Add, class RenameF>
  static void match(const std::vector<T>& from, const std::vector<T>& to, Same same, Drop drop, Add add, RenameF rename) {
    std::vector<bool> taken(from.size(), false);
    std::vector<const T*> added;
    std::vector<std::pair<const T*, const T*>> renamed;
    for (const T& b : to) {
      std::optional<std::size_t> pick;
      for (std::size_t i = 0; i < from.size(); ++i) {
        if (taken[i] || !same(from[i], b)) continue;
        if (!pick || from[i].name == b.name) pick = i;  // prefer the one with the same name
        if (from[i].name == b.name) break;
      }
      if (!pick) {
        added.push_back(&b);
        continue;
      }
      taken[*pick] = true;
      if (from[*pick].name != b.name) renamed.emplace_back(&from[*pick], &b);
    }
    for (std::size_t i = 0; i < from.size(); ++i)
      if (!taken[i]) drop(from[i]);
    for (auto& [a, b] : renamed) rename(*a, *b);
    for (const T* b : added) add(*b);
  }

  const catalog::Schema& from_;
  const catalog::Schema& to_;
  const Decisions& d_;
  DiffOptions opt_;
  std::vector<Refusal> refused_;
};

}  // namespace detail

/// The changes that turn schema `from` into schema `to` (both of one dialect), with the
/// decisions for the up direction (see Decisions). Throws DataLossError when a change would
/// lose data and the decisions do not allow it (unless options.refuse is false), UsageError
/// for a rename of something that does not exist.
inline SchemaDiff diff(const catalog::Schema& from, const catalog::Schema& to, const Decisions& decisions = {},
                       DiffOptions options = {}) {
  if (from.postgres != to.postgres) throw UsageError("tenantry: migrate: diff() of schemas of two dialects");
  return detail::Differ(from, to, decisions, options).run();
}

}  // namespace tenantry::migrate
