// examples/features/writes.cpp - every way to write: insert (generated columns read back),
// insert_many (all or nothing), update, update of some columns, set, upsert, update_where,
// erase, erase_where.
#include <tenantry/sqlite.hpp>

#include <iostream>
#include <string>
#include <vector>

struct Setting {
  std::int64_t id = 0;  // an identity column: the database assigns it, insert reads it back
  tenantry::OrgId org_id{};
  std::string name{};
  std::string value{};
  int version = 0;
  tenantry::Timestamp updated_at{};
};

template <>
struct tenantry::entity<Setting> {
  static constexpr std::string_view table = "settings";
  static constexpr auto primary_key = key(&Setting::id);
  static constexpr auto columns = std::tuple{column(&Setting::id).identity(),
                                             column(&Setting::updated_at).default_now()};
  static constexpr auto constraints = std::tuple{unique(&Setting::org_id, &Setting::name)};
};

int main() {
  using namespace tenantry;
  sqlite::Connection db{":memory:"};
  create_tables<Setting>(db);
  Repository<Setting, SqliteDialect> settings{db};
  const OrgId org = OrgId::random();

  Setting theme{.name = "theme", .value = "dark"};
  settings.insert(org, theme);  // theme.id and theme.updated_at now hold what the database made
  std::vector<Setting> more{{.name = "lang", .value = "en"}, {.name = "tz", .value = "UTC"}};
  settings.insert_many(org, more);  // one transaction: all rows or none

  theme.value = "light";
  settings.update(org, theme);  // every non-key column
  settings.update(org, Setting{.id = theme.id, .name = "theme", .value = "blue"}, only(&Setting::value));
  settings.set(org, theme.id, &Setting::version, 2);  // one column

  // Same (org, name): the upsert updates the existing row and reads it back (its id included).
  Setting lang{.name = "lang", .value = "fr"};
  settings.upsert(org, lang, on_conflict(&Setting::org_id, &Setting::name));
  const std::int64_t bumped = settings.update_where(org, col(&Setting::version) == 0,
                                                    assign(col(&Setting::version), 1));
  const std::int64_t gone = settings.erase_where(org, col(&Setting::name) == "tz");
  const bool erased = settings.erase(org, lang.id);

  const auto left = settings.list(org);
  std::cout << left.size() << " setting(s) left: " << left.at(0).name << " = " << left.at(0).value << " (version "
            << left.at(0).version << ")\n";
  return theme.id > 0 && lang.id == more[0].id && bumped == 2 && gone == 1 && erased && left.size() == 1 &&
                 left[0].value == "blue" && left[0].version == 2
             ? 0
             : 1;
}
