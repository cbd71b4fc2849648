// Entities keyed by orgs that are not UUIDs (issue 10 class 4): a text-keyed set (Slug*, the
// org column named organization_id as in real schemas with `organization_id VARCHAR(64)`), a
// bigint-keyed set (Num*), each with a table scoped through its parent (*Secret), and schema-scoped entities (scope =
// tenantry::per_org_schema: no org column, one table per org schema). Used by tests/parity/org_keys_test.cpp, the unit
// tests and the compile-fail tests.
#pragma once

#include <tenantry/entity.hpp>
#include <tenantry/types.hpp>

#include <cstdint>
#include <string>

namespace org_keys {

using tenantry::IntOrgId;
using tenantry::OrgId;
using tenantry::TextOrgId;
using tenantry::Uuid;

struct SlugProject {
  Uuid id;
  TextOrgId organization_id;
  std::string name;
  std::int64_t rank = 0;
};

struct SlugTask {
  Uuid id;
  TextOrgId organization_id;
  Uuid project_id;
  std::string title;
};

struct NumProject {
  Uuid id;
  IntOrgId org_id;
  std::string name;
  std::int64_t rank = 0;
};

struct NumTask {
  Uuid id;
  IntOrgId org_id;
  Uuid project_id;
  std::string title;
};

/// Secrets with no org column of their own, scoped through their project (tenantry::through<>):
/// each row belongs to the org of its project, so its org type is the project's.
struct SlugSecret {
  Uuid id;
  Uuid project_id;
  std::string secret;
};
struct NumSecret {
  Uuid id;
  Uuid project_id;
  std::string secret;
};

/// A note in each (text-keyed) org's schema: no org column at all.
struct SlugNote {
  Uuid id;
  std::string body;
};

/// A UUID-keyed schema-scoped entity (the default org type).
struct Note {
  Uuid id;
  std::string body;
};

}  // namespace org_keys

template <>
struct tenantry::entity<org_keys::SlugProject> {
  static constexpr std::string_view table = "slug_projects";
  static constexpr auto primary_key = key(&org_keys::SlugProject::id);
  static constexpr auto constraints = std::tuple{
      unique(&org_keys::SlugProject::organization_id, &org_keys::SlugProject::name)};
};
template <>
struct tenantry::entity<org_keys::SlugTask> {
  static constexpr std::string_view table = "slug_tasks";
  static constexpr auto primary_key = key(&org_keys::SlugTask::id);
  static constexpr auto constraints = std::tuple{
      foreign_key(&org_keys::SlugTask::project_id, &org_keys::SlugProject::id, on_delete::cascade)};
};
template <>
struct tenantry::entity<org_keys::NumProject> {
  static constexpr std::string_view table = "num_projects";
  static constexpr auto primary_key = key(&org_keys::NumProject::id);
  static constexpr auto constraints = std::tuple{unique(&org_keys::NumProject::org_id, &org_keys::NumProject::name)};
};
template <>
struct tenantry::entity<org_keys::NumTask> {
  static constexpr std::string_view table = "num_tasks";
  static constexpr auto primary_key = key(&org_keys::NumTask::id);
  static constexpr auto constraints = std::tuple{
      foreign_key(&org_keys::NumTask::project_id, &org_keys::NumProject::id, on_delete::cascade)};
};
template <>
struct tenantry::entity<org_keys::SlugSecret> {
  static constexpr std::string_view table = "slug_secrets";
  static constexpr auto primary_key = key(&org_keys::SlugSecret::id);
  static constexpr auto scope = tenantry::through<&org_keys::SlugSecret::project_id>;
  static constexpr auto constraints = std::tuple{
      foreign_key(&org_keys::SlugSecret::project_id, &org_keys::SlugProject::id, on_delete::cascade)};
};
template <>
struct tenantry::entity<org_keys::NumSecret> {
  static constexpr std::string_view table = "num_secrets";
  static constexpr auto primary_key = key(&org_keys::NumSecret::id);
  static constexpr auto scope = tenantry::through<&org_keys::NumSecret::project_id>;
  static constexpr auto constraints = std::tuple{
      foreign_key(&org_keys::NumSecret::project_id, &org_keys::NumProject::id, on_delete::cascade)};
};
template <>
struct tenantry::entity<org_keys::SlugNote> {
  static constexpr std::string_view table = "slug_notes";
  static constexpr auto primary_key = key(&org_keys::SlugNote::id);
  static constexpr auto scope = tenantry::per_org_schema;
  using org_type = tenantry::TextOrgId;
};
template <>
struct tenantry::entity<org_keys::Note> {
  static constexpr std::string_view table = "notes";
  static constexpr auto primary_key = key(&org_keys::Note::id);
  static constexpr auto scope = tenantry::per_org_schema;
};
