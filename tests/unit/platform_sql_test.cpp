// The SQL of platform rows (types.hpp, PlatformScope), pinned in tests/golden/platform.*.sql:
// the DDL of tables whose org column is optional (nullable column, the partial unique index of
// each org-including UNIQUE, the CHECK of each tenant-safe reference, the two-scope policy) and
// every statement form in the org scope and in the platform scope. TENANTRY_UPDATE_GOLDEN=1
// rewrites the files (read the diff before committing it). Also: the writer's refusals.
#include "support/platform_entities.hpp"

#include <tenantry/dialect/postgres.hpp>
#include <tenantry/dialect/sqlite.hpp>
#include <tenantry/select.hpp>
#include <tenantry/sql_writer.hpp>
#include <tenantry/statements.hpp>

#include "support/golden.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace tenantry;
using fixtures::ApiToken;
using platform_fixtures::AuditEvent;
using platform_fixtures::EventLink;
using platform_fixtures::EventNote;

namespace platform_sql_fx {
/// Scoped through a plain org-scoped parent: it has no rows of the platform scope.
struct TokenNote {
  Uuid id;
  Uuid token_id;
  std::string text;
};
}  // namespace platform_sql_fx
using platform_sql_fx::TokenNote;

template <>
struct tenantry::entity<TokenNote> {
  static constexpr auto scope = tenantry::through<&TokenNote::token_id>;
  static constexpr std::string_view table = "platform_sql_token_notes";
  static constexpr auto primary_key = key(&TokenNote::id);
  static constexpr auto constraints = std::tuple{foreign_key(&TokenNote::token_id, &ApiToken::id)};
};

namespace {

stmt::Statement in_platform(stmt::Statement s) {
  s.platform = true;
  return s;
}

template <class D>
std::string platform_sql() {
  namespace st = tenantry::statements;
  std::string out = platform_fixtures::schema<D>(DdlOptions{.row_level_security = true});
  const auto w = [](const stmt::Statement& s) { return write_sql<D>(s); };
  const auto pred = col(&AuditEvent::level) >= 1 || col(&AuditEvent::code) == "x";
  constexpr std::size_t what = detail::field_of(&AuditEvent::what);
  const auto both = [&](const std::string& name, const stmt::Statement& s) {
    out += name + ": " + w(s) + '\n';
    out += name + " (platform): " + w(in_platform(s)) + '\n';
  };
  out += "-- statements: each in an org's scope, then in the platform scope\n";
  both("insert", st::insert<AuditEvent>());
  both("find", st::find<AuditEvent>());
  both("update", st::update<AuditEvent>());
  both("set", st::update<AuditEvent>({what}));
  both("erase", st::erase<AuditEvent>());
  both("list", st::list<AuditEvent>(pred, order_by(&AuditEvent::code), limit(5)));
  both("count", st::count<AuditEvent>(pred));
  both("exists", st::exists<AuditEvent>());
  both("erase where", st::erase_where<AuditEvent>(pred));
  both("update where", st::update_where<AuditEvent>({what}, pred));
  both("upsert on (org, code)", st::upsert<AuditEvent>(on_conflict(&AuditEvent::org_id, &AuditEvent::code)));
  both("upsert on id", st::upsert<AuditEvent>(on_conflict(&AuditEvent::id).update(only(&AuditEvent::what))));
  both("put on (org, code)", st::upsert<AuditEvent>(on_conflict(&AuditEvent::org_id, &AuditEvent::code), false));
  both("put on id", st::upsert<AuditEvent>(on_conflict(&AuditEvent::id), false));
  if constexpr (D::is_postgres) {
    both("find many", st::find_many<AuditEvent>());
    out += "insert many (unnest): " + w(st::insert_unnest<AuditEvent>()) + '\n';
  }
  // A table scoped through a parent whose org column is optional: its notes of platform events
  // are the platform scope's (the EXISTS on the parent ends in IS NULL).
  both("note list", st::list<EventNote>(col(&EventNote::text) == "t"));
  both("note find", st::find<EventNote>());
  out += "note insert: " + w(st::insert<EventNote>()) + '\n';
  const auto joined = select(col(&AuditEvent::code), col(&EventLink::note))
                          .from<AuditEvent>()
                          .left_join<EventLink>(col(&EventLink::event_id) == col(&AuditEvent::id))
                          .where(exists(from<EventLink>().where(col(&EventLink::note) == col(&AuditEvent::code))));
  out += "query: " + sql_of<D>(joined) + '\n';
  out += "query (platform): " + sql_of<D>(platform, joined) + '\n';
  const auto notes = select(col(&AuditEvent::code), col(&EventNote::text))
                         .from<AuditEvent>()
                         .join<EventNote>(col(&EventNote::event_id) == col(&AuditEvent::id));
  out += "notes query: " + sql_of<D>(notes) + '\n';
  out += "notes query (platform): " + sql_of<D>(platform, notes) + '\n';
  stmt::Statement copy = query_detail::describe_insert_select(
      into(&EventLink::id, &EventLink::note), select(col(&AuditEvent::id), col(&AuditEvent::what)).from<AuditEvent>());
  both("insert select", copy);
  return out;
}

}  // namespace

TEST_CASE("platform rows: SQLite DDL and statements", "[golden][sqlite][platform]") {
  golden::check_golden("platform.sqlite.sql", platform_sql<SqliteDialect>());
}

TEST_CASE("platform rows: PostgreSQL DDL, policy and statements", "[golden][postgres][platform]") {
  golden::check_golden("platform.postgres.sql", platform_sql<PgDialect>());
}

TEST_CASE("platform rows: the table description", "[platform]") {
  const TableInfo& t = table_info<AuditEvent>();
  CHECK(t.org_scoped());
  CHECK(t.org_optional());
  CHECK(t.columns[t.org_column].nullable);
  CHECK(t.columns[t.org_column].is_org);
  CHECK_FALSE(table_info<ApiToken>().org_optional());
  CHECK(org_scoped<AuditEvent>);
  CHECK(org_column_optional<AuditEvent>);
  CHECK_FALSE(org_column_optional<ApiToken>);
  CHECK(scope_of<AuditEvent> == Scope::org);
}

TEST_CASE("platform rows: the writer never writes a platform statement on a table whose every row has an org",
          "[platform]") {
  namespace st = tenantry::statements;
  // Only tenantry::platform calls set Statement::platform, and those do not compile for a plain
  // OrgId entity; the writer refuses such a description anyway, for every form.
  for (const stmt::Statement& s : {st::find<ApiToken>(), st::list<ApiToken>(), st::count<ApiToken>(),
                                   st::erase<ApiToken>(), st::update<ApiToken>()}) {
    CHECK_THROWS_AS(write_sql<SqliteDialect>(in_platform(s)), UsageError);
    CHECK_THROWS_AS(write_sql<PgDialect>(in_platform(s)), UsageError);
  }
  // A join or subquery reaching such a table, from a platform statement on a table with platform rows.
  stmt::Statement join = st::list<EventLink>();
  join.sources.push_back(stmt::Source{&table_info<ApiToken>(), stmt::Join::left, 0, 0});
  CHECK_THROWS_AS(write_sql<PgDialect>(in_platform(join)), UsageError);
  stmt::Statement sub = st::list<EventLink>(
      exists(from<ApiToken>().where(col(&ApiToken::id) == col(&EventLink::token_id))));
  CHECK_THROWS_AS(write_sql<SqliteDialect>(in_platform(sub)), UsageError);
  // A table scoped through a parent whose every row has an org: no platform statement either.
  CHECK_THROWS_AS(write_sql<PgDialect>(in_platform(st::list<TokenNote>())), UsageError);
  // In the platform scope there is no org parameter: the first value is ?1.
  CHECK_FALSE(stmt::needs_org(in_platform(st::list<AuditEvent>())));
  CHECK(write_sql<SqliteDialect>(in_platform(st::count<AuditEvent>(col(&AuditEvent::level) == 1))) ==
        R"(SELECT COUNT(*) FROM "audit_events" WHERE "org_id" IS NULL AND "level" = ?1)");
  // The platform flag is part of the statement's identity (its cache key).
  CHECK_FALSE(st::list<AuditEvent>() == in_platform(st::list<AuditEvent>()));
  CHECK(stmt::hash(st::list<AuditEvent>()) != stmt::hash(in_platform(st::list<AuditEvent>())));
}
