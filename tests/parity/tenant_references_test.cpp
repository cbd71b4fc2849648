// References between org-scoped tables are tenant-safe on both databases (issue 10, class 5):
// no row of one org can point at another org's parent, whatever the reference's action or
// target, so no referential action of one org's delete reaches another org's rows. Each case
// is also what the old DDL let through: on SQLite an ON DELETE SET NULL reference and a
// self-reference were single-column, and on both databases a reference to a non-key UNIQUE
// column was; there B's delete nulled or deleted A's rows. Plus the deliberate global unique
// (class 8): its twin UNIQUE (org, email), and that a duplicate names the declared constraint.
// And the names: SQLite's "FOREIGN KEY constraint failed" becomes the constraint's name, as on
// PostgreSQL, for every statement shape the repositories run and for plain SQL.
#include "support/backends.hpp"

#include <optional>
#include <string>
#include <vector>

using namespace tenantry;
using fixtures::Folder;
using fixtures::Gadget;
using fixtures::Invite;
using fixtures::Organization;
using fixtures::Pin;
using fixtures::User;
using fixtures::Widget;
using parity::Repo;
using parity::rows_in;
using testdb::expect_throw;

namespace {

std::string fk_of(const ForeignKeyViolation& e) { return e.table() + "." + e.constraint(); }

}  // namespace

TEMPLATE_TEST_CASE("ON DELETE SET NULL references cannot cross orgs", "[parity][tenancy][fk]", PARITY_BACKENDS) {
  using B = TestType;
  auto conn = B::open();
  const OrgId a = parity::add_org(conn, "acme");
  const OrgId b = parity::add_org(conn, "globex");
  Repo<B, Widget> widgets{conn};
  Repo<B, Gadget> gadgets{conn};
  const Widget wa = widgets.insert(a, Widget{Uuid::random(), OrgId{}, "wa"});

  // B's gadget pointing at A's widget: refused on insert, set(), update() and plain SQL.
  Gadget g = testdb::make_gadget("b-gadget");
  g.parent_id = wa.id;
  CHECK(fk_of(expect_throw<ForeignKeyViolation>([&] { gadgets.insert(b, g); })) == "gadgets.fk_gadgets_parent_id");
  g.parent_id = std::nullopt;
  gadgets.insert(b, g);
  CHECK(fk_of(expect_throw<ForeignKeyViolation>([&] {
          gadgets.set(b, g.id, &Gadget::parent_id, std::optional<Uuid>(wa.id));
        })) == "gadgets.fk_gadgets_parent_id");
  g.parent_id = wa.id;
  CHECK(fk_of(expect_throw<ForeignKeyViolation>([&] { gadgets.update(b, g); })) == "gadgets.fk_gadgets_parent_id");
  CHECK(fk_of(expect_throw<ForeignKeyViolation>([&] {
          conn.execute("UPDATE gadgets SET parent_id = '" + wa.id.to_string() + "' WHERE org_id = '" + b.to_string() +
                       "'");
        })) == "gadgets.fk_gadgets_parent_id");
  CHECK(parity::raw_count(conn, "SELECT COUNT(*) FROM gadgets WHERE parent_id IS NOT NULL") == 0);

  // Within one org the reference and its action work: A's gadget loses its parent, keeps its org.
  Gadget ga = testdb::make_gadget("a-gadget");
  ga.parent_id = wa.id;
  gadgets.insert(a, ga);
  CHECK(widgets.erase(a, wa.id));
  CHECK(gadgets.find(a, ga.id)->parent_id == std::nullopt);
  CHECK(parity::raw_count(conn, "SELECT COUNT(*) FROM gadgets WHERE org_id = ?1", a) == 1);
  // B's gadget was never tied to A's widget, so A's delete changed nothing of B's.
  CHECK(gadgets.find(b, g.id)->label == "b-gadget");
  CHECK(gadgets.find(b, g.id)->parent_id == std::nullopt);
}

TEMPLATE_TEST_CASE("a self-reference (folders.parent_id, ON DELETE SET NULL) cannot cross orgs",
                   "[parity][tenancy][fk]", PARITY_BACKENDS) {
  using B = TestType;
  auto conn = B::open();
  const OrgId a = parity::add_org(conn, "acme");
  const OrgId b = parity::add_org(conn, "globex");
  Repo<B, Folder> folders{conn};
  const Folder root_a = folders.insert(a, Folder{Uuid::random(), OrgId{}, std::nullopt, "root-a"});

  CHECK(fk_of(expect_throw<ForeignKeyViolation>([&] {
          folders.insert(b, Folder{Uuid::random(), OrgId{}, root_a.id, "evil"});
        })) == "folders.fk_folders_parent_id");
  Folder fb = folders.insert(b, Folder{Uuid::random(), OrgId{}, std::nullopt, "fb"});
  CHECK(fk_of(expect_throw<ForeignKeyViolation>([&] {
          folders.set(b, fb.id, &Folder::parent_id, std::optional<Uuid>(root_a.id));
        })) == "folders.fk_folders_parent_id");
  CHECK(fk_of(expect_throw<ForeignKeyViolation>([&] {
          std::vector<Folder> rows{Folder{Uuid::random(), OrgId{}, std::nullopt, "ok"},
                                   Folder{Uuid::random(), OrgId{}, root_a.id, "bad"}};
          folders.insert_many(b, rows);
        })) == "folders.fk_folders_parent_id");
  CHECK(folders.count(b) == 1);

  // The tree works within an org: deleting a folder orphans its children, and deleting the whole
  // tree in one statement (parents and children together) goes through.
  const Folder child = folders.insert(a, Folder{Uuid::random(), OrgId{}, root_a.id, "child"});
  folders.insert(a, Folder{Uuid::random(), OrgId{}, child.id, "grandchild"});
  CHECK(folders.erase(a, root_a.id));
  CHECK(folders.find(a, child.id)->parent_id == std::nullopt);
  CHECK(folders.erase_where(a, col(&Folder::name) != "") == 2);
  CHECK(folders.count(a) == 0);
  CHECK(folders.find(b, fb.id)->name == "fb");
}

TEMPLATE_TEST_CASE("a reference to a non-key global UNIQUE column cannot cross orgs", "[parity][tenancy][fk]",
                   PARITY_BACKENDS) {
  using B = TestType;
  auto conn = B::open();
  const OrgId a = parity::add_org(conn, "acme");
  const OrgId b = parity::add_org(conn, "globex");
  Repo<B, User> users{conn};
  Repo<B, Invite> invites{conn};
  User ua = users.insert(a, User{Uuid::random(), OrgId{}, "ann@acme.test", "Ann"});
  User ub = users.insert(b, User{Uuid::random(), OrgId{}, "bob@globex.test", "Bob"});

  // The reference is (org_id, user_email) -> users (org_id, email): A cannot invite B's user.
  // Before, it was user_email -> users (email) alone, so this insert went through and B's erase
  // of Bob then cascade-deleted A's invite (referential actions pass beside every org filter).
  CHECK(fk_of(expect_throw<ForeignKeyViolation>([&] {
          invites.insert(a, Invite{Uuid::random(), OrgId{}, "bob@globex.test", "join us"});
        })) == "invites.fk_invites_user_email");
  const Invite mine = invites.insert(a, Invite{Uuid::random(), OrgId{}, "ann@acme.test", "welcome"});
  CHECK(users.erase(b, ub.id));
  CHECK(invites.find(a, mine.id).has_value());

  // Changing a referenced e-mail is refused and named (the parent side of the key).
  ua.email = "ann@elsewhere.test";
  CHECK(fk_of(expect_throw<ForeignKeyViolation>([&] { users.update(a, ua); })) == "invites.fk_invites_user_email");
  // Deleting the user cascades to its own org's invites.
  CHECK(users.erase(a, ua.id));
  CHECK(invites.count(a) == 0);
  CHECK(rows_in(conn, "invites") == 0);
}

TEMPLATE_TEST_CASE("a global_unique() UNIQUE: unique across orgs on purpose, reported by its declared name",
                   "[parity][tenancy][unique]", PARITY_BACKENDS) {
  using B = TestType;
  auto conn = B::open();
  const OrgId a = parity::add_org(conn, "acme");
  const OrgId b = parity::add_org(conn, "globex");
  Repo<B, User> users{conn};
  users.insert(a, User{Uuid::random(), OrgId{}, "ann@acme.test", "Ann"});
  // The declared trade-off: org B learns that the address is taken (by some org).
  CHECK(expect_throw<UniqueViolation>([&] { users.insert(b, User{Uuid::random(), OrgId{}, "ann@acme.test", "x"}); })
            .constraint() == "uq_users_email");
  // A duplicate within the org violates the twin UNIQUE (org_id, email) too; the declared
  // constraint is the one reported, on both databases (ddl.hpp orders the twin for it).
  CHECK(expect_throw<UniqueViolation>([&] { users.insert(a, User{Uuid::random(), OrgId{}, "ann@acme.test", "x"}); })
            .constraint() == "uq_users_email");
  CHECK(rows_in(conn, "users") == 1);
  bool twin = false;
  for (const auto& u : table_info<User>().uniques)
    twin = twin || (u.name == "uq_users_org_id_email" && u.implicit && u.twin_of == "uq_users_email");
  CHECK(twin);
}

TEMPLATE_TEST_CASE("the parent side of a RESTRICT reference is named on both databases", "[parity][fk]",
                   PARITY_BACKENDS) {
  using B = TestType;
  auto conn = B::open();
  const OrgId a = parity::add_org(conn, "acme");
  Repo<B, Organization> orgs{conn};
  Repo<B, Pin> pins{conn};
  pins.insert(Pin{Uuid::random(), a.value});
  for (auto erase : {+[](Repo<B, Organization>& r, const OrgId& o) { (void)r.erase(o.value); },
                     +[](Repo<B, Organization>& r, const OrgId&) { (void)r.erase_where(col(&Organization::slug) == "acme"); }}) {
    const auto e = expect_throw<ForeignKeyViolation>([&] { erase(orgs, a); });
    CHECK(fk_of(e) == "pins.fk_pins_organization_id");
  }
  CHECK(fk_of(expect_throw<ForeignKeyViolation>([&] {
          conn.execute("DELETE FROM organizations WHERE slug = 'acme'");
        })) == "pins.fk_pins_organization_id");
  CHECK(rows_in(conn, "organizations") == 1);
}
