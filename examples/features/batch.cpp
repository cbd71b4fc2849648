// examples/features/batch.cpp - several independent writes of one org as one batch: all or
// nothing, and on PostgreSQL one round trip (BEGIN, the org context, the statements, COMMIT in
// one pipeline) where single calls take one each.
//   tenantry-example-batch          on SQLite (in memory)
//   tenantry-example-batch URL      on SQLite, then on the PostgreSQL server at URL
#include <tenantry/batch.hpp>
#include <tenantry/postgres.hpp>
#include <tenantry/sqlite.hpp>

#include <iostream>
#include <string>

struct Item {
  tenantry::Uuid id{};
  tenantry::OrgId org_id{};
  std::string sku{};
  std::int64_t stock = 0;
};

template <>
struct tenantry::entity<Item> {
  static constexpr std::string_view table = "batch_items";
  static constexpr auto primary_key = key(&Item::id);
  static constexpr auto constraints = std::tuple{unique(&Item::org_id, &Item::sku), check(&Item::stock, ">=", 0)};
};

template <class Conn>
bool demo(Conn& db, const char* name) {
  using namespace tenantry;
  using D = typename Conn::dialect;
  Repository<Item, D> items{db};
  const OrgId acme = OrgId::random(), globex = OrgId::random();
  Item bolts{.id = Uuid::random(), .sku = "bolt", .stock = 10};
  items.insert(acme, bolts);
  Item theirs{.id = Uuid::random(), .sku = "bolt", .stock = 99};
  items.insert(globex, theirs);

  // A batch is bound to one org: nothing added to it names an org, so none can reach another.
  Batch batch(db, acme);
  Item nuts{.id = Uuid::random(), .sku = "nut", .stock = 5};
  const BatchRow<Item> nuts_at = batch.insert(nuts);  // the batch copies the row
  batch.set(bolts.id, &Item::stock, std::int64_t{7});
  const std::size_t stolen = batch.set(theirs.id, &Item::stock, std::int64_t{0});  // globex's row: not acme's
  const BatchResult done = batch.run();
  const Item& added = done.row(nuts_at);  // the row as written: acme's org, the database's columns
  std::cout << name << ": " << added.sku << "s added, bolts set to " << items.find(acme, bolts.id)->stock
            << ", globex's row changed: " << (done.changed(stolen) ? "yes" : "no") << '\n';

  // All or nothing: the CHECK refuses the second statement, so the first is not kept either.
  batch.insert(Item{.id = Uuid::random(), .sku = "washer", .stock = 1});
  batch.set(nuts.id, &Item::stock, std::int64_t{-1});
  bool refused = false;
  try {
    batch.run();
  } catch (const CheckViolation& e) {
    refused = e.batch_statement() == 1u;
    std::cout << name << ": " << e.what() << '\n';
  }
  return !done.changed(stolen) && added.org_id == acme && refused && items.count(acme) == 2 &&
         items.find(globex, theirs.id)->stock == 99 && items.find(acme, bolts.id)->stock == 7;
}

int main(int argc, char** argv) {
  using namespace tenantry;
  sqlite::Connection lite{":memory:"};
  create_tables<Item>(lite);
  bool ok = demo(lite, "sqlite");
  if (argc > 1) {
    pg::Connection pg{argv[1], pg::Options{.org_context = true}};
    pg.execute("SET search_path TO pg_temp");  // a temporary table: gone with the connection
    for (const std::string& s : create_statements<Item, PgDialect>()) pg.execute(s);
    ok = demo(pg, "postgres") && ok;
  }
  std::cout << (ok ? "ok" : "FAILED") << '\n';
  return ok ? 0 : 1;
}
