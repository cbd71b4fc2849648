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
