// expect: a global entity has a column named like the org column of an org-scoped entity of the same set
// The set's org column is tenant_id; a global table with a plain tenant_id column is a table of
// org rows that nobody scopes.
#include "support/entities.hpp"

#include <tenantry/sqlite.hpp>

using namespace tenantry;

struct Tenant { Uuid id; std::string name; };
struct Note { Uuid id; OrgId org; std::string text; };
struct Upload { Uuid id; Uuid tenant_id; std::string path; };
template <> struct tenantry::entity<Tenant> {
  static constexpr auto scope = tenantry::global;
  static constexpr std::string_view table = "tenants";
  static constexpr auto primary_key = key(&Tenant::id);
};
template <> struct tenantry::entity<Note> {
  static constexpr std::string_view table = "notes";
  static constexpr auto primary_key = key(&Note::id);
  static constexpr auto columns = std::tuple{column(&Note::org).name("tenant_id")};
};
template <> struct tenantry::entity<Upload> {
  static constexpr auto scope = tenantry::global;
  static constexpr std::string_view table = "uploads";
  static constexpr auto primary_key = key(&Upload::id);
};
int main() { (void)schema_sql<SqliteDialect, Tenant, Note, Upload>(); }
