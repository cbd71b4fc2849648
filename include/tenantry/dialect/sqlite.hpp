// tenantry/dialect/sqlite.hpp - how SQLite spells things.
//
// SQLite has five storage classes, so several kinds share one: booleans are INTEGER 0/1 (with a
// CHECK keeping them so), UUIDs and timestamps are TEXT in canonical form (fixed-width ISO-8601
// for timestamps, so text order is time order), JSON is TEXT with a json_valid CHECK.
// Placeholders are numbered (?1, ?2) so one value can be referenced twice.
#pragma once

#include "tenantry/dialect/common.hpp"
#include "tenantry/schema.hpp"

#include <string>
#include <string_view>

namespace tenantry {

struct SqliteDialect {
  static constexpr std::string_view name = "sqlite";
  static constexpr bool is_postgres = false;
  /// ON DELETE SET NULL (columns): null only some columns of a composite key (PostgreSQL 15+).
  static constexpr bool set_null_column_list = false;
  /// SQLite checks a table's indexes newest first, so of two violated UNIQUEs it reports the one
  /// created last (PostgreSQL: first). The primary key is reported before any UNIQUE either way.
  static constexpr bool reports_newest_unique_first = true;
  static constexpr bool supports_row_level_security = false;

  static void placeholder(std::string& out, int n) {
    out += '?';
    detail::append_number(out, std::int64_t{n});
  }
  static void quote(std::string& out, std::string_view ident) { detail::quote_identifier(out, ident); }

  static std::string column_type(const ColumnInfo& c) {
    if (!c.sql_type.empty()) return c.sql_type;
    switch (c.kind) {
      case Kind::integer:
      case Kind::boolean: return "INTEGER";
      case Kind::real: return "REAL";
      case Kind::blob: return "BLOB";
      case Kind::text:
      case Kind::uuid:
      case Kind::timestamp:
      case Kind::json: return "TEXT";
    }
    return "TEXT";
  }

  /// An identity key is a rowid alias: INTEGER PRIMARY KEY needs nothing more.
  static std::string_view identity_clause() { return {}; }

  static void literal(std::string& out, const Literal& l) {
    switch (l.type) {
      case Literal::Type::integer: detail::append_number(out, l.i); break;
      case Literal::Type::boolean: out += l.i ? "1" : "0"; break;
      case Literal::Type::real: detail::append_number(out, l.d); break;
      case Literal::Type::text: detail::quote_string(out, l.s); break;
      case Literal::Type::none: out += "NULL"; break;
    }
  }

  /// The current time in tenantry's fixed-width ISO-8601 form (SQLite gives milliseconds; the
  /// three extra zeros keep every stored timestamp 27 characters long).
  /// The DEFAULT of a default_now() column: the current UTC time in Timestamp's text form.
  static std::string_view now_expression(const ColumnInfo&) {
    return "(strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z')";
  }

  /// A random version 4 UUID in canonical lowercase text.
  static std::string_view uuid_expression() {
    return "(lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || "
           "substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (random() & 3), 1) || "
           "substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6))))";
  }

  /// CHECKs SQLite needs to hold a kind to its domain, which PostgreSQL's types do by
  /// themselves. Returns the constraint name suffix and the expression, or nothing.
  struct ImplicitCheck {
    std::string_view suffix;
    std::string expression;
  };
  static std::optional<ImplicitCheck> implicit_check(const ColumnInfo& c) {
    std::string col;
    quote(col, c.name);
    // Varchar<N>: SQLite ignores the N of VARCHAR(N); the CHECK holds the limit (in characters,
    // as PostgreSQL counts them). length(NULL) is NULL, which a CHECK lets through.
    if (c.max_length > 0) {
      std::string limit;
      detail::append_number(limit, std::int64_t{c.max_length});
      return ImplicitCheck{"length", "length(" + col + ") <= " + limit};
    }
    if (!c.sql_type.empty()) return std::nullopt;
    if (c.kind == Kind::boolean) return ImplicitCheck{"bool", col + " IN (0, 1)"};
    // json_valid(NULL) is 0 before SQLite 3.45, so a nullable column must let NULL through.
    if (c.kind == Kind::json)
      return ImplicitCheck{"json",
                           c.nullable ? col + " IS NULL OR json_valid(" + col + ")" : "json_valid(" + col + ")"};
    return std::nullopt;
  }
};

}  // namespace tenantry
