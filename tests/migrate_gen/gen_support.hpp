// Helpers for the migration generator's tests (tests/migrate_gen/*.cpp): the app tests' helpers
// (databases of both dialects, plain queries, schema snapshots; tests/app/app_support.hpp) plus
// the app's entity schema and a line diff for messages.
#pragma once

#include "app/app_support.hpp"

#include "app/schema.hpp"

#include <tenantry/catalog.hpp>

#include <string>
#include <type_traits>
#include <vector>

namespace gen_test {

using namespace app_test;

/// The schema the app's entities describe on `db`'s dialect (PostgreSQL: with row-level security
/// when `rls`).
inline tenantry::catalog::Schema app_entity_schema(tenantry::Database& db, bool rls) {
  return [&]<class... Es>(std::type_identity<std::tuple<Es...>>) {
    return tenantry::catalog::entity_schema<Es...>(db, tenantry::DdlOptions{.row_level_security = rls});
  }(std::type_identity<app::AllEntities>{});
}

/// The lines only in `a` ("- ") and only in `b` ("+ ").
inline std::string line_diff(const std::vector<std::string>& a, const std::vector<std::string>& b) { return diff(a, b); }

}  // namespace gen_test
