// tenantry/entity_printer.hpp - the entity declarations that reproduce a live schema (the
// reverse of entity_schema(): Diesel's print-schema, sqlpp11's ddl2cpp).
//
//   tenantry::catalog::Schema live = tenantry::catalog::read_schema(db);
//   tenantry::catalog::PrintedEntities p = tenantry::catalog::print_entities(live, {.namespace_name = "db"});
//   std::fputs(p.text.c_str(), stdout);  // a header: structs, entity<T> blocks, db::Entities
//   for (const std::string& n : p.notes) std::fprintf(stderr, "%s\n", n.c_str());  // what it could not say
//
// For each table: a struct with one field per column (in column order; a column whose name is
// not a usable C++ identifier gets a field of another name and column(...).name()), and its
// entity<T> with the table, the scope, the primary key, the column options and the
// constraints, every one named as the database named it (.named(...)), so that declaring the
// printed entities gives an EMPTY diff against the database they were printed from
// (tests/migrate_gen/adopt_test.cpp compiles them and checks). The idioms of an existing
// schema map as docs/migrations.md ("Adopting an existing database") lists: SERIAL/BIGSERIAL
// to serial(), VARCHAR(n) to Varchar<n>, NUMERIC(p,s) to Decimal<p,s>, TIMESTAMP without time
// zone to sql_type(...), gen_random_uuid() / now() to default_uuid() / default_now(), other
// defaults to default_sql() with the catalog's own text.
//
// The org column. A table is printed org-scoped when it has one uuid column that
// references the organizations table (a table named organizations, orgs or tenants), or, failing
// that, one named org_id, organization_id or tenant_id; the field is then a tenantry::OrgId, or a
// std::optional<tenantry::OrgId> when the column may be NULL (platform rows, docs/tenancy.md).
// A table without one is printed scoped through its parent (`scope = tenantry::through<&T::fk>`)
// when its one foreign key to an org-scoped table (or to a table scoped through its parent) is a
// NOT NULL column referencing that table's primary key or a UNIQUE of it; its other references to
// such tables, and other tables' references to it, which tenantry refuses, are left out with a
// note. Every other table is printed global (`scope = tenantry::global`): review those.
//
// What tenantry cannot declare, or declares differently, is left out or changed and listed in
// PrintedEntities::notes, one line each (the diff then shows it): expression index keys, ON
// UPDATE actions, deferrable keys, generated columns, policies; and tenantry's org rules where
// the schema breaks them (a UNIQUE of an org-scoped table without the org is printed
// global_unique(), which adds the (org, columns) twin; a foreign key between org-scoped tables
// that does not pair the orgs is made tenant-safe by tenantry).
#pragma once

#include "tenantry/catalog.hpp"
#include "tenantry/sql_text.hpp"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace tenantry::catalog {

struct PrintOptions {
  /// The namespace of the structs and of the `Entities` tuple; empty: the global namespace.
  std::string namespace_name{};
  /// Names of organizations tables: a uuid column referencing one marks its table org-scoped.
  std::vector<std::string> org_tables{"organizations", "orgs", "tenants"};
  /// Column names taken as the org column when no foreign key tells.
  std::vector<std::string> org_columns{"org_id", "organization_id", "tenant_id"};
};

struct PrintedEntities {
  std::string text;                  ///< the header
  std::vector<std::string> structs;  ///< the struct names, parents first (the Entities tuple)
  std::vector<std::string> notes;    ///< what is not declared as the database has it
};

namespace printer_detail {

inline std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

/// A C++ string literal holding s.
inline std::string literal(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + '"';
}

inline bool identifier(std::string_view s) {
  static const std::set<std::string, std::less<>> reserved{
      "alignas", "alignof",   "and",      "asm",       "auto",     "bool",      "break",     "case",      "catch",
      "char",    "class",     "const",    "constexpr", "continue", "default",   "delete",    "do",        "double",
      "else",    "enum",      "explicit", "export",    "extern",   "false",     "float",     "for",       "friend",
      "goto",    "if",        "inline",   "int",       "long",     "mutable",   "namespace", "new",       "noexcept",
      "not",     "nullptr",   "operator", "or",        "private",  "protected", "public",    "register",  "return",
      "short",   "signed",    "sizeof",   "static",    "struct",   "switch",    "template",  "this",      "throw",
      "true",    "try",       "typedef",  "typeid",    "typename", "union",     "unsigned",  "using",     "virtual",
      "void",    "volatile",  "while",    "xor",       "concept",  "requires",  "co_await",  "co_return", "co_yield",
      "char8_t", "consteval", "constinit"};
  if (s.empty() || (s[0] >= '0' && s[0] <= '9') || reserved.count(s) != 0 || s.find("__") != std::string_view::npos ||
      s[0] == '_')
    return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

/// A field name for column `name`: itself when usable, else letters, digits and _ with a suffix.
inline std::string field_name(std::string_view name) {
  if (identifier(name)) return std::string(name);
  std::string out;
  for (const char c : name)
    out += ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) ? c : '_';
  while (!out.empty() && out[0] == '_') out.erase(0, 1);
  if (out.empty() || (out[0] >= '0' && out[0] <= '9')) out = "c" + out;
  while (out.find("__") != std::string::npos) out.replace(out.find("__"), 2, "_");
  return out + "_column";
}

/// "order_items" -> "OrderItem": PascalCase, the last word made singular the simple way.
inline std::string struct_name(std::string_view table) {
  std::string t = lower(table);
  const auto ends = [&](std::string_view x) { return t.size() > x.size() + 1 && t.ends_with(x); };
  if (ends("ies")) t = t.substr(0, t.size() - 3) + "y";
  else if (ends("sses") || ends("xes") || ends("ches") || ends("shes")) t.resize(t.size() - 2);
  else if (ends("s") && !ends("ss") && !ends("us") && !ends("is")) t.pop_back();
  std::string out;
  bool up = true;
  for (const char c : t) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
      up = true;
      continue;
    }
    out += up && c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
    up = false;
  }
  if (out.empty() || (out[0] >= '0' && out[0] <= '9')) out = "T" + out;
  return out;
}

/// (p, s) of numeric(p,s) / decimal(p,s); nullopt otherwise.
inline std::optional<std::pair<int, int>> numeric_of(std::string_view type) {
  const std::string t = sql_text::normalize_type(type);
  for (std::string_view prefix : {"numeric(", "decimal("}) {
    if (!t.starts_with(prefix)) continue;
    char* end = nullptr;
    const long p = std::strtol(t.c_str() + prefix.size(), &end, 10);
    long s = 0;
    if (end != nullptr && *end == ',') s = std::strtol(end + 1, &end, 10);
    if (end == nullptr || *end != ')') return std::nullopt;
    return std::pair<int, int>{static_cast<int>(p), static_cast<int>(s)};
  }
  return std::nullopt;
}

/// True when Decimal<p, s> holds NUMERIC(p,s) exactly.
inline bool decimal_fits(std::pair<int, int> ps) {
  return ps.first >= 1 && ps.first <= 38 && ps.second >= 0 && ps.second <= ps.first;
}

/// n of varchar(n) / character varying(n); 0 otherwise.
inline long varchar_of(std::string_view type) {
  const std::string t = sql_text::normalize_type(type);
  for (std::string_view prefix : {"character varying(", "varchar("}) {
    if (!t.starts_with(prefix)) continue;
    char* end = nullptr;
    const long n = std::strtol(t.c_str() + prefix.size(), &end, 10);
    return end != nullptr && *end == ')' ? n : 0;
  }
  return 0;
}

/// The C++ type of a column, and the sql_type() it needs (empty when the dialect's own choice
/// for that type is the column's type already).
struct Mapped {
  std::string type;
  std::string sql_type;
  std::string note;
};

inline Mapped map_postgres(const Column& c) {
  const std::string t = sql_text::normalize_type(c.type);
  if (t == "smallint") return {"std::int16_t", {}, {}};
  if (t == "integer") return {"std::int32_t", {}, {}};
  if (t == "bigint") return {"std::int64_t", {}, {}};
  if (t == "boolean") return {"bool", {}, {}};
  if (t == "real") return {"float", {}, {}};
  if (t == "double precision") return {"double", {}, {}};
  if (t == "text") return {"std::string", {}, {}};
  if (t == "uuid") return {"tenantry::Uuid", {}, {}};
  if (t == "timestamp with time zone") return {"tenantry::Timestamp", {}, {}};
  if (t.starts_with("timestamp") || t == "date") return {"tenantry::Timestamp", c.type, {}};
  if (t == "jsonb") return {"tenantry::Json", {}, {}};
  if (t == "json") return {"tenantry::Json", c.type, {}};
  if (t == "bytea") return {"tenantry::Bytes", {}, {}};
  if (const long n = varchar_of(t); n > 0) return {"tenantry::Varchar<" + std::to_string(n) + ">", {}, {}};
  if (t.starts_with("character")) return {"std::string", c.type, {}};
  if (const auto ps = numeric_of(t); ps && decimal_fits(*ps))
    return {"tenantry::Decimal<" + std::to_string(ps->first) + ", " + std::to_string(ps->second) + ">", {}, {}};
  if (t.starts_with("numeric"))
    return {"double", c.type,
            "type " + c.type +
                " is read through a double (Decimal<P, S> holds 38 digits at most, with 0 <= S <= P): not exact"};
  return {"std::string", c.type,
          "type " + c.type + " has no tenantry mapping: declared std::string, read it with a ::text cast"};
}

inline Mapped map_sqlite(const Column& c, bool length_check) {
  const std::string t = sql_text::normalize_type(c.type);
  const auto as = [&](std::string cpp, std::string_view native) {
    return Mapped{std::move(cpp), t == native ? std::string{} : c.type, {}};
  };
  if (const long n = varchar_of(t); n > 0 && length_check) return as("tenantry::Varchar<" + std::to_string(n) + ">", t);
  if (const auto ps = numeric_of(t); ps && decimal_fits(*ps)) {
    Mapped m = as("tenantry::Decimal<" + std::to_string(ps->first) + ", " + std::to_string(ps->second) + ">",
                  "numeric(" + std::to_string(ps->first) + "," + std::to_string(ps->second) + ")");
    if (ps->first > 15)
      m.note = "column " + c.name + " is " + m.type +
               ", which SQLite stores as an order-preserving BLOB (its numbers keep 15 digits); the numbers "
               "there now are read, and sort before the BLOBs (sql_types.hpp)";
    return m;
  }
  if (t == "boolean" || t == "bool") return {"bool", c.type, {}};
  if (t.starts_with("timestamp") || t.starts_with("datetime") || t == "date")
    return {"tenantry::Timestamp", c.type, {}};
  if (t == "uuid") return {"tenantry::Uuid", c.type, {}};
  if (t.find("int") != std::string::npos) return as("std::int64_t", "integer");
  if (t == "real" || t.starts_with("double") || t.starts_with("float")) return as("double", "real");
  if (t == "blob") return as("tenantry::Bytes", "blob");
  if (t.empty()) return {"std::string", "TEXT", "column " + c.name + " has no declared type: declared TEXT"};
  return as("std::string", "text");
}

inline std::string action(const std::string& a) {
  if (a == "CASCADE") return "tenantry::on_delete::cascade";
  if (a == "SET NULL") return "tenantry::on_delete::set_null";
  if (a == "RESTRICT") return "tenantry::on_delete::restrict";
  return {};
}

struct TablePlan {
  const Table* table = nullptr;
  std::string name;                                 // struct
  std::map<std::string, std::string> field;         // column -> field
  std::string org_column;                           // empty: global, or scoped through its parent
  std::string through_column;                       // the foreign key column of scope = through<>
  std::set<const Check*> implicit_checks;           // SQLite checks a field type adds (not printed)
  std::map<std::string, std::string> sqlite_kinds;  // column -> bool / json / varchar
  std::map<std::string, std::string> check_names;   // column -> its type's CHECK, named otherwise
};

}  // namespace printer_detail

/// The declarations of every table of `s` (see the header comment).
inline PrintedEntities print_entities(const Schema& s, const PrintOptions& opt = {}) {
  using namespace printer_detail;
  PrintedEntities out;
  const auto note = [&](const std::string& table, const std::string& what) {
    out.notes.push_back(table + ": " + what);
  };
  const auto is_org_table = [&](const std::string& t) {
    return std::find(opt.org_tables.begin(), opt.org_tables.end(), lower(t)) != opt.org_tables.end();
  };

  // ---- plan each table: names, org column, the checks a field type stands for
  std::map<std::string, TablePlan> plans;
  std::set<std::string> struct_names;
  for (const Table& t : s.tables) {
    TablePlan p;
    p.table = &t;
    p.name = struct_name(t.name);
    while (struct_names.count(p.name) != 0) p.name += "_";
    struct_names.insert(p.name);
    std::set<std::string> fields;
    for (const Column& c : t.columns) {
      std::string f = field_name(c.name);
      while (fields.count(f) != 0) f += "_";
      fields.insert(f);
      p.field[c.name] = f;
    }
    // NULL allowed: the table has platform rows (std::optional<OrgId>, docs/tenancy.md).
    const auto org_candidate = [&](const Column& c) {
      const std::string ty = lower(c.type);
      return s.postgres ? ty == "uuid" : (ty == "text" || ty == "uuid");
    };
    std::vector<std::string> by_fk, by_name;
    for (const ForeignKey& fk : t.foreign_keys)
      if (fk.columns.size() == 1 && is_org_table(fk.parent_table) && fk.parent_schema.empty())
        if (const Column* c = t.column(fk.columns[0]); c != nullptr && org_candidate(*c) && !is_org_table(t.name))
          if (std::find(by_fk.begin(), by_fk.end(), c->name) == by_fk.end()) by_fk.push_back(c->name);
    for (const Column& c : t.columns)
      if (std::find(opt.org_columns.begin(), opt.org_columns.end(), lower(c.name)) != opt.org_columns.end()) {
        if (org_candidate(c)) by_name.push_back(c.name);
        else
          note(t.name, "column " + c.name +
                           " is named like an org column but is not a uuid: the table is "
                           "printed, but tenantry refuses a field of that name that is not a tenantry::OrgId");
      }
    if (by_fk.size() == 1) p.org_column = by_fk[0];
    else if (by_fk.empty() && by_name.size() == 1) p.org_column = by_name[0];
    else if (by_fk.size() + by_name.size() > 1)
      note(t.name, "several columns could be the org column; printed global: choose one and make it a tenantry::OrgId");
    if (!p.org_column.empty() && !t.column(p.org_column)->not_null)
      note(t.name, "org column " + p.org_column +
                       " may be NULL: printed std::optional<tenantry::OrgId>; its rows of no org are platform rows, "
                       "reached only through tenantry::platform; tenantry adds a unique index WHERE " +
                       p.org_column +
                       " IS NULL per UNIQUE with the org, and a CHECK per reference to an org-scoped table");
    if (!s.postgres) {
      // The CHECKs tenantry writes for a field type on SQLite, under any name (the field then
      // says check_named() unless it is tenantry's ck_<table>_<column>_<bool|json|length>).
      for (const Check& ck : t.checks)
        for (const Column& c : t.columns) {
          if (p.sqlite_kinds.count(c.name) != 0) continue;
          std::string q = "\"" + c.name + "\"";
          const std::string e = sql_text::normalize_expression(ck.expression);
          const std::string type = sql_text::normalize_type(c.type);
          const auto is = [&](const std::string& expr) { return e == sql_text::normalize_expression(expr); };
          std::string kind, suffix;
          if (type == "integer" && is(q + " IN (0, 1)")) kind = suffix = "bool";
          else if (type == "text" && (is("json_valid(" + q + ")") || is(q + " IS NULL OR json_valid(" + q + ")")))
            kind = suffix = "json";
          else if (const long n = varchar_of(c.type); n > 0 && is("length(" + q + ") <= " + std::to_string(n)))
            kind = "varchar", suffix = "length";
          if (kind.empty()) continue;
          p.sqlite_kinds[c.name] = kind;
          p.implicit_checks.insert(&ck);
          if (ck.name != constraint_name("ck", t.name, {c.name, suffix})) p.check_names[c.name] = ck.name;
        }
    }
    plans[t.name] = std::move(p);
  }

  // Scoped through the parent: a table without an org column whose one NOT NULL single-column
  // foreign key to an org-scoped table (or to one scoped through its parent, chains of any
  // depth) references that table's primary key or a UNIQUE of exactly those columns.
  const auto scoped = [&](const TablePlan& p) { return !p.org_column.empty() || !p.through_column.empty(); };
  const auto references_unique = [&](const ForeignKey& fk, const Table& parent) {
    if (parent.primary_key && parent.primary_key->columns == fk.parent_columns) return true;
    return std::any_of(parent.uniques.begin(), parent.uniques.end(),
                       [&](const Key& u) { return u.columns == fk.parent_columns; });
  };
  std::map<std::string, std::vector<const ForeignKey*>> scope_candidates;
  for (bool changed = true; changed;) {
    changed = false;
    for (auto& [name, p] : plans) {
      if (scoped(p)) continue;
      std::vector<const ForeignKey*> candidates;
      for (const ForeignKey& fk : p.table->foreign_keys) {
        const auto parent = plans.find(fk.parent_table);
        if (!fk.parent_schema.empty() || parent == plans.end() || fk.parent_table == name || !scoped(parent->second))
          continue;
        const Column* c = fk.columns.size() == 1 ? p.table->column(fk.columns[0]) : nullptr;
        if (c != nullptr && c->not_null && fk.on_delete != "SET NULL" && references_unique(fk, *parent->second.table))
          candidates.push_back(&fk);
      }
      scope_candidates[name] = candidates;
      if (candidates.size() != 1) continue;
      p.through_column = candidates[0]->columns[0];
      changed = true;
    }
  }
  for (const auto& [name, p] : plans)
    if (!scoped(p) && scope_candidates[name].size() > 1)
      note(name,
           "several NOT NULL foreign keys reference org-scoped tables: printed global; scope it through one "
           "of them (scope = tenantry::through<&T::fk>) or give it the org column");

  // The organizations' key columns that org columns reference hold org ids: uuids (on SQLite, TEXT
  // that tenantry::Uuid reads).
  std::set<std::pair<std::string, std::string>> org_keys;
  for (const auto& [name, p] : plans)
    if (!p.org_column.empty())
      for (const ForeignKey& fk : p.table->foreign_keys)
        if (fk.columns.size() == 1 && fk.columns[0] == p.org_column && fk.parent_columns.size() == 1)
          org_keys.emplace(fk.parent_table, fk.parent_columns[0]);

  // ---- parents first
  std::vector<const Table*> order;
  std::set<std::string> placed, visiting;
  const auto place = [&](const auto& self, const Table& t) -> void {
    if (placed.count(t.name) != 0 || visiting.count(t.name) != 0) return;
    visiting.insert(t.name);
    for (const ForeignKey& fk : t.foreign_keys)
      if (fk.parent_schema.empty() && fk.parent_table != t.name)
        if (const Table* parent = s.table(fk.parent_table)) self(self, *parent);
    visiting.erase(t.name);
    placed.insert(t.name);
    order.push_back(&t);
  };
  for (const Table& t : s.tables) place(place, t);

  const std::string ns = opt.namespace_name.empty() ? std::string{} : opt.namespace_name + "::";
  std::string& o = out.text;
  o += "// Generated by tenantry (catalog::print_entities) from the " +
       std::string(s.postgres ? "PostgreSQL" : "SQLite") + " schema" +
       (s.name.empty() || !s.postgres ? std::string{} : " " + s.name) +
       ": one struct and one tenantry::entity<T> per table.\n"
       "// Review the scopes (org-scoped tables have a tenantry::OrgId field, tables scoped through their\n"
       "// parent say scope = tenantry::through<&T::fk>; the others are global).\n";
  for (const auto& n : out.notes) o += "// NOTE " + n + "\n";
  const std::size_t early_notes = out.notes.size();
  o += "#pragma once\n\n#include <tenantry/entity.hpp>\n#include <tenantry/sql_types.hpp>\n#include "
       "<tenantry/types.hpp>\n\n"
       "#include <cstdint>\n#include <optional>\n#include <string>\n#include <string_view>\n#include <tuple>\n\n";
  if (!opt.namespace_name.empty()) o += "namespace " + opt.namespace_name + " {\n\n";

  // ---- structs
  std::map<std::string, std::vector<std::string>> column_options;  // table -> column(...) items
  for (const Table* tp : order) {
    const Table& t = *tp;
    TablePlan& p = plans[t.name];
    o += "struct " + p.name + " {  // table " + t.name + "\n";
    for (const Column& c : t.columns) {
      Mapped m;
      if (c.name == p.org_column) {
        m.type = "tenantry::OrgId";  // std::optional<> below when the column may be NULL
        if (!s.postgres && sql_text::normalize_type(c.type) != "text") m.sql_type = c.type;
      } else if (s.postgres) {
        m = map_postgres(c);
      } else {
        const auto k = p.sqlite_kinds.find(c.name);
        const std::string kind = k == p.sqlite_kinds.end() ? std::string{} : k->second;
        if (kind == "bool") m = {"bool", sql_text::normalize_type(c.type) == "integer" ? std::string{} : c.type, {}};
        else if (kind == "json")
          m = {"tenantry::Json", sql_text::normalize_type(c.type) == "text" ? std::string{} : c.type, {}};
        else m = map_sqlite(c, kind == "varchar");
        if (m.type == "std::string" && org_keys.count({t.name, c.name}) != 0) m.type = "tenantry::Uuid";
      }
      if (!m.note.empty()) note(t.name, m.note);
      if (!c.not_null && t.primary_key &&
          std::find(t.primary_key->columns.begin(), t.primary_key->columns.end(), c.name) !=
              t.primary_key->columns.end())
        note(t.name, "primary key column " + c.name +
                         " may hold NULL (SQLite allows it without NOT NULL): declared "
                         "std::optional as it is; make it NOT NULL with a migration");
      const std::string& f = p.field[c.name];
      o += "  " + (c.not_null ? m.type : "std::optional<" + m.type + ">") + " " + f + ";\n";
      // column options
      std::string opts;
      if (f != c.name) opts += ".name(" + literal(c.name) + ")";
      const std::string d = sql_text::normalize_expression(c.default_sql);
      const std::string type = sql_text::normalize_type(c.type);
      bool serial = false;
      if (s.postgres && (type == "integer" || type == "bigint" || type == "smallint") &&
          d == sql_text::normalize_expression("nextval('" + t.name + "_" + c.name + "_seq'::regclass)")) {
        serial = true;
        opts += ".serial()";
      }
      if (!m.sql_type.empty() && !serial) opts += ".sql_type(" + literal(m.sql_type) + ")";
      if (auto cn = p.check_names.find(c.name); cn != p.check_names.end())
        opts += ".check_named(" + literal(cn->second) + ")";
      if (!c.identity.empty()) {
        opts += ".identity()";
        if (c.identity != "BY DEFAULT")
          note(t.name, "column " + c.name + " is GENERATED ALWAYS AS IDENTITY: declared BY DEFAULT");
      }
      if (!s.postgres && t.primary_key && t.primary_key->columns.size() == 1 && t.primary_key->columns[0] == c.name &&
          type == "integer")
        opts += ".identity()";  // a rowid alias: SQLite assigns it
      if (!c.default_sql.empty() && !serial) {
        const bool tz = type == "timestamp with time zone";
        if (s.postgres && type == "uuid" && d == sql_text::normalize_expression("gen_random_uuid()"))
          opts += ".default_uuid()";
        else if (s.postgres && tz && d == sql_text::normalize_expression("now()")) opts += ".default_now()";
        else if (s.postgres && type.starts_with("timestamp") && !tz &&
                 d == sql_text::normalize_expression("(now() AT TIME ZONE 'UTC'::text)"))
          opts += ".default_now()";
        else opts += ".default_sql(" + literal(c.default_sql) + ")";
      }
      if (!c.generated.empty())
        note(t.name, "column " + c.name + " is GENERATED ALWAYS AS (" + c.generated + "): not declared so");
      if (!opts.empty()) column_options[t.name].push_back("column(&" + ns + p.name + "::" + f + ")" + opts);
    }
    o += "};\n\n";
    out.structs.push_back(p.name);
  }
  o += "using Entities = std::tuple<";
  for (std::size_t i = 0; i < out.structs.size(); ++i) o += (i ? ", " : "") + out.structs[i];
  o += ">;\n\n";
  if (!opt.namespace_name.empty()) o += "}  // namespace " + opt.namespace_name + "\n\n";

  // ---- entity<T> blocks
  for (const Table* tp : order) {
    const Table& t = *tp;
    const TablePlan& p = plans[t.name];
    const std::string T = ns + p.name;
    const bool org = !p.org_column.empty();
    const bool through = !p.through_column.empty();
    const std::string& scope_column = org ? p.org_column : p.through_column;
    const auto member = [&](const TablePlan& of, const std::string& column) {
      return "&" + ns + of.name + "::" + of.field.at(column);
    };
    const auto members = [&](const TablePlan& of, const std::vector<std::string>& cols) {
      std::string r;
      for (const auto& c : cols) r += (r.empty() ? "" : ", ") + member(of, c);
      return r;
    };
    // Rules 6, 7 and 15: keys and UNIQUEs include the org column (scoped through the parent: the
    // foreign key of the scope).
    const auto has_org = [&](const std::vector<std::string>& cols) {
      return std::find(cols.begin(), cols.end(), scope_column) != cols.end();
    };
    const std::string scope_what = org ? "the org column" : "the foreign key of its scope (" + scope_column + ")";
    o += "template <>\nstruct tenantry::entity<" + T + "> {\n";
    o += "  static constexpr std::string_view table = " + literal(t.name) + ";\n";
    if (through) o += "  static constexpr auto scope = tenantry::through<" + member(p, p.through_column) + ">;\n";
    else if (!org) o += "  static constexpr auto scope = tenantry::global;\n";
    if (!t.primary_key) {
      note(t.name, "the table has no primary key, which tenantry needs: declared one over its first column");
      o += "  static constexpr auto primary_key = key(" + member(p, t.columns.front().name) + ");\n";
    } else {
      std::string pk = "key(" + members(p, t.primary_key->columns) + ")";
      if ((org || through) && !has_org(t.primary_key->columns)) {
        // Rule 7: one uuid or one database-assigned integer is fine; anything else is a natural key.
        const Column* c = t.primary_key->columns.size() == 1 ? t.column(t.primary_key->columns[0]) : nullptr;
        const std::string ty = c != nullptr ? sql_text::normalize_type(c->type) : std::string{};
        const bool assigned = c != nullptr && (!c->identity.empty() || lower(c->default_sql).starts_with("nextval(") ||
                                               (!s.postgres && ty == "integer"));
        if (!(c != nullptr && ty == "uuid") && !assigned) {
          pk += ".global_unique()";
          note(t.name, "the primary key lacks " + scope_what +
                           ": declared global_unique() (one org can tell what another "
                           "holds)" +
                           std::string(s.postgres ? ""
                                                  : "; if this TEXT key holds UUIDs, make it a tenantry::Uuid "
                                                    "and drop global_unique()"));
        }
      }
      o += "  static constexpr auto primary_key = " + pk + ".named(" + literal(t.primary_key->name) + ");\n";
    }
    if (auto it = column_options.find(t.name); it != column_options.end()) {
      o += "  static constexpr auto columns = std::tuple{";
      for (std::size_t i = 0; i < it->second.size(); ++i)
        o += std::string(i ? ",\n      " : "\n      ") + it->second[i];
      o += "};\n";
    }
    std::vector<std::string> cons;
    for (const Key& u : t.uniques) {
      std::string x = "unique(" + members(p, u.columns) + ")";
      if ((org || through) && !has_org(u.columns)) {
        x += ".global_unique()";
        note(t.name, "UNIQUE " + u.name + " lacks " + scope_what + ": declared global_unique()" +
                         (org ? ", which also adds UNIQUE (" + p.org_column + ", ...)" : std::string{}));
      }
      cons.push_back(x + ".named(" + literal(u.name) + ")");
    }
    for (const Check& ck : t.checks) {
      if (p.implicit_checks.count(&ck) != 0) continue;
      cons.push_back("check_sql(" + literal(ck.name.empty() ? "check" : ck.name) + ", " + literal(ck.expression) +
                     ").named(" + literal(ck.name) + ")");
    }
    for (const ForeignKey& fk : t.foreign_keys) {
      const auto parent = plans.find(fk.parent_table);
      if (!fk.parent_schema.empty() || parent == plans.end()) {
        note(t.name, "foreign key " + fk.name + " references " + fk.parent_table + " outside the schema: left out");
        continue;
      }
      if (fk.parent_columns.size() != fk.columns.size()) continue;
      const bool parent_org = !parent->second.org_column.empty();
      const bool parent_through = !parent->second.through_column.empty();
      const bool scope_fk = through && fk.columns.size() == 1 && fk.columns[0] == p.through_column;
      if (!org && !through && (parent_org || parent_through)) {
        note(t.name, "is printed global, and its rows would be readable by every org: its foreign key " + fk.name +
                         " references " + (parent_org ? "org-scoped " : "parent-scoped ") + fk.parent_table +
                         " (tenantry refuses that; left out): give it the org column of its rows, or a NOT NULL "
                         "foreign key to a key of its parent to be scoped through");
        continue;
      }
      if (org && parent_through) {
        note(t.name, "foreign key " + fk.name + " references " + fk.parent_table +
                         ", which is scoped through its parent (tenantry refuses that: the database cannot pair their "
                         "orgs): left out; reference the parent instead");
        continue;
      }
      if (through && !scope_fk && (parent_org || parent_through)) {
        note(t.name, "foreign key " + fk.name + " references " + fk.parent_table +
                         ", another org-scoped table than the one of its scope (tenantry refuses that: it could "
                         "point at another org's row): left out");
        continue;
      }
      const std::string a = action(fk.on_delete);
      if (a.empty() && fk.on_delete != "NO ACTION")
        note(t.name,
             "foreign key " + fk.name + ": ON DELETE " + fk.on_delete + " is not declarable: declared NO ACTION");
      if (fk.on_update != "NO ACTION")
        note(t.name, "foreign key " + fk.name + ": ON UPDATE " + fk.on_update + " is not declarable: left out");
      if (fk.deferrable) note(t.name, "foreign key " + fk.name + " is DEFERRABLE: not declarable");
      if (org && parent_org && !has_org(fk.columns))
        note(t.name, "foreign key " + fk.name +
                         " between org-scoped tables does not name the org: tenantry adds it on "
                         "both sides (tenant-safe)");
      std::string x;
      if (fk.columns.size() == 1)
        x = "foreign_key(" + member(p, fk.columns[0]) + ", " + member(parent->second, fk.parent_columns[0]);
      else
        x = "foreign_key(fields(" + members(p, fk.columns) + "), fields(" + members(parent->second, fk.parent_columns) +
            ")";
      x += a.empty() ? ")" : ", " + a + ")";
      cons.push_back(x + ".named(" + literal(fk.name) + ")");
    }
    for (const Index& ix : t.indexes) {
      if (!ix.method.empty() && ix.method != "btree") {
        note(t.name, "index " + ix.name + " uses " + ix.method + ": left out");
        continue;
      }
      std::string keys;
      bool ok = true;
      std::vector<std::string> cols;
      for (const IndexKey& k : ix.keys) {
        if (!k.is_column || !k.nulls.empty()) {
          ok = false;
          break;
        }
        cols.push_back(k.expression);
        keys += (keys.empty() ? "" : ", ") +
                (k.descending ? "desc(" + member(p, k.expression) + ")" : member(p, k.expression));
      }
      if (!ok) {
        note(t.name, "index " + ix.name + " has expression keys or a NULLS order: left out");
        continue;
      }
      std::string x = std::string(ix.unique ? "unique_index(" : "index(") + keys + ")";
      if (!ix.where.empty()) x += ".where(" + literal(ix.where) + ")";
      if (ix.unique && (org || through) && !has_org(cols)) {
        x += ".global_unique()";
        note(t.name, "unique index " + ix.name + " lacks " + scope_what + ": declared global_unique()");
      }
      cons.push_back(x + ".named(" + literal(ix.name) + ")");
    }
    if (!t.policies.empty() || t.row_security)
      note(t.name,
           "row-level security and policies are not printed (DdlOptions::row_level_security generates tenantry's)");
    if (!t.other_constraints.empty()) note(t.name, "EXCLUDE constraints are not declarable: left out");
    if (!cons.empty()) {
      o += "  static constexpr auto constraints = std::tuple{";
      for (std::size_t i = 0; i < cons.size(); ++i) o += std::string(i ? ",\n      " : "\n      ") + cons[i];
      o += "};\n";
    }
    o += "};\n\n";
  }
  // Notes found while printing go on top too, where a reader looks first.
  std::string later;
  for (std::size_t i = early_notes; i < out.notes.size(); ++i) later += "// NOTE " + out.notes[i] + "\n";
  const std::size_t at = o.find("#pragma once");
  o.insert(at, later);
  return out;
}

}  // namespace tenantry::catalog
