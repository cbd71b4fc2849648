// tenantry/org_schema.hpp - the schema-per-org strategy (PostgreSQL only).
//
//   using TenantTables = tenantry::OrgSchemas<ApiToken, Widget>;     // org-scoped entities only
//   pg::Connection db{url, pg::Options{.org_schemas = true}};
//   TenantTables::provision_org(db, org);      // CREATE SCHEMA "org_<hex>" + the set's tables
//   Repository<ApiToken, PgDialect> tokens{db};
//   tokens.insert(org, token);                  // lands in "org_<hex>"."api_tokens"
//   TenantTables::drop_org(db, org);            // DROP SCHEMA "org_<hex>" CASCADE
//
// The two strategies, and when to choose which, are in docs/tenancy.md ("Strategies").
//
// The set's tables live in one schema per org, named by org_schema_name(org); every other table
// (the global ones, and org-scoped tables left out of the set) lives in public. Repository code
// does not change: its SQL text stays unqualified and identical for every org, so each statement
// is still built once and prepared once per connection. On a connection opened with
// pg::Options::org_schemas, each org-scoped operation first makes the org's schema the first on
// the search path, for the current transaction only:
//
//   SELECT set_config('search_path', '"org_<hex>", public', true)
//     FROM pg_catalog.pg_namespace WHERE nspname = 'org_<hex>'    -- no row: OrgNotProvisioned
//
// and the server re-parses a cached prepared statement whenever search_path differs from its
// last use, so the same statement reads org A's table, then org B's. Rows keep their org_id
// column and every statement still filters by it, so the type-level and key-level walls of the
// shared-table strategy hold inside each schema too.
//
// The set has one org type (OrgId, TextOrgId or IntOrgId); org_schema_name(org) derives the
// schema name from it in [a-z0-9_] only, at most 62 bytes, so no org id (a hostile text slug
// included) can inject anything into a schema name or the search path. A set may also hold
// schema-scoped entities (scope = tenantry::per_org_schema): tables without an org column, whose
// only wall is the schema; a foreign key from one to an org-scoped entity must stay in the set.
//
// Invariants the caller keeps:
//   * no table of the set also exists in public: an org whose schema lacks a table would
//     otherwise read public's table through the search path (still filtered by org_id);
//   * every org schema has the same table shapes (migrate them all; a cached statement whose
//     result columns differ between two orgs' tables fails with "cached plan must not change
//     result type");
//   * the entities of the set are listed parents first, as for create_tables.
//
// SQLite has no schemas: using OrgSchemas with sqlite::Connection does not compile, and with a
// Database that turns out to be SQLite it throws UsageError.
//
// Platform rows (entities whose org column is a std::optional<OrgId>) are not in any org's
// schema: such an entity cannot be part of a set (compile error) and its table lives in public,
// shared, filtered by org_id like any shared table. A tenantry::platform call on a connection
// with org_schemas sets the search path to `public` alone for its transaction, so it can only
// ever name public's tables.
#pragma once

#include "tenantry/ddl.hpp"
#include "tenantry/dialect/postgres.hpp"
#include "tenantry/entity.hpp"
#include "tenantry/error.hpp"
#include "tenantry/schema.hpp"
#include "tenantry/sql_registry.hpp"
#include "tenantry/types.hpp"

#include <concepts>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

namespace tenantry {

namespace detail {

/// tenantry::Database (database.hpp), recognised by its interface so that this header does not
/// pull in both drivers.
template <class Conn>
concept runtime_database = requires(Conn& c) {
  { c.is_postgres() } -> std::convertible_to<bool>;
  c.visit([](auto&) {});
};

/// Calls f(connection) on the PostgreSQL driver connection behind `conn`; SQLite is refused at
/// compile time (driver connection) or with UsageError (a Database opened on SQLite).
template <class Conn, class F>
void on_postgres(Conn& conn, std::string_view what, F&& f) {
  if constexpr (runtime_database<Conn>) {
    if (!conn.is_postgres())
      throw UsageError("tenantry: " + std::string(what) +
                       ": schema per org is PostgreSQL-only and this database is SQLite; keep its org-scoped "
                       "tables shared (one table per entity, filtered by org_id)");
    conn.visit([&](auto& c) {
      if constexpr (std::remove_cvref_t<decltype(c)>::dialect::is_postgres) f(c);
    });
  } else {
    static_assert(Conn::dialect::is_postgres,
                  "tenantry: schema per org is PostgreSQL-only: SQLite has no schemas; keep its org-scoped tables "
                  "shared (one table per entity, filtered by org_id)");
    f(conn);
  }
}

inline std::string quoted(std::string_view ident) {
  std::string out;
  PgDialect::quote(out, ident);
  return out;
}

/// Whether `schema` exists, through the driver's cached statements.
template <class PgConn>
bool schema_exists(PgConn& c, const std::string& schema) {
  static const Sql sql = intern_sql("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1)");
  auto& st = c.prepare(sql);
  struct Reset {
    std::remove_reference_t<decltype(st)>& s;
    ~Reset() { s.reset(); }
  } reset{st};
  st.bind_text(1, schema);
  if (!st.step()) throw DatabaseError("tenantry: postgres: EXISTS returned no row", "");
  return st.column_bool(0);
}

/// Whether public holds a table (or view) named `table`.
template <class PgConn>
bool public_table_exists(PgConn& c, const std::string& table) {
  static const Sql sql = intern_sql(
      "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class k JOIN pg_catalog.pg_namespace n ON n.oid = k.relnamespace "
      "WHERE n.nspname = 'public' AND k.relname = $1)");
  auto& st = c.prepare(sql);
  struct Reset {
    std::remove_reference_t<decltype(st)>& s;
    ~Reset() { s.reset(); }
  } reset{st};
  st.bind_text(1, table);
  if (!st.step()) throw DatabaseError("tenantry: postgres: EXISTS returned no row", "");
  return st.column_bool(0);
}

template <org_id_type O>
const O& require_org(const O& org, std::string_view what) {
  if (org.is_nil()) throw UsageError("tenantry: " + std::string(what) + ": nil org id");
  org.check("passed to " + std::string(what));
  return org;
}

/// True when every foreign key between T and a schema-scoped entity stays inside Set: a parent
/// outside the set lives in public, shared by every org, where a schema-scoped row (which has
/// no org column) could point at any org's row.
template <class T, class... Set>
consteval bool schema_references_stay_in(std::type_identity<std::tuple<Set...>>) {
  bool ok = true;
  std::apply(
      [&](const auto&... c) {
        (
            [&](const auto& decl) {
              using P = typename fk_parent<std::remove_cvref_t<decltype(decl)>>::type;
              if constexpr (!std::is_void_v<P>) {
                if constexpr (schema_scoped<T> && takes_org<P>) ok = ok && (std::is_same_v<P, Set> || ...);
              }
            }(c),
            ...);
      },
      declared_constraints<T>());
  return ok;
}

}  // namespace detail

/// The entity set of the schema-per-org strategy: Es... (org-scoped entities, parents first)
/// get one table each in every org's schema. Everything is static; the type is the set.
template <class... Es>
struct OrgSchemas {
  static_assert(sizeof...(Es) > 0, "tenantry: OrgSchemas<...> needs at least one entity");
  static_assert(check_entity_set<Es...>());
  static_assert((takes_org<Es> && ...),
                "tenantry: OrgSchemas<...> holds org-scoped entities only (a struct with an org id field, one scoped "
                "through its parent, or scope = tenantry::per_org_schema); global tables stay in public, shared by "
                "every org");
  static_assert(detail::one_org_key((detail::org_keys_of<Es> | ...)),
                "tenantry: the entities of one OrgSchemas<...> set have one org type (OrgId, TextOrgId or IntOrgId), "
                "which names their schemas");
  static_assert(
      !(org_column_optional<Es> || ...),
      "tenantry: OrgSchemas<...> cannot hold an entity whose org column is optional: its rows of no org belong "
      "in no org's schema, so its table stays shared in public (org calls filter by org, tenantry::platform "
      "reads org IS NULL)");

  static_assert((detail::schema_references_stay_in<Es>(std::type_identity<std::tuple<Es...>>{}) && ...),
                "tenantry: a per_org_schema entity's foreign key to an org-scoped entity must name one of the same "
                "OrgSchemas<...> set (a parent outside it is in public, shared by every org)");

  /// The org type of the set (OrgId, TextOrgId or IntOrgId).
  using org_type = detail::org_id_for_bits<(detail::org_keys_of<Es> | ...)>;

  /// The schema holding org's tables: org_schema_name(org) (types.hpp), [a-z0-9_] only, at most
  /// 62 bytes, whatever the org id holds.
  static std::string schema_name(const org_type& org) { return org_schema_name(org); }

  /// The table names of the set, in declaration order.
  static std::vector<std::string> table_names() { return {table_info<Es>().name...}; }

  /// Every statement provision_org runs for `org`: CREATE SCHEMA, then each entity's CREATE
  /// TABLE, CREATE INDEX (and, with opt.row_level_security, its policy), qualified with the org's
  /// schema; foreign keys to tables outside the set name public's. opt.if_not_exists makes every
  /// statement IF NOT EXISTS (existing tables are left as they are, not compared). opt.schema
  /// and opt.schema_tables are set here.
  static std::vector<std::string> create_statements(const org_type& org, DdlOptions opt = {}) {
    detail::require_org(org, "OrgSchemas::create_statements");
    if (opt.if_not_exists && opt.row_level_security)
      throw UsageError(
          "tenantry: OrgSchemas: if_not_exists cannot be combined with row_level_security (CREATE POLICY has no IF "
          "NOT EXISTS)");
    opt.schema = schema_name(org);
    opt.schema_tables = table_names();
    std::vector<std::string> out{"CREATE SCHEMA " + std::string(opt.if_not_exists ? "IF NOT EXISTS " : "") +
                                 detail::quoted(opt.schema)};
    (
        [&] {
          for (auto& s : tenantry::create_statements<Es, PgDialect>(opt)) out.push_back(std::move(s));
        }(),
        ...);
    return out;
  }

  /// create_statements(org, opt) as one script, each statement ended by ";\n".
  static std::string create_sql(const org_type& org, DdlOptions opt = {}) {
    std::string out;
    for (const auto& s : create_statements(org, opt)) {
      out += s;
      out += ";\n";
    }
    return out;
  }

  /// Creates org's schema and the set's tables in one transaction (a savepoint inside the
  /// caller's): all or nothing. An existing schema is a DatabaseError (SQLSTATE 42P06) that
  /// changes nothing, unless opt.if_not_exists. `conn` is a pg::Connection or a Database.
  template <class Conn>
  static void provision_org(Conn& conn, const org_type& org, DdlOptions opt = {}) {
    const std::string script = create_sql(org, opt);
    detail::on_postgres(conn, "OrgSchemas::provision_org", [&](auto& c) {
      auto tx = c.transaction();
      // A schema-scoped table has no org column: one of its name in public would be read by
      // every org whose schema lacks it, through the search path. Refuse to build on that.
      for (const std::string& name : {std::string(schema_scoped<Es> ? table_info<Es>().name : std::string())...})
        if (!name.empty() && detail::public_table_exists(c, name))
          throw UsageError("tenantry: OrgSchemas::provision_org: public." + name + " exists, and '" + name +
                           "' is scoped by its schema (no org column): every org whose schema lacked it would read "
                           "public's rows; drop or rename public." +
                           name);
      c.execute(script);
      tx.commit();
    });
  }

  /// Drops org's schema with everything in it (DROP SCHEMA ... CASCADE), in one transaction.
  /// True when there was one to drop. Other orgs' schemas and the shared tables are untouched;
  /// the org's row in a shared table (organizations) is the caller's to delete.
  template <class Conn>
  static bool drop_org(Conn& conn, const org_type& org) {
    detail::require_org(org, "OrgSchemas::drop_org");
    const std::string schema = schema_name(org);
    bool dropped = false;
    detail::on_postgres(conn, "OrgSchemas::drop_org", [&](auto& c) {
      auto tx = c.transaction();
      dropped = detail::schema_exists(c, schema);
      if (dropped) c.execute("DROP SCHEMA " + detail::quoted(schema) + " CASCADE");
      tx.commit();
    });
    return dropped;
  }

  /// True when org's schema exists (its tables are not inspected).
  template <class Conn>
  static bool is_provisioned(Conn& conn, const org_type& org) {
    detail::require_org(org, "OrgSchemas::is_provisioned");
    bool exists = false;
    detail::on_postgres(conn, "OrgSchemas::is_provisioned",
                        [&](auto& c) { exists = detail::schema_exists(c, schema_name(org)); });
    return exists;
  }
};

}  // namespace tenantry
