// The whole package (find_package(tenantry) without COMPONENTS, tenantry::tenantry), compiled
// against the installed headers only: declares an org-scoped entity, opens an in-memory database
// through the run-time URL API, and runs a repository round trip.
#include <tenantry/tenantry.hpp>

#include <cstdio>
#include <cstring>
#include <string>

struct Note {
  tenantry::Uuid id;
  tenantry::OrgId org_id;
  std::string text;
};

template <>
struct tenantry::entity<Note> {
  static constexpr std::string_view table = "notes";
  static constexpr auto primary_key = key(&Note::id);
};

static_assert(tenantry::reflect::field_name<Note, 1> == "org_id");
static_assert(tenantry::org_scoped<Note>);

int main() {
  if (std::strcmp(tenantry::version_string, EXPECTED_VERSION_STRING) != 0) {
    std::printf("version.hpp says %s, the package %s\n", tenantry::version_string, EXPECTED_VERSION_STRING);
    return 1;
  }
  tenantry::Database db = tenantry::connect("sqlite::memory:");
  tenantry::create_tables<Note>(db);
  tenantry::Repository<Note> notes{db};
  const tenantry::OrgId org = tenantry::OrgId::random();
  Note n{tenantry::Uuid::random(), {}, "hello"};
  notes.insert(org, n);
  const auto found = notes.find(org, n.id);
  const bool ok = found && found->text == "hello" && notes.count(tenantry::OrgId::random()) == 0;
  std::printf("tenantry %s, downstream consumer: %s\n", tenantry::version_string, ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
