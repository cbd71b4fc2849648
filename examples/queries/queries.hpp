// The query shapes the golden and parity tests share: each is one statement of the seeds'
// multi-table reads (see query_entities.hpp). Values are parameters of the functions, so a
// test can run the same shape for several orgs and members.
#pragma once

#include "queries/entities.hpp"

#include <tenantry/select.hpp>
#include <tenantry/statements.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace qfx {

using tenantry::Alias;
using tenantry::col;
using tenantry::count;
using tenantry::exists;
using tenantry::from;
using tenantry::select;

/// A key with its owner's e-mail: Key -> Member -> Account (global).
struct KeyOwner {
  Uuid id;
  std::string name;
  std::string email;
  friend bool operator==(const KeyOwner&, const KeyOwner&) = default;
};
inline auto keys_with_owners() {
  return select<KeyOwner>(col(&Key::id), col(&Key::name), col(&Account::email))
      .from<Key>()
      .join<Member>(col(&Key::member_id) == col(&Member::id))
      .join<Account>(col(&Member::account_id) == col(&Account::id))
      .where(col(&Key::status) == KeyStatus::active)
      .order_by(col(&Key::name))
      .limit(50);
}

/// Every member with each of their keys, members without keys included (LEFT JOIN).
inline auto members_and_keys() {
  return select(col(&Member::display_name), col(&Key::name))
      .from<Member>()
      .left_join<Key>(col(&Key::member_id) == col(&Member::id))
      .order_by(col(&Member::display_name))
      .order_by(col(&Key::name));
}

/// A member's effective capabilities: RoleAssignment -> Role -> Capability, once each.
inline auto capabilities_of(const Uuid& member) {
  return select(col(&Capability::capability))
      .from<RoleAssignment>()
      .join<Role>(col(&Role::id) == col(&RoleAssignment::role_id))
      .join<Capability>(col(&Capability::role_id) == col(&Role::id))
      .where(col(&RoleAssignment::member_id) == member)
      .distinct()
      .order_by(col(&Capability::capability));
}

/// A node's descendants through the closure table, nearest first.
using Descendant = Alias<Node, 1>;
inline auto descendants_of(const Uuid& root) {
  return select(Descendant::col(&Node::name), col(&NodePath::depth))
      .from<NodePath>()
      .join<Descendant>(col(&NodePath::descendant) == Descendant::col(&Node::id))
      .where(col(&NodePath::ancestor) == root && col(&NodePath::depth) > 0)
      .order_by(col(&NodePath::depth))
      .order_by(Descendant::col(&Node::name));
}

/// Every (ancestor name, descendant name) pair: the node table joined twice.
using Ancestor = Alias<Node, 2>;
inline auto ancestry() {
  return select(Ancestor::col(&Node::name), Descendant::col(&Node::name))
      .from<NodePath>()
      .join<Ancestor>(col(&NodePath::ancestor) == Ancestor::col(&Node::id))
      .join<Descendant>(col(&NodePath::descendant) == Descendant::col(&Node::id))
      .where(col(&NodePath::depth) > 0)
      .order_by(Ancestor::col(&Node::name))
      .order_by(Descendant::col(&Node::name));
}

/// Keys per status (a dashboard's counts), statuses with at least `min` keys.
inline auto keys_per_status(std::int64_t min) {
  return select(col(&Key::status), count())
      .from<Key>()
      .group_by(col(&Key::status))
      .having(count() >= min)
      .order_by(col(&Key::status));
}

/// Per member: number of keys, total and average uses, the last key name.
struct MemberUsage {
  Uuid member_id;
  std::int64_t keys;
  std::optional<std::int64_t> total_uses;
  std::optional<double> average_uses;
  std::optional<std::string> last_name;
  friend bool operator==(const MemberUsage&, const MemberUsage&) = default;
};
inline auto usage_per_member() {
  return select<MemberUsage>(col(&Key::member_id), count(), tenantry::sum(col(&Key::uses)),
                             tenantry::avg(col(&Key::uses)), tenantry::max(col(&Key::name)))
      .from<Key>()
      .group_by(col(&Key::member_id))
      .order_by(col(&Key::member_id));
}

/// Members holding an active key (a correlated EXISTS).
inline auto members_with_active_keys() {
  return select(col(&Member::display_name))
      .from<Member>()
      .where(exists(from<Key>().where(col(&Key::member_id) == col(&Member::id) && col(&Key::status) == KeyStatus::active)))
      .order_by(col(&Member::display_name));
}

/// Names of keys whose owner holds role `role` (IN subquery).
inline auto keys_of_role(const Uuid& role) {
  return select(col(&Key::name))
      .from<Key>()
      .where(tenantry::in(col(&Key::member_id),
                          select(col(&RoleAssignment::member_id)).from<RoleAssignment>().where(col(&RoleAssignment::role_id) == role)))
      .order_by(col(&Key::name));
}

/// Copies the org's default roles into a project: INSERT INTO q_project_roles ... SELECT.
inline auto copy_default_roles_into() { return tenantry::into(&ProjectRole::project_id, &ProjectRole::name, &ProjectRole::is_default); }
inline auto default_roles_for(const Uuid& project) {
  return select(tenantry::value(project), col(&Role::name), col(&Role::is_default))
      .from<Role>()
      .where(col(&Role::is_default) == true);
}

// ---- tables scoped through their parent (MemberSecret, SecretHistory) ----

/// The password hash of the member whose account has `email`: MemberSecret -> Member -> Account.
/// One account is a member of several orgs; only the calling org's member's secret comes back.
inline auto secret_for_login(const std::string& email) {
  return select(col(&MemberSecret::password_hash))
      .from<MemberSecret>()
      .join<Member>(col(&Member::id) == col(&MemberSecret::member_id))
      .join<Account>(col(&Account::id) == col(&Member::account_id))
      .where(col(&Account::email) == email);
}

/// Every member with their secret's version, members without one included (LEFT JOIN: the
/// secret's parent filter sits in ON).
inline auto members_and_secrets() {
  return select(col(&Member::display_name), col(&MemberSecret::version))
      .from<Member>()
      .left_join<MemberSecret>(col(&MemberSecret::member_id) == col(&Member::id))
      .order_by(col(&Member::display_name));
}

/// Past hashes of a member's secret (a chain of depth 2: history -> secret -> member).
inline auto history_of(const Uuid& member) {
  return select(col(&SecretHistory::password_hash))
      .from<SecretHistory>()
      .join<MemberSecret>(col(&MemberSecret::id) == col(&SecretHistory::secret_id))
      .where(col(&MemberSecret::member_id) == member)
      .order_by(col(&SecretHistory::password_hash));
}

/// Members without a secret (NOT EXISTS over the parent-scoped table).
inline auto members_without_secret() {
  return select(col(&Member::display_name))
      .from<Member>()
      .where(tenantry::not_exists(from<MemberSecret>().where(col(&MemberSecret::member_id) == col(&Member::id))))
      .order_by(col(&Member::display_name));
}

/// Members whose secret hash is `hash` (IN subquery over the parent-scoped table).
inline auto members_with_hash(const std::string& hash) {
  return select(col(&Member::display_name))
      .from<Member>()
      .where(tenantry::in(col(&Member::id),
                          select(col(&MemberSecret::member_id)).from<MemberSecret>().where(col(&MemberSecret::password_hash) == hash)))
      .order_by(col(&Member::display_name));
}

/// Archives every current hash of the org: INSERT INTO q_secret_history ... SELECT from
/// q_member_secrets (both sides scoped through their parents).
inline auto archive_into() { return tenantry::into(&SecretHistory::secret_id, &SecretHistory::password_hash); }
inline auto current_hashes() { return select(col(&MemberSecret::id), col(&MemberSecret::password_hash)).from<MemberSecret>(); }

/// A global-only query: no org.
inline auto accounts_like(const std::string& pattern) {
  return select(col(&Account::email)).from<Account>().where(col(&Account::email).like(pattern)).order_by(col(&Account::email));
}

}  // namespace qfx
