// Shared by the bad-input catalogue (tests/bad_input/*.cpp, executable tenantry-bad-input).
//
// Every repository-level case runs on a SQLite file and on the real PostgreSQL (the parity
// backends, tests/support/backends.hpp). The rule each case checks: a bad input either makes an
// exact round trip or fails with one specific typed error, and *nothing else in the database
// changes*. "Nothing else" is checked with a snapshot of every row of every table, taken with
// plain SQL (no repository), byte for byte:
//
//   SQLite      typeof(c) || ':' || hex(c) for every column, so text, blob, integer and real
//               are told apart and every byte (NUL included) counts
//   PostgreSQL  the row's own text form, t::text
//
//   badinput::World<B>   B::open() plus two orgs with background rows in every org-scoped table
//                        and a global row in settings; snapshot() / unchanged() compare
//
// docs/reliability.md, "Bad input", lists each case and what the library does.
#pragma once

#include "support/backends.hpp"

#include <tenantry/migrate.hpp>

#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <string_view>
#include <vector>

#define BAD_INPUT_BACKENDS parity::SqliteFile, parity::Postgres

namespace badinput {

using tenantry::OrgId;

/// table name -> its rows as text, sorted.
using Snapshot = std::map<std::string, std::vector<std::string>>;

template <class Conn>
std::vector<std::string> column_texts(Conn& conn, const std::string& sql) {
  std::vector<std::string> out;
  parity::raw_query(conn, sql, [&](auto& st) { out.push_back(st.column_is_null(0) ? "<NULL>" : std::string(st.column_text(0))); });
  return out;
}

/// Every row of every table, read with plain SQL.
template <class Conn>
Snapshot snapshot(Conn& conn) {
  Snapshot out;
  if constexpr (Conn::dialect::is_postgres) {
    for (const std::string& table : column_texts(conn, "SELECT table_name::text FROM information_schema.tables "
                                                       "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"))
      out[table] = column_texts(conn, "SELECT t::text FROM \"" + table + "\" t ORDER BY 1");
  } else {
    for (const std::string& table :
         column_texts(conn, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")) {
      std::string row;
      for (const std::string& column : column_texts(conn, "SELECT name FROM pragma_table_info('" + table + "')"))
        row += (row.empty() ? "" : " || '|' || ") + std::string("typeof(\"") + column + "\") || ':' || hex(\"" + column + "\")";
      out[table] = column_texts(conn, "SELECT " + row + " FROM \"" + table + "\" ORDER BY 1");
    }
  }
  return out;
}

/// A fresh database of backend B with background rows in two orgs. Bad inputs are written in
/// org `a`; the rows of both orgs, and the global rows, must come through every case untouched.
template <class B>
struct World {
  typename B::Conn conn = B::open();
  OrgId a = parity::add_org(conn, "org-a");
  OrgId b = parity::add_org(conn, "org-b");
  Snapshot before;

  World() {
    for (const OrgId& org : {a, b}) {
      parity::Repo<B, fixtures::ApiToken> tokens{conn};
      for (int i = 0; i < 3; ++i) tokens.insert(org, testdb::make_token("bg-" + std::to_string(i)));
      parity::Repo<B, fixtures::Gadget> gadgets{conn};
      for (int i = 0; i < 2; ++i) gadgets.insert(org, testdb::make_gadget("bg-" + std::to_string(i)));
    }
    parity::Repo<B, fixtures::Setting> settings{conn};
    settings.insert(fixtures::Setting{"global", "background", "kept"});
    before = snapshot(conn);
    REQUIRE(before.at("api_tokens").size() == 6);
    REQUIRE(before.at("gadgets").size() == 4);
  }

  /// Checks that the database holds exactly what it held after construction.
  void unchanged() {
    const Snapshot now = snapshot(conn);
    REQUIRE(now.size() == before.size());
    for (const auto& [table, rows] : before) {
      INFO("table " << table);
      CHECK(now.at(table) == rows);
    }
  }
};

/// The exception's message contains every one of `parts`.
template <class E>
void message_has(const E& e, std::initializer_list<std::string_view> parts) {
  const std::string what = e.what();
  for (std::string_view p : parts) {
    INFO("message: " << what);
    CHECK(what.find(p) != std::string::npos);
  }
}

}  // namespace badinput
