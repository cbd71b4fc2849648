// tenantry/migration_writer_sqlite.hpp - a SchemaDiff as SQLite statements.
//
// SQLite's ALTER TABLE can rename a table or a column, add a plain column and drop indexes;
// every other change to a table (a constraint, a type, NOT NULL, a default, dropping a column)
// is made with the table rebuild SQLite documents (https://sqlite.org/lang_altertable.html,
// "Making Other Kinds Of Table Schema Changes"):
//
//   PRAGMA foreign_keys = OFF;            -- outside the transaction: a no-op inside one
//   BEGIN;
//   PRAGMA legacy_alter_table = ON;       -- the renames below leave views and triggers alone
//   CREATE TABLE "_tenantry_new_t" (...); -- the target's CREATE TABLE text, under a new name
//   INSERT INTO "_tenantry_new_t" (...) SELECT ... FROM "t";
//   DROP TABLE "t";
//   ALTER TABLE "_tenantry_new_t" RENAME TO "t";
//   CREATE INDEX ...; CREATE TRIGGER ...;  -- the target's indexes, the table's triggers
//   PRAGMA legacy_alter_table = OFF;
//   -- PRAGMA foreign_key_check, made to abort the transaction if it reports anything
//   COMMIT;
//   PRAGMA foreign_keys = ON;
//
// Such a file is marked `-- tenantry:no-transaction` and opens its own transaction, so all of it
// commits or none of it does; the runner puts PRAGMA foreign_keys and legacy_alter_table back as
// they were whatever happens. Foreign keys must be off for the rebuild: DROP TABLE with foreign
// keys on deletes the table's rows first and fires their ON DELETE actions. A diff with no
// rebuild is an ordinary transactional file.
//
// Renames come first, with legacy_alter_table off, so that SQLite rewrites the references to
// the renamed table or column in other tables' foreign keys; a rebuilt table's new CREATE TABLE
// text keeps the target's exact text, which is what sqlite_schema will hold afterwards.
#pragma once

#include "tenantry/catalog.hpp"
#include "tenantry/migration_script.hpp"
#include "tenantry/schema_diff.hpp"
#include "tenantry/sql_text.hpp"

#include <set>
#include <string>
#include <vector>

namespace tenantry::migrate {

namespace sqlite_writer {

using detail::quote;

inline constexpr std::string_view rebuild_prefix = "_tenantry_new_";

/// The reasons table `td` must be rebuilt; empty when ALTER TABLE can make its changes.
inline std::vector<std::string> rebuild_reasons(const SchemaDiff& d, const TableDiff& td) {
  using K = Change::Kind;
  std::vector<std::string> out;
  if (td.created || td.dropped) return out;
  const catalog::Table& t = *d.to.table(td.name);
  for (const Change& c : td.changes) {
    switch (c.kind) {
      case K::rename_table:
      case K::rename_column:
      case K::add_index:
      case K::drop_index:
      case K::rename_index: break;
      case K::add_column: {
        const catalog::Column& col = *t.column(c.object);
        const bool pk = t.primary_key && std::find(t.primary_key->columns.begin(), t.primary_key->columns.end(),
                                                   col.name) != t.primary_key->columns.end();
        const std::string def = detail::lower(col.default_sql);
        const bool constant_default = !def.empty() && def != "null" && def.find('(') == std::string::npos &&
                                      !def.starts_with("current_");
        // ALTER TABLE ADD COLUMN: not a key, no fill, and NOT NULL only with a constant default.
        if (pk || td.fills.count(col.name) != 0 || (col.not_null && !constant_default) || !col.generated.empty())
          out.push_back(c.detail);
        break;
      }
      default: out.push_back(c.detail);
    }
  }
  return out;
}

/// The column definition text of `column` in the table's CREATE TABLE text.
inline std::string column_definition(const catalog::Table& t, const std::string& column) {
  for (const auto& c : sql_text::parse_create_table(t.sql).columns)
    if (c.name == column) return c.definition;
  throw Error("tenantry: migrate: column '" + column + "' not found in the CREATE TABLE text of '" + t.name + "'");
}

inline std::string guard(const Guard& g) {
  return "CREATE TEMP TABLE \"_tenantry_guard\" (\n  \"n\" INTEGER CONSTRAINT " + quote(g.name) +
         " CHECK (\"n\" = 0)\n);\nINSERT INTO \"_tenantry_guard\" SELECT (" + g.count_sql +
         ");\nDROP TABLE \"_tenantry_guard\"";
}

class Writer {
 public:
  explicit Writer(const SchemaDiff& d) : d_(d) {}

  GeneratedScript run() {
    using K = Change::Kind;
    bool rebuild = false;
    for (const TableDiff& td : d_.tables) rebuild = rebuild || !rebuild_reasons(d_, td).empty();
    // Dropping a table with foreign keys on would delete its rows first (firing ON DELETE
    // actions in other tables) and fail on rows that reference it: drop with them off too.
    for (const TableDiff& td : d_.tables) rebuild = rebuild || td.dropped;
    s_.no_transaction = rebuild;
    if (rebuild) {
      s_.add("PRAGMA foreign_keys = OFF");
      s_.add("BEGIN IMMEDIATE");
    }
    for (const Guard& g : d_.decisions.guards) {
      s_.note("guard: " + g.message);
      s_.add_noted(guard(g));
    }
    for (const TableDiff& td : d_.tables)
      for (const Change& c : td.changes)
        if (c.kind == K::rename_table) s_.add("ALTER TABLE " + quote(c.object) + " RENAME TO " + quote(c.to));
    for (const TableDiff& td : d_.tables)
      for (const Change& c : td.changes)
        if (c.kind == K::rename_column)
          s_.add("ALTER TABLE " + quote(td.name) + " RENAME COLUMN " + quote(c.object) + " TO " + quote(c.to));
    if (rebuild) s_.add("PRAGMA legacy_alter_table = ON");

    for (const TableDiff& td : d_.tables) {
      if (!td.created) continue;
      const catalog::Table& t = *d_.to.table(td.name);
      s_.note("new table " + t.name);
      s_.add_noted(t.sql);
      for (const catalog::Index& ix : t.indexes) s_.add(ix.sql);
      for (const Seed& seed : d_.decisions.seeds)
        if (seed.table == t.name) s_.add(seed.sql, {}, "seed rows of " + t.name);
    }
    for (const TableDiff& td : d_.tables) {
      if (td.created || td.dropped || td.changes.empty()) continue;
      const std::vector<std::string> reasons = rebuild_reasons(d_, td);
      if (reasons.empty()) alter_table(td);
      else rebuild_table(td, reasons);
    }
    for (const TableDiff& td : d_.tables)
      if (td.dropped) s_.add("DROP TABLE " + quote(td.name), "deletes table " + td.name + " and every row in it");

    if (rebuild) {
      s_.add("PRAGMA legacy_alter_table = OFF");
      s_.note("PRAGMA foreign_key_check, made to fail: the pragma only lists violations, so its rows are");
      s_.note("counted into a table whose CHECK refuses any count but 0, which aborts the transaction.");
      s_.add_noted(
          "CREATE TEMP TABLE \"_tenantry_fk_check\" (\n  \"violations\" INTEGER CONSTRAINT "
          "\"foreign_key_check_found_violations\" CHECK (\"violations\" = 0)\n);\n"
          "INSERT INTO \"_tenantry_fk_check\" SELECT COUNT(*) FROM pragma_foreign_key_check;\n"
          "DROP TABLE \"_tenantry_fk_check\"");
      s_.add("COMMIT");
      s_.add("PRAGMA foreign_keys = ON");
    }
    return std::move(s_);
  }

 private:
  void alter_table(const TableDiff& td) {
    using K = Change::Kind;
    const catalog::Table& t = *d_.to.table(td.name);
    bool noted = false;
    const auto add = [&](std::string sql, std::string risk = {}) {
      if (!noted) s_.note(td.name);
      noted = true;
      s_.add_noted(std::move(sql), std::move(risk));
    };
    for (const Change& c : td.changes) {
      if (c.kind == K::drop_index) add("DROP INDEX " + quote(c.object));
      if (c.kind == K::rename_index) add("DROP INDEX " + quote(c.object));  // SQLite cannot rename an index
    }
    for (const Change& c : td.changes)
      if (c.kind == K::add_column) add("ALTER TABLE " + quote(td.name) + " ADD COLUMN " + column_definition(t, c.object));
    for (const Change& c : td.changes) {
      const std::string name = c.kind == K::rename_index ? c.to : c.object;
      if (c.kind != K::add_index && c.kind != K::rename_index) continue;
      for (const catalog::Index& ix : t.indexes)
        if (ix.name == name)
          add(ix.sql, ix.unique ? "fails if existing rows of " + td.name + " repeat a value" : std::string{});
    }
  }

  void rebuild_table(const TableDiff& td, const std::vector<std::string>& reasons) {
    const catalog::Table& t = *d_.to.table(td.name);
    const catalog::Table& f = *d_.from.table(td.from_name);
    const std::string temp = std::string(rebuild_prefix) + td.name;
    std::string why;
    for (const auto& r : reasons) why += "\n  " + r;
    s_.note(td.name + ": rebuilt, for:" + why);
    s_.add_noted(sql_text::rename_created_table(t.sql, temp),
                 "rebuilds table " + td.name + ": copies every row, holding the write lock until COMMIT");
    // Every target column that had a source takes its (converted) values; NULLs of a column
    // made NOT NULL take the fill value; new columns take theirs, or their default.
    std::string cols, values;
    const auto put = [&](const std::string& column, const std::string& expr) {
      cols += (cols.empty() ? "" : ", ") + quote(column);
      values += (values.empty() ? "" : ", ") + expr;
    };
    for (const auto& [column, expr] : td.copy) {
      const auto fill = td.fills.find(column);
      put(column, fill == td.fills.end() ? expr : "COALESCE(" + expr + ", " + fill->second + ")");
    }
    for (const auto& [column, expr] : td.fills)
      if (td.source_column.count(column) == 0) put(column, expr);
    const std::string dropped_note = dropped_columns(td);
    s_.add("INSERT INTO " + quote(temp) + " (" + cols + ")\nSELECT " + values + "\nFROM " + quote(td.name),
           dropped_note);
    s_.add("DROP TABLE " + quote(td.name));
    s_.add("ALTER TABLE " + quote(temp) + " RENAME TO " + quote(td.name));
    for (const catalog::Index& ix : t.indexes) s_.add(ix.sql);
    for (const catalog::Trigger& tr : f.triggers) s_.add(tr.sql);
  }

  std::string dropped_columns(const TableDiff& td) const {
    std::string out;
    for (const Change& c : td.changes)
      if (c.kind == Change::Kind::drop_column)
        out += (out.empty() ? "" : "; ") + ("deletes column " + td.name + "." + c.object + " and its values");
    return out.empty() ? std::string{} : out + " (left out of the copy)";
  }

  const SchemaDiff& d_;
  GeneratedScript s_;
};

}  // namespace sqlite_writer

/// The SQLite statements that apply `diff` (see the header comment).
inline GeneratedScript write_sqlite(const SchemaDiff& diff) { return sqlite_writer::Writer(diff).run(); }

}  // namespace tenantry::migrate
