// Platform rows (types.hpp, PlatformScope): an entity whose org column is a
// std::optional<OrgId> holds rows of an org and rows of no org. The attacker's view first: an
// org call never reads, writes or erases a row of no org or of another org, through any
// operation; the platform scope never reaches an org's row. Every "nothing changed" is checked
// with plain SQL. Runs on every parity backend and on the schema-per-org strategy, where the
// table lives in public, shared (org_schema.hpp).
#include "support/backends.hpp"
#include "support/platform_entities.hpp"

#include <algorithm>
#include <map>
#include <string>
#include <tuple>
#include <vector>

using namespace tenantry;
using fixtures::ApiToken;
using parity::Repo;
using platform_fixtures::AuditEvent;
using platform_fixtures::EventLink;
using platform_fixtures::make_event;
using testdb::expect_throw;

namespace {

template <class B>
void create_platform_tables(typename B::Conn& conn, bool with_links) {
  const auto ddl = [&](auto dialect) {
    using D = decltype(dialect);
    return with_links ? platform_fixtures::schema<D>() : platform_fixtures::events_schema<D>();
  };
  if constexpr (std::is_same_v<typename B::Conn, Database>)
    conn.execute(conn.is_postgres() ? ddl(PgDialect{}) : ddl(SqliteDialect{}));
  else conn.execute(ddl(typename B::Conn::dialect{}));
}

/// Every stored event as "org|code|what|level" (org "-" for none), bypassing every filter.
template <class Conn>
std::vector<std::string> stored_events(Conn& conn) {
  std::vector<std::string> out;
  parity::raw_query(conn,
                    "SELECT COALESCE(CAST(org_id AS TEXT), '-'), code, what, CAST(level AS TEXT) FROM audit_events "
                    "ORDER BY 1, 2",
                    [&](auto& st) {
                      out.push_back(std::string(st.column_text(0)) + "|" + std::string(st.column_text(1)) + "|" +
                                    std::string(st.column_text(2)) + "|" + std::string(st.column_text(3)));
                    });
  return out;
}

/// Every stored note's text, sorted, bypassing every filter.
template <class Conn>
std::vector<std::string> stored_notes(Conn& conn) {
  std::vector<std::string> out;
  parity::raw_query(conn, "SELECT text FROM event_notes ORDER BY text",
                    [&](auto& st) { out.push_back(std::string(st.column_text(0))); });
  return out;
}

std::vector<std::string> codes(std::vector<AuditEvent> rows) {
  std::vector<std::string> out;
  for (const auto& r : rows) out.push_back(r.code);
  std::sort(out.begin(), out.end());
  return out;
}

template <class B>
struct Events {
  typename B::Conn conn = B::open();
  OrgId a = parity::add_org(conn, "org-a");
  OrgId b = parity::add_org(conn, "org-b");
  bool links = !parity::schema_per_org<B>;
  Repo<B, AuditEvent> events = [this] {
    create_platform_tables<B>(conn, links);
    return Repo<B, AuditEvent>{conn};
  }();
  AuditEvent a1 = events.insert(a, make_event("x", a));
  AuditEvent b1 = events.insert(b, make_event("x", b));
  AuditEvent p1 = events.insert(platform, make_event("x"));
  AuditEvent p2 = events.insert(platform, make_event("y"));
  std::vector<std::string> before = stored_events(conn);
};

}  // namespace

TEMPLATE_TEST_CASE("platform rows: an org call never reads a row of no org or of another org",
                   "[parity][tenancy][platform]", ORG_ISOLATION_BACKENDS) {
  Events<TestType> e;
  auto& ev = e.events;
  CHECK(e.before.size() == 4);
  CHECK_FALSE(ev.find(e.a, e.p1.id).has_value());
  CHECK_FALSE(ev.find(e.a, e.b1.id).has_value());
  CHECK(ev.find(e.a, e.a1.id)->org_id == std::optional<OrgId>(e.a));
  CHECK(codes(ev.list(e.a)) == std::vector<std::string>{"x"});
  CHECK(ev.list(e.a, col(&AuditEvent::code) == "y").empty());
  // A user's OR stays inside its parentheses: it cannot widen the org filter to NULL orgs.
  CHECK(ev.list(e.a, col(&AuditEvent::code) == "y" || col(&AuditEvent::level) >= 0).size() == 1);
  CHECK(ev.list(e.a, col(&AuditEvent::org_id) == std::optional<OrgId>{}).empty());
  CHECK(ev.count(e.a) == 1);
  CHECK(ev.count(e.b) == 1);
  CHECK_FALSE(ev.exists(e.a, col(&AuditEvent::id) == e.p1.id));
  CHECK_FALSE(ev.exists(e.a, col(&AuditEvent::id) == e.b1.id));
  CHECK(stored_events(e.conn) == e.before);
}

TEMPLATE_TEST_CASE("platform rows: an org call never writes or erases a row of no org or of another org",
                   "[parity][tenancy][platform]", ORG_ISOLATION_BACKENDS) {
  Events<TestType> e;
  auto& ev = e.events;
  // A platform row's key named by org A: nothing matches.
  AuditEvent p1_as_a = e.p1;
  p1_as_a.org_id = e.a;
  p1_as_a.what = "taken";
  CHECK_FALSE(ev.update(e.a, p1_as_a));
  CHECK_FALSE(ev.update(e.a, p1_as_a, only(&AuditEvent::what)));
  CHECK_FALSE(ev.set(e.a, e.p1.id, &AuditEvent::what, std::string("taken")));
  CHECK_FALSE(ev.erase(e.a, e.p1.id));
  CHECK_FALSE(ev.erase(e.a, e.b1.id));
  // A row of no org (or of another org) given to an org call is an OrgMismatch: nothing written.
  expect_throw<OrgMismatch>([&] { ev.update(e.a, e.p1); });
  expect_throw<OrgMismatch>([&] { ev.update(e.a, e.b1); });
  expect_throw<OrgMismatch>([&] { ev.insert(e.a, make_event("n")); });
  expect_throw<OrgMismatch>([&] { ev.insert(e.a, make_event("n", e.b)); });
  std::vector<AuditEvent> batch{make_event("m1", e.a), make_event("m2")};
  expect_throw<OrgMismatch>([&] { ev.insert_many(e.a, batch); });
  expect_throw<OrgMismatch>(
      [&] { ev.upsert(e.a, make_event("y"), on_conflict(&AuditEvent::org_id, &AuditEvent::code)); });
  // An upsert of org A on a platform row's id: the guarded DO UPDATE refuses it.
  AuditEvent on_p1 = make_event("z", e.a);
  on_p1.id = e.p1.id;
  expect_throw<UniqueViolation>([&] { ev.upsert(e.a, on_p1, on_conflict(&AuditEvent::id)); });
  CHECK(stored_events(e.conn) == e.before);
  // Bulk statements touch org A's row only.
  CHECK(ev.update_where(e.a, col(&AuditEvent::level) >= 0, assign(col(&AuditEvent::what), std::string("bulk"))) == 1);
  CHECK(ev.erase_where(e.a, col(&AuditEvent::level) >= 0 || col(&AuditEvent::code) == "y") == 1);
  // Org A's upsert on (org, code) "y" is a new row of A: the platform "y" is not its conflict.
  const AuditEvent a_y = ev.upsert(e.a, make_event("y", e.a), on_conflict(&AuditEvent::org_id, &AuditEvent::code));
  CHECK(a_y.org_id == std::optional<OrgId>(e.a));
  auto after = stored_events(e.conn);
  std::vector<std::string> others;
  for (const auto& r : after)
    if (r.rfind(e.a.to_string(), 0) != 0) others.push_back(r);
  std::vector<std::string> others_before;
  for (const auto& r : e.before)
    if (r.rfind(e.a.to_string(), 0) != 0) others_before.push_back(r);
  CHECK(others == others_before);
  CHECK(ev.count(e.a) == 1);
  CHECK(ev.count(platform) == 2);
}

TEMPLATE_TEST_CASE("platform rows: the platform scope reaches only rows of no org", "[parity][tenancy][platform]",
                   ORG_ISOLATION_BACKENDS) {
  Events<TestType> e;
  auto& ev = e.events;
  CHECK_FALSE(ev.find(platform, e.a1.id).has_value());
  CHECK(ev.find(platform, e.p1.id)->code == "x");
  CHECK_FALSE(ev.find(platform, e.p1.id)->org_id.has_value());
  CHECK(codes(ev.list(platform)) == std::vector<std::string>{"x", "y"});
  CHECK(codes(ev.list(platform, col(&AuditEvent::code) == "x" || col(&AuditEvent::level) > 100)) ==
        std::vector<std::string>{"x"});
  CHECK(ev.count(platform) == 2);
  CHECK_FALSE(ev.exists(platform, col(&AuditEvent::id) == e.a1.id));
  // Writes: an org's row is out of reach; a row carrying an org is an OrgMismatch.
  AuditEvent a1_none = e.a1;
  a1_none.org_id = std::nullopt;
  CHECK_FALSE(ev.update(platform, a1_none));
  CHECK_FALSE(ev.set(platform, e.a1.id, &AuditEvent::what, std::string("taken")));
  CHECK_FALSE(ev.erase(platform, e.a1.id));
  expect_throw<OrgMismatch>([&] { ev.update(platform, e.a1); });
  expect_throw<OrgMismatch>([&] { ev.insert(platform, make_event("n", e.a)); });
  std::vector<AuditEvent> batch{make_event("m1"), make_event("m2", e.b)};
  expect_throw<OrgMismatch>([&] { ev.insert_many(platform, batch); });
  AuditEvent on_a1 = make_event("z");
  on_a1.id = e.a1.id;
  expect_throw<UniqueViolation>([&] { ev.upsert(platform, on_a1, on_conflict(&AuditEvent::id)); });
  CHECK(stored_events(e.conn) == e.before);
  // The platform upsert on (org, code) hits the platform row "x", not org A's or B's.
  AuditEvent x2 = make_event("x");
  x2.what = "platform x updated";
  const AuditEvent back = ev.upsert(platform, std::as_const(x2), on_conflict(&AuditEvent::org_id, &AuditEvent::code));
  CHECK(back.id == e.p1.id);
  CHECK(back.what == "platform x updated");
  CHECK(ev.find(e.a, e.a1.id)->what == e.a1.what);
  CHECK(ev.find(e.b, e.b1.id)->what == e.b1.what);
  // Bulk statements touch rows of no org only.
  CHECK(ev.update_where(platform, col(&AuditEvent::level) >= 0, assign(col(&AuditEvent::level), 7)) == 2);
  CHECK(ev.erase_where(platform, col(&AuditEvent::level) >= 0 || col(&AuditEvent::code) == "x") == 2);
  CHECK(ev.count(platform) == 0);
  CHECK(ev.find(e.a, e.a1.id)->level == e.a1.level);
  CHECK(ev.count(e.a) == 1);
  CHECK(ev.count(e.b) == 1);
  // insert_many and set in the platform scope.
  std::vector<AuditEvent> more{make_event("q1"), make_event("q2")};
  ev.insert_many(platform, more);
  CHECK(ev.set(platform, more[0].id, &AuditEvent::level, 9));
  CHECK(ev.find(platform, more[0].id)->level == 9);
  CHECK(ev.count(platform) == 2);
}

TEMPLATE_TEST_CASE("platform rows: UNIQUE (org, code) holds among the rows of no org too",
                   "[parity][tenancy][platform]", ORG_ISOLATION_BACKENDS) {
  Events<TestType> e;
  // NULLs are distinct in a UNIQUE: the partial unique index (code) WHERE org_id IS NULL is what
  // refuses a second platform "x".
  const auto dup = expect_throw<UniqueViolation>([&] { e.events.insert(platform, make_event("x")); });
  CHECK(dup.constraint() == "ux_audit_events_code_platform");
  // The same code in an org and in the platform scope are different rows.
  e.events.insert(e.a, make_event("y", e.a));
  CHECK(e.events.count(e.a) == 2);
  CHECK(stored_events(e.conn).size() == 5);
}

TEMPLATE_TEST_CASE("platform rows: queries (joins, subqueries, aggregates, insert_select) in either scope",
                   "[parity][tenancy][platform][query]", PARITY_BACKENDS) {
  Events<TestType> e;
  Repo<TestType, EventLink> links{e.conn};
  Repo<TestType, ApiToken> tokens{e.conn};
  const ApiToken ta = tokens.insert(e.a, testdb::make_token("ta"));
  links.insert(e.a, EventLink{Uuid::random(), e.a, ta.id, e.a1.id, "x"});
  links.insert(e.b, EventLink{Uuid::random(), e.b, std::nullopt, e.b1.id, "x"});
  links.insert(platform, EventLink{Uuid::random(), std::nullopt, std::nullopt, std::nullopt, "y"});

  const auto per_code = select(col(&AuditEvent::code), count()).from<AuditEvent>().group_by(col(&AuditEvent::code));
  using PerCode = std::vector<std::tuple<std::string, std::int64_t>>;
  CHECK(fetch(e.conn, e.a, per_code.order_by(col(&AuditEvent::code))) == PerCode{{"x", 1}});
  CHECK(fetch(e.conn, platform, per_code.order_by(col(&AuditEvent::code))) == PerCode{{"x", 1}, {"y", 1}});

  // A join on the code: org A joins its rows only; the platform scope its rows of no org only.
  const auto joined = select(col(&AuditEvent::id), col(&EventLink::note))
                          .from<AuditEvent>()
                          .join<EventLink>(col(&EventLink::note) == col(&AuditEvent::code));
  using Joined = std::vector<std::tuple<Uuid, std::string>>;
  CHECK(fetch(e.conn, e.a, joined) == Joined{{e.a1.id, "x"}});
  CHECK(fetch(e.conn, platform, joined) == Joined{{e.p2.id, "y"}});
  // A left join keeps the FROM rows and joins none of another scope.
  const auto left = select(col(&AuditEvent::code), col(&EventLink::note))
                        .from<AuditEvent>()
                        .left_join<EventLink>(col(&EventLink::note) == col(&AuditEvent::code))
                        .order_by(col(&AuditEvent::code));
  using Left = std::vector<std::tuple<std::string, std::optional<std::string>>>;
  CHECK(fetch(e.conn, platform, left) == Left{{"x", std::nullopt}, {"y", "y"}});
  // Subqueries: filtered in the same scope.
  const auto with_link = select(col(&AuditEvent::code))
                             .from<AuditEvent>()
                             .where(in(col(&AuditEvent::code), select(col(&EventLink::note)).from<EventLink>()));
  CHECK(fetch(e.conn, e.a, with_link) == std::vector<std::tuple<std::string>>{{"x"}});
  CHECK(fetch(e.conn, platform, with_link) == std::vector<std::tuple<std::string>>{{"y"}});
  const auto no_link = select(col(&AuditEvent::code))
                           .from<AuditEvent>()
                           .where(not_exists(from<EventLink>().where(col(&EventLink::note) == col(&AuditEvent::code))));
  CHECK(fetch(e.conn, platform, no_link) == std::vector<std::tuple<std::string>>{{"x"}});
  CHECK(fetch_one(e.conn, platform, select(count()).from<AuditEvent>()) == std::tuple<std::int64_t>{2});
  // INSERT ... SELECT: the platform scope copies rows of no org into rows of no org.
  const auto copy = select(col(&AuditEvent::id), col(&AuditEvent::what)).from<AuditEvent>();
  CHECK(insert_select(e.conn, platform, into(&EventLink::id, &EventLink::note), copy) == 2);
  CHECK(links.count(platform) == 3);
  CHECK(insert_select(e.conn, e.a, into(&EventLink::id, &EventLink::note), copy) == 1);
  CHECK(links.count(e.a) == 2);
  CHECK(links.count(e.b) == 1);
  CHECK(parity::raw_count(e.conn, "SELECT COUNT(*) FROM event_links WHERE org_id IS NULL") == 3);
  CHECK(stored_events(e.conn) == e.before);
}

TEMPLATE_TEST_CASE("platform rows: references from a table with an optional org are tenant-safe",
                   "[parity][tenancy][platform][fk]", PARITY_BACKENDS) {
  Events<TestType> e;
  Repo<TestType, EventLink> links{e.conn};
  Repo<TestType, ApiToken> tokens{e.conn};
  const ApiToken tb = tokens.insert(e.b, testdb::make_token("tb"));
  // A composite key with a NULL column is not checked (MATCH SIMPLE): without the CHECK a row of
  // no org could point at org B's token. The CHECK refuses any reference from a row of no org.
  expect_throw<CheckViolation>([&] {
    links.insert(platform, EventLink{Uuid::random(), std::nullopt, tb.id, std::nullopt, "steal"});
  });
  expect_throw<CheckViolation>([&] {
    links.insert(platform, EventLink{Uuid::random(), std::nullopt, std::nullopt, e.p1.id, "p"});
  });
  // An org row references its own org's rows only: not B's token, not a platform event.
  expect_throw<ForeignKeyViolation>([&] {
    links.insert(e.a, EventLink{Uuid::random(), e.a, tb.id, std::nullopt, "cross"});
  });
  expect_throw<ForeignKeyViolation>([&] {
    links.insert(e.a, EventLink{Uuid::random(), e.a, std::nullopt, e.p1.id, "to platform"});
  });
  links.insert(e.b, EventLink{Uuid::random(), e.b, tb.id, e.b1.id, "own"});
  links.insert(platform, EventLink{Uuid::random(), std::nullopt, std::nullopt, std::nullopt, "free"});
  // B's delete cascades within B only.
  CHECK(tokens.erase(e.b, tb.id));
  CHECK(links.count(e.b) == 0);
  CHECK(links.count(platform) == 1);
}

// ---- the statement forms that came with the query layer and the performance work ------------

TEMPLATE_TEST_CASE("platform rows: find_many keeps to its scope", "[parity][tenancy][platform]",
                   ORG_ISOLATION_BACKENDS) {
  Events<TestType> e;
  auto& ev = e.events;
  // Every id of every scope, one of them twice: each scope finds its own rows only.
  const std::vector<Uuid> all{e.a1.id, e.b1.id, e.p1.id, e.p2.id, e.p1.id};
  const auto of_a = ev.find_many(e.a, all);
  REQUIRE(of_a.size() == 1);
  CHECK(of_a[0].id == e.a1.id);
  const auto of_platform = ev.find_many(platform, all);
  CHECK(codes(of_platform) == std::vector<std::string>{"x", "y"});
  for (const auto& r : of_platform) CHECK_FALSE(r.org_id.has_value());
  CHECK(ev.find_many(platform, std::vector<Uuid>{e.a1.id, e.b1.id}).empty());
  CHECK(ev.find_many(e.b, std::vector<Uuid>{e.p1.id, e.p2.id, e.a1.id}).empty());
  // The same call signature alternating between an org and the platform scope: each call gets
  // its own scope's statement (the shape-key memo keys on the scope too).
  for (int i = 0; i < 3; ++i) {
    CHECK(codes(ev.list(e.a, col(&AuditEvent::level) >= 0)) == std::vector<std::string>{"x"});
    CHECK(codes(ev.list(platform, col(&AuditEvent::level) >= 0)) == std::vector<std::string>{"x", "y"});
    CHECK(ev.count(platform, col(&AuditEvent::level) >= 0) == 2);
    CHECK(ev.count(e.b, col(&AuditEvent::level) >= 0) == 1);
    CHECK(ev.update_where(platform, col(&AuditEvent::level) >= 0, assign(col(&AuditEvent::level), 1)) == 2);
    CHECK(ev.update_where(e.a, col(&AuditEvent::level) >= 0, assign(col(&AuditEvent::level), 1)) == 1);
  }
  CHECK(stored_events(e.conn) == e.before);
}

TEMPLATE_TEST_CASE("platform rows: put keeps to its scope", "[parity][tenancy][platform]", ORG_ISOLATION_BACKENDS) {
  Events<TestType> e;
  auto& ev = e.events;
  // A conflict with a row of another scope writes nothing: the guarded DO UPDATE refuses it.
  AuditEvent on_p1 = make_event("z", e.a);
  on_p1.id = e.p1.id;
  expect_throw<UniqueViolation>([&] { ev.put(e.a, on_p1, on_conflict(&AuditEvent::id)); });
  AuditEvent on_a1 = make_event("z");
  on_a1.id = e.a1.id;
  expect_throw<UniqueViolation>([&] { ev.put(platform, on_a1, on_conflict(&AuditEvent::id)); });
  // A row of the wrong scope is an OrgMismatch.
  expect_throw<OrgMismatch>([&] { ev.put(e.a, make_event("n"), on_conflict(&AuditEvent::id)); });
  expect_throw<OrgMismatch>([&] { ev.put(platform, make_event("n", e.b), on_conflict(&AuditEvent::id)); });
  CHECK(stored_events(e.conn) == e.before);
  // On (org, code): the platform put of "x" updates the platform "x" only.
  AuditEvent px = make_event("x");
  px.what = "platform put";
  ev.put(platform, px, on_conflict(&AuditEvent::org_id, &AuditEvent::code));
  CHECK(ev.find(platform, e.p1.id)->what == "platform put");
  CHECK(ev.find(e.a, e.a1.id)->what == e.a1.what);
  CHECK(ev.find(e.b, e.b1.id)->what == e.b1.what);
  // Org A's put of "y" is a new row of A, not an update of the platform "y".
  AuditEvent ay = make_event("y", e.a);
  ay.what = "a put";
  ev.put(e.a, ay, on_conflict(&AuditEvent::org_id, &AuditEvent::code));
  CHECK(ev.find(platform, e.p2.id)->what == e.p2.what);
  CHECK(ev.find(e.a, ay.id)->what == "a put");
  // A new platform row (an engaged nil org counts as none) is stored with no org.
  AuditEvent pn = make_event("new");
  pn.org_id = OrgId{};
  ev.put(platform, pn, on_conflict(&AuditEvent::org_id, &AuditEvent::code));
  CHECK(parity::raw_count(e.conn, "SELECT COUNT(*) FROM audit_events WHERE org_id IS NULL") == 3);
  CHECK(ev.count(e.a) == 2);
  CHECK(ev.count(e.b) == 1);
}

TEMPLATE_TEST_CASE("platform rows: insert_many of many rows (unnest on PostgreSQL) keeps to its scope",
                   "[parity][tenancy][platform]", ORG_ISOLATION_BACKENDS) {
  Events<TestType> e;
  auto& ev = e.events;
  std::vector<AuditEvent> pm{make_event("m1"), make_event("m2"), make_event("m3")};
  ev.insert_many(platform, pm);
  std::vector<AuditEvent> am{make_event("m1", e.a), make_event("m2", e.a), make_event("m3", OrgId{})};
  ev.insert_many(e.a, am);
  CHECK(parity::raw_count(e.conn, "SELECT COUNT(*) FROM audit_events WHERE org_id IS NULL") == 5);
  CHECK(ev.count(platform) == 5);
  CHECK(ev.count(e.a) == 4);
  CHECK(ev.count(e.b) == 1);
  const auto before = stored_events(e.conn);
  // A platform batch with a code twice, or one another platform row has: the partial unique
  // index refuses it and nothing of the batch is written.
  std::vector<AuditEvent> twice{make_event("d1"), make_event("d2"), make_event("d1")};
  expect_throw<UniqueViolation>([&] { ev.insert_many(platform, twice); });
  std::vector<AuditEvent> taken{make_event("d3"), make_event("x")};
  expect_throw<UniqueViolation>([&] { ev.insert_many(platform, taken); });
  // Rows of the wrong scope anywhere in a batch: OrgMismatch, nothing written.
  std::vector<AuditEvent> mixed{make_event("d4"), make_event("d5"), make_event("d6", e.a)};
  expect_throw<OrgMismatch>([&] { ev.insert_many(platform, mixed); });
  std::vector<AuditEvent> mixed_a{make_event("d4", e.a), make_event("d5", e.a), make_event("d6")};
  expect_throw<OrgMismatch>([&] { ev.insert_many(e.a, mixed_a); });
  CHECK(stored_events(e.conn) == before);
  // The platform's codes are free for an org's batch.
  std::vector<AuditEvent> reuse{make_event("x", e.b), make_event("y", e.b), make_event("m1", e.b)};
  expect_throw<UniqueViolation>([&] { ev.insert_many(e.b, reuse); });  // B already has "x"
  reuse.erase(reuse.begin());
  ev.insert_many(e.b, reuse);
  CHECK(ev.count(e.b) == 3);
  CHECK(ev.count(platform) == 5);
}

TEMPLATE_TEST_CASE("platform rows: for_each_row and stream_each_row in either scope",
                   "[parity][tenancy][platform][query]", ORG_ISOLATION_BACKENDS) {
  Events<TestType> e;
  const auto q =
      select(col(&AuditEvent::id), col(&AuditEvent::code)).from<AuditEvent>().order_by(col(&AuditEvent::code));
  std::vector<Uuid> seen;
  for_each_row(e.conn, platform, q, [&](const auto& row) { seen.push_back(std::get<0>(row)); });
  CHECK(seen == std::vector<Uuid>{e.p1.id, e.p2.id});
  seen.clear();
  stream_each_row(e.conn, platform, q, [&](const auto& row) { seen.push_back(std::get<0>(row)); });
  CHECK(seen == std::vector<Uuid>{e.p1.id, e.p2.id});
  seen.clear();
  stream_each_row(e.conn, e.a, q, [&](const auto& row) { seen.push_back(std::get<0>(row)); });
  CHECK(seen == std::vector<Uuid>{e.a1.id});
  CHECK(fetch_one(e.conn, platform, q.where(col(&AuditEvent::id) == e.a1.id)) == std::nullopt);
}

TEMPLATE_TEST_CASE("platform rows: a table scoped through a parent with an optional org",
                   "[parity][tenancy][platform][parent]", PARITY_BACKENDS) {
  using platform_fixtures::EventNote;
  Events<TestType> e;
  Repo<TestType, EventNote> notes{e.conn};
  const EventNote na = notes.insert(e.a, EventNote{Uuid::random(), e.a1.id, "a"});
  const EventNote nb = notes.insert(e.b, EventNote{Uuid::random(), e.b1.id, "b"});
  // Org A cannot hang a note on a platform event, or on B's: nothing is written.
  expect_throw<OrgMismatch>([&] { notes.insert(e.a, EventNote{Uuid::random(), e.p1.id, "steal"}); });
  expect_throw<OrgMismatch>([&] { notes.insert(e.a, EventNote{Uuid::random(), e.b1.id, "steal"}); });
  std::vector<EventNote> batch{EventNote{Uuid::random(), e.a1.id, "ok"}, EventNote{Uuid::random(), e.p2.id, "steal"}};
  expect_throw<OrgMismatch>([&] { notes.insert_many(e.a, batch); });
  expect_throw<OrgMismatch>([&] {
    notes.put(e.a, EventNote{Uuid::random(), e.p1.id, "steal"}, on_conflict(&EventNote::id));
  });
  CHECK(parity::raw_count(e.conn, "SELECT COUNT(*) FROM event_notes") == 2);
  // Notes of platform events (the library writes none: no platform form for this table).
  const Uuid np1 = Uuid::random(), np2 = Uuid::random();
  parity::raw_query(
      e.conn, "INSERT INTO event_notes (id, event_id, text) VALUES (?1, ?2, 'p1')", [](auto&) {}, np1, e.p1.id);
  parity::raw_query(
      e.conn, "INSERT INTO event_notes (id, event_id, text) VALUES (?1, ?2, 'p2')", [](auto&) {}, np2, e.p2.id);
  // Org calls: a note of a platform event is out of reach.
  CHECK_FALSE(notes.find(e.a, np1).has_value());
  CHECK(notes.find_many(e.a, std::vector<Uuid>{np1, np2, na.id, nb.id}).size() == 1);
  CHECK(notes.list(e.a).size() == 1);
  CHECK(notes.count(e.b) == 1);
  CHECK_FALSE(notes.set(e.a, np1, &EventNote::text, std::string("taken")));
  CHECK_FALSE(notes.erase(e.a, np1));
  CHECK(notes.erase_where(e.a, col(&EventNote::text) != "") == 1);  // A's own note only
  // Moving a note of org B to a platform event: refused, nothing written.
  expect_throw<OrgMismatch>([&] { notes.set(e.b, nb.id, &EventNote::event_id, e.p1.id); });
  expect_throw<OrgMismatch>([&] { notes.update(e.b, EventNote{nb.id, e.p1.id, "moved"}); });
  CHECK(stored_notes(e.conn) == std::vector<std::string>{"b", "p1", "p2"});
  // Queries: an org joins its notes only; the platform scope reaches the notes of its events.
  const auto joined = select(col(&AuditEvent::code), col(&EventNote::text))
                          .from<AuditEvent>()
                          .join<EventNote>(col(&EventNote::event_id) == col(&AuditEvent::id))
                          .order_by(col(&EventNote::text));
  using Joined = std::vector<std::tuple<std::string, std::string>>;
  CHECK(fetch(e.conn, e.b, joined) == Joined{{"x", "b"}});
  CHECK(fetch(e.conn, e.a, joined).empty());
  CHECK(fetch(e.conn, platform, joined) == Joined{{"x", "p1"}, {"y", "p2"}});
  const auto all_notes = select(col(&EventNote::text)).from<EventNote>().order_by(col(&EventNote::text));
  CHECK(fetch(e.conn, platform, all_notes) == std::vector<std::tuple<std::string>>{{"p1"}, {"p2"}});
  CHECK(fetch(e.conn, e.b, all_notes) == std::vector<std::tuple<std::string>>{{"b"}});
  // EXISTS over the notes: each scope sees its own.
  const auto with_note = select(col(&AuditEvent::code))
                             .from<AuditEvent>()
                             .where(exists(from<EventNote>().where(col(&EventNote::event_id) == col(&AuditEvent::id))))
                             .order_by(col(&AuditEvent::code));
  CHECK(fetch(e.conn, platform, with_note) == std::vector<std::tuple<std::string>>{{"x"}, {"y"}});
  CHECK(fetch(e.conn, e.b, with_note) == std::vector<std::tuple<std::string>>{{"x"}});
  CHECK(fetch(e.conn, e.a, with_note).empty());
  // A platform event's delete cascades to its notes only.
  CHECK(e.events.erase(platform, e.p1.id));
  CHECK(stored_notes(e.conn) == std::vector<std::string>{"b", "p2"});
}
