// examples/org_schemas/main.cpp - the schema-per-org strategy (PostgreSQL): each org's notes in a
// schema of its own, the orgs themselves in a shared table in public, and the same repository
// code as with shared tables (target tenantry-org-schemas).
//
//   tenantry-org-schemas postgresql://user@host/db     (or DATABASE_URL)
//
// Prints the DDL that provisions one org, then provisions two orgs, writes and reads through an
// ordinary Repository, and removes everything it created. Exits 0 when every check held.
#include <tenantry/postgres.hpp>

#include <cstdlib>
#include <iostream>
#include <string>

struct ExampleOrg {  // global (declared in its entity<>), lives in public
  tenantry::Uuid id{};
  std::string name{};
};

struct ExampleNote {  // org-scoped: one table per org schema
  tenantry::Uuid id{};
  tenantry::OrgId org_id{};
  std::string title{};
};

template <>
struct tenantry::entity<ExampleOrg> {
  static constexpr auto scope = tenantry::global;  // shared by every org
  static constexpr std::string_view table = "example_orgs";
  static constexpr auto primary_key = key(&ExampleOrg::id);
};

template <>
struct tenantry::entity<ExampleNote> {
  static constexpr std::string_view table = "example_notes";
  static constexpr auto primary_key = key(&ExampleNote::id);
  static constexpr auto constraints = std::tuple{
      unique(&ExampleNote::org_id, &ExampleNote::title),
      foreign_key(&ExampleNote::org_id, &ExampleOrg::id, on_delete::cascade)};  // -> public.example_orgs
};

// The entity set that lives in one schema per org.
using TenantTables = tenantry::OrgSchemas<ExampleNote>;

namespace {
int failures = 0;
void expect(bool ok, const char* what) {
  std::cout << (ok ? "ok:     " : "FAILED: ") << what << '\n';
  failures += ok ? 0 : 1;
}
}  // namespace

int main(int argc, char** argv) {
  using namespace tenantry;
  const char* env = std::getenv("DATABASE_URL");
  const std::string url = argc > 1 ? argv[1] : env != nullptr ? env : "";
  if (url.empty()) {
    std::cerr << "usage: tenantry-org-schemas postgresql://... (or set DATABASE_URL)\n";
    return 2;
  }

  const OrgId acme = OrgId::random(), globex = OrgId::random();
  std::cout << TenantTables::create_sql(acme) << '\n';  // what provisioning an org runs

  // org_schemas: every org-scoped operation selects the org's schema for its transaction.
  pg::Connection db{url, pg::Options{.org_schemas = true}};
  create_tables<ExampleOrg>(db, DdlOptions{.if_not_exists = true});
  Repository<ExampleOrg, PgDialect> orgs{db};
  orgs.insert(ExampleOrg{acme.value, "Acme"});
  orgs.insert(ExampleOrg{globex.value, "Globex"});
  TenantTables::provision_org(db, acme);
  TenantTables::provision_org(db, globex);

  // The repository code is the one of the shared-table strategy.
  Repository<ExampleNote, PgDialect> notes{db};
  notes.insert(acme, ExampleNote{Uuid::random(), {}, "roadmap"});
  notes.insert(acme, ExampleNote{Uuid::random(), {}, "hiring"});
  const ExampleNote g = notes.insert(globex, ExampleNote{Uuid::random(), {}, "roadmap"});

  expect(notes.count(acme) == 2, "acme sees its two notes");
  expect(notes.count(globex) == 1, "globex sees its one note");
  expect(!notes.find(acme, g.id).has_value(), "acme cannot find globex's note by id");
  expect(!notes.erase(acme, g.id), "acme cannot delete globex's note");
  try {
    (void)notes.count(OrgId::random());
    expect(false, "an org without a schema is refused");
  } catch (const OrgNotProvisioned&) {
    expect(true, "an org without a schema is refused (OrgNotProvisioned)");
  }

  // Dropping an org drops its schema; the other org is untouched.
  expect(TenantTables::drop_org(db, acme), "acme's schema dropped");
  expect(notes.count(globex) == 1, "globex still has its note");

  // Clean up what this example created.
  TenantTables::drop_org(db, globex);
  orgs.erase(acme.value);
  orgs.erase(globex.value);
  if (orgs.count() == 0) db.execute("DROP TABLE example_orgs");
  std::cout << (failures == 0 ? "all checks held\n" : "some checks FAILED\n");
  return failures == 0 ? 0 : 1;
}
