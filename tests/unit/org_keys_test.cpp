// Org keys that are not UUIDs (issue 10 class 4), without a database: the org types and their
// validation, schema names that nothing can inject into, the traits (org_id_of, org_key_of,
// takes_org), and the SQL for text-keyed, bigint-keyed and schema-scoped entities pinned in
// tests/golden/org_keys.*.sql (TENANTRY_UPDATE_GOLDEN=1 rewrites them; read the diff).
#include "support/org_key_entities.hpp"

#include <tenantry/ddl.hpp>
#include <tenantry/dialect/postgres.hpp>
#include <tenantry/dialect/sqlite.hpp>
#include <tenantry/observe.hpp>
#include <tenantry/org_schema.hpp>
#include <tenantry/query.hpp>
#include <tenantry/select.hpp>
#include <tenantry/sql_writer.hpp>
#include <tenantry/statements.hpp>

#include "support/golden.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

// Named, so that a unity build of tests/unit (tests/CMakeLists.txt) keeps this file's
// using-directives and helpers to itself.
namespace org_keys_test {

using namespace tenantry;
using namespace org_keys;

namespace {

using golden::check_golden;

template <class D>
std::string org_keys_sql() {
  namespace st = tenantry::statements;
  std::ostringstream out;
  const auto w = [](const stmt::Statement& s) { return write_sql<D>(s); };
  out << schema_sql<D, SlugProject, SlugTask, NumProject, NumTask, SlugSecret, NumSecret>();
  for (const auto& s : row_level_security_sql<D>(table_info<SlugProject>())) out << s << ";\n";
  for (const auto& s : row_level_security_sql<D>(table_info<NumProject>())) out << s << ";\n";
  // Tables scoped through a text- or bigint-keyed parent: the parent's org column, its cast.
  for (const auto& s : row_level_security_sql<D>(table_info<SlugSecret>())) out << s << ";\n";
  for (const auto& s : row_level_security_sql<D>(table_info<NumSecret>())) out << s << ";\n";
  if constexpr (D::is_postgres) {
    // Arrays of the org column's own type: text[] and bigint[], never uuid[].
    out << "insert_many slug: " << w(st::insert_unnest<SlugProject>()) << '\n'
        << "insert_many num: " << w(st::insert_unnest<NumProject>()) << '\n'
        << "find_many slug: " << w(st::find_many<SlugProject>()) << '\n'
        << "find_many num secret: " << w(st::find_many<NumSecret>()) << '\n';
  }
  out << "find num secret: " << w(st::find<NumSecret>()) << '\n'
      << "join slug secret: "
      << sql_of<D>(select(col(&SlugSecret::secret), col(&SlugProject::name))
                       .from<SlugSecret>()
                       .join<SlugProject>(col(&SlugSecret::project_id) == col(&SlugProject::id)))
      << '\n';
  out << "find slug: " << w(st::find<SlugProject>()) << '\n'
      << "list num: " << w(st::filtered<NumProject>(stmt::Verb::select, col(&NumProject::rank) > std::int64_t{1}))
      << '\n'
      << "join slug: "
      << sql_of<D>(select(col(&SlugTask::title), col(&SlugProject::name))
                       .from<SlugTask>()
                       .join<SlugProject>(col(&SlugTask::project_id) == col(&SlugProject::id)))
      << '\n'
      // A schema-scoped entity's statements have no org filter and no org parameter: the
      // org's schema (search_path) is the filter.
      << "find schema-scoped: " << w(st::find<SlugNote>()) << '\n'
      << "list schema-scoped: " << sql_of<D>(select(col(&SlugNote::body)).from<SlugNote>()) << '\n';
  return out.str();
}

}  // namespace

TEST_CASE("org types: OrgId stays the UUID type; text and bigint keys are their own types", "[unit][org-keys]") {
  static_assert(std::is_same_v<OrgId, BasicOrgId<Uuid>>);
  static_assert(std::is_same_v<org_id_of<SlugProject>, TextOrgId>);
  static_assert(std::is_same_v<org_id_of<NumTask>, IntOrgId>);
  static_assert(std::is_same_v<org_key_of<NumTask>, std::int64_t>);
  static_assert(std::is_same_v<org_id_of<SlugNote>, TextOrgId>);
  static_assert(std::is_same_v<org_id_of<Note>, OrgId>);
  static_assert(org_scoped<SlugProject> && !schema_scoped<SlugProject> && takes_org<SlugProject>);
  static_assert(!org_scoped<SlugNote> && schema_scoped<SlugNote> && takes_org<SlugNote>);
  static_assert(scope_of<SlugNote> == Scope::per_org_schema);
  static_assert(!std::is_convertible_v<Uuid, OrgId> && !std::is_convertible_v<std::string, TextOrgId>);
  static_assert(std::is_same_v<OrgSchemas<SlugProject, SlugNote>::org_type, TextOrgId>);

  const OrgId u = OrgId::random();
  CHECK(OrgId::parse(u.to_string()) == u);
  CHECK(TextOrgId{"acme"}.to_string() == "acme");
  CHECK(TextOrgId{"acme"} != TextOrgId{"Acme"});
  CHECK(IntOrgId::parse("-42") == IntOrgId{-42});
  CHECK(IntOrgId::parse("9223372036854775807").value == INT64_MAX);
  CHECK(IntOrgId::parse("-9223372036854775808").value == INT64_MIN);
  for (const char* bad : {"", "0", "-0", "9223372036854775808", "-9223372036854775809", "1x", "+1", " 1", "-"}) {
    INFO(bad);
    CHECK_FALSE(IntOrgId::try_parse(bad).has_value());
  }
  CHECK_THROWS_AS(IntOrgId{0}, ValueError);
  CHECK(TextOrgId{}.is_nil());
  CHECK(IntOrgId{}.is_nil());
}

TEST_CASE("text org keys: 1-64 bytes of UTF-8 without control characters, else ValueError", "[unit][org-keys]") {
  CHECK(TextOrgId{std::string(64, 'a')}.valid());
  CHECK(TextOrgId{"caf\xc3\xa9"}.valid());
  CHECK(TextOrgId{"\xf0\x9f\x8f\xa2"}.valid());             // a 4-byte character
  CHECK(TextOrgId{"x\"; DROP SCHEMA public; --"}.valid());  // harmless: always bound, never spliced
  for (const std::string& bad : {std::string(65, 'a'), std::string(""), std::string("a\nb"), std::string("a\x7f"),
                                 std::string("a\0b", 3), std::string("\xff"), std::string("\xc3"),
                                 std::string("\xc0\x80"),             // overlong NUL
                                 std::string("\xed\xa0\x80"),         // a UTF-16 surrogate
                                 std::string("\xf4\x90\x80\x80")}) {  // beyond U+10FFFF
    INFO("bytes: " << bad.size());
    CHECK_THROWS_AS(TextOrgId{bad}, ValueError);
    CHECK_FALSE(TextOrgId::try_parse(bad).has_value());
    TextOrgId forged;
    forged.value = bad;
    CHECK_FALSE(forged.valid());
    CHECK_THROWS_AS(org_schema_name(forged), ValueError);
  }
  std::string message;
  try {
    (void)TextOrgId{std::string(65, 'a')};
  } catch (const ValueError& e) {
    message = e.what();
  }
  CHECK(message.find("longer than 64 bytes") != std::string::npos);
}

TEST_CASE("org schema names: [a-z0-9_], at most 62 bytes, one per org, apart per key type", "[unit][org-keys]") {
  std::set<std::string> names;
  const auto add = [&](const std::string& name) {
    INFO(name);
    CHECK(name.size() <= 62);
    for (char c : name) CHECK(((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'));
    CHECK(names.insert(name).second);
  };
  for (const char* s : {"acme", "Acme", "ACME", "public", "pg_catalog", "\"", "a\"b", "x'; --", ";", "caf\xc3\xa9",
                        "CAF\xc3\x89", "0", "1", "org_t_30"})
    add(org_schema_name(TextOrgId{s}));
  add(org_schema_name(TextOrgId{std::string(28, 'q')}));
  add(org_schema_name(TextOrgId{std::string(29, 'q')}));
  add(org_schema_name(TextOrgId{std::string(64, 'q')}));
  add(org_schema_name(TextOrgId{std::string(63, 'q') + "r"}));
  for (std::int64_t v : {std::int64_t{1}, std::int64_t{-1}, std::int64_t{30}, INT64_MAX, INT64_MIN})
    add(org_schema_name(IntOrgId{v}));
  add(org_schema_name(OrgId::parse("00000000-0000-4000-8000-000000000030")));
  CHECK(org_schema_name(TextOrgId{"acme"}) == "org_t_61636d65");
  CHECK(org_schema_name(TextOrgId{std::string(28, 'q')}).starts_with("org_t_"));
  CHECK(org_schema_name(TextOrgId{std::string(29, 'q')}).starts_with("org_h_"));
  CHECK(org_schema_name(IntOrgId{-7}) == "org_i_m7");
  CHECK(org_schema_name(IntOrgId{INT64_MIN}) == "org_i_m9223372036854775808");
  CHECK_THROWS_AS(org_schema_name(IntOrgId{}), ValueError);
}

TEST_CASE("org keys: DDL, row-level security and statements per dialect (golden)", "[unit][org-keys][golden]") {
  const std::string pg = org_keys_sql<PgDialect>();
  check_golden("org_keys.postgres.sql", pg);
  check_golden("org_keys.sqlite.sql", org_keys_sql<SqliteDialect>());
  // The policy casts the setting to the org column's type.
  CHECK(pg.find("\"organization_id\" TEXT NOT NULL") != std::string::npos);
  CHECK(pg.find("\"org_id\" BIGINT NOT NULL") != std::string::npos);
  CHECK(pg.find("AS TEXT))") != std::string::npos);
  CHECK(pg.find("AS BIGINT))") != std::string::npos);
  // Composite foreign keys (org, column) with the new types.
  CHECK(pg.find("FOREIGN KEY (\"organization_id\", \"project_id\") REFERENCES \"slug_projects\" (\"organization_id\", "
                "\"id\")") != std::string::npos);
  // A schema-scoped table is never created as a shared table, only in an org's schema.
  CHECK_THROWS_AS((create_statements<SlugNote, PgDialect>()), UsageError);
  const std::string in_schema = OrgSchemas<SlugProject, SlugNote>::create_sql(TextOrgId{"acme"});
  CHECK(in_schema.find("CREATE SCHEMA \"org_t_61636d65\"") != std::string::npos);
  // No org column: the schema is the scope.
  CHECK(in_schema.find("CREATE TABLE \"org_t_61636d65\".\"slug_notes\" (\n  \"id\" UUID NOT NULL,\n  \"body\" TEXT NOT "
                       "NULL,\n  CONSTRAINT \"pk_slug_notes\" PRIMARY KEY (\"id\")\n);") != std::string::npos);
}

TEST_CASE("observed orgs: every key type, each org its own (AnyOrgId, per-org counters)",
          "[unit][org-keys][observability]") {
  const AnyOrgId none, text7(TextOrgId{"7"}), text007(TextOrgId{"007"}), int7(IntOrgId{7}), acme(TextOrgId{"acme"}),
      acme_upper(TextOrgId{"Acme"}), acme_space(TextOrgId{"acme "});
  const OrgId uuid = OrgId::random();
  const AnyOrgId as_uuid(uuid), as_text(TextOrgId{uuid.to_string()});
  CHECK(none.is_nil());
  CHECK_FALSE(text7.is_nil());
  CHECK(text7 != int7);  // the text org "7" is not the integer org 7
  CHECK(text7 != text007);
  CHECK(acme != acme_upper);
  CHECK(acme != acme_space);
  CHECK(as_uuid != as_text);  // nor a text org spelled like a UUID org
  CHECK(text7.to_string() == int7.to_string());
  CHECK(text7.key_type_name() == "text");
  CHECK(int7.key_type_name() == "int");
  REQUIRE(int7.get<IntOrgId>() != nullptr);
  CHECK(int7.get<IntOrgId>()->value == 7);
  CHECK(int7.get<TextOrgId>() == nullptr);
  CHECK(as_uuid.get<OrgId>() != nullptr);

  // The counters keep every org apart, whatever its key type.
  StatementObserver observer;
  const std::vector<AnyOrgId> orgs{text7, text007, int7, acme, acme_upper, acme_space, as_uuid, as_text};
  for (std::size_t i = 0; i < orgs.size(); ++i)
    for (std::size_t k = 0; k <= i; ++k) {
      StatementEvent e;
      e.dialect = "sqlite";
      e.org = &orgs[i];
      e.rows = 1;
      observer.record(e);
    }
  StatementEvent global;
  observer.record(global);
  const auto all = observer.snapshot();
  REQUIRE(all.size() == orgs.size() + 1);
  CHECK(all[0].org.is_nil());  // statements without an org first
  for (std::size_t i = 0; i < orgs.size(); ++i) CHECK(observer.stats(&orgs[i]).calls == i + 1);
  const TextOrgId t7{"7"};
  const IntOrgId i7{7};
  CHECK(observer.stats(&t7).calls == 1);
  CHECK(observer.stats(&i7).calls == 3);
  CHECK(observer.stats(&uuid).calls == 7);
  CHECK(observer.stats(nullptr).calls == 1);
}

}  // namespace org_keys_test
