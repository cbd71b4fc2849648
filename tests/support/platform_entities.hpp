// Entities with platform rows (a std::optional<OrgId> org column, types.hpp PlatformScope), for
// the platform-row tests. Not part of fixtures::schema: the tests create them with
// platform_fixtures::create(conn) after the fixture schema (they reference its tables).
//
//   AuditEvent   rows of an org or of no org; UNIQUE (org_id, code), so platform rows get the
//                unique index (code) WHERE org_id IS NULL; org_id references organizations.
//   EventLink    rows of an org or of no org that reference an ApiToken (plain org-scoped) and
//                an AuditEvent (optional org): both tenant-safe composite keys, each with its
//                CHECK that a row of no org references nothing (schema.hpp, add_platform_rules).
//   EventNote    no org column: scoped through its AuditEvent (tenantry::through<&EventNote::
//                event_id>), so a note of a platform event belongs to the platform scope and a
//                note of an org's event to that org.
#pragma once

#include "support/entities.hpp"

#include <tenantry/ddl.hpp>
#include <tenantry/entity.hpp>

#include <optional>
#include <string>

namespace platform_fixtures {

using tenantry::OrgId;
using tenantry::Uuid;

struct AuditEvent {
  Uuid id;
  std::optional<OrgId> org_id;
  std::string code;
  std::string what;
  int level = 0;
};

struct EventLink {
  Uuid id;
  std::optional<OrgId> org_id;
  std::optional<Uuid> token_id;
  std::optional<Uuid> event_id;
  std::string note;
};

struct EventNote {
  Uuid id;
  Uuid event_id;
  std::string text;
};

inline AuditEvent make_event(std::string code, std::optional<OrgId> org = std::nullopt, int level = 1) {
  return AuditEvent{Uuid::random(), org, code, "what " + code, level};
}

}  // namespace platform_fixtures

template <>
struct tenantry::entity<platform_fixtures::AuditEvent> {
  using T = platform_fixtures::AuditEvent;
  static constexpr std::string_view table = "audit_events";
  static constexpr auto primary_key = key(&T::id);
  static constexpr auto constraints = std::tuple{
      unique(&T::org_id, &T::code), index(&T::org_id, &T::level),
      foreign_key(&T::org_id, &fixtures::Organization::id, on_delete::cascade)};
};

template <>
struct tenantry::entity<platform_fixtures::EventLink> {
  using T = platform_fixtures::EventLink;
  static constexpr std::string_view table = "event_links";
  static constexpr auto primary_key = key(&T::id);
  static constexpr auto constraints = std::tuple{
      foreign_key(&T::token_id, &fixtures::ApiToken::id, on_delete::cascade),
      foreign_key(&T::event_id, &platform_fixtures::AuditEvent::id, on_delete::cascade)};
};

template <>
struct tenantry::entity<platform_fixtures::EventNote> {
  using T = platform_fixtures::EventNote;
  static constexpr auto scope = tenantry::through<&T::event_id>;
  static constexpr std::string_view table = "event_notes";
  static constexpr auto primary_key = key(&T::id);
  static constexpr auto constraints = std::tuple{
      foreign_key(&T::event_id, &platform_fixtures::AuditEvent::id, on_delete::cascade)};
};

namespace platform_fixtures {

/// The DDL of the platform-row tables (after fixtures::schema: EventLink references api_tokens).
template <class D>
std::string schema(tenantry::DdlOptions opt = {}) {
  return tenantry::schema_sql<D, AuditEvent, EventLink, EventNote>(opt);
}
/// The audit_events table alone (schema per org: api_tokens is in each org's schema, so
/// event_links, which references it, cannot be created in public).
template <class D>
std::string events_schema(tenantry::DdlOptions opt = {}) {
  return tenantry::schema_sql<D, AuditEvent>(opt);
}

}  // namespace platform_fixtures
