// examples/features/errors.cpp - typed errors: every constraint violation is its own exception
// type naming the table and constraint, bad values are a ValueError, and nothing is half written.
#include <tenantry/sqlite.hpp>

#include <iostream>
#include <limits>
#include <string>

struct Team {
  tenantry::Uuid id{};
  tenantry::OrgId org_id{};
  std::string name{};
};
struct Member {
  tenantry::Uuid id{};
  tenantry::OrgId org_id{};
  tenantry::Uuid team_id{};
  std::string email{};
  std::int16_t age = 0;
};

template <>
struct tenantry::entity<Team> {
  static constexpr std::string_view table = "teams";
  static constexpr auto primary_key = key(&Team::id);
};
template <>
struct tenantry::entity<Member> {
  static constexpr std::string_view table = "members";
  static constexpr auto primary_key = key(&Member::id);
  static constexpr auto constraints = std::tuple{unique(&Member::org_id, &Member::email),
                                                 foreign_key(&Member::team_id, &Team::id, on_delete::cascade)};
};

int main() {
  using namespace tenantry;
  sqlite::Connection db{":memory:"};
  create_tables<Team, Member>(db);
  Repository<Team, SqliteDialect> teams{db};
  Repository<Member, SqliteDialect> members{db};
  const OrgId org = OrgId::random();
  Team t{.id = Uuid::random(), .name = "core"};
  teams.insert(org, t);
  members.insert(org, Member{.id = Uuid::random(), .team_id = t.id, .email = "ann@example.com"});

  int caught = 0;
  try {
    members.insert(org, Member{.id = Uuid::random(), .team_id = t.id, .email = "ann@example.com"});
  } catch (const UniqueViolation& e) {
    std::cout << "UniqueViolation on " << e.table() << ": " << e.constraint() << '\n';
    ++caught;
  }
  try {
    members.insert(org, Member{.id = Uuid::random(), .team_id = Uuid::random(), .email = "bo@example.com"});
  } catch (const ForeignKeyViolation& e) {
    std::cout << "ForeignKeyViolation: " << e.what() << '\n';
    ++caught;
  }
  // A tenant-safe foreign key: the team must be in the same org, so another org's team id is
  // refused as well.
  Team other{.id = Uuid::random(), .name = "theirs"};
  teams.insert(OrgId::random(), other);
  try {
    members.insert(org, Member{.id = Uuid::random(), .team_id = other.id, .email = "cy@example.com"});
  } catch (const ForeignKeyViolation&) {
    std::cout << "ForeignKeyViolation: another org's team\n";
    ++caught;
  }
  // A stored value that does not fit the field is a ValueError when read, naming the column.
  db.execute("UPDATE members SET age = 100000");
  try {
    (void)members.list(org);
  } catch (const ValueError& e) {
    std::cout << "ValueError: " << e.what() << '\n';
    ++caught;
  }
  // Every error is a tenantry::Error (and a std::runtime_error).
  try {
    teams.insert(org, t);
  } catch (const Error& e) {
    ++caught;
  }
  return caught == 5 && members.count(org) == 1 ? 0 : 1;
}
