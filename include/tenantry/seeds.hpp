// tenantry/seeds.hpp - seed rows declared next to an entity, shipped in a migration, idempotent.
//
//   struct Plan {
//     std::int64_t id;
//     std::string name;
//   };
//   template <> struct tenantry::entity<Plan> {
//     static constexpr std::string_view table = "plans";
//     static constexpr auto scope = tenantry::global;
//     static constexpr auto primary_key = key(&Plan::id);
//     static std::vector<Plan> seed_rows() { return {{1, "free"}, {2, "team"}}; }
//   };
//   std::string sql = tenantry::seed_script<tenantry::PgDialect, Plan>();   // a migration's text
//
// Seed rows are rows every database of the application needs (plans, roles, the default org).
// They are declared as values of the entity, in `entity<T>::seed_rows()`, so they are checked
// by the compiler like any other row and written with the types' own encoding. seed_sql()
// turns them into statements that can run any number of times: one
// `INSERT ... VALUES ... ON CONFLICT DO NOTHING` per entity (a row whose key, or any UNIQUE, is
// already there is left as it is: re-applying inserts nothing twice and never overwrites what
// the application changed since), and on PostgreSQL, for a SERIAL or identity key, a setval()
// that moves its sequence past the seeded keys (never backwards), so the next generated key does
// not collide with one. Give seed rows their keys explicitly: that is what makes them idempotent.
//
// They ship in a migration: as Decisions::up.seeds of a generated one (entity_seeds(), run
// right after the table is created), or as a migration file of their own (seed_script()) for a
// table that exists already, e.g. an adopted database. Values are written as SQL literals by
// each dialect's quoting (the migration file is SQL text); they come from the program, never from
// user input.
#pragma once

#include "tenantry/ddl.hpp"
#include "tenantry/reflect.hpp"
#include "tenantry/schema.hpp"
#include "tenantry/schema_diff.hpp"
#include "tenantry/types.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tenantry {

/// True for entities that declare `static std::vector<T> seed_rows()`.
template <class E>
concept has_seed_rows = requires {
  { entity<E>::seed_rows() } -> std::convertible_to<std::vector<E>>;
};

namespace detail {

/// A statement look-alike whose bind_* calls write SQL literals of dialect D: value_traits<T>
/// binds into it exactly as into a driver's statement, so every type (user mappings included)
/// is written as it would be bound.
template <class D>
class LiteralWriter {
 public:
  static constexpr bool is_postgres = D::is_postgres;  // as the drivers' statements say it
  explicit LiteralWriter(std::size_t n) : values_(n) {}
  const std::vector<std::string>& values() const noexcept { return values_; }

  void bind_null(int i) { at(i) = "NULL"; }
  void bind_int(int i, std::int64_t v) {
    std::string& o = at(i);
    o.clear();
    append_number(o, v);
  }
  void bind_double(int i, double v) {
    std::string& o = at(i);
    o.clear();
    append_number(o, v);
  }
  void bind_bool(int i, bool v) {
    if constexpr (D::is_postgres) at(i) = v ? "TRUE" : "FALSE";
    else at(i) = v ? "1" : "0";
  }
  void bind_text(int i, std::string_view v) { string(i, v); }
  void bind_json(int i, std::string_view v) {
    require_json(v, i);
    string(i, v);
  }
  void bind_uuid(int i, const Uuid& v) { string(i, v.to_string()); }
  void bind_timestamp(int i, Timestamp v) { string(i, v.to_iso()); }  // "...Z": UTC in both types
  void bind_blob(int i, std::span<const std::byte> v) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string o = D::is_postgres ? "'\\x" : "X'";
    for (const std::byte b : v) {
      o += hex[static_cast<unsigned>(b) >> 4];
      o += hex[static_cast<unsigned>(b) & 0xF];
    }
    o += '\'';
    at(i) = std::move(o);
  }
  std::string_view keep(std::string value) { return kept_.emplace_back(std::move(value)); }

 private:
  std::string& at(int i) { return values_.at(static_cast<std::size_t>(i - 1)); }
  void string(int i, std::string_view v) {
    std::string& o = at(i);
    o.clear();
    quote_string(o, v);
  }
  std::vector<std::string> values_;
  std::deque<std::string> kept_;
};

}  // namespace detail

/// The statements that insert E's seed rows on dialect D, idempotently (see the header
/// comment); empty when E declares none.
template <class D, class E>
std::vector<std::string> seed_sql() {
  std::vector<std::string> out;
  if constexpr (has_seed_rows<E>) {
    const std::vector<E> rows = entity<E>::seed_rows();
    if (rows.empty()) return out;
    const TableInfo& t = table_info<E>();
    std::string table;
    D::quote(table, t.name);
    std::string sql = "INSERT INTO " + table + " (";
    for (std::size_t i = 0; i < t.columns.size(); ++i) {
      if (i) sql += ", ";
      D::quote(sql, t.columns[i].name);
    }
    sql += ") VALUES";
    for (std::size_t r = 0; r < rows.size(); ++r) {
      detail::LiteralWriter<D> w(t.columns.size());
      reflect::for_each_field(rows[r],
                              [&](const auto& field, auto I) { bind_value(w, static_cast<int>(I.value) + 1, field); });
      sql += r ? ",\n  (" : "\n  (";
      for (std::size_t i = 0; i < w.values().size(); ++i) sql += (i ? ", " : "") + w.values()[i];
      sql += ')';
    }
    sql += "\nON CONFLICT DO NOTHING";
    out.push_back(std::move(sql));
    if constexpr (D::is_postgres) {
      for (const ColumnInfo& c : t.columns) {
        if (!c.identity) continue;
        std::string table_text, column;
        detail::quote_string(table_text, table);
        detail::quote_string(column, c.name);
        const std::string seq = "pg_get_serial_sequence(" + table_text + ", " + column + ")";
        std::string col;
        D::quote(col, c.name);
        // Never backwards, and consuming no value: re-applied, it leaves the sequence as it was.
        out.push_back("SELECT setval(" + seq + ", GREATEST(max(" + col + "), COALESCE(pg_sequence_last_value(" + seq +
                      "::regclass), 0))) FROM " + table + " HAVING max(" + col + ") IS NOT NULL");
      }
    }
  }
  return out;
}

/// The seed statements of Es on D as one script, each ended by ";\n": the text of a migration
/// file (e.g. NNNN_seed_rows.up.sql) that may be applied to a database holding them already.
template <class D, class... Es>
std::string seed_script() {
  std::string out;
  (
      [&] {
        for (const std::string& s : seed_sql<D, Es>()) out += s + ";\n";
      }(),
      ...);
  return out;
}

namespace migrate {

/// The seed rows of Es as Decisions::up.seeds of a generated migration: each entity's run
/// right after the migration creates its table (migration_writer_*.hpp).
template <class D, class... Es>
std::vector<Seed> entity_seeds() {
  std::vector<Seed> out;
  (
      [&] {
        for (std::string& s : seed_sql<D, Es>()) out.push_back(Seed{table_info<Es>().name, std::move(s)});
      }(),
      ...);
  return out;
}

}  // namespace migrate

}  // namespace tenantry
