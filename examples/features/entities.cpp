// examples/features/entities.cpp - declaring entities: a plain struct, its table next to it, every
// mapped type, and the DDL both dialects derive from the one declaration.
#include <tenantry/ddl.hpp>
#include <tenantry/dialect/postgres.hpp>
#include <tenantry/dialect/sqlite.hpp>

#include <cstdint>
#include <iostream>
#include <optional>
#include <string>

enum class Plan { free, pro, enterprise };  // TEXT + CHECK ("plan" IN ('free', 'pro', 'enterprise'))

struct Organization {  // no OrgId field: a global table
  tenantry::Uuid id{};
  std::string slug{};
};

struct Project {
  tenantry::Uuid id{};
  tenantry::OrgId org_id{};  // an OrgId field: org-scoped; every operation takes the org
  std::string name{};
  Plan plan = Plan::free;
  std::optional<std::string> description{};  // nullable; everything else is NOT NULL
  std::int32_t seats = 1;                    // integers are range-checked both ways
  double budget = 0;
  bool archived = false;
  tenantry::Json settings{"{}"};  // TEXT + json_valid on SQLite, JSONB on PostgreSQL
  tenantry::Bytes logo{};         // BLOB / BYTEA
  tenantry::Timestamp created_at{};
};

template <>
struct tenantry::entity<Organization> {
  static constexpr auto scope = tenantry::global;  // no OrgId field: shared by every org, said out loud
  static constexpr std::string_view table = "organizations";
  static constexpr auto primary_key = key(&Organization::id);
  static constexpr auto constraints = std::tuple{unique(&Organization::slug)};
};

template <>
struct tenantry::entity<Project> {
  static constexpr std::string_view table = "projects";
  static constexpr auto primary_key = key(&Project::id);
  static constexpr auto columns = std::tuple{column(&Project::created_at).default_now(),
                                             column(&Project::seats).default_value(1)};
  static constexpr auto constraints = std::tuple{
      unique(&Project::org_id, &Project::name),  // names are unique within an org, not globally
      check(&Project::seats, ">", 0), index(&Project::org_id, desc(&Project::created_at)),
      foreign_key(&Project::org_id, &Organization::id, on_delete::cascade)};
};

int main() {
  const std::string sqlite = tenantry::schema_sql<tenantry::SqliteDialect, Organization, Project>();
  const std::string postgres = tenantry::schema_sql<tenantry::PgDialect, Organization, Project>();
  std::cout << "-- SQLite\n" << sqlite << "\n-- PostgreSQL\n" << postgres;
  const bool ok = sqlite.find("CHECK (\"plan\" IN ('free', 'pro', 'enterprise'))") != std::string::npos &&
                  postgres.find("\"settings\" JSONB NOT NULL") != std::string::npos &&
                  postgres.find("UNIQUE (\"org_id\", \"name\")") != std::string::npos;
  return ok ? 0 : 1;
}
