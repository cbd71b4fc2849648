// Backends for the tests of org keys that are not UUIDs (tests/parity/org_keys_test.cpp and
// the text-keyed run of tests/parity/isolation_model_test.cpp): each is a template over a key
// set K (TextKeys, IntKeys: the org type and a project/task entity pair) and holds
//   conn                      what the repositories use
//   add_org(org)              provisions the org (its schema, under schema per org)
//   stored(table, org)        the rows of org in table as stored, counted with plain SQL past
//                             every filter (the org column; the org's own schema)
//   stored_all(table)         every org's rows
// SqliteMemory, SqliteFile, PostgresShared, PostgresRls (a non-owner, non-superuser role that
// owns the tables, ENABLE + FORCE, org_context) and PostgresSchemas (schema per org).
#pragma once

#include "support/backends.hpp"
#include "support/org_key_entities.hpp"

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace org_key_backends {

using namespace tenantry;
using namespace org_keys;

// ---- key sets ----------------------------------------------------------------------------------

struct TextKeys {
  using Org = TextOrgId;
  using Project = SlugProject;
  using Task = SlugTask;
  using Secret = SlugSecret;
  static constexpr std::string_view name = "text org keys";
  static constexpr std::string_view projects = "slug_projects";
  static constexpr std::string_view tasks = "slug_tasks";
  static constexpr std::string_view secrets = "slug_secrets";
  static constexpr std::string_view org_column = "organization_id";
  static constexpr auto org_member = &SlugProject::organization_id;
  // A case-only difference is another org: "acme" and "Acme" must never share a row or schema.
  static Org a() { return TextOrgId{"acme"}; }
  static Org b() { return TextOrgId{"Acme"}; }
  // Orgs an attacker would pick to be taken for another: whitespace, leading zeros, SQL, a
  // quote that would end a string, the other key type's spelling.
  static std::vector<Org> hostile() {
    return {TextOrgId{"acme"},
            TextOrgId{"Acme"},
            TextOrgId{" acme"},
            TextOrgId{"acme "},
            TextOrgId{"acme' OR '1'='1"},
            TextOrgId{"7"},
            TextOrgId{"007"},
            TextOrgId{"x\"; DROP TABLE slug_projects; --"}};
  }
};

struct IntKeys {
  using Org = IntOrgId;
  using Project = NumProject;
  using Task = NumTask;
  using Secret = NumSecret;
  static constexpr std::string_view name = "bigint org keys";
  static constexpr std::string_view projects = "num_projects";
  static constexpr std::string_view tasks = "num_tasks";
  static constexpr std::string_view secrets = "num_secrets";
  static constexpr std::string_view org_column = "org_id";
  static constexpr auto org_member = &NumProject::org_id;
  static Org a() { return IntOrgId{1}; }
  static Org b() { return IntOrgId{-9000000000LL}; }  // beyond 32 bits, and negative
  // The edges of the key space (0 is the nil org, refused everywhere), and 7, which a text org
  // "007" or "7" must never be taken for.
  static std::vector<Org> hostile() {
    return {IntOrgId{1},
            IntOrgId{-1},
            IntOrgId{std::numeric_limits<std::int64_t>::max()},
            IntOrgId{std::numeric_limits<std::int64_t>::min()},
            IntOrgId{7},
            IntOrgId{-9000000000LL}};
  }
};

template <class E>
auto& org_of(E& row) {
  return boost::pfr::get<org_field<E>>(row);
}
template <class E>
auto org_of(const E& row) {
  return boost::pfr::get<org_field<E>>(row);
}

inline std::string ident(std::string_view name) { return "\"" + std::string(name) + "\""; }

/// A raw_query row: one count.
struct N {
  std::int64_t n;
};

/// A stored project row as text: (org, id, name, rank).
using StoredRow = std::tuple<std::string, std::string, std::string, std::int64_t>;

/// Every row of K's project table read through `c` with plain SQL (`from` names the table).
template <class K, class Conn>
std::vector<StoredRow> read_projects(Conn& c, const std::string& from) {
  std::vector<StoredRow> out;
  parity::raw_query(c, "SELECT CAST(" + ident(K::org_column) + " AS TEXT), CAST(id AS TEXT), name, rank FROM " + from,
                    [&](auto& st) {
                      out.emplace_back(std::string(st.column_text(0)), std::string(st.column_text(1)),
                                       std::string(st.column_text(2)), st.column_int(3));
                    });
  return out;
}

// ---- backends ----------------------------------------------------------------------------------
// Each holds `conn` (what the repositories use) and answers `stored(table, org)`: the rows of
// org in table as the database holds them, counted with plain SQL past every filter (the org
// column on shared tables; the org's own schema under schema per org), and `stored_all(table)`.

template <class K>
struct SqliteMemory {
  static constexpr std::string_view name = "sqlite :memory:";
  using Dialect = SqliteDialect;
  using Conn = sqlite::Connection;
  static constexpr bool rls = false, schemas = false, is_postgres = false;
  Conn conn{":memory:"};
  SqliteMemory() { create_tables<typename K::Project, typename K::Task, typename K::Secret>(conn); }
  void add_org(const typename K::Org&) {}
  std::int64_t stored(std::string_view table, const typename K::Org& org) {
    return parity::raw_count(conn, "SELECT COUNT(*) FROM " + ident(table) + " WHERE " + ident(K::org_column) + " = ?1",
                             org);
  }
  std::int64_t stored_all(std::string_view table) { return parity::rows_in(conn, table); }
  std::vector<StoredRow> stored_projects() { return read_projects<K>(conn, ident(K::projects)); }
};

template <class K>
struct SqliteFile : SqliteMemory<K> {
  static constexpr std::string_view name = "sqlite file";
  testdb::TempPath path{"orgkeys"};
  SqliteFile() {
    this->conn = sqlite::Connection(path.string());
    create_tables<typename K::Project, typename K::Task, typename K::Secret>(this->conn);
  }
};

template <class K>
struct PostgresShared {
  static constexpr std::string_view name = "postgres";
  using Dialect = PgDialect;
  using Conn = pg::Connection;
  static constexpr bool rls = false, schemas = false, is_postgres = true;
  Conn conn{parity::Postgres::fresh_url()};
  PostgresShared() { create_tables<typename K::Project, typename K::Task, typename K::Secret>(conn); }
  void add_org(const typename K::Org&) {}
  std::int64_t stored(std::string_view table, const typename K::Org& org) {
    return parity::raw_count(conn, "SELECT COUNT(*) FROM " + ident(table) + " WHERE " + ident(K::org_column) + " = ?1",
                             org);
  }
  std::int64_t stored_all(std::string_view table) { return parity::rows_in(conn, table); }
  std::vector<StoredRow> stored_projects() { return read_projects<K>(conn, ident(K::projects)); }
};

/// PostgreSQL without server-side prepared statements (PgBouncer transaction pooling's mode):
/// the org parameter's type comes from the bound value (text, int8), not from the column.
template <class K>
struct PostgresUnprepared : PostgresShared<K> {
  static constexpr std::string_view name = "postgres, server_prepared = false";
  PostgresUnprepared() { this->conn = pg::Connection(parity::Postgres::url(), pg::Options{.server_prepared = false}); }
};

/// A tenantry::Database chosen at run time by its URL (Repository<E, AnyDialect>).
template <class K, bool Postgres>
struct AnyUrlOf {
  static constexpr std::string_view name = Postgres ? "postgres through connect(url)" : "sqlite through connect(url)";
  using Dialect = AnyDialect;
  using Conn = Database;
  static constexpr bool rls = false, schemas = false, is_postgres = Postgres;
  Conn conn = tenantry::connect(Postgres ? parity::Postgres::fresh_url() : parity::SqliteFile::fresh_url());
  AnyUrlOf() { create_tables<typename K::Project, typename K::Task, typename K::Secret>(conn); }
  void add_org(const typename K::Org&) {}
  std::int64_t stored(std::string_view table, const typename K::Org& org) {
    return parity::raw_count(conn, "SELECT COUNT(*) FROM " + ident(table) + " WHERE " + ident(K::org_column) + " = ?1",
                             org);
  }
  std::int64_t stored_all(std::string_view table) { return parity::rows_in(conn, table); }
  std::vector<StoredRow> stored_projects() { return read_projects<K>(conn, ident(K::projects)); }
};
template <class K>
using AnySqlite = AnyUrlOf<K, false>;
template <class K>
using AnyPostgres = AnyUrlOf<K, true>;

using tenantry_test::as_role;  // support/pg_database.hpp

/// Row-level security: the tables belong to a role that is neither superuser nor BYPASSRLS,
/// with ENABLE and FORCE, and the repositories run as that role with org_context on. Plain SQL
/// checks run as the (superuser) admin, which no policy stops.
template <class K>
struct PostgresRls {
  static constexpr std::string_view name = "postgres, row-level security";
  static constexpr const char* owner = "tenantry_orgkeys_owner";
  using Dialect = PgDialect;
  using Conn = pg::Connection;
  static constexpr bool rls = true, schemas = false, is_postgres = true;
  Conn admin{parity::Postgres::fresh_url()};
  Conn conn = open();
  Conn open() {
    admin.execute(std::string("DO $$ BEGIN CREATE ROLE ") + owner +
                  " LOGIN NOSUPERUSER NOBYPASSRLS; EXCEPTION WHEN duplicate_object THEN NULL; END $$");
    admin.execute(std::string("GRANT ALL ON SCHEMA public TO ") + owner);
    Conn c(as_role(parity::Postgres::url(), owner), pg::Options{.org_context = true});
    create_tables<typename K::Project, typename K::Task, typename K::Secret>(c, DdlOptions{.row_level_security = true});
    return c;
  }
  void add_org(const typename K::Org&) {}
  std::int64_t stored(std::string_view table, const typename K::Org& org) {
    return parity::raw_count(admin, "SELECT COUNT(*) FROM " + ident(table) + " WHERE " + ident(K::org_column) + " = ?1",
                             org);
  }
  std::int64_t stored_all(std::string_view table) { return parity::rows_in(admin, table); }
  std::vector<StoredRow> stored_projects() { return read_projects<K>(admin, ident(K::projects)); }
};

/// Drops every org schema left by an earlier test case in the per-process database.
inline void drop_org_schemas(pg::Connection& c) {
  c.execute(
      "DO $$ DECLARE s text; BEGIN FOR s IN SELECT nspname FROM pg_namespace WHERE nspname LIKE 'org\\_%' LOOP "
      "EXECUTE format('DROP SCHEMA %I CASCADE', s); END LOOP; END $$;");
}

/// Schema per org: each org's tables in org_schema_name(org), nothing org-scoped in public.
template <class K>
struct PostgresSchemas {
  static constexpr std::string_view name = "postgres, schema per org";
  using Dialect = PgDialect;
  using Conn = pg::Connection;
  using Set = OrgSchemas<typename K::Project, typename K::Task, typename K::Secret>;
  static constexpr bool rls = false, schemas = true, is_postgres = true;
  Conn conn = open();
  static Conn open() {
    Conn c(parity::Postgres::fresh_url(), pg::Options{.org_schemas = true});
    drop_org_schemas(c);
    return c;
  }
  std::vector<typename K::Org> orgs;
  void add_org(const typename K::Org& org) {
    Set::provision_org(conn, org);
    orgs.push_back(org);
  }
  std::int64_t stored(std::string_view table, const typename K::Org& org) {
    return parity::raw_count(conn, "SELECT COUNT(*) FROM " + ident(Set::schema_name(org)) + "." + ident(table));
  }
  std::int64_t stored_all(std::string_view table) {
    std::int64_t n = 0;
    for (const auto& o : orgs) n += stored(table, o);
    return n;
  }
  /// Each org's schema's rows; a row carrying another org than its schema's is reported with
  /// the org "<in the schema of X>: Y", which no model holds.
  std::vector<StoredRow> stored_projects() {
    std::vector<StoredRow> out;
    for (const auto& o : orgs)
      for (auto r : read_projects<K>(conn, ident(Set::schema_name(o)) + "." + ident(K::projects))) {
        if (std::get<0>(r) != o.to_string())
          std::get<0>(r) = "<in the schema of " + o.to_string() + ">: " + std::get<0>(r);
        out.push_back(std::move(r));
      }
    return out;
  }
};

template <template <class> class B>
struct Backend {
  template <class K>
  using type = B<K>;
};

}  // namespace org_key_backends
