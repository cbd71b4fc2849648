// examples/app/schema.hpp - the reference app's full schema, in either dialect, and the migration
// files generated from it.
//
//   std::string ddl = app::app_schema<tenantry::PgDialect>();   // the whole schema as one script
//   app::create_app_schema(db);                                  // a fresh database, directly
//   for (auto& f : app::generated_migration_files<tenantry::SqliteDialect>()) ...
//                                                                // what `schema --write` writes
#pragma once

#include "entities.hpp"

#include <tenantry/ddl.hpp>
#include <tenantry/dialect/postgres.hpp>
#include <tenantry/dialect/sqlite.hpp>
#include <tenantry/fwd.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

namespace app {

/// Every table of the app, parents first: organizations, then the ten org-scoped tables.
using AllEntities = std::tuple<Organization, DownloadRequest, UserAccessRequest, ApiToken, ApiModelAlias, ModelMetadata,
                               AppToolsetConfig, Toolset, UserAlias, AppAccessRequest, SessionRecord>;

/// The tables of a session database of its own (SESSION_DB_URL): tower_sessions alone.
using SessionDbEntities = std::tuple<SessionRecord>;

/// The ten org-scoped entities, for code that visits each tenant table (e.g. per-org counts).
using OrgScopedEntities = std::tuple<DownloadRequest, UserAccessRequest, ApiToken, ApiModelAlias, ModelMetadata,
                                     AppToolsetConfig, Toolset, UserAlias, AppAccessRequest, SessionRecord>;

/// Calls f(std::type_identity<E>{}) for each entity E of a std::tuple<E...> list, in order.
template <class Entities, class F>
void for_each_entity(F&& f) {
  [&]<class... Es>(std::type_identity<std::tuple<Es...>>) {
    (f(std::type_identity<Es>{}), ...);
  }(std::type_identity<Entities>{});
}

/// CREATE TABLE / CREATE INDEX for every table of the app, as one script. organizations comes
/// first: every other table references it. With DdlOptions::row_level_security, PostgreSQL also
/// gets each org-scoped table's isolation policy.
template <class D>
std::string app_schema(tenantry::DdlOptions options = {}) {
  return [&]<class... Es>(std::type_identity<std::tuple<Es...>>) {
    return tenantry::schema_sql<D, Es...>(options);
  }(std::type_identity<AllEntities>{});
}

/// Creates the whole schema on `db` in one transaction (all tables or none). For tests and ad hoc
/// databases; the app itself creates its schema with the migrations in migrations/<dialect>.
/// `db` is a driver connection or a tenantry::Database (whose dialect is chosen at run time).
template <class Conn>
void create_app_schema(Conn& db, tenantry::DdlOptions options = {}) {
  auto tx = db.transaction();
  if constexpr (std::is_same_v<typename Conn::dialect, tenantry::AnyDialect>)
    db.execute(db.is_postgres() ? app_schema<tenantry::PgDialect>(options)
                                : app_schema<tenantry::SqliteDialect>(options));
  else db.execute(app_schema<typename Conn::dialect>(options));
  tx.commit();
}

// ---- generated migration files ------------------------------------------------------------------

/// The migration versions the app's directories use. Version 2 exists only in the upgrade path
/// (migrations/upgrade/<dialect>/0002_multi_tenant): a fresh database is created multi-tenant by
/// 0001, so both directories agree from version 3 on and later migrations go into both.
inline constexpr std::int64_t initial_schema_version = 1;
inline constexpr std::int64_t multi_tenant_upgrade_version = 2;
inline constexpr std::int64_t row_level_security_version = 3;
inline constexpr std::string_view row_level_security_description = "row level security";

/// The sessions table as it is created in a database of its own (SESSION_DB_URL): without the
/// foreign key to organizations, which lives in the main database.
inline tenantry::TableInfo standalone_sessions_table() {
  tenantry::TableInfo t = tenantry::table_info<SessionRecord>();
  t.foreign_keys.clear();
  return t;
}

/// One file that `tenantry-app schema --write` (re)generates: its path relative to the
/// migrations/ directory and its exact bytes.
struct GeneratedFile {
  std::string path;
  std::string contents;
};

namespace detail {

inline std::string statements(const std::vector<std::string>& stmts) {
  std::string out;
  for (const std::string& s : stmts) {
    out += s;
    out += ";\n";
  }
  return out;
}

template <class D>
std::string quoted(std::string_view name) {
  std::string out;
  D::quote(out, name);
  return out;
}

/// DROP TABLE for each table of Entities, children first.
template <class D, class Entities>
std::vector<std::string> drop_tables() {
  std::vector<std::string> out;
  for_each_entity<Entities>([&]<class E>(std::type_identity<E>) {
    out.insert(out.begin(), "DROP TABLE " + quoted<D>(tenantry::table_info<E>().name));
  });
  return out;
}

inline constexpr std::string_view generated_note =
    "-- Generated from examples/app/entities.hpp by `tenantry-app schema --write`; do not edit.\n"
    "-- tests/app/drift_test.cpp fails when this file and the entities disagree.\n";

}  // namespace detail

/// migrations/<dialect>/0001_initial_schema: every table, created empty.
template <class D>
GeneratedFile initial_schema_up() {
  return {std::string(D::name) + "/0001_initial_schema.up.sql",
          "-- 0001_initial_schema: the reference app's multi-tenant schema, for a new database.\n" +
              std::string(detail::generated_note) + app_schema<D>()};
}

template <class D>
GeneratedFile initial_schema_down() {
  return {std::string(D::name) + "/0001_initial_schema.down.sql",
          "-- 0001_initial_schema, reverted: drops every table, children first.\n" +
              std::string(detail::generated_note) + detail::statements(detail::drop_tables<D, AllEntities>())};
}

/// The policy statements of a row-level security migration (PostgreSQL): ENABLE + FORCE
/// row-level security and an org isolation policy on every org-scoped table of Entities, as
/// tenantry::row_level_security_sql generates them (global tables get none).
template <class Entities = AllEntities>
std::vector<std::string> row_level_security_statements() {
  std::vector<std::string> out;
  for_each_entity<Entities>([&]<class E>(std::type_identity<E>) {
    for (auto& s : tenantry::row_level_security_sql<tenantry::PgDialect>(tenantry::table_info<E>()))
      out.push_back(std::move(s));
  });
  return out;
}

/// The reverse of row_level_security_statements(), newest table first.
template <class Entities = AllEntities>
std::vector<std::string> drop_row_level_security_statements() {
  using tenantry::PgDialect;
  std::vector<std::string> out;
  for_each_entity<Entities>([&]<class E>(std::type_identity<E>) {
    const tenantry::TableInfo& t = tenantry::table_info<E>();
    if (!t.org_scoped()) return;
    const std::string table = detail::quoted<PgDialect>(t.name);
    std::vector<std::string> mine{
        "DROP POLICY " + detail::quoted<PgDialect>(tenantry::row_level_security_policy_name(t)) + " ON " + table,
        "ALTER TABLE " + table + " NO FORCE ROW LEVEL SECURITY",
        "ALTER TABLE " + table + " DISABLE ROW LEVEL SECURITY"};
    out.insert(out.begin(), mine.begin(), mine.end());
  });
  return out;
}

inline constexpr std::string_view rls_note =
    "-- Row-level security: PostgreSQL itself keeps each org's rows apart, behind tenantry's\n"
    "-- type-level org scoping. A session then sees and writes only the rows of the org in the\n"
    "-- app.current_org_id setting; while it is unset, a statement that meets a row fails (no\n"
    "-- org context) -- FORCE applies this to the tables' owner too. The org is read once per\n"
    "-- statement (the scalar subquery). So the app must connect with org context\n"
    "-- (tenantry::pg::Options::org_context; `tenantry-app ... --rls`) once this is applied:\n"
    "-- `migrate up` and the demo apply it only with --rls. Superusers and BYPASSRLS roles are\n"
    "-- never subject to policies; `tenantry-app rls verify` checks the live database and role.\n";

/// migrations/postgres/0003_row_level_security (also in migrations/upgrade/postgres/).
inline GeneratedFile row_level_security_up(std::string_view dir = "postgres") {
  return {std::string(dir) + "/0003_row_level_security.up.sql",
          "-- 0003_row_level_security: an org isolation policy on every org-scoped table.\n" + std::string(rls_note) +
              std::string(detail::generated_note) + detail::statements(row_level_security_statements())};
}

inline GeneratedFile row_level_security_down(std::string_view dir = "postgres") {
  return {std::string(dir) + "/0003_row_level_security.down.sql",
          "-- 0003_row_level_security, reverted: drops the policies and turns row-level security off.\n" +
              std::string(detail::generated_note) + detail::statements(drop_row_level_security_statements())};
}

/// migrations/sessions/<dialect>/0001_tower_sessions: the sessions table in a database of its own
/// (SESSION_DB_URL), without the foreign key to organizations (see standalone_sessions_table()).
template <class D>
GeneratedFile sessions_up() {
  const tenantry::TableInfo t = standalone_sessions_table();
  std::vector<std::string> stmts{tenantry::create_table_sql<D>(t)};
  for (auto& s : tenantry::create_index_sql<D>(t)) stmts.push_back(std::move(s));
  return {"sessions/" + std::string(D::name) + "/0001_tower_sessions.up.sql",
          "-- 0001_tower_sessions: the HTTP session store in a database of its own (SESSION_DB_URL).\n"
          "-- Its org_id has no foreign key: organizations lives in the main database, so deleting an\n"
          "-- org does not cascade here; the app removes that org's sessions itself.\n" +
              std::string(detail::generated_note) + detail::statements(stmts)};
}

template <class D>
GeneratedFile sessions_down() {
  return {"sessions/" + std::string(D::name) + "/0001_tower_sessions.down.sql",
          "-- 0001_tower_sessions, reverted.\n" + std::string(detail::generated_note) +
              detail::statements({"DROP TABLE " + detail::quoted<D>(tenantry::table_info<SessionRecord>().name)})};
}

/// The version of the session database's row-level security migration (PostgreSQL).
inline constexpr std::int64_t sessions_row_level_security_version = 2;

/// migrations/sessions/postgres/0002_row_level_security: the same isolation policy on
/// tower_sessions in a session database of its own as 0003 gives it in the main database.
inline GeneratedFile sessions_row_level_security_up() {
  return {"sessions/postgres/0002_row_level_security.up.sql",
          "-- 0002_row_level_security: an org isolation policy on every org-scoped table of the session\n"
          "-- database (SESSION_DB_URL), as 0003_row_level_security gives the main database.\n" +
              std::string(rls_note) + std::string(detail::generated_note) +
              detail::statements(row_level_security_statements<SessionDbEntities>())};
}

inline GeneratedFile sessions_row_level_security_down() {
  return {"sessions/postgres/0002_row_level_security.down.sql",
          "-- 0002_row_level_security, reverted: drops the policies and turns row-level security off.\n" +
              std::string(detail::generated_note) +
              detail::statements(drop_row_level_security_statements<SessionDbEntities>())};
}

/// Every file `tenantry-app schema --write` writes for dialect D, relative to migrations/.
template <class D>
std::vector<GeneratedFile> generated_migration_files() {
  std::vector<GeneratedFile> out{initial_schema_up<D>(), initial_schema_down<D>()};
  if constexpr (D::supports_row_level_security) {
    out.push_back(row_level_security_up("postgres"));
    out.push_back(row_level_security_down("postgres"));
    out.push_back(row_level_security_up("upgrade/postgres"));
    out.push_back(row_level_security_down("upgrade/postgres"));
  }
  out.push_back(sessions_up<D>());
  out.push_back(sessions_down<D>());
  if constexpr (D::supports_row_level_security) {
    out.push_back(sessions_row_level_security_up());
    out.push_back(sessions_row_level_security_down());
  }
  return out;
}

}  // namespace app
