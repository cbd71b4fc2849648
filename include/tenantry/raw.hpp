// tenantry/raw.hpp - the sanctioned raw SQL path, for what the query builder cannot say.
//
//   struct Row { std::string name; std::int64_t n; };
//   std::vector<Row> rows = tenantry::raw_query<Row>(db, org,
//       "SELECT name, count(*) AS n FROM api_tokens WHERE org_id = $1 AND name LIKE $2 GROUP BY name",
//       std::string("ci-%"));
//   std::int64_t changed = tenantry::raw_execute(db, org, "UPDATE api_tokens SET ... WHERE org_id = $1 AND ...", ...);
//
// The SQL text is the caller's, so the org rule is the caller's too: raw SQL is the one place
// a statement can forget an org filter. What the library still guarantees:
//   * every value is bound as a parameter: with an org, $1 (?1 on SQLite) is the org and the
//     arguments follow from $2; without one they start at $1. Nothing is spliced into the text;
//   * with an org, the statement runs in the org's database context (org_context.hpp): the
//     row-level security setting and the schema search_path are set, so on a connection with
//     RLS an unfiltered raw read still sees only that org's rows;
//   * with tenantry::platform (types.hpp, PlatformScope) in place of the org, the statement runs
//     in the platform context: on a connection with RLS the tables whose org column is optional
//     show their rows of no org only, and plain org-scoped tables fail (OrgContextMissing); the
//     arguments start at $1 (there is no org to bind);
//   * result columns are mapped to the struct's fields by name; a field without a column, or a
//     column without a field, is a UsageError naming it.
// Every use is spelled raw_query / raw_execute, so a review can find them all with one grep.
// The text must be a constant of the program (it is interned, like every statement's text).
#pragma once

#include "tenantry/error.hpp"
#include "tenantry/org_context.hpp"
#include "tenantry/reflect.hpp"
#include "tenantry/sql_registry.hpp"
#include "tenantry/statement_lease.hpp"
#include "tenantry/types.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tenantry {

namespace raw_detail {

template <class Stmt>
struct ResetOnExit {
  Stmt& s;
  ~ResetOnExit() { s.reset(); }
};

// For each field of R, the result column of the same name.
template <class R, class Stmt>
std::array<int, reflect::field_count<R>> column_map(const Stmt& s, std::string_view sql) {
  constexpr auto names = reflect::field_names<R>;
  std::array<int, reflect::field_count<R>> map{};
  map.fill(-1);
  const int n = s.column_count();
  for (int c = 0; c < n; ++c) {
    const std::string name = s.column_name(c);
    bool found = false;
    for (std::size_t f = 0; f < names.size(); ++f)
      if (names[f] == name) {
        map[f] = c;
        found = true;
      }
    if (!found)
      throw UsageError("tenantry: raw query column '" + name + "' has no field of that name in the result struct (" +
                       std::string(sql.substr(0, 80)) + ")");
  }
  for (std::size_t f = 0; f < names.size(); ++f)
    if (map[f] < 0)
      throw UsageError("tenantry: raw query returns no column named '" + std::string(names[f]) +
                       "' for the result struct's field of that name (" + std::string(sql.substr(0, 80)) + ")");
  return map;
}

template <class Conn, class R, class O, class... Args>
std::vector<R> query(Conn& conn, const O* org, std::string_view sql, const Args&... args) {
  static_assert(!std::is_void_v<R>, "tenantry: raw_query<Row>: name the result struct");
  const Sql text = intern_sql(std::string(sql));
  auto& s = conn.prepare(text);
  const StatementLease lease(&s);
  ResetOnExit<std::remove_reference_t<decltype(s)>> guard{s};
  int p = 1;
  if (org) bind_value(s, p++, *org);
  (bind_value(s, p++, args), ...);
  std::vector<R> out;
  std::array<int, reflect::field_count<R>> map{};
  bool mapped = false;
  while (s.step()) {
    if (!mapped) {
      map = column_map<R>(s, sql);
      mapped = true;
    }
    R& row = out.emplace_back();
    reflect::for_each_field(row, [&](auto& field, auto I) { read_value(s, map[I.value], field); });
  }
  return out;
}

template <class Conn, class O, class... Args>
std::int64_t execute(Conn& conn, const O* org, std::string_view sql, const Args&... args) {
  const Sql text = intern_sql(std::string(sql));
  auto& s = conn.prepare(text);
  const StatementLease lease(&s);
  ResetOnExit<std::remove_reference_t<decltype(s)>> guard{s};
  int p = 1;
  if (org) bind_value(s, p++, *org);
  (bind_value(s, p++, args), ...);
  while (s.step()) {
  }
  return s.changes();
}

}  // namespace raw_detail

/// Rows of raw SQL run in org's context, $1 bound to the org, args from $2; see the header comment.
/// `org` is any org type (OrgId, TextOrgId, IntOrgId): $1 takes that type's column type.
template <class R, class Conn, org_id_type O, class... Args>
std::vector<R> raw_query(Conn& conn, const O& org, std::string_view sql, const Args&... args) {
  if constexpr (requires { conn.visit([](auto&) {}); }) {
    return conn.visit([&](auto& c) { return raw_query<R>(c, org, sql, args...); });
  } else {
    require_org(org, "raw_query");
    return in_org_context(conn, org, [&] { return raw_detail::query<Conn, R, O>(conn, &org, sql, args...); });
  }
}

/// Rows of raw SQL run in the platform context, args from $1; see the header comment.
template <class R, class Conn, class... Args>
std::vector<R> raw_query(Conn& conn, PlatformScope p, std::string_view sql, const Args&... args) {
  if constexpr (requires { conn.visit([](auto&) {}); }) {
    return conn.visit([&](auto& c) { return raw_query<R>(c, p, sql, args...); });
  } else {
    return in_platform_context(conn, [&] { return raw_detail::query<Conn, R, OrgId>(conn, nullptr, sql, args...); });
  }
}

/// Rows of raw SQL on global tables: no org, args from $1.
template <class R, class Conn, class... Args>
  requires(!org_id_type<Conn>)
std::vector<R> raw_query_global(Conn& conn, std::string_view sql, const Args&... args) {
  if constexpr (requires { conn.visit([](auto&) {}); }) {
    return conn.visit([&](auto& c) { return raw_query_global<R>(c, sql, args...); });
  } else {
    return raw_detail::query<Conn, R, OrgId>(conn, nullptr, sql, args...);
  }
}

/// Runs raw SQL (INSERT/UPDATE/DELETE) in org's context, $1 bound to the org; returns the rows
/// changed.
template <class Conn, org_id_type O, class... Args>
std::int64_t raw_execute(Conn& conn, const O& org, std::string_view sql, const Args&... args) {
  if constexpr (requires { conn.visit([](auto&) {}); }) {
    return conn.visit([&](auto& c) { return raw_execute(c, org, sql, args...); });
  } else {
    require_org(org, "raw_execute");
    return in_org_context(conn, org, [&] { return raw_detail::execute(conn, &org, sql, args...); });
  }
}

/// Runs raw SQL in the platform context, args from $1; returns the rows changed.
template <class Conn, class... Args>
std::int64_t raw_execute(Conn& conn, PlatformScope p, std::string_view sql, const Args&... args) {
  if constexpr (requires { conn.visit([](auto&) {}); }) {
    return conn.visit([&](auto& c) { return raw_execute(c, p, sql, args...); });
  } else {
    return in_platform_context(conn, [&] { return raw_detail::execute<Conn, OrgId>(conn, nullptr, sql, args...); });
  }
}

}  // namespace tenantry
