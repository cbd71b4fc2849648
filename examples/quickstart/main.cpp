// examples/quickstart/main.cpp - tenantry on one screen: declare an org-scoped table, create it,
// and use each basic repository operation (target tenantry-quickstart; exits 0 when all worked).
#include <tenantry/sqlite.hpp>

#include <iostream>
#include <string>

struct Note {
  tenantry::Uuid id{};
  tenantry::OrgId org_id{};  // this field makes Note org-scoped: every operation takes an OrgId
  std::string title{};
  std::string body{};
  bool pinned = false;
};

template <>
struct tenantry::entity<Note> {
  static constexpr std::string_view table = "notes";
  static constexpr auto primary_key = key(&Note::id);
  static constexpr auto constraints = std::tuple{unique(&Note::org_id, &Note::title),
                                                 index(&Note::org_id, &Note::pinned)};
};

int main() {
  using namespace tenantry;
  std::cout << create_table_sql<SqliteDialect>(table_info<Note>()) << ";\n\n";  // the DDL tenantry derives

  sqlite::Connection db{":memory:"};
  create_tables<Note>(db);
  Repository<Note, SqliteDialect> notes{db};
  const OrgId acme = OrgId::random(), globex = OrgId::random();

  Note n{.id = Uuid::random(), .title = "hello", .body = "first note"};
  notes.insert(acme, n);                                                      // n.org_id becomes acme
  const bool isolated = notes.find(acme, n.id) && !notes.find(globex, n.id);  // globex cannot see it

  // Same (org, title) as n: the upsert updates n's row instead of adding one.
  notes.upsert(acme, Note{.id = Uuid::random(), .title = "hello", .body = "edited"},
               on_conflict(&Note::org_id, &Note::title));
  notes.set(acme, n.id, &Note::pinned, true);
  for (const Note& x : notes.list(acme, col(&Note::pinned) == true, order_by(&Note::title), limit(10)))
    std::cout << x.title << ": " << x.body << '\n';  // hello: edited

  const bool erased = notes.erase(acme, n.id);
  std::cout << "isolated: " << isolated << ", erased: " << erased << ", left: " << notes.count(acme) << '\n';
  return isolated && erased && notes.count(acme) == 0 ? 0 : 1;
}
