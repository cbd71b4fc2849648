// tenantry/rls.hpp - proof, from the live catalog, that PostgreSQL's row-level security stands
// behind tenantry's org scoping as generated. A service calls it once at start-up:
//
//   tenantry::pg::Connection conn(url, {.org_context = true});
//   tenantry::pg::verify_rls<ApiToken, UserAlias, SessionRecord>(conn);   // throws RlsNotEnforced
//
// For every org-scoped table named, and every table scoped through its parent (global ones are
// skipped), in opt.schema (default: the connection's current schema), it checks:
//   * the table exists, with ENABLE and FORCE ROW LEVEL SECURITY;
//   * its policies are exactly the one tenantry generates (row_level_security_sql, ddl.hpp):
//     <table>_org_isolation, PERMISSIVE, FOR ALL, TO opt.rls_role (else PUBLIC), with USING and
//     WITH CHECK expressions equal to the generated ones as the server deparses them
//     (pg_policies.qual / with_check), so an extra policy (which would widen access) or an edited
//     one is reported;
//   * the connected role (current_user, and session_user when it differs) is not a member of
//     the table's owner (an owner may turn row-level security off or drop the policy);
// and once: that the connected role is neither superuser nor BYPASSRLS (PostgreSQL applies no
// policy to those), and, with opt.rls_role, that it is a member of that role (the policies apply
// to nobody else: every other role sees no row).
//
// The expected expressions come from the server itself: inside a transaction (a savepoint when
// one is open) that is always rolled back, the generated statements run on a temporary table
// with the same org column, and their deparsed form is read back. So the comparison holds for
// every server version's deparser, and nothing is left behind. It needs the TEMPORARY privilege
// on the database (PUBLIC has it by default).
//
// verify_rls throws RlsNotEnforced listing every mismatch; rls_mismatches returns them.
#pragma once

#include "tenantry/ddl.hpp"
#include "tenantry/dialect/postgres.hpp"
#include "tenantry/driver/postgres.hpp"
#include "tenantry/error.hpp"
#include "tenantry/schema.hpp"

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tenantry {

/// One way the live database differs from the row-level security tenantry generates.
struct RlsMismatch {
  std::string table;    ///< the table concerned; empty for a problem of the connected role
  std::string problem;  ///< what is wrong, in words
};

/// Thrown by pg::verify_rls: the database does not enforce the generated row-level security, or
/// the connected role is not subject to it. mismatches() lists every problem found; what() too.
class RlsNotEnforced : public Error {
 public:
  explicit RlsNotEnforced(std::vector<RlsMismatch> mismatches)
      : Error(describe(mismatches)), mismatches_(std::move(mismatches)) {}
  const std::vector<RlsMismatch>& mismatches() const noexcept { return mismatches_; }

 private:
  static std::string describe(const std::vector<RlsMismatch>& ms) {
    std::string out = "tenantry: row-level security is not enforced as generated (" + std::to_string(ms.size()) +
                      (ms.size() == 1 ? " problem):" : " problems):");
    for (const RlsMismatch& m : ms) out += "\n  " + (m.table.empty() ? std::string("role") : m.table) + ": " + m.problem;
    return out;
  }
  std::vector<RlsMismatch> mismatches_;
};

namespace pg {

/// What verify_rls compares against: the DdlOptions the policies were created with.
struct RlsVerifyOptions {
  /// DdlOptions::rls_role the policies were created with (their TO role); empty: PUBLIC.
  std::string rls_role{};
  /// The schema of the tables; empty: the connection's current schema (current_schema()).
  std::string schema{};
};

namespace detail {

/// Runs `sql` with text parameters and calls row(statement) for each result row.
template <class F>
void query(Connection& conn, const std::string& sql, const std::vector<std::string>& params, F&& row) {
  Statement& st = conn.prepare(intern_sql(sql));
  StatementScope scope(st);
  for (std::size_t k = 0; k < params.size(); ++k) st.bind_text(static_cast<int>(k + 1), params[k]);
  while (st.step()) row(st);
}

inline std::string text_or(Statement& st, int c, const char* null_text) {
  return st.column_is_null(c) ? std::string(null_text) : std::string(st.column_text(c));
}

/// The generated policy of one org column, as the server deparses it.
struct ExpectedPolicy {
  std::string roles, qual, with_check;
};

/// What the expected policy depends on: the org column's type, and whether it is nullable (a
/// table with platform rows has the two-scope policy, ddl.hpp).
inline std::string expected_key(const ColumnInfo& org) {
  return PgDialect::column_type(org) + (org.nullable ? " NULL" : "");
}
inline std::string quoted(std::string_view ident) {
  std::string out;
  PgDialect::quote(out, ident);
  return out;
}

}  // namespace detail

/// Every mismatch between the live catalog and the row-level security tenantry generates for
/// `tables` (see the file comment); empty when the database enforces it as generated and the
/// connected role is subject to it. Global tables in the list are skipped.
inline std::vector<RlsMismatch> rls_mismatches(Connection& conn, const std::vector<const TableInfo*>& tables,
                                               const RlsVerifyOptions& opt = {}) {
  using detail::expected_key;
  using detail::query;
  using detail::text_or;
  std::vector<RlsMismatch> out;
  const auto report = [&](std::string table, std::string problem) {
    out.push_back(RlsMismatch{std::move(table), std::move(problem)});
  };

  // ---- the connected role -----------------------------------------------------------------
  std::string current_user;
  query(conn,
        "SELECT r.rolname, r.rolsuper, r.rolbypassrls, r.rolname = current_user FROM pg_catalog.pg_roles r"
        " WHERE r.rolname IN (current_user, session_user) ORDER BY 4 DESC",
        {}, [&](Statement& st) {
          const std::string name(st.column_text(0));
          if (st.column_bool(3)) current_user = name;
          if (st.column_bool(1))
            report("", name + " is a superuser: PostgreSQL applies no row-level security policy to it");
          if (st.column_bool(2))
            report("", name + " has BYPASSRLS: PostgreSQL applies no row-level security policy to it");
        });
  bool role_exists = true;
  if (!opt.rls_role.empty()) {
    std::optional<bool> member;
    query(conn,
          "SELECT pg_catalog.pg_has_role(current_user, r.oid, 'USAGE') FROM pg_catalog.pg_roles r WHERE r.rolname = $1",
          {opt.rls_role}, [&](Statement& st) { member = st.column_bool(0); });
    role_exists = member.has_value();
    if (!member) report("", "the policies' role " + opt.rls_role + " does not exist");
    else if (!*member)
      report("", current_user + " is not a member of " + opt.rls_role +
                     ", the role the policies apply to: it would see and write no row of any org-scoped table");
  }

  std::string schema = opt.schema;
  if (schema.empty()) {
    query(conn, "SELECT current_schema()", {}, [&](Statement& st) { schema = text_or(st, 0, ""); });
    if (schema.empty()) {
      report("", "the connection has no current schema (search_path names none that exists)");
      return out;
    }
  }

  // ---- the generated policies, as the server deparses them -----------------------------------
  // One temporary table per distinct org column (name and type), in a transaction that is
  // always rolled back.
  std::map<std::pair<std::string, std::string>, detail::ExpectedPolicy> expected;
  std::map<std::string, detail::ExpectedPolicy> expected_through;  // tables scoped through their parent
  {
    auto tx = conn.transaction();
    int probe = 0;
    for (const TableInfo* t : tables) {
      if (!t->org_scoped()) continue;
      const ColumnInfo& org = t->columns[t->org_column];
      const auto key = std::pair{org.name, expected_key(org)};
      if (expected.contains(key)) continue;
      TableInfo shape;
      shape.name = "tenantry_rls_probe_" + std::to_string(probe++);
      shape.columns = {org};
      shape.org_column = 0;
      conn.execute("CREATE TEMPORARY TABLE " + detail::quoted(shape.name) + " (" + detail::quoted(org.name) +
                   " " + PgDialect::column_type(org) + ")");
      // A role that does not exist cannot be named in a policy (reported above): probe with
      // PUBLIC and expect the name.
      const DdlOptions ddl{.rls_role = role_exists ? opt.rls_role : std::string(), .schema = "pg_temp"};
      for (const std::string& s : row_level_security_sql<PgDialect>(shape, ddl)) conn.execute(s);
      query(conn,
            "SELECT array_to_string(roles, ','), qual, with_check FROM pg_catalog.pg_policies"
            " WHERE schemaname = (SELECT nspname FROM pg_catalog.pg_namespace WHERE oid = pg_catalog.pg_my_temp_schema())"
            " AND tablename = $1",
            {shape.name}, [&](Statement& st) {
              expected[key] = {role_exists ? text_or(st, 0, "") : opt.rls_role, text_or(st, 1, "(none)"),
                               text_or(st, 2, "(none)")};
            });
    }
    // A table scoped through its parent: probe tables mirroring its chain (its foreign key, then
    // each parent's key and its org column or own foreign key), whose deparsed policy names the
    // probes; each probe's name is then replaced by the real table's as the server names it in
    // the live policy (qualified when the table is not visible on the search path).
    int chain = 0;
    for (const TableInfo* t : tables) {
      if (!t->parent_scoped() || expected_through.contains(t->name)) continue;
      std::vector<const TableInfo*> levels;
      for (const TableInfo* level = t; level != nullptr; level = level->scope_parent) levels.push_back(level);
      std::vector<TableInfo> shapes(levels.size());
      for (std::size_t j = 0; j < levels.size(); ++j) {
        const TableInfo& real = *levels[j];
        TableInfo& shape = shapes[j];
        shape.name = "tenantry_rls_chain_" + std::to_string(chain++) + "_";
        if (j > 0) shape.columns.push_back(real.columns.at(levels[j - 1]->scope_parent_column));
        if (real.org_scoped()) {
          shape.org_column = shape.columns.size();
          shape.columns.push_back(real.columns[real.org_column]);
        } else {
          shape.scope_column = shape.columns.size();
          shape.columns.push_back(real.columns.at(real.scope_column));
          shape.scope_parent = &shapes.at(j + 1);
          shape.scope_parent_column = 0;
        }
      }
      for (const TableInfo& shape : shapes) {
        std::string ddl = "CREATE TEMPORARY TABLE " + detail::quoted(shape.name) + " (";
        for (std::size_t c = 0; c < shape.columns.size(); ++c)
          ddl += (c ? ", " : "") + detail::quoted(shape.columns[c].name) + " " + PgDialect::column_type(shape.columns[c]);
        conn.execute(ddl + ")");
      }
      const DdlOptions ddl{.rls_role = role_exists ? opt.rls_role : std::string(), .schema = "pg_temp"};
      for (const std::string& st : row_level_security_sql<PgDialect>(shapes[0], ddl)) conn.execute(st);
      detail::ExpectedPolicy want;
      query(conn,
            "SELECT array_to_string(roles, ','), qual, with_check FROM pg_catalog.pg_policies"
            " WHERE schemaname = (SELECT nspname FROM pg_catalog.pg_namespace WHERE oid = pg_catalog.pg_my_temp_schema())"
            " AND tablename = $1",
            {shapes[0].name}, [&](Statement& st) {
              want = {role_exists ? text_or(st, 0, "") : opt.rls_role, text_or(st, 1, "(none)"), text_or(st, 2, "(none)")};
            });
      for (std::size_t j = 0; j < levels.size(); ++j) {
        std::string name;
        query(conn,
              "SELECT CASE WHEN $3 = '1' OR COALESCE((SELECT pg_catalog.pg_table_is_visible(c.oid) FROM pg_catalog.pg_class c"
              " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2), true)"
              " THEN pg_catalog.quote_ident($2) ELSE pg_catalog.quote_ident($1) || '.' || pg_catalog.quote_ident($2) END",
              {schema, levels[j]->name, j == 0 ? "1" : "0"}, [&](Statement& st) { name = text_or(st, 0, ""); });
        for (std::string* text : {&want.qual, &want.with_check})
          for (std::size_t at = text->find(shapes[j].name); at != std::string::npos; at = text->find(shapes[j].name, at + name.size()))
            text->replace(at, shapes[j].name.size(), name);
      }
      expected_through[t->name] = std::move(want);
    }
  }  // rolled back: the probes are gone

  // ---- every org-scoped table (and every table scoped through its parent) ----------------------
  for (const TableInfo* t : tables) {
    if (!t->takes_org()) continue;
    const std::string& name = t->name;
    bool found = false;
    query(conn,
          "SELECT c.relrowsecurity, c.relforcerowsecurity, pg_catalog.pg_get_userbyid(c.relowner),"
          " pg_catalog.pg_has_role(current_user, c.relowner, 'MEMBER'),"
          " pg_catalog.pg_has_role(session_user, c.relowner, 'MEMBER')"
          " FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
          " WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')",
          {schema, name}, [&](Statement& st) {
            found = true;
            const std::string owner(st.column_text(2));
            if (!st.column_bool(0)) report(name, "ROW LEVEL SECURITY is not enabled: every role reads every org's rows");
            if (!st.column_bool(1))
              report(name, "FORCE ROW LEVEL SECURITY is off: its owner " + owner + " is not subject to the policy");
            if (st.column_bool(3) || st.column_bool(4))
              report(name, "the connected role is (a member of) its owner " + owner +
                               ", which can turn row-level security off or drop the policy: connect as a role "
                               "that does not own the tables");
          });
    if (!found) {
      report(name, "no such table in schema " + schema);
      continue;
    }
    const detail::ExpectedPolicy& want =
        t->org_scoped() ? expected[{t->columns[t->org_column].name, detail::expected_key(t->columns[t->org_column])}]
                        : expected_through[name];
    const std::string policy = row_level_security_policy_name(*t);
    bool have_policy = false;
    query(conn,
          "SELECT policyname, permissive, cmd, array_to_string(roles, ','), qual, with_check FROM pg_catalog.pg_policies"
          " WHERE schemaname = $1 AND tablename = $2 ORDER BY policyname",
          {schema, name}, [&](Statement& st) {
            const std::string pname(st.column_text(0)), permissive(st.column_text(1)), cmd(st.column_text(2)),
                roles = text_or(st, 3, ""), qual = text_or(st, 4, "(none)"), check = text_or(st, 5, "(none)");
            if (pname != policy) {
              report(name, "policy " + pname + " (" + permissive + " FOR " + cmd + " TO " + roles + " USING " + qual +
                               ") is not one tenantry generates" +
                               (permissive == "PERMISSIVE" ? ": permissive policies add up, so it widens access" : ""));
              return;
            }
            have_policy = true;
            if (permissive != "PERMISSIVE") report(name, "policy " + pname + " is " + permissive + ", not PERMISSIVE");
            if (cmd != "ALL") report(name, "policy " + pname + " is FOR " + cmd + ", not FOR ALL");
            if (roles != want.roles) report(name, "policy " + pname + " applies TO " + roles + ", not " + want.roles);
            if (qual != want.qual) report(name, "policy " + pname + " USING " + qual + ", expected " + want.qual);
            if (check != want.with_check)
              report(name, "policy " + pname + " WITH CHECK " + check + ", expected " + want.with_check);
          });
    if (!have_policy) report(name, "no policy " + policy);
  }
  return out;
}

/// Throws RlsNotEnforced listing every mismatch rls_mismatches finds; returns when there is none.
inline void verify_rls(Connection& conn, const std::vector<const TableInfo*>& tables, const RlsVerifyOptions& opt = {}) {
  std::vector<RlsMismatch> ms = rls_mismatches(conn, tables, opt);
  if (!ms.empty()) throw RlsNotEnforced(std::move(ms));
}

/// verify_rls for the tables of entities Es (global ones are skipped).
template <class... Es>
void verify_rls(Connection& conn, const RlsVerifyOptions& opt = {}) {
  verify_rls(conn, std::vector<const TableInfo*>{&table_info<Es>()...}, opt);
}

}  // namespace pg
}  // namespace tenantry
