// The postgres component, compiled against the installed headers only, with sqlite3.h hidden
// (tests/downstream.cmake). Without a server it proves that libpq is linked and answers: a
// connection to a closed port is a ConnectionError. With TENANTRY_PG_URL it also runs a
// repository round trip in a table of its own (a temporary one, gone with the connection).
#include <tenantry/postgres.hpp>
#include <tenantry/version.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#ifdef SQLITE3_H
#error "the postgres component included the SQLite driver"
#endif

struct Note {
  tenantry::Uuid id;
  tenantry::OrgId org_id;
  std::string text;
};

template <>
struct tenantry::entity<Note> {
  static constexpr std::string_view table = "tenantry_downstream_notes";
  static constexpr auto primary_key = key(&Note::id);
};

int main() {
  if (std::strcmp(tenantry::version_string, EXPECTED_VERSION_STRING) != 0) {
    std::printf("version.hpp says %s, the package %s\n", tenantry::version_string, EXPECTED_VERSION_STRING);
    return 1;
  }
  bool refused = false;
  try {
    tenantry::pg::Connection nowhere{"postgresql://127.0.0.1:1/none?connect_timeout=2"};
  } catch (const tenantry::ConnectionError&) {
    refused = true;
  }
  if (!refused) {
    std::puts("tenantry postgres component: FAILED (a connection to port 1 did not fail)");
    return 1;
  }
  const char* url = std::getenv("TENANTRY_PG_URL");
  if (url == nullptr || *url == '\0') {
    std::printf("tenantry %s, postgres component: ok (libpq linked; no round trip: TENANTRY_PG_URL is not set)\n",
                tenantry::version_string);
    return 0;
  }
  tenantry::pg::Connection db{url};
  db.execute(
      "CREATE TEMPORARY TABLE tenantry_downstream_notes (id UUID PRIMARY KEY, org_id UUID NOT NULL, text TEXT NOT "
      "NULL)");
  tenantry::Repository<Note, tenantry::PgDialect> notes{db};
  const tenantry::OrgId org = tenantry::OrgId::random();
  Note n{tenantry::Uuid::random(), {}, "hello"};
  notes.insert(org, n);
  const auto found = notes.find(org, n.id);
  const bool ok = found && found->text == "hello" && notes.count(tenantry::OrgId::random()) == 0;
  std::printf("tenantry %s, postgres component: %s (round trip on the server)\n", tenantry::version_string,
              ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
