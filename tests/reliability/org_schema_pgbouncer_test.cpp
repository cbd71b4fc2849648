// Schema per org through PgBouncer in transaction pooling mode (scripts/pgbouncer.sh,
// TENANTRY_PGBOUNCER_URL), with pg::Options{.server_prepared = false, .org_schemas = true}: two
// clients sharing PgBouncer's server sessions alternate orgs, each operation reads and writes its
// own org's schema, and no search path outlives its transaction to reach the other client.
// Without PgBouncer the test FAILs saying how to start it; it is never skipped.
#include "reliability/common.hpp"

#include <tenantry/tenantry.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

using namespace tenantry;
using rel::Item;

namespace {

/// The fresh test database `direct_url` names, reached through PgBouncer; FAILs when there is none.
std::string bouncer_url_for(const std::string& direct_url) {
  const char* env = std::getenv("TENANTRY_PGBOUNCER_URL");
  if (env == nullptr || *env == '\0')
    FAIL("TENANTRY_PGBOUNCER_URL is not set: run through scripts/test.sh, or `scripts/pgbouncer.sh start` and "
         "`export TENANTRY_PGBOUNCER_URL=$(scripts/pgbouncer.sh url)`.");
  std::string error;
  const std::string url = tenantry_test::pg_detail::url_for(env, rel::database_of(direct_url), error);
  if (url.empty()) FAIL(error);
  return url;
}

}  // namespace

TEST_CASE("PgBouncer: schema per org, the search path never leaks between clients",
          "[reliability][pgbouncer][org_schema]") {
  using Tables = OrgSchemas<Item>;
  const std::string direct = tenantry_test::pg_url();
  const std::string bouncer = bouncer_url_for(direct);
  const std::array<OrgId, 2> orgs{OrgId::random(), OrgId::random()};
  {
    pg::Connection admin(direct);
    for (const OrgId& org : orgs) Tables::provision_org(admin, org);
  }
  const pg::Options options{.server_prepared = false, .org_schemas = true};
  std::array<pg::Connection, 2> clients{pg::Connection(bouncer, options), pg::Connection(bouncer, options)};
  const std::string path = "SHOW search_path";
  const std::string default_path = rel::raw_text(clients[0], path);
  CHECK(default_path == "\"$user\", public");

  std::array<std::array<std::int64_t, 2>, 2> inserted{};
  std::array<std::set<std::int64_t>, 2> backends;
  const int rounds = 40;
  for (int round = 0; round < rounds; ++round) {
    for (int c = 0; c < 2; ++c) {
      CAPTURE(round, c);
      const int o = (round + c) % 2;  // client 0: A, B, A ...; client 1: B, A, B ...
      const OrgId& org = orgs[static_cast<std::size_t>(o)];
      pg::Connection& conn = clients[static_cast<std::size_t>(c)];
      Repository<Item, PgDialect> items{conn};
      // Outside a transaction a statement may run on any server session: none has an org's path.
      CHECK(rel::raw_text(conn, path) == default_path);
      Item row;
      row.id = Uuid::random();
      row.owner = "client" + std::to_string(c);
      row.name = row.owner + "-" + std::to_string(round);
      items.insert(org, row);
      ++inserted[static_cast<std::size_t>(c)][static_cast<std::size_t>(o)];
      CHECK(items.count(org, col(&Item::owner) == row.owner) == inserted[static_cast<std::size_t>(c)][static_cast<std::size_t>(o)]);
      {
        auto tx = conn.transaction();  // one server session for the whole transaction
        const std::int64_t n = items.count(org);
        backends[static_cast<std::size_t>(c)].insert(rel::raw_int(conn, "SELECT pg_backend_pid()"));
        CHECK(rel::raw_text(conn, path) == "\"" + Tables::schema_name(org) + "\", public");
        CHECK(rel::raw_int(conn, "SELECT count(*) FROM rel_items") == n);  // the unqualified name is the org's
        tx.commit();
      }
      CHECK(rel::raw_text(conn, path) == default_path);
    }
  }
  // The two clients ran on shared server sessions, so a path that outlived its transaction would
  // have reached the other client.
  std::set<std::int64_t> shared;
  for (auto pid : backends[0])
    if (backends[1].count(pid) != 0) shared.insert(pid);
  INFO("server sessions: client 0 " << backends[0].size() << ", client 1 " << backends[1].size());
  CHECK_FALSE(shared.empty());

  pg::Connection admin(direct);
  for (std::size_t o = 0; o < 2; ++o)
    CHECK(rel::raw_int(admin, "SELECT count(*) FROM \"" + Tables::schema_name(orgs[o]) + "\".rel_items") ==
          inserted[0][o] + inserted[1][o]);

  // Control, last because it pollutes a server session: a session-level path (SET search_path)
  // does reach the other client through PgBouncer. This is why tenantry sets it per transaction.
  clients[0].execute("SET search_path = \"" + Tables::schema_name(orgs[0]) + "\", public");
  CHECK(rel::raw_text(clients[1], path) == Tables::schema_name(orgs[0]) + ", public");  // SET drops needless quotes
  clients[0].execute("RESET search_path");
  CHECK(rel::raw_text(clients[1], path) == default_path);
}
