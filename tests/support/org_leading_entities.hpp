// Entities with org-leading keys (entity<T>::org_leading_keys, the layout distribution by org
// needs): used by the golden SQL test and the parity test of that layout.
//
//   Organization (fixtures, global)  <- Account (org-leading; unique email per org)
//                                       <- Invoice (org-leading; FK to Account becomes (org, id))
//                                       <- Memo    (org-leading; ON DELETE SET NULL to Account:
//                                                   PostgreSQL only, SQLite cannot express it)
#pragma once

#include "support/entities.hpp"

#include <optional>
#include <string>
#include <tuple>

namespace citus {

using tenantry::OrgId;
using tenantry::Uuid;

struct Account {
  Uuid id;
  OrgId org_id;
  std::string email;
  std::string name;
};

struct Invoice {
  Uuid id;
  OrgId org_id;
  Uuid account_id;
  std::string number;
  std::int64_t amount = 0;
};

struct Memo {
  Uuid id;
  OrgId org_id;
  std::optional<Uuid> account_id;
  std::string text;
};

/// What an application would inherit from to put a whole set of entities on org-leading keys.
struct OrgLeading {
  static constexpr bool org_leading_keys = true;
};

}  // namespace citus

template <>
struct tenantry::entity<citus::Account> : citus::OrgLeading {
  using T = citus::Account;
  static constexpr std::string_view table = "accounts";
  static constexpr auto primary_key = key(&T::id);
  static constexpr auto constraints = std::tuple{
      unique(&T::email),                          // becomes UNIQUE (org_id, email)
      unique_index(&T::name, &T::org_id),         // becomes (org_id, name)
      index(&T::name),                            // plain index: left as declared
      foreign_key(&T::org_id, &fixtures::Organization::id, on_delete::cascade)};
};

template <>
struct tenantry::entity<citus::Invoice> : citus::OrgLeading {
  using T = citus::Invoice;
  static constexpr std::string_view table = "invoices";
  static constexpr auto primary_key = key(&T::id);
  static constexpr auto constraints = std::tuple{
      unique(&T::org_id, &T::number),
      check(&T::amount, ">=", 0),
      foreign_key(&T::account_id, &citus::Account::id, on_delete::cascade)};
};

template <>
struct tenantry::entity<citus::Memo> : citus::OrgLeading {
  using T = citus::Memo;
  static constexpr std::string_view table = "memos";
  static constexpr auto primary_key = key(&T::id);
  static constexpr auto constraints = std::tuple{foreign_key(&T::account_id, &citus::Account::id, on_delete::set_null)};
};

namespace citus {

/// The org-leading schema (Memo only where the dialect can express it), parents first.
template <class D>
std::string schema() {
  if constexpr (D::set_null_column_list)
    return tenantry::schema_sql<D, fixtures::Organization, Account, Invoice, Memo>();
  else
    return tenantry::schema_sql<D, fixtures::Organization, Account, Invoice>();
}

}  // namespace citus
