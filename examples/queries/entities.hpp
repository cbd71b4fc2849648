// The entities of the query example and tests (select.hpp): the shapes of the seeds' multi-table reads.
//
//   Account (global)            a person, across orgs
//   Member (org)                an account's membership of an org      -> Account
//   Role (org), Capability (org) roles and what each allows            -> Role
//   RoleAssignment (org)            member -> role
//   Node (org), NodePath (org)  a tree and its closure table (ancestor, descendant, depth)
//   Key (org)                   API keys owned by a member, with a status and a use count
#pragma once

#include <tenantry/ddl.hpp>
#include <tenantry/dialect/postgres.hpp>
#include <tenantry/dialect/sqlite.hpp>
#include <tenantry/entity.hpp>
#include <tenantry/types.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>

namespace qfx {

using tenantry::OrgId;
using tenantry::Uuid;

struct Account {
  Uuid id;
  std::string email;
};
struct Member {
  Uuid id;
  OrgId org_id;
  Uuid account_id;
  std::string display_name;
};
struct Role {
  Uuid id;
  OrgId org_id;
  std::string name;
  bool is_default = false;
};
struct Capability {
  Uuid id;
  OrgId org_id;
  Uuid role_id;
  std::string capability;
};
struct RoleAssignment {
  Uuid id;
  OrgId org_id;
  Uuid member_id;
  Uuid role_id;
};
struct Node {
  Uuid id;
  OrgId org_id;
  std::string name;
};
struct NodePath {
  Uuid id;
  OrgId org_id;
  Uuid ancestor;
  Uuid descendant;
  std::int32_t depth = 0;
};
enum class KeyStatus { active, revoked };
struct Key {
  Uuid id;
  OrgId org_id;
  Uuid member_id;
  std::string name;
  KeyStatus status = KeyStatus::active;
  std::int64_t uses = 0;
  std::optional<std::string> note;
};

}  // namespace qfx

template <>
struct tenantry::entity<qfx::Account> {
  using T = qfx::Account;
  static constexpr std::string_view table = "q_accounts";
  static constexpr auto primary_key = key(&T::id);
  static constexpr auto constraints = std::tuple{unique(&T::email)};
};
template <>
struct tenantry::entity<qfx::Member> {
  using T = qfx::Member;
  static constexpr std::string_view table = "q_members";
  static constexpr auto primary_key = key(&T::id);
  static constexpr auto constraints = std::tuple{foreign_key(&T::account_id, &qfx::Account::id)};
};
template <>
struct tenantry::entity<qfx::Role> {
  using T = qfx::Role;
  static constexpr std::string_view table = "q_roles";
  static constexpr auto primary_key = key(&T::id);
  static constexpr auto constraints = std::tuple{unique(&T::org_id, &T::name)};
};
template <>
struct tenantry::entity<qfx::Capability> {
  using T = qfx::Capability;
  static constexpr std::string_view table = "q_capabilities";
  static constexpr auto primary_key = key(&T::id);
  static constexpr auto constraints = std::tuple{foreign_key(&T::role_id, &qfx::Role::id, on_delete::cascade)};
};
template <>
struct tenantry::entity<qfx::RoleAssignment> {
  using T = qfx::RoleAssignment;
  static constexpr std::string_view table = "q_assignments";
  static constexpr auto primary_key = key(&T::id);
  static constexpr auto constraints = std::tuple{foreign_key(&T::member_id, &qfx::Member::id, on_delete::cascade),
                                                 foreign_key(&T::role_id, &qfx::Role::id, on_delete::cascade)};
};
template <>
struct tenantry::entity<qfx::Node> {
  using T = qfx::Node;
  static constexpr std::string_view table = "q_nodes";
  static constexpr auto primary_key = key(&T::id);
};
template <>
struct tenantry::entity<qfx::NodePath> {
  using T = qfx::NodePath;
  static constexpr std::string_view table = "q_node_paths";
  static constexpr auto primary_key = key(&T::id);
  static constexpr auto constraints = std::tuple{foreign_key(&T::ancestor, &qfx::Node::id, on_delete::cascade),
                                                 foreign_key(&T::descendant, &qfx::Node::id, on_delete::cascade),
                                                 index(&T::org_id, &T::ancestor, &T::depth)};
};
template <>
struct tenantry::entity<qfx::Key> {
  using T = qfx::Key;
  static constexpr std::string_view table = "q_keys";
  static constexpr auto primary_key = key(&T::id);
  static constexpr auto constraints = std::tuple{foreign_key(&T::member_id, &qfx::Member::id, on_delete::cascade),
                                                 index(&T::org_id, &T::member_id)};
};

namespace qfx {
template <class D>
std::string schema() {
  return tenantry::schema_sql<D, Account, Member, Role, Capability, RoleAssignment, Node, NodePath, Key>();
}
}  // namespace qfx
