// tenantry/conflict.hpp - the conflict target of an upsert.
//
//   tokens.upsert(org, token, on_conflict(&ApiToken::org_id, &ApiToken::token_prefix));
//   tokens.upsert(org, token, on_conflict(&ApiToken::id).update(only(&ApiToken::name)));
//   tokens.upsert(org, token, on_conflict(&ApiToken::id).nothing());
//
// The target must be the primary key or a declared UNIQUE (or whole-table unique index), checked
// at compile time: an ON CONFLICT that no constraint backs is an error on both databases.
#pragma once

#include "tenantry/entity.hpp"
#include "tenantry/query.hpp"

#include <tuple>
#include <type_traits>

namespace tenantry {

// ---- conflict targets ------------------------------------------------------------------------

namespace detail {
void tenantry_conflict_target_must_be_the_primary_key_or_a_declared_unique();

void tenantry_conflict_target_cannot_include_an_identity_column_the_insert_never_sends();

template <class T>
consteval bool has_identity_column(const ColumnList<T>& cols) {
  bool found = false;
  if constexpr (requires { entity<T>::columns; }) {
    std::apply([&](const auto&... c) { ((found = found || (c.identity_key && cols.contains(c.field))), ...); },
               entity<T>::columns);
  }
  return found;
}

template <class T>
consteval bool is_declared_unique(const ColumnList<T>& cols) {
  if (cols.same_set(entity<T>::primary_key.columns)) return true;
  bool found = false;
  if constexpr (requires { entity<T>::constraints; }) {
    std::apply(
        [&](const auto&... c) {
          (
              [&](const auto& decl) {
                using D = std::remove_cvref_t<decltype(decl)>;
                if constexpr (std::is_same_v<D, UniqueDecl<T>>) {
                  found = found || cols.same_set(decl.columns);
                } else if constexpr (std::is_same_v<D, IndexDecl<T>>) {
                  // A partial unique index cannot serve as a conflict target without repeating
                  // its predicate, so only whole-table unique indexes count.
                  found = found || (decl.is_unique && decl.where_sql.empty() && cols.same_set(decl.columns));
                }
              }(c),
              ...);
        },
        entity<T>::constraints);
  }
  return found;
}
}  // namespace detail

/// The conflict target of an upsert, with what to do on conflict.
template <class T>
struct ConflictTarget {
  detail::ColumnList<T> columns;
  detail::ColumnList<T> set;  // empty: every column the insert wrote, except keys and the org
  bool do_nothing = false;

  /// On conflict, update only these columns.
  constexpr ConflictTarget update(ColumnSelection<T> cols) const {
    ConflictTarget c = *this;
    c.set = cols.columns;
    return c;
  }
  /// On conflict, keep the existing row as it is (and read it back into the struct).
  constexpr ConflictTarget nothing() const {
    ConflictTarget c = *this;
    c.do_nothing = true;
    return c;
  }
};

/// on_conflict(&T::a, &T::b): the columns must be T's primary key or one of its declared UNIQUE
/// constraints (or whole-table unique indexes); anything else does not compile.
template <class M0, class T, class... Ms>
consteval ConflictTarget<T> on_conflict(M0 T::*first, Ms... rest) {
  ConflictTarget<T> c;
  detail::push_member(c.columns, first);
  (detail::push_member(c.columns, rest), ...);
  if (!detail::is_declared_unique(c.columns)) detail::tenantry_conflict_target_must_be_the_primary_key_or_a_declared_unique();
  if (detail::has_identity_column(c.columns)) detail::tenantry_conflict_target_cannot_include_an_identity_column_the_insert_never_sends();
  return c;
}

}  // namespace tenantry
