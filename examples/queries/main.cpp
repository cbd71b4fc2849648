// tenantry-queries: the seeds' multi-table reads, each one statement (select.hpp).
//
//   tenantry-queries                      on an in-memory SQLite database
//   tenantry-queries postgres://...       on PostgreSQL (tables q_* are created and dropped)
//
// Two orgs get the same-looking data; every query runs for org A and prints what it returns
// and the SQL it sent. Nothing of org B appears: each org-scoped table in each statement
// carries org A's id as $1, which the printed SQL shows. The members' password hashes live in a
// table without an org column (q_member_secrets, scoped through its member): it is filtered
// through the member, and org A cannot plant a hash under org B's member.
#include "queries/queries.hpp"

#include <tenantry/tenantry.hpp>

#include <iostream>
#include <string>
#include <tuple>

using namespace tenantry;
using namespace qfx;

namespace {

template <class Q>
void show(const char* what, Database& db, const Q& q) {
  std::cout << "-- " << what << "\n   " << (db.is_postgres() ? sql_of<PgDialect>(q) : sql_of<SqliteDialect>(q)) << '\n';
}

struct Org {
  OrgId id;
  Member alice, bob;
  Role admin, viewer;
  Node root, child, grandchild;
  MemberSecret alice_secret;
};

Org seed(Database& db, const Account& a, const Account& b) {
  Org o{OrgId(Uuid::random()), {}, {}, {}, {}, {}, {}, {}, {}};
  Repository<Member> members{db};
  Repository<Role> roles{db};
  Repository<Capability> caps{db};
  Repository<RoleAssignment> assigns{db};
  Repository<Node> nodes{db};
  Repository<NodePath> paths{db};
  Repository<Key> keys{db};
  o.alice = members.insert(o.id, Member{Uuid::random(), {}, a.id, "Alice"});
  o.bob = members.insert(o.id, Member{Uuid::random(), {}, b.id, "Bob"});
  o.admin = roles.insert(o.id, Role{Uuid::random(), {}, "admin", false});
  o.viewer = roles.insert(o.id, Role{Uuid::random(), {}, "viewer", true});
  for (const char* c : {"tokens.read", "tokens.write"}) caps.insert(o.id, Capability{Uuid::random(), {}, o.admin.id, c});
  caps.insert(o.id, Capability{Uuid::random(), {}, o.viewer.id, "tokens.read"});
  assigns.insert(o.id, RoleAssignment{Uuid::random(), {}, o.alice.id, o.admin.id});
  assigns.insert(o.id, RoleAssignment{Uuid::random(), {}, o.bob.id, o.viewer.id});
  o.root = nodes.insert(o.id, Node{Uuid::random(), {}, "workspace"});
  o.child = nodes.insert(o.id, Node{Uuid::random(), {}, "project"});
  o.grandchild = nodes.insert(o.id, Node{Uuid::random(), {}, "folder"});
  for (const Node& n : {o.root, o.child, o.grandchild}) paths.insert(o.id, NodePath{Uuid::random(), {}, n.id, n.id, 0});
  paths.insert(o.id, NodePath{Uuid::random(), {}, o.root.id, o.child.id, 1});
  paths.insert(o.id, NodePath{Uuid::random(), {}, o.child.id, o.grandchild.id, 1});
  paths.insert(o.id, NodePath{Uuid::random(), {}, o.root.id, o.grandchild.id, 2});
  keys.insert(o.id, Key{Uuid::random(), {}, o.alice.id, "ci", KeyStatus::active, 12, std::nullopt});
  keys.insert(o.id, Key{Uuid::random(), {}, o.alice.id, "laptop", KeyStatus::revoked, 3, std::nullopt});
  keys.insert(o.id, Key{Uuid::random(), {}, o.bob.id, "script", KeyStatus::active, 7, std::nullopt});
  // Secrets carry no org: each belongs to its member's org (tenantry::through<&MemberSecret::member_id>).
  Repository<MemberSecret> secrets{db};
  Repository<SecretHistory> history{db};
  o.alice_secret = secrets.insert(o.id, MemberSecret{Uuid::random(), o.alice.id, "argon2id$" + o.id.to_string().substr(0, 8), 2});
  history.insert(o.id, SecretHistory{Uuid::random(), o.alice_secret.id, "argon2id$old"});
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string url = argc > 1 ? argv[1] : "sqlite::memory:";
    Database db = connect(url);
    const char* drop = "DROP TABLE IF EXISTS q_secret_history; DROP TABLE IF EXISTS q_member_secrets; "
                       "DROP TABLE IF EXISTS q_keys; DROP TABLE IF EXISTS q_node_paths; DROP TABLE IF EXISTS q_nodes; "
                       "DROP TABLE IF EXISTS q_assignments; DROP TABLE IF EXISTS q_capabilities; DROP TABLE IF EXISTS q_roles; "
                       "DROP TABLE IF EXISTS q_members; DROP TABLE IF EXISTS q_accounts;";
    db.execute(drop);
    create_tables<Account, Member, Role, Capability, RoleAssignment, Node, NodePath, Key, MemberSecret, SecretHistory>(db);

    Repository<Account> accounts{db};
    const Account a = accounts.insert(Account{Uuid::random(), "alice@example.test"});
    const Account b = accounts.insert(Account{Uuid::random(), "bob@example.test"});
    const Org org_a = seed(db, a, b);
    const Org org_b = seed(db, a, b);  // the same people and names, another org

    show("a member's effective capabilities (assignments -> roles -> capabilities)", db, capabilities_of(org_a.alice.id));
    for (const auto& [cap] : fetch(db, org_a.id, capabilities_of(org_a.alice.id))) std::cout << "   " << cap << '\n';

    show("a node's descendants through the closure table", db, descendants_of(org_a.root.id));
    for (const auto& [name, depth] : fetch(db, org_a.id, descendants_of(org_a.root.id)))
      std::cout << "   " << std::string(static_cast<std::size_t>(depth) * 2, ' ') << name << '\n';

    const auto members = select(col(&Member::display_name), col(&Role::name))
                             .from<Member>()
                             .left_join<RoleAssignment>(col(&RoleAssignment::member_id) == col(&Member::id))
                             .left_join<Role>(col(&Role::id) == col(&RoleAssignment::role_id))
                             .order_by(col(&Member::display_name));
    show("the org's members with their roles", db, members);
    for (const auto& [member, role] : fetch(db, org_a.id, members)) std::cout << "   " << member << ": " << role.value_or("-") << '\n';

    show("tokens with their owners", db, keys_with_owners());
    for (const KeyOwner& k : fetch(db, org_a.id, keys_with_owners())) std::cout << "   " << k.name << " (" << k.email << ")\n";

    show("counts per status", db, keys_per_status(1));
    for (const auto& [status, n] : fetch(db, org_a.id, keys_per_status(1)))
      std::cout << "   " << enum_to_text(status) << ": " << n << '\n';

    // A table scoped through its parent: the login read joins the secret to its member and the
    // member's account; the secret's own filter is EXISTS (its member in the org).
    show("a password hash for login, scoped through the member", db, secret_for_login(a.email));
    for (const auto& [hash] : fetch(db, org_a.id, secret_for_login(a.email))) std::cout << "   " << hash << '\n';
    show("a secret's history (history -> secret -> member)", db, history_of(org_a.alice.id));
    for (const auto& [hash] : fetch(db, org_a.id, history_of(org_a.alice.id))) std::cout << "   " << hash << '\n';
    Repository<MemberSecret> secrets{db};
    bool refused = false;
    try {
      secrets.insert(org_a.id, MemberSecret{Uuid::random(), org_b.bob.id, "planted", 1});  // org B's member
    } catch (const OrgMismatch& e) {
      refused = true;
      std::cout << "-- org A planting a hash under org B's member\n   refused: " << e.what() << '\n';
    }
    if (!refused || secrets.find(org_a.id, org_b.alice_secret.id) || secrets.count(org_a.id) != 1) {
      std::cerr << "tenantry-queries: org A reached a secret of org B\n";
      return 1;
    }

    const auto total = fetch_one(db, org_a.id, select(count()).from<Key>());
    if (!total || std::get<0>(*total) != 3) {
      std::cerr << "tenantry-queries: org A should hold 3 keys\n";
      return 1;
    }
    db.execute(drop);
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "tenantry-queries: " << e.what() << '\n';
    return 1;
  }
}
