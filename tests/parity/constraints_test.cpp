// Every constraint the fixture schema declares, violated for real on both databases: the
// exception type, the table and constraint it names, code(), and that the failed statement wrote
// nothing. Then the ON DELETE actions and the tenant-safe (org, key) -> (org, key) references.
//
// Where the databases report differently, each side is asserted (docs/dialects.md, "Transactions
// and errors"): code() is SQLite's extended result code or the SQLSTATE; PostgreSQL names every
// constraint itself, while for SQLite the repository recovers UNIQUE names from the columns the
// message lists (and columns() keeps that list) and the driver finds which foreign key a failed
// statement broke (driver/sqlite_foreign_keys.hpp).
#include "support/backends.hpp"

#include <string>
#include <utility>
#include <vector>

using namespace tenantry;
using fixtures::ApiToken;
using fixtures::Gadget;
using fixtures::Grant;
using fixtures::Membership;
using fixtures::Organization;
using fixtures::Part;
using fixtures::Pin;
using fixtures::Widget;
using parity::expected_code;
using parity::Repo;
using parity::rows_in;
using testdb::expect_throw;

namespace {

using Columns = std::vector<std::string>;

/// An INSERT of one gadget row in plain SQL, in the subset both databases accept, with `column`
/// set to the SQL expression `value`.
template <class B>
std::string gadget_insert_sql(const OrgId& org, const std::string& column, const std::string& value) {
  std::vector<std::pair<std::string, std::string>> cols{
      {"org_id", "'" + org.to_string() + "'"}, {"i8", "0"}, {"i16", "0"}, {"i32", "0"}, {"i64", "0"},
      {"u8", "0"}, {"u16", "0"}, {"u32", "0"}, {"u64", "0"}, {"real", "0.0"}, {"real32", "0.0"}, {"flag", "FALSE"},
      {"title", "'raw'"}, {"ref", "'" + Uuid::random().to_string() + "'"}, {"at", "'2024-01-02T03:04:05.000000Z'"},
      {"meta", "'{}'"}, {"payload", B::is_postgres ? "'\\x'" : "x''"}, {"color", "'red'"}, {"price", "0"},
      {"quantity", "1"}};
  std::string names, values;
  for (auto& [n, v] : cols) {
    if (n == column) v = value;
    names += (names.empty() ? "" : ", ") + n;
    values += (values.empty() ? "" : ", ") + v;
  }
  return "INSERT INTO gadgets (" + names + ") VALUES (" + values + ")";
}

/// SQLite's message names the columns of a UNIQUE violation (the repository maps them back to
/// the constraint); PostgreSQL names the constraint and leaves columns() empty.
template <class B>
Columns unique_columns(Columns sqlite_columns) {
  return B::is_postgres ? Columns{} : sqlite_columns;
}

}  // namespace

TEMPLATE_TEST_CASE("unique violations name the constraint and write nothing", "[parity][constraints]",
                   PARITY_BACKENDS) {
  using B = TestType;
  auto conn = B::open();
  const OrgId org = parity::add_org(conn, "acme");
  Repo<B, ApiToken> tokens{conn};
  const ApiToken first = tokens.insert(org, testdb::make_token("abc"));

  SECTION("declared UNIQUE (org_id, token_prefix)") {
    ApiToken dup = testdb::make_token("abc");
    const auto e = expect_throw<UniqueViolation>([&] { tokens.insert(org, dup); });
    CHECK(e.constraint() == "uq_api_tokens_org_id_token_prefix");
    CHECK(e.table() == "api_tokens");
    CHECK(e.columns() == unique_columns<B>({"org_id", "token_prefix"}));
    CHECK(e.code() == expected_code<B>(SQLITE_CONSTRAINT_UNIQUE, "23505"));
    CHECK_FALSE(tokens.find(org, dup.id).has_value());
  }
  SECTION("primary key") {
    ApiToken dup = testdb::make_token("other");
    dup.id = first.id;
    const auto e = expect_throw<UniqueViolation>([&] { tokens.insert(org, dup); });
    CHECK(e.constraint() == "pk_api_tokens");
    CHECK(e.table() == "api_tokens");
    CHECK(e.columns() == unique_columns<B>({"id"}));
    // SQLite tells a primary key from another UNIQUE by its code; PostgreSQL does not.
    CHECK(e.code() == expected_code<B>(SQLITE_CONSTRAINT_PRIMARYKEY, "23505"));
    CHECK(tokens.find(org, first.id)->name == "token abc");
    CHECK_FALSE(tokens.exists(org, col(&ApiToken::token_prefix) == "other"));
  }
  SECTION("composite primary key including the org") {
    Repo<B, Membership> members{conn};
    members.insert(org, Membership{OrgId{}, "u1", "admin"});
    const auto e = expect_throw<UniqueViolation>([&] { members.insert(org, Membership{OrgId{}, "u1", "viewer"}); });
    CHECK(e.constraint() == "pk_memberships");
    CHECK(e.table() == "memberships");
    CHECK(members.find(org, "u1")->role == "admin");
    CHECK(rows_in(conn, "memberships") == 1);
  }
  SECTION("global table, single-column UNIQUE") {
    Repo<B, Organization> orgs{conn};
    const auto e = expect_throw<UniqueViolation>([&] { orgs.insert(testdb::make_org("acme")); });
    CHECK(e.constraint() == "uq_organizations_slug");
    CHECK(e.table() == "organizations");
    CHECK(rows_in(conn, "organizations") == 1);
  }
  SECTION("through update() and set()") {
    ApiToken second = tokens.insert(org, testdb::make_token("def"));
    second.token_prefix = "abc";
    CHECK(expect_throw<UniqueViolation>([&] { tokens.update(org, second); }).constraint() ==
          "uq_api_tokens_org_id_token_prefix");
    CHECK(expect_throw<UniqueViolation>([&] { tokens.set(org, second.id, &ApiToken::token_prefix, "abc"); })
              .constraint() == "uq_api_tokens_org_id_token_prefix");
    CHECK(tokens.find(org, second.id)->token_prefix == "def");
    CHECK(tokens.erase(org, second.id));
  }
  CHECK(rows_in(conn, "api_tokens") == 1);
  CHECK(tokens.find(org, first.id)->token_prefix == "abc");
}

TEMPLATE_TEST_CASE("partial unique index ux_gadgets_live_title", "[parity][constraints]", PARITY_BACKENDS) {
  using B = TestType;
  auto conn = B::open();
  const OrgId org = parity::add_org(conn, "acme");
  const OrgId other = parity::add_org(conn, "other");
  Repo<B, Gadget> gadgets{conn};

  Gadget live = testdb::make_gadget("same title");
  live.flag = true;
  gadgets.insert(org, live);
  // Rows outside the index predicate (flag false) may share the title, and so may another org.
  Gadget dormant = gadgets.insert(org, testdb::make_gadget("same title"));
  Gadget elsewhere = testdb::make_gadget("same title");
  elsewhere.flag = true;
  gadgets.insert(other, elsewhere);
  REQUIRE(rows_in(conn, "gadgets") == 3);

  Gadget dup = testdb::make_gadget("same title");
  dup.flag = true;
  const auto e = expect_throw<UniqueViolation>([&] { gadgets.insert(org, dup); });
  CHECK(e.constraint() == "ux_gadgets_live_title");
  CHECK(e.table() == "gadgets");
  CHECK(e.columns() == unique_columns<B>({"org_id", "title"}));
  CHECK(dup.id == 0);
  CHECK(rows_in(conn, "gadgets") == 3);

  // Turning the dormant row live collides too, and leaves it dormant.
  const auto e2 = expect_throw<UniqueViolation>([&] { gadgets.set(org, dormant.id, &Gadget::flag, true); });
  CHECK(e2.constraint() == "ux_gadgets_live_title");
  CHECK(gadgets.find(org, dormant.id)->flag == false);

  Gadget same_ref = testdb::make_gadget("another title");
  same_ref.ref = live.ref;
  CHECK(expect_throw<UniqueViolation>([&] { gadgets.insert(org, same_ref); }).constraint() == "uq_gadgets_org_id_ref");
  CHECK(rows_in(conn, "gadgets") == 3);
}

TEMPLATE_TEST_CASE("check violations name the constraint", "[parity][constraints]", PARITY_BACKENDS) {
  using B = TestType;
  auto conn = B::open();
  const OrgId org = parity::add_org(conn, "acme");
  Repo<B, Gadget> gadgets{conn};
  Gadget g = testdb::make_gadget("kept");
  g.quantity = 5;
  gadgets.insert(org, g);
  const std::string check_code = expected_code<B>(SQLITE_CONSTRAINT_CHECK, "23514");

  SECTION("declared check(quantity, >=, 0) through insert, set and update") {
    Gadget bad = testdb::make_gadget("bad");
    bad.quantity = -1;
    const auto e = expect_throw<CheckViolation>([&] { gadgets.insert(org, bad); });
    CHECK(e.constraint() == "ck_gadgets_quantity_ge");
    CHECK(e.table() == "gadgets");
    CHECK(e.code() == check_code);
    CHECK(bad.id == 0);
    CHECK(expect_throw<CheckViolation>([&] { gadgets.set(org, g.id, &Gadget::quantity, -5); }).constraint() ==
          "ck_gadgets_quantity_ge");
    Gadget changed = g;
    changed.quantity = -2;
    changed.label = "changed";
    CHECK(expect_throw<CheckViolation>([&] { gadgets.update(org, changed); }).constraint() == "ck_gadgets_quantity_ge");
    CHECK(expect_throw<CheckViolation>([&] {
            gadgets.update_where(org, col(&Gadget::id) == g.id, assign(col(&Gadget::quantity), -3));
          }).constraint() == "ck_gadgets_quantity_ge");
    const Gadget now = *gadgets.find(org, g.id);
    CHECK(now.quantity == 5);
    CHECK(now.label == "kept");
  }
  SECTION("check(real, <, 1e12)") {
    Gadget bad = testdb::make_gadget("bad");
    bad.real = 1e12;
    CHECK(expect_throw<CheckViolation>([&] { gadgets.insert(org, bad); }).constraint() == "ck_gadgets_real_lt");
  }
  SECTION("check_sql title_not_blank") {
    Gadget bad = testdb::make_gadget("");
    CHECK(expect_throw<CheckViolation>([&] { gadgets.insert(org, bad); }).constraint() == "ck_gadgets_title_not_blank");
  }
  SECTION("enum domain ck_gadgets_color, via plain SQL") {
    const auto e = expect_throw<CheckViolation>([&] { conn.execute(gadget_insert_sql<B>(org, "color", "'purple'")); });
    CHECK(e.constraint() == "ck_gadgets_color");
    CHECK(e.code() == check_code);
    // SQLite's CHECK message names only the constraint; outside a repository nobody adds the table.
    CHECK(e.table() == (B::is_postgres ? "gadgets" : ""));
    // The same statement with a valid enumerator succeeds: only the value was wrong.
    conn.execute(gadget_insert_sql<B>(org, "color", "'blue'"));
    CHECK(gadgets.count(org, col(&Gadget::color) == fixtures::Color::blue) == 1);
    conn.execute("DELETE FROM gadgets WHERE color = 'blue'");
  }
  SECTION("organization status enum, via plain SQL") {
    const auto e = expect_throw<CheckViolation>([&] { conn.execute("UPDATE organizations SET status = 'archived'"); });
    CHECK(e.constraint() == "ck_organizations_status");
    CHECK(parity::raw_text(conn, "SELECT status FROM organizations") == "active");
  }
  SECTION("JSON that does not parse") {
    // One typed error on both, raised before sending (tests/parity/json_test.cpp has the rest).
    // It used to reach the database: SQLite's json_valid CHECK (CheckViolation), PostgreSQL's
    // JSONB input (DatabaseError 22P02).
    Gadget bad = testdb::make_gadget("bad");
    bad.meta = Json{"{not json"};
    const auto e = expect_throw<ValueError>([&] { gadgets.insert(org, bad); });
    CHECK(std::string(e.what()).find("expected a member name") != std::string::npos);
  }
  SECTION("JSON that does not parse, via plain SQL: the database's own check") {
    if constexpr (B::is_postgres) {
      // JSONB parses its input: a type error (22P02 invalid_text_representation), no constraint.
      bool threw = false;
      try {
        conn.execute(gadget_insert_sql<B>(org, "meta", "'{not json'"));
      } catch (const ConstraintViolation& e) {
        FAIL("a constraint violation: " << e.what());
      } catch (const DatabaseError& e) {
        threw = true;
        CHECK(e.code() == "22P02");
      }
      CHECK(threw);
    } else {
      // TEXT with the implicit CHECK (json_valid(meta)) that the SQLite DDL adds.
      const auto e = expect_throw<CheckViolation>([&] { conn.execute(gadget_insert_sql<B>(org, "meta", "'{not json'")); });
      CHECK(e.constraint() == "ck_gadgets_meta_json");
    }
  }
  SECTION("sql_type(\"VARCHAR(64)\") limits the length on PostgreSQL only") {
    Gadget longer = testdb::make_gadget(std::string(65, 'x'));
    if constexpr (B::is_postgres) {
      // 22001 string_data_right_truncation; SQLite ignores the length of a declared type.
      CHECK(expect_throw<DatabaseError>([&] { gadgets.insert(org, longer); }).code() == "22001");
    } else {
      gadgets.insert(org, longer);
      CHECK(gadgets.find(org, longer.id)->label.size() == 65);
      CHECK(gadgets.erase(org, longer.id));
    }
    // 64 characters fit both (characters, not bytes: each "é" is two bytes).
    Gadget fits = testdb::make_gadget(std::string(62, 'x') + "éé");
    gadgets.insert(org, fits);
    CHECK(gadgets.find(org, fits.id)->label == fits.label);
    CHECK(gadgets.erase(org, fits.id));
  }
  CHECK(rows_in(conn, "gadgets") == 1);
  CHECK(gadgets.find(org, g.id)->quantity == 5);
}

TEMPLATE_TEST_CASE("not-null violations name the column", "[parity][constraints]", PARITY_BACKENDS) {
  using B = TestType;
  auto conn = B::open();
  const OrgId org = parity::add_org(conn, "acme");
  const auto e = expect_throw<NotNullViolation>([&] { conn.execute(gadget_insert_sql<B>(org, "title", "NULL")); });
  CHECK(e.table() == "gadgets");
  CHECK(e.columns() == Columns{"title"});
  CHECK(e.constraint().empty());  // neither database names a NOT NULL constraint
  CHECK(e.code() == expected_code<B>(SQLITE_CONSTRAINT_NOTNULL, "23502"));
  CHECK(rows_in(conn, "gadgets") == 0);
}

TEMPLATE_TEST_CASE("foreign key violations", "[parity][constraints][fk]", PARITY_BACKENDS) {
  using B = TestType;
  auto conn = B::open();
  const OrgId org = parity::add_org(conn, "acme");
  const std::string fk_code = expected_code<B>(SQLITE_CONSTRAINT_FOREIGNKEY, "23503");
  // SQLite's message is "FOREIGN KEY constraint failed": no table, no constraint. The driver
  // finds the key the statement broke (driver/sqlite_foreign_keys.hpp), so both name it.
  const auto fk_name = [&](const char* name) { return std::string(name); };

  SECTION("a token for an organization that does not exist") {
    Repo<B, ApiToken> tokens{conn};
    const OrgId missing = OrgId::random();
    ApiToken t = testdb::make_token("abc");
    const auto e = expect_throw<ForeignKeyViolation>([&] { tokens.insert(missing, t); });
    CHECK(e.table() == "api_tokens");
    CHECK(e.constraint() == fk_name("fk_api_tokens_org_id"));
    CHECK(e.code() == fk_code);
    CHECK(rows_in(conn, "api_tokens") == 0);
    CHECK(tokens.count(missing) == 0);
  }
  SECTION("a gadget whose parent widget does not exist, on insert and on set()") {
    Repo<B, Gadget> gadgets{conn};
    Gadget g = testdb::make_gadget();
    g.parent_id = Uuid::random();
    CHECK(expect_throw<ForeignKeyViolation>([&] { gadgets.insert(org, g); }).constraint() ==
          fk_name("fk_gadgets_parent_id"));
    CHECK(rows_in(conn, "gadgets") == 0);
    g.parent_id = std::nullopt;
    gadgets.insert(org, g);
    CHECK(expect_throw<ForeignKeyViolation>([&] { gadgets.set(org, g.id, &Gadget::parent_id, Uuid::random()); })
              .constraint() == "fk_gadgets_parent_id");
    CHECK(gadgets.find(org, g.id)->parent_id == std::nullopt);
  }
  SECTION("a pin of a missing organization (global table)") {
    Repo<B, Pin> pins{conn};
    const auto e = expect_throw<ForeignKeyViolation>([&] { pins.insert(Pin{Uuid::random(), Uuid::random()}); });
    CHECK(e.table() == "pins");
    CHECK(e.constraint() == fk_name("fk_pins_organization_id"));
    CHECK(rows_in(conn, "pins") == 0);
  }
}

TEMPLATE_TEST_CASE("composite foreign key (org_id, user_id) -> memberships", "[parity][constraints][fk]",
                   PARITY_BACKENDS) {
  using B = TestType;
  auto conn = B::open();
  const OrgId a = parity::add_org(conn, "org-a");
  const OrgId b = parity::add_org(conn, "org-b");
  Repo<B, Membership> members{conn};
  Repo<B, Grant> grants{conn};
  members.insert(a, Membership{OrgId{}, "alice", "admin"});
  members.insert(b, Membership{OrgId{}, "bob", "admin"});
  grants.insert(a, Grant{Uuid::random(), OrgId{}, "alice", "read"});
  CHECK(grants.count(a) == 1);

  SECTION("a grant for a user with no membership") {
    const auto e =
        expect_throw<ForeignKeyViolation>([&] { grants.insert(a, Grant{Uuid::random(), OrgId{}, "nobody", "read"}); });
    CHECK(e.table() == "grants");
    CHECK(e.constraint() == "fk_grants_org_id_user_id");
  }
  SECTION("a grant in one org for a member of another org: the key includes the org") {
    CHECK(expect_throw<ForeignKeyViolation>([&] { grants.insert(a, Grant{Uuid::random(), OrgId{}, "bob", "read"}); })
              .constraint() == "fk_grants_org_id_user_id");
    CHECK(grants.count(b) == 0);
  }
  SECTION("deleting the membership cascades to its grants") {
    CHECK(members.erase(a, "alice"));
    CHECK(grants.count(a) == 0);
  }
  SECTION("deleting the organization cascades through memberships to grants") {
    CHECK(Repo<B, Organization>(conn).erase(a.value));
    CHECK(rows_in(conn, "memberships") == 1);
    CHECK(rows_in(conn, "grants") == 0);
  }
  CHECK(rows_in(conn, "grants") <= 1);
  CHECK(grants.count(a) + grants.count(b) == rows_in(conn, "grants"));
}

TEMPLATE_TEST_CASE("ON DELETE CASCADE and SET NULL", "[parity][constraints][fk]", PARITY_BACKENDS) {
  using B = TestType;
  auto conn = B::open();
  Repo<B, Organization> orgs{conn};
  Repo<B, ApiToken> tokens{conn};
  Repo<B, Widget> widgets{conn};
  Repo<B, Gadget> gadgets{conn};
  Repo<B, Membership> members{conn};
  const OrgId doomed = parity::add_org(conn, "doomed");
  const OrgId keeper = parity::add_org(conn, "keeper");
  for (const OrgId& org : {doomed, keeper}) {
    tokens.insert(org, testdb::make_token("t1"));
    tokens.insert(org, testdb::make_token("t2"));
    widgets.insert(org, Widget{Uuid::random(), OrgId{}, "w"});
    gadgets.insert(org, testdb::make_gadget());
    members.insert(org, Membership{OrgId{}, "u1", "admin"});
  }
  REQUIRE(rows_in(conn, "api_tokens") == 4);

  SECTION("CASCADE: deleting an organization deletes its rows, and only its rows") {
    CHECK(orgs.erase(doomed.value));
    CHECK(tokens.count(doomed) == 0);
    CHECK(widgets.count(doomed) == 0);
    CHECK(gadgets.count(doomed) == 0);
    CHECK(members.count(doomed) == 0);
    CHECK(rows_in(conn, "api_tokens") == 2);
    CHECK(rows_in(conn, "widgets") == 1);
    CHECK(rows_in(conn, "gadgets") == 1);
    CHECK(rows_in(conn, "memberships") == 1);
    CHECK(tokens.count(keeper) == 2);
    CHECK_FALSE(orgs.find(doomed.value).has_value());
  }
  SECTION("SET NULL: deleting a widget clears gadget.parent_id and keeps the gadget and its org") {
    const Widget parent = widgets.insert(keeper, Widget{Uuid::random(), OrgId{}, "parent"});
    Gadget child = testdb::make_gadget("child");
    child.parent_id = parent.id;
    gadgets.insert(keeper, child);
    REQUIRE(gadgets.find(keeper, child.id)->parent_id == parent.id);
    CHECK(widgets.erase(keeper, parent.id));
    const Gadget after = *gadgets.find(keeper, child.id);
    CHECK(after.parent_id == std::nullopt);
    CHECK(after.label == "child");
    // The reference is (org_id, parent_id); SET NULL must not null the org: PostgreSQL says
    // SET NULL (parent_id), SQLite nulls through a second key on parent_id alone (ddl.hpp).
    CHECK(parity::raw_count(conn, "SELECT COUNT(*) FROM gadgets WHERE id = ?1 AND parent_id IS NULL AND org_id = ?2",
                            child.id, keeper) == 1);
  }
}

TEMPLATE_TEST_CASE("ON DELETE RESTRICT: an organization with a pin cannot be deleted", "[parity][constraints][fk]",
                   PARITY_BACKENDS) {
  using B = TestType;
  auto conn = B::open();
  Repo<B, Organization> orgs{conn};
  Repo<B, ApiToken> tokens{conn};
  Repo<B, Pin> pins{conn};
  const OrgId doomed = parity::add_org(conn, "doomed");
  tokens.insert(doomed, testdb::make_token("t1"));
  tokens.insert(doomed, testdb::make_token("t2"));
  const Pin pin = pins.insert(Pin{Uuid::random(), doomed.value});

  const auto e = expect_throw<ForeignKeyViolation>([&] { orgs.erase(doomed.value); });
  // Both name the referencing table and the constraint (SQLite enforces RESTRICT with an internal
  // trigger, SQLITE_CONSTRAINT_TRIGGER (1811), and names nothing: the driver finds them).
  CHECK(e.code() == expected_code<B>(SQLITE_CONSTRAINT_TRIGGER, "23503"));
  CHECK(e.table() == "pins");
  CHECK(e.constraint() == "fk_pins_organization_id");
  // Nothing was deleted: not the organization, and no cascade ran.
  CHECK(orgs.find(doomed.value).has_value());
  CHECK(tokens.count(doomed) == 2);
  CHECK(rows_in(conn, "pins") == 1);
  // Without the pin the delete goes through, and cascades.
  CHECK(pins.erase(pin.id));
  CHECK(orgs.erase(doomed.value));
  CHECK(rows_in(conn, "api_tokens") == 0);
  CHECK(rows_in(conn, "organizations") == 0);
}

TEMPLATE_TEST_CASE("a child cannot reference another org's parent", "[parity][tenancy][fk]", PARITY_BACKENDS) {
  using B = TestType;
  auto conn = B::open();
  const OrgId a = parity::add_org(conn, "acme");
  const OrgId b = parity::add_org(conn, "globex");
  Repo<B, Widget> widgets{conn};
  Repo<B, Part> parts{conn};
  const Widget wa = widgets.insert(a, Widget{Uuid::random(), OrgId{}, "wa"});

  // Same org: accepted.
  parts.insert(a, Part{Uuid::random(), OrgId{}, wa.id, "p1"});
  CHECK(parts.count(a) == 1);

  // Org B naming org A's widget: the composite foreign key has no (b, wa.id) parent.
  const auto e =
      expect_throw<ForeignKeyViolation>([&] { parts.insert(b, Part{Uuid::random(), OrgId{}, wa.id, "p2"}); });
  CHECK(e.table() == "parts");
  CHECK(e.constraint() == "fk_parts_widget_id");
  CHECK(parts.count(b) == 0);

  // The same through plain SQL, bypassing the repository entirely.
  CHECK(expect_throw<ForeignKeyViolation>([&] {
    conn.execute("INSERT INTO parts (id, org_id, widget_id, name) VALUES ('" + Uuid::random().to_string() + "', '" +
                 b.to_string() + "', '" + wa.id.to_string() + "', 'raw')");
  }).constraint() == "fk_parts_widget_id");
  CHECK(parts.count(b) == 0);
  CHECK(rows_in(conn, "parts") == 1);

  // gadgets.parent_id -> widgets is ON DELETE SET NULL, tenant-safe on both databases:
  // (org_id, parent_id) -> (org_id, id), the org never nulled (PostgreSQL: SET NULL (parent_id);
  // SQLite: a second key on parent_id alone carries the SET NULL; ddl.hpp). Before, SQLite had
  // the single-column key only, and this insert went through.
  Repo<B, Gadget> gadgets{conn};
  Gadget cross = testdb::make_gadget("cross");
  cross.parent_id = wa.id;
  CHECK(expect_throw<ForeignKeyViolation>([&] { gadgets.insert(b, cross); }).constraint() == "fk_gadgets_parent_id");
  CHECK(gadgets.count(b) == 0);

  // Deleting the parent cascades within its org only.
  CHECK(widgets.erase(a, wa.id));
  CHECK(parts.count(a) == 0);
}

TEST_CASE("org-scoped tables carry UNIQUE (org, key) for tenant-safe references", "[parity][tenancy][fk]") {
  const TableInfo& t = table_info<Widget>();
  bool found = false;
  for (const auto& u : t.uniques) found = found || (u.name == "uq_widgets_org_id_id" && u.implicit);
  CHECK(found);
  // A table whose key already includes the org needs no twin.
  for (const auto& u : table_info<Membership>().uniques) CHECK_FALSE(u.implicit);
}
