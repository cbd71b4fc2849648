// examples/features/runtime_dialect.cpp - one code path for both databases: connect(url) opens
// SQLite or PostgreSQL by URL, and Repository<E> (dialect AnyDialect) runs on either.
//   tenantry-example-runtime-dialect [URL]      default sqlite::memory:
#include <tenantry/tenantry.hpp>

#include <iostream>
#include <string>

struct Event {
  tenantry::Uuid id{};
  tenantry::OrgId org_id{};
  std::string kind{};
  tenantry::Timestamp at{};
};

template <>
struct tenantry::entity<Event> {
  static constexpr std::string_view table = "tenantry_example_events";
  static constexpr auto primary_key = key(&Event::id);
};

int main(int argc, char** argv) {
  using namespace tenantry;
  const std::string url = argc > 1 ? argv[1] : "sqlite::memory:";
  Database db = connect(url);  // "sqlite:app.db", "postgres://...", "host=... dbname=..."; "" = DATABASE_URL
  std::cout << "connected to " << (db.is_postgres() ? "PostgreSQL" : "SQLite") << '\n';
  if (db.is_postgres()) db.execute("SET search_path TO pg_temp");  // leave nothing behind on a real server
  create_tables<Event>(db);
  Repository<Event> events{db};  // Repository<Event, AnyDialect>: one branch per call, not per column
  const OrgId org = OrgId::random();
  Event e{.id = Uuid::random(), .kind = "login", .at = Timestamp::now()};
  events.insert(org, e);
  const auto back = events.find(org, e.id);
  std::cout << "found " << (back ? back->kind : "nothing") << " at " << (back ? back->at.to_iso() : "") << '\n';
  return back && back->kind == "login" && back->at == e.at ? 0 : 1;
}
