// examples/features/queries.cpp - predicates, ordering, paging, counts: list(), count(), exists().
// Values are always bound as parameters; the SQL text depends only on the query's shape.
#include <tenantry/sqlite.hpp>

#include <iostream>
#include <optional>
#include <string>
#include <vector>

enum class Status { open, closed };

struct Ticket {
  tenantry::Uuid id{};
  tenantry::OrgId org_id{};
  std::string title{};
  Status status = Status::open;
  int priority = 0;
  std::optional<std::string> assignee{};
};

template <>
struct tenantry::entity<Ticket> {
  static constexpr std::string_view table = "tickets";
  static constexpr auto primary_key = key(&Ticket::id);
};

int main() {
  using namespace tenantry;
  sqlite::Connection db{":memory:"};
  create_tables<Ticket>(db);
  Repository<Ticket, SqliteDialect> tickets{db};
  const OrgId org = OrgId::random();
  for (int i = 0; i < 10; ++i)
    tickets.insert(org, Ticket{.id = Uuid::random(),
                               .title = "ticket " + std::to_string(i),
                               .status = i % 3 == 0 ? Status::closed : Status::open,
                               .priority = i,
                               .assignee = i % 2 ? std::optional<std::string>("ann") : std::nullopt});

  const auto urgent = tickets.list(org, col(&Ticket::status) == Status::open && col(&Ticket::priority) >= 5,
                                   order_by(&Ticket::priority).desc(), limit(2));
  for (const Ticket& t : urgent) std::cout << t.title << " (priority " << t.priority << ")\n";  // 8, then 7

  const auto page2 = tickets.list(org, order_by(&Ticket::priority), limit(3), offset(3));  // 3, 4, 5
  const std::int64_t unassigned = tickets.count(org, col(&Ticket::assignee).is_null());    // 5
  const std::int64_t some = tickets.count(org, col(&Ticket::priority).in({1, 2, 3}));      // 3
  const bool any = tickets.exists(org, col(&Ticket::title).like("ticket 9%"));
  const bool none = !tickets.exists(OrgId::random());  // another org has nothing
  std::cout << "unassigned " << unassigned << ", in (1,2,3) " << some << '\n';
  return urgent.size() == 2 && urgent[0].priority == 8 && urgent[1].priority == 7 && page2.size() == 3 &&
                 page2[0].priority == 3 && unassigned == 5 && some == 3 && any && none
             ? 0
             : 1;
}
