// tenantry/migration_writer_postgres.hpp - a SchemaDiff as PostgreSQL statements.
//
// Everything is ALTER TABLE in place, in an order that never refers to something not yet
// there nor drops something still needed:
//   guards; table and column renames; dropped policies and foreign keys; dropped indexes and
//   constraints; new tables (with their indexes and seed SQL); column changes, constraint and
//   index renames, new keys, checks and indexes, dropped columns; new foreign keys; row-level
//   security and policies; dropped tables.
// The file runs in the runner's transaction: all of it or nothing. A new NOT NULL column with a
// fill value is added with that value as its DEFAULT, which fills the existing rows without
// rewriting the table (PostgreSQL 11+, constant values), then takes its declared default.
#pragma once

#include "tenantry/catalog.hpp"
#include "tenantry/dialect/common.hpp"
#include "tenantry/migration_script.hpp"
#include "tenantry/schema_diff.hpp"

#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace tenantry::migrate {

namespace pg_writer {

using detail::quote;

inline std::string column_list(const std::vector<std::string>& cols) {
  std::string out = "(";
  for (std::size_t i = 0; i < cols.size(); ++i) out += (i ? ", " : "") + quote(cols[i]);
  return out + ")";
}

/// "serial" / "bigserial" / "smallserial" for a column of table `table` that is one (an integer
/// whose default is nextval() of <table>_<column>_seq, the sequence SERIAL creates and the
/// column owns); empty otherwise. The sequence is part of the column: a new table or column
/// must create it, which the SERIAL type does and a DEFAULT nextval(...) would not.
inline std::string serial_type(std::string_view table, const catalog::Column& c) {
  if (table.empty() || !c.identity.empty() || c.default_sql != "nextval('" + std::string(table) + "_" + c.name + "_seq'::regclass)")
    return {};
  const std::string t = sql_text::normalize_type(c.type);
  return t == "integer" ? "serial" : t == "bigint" ? "bigserial" : t == "smallint" ? "smallserial" : "";
}

inline std::string column_definition(const catalog::Column& c, const std::string* default_override = nullptr,
                                     std::string_view table = {}) {
  const std::string serial = default_override == nullptr ? serial_type(table, c) : std::string{};
  std::string out = quote(c.name) + " " + (serial.empty() ? c.type : serial);
  if (c.not_null && c.identity.empty()) out += " NOT NULL";
  const std::string& def = default_override != nullptr ? *default_override : c.default_sql;
  if (!def.empty() && c.generated.empty() && serial.empty()) out += " DEFAULT " + def;
  if (!c.identity.empty()) out += " GENERATED " + c.identity + " AS IDENTITY";
  if (!c.generated.empty()) out += " GENERATED ALWAYS AS (" + c.generated + ") STORED";
  return out;
}

inline std::string foreign_key_definition(const catalog::ForeignKey& f) {
  std::string out = "CONSTRAINT " + quote(f.name) + " FOREIGN KEY " + column_list(f.columns) + " REFERENCES ";
  if (!f.parent_schema.empty()) out += quote(f.parent_schema) + ".";
  out += quote(f.parent_table) + " " + column_list(f.parent_columns);
  if (f.on_delete != "NO ACTION") out += " ON DELETE " + f.on_delete;
  if (!f.set_null_columns.empty()) out += " " + column_list(f.set_null_columns);
  if (f.on_update != "NO ACTION") out += " ON UPDATE " + f.on_update;
  if (f.deferrable) out += f.initially_deferred ? " DEFERRABLE INITIALLY DEFERRED" : " DEFERRABLE";
  return out;
}

inline std::string create_index(const std::string& table, const catalog::Index& ix) {
  std::string out = std::string(ix.unique ? "CREATE UNIQUE INDEX " : "CREATE INDEX ") + quote(ix.name) + " ON " + quote(table);
  if (!ix.method.empty() && ix.method != "btree") out += " USING " + ix.method;
  out += " (";
  for (std::size_t i = 0; i < ix.keys.size(); ++i) {
    const auto& k = ix.keys[i];
    out += i ? ", " : "";
    out += k.is_column ? quote(k.expression) : "(" + k.expression + ")";
    if (k.descending) out += " DESC";
    if (!k.nulls.empty()) out += " NULLS " + k.nulls;
  }
  out += ")";
  if (!ix.where.empty()) out += " WHERE " + ix.where;
  return out;
}

inline std::string create_policy(const std::string& table, const catalog::Policy& p) {
  std::string out = "CREATE POLICY " + quote(p.name) + " ON " + quote(table);
  if (!p.permissive) out += " AS RESTRICTIVE";
  if (p.command != "ALL") out += " FOR " + p.command;
  bool everyone = p.roles.size() == 1 && p.roles[0] == "public";
  if (!everyone && !p.roles.empty()) {
    out += " TO ";
    for (std::size_t i = 0; i < p.roles.size(); ++i) out += (i ? ", " : "") + (p.roles[i] == "public" ? "public" : quote(p.roles[i]));
  }
  if (!p.using_expr.empty()) out += " USING (" + p.using_expr + ")";
  if (!p.check_expr.empty()) out += " WITH CHECK (" + p.check_expr + ")";
  return out;
}

inline std::string guard(const Guard& g) {
  std::string message;
  tenantry::detail::quote_string(message, g.name + ": " + g.message);
  return "DO $tenantry_guard$\nBEGIN\n  IF (" + g.count_sql + ") <> 0 THEN\n    RAISE EXCEPTION USING MESSAGE = " + message +
         ";\n  END IF;\nEND\n$tenantry_guard$";
}

template <class T>
const T* named(const std::vector<T>& v, const std::string& name) {
  for (const T& x : v)
    if (x.name == name) return &x;
  return nullptr;
}

inline bool has(const TableDiff& td, Change::Kind k, const std::string& object) {
  for (const Change& c : td.changes)
    if (c.kind == k && c.object == object) return true;
  return false;
}

class Writer {
 public:
  explicit Writer(const SchemaDiff& d) : d_(d) {}

  GeneratedScript run() {
    using K = Change::Kind;
    for (const Guard& g : d_.decisions.guards) {
      s_.note("guard: " + g.message);
      s_.add_noted(guard(g));
    }
    // Renames first: everything after names the target's tables and columns.
    each(K::rename_table, [&](const TableDiff&, const Change& c) {
      s_.add("ALTER TABLE " + quote(c.object) + " RENAME TO " + quote(c.to));
    });
    each(K::rename_column, [&](const TableDiff& td, const Change& c) {
      s_.add("ALTER TABLE " + quote(td.name) + " RENAME COLUMN " + quote(c.object) + " TO " + quote(c.to));
    });
    each(K::drop_policy, [&](const TableDiff& td, const Change& c) {
      s_.add("DROP POLICY " + quote(c.object) + " ON " + quote(td.name));
    });
    each(K::drop_foreign_key, [&](const TableDiff& td, const Change& c) {
      s_.add("ALTER TABLE " + quote(td.name) + " DROP CONSTRAINT " + quote(c.object));
    });
    each(K::drop_index, [&](const TableDiff&, const Change& c) { s_.add("DROP INDEX " + quote(c.object)); });
    for (const TableDiff& td : d_.tables)
      for (const Change& c : td.changes)
        if (c.kind == K::drop_unique || c.kind == K::drop_check || c.kind == K::drop_primary_key)
          s_.add("ALTER TABLE " + quote(td.name) + " DROP CONSTRAINT " + quote(c.object));

    std::set<std::string> exists;  // tables a foreign key may reference by now
    for (const catalog::Table& t : d_.from.tables) exists.insert(t.name);
    for (const TableDiff& td : d_.tables)
      if (!td.from_name.empty() && !td.dropped) exists.insert(td.name);
    std::vector<std::pair<std::string, const catalog::ForeignKey*>> later;
    for (const TableDiff& td : d_.tables)
      if (td.created) create_table(*d_.to.table(td.name), exists, later);

    for (const TableDiff& td : d_.tables)
      if (!td.created && !td.dropped) alter_table(td);

    for (const TableDiff& td : d_.tables) {
      if (td.created || td.dropped) continue;
      const catalog::Table& t = *d_.to.table(td.name);
      for (const Change& c : td.changes)
        if (c.kind == K::add_foreign_key) later.emplace_back(td.name, named(t.foreign_keys, c.object));
    }
    for (auto& [table, fk] : later)
      s_.add("ALTER TABLE " + quote(table) + " ADD " + foreign_key_definition(*fk),
             "validates every row of " + table + " against " + fk->parent_table +
                 " under a SHARE ROW EXCLUSIVE lock; fails if a row has no parent");

    for (const TableDiff& td : d_.tables) {
      if (td.dropped) continue;
      const catalog::Table& t = *d_.to.table(td.name);
      const std::string table = quote(td.name);
      for (const Change& c : td.changes) {
        if (c.kind == K::enable_row_security) s_.add("ALTER TABLE " + table + " ENABLE ROW LEVEL SECURITY");
        if (c.kind == K::force_row_security) s_.add("ALTER TABLE " + table + " FORCE ROW LEVEL SECURITY");
        if (c.kind == K::add_policy) s_.add(create_policy(td.name, *named(t.policies, c.object)));
        if (c.kind == K::no_force_row_security) s_.add("ALTER TABLE " + table + " NO FORCE ROW LEVEL SECURITY");
        if (c.kind == K::disable_row_security) s_.add("ALTER TABLE " + table + " DISABLE ROW LEVEL SECURITY");
      }
    }

    // Dropped tables last, those referenced by other dropped tables after them.
    std::vector<const TableDiff*> dropped;
    for (const TableDiff& td : d_.tables)
      if (td.dropped) dropped.push_back(&td);
    for (const TableDiff* td : children_first(dropped))
      s_.add("DROP TABLE " + quote(td->name), "deletes table " + td->name + " and every row in it");
    return std::move(s_);
  }

 private:
  template <class F>
  void each(Change::Kind kind, F&& f) {
    for (const TableDiff& td : d_.tables)
      for (const Change& c : td.changes)
        if (c.kind == kind) f(td, c);
  }

  std::vector<const TableDiff*> children_first(std::vector<const TableDiff*> tables) const {
    std::vector<const TableDiff*> out;
    while (!tables.empty()) {
      bool progressed = false;
      for (auto it = tables.begin(); it != tables.end();) {
        // Referenced by another table still to be dropped: not yet.
        const bool referenced = std::any_of(tables.begin(), tables.end(), [&](const TableDiff* other) {
          if (other == *it) return false;
          const catalog::Table* o = d_.from.table(other->name);
          return o != nullptr && std::any_of(o->foreign_keys.begin(), o->foreign_keys.end(),
                                             [&](const auto& fk) { return fk.parent_table == (*it)->name; });
        });
        if (referenced) {
          ++it;
          continue;
        }
        out.push_back(*it);
        it = tables.erase(it);
        progressed = true;
      }
      if (!progressed) {  // a cycle: any order, the foreign keys go with the first drop
        for (const TableDiff* t : tables) out.push_back(t);
        break;
      }
    }
    return out;
  }

  void create_table(const catalog::Table& t, std::set<std::string>& exists,
                    std::vector<std::pair<std::string, const catalog::ForeignKey*>>& later) {
    std::string sql = "CREATE TABLE " + quote(t.name) + " (";
    bool first = true;
    const auto item = [&](const std::string& x) {
      sql += first ? "\n  " : ",\n  ";
      sql += x;
      first = false;
    };
    for (const catalog::Column& c : t.columns) item(column_definition(c, nullptr, t.name));
    if (t.primary_key) item("CONSTRAINT " + quote(t.primary_key->name) + " PRIMARY KEY " + column_list(t.primary_key->columns));
    for (const catalog::Key& u : t.uniques) item("CONSTRAINT " + quote(u.name) + " UNIQUE " + column_list(u.columns));
    for (const catalog::Check& c : t.checks) item("CONSTRAINT " + quote(c.name) + " CHECK (" + c.expression + ")");
    exists.insert(t.name);  // a self-reference is fine inline
    for (const catalog::ForeignKey& fk : t.foreign_keys) {
      if (fk.parent_schema.empty() && exists.count(fk.parent_table) == 0) later.emplace_back(t.name, &fk);
      else item(foreign_key_definition(fk));
    }
    sql += "\n)";
    s_.note("new table " + t.name);
    s_.add_noted(std::move(sql));
    for (const catalog::Index& ix : t.indexes) s_.add(create_index(t.name, ix));
    for (const Seed& seed : d_.decisions.seeds)
      if (seed.table == t.name) s_.add(seed.sql, {}, "seed rows of " + t.name);
  }

  void alter_table(const TableDiff& td) {
    using K = Change::Kind;
    if (td.changes.empty()) return;
    const catalog::Table& t = *d_.to.table(td.name);
    const catalog::Table& f = *d_.from.table(td.from_name);
    const std::string table = quote(td.name);
    const std::string alter = "ALTER TABLE " + table + " ";
    bool noted = false;
    const auto add = [&](std::string sql, std::string risk = {}) {
      if (!noted) s_.note(td.name);
      noted = true;
      s_.add_noted(std::move(sql), std::move(risk));
    };
    for (const Change& c : td.changes) {
      if (c.kind == K::add_column) {
        const catalog::Column& col = *t.column(c.object);
        auto fill = td.fills.find(col.name);
        if (fill == td.fills.end()) {
          add(alter + "ADD COLUMN " + column_definition(col, nullptr, td.name));
        } else {
          add(alter + "ADD COLUMN " + column_definition(col, &fill->second),
              "fills every existing row with " + fill->second + " (without a table rewrite when it is a constant)");
          add(alter + "ALTER COLUMN " + quote(col.name) +
              (col.default_sql.empty() ? " DROP DEFAULT" : " SET DEFAULT " + col.default_sql));
        }
      } else if (c.kind == K::alter_generated) {
        const catalog::Column& col = *t.column(c.object);
        add(alter + "DROP COLUMN " + quote(col.name), "recomputes the generated column " + col.name);
        add(alter + "ADD COLUMN " + column_definition(col));
      }
    }
    // Type, default and nullability: the old default may not fit the new type, so it goes first.
    for (const catalog::Column& col : t.columns) {
      const auto src = td.source_column.find(col.name);
      if (src == td.source_column.end()) continue;
      const catalog::Column& old = *f.column(src->second);
      const std::string column = alter + "ALTER COLUMN " + quote(col.name);
      const bool type = has(td, K::alter_type, col.name);
      const bool default_changes = has(td, K::set_default, col.name) || has(td, K::drop_default, col.name);
      if (type && !old.default_sql.empty()) add(column + " DROP DEFAULT");
      if (has(td, K::drop_identity, col.name)) add(column + " DROP IDENTITY");
      if (type) {
        std::string using_expr;
        for (const auto& [name, expr] : td.copy)
          if (name == col.name && expr != quote(col.name)) using_expr = expr;
        add(column + " TYPE " + col.type + (using_expr.empty() ? "" : " USING " + using_expr),
            "rewrites table " + td.name + " under an ACCESS EXCLUSIVE lock (unless the types are binary compatible)");
      }
      if ((type && !col.default_sql.empty()) || (default_changes && !col.default_sql.empty()))
        add(column + " SET DEFAULT " + col.default_sql);
      else if (default_changes && !type) add(column + " DROP DEFAULT");
      if (has(td, K::drop_not_null, col.name)) add(column + " DROP NOT NULL");
      if (has(td, K::set_not_null, col.name)) {
        if (auto fill = td.fills.find(col.name); fill != td.fills.end())
          add("UPDATE " + table + " SET " + quote(col.name) + " = " + fill->second + " WHERE " + quote(col.name) + " IS NULL",
              "writes every row of " + td.name + " whose " + col.name + " is NULL");
        add(column + " SET NOT NULL", "scans table " + td.name + " under an ACCESS EXCLUSIVE lock; fails if a NULL remains");
      }
      if (has(td, K::add_identity, col.name)) {
        add(column + " ADD GENERATED " + col.identity + " AS IDENTITY");
        add("SELECT setval(pg_get_serial_sequence(" + literal(td.name) + ", " + literal(col.name) + "), COALESCE(MAX(" +
                quote(col.name) + "), 0) + 1, false) FROM " + table,
            {});
      }
    }
    for (const Change& c : td.changes) {
      if (c.kind == K::rename_constraint) add(alter + "RENAME CONSTRAINT " + quote(c.object) + " TO " + quote(c.to));
      if (c.kind == K::rename_index) add("ALTER INDEX " + quote(c.object) + " RENAME TO " + quote(c.to));
    }
    for (const Change& c : td.changes) {
      if (c.kind == K::add_primary_key)
        add(alter + "ADD CONSTRAINT " + quote(c.object) + " PRIMARY KEY " + column_list(t.primary_key->columns),
            "builds a unique index on " + td.name + " under an ACCESS EXCLUSIVE lock; fails if rows repeat the key");
      if (c.kind == K::add_unique)
        add(alter + "ADD CONSTRAINT " + quote(c.object) + " UNIQUE " + column_list(named(t.uniques, c.object)->columns),
            "builds a unique index on " + td.name + " under an ACCESS EXCLUSIVE lock; fails if existing rows repeat a value");
      if (c.kind == K::add_check)
        add(alter + "ADD CONSTRAINT " + quote(c.object) + " CHECK (" + named(t.checks, c.object)->expression + ")",
            "scans table " + td.name + " under an ACCESS EXCLUSIVE lock; fails if a row breaks it");
    }
    for (const Change& c : td.changes)
      if (c.kind == K::add_index) {
        const catalog::Index& ix = *named(t.indexes, c.object);
        add(create_index(td.name, ix), std::string("blocks writes to ") + td.name + " while the index builds" +
                                           (ix.unique ? "; fails if existing rows repeat a value" : ""));
      }
    for (const Change& c : td.changes)
      if (c.kind == K::drop_column)
        add(alter + "DROP COLUMN " + quote(c.object), "deletes column " + td.name + "." + c.object + " and its values");
  }

  static std::string literal(const std::string& s) {
    std::string out;
    tenantry::detail::quote_string(out, s);
    return out;
  }

  const SchemaDiff& d_;
  GeneratedScript s_;
};

}  // namespace pg_writer

/// The PostgreSQL statements that apply `diff` (see the header comment).
inline GeneratedScript write_postgres(const SchemaDiff& diff) { return pg_writer::Writer(diff).run(); }

}  // namespace tenantry::migrate
