// examples/features/postgres.cpp - the PostgreSQL driver with row-level security: the same entity
// as on SQLite, policies generated from it, and org context (app.current_org_id) set by the
// repositories in each operation's transaction.
//   tenantry-example-postgres URL     (a postgres:// URL or a libpq keyword string)
#include <tenantry/postgres.hpp>

#include <iostream>
#include <string>

struct Doc {
  tenantry::Uuid id{};
  tenantry::OrgId org_id{};
  std::string title{};
};

template <>
struct tenantry::entity<Doc> {
  static constexpr std::string_view table = "docs";
  static constexpr auto primary_key = key(&Doc::id);
};

int main(int argc, char** argv) {
  using namespace tenantry;
  if (argc < 2) {
    std::cerr << "usage: tenantry-example-postgres URL\n";
    return 2;
  }
  pg::Connection db{argv[1], pg::Options{.org_context = true}};
  db.execute("SET search_path TO pg_temp");  // a temporary table: gone with the connection
  const DdlOptions rls{.row_level_security = true};
  for (const std::string& s : create_statements<Doc, PgDialect>(rls)) {
    std::cout << s << ";\n";
    if (s.find("CREATE TABLE") != std::string::npos || s.find("CREATE INDEX") != std::string::npos ||
        s.find("CREATE UNIQUE") != std::string::npos)
      db.execute(s);  // (policies on a temporary table are not allowed; a real schema gets them too)
  }
  Repository<Doc, PgDialect> docs{db};
  const OrgId org = OrgId::random();
  Doc d{.id = Uuid::random(), .title = "spec"};
  docs.insert(org, d);  // runs in a transaction that first sets app.current_org_id to org
  const bool ok = docs.find(org, d.id) && !docs.find(OrgId::random(), d.id) && docs.count(org) == 1;
  std::cout << "found in its org, not in another: " << (ok ? "yes" : "NO") << '\n';
  return ok ? 0 : 1;
}
