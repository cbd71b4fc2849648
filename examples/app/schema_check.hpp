// examples/app/schema_check.hpp - does a database hold the schema the app's code expects?
//
//   auto differences = app::main_schema_drift(db, rls_applied);   // empty: it does
//   app::check_main_schema(db, rls_applied);                        // throws SchemaDriftError
//
// What `tenantry-app migrate status` reports (and exits non-zero for), and what the app checks
// when it starts serving: the live catalog against the entities (tenantry/drift.hpp).
#pragma once

#include "schema.hpp"

#include <tenantry/catalog.hpp>
#include <tenantry/drift.hpp>

#include <string>
#include <type_traits>
#include <vector>

namespace app {

/// The differences between the main database and the app's entities (PostgreSQL: with the
/// row-level security policies when `row_level_security`, i.e. once 0003 is applied).
template <class Conn>
std::vector<std::string> main_schema_drift(Conn& db, bool row_level_security) {
  return [&]<class... Es>(std::type_identity<std::tuple<Es...>>) {
    const tenantry::DdlOptions ddl{.row_level_security = row_level_security};
    return tenantry::schema_drift(db, tenantry::catalog::entity_schema<Es...>(db, ddl));
  }(std::type_identity<AllEntities>{});
}

/// Throws tenantry::SchemaDriftError when main_schema_drift() finds a difference.
template <class Conn>
void check_main_schema(Conn& db, bool row_level_security) {
  std::vector<std::string> d = main_schema_drift(db, row_level_security);
  if (!d.empty()) throw tenantry::SchemaDriftError(std::move(d));
}

/// The differences between a separate session database and its one table.
template <class Conn>
std::vector<std::string> sessions_schema_drift(Conn& db, bool postgres) {
  const tenantry::TableInfo t = standalone_sessions_table();
  const auto statements = [&]<class D>() {
    std::string ddl = tenantry::create_table_sql<D>(t) + ";\n";
    for (const auto& s : tenantry::create_index_sql<D>(t)) ddl += s + ";\n";
    return ddl;
  };
  const std::string ddl = postgres ? statements.template operator()<tenantry::PgDialect>()
                                   : statements.template operator()<tenantry::SqliteDialect>();
  return tenantry::schema_drift(db, tenantry::catalog::describe_ddl(db, ddl, {t.name}));
}

}  // namespace app
