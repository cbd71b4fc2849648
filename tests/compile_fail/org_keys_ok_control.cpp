// expect: COMPILES
// What the org-key compile-fail tests refuse, done right: each entity's own org type, joins of
// one org type, schema-scoped entities on PostgreSQL with the org.
#include "support/org_key_entities.hpp"

#include <tenantry/tenantry.hpp>

#include <vector>

using namespace tenantry;
using namespace org_keys;

struct Count {
  std::int64_t n;
};

int main() {
  sqlite::Connection db(":memory:");
  Repository<SlugProject, SqliteDialect> projects{db};
  Repository<NumProject, SqliteDialect> numbers{db};
  const TextOrgId acme{"acme"};
  (void)projects.count(acme);
  (void)projects.find(acme, Uuid::random());
  (void)numbers.count(IntOrgId{7}, exists(select(col(&NumTask::id)).from<NumTask>()));
  (void)fetch(db, acme,
              select(col(&SlugProject::name), col(&SlugTask::title))
                  .from<SlugProject>()
                  .join<SlugTask>(col(&SlugTask::project_id) == col(&SlugProject::id)));
  (void)raw_query<Count>(db, acme, "SELECT COUNT(*) AS n FROM slug_projects WHERE organization_id = ?1");
  (void)raw_query<Count>(db, IntOrgId{7}, "SELECT COUNT(*) AS n FROM num_projects WHERE org_id = ?1");
  // Main's features with each org type: find_many, put, insert_many, streaming, a table scoped
  // through a text-keyed parent.
  (void)numbers.find_many(IntOrgId{7}, std::vector<Uuid>{});
  projects.put(acme, SlugProject{Uuid::random(), {}, "p", 0}, on_conflict(&SlugProject::organization_id, &SlugProject::name));
  std::vector<NumProject> batch;
  numbers.insert_many(IntOrgId{-1}, batch);
  stream_each_row(db, acme, select(col(&SlugProject::name)).from<SlugProject>(), [](const auto&) {});
  Repository<SlugSecret, SqliteDialect> secrets{db};
  (void)secrets.count(acme);
  (void)fetch(db, acme,
              select(col(&SlugSecret::secret))
                  .from<SlugSecret>()
                  .join<SlugProject>(col(&SlugSecret::project_id) == col(&SlugProject::id)));
  Database any = connect("sqlite::memory:");
  Repository<NumProject> any_numbers{any};
  (void)any_numbers.find(IntOrgId{7}, Uuid::random());
  Repository<SlugNote> any_notes{any};
  (void)any_notes.count(acme);
  pg::Connection pgc("postgresql://localhost/x", pg::Options{.org_schemas = true});
  Repository<SlugNote, PgDialect> notes{pgc};
  (void)notes.list(acme, col(&SlugNote::body) == std::string("x"));
  (void)fetch(pgc, acme, select(col(&SlugNote::body)).from<SlugNote>());
  OrgSchemas<SlugProject, SlugTask, SlugNote>::provision_org(pgc, acme);
  OrgSchemas<Note>::provision_org(pgc, OrgId::random());
}
