// examples/app/upgrade.hpp - the single-tenant -> multi-tenant upgrade, generated instead of
// written by hand (migrations/upgrade/<dialect>/0002_multi_tenant is the hand-written one).
//
//   auto live = tenantry::catalog::read_schema(db);     // a database at the single-tenant version
//   auto want = app::entity_schema(db);                 // what the entities describe
//   auto g = tenantry::migrate::generate(live, want, app::multi_tenant_upgrade_decisions(pg));
//
// The diff finds every change by itself (organizations is new, every table gains org_id, the
// global uniques become unique per org, indexes lead with org_id, constraints take tenantry's
// names). What it cannot know is what the app decides here:
//   * the existing rows join the default org: org_id is filled with its id;
//   * organizations gets that org as seed row when it is created;
//   * SQLite's tower_sessions.expiry_date changes from tower-sessions' INTEGER Unix seconds to
//     tenantry's ISO-8601 text (and back in the down file);
//   * going back (down) drops organizations and every org_id, which would lose the orgs, so it
//     is allowed explicitly, and refused while an org other than the default one exists.
#pragma once

#include "schema.hpp"

#include <tenantry/catalog.hpp>
#include <tenantry/schema_diff.hpp>

#include <string>
#include <type_traits>

namespace app {

inline constexpr std::string_view default_org_id = "00000000-0000-4000-8000-000000000001";

/// The decisions of the generated multi-tenant upgrade, for PostgreSQL (`postgres`) or SQLite.
inline tenantry::migrate::Decisions multi_tenant_upgrade_decisions(bool postgres) {
  using namespace tenantry::migrate;
  Decisions d;
  const std::string org = "'" + std::string(default_org_id) + "'";
  for_each_entity<OrgScopedEntities>([&]<class E>(std::type_identity<E>) {
    d.up.fills.push_back(Fill{tenantry::table_info<E>().name, "org_id", org});
  });
  const std::string now = postgres ? "now()" : "strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'";
  d.up.seeds.push_back(Seed{"organizations",
                            "INSERT INTO \"organizations\" (\"id\", \"slug\", \"display_name\", \"kc_client_id\","
                            " \"client_secret\", \"encryption_key\", \"status\", \"created_at\", \"updated_at\")\nVALUES (" +
                                org + ", 'default', 'Default organization', '', '', '', 'active', " + now + ", " + now + ")"});
  if (!postgres) {
    d.conversions.push_back(Conversion{"tower_sessions", "expiry_date",
                                       "strftime('%Y-%m-%dT%H:%M:%S.000000Z', \"expiry_date\", 'unixepoch')",
                                       "CAST(strftime('%s', \"expiry_date\") AS INTEGER)"});
  }
  d.down.guards.push_back(Guard{"other_orgs_exist_delete_them_before_going_back_to_single_tenant",
                                "SELECT COUNT(*) FROM \"organizations\" WHERE \"id\" <> " + org,
                                "other organizations exist: delete them before going back to single-tenant"});
  d.down.allow.push_back(Allow{"drop table", "organizations"});
  d.down.allow.push_back(Allow{"drop column", "*.org_id"});
  return d;
}

/// The schema the app's entities describe on `db`'s dialect (see catalog::entity_schema), with
/// the row-level security policies when `row_level_security`.
template <class Conn>
tenantry::catalog::Schema entity_schema(Conn& db, bool row_level_security = false) {
  return [&]<class... Es>(std::type_identity<std::tuple<Es...>>) {
    return tenantry::catalog::entity_schema<Es...>(db, tenantry::DdlOptions{.row_level_security = row_level_security});
  }(std::type_identity<AllEntities>{});
}

}  // namespace app
