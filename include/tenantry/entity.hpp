// tenantry/entity.hpp - declaring a table next to its struct.
//
//   struct ApiToken { tenantry::Uuid id; tenantry::OrgId org_id; std::string token_prefix; ... };
//
//   template <> struct tenantry::entity<ApiToken> {
//     static constexpr std::string_view table = "api_tokens";
//     static constexpr auto primary_key = key(&ApiToken::id);
//     static constexpr auto columns = std::tuple{                       // optional
//         column(&ApiToken::created_at).default_now()};
//     static constexpr auto constraints = std::tuple{                   // optional
//         unique(&ApiToken::org_id, &ApiToken::token_prefix),
//         index(&ApiToken::org_id, desc(&ApiToken::created_at)),
//         check(&ApiToken::expires_in, ">", 0),
//         foreign_key(&ApiToken::org_id, &Organization::id, on_delete::cascade)};
//   };
//
// Every helper here is consteval: a member that is not a field of the struct, a mistyped
// comparison operator, or a key longer than a table can have, stops the compilation at the
// declaration. The declarations are turned into a runtime TableInfo (schema.hpp) once per
// entity, from which each dialect builds its SQL.
#pragma once

#include "tenantry/reflect.hpp"
#include "tenantry/types.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <tuple>
#include <type_traits>

namespace tenantry {

/// Specialise for each entity struct; see the header comment.
template <class T>
struct entity;

/// Columns of one constraint, key or column selection, as field indexes. A fixed size keeps the
/// declarations literal types; 32 covers every key and any realistic only(...) list.
inline constexpr std::size_t max_constraint_columns = 32;

namespace detail {

// Calling this in a consteval function makes the compiler stop there and show the call, whose
// name is the message.
void tenantry_member_is_not_a_field_of_the_entity();
void tenantry_constraint_has_too_many_columns();
void tenantry_check_operator_must_be_one_of_eq_ne_lt_le_gt_ge();

template <class T>
struct ColumnList {
  std::array<std::size_t, max_constraint_columns> index{};
  std::array<bool, max_constraint_columns> descending{};
  std::size_t size = 0;

  constexpr void push(std::size_t i, bool desc = false) {
    if (size == max_constraint_columns) tenantry_constraint_has_too_many_columns();
    index[size] = i;
    descending[size] = desc;
    ++size;
  }
  constexpr bool contains(std::size_t i) const {
    for (std::size_t k = 0; k < size; ++k)
      if (index[k] == i) return true;
    return false;
  }
  /// Same set of columns, in any order.
  constexpr bool same_set(const ColumnList& other) const {
    if (size != other.size) return false;
    for (std::size_t k = 0; k < size; ++k)
      if (!other.contains(index[k])) return false;
    return true;
  }
};

template <class T, class M>
constexpr std::size_t field_of(M T::*member) {
  const std::size_t i = reflect::index_of(member);
  if (i == reflect::npos) tenantry_member_is_not_a_field_of_the_entity();
  return i;
}

}  // namespace detail

/// A member pointer marked for descending order in an index.
template <class P>
struct Descending {
  P member;
};
template <class T, class M>
consteval Descending<M T::*> desc(M T::*member) {
  return {member};
}

namespace detail {
template <class T, class M>
constexpr void push_member(ColumnList<T>& list, M T::*member) {
  list.push(field_of(member));
}
template <class T, class M>
constexpr void push_member(ColumnList<T>& list, Descending<M T::*> d) {
  list.push(field_of(d.member), true);
}
template <class P>
struct class_of_arg : reflect::member_pointer_traits<P> {};
template <class P>
struct class_of_arg<Descending<P>> : reflect::member_pointer_traits<P> {};
template <class First, class... Rest>
using common_class_t = typename class_of_arg<First>::class_type;

template <class First, class... Rest>
consteval bool same_class() {
  return (std::is_same_v<typename class_of_arg<First>::class_type, typename class_of_arg<Rest>::class_type> && ...);
}
}  // namespace detail

// ---- keys and uniques ------------------------------------------------------------------------

template <class T>
struct KeyDecl {
  detail::ColumnList<T> columns;
};

/// The primary key: one member, or several for a composite key.
template <class M0, class T, class... Ms>
consteval KeyDecl<T> key(M0 T::*first, Ms... rest) {
  static_assert((std::is_same_v<typename reflect::member_pointer_traits<Ms>::class_type, T> && ...),
                "tenantry: every member of a key must belong to the same struct");
  KeyDecl<T> k;
  detail::push_member(k.columns, first);
  (detail::push_member(k.columns, rest), ...);
  return k;
}

template <class T>
struct UniqueDecl {
  detail::ColumnList<T> columns;
  std::string_view name{};  // empty: uq_<table>_<columns>
};

/// UNIQUE over one or more members.
template <class M0, class T, class... Ms>
consteval UniqueDecl<T> unique(M0 T::*first, Ms... rest) {
  static_assert((std::is_same_v<typename reflect::member_pointer_traits<Ms>::class_type, T> && ...),
                "tenantry: every member of a UNIQUE constraint must belong to the same struct");
  UniqueDecl<T> u;
  detail::push_member(u.columns, first);
  (detail::push_member(u.columns, rest), ...);
  return u;
}

// ---- indexes ---------------------------------------------------------------------------------

template <class T>
struct IndexDecl {
  detail::ColumnList<T> columns;
  bool is_unique = false;
  std::string_view where_sql{};  // partial index predicate, SQL written by the programmer
  std::string_view name{};

  /// Makes this a partial index: only rows matching `predicate` are indexed. The predicate is
  /// SQL text from your code (never user input) and must be valid in every dialect you target.
  constexpr IndexDecl where(std::string_view predicate) const {
    IndexDecl copy = *this;
    copy.where_sql = predicate;
    return copy;
  }
  constexpr IndexDecl named(std::string_view n) const {
    IndexDecl copy = *this;
    copy.name = n;
    return copy;
  }
};

namespace detail {
template <class A0, class... As>
constexpr auto make_index(A0 first, As... rest) {
  static_assert(same_class<A0, As...>(), "tenantry: every member of an index must belong to the same struct");
  IndexDecl<common_class_t<A0>> ix;
  push_member(ix.columns, first);
  (push_member(ix.columns, rest), ...);
  return ix;
}
}  // namespace detail

/// An index over members (wrap one in desc() for descending order).
template <class A0, class... As>
consteval auto index(A0 first, As... rest) {
  return detail::make_index(first, rest...);
}

/// A UNIQUE index (unlike unique(), it may be partial).
template <class A0, class... As>
consteval auto unique_index(A0 first, As... rest) {
  auto ix = detail::make_index(first, rest...);
  ix.is_unique = true;
  return ix;
}

// ---- checks ----------------------------------------------------------------------------------

/// A literal written into DDL (a CHECK bound or a column default). It comes from the program,
/// never from user input, and is rendered with the dialect's quoting.
struct Literal {
  enum class Type : std::uint8_t { none, integer, real, text, boolean } type = Type::none;
  std::int64_t i = 0;
  double d = 0;
  std::string_view s{};

  template <class V>
  static constexpr Literal of(V v) {
    Literal l;
    if constexpr (std::is_same_v<V, bool>) {
      l.type = Type::boolean;
      l.i = v ? 1 : 0;
    } else if constexpr (std::is_integral_v<V>) {
      l.type = Type::integer;
      l.i = static_cast<std::int64_t>(v);
    } else if constexpr (std::is_floating_point_v<V>) {
      l.type = Type::real;
      l.d = static_cast<double>(v);
    } else if constexpr (std::is_enum_v<V>) {
      l.type = Type::text;
      l.s = enum_to_text(v);
    } else {
      l.type = Type::text;
      l.s = std::string_view(v);
    }
    return l;
  }
};

template <class T>
struct CheckDecl {
  std::size_t column = reflect::npos;  // structured form: column <op> literal
  std::string_view op{};
  Literal value{};
  std::string_view raw_name{};  // raw form: named SQL expression
  std::string_view raw_sql{};
};

/// CHECK (member <op> value), op one of = <> < <= > >=. Named ck_<table>_<column>_<op>.
template <class T, class M, class V>
consteval CheckDecl<T> check(M T::*member, std::string_view op, V value) {
  if (op != "=" && op != "<>" && op != "<" && op != "<=" && op != ">" && op != ">=")
    detail::tenantry_check_operator_must_be_one_of_eq_ne_lt_le_gt_ge();
  CheckDecl<T> c;
  c.column = detail::field_of(member);
  c.op = op;
  c.value = Literal::of(value);
  return c;
}

/// CHECK (sql), the escape hatch: SQL text from your code, valid in every dialect you target.
/// Named ck_<table>_<name>.
consteval CheckDecl<void> check_sql(std::string_view name, std::string_view sql) {
  CheckDecl<void> c;
  c.raw_name = name;
  c.raw_sql = sql;
  return c;
}

// ---- foreign keys ----------------------------------------------------------------------------

enum class on_delete : std::uint8_t { no_action, cascade, set_null, restrict };

template <class T, class Parent>
struct ForeignKeyDecl {
  detail::ColumnList<T> columns;
  detail::ColumnList<Parent> parent_columns;
  on_delete action = on_delete::no_action;
};

/// FOREIGN KEY (member) REFERENCES parent(parent_member) [ON DELETE action].
template <class T, class M, class P, class PM>
consteval ForeignKeyDecl<T, P> foreign_key(M T::*member, PM P::*parent_member, on_delete action = on_delete::no_action) {
  ForeignKeyDecl<T, P> fk;
  fk.columns.push(detail::field_of(member));
  fk.parent_columns.push(detail::field_of(parent_member));
  fk.action = action;
  return fk;
}

/// A composite foreign key: foreign_key(fields(&C::a, &C::b), fields(&P::x, &P::y), action).
template <class T>
struct FieldsDecl {
  detail::ColumnList<T> list;
};
template <class M0, class T, class... Ms>
consteval FieldsDecl<T> fields(M0 T::*first, Ms... rest) {
  FieldsDecl<T> c;
  detail::push_member(c.list, first);
  (detail::push_member(c.list, rest), ...);
  return c;
}
namespace detail {
void tenantry_foreign_key_needs_as_many_parent_columns_as_child_columns();
}
template <class T, class P>
consteval ForeignKeyDecl<T, P> foreign_key(FieldsDecl<T> cols, FieldsDecl<P> parent_cols,
                                           on_delete action = on_delete::no_action) {
  if (cols.list.size != parent_cols.list.size) detail::tenantry_foreign_key_needs_as_many_parent_columns_as_child_columns();
  ForeignKeyDecl<T, P> fk;
  fk.columns = cols.list;
  fk.parent_columns = parent_cols.list;
  fk.action = action;
  return fk;
}

// ---- per-column options ----------------------------------------------------------------------

/// Where a column's default comes from.
enum class DefaultKind : std::uint8_t { none, literal, now, uuid, sql };

template <class T>
struct ColumnDecl {
  using Default = DefaultKind;
  std::size_t field = reflect::npos;
  std::string_view rename{};
  std::string_view type_override{};
  Default default_kind = Default::none;
  Literal default_literal{};
  std::string_view default_sql_text{};
  bool identity_key = false;
  bool write_once_flag = false;

  /// Stores the field under another column name.
  constexpr ColumnDecl name(std::string_view n) const { return with([&](ColumnDecl& c) { c.rename = n; }); }
  /// Uses this SQL type instead of the dialect's choice, to match an existing schema exactly
  /// (e.g. "VARCHAR(255)", "TIMESTAMP"). Applies to every dialect; use sql_type_for in a
  /// dialect-specific schema if the two must differ.
  constexpr ColumnDecl sql_type(std::string_view t) const { return with([&](ColumnDecl& c) { c.type_override = t; }); }
  /// DEFAULT <literal> in the DDL. Repository inserts still send the struct's value; the default
  /// serves rows inserted by other SQL (and ADD COLUMN in migrations).
  template <class V>
  constexpr ColumnDecl default_value(V v) const {
    return with([&](ColumnDecl& c) {
      c.default_kind = Default::literal;
      c.default_literal = Literal::of(v);
    });
  }
  /// DEFAULT <sql expression>, DDL only, like default_value.
  constexpr ColumnDecl default_sql(std::string_view sql) const {
    return with([&](ColumnDecl& c) {
      c.default_kind = Default::sql;
      c.default_sql_text = sql;
    });
  }
  /// The database fills the current time on insert: INSERT leaves the column out and RETURNING
  /// reads the value back into the struct.
  constexpr ColumnDecl default_now() const { return with([](ColumnDecl& c) { c.default_kind = Default::now; }); }
  /// The database generates a random UUID on insert, read back like default_now().
  constexpr ColumnDecl default_uuid() const { return with([](ColumnDecl& c) { c.default_kind = Default::uuid; }); }
  /// Written by insert only: never in an UPDATE's or an upsert's SET list (e.g. created_at).
  constexpr ColumnDecl write_once() const { return with([](ColumnDecl& c) { c.write_once_flag = true; }); }
  /// An integer key the database assigns (INTEGER PRIMARY KEY / GENERATED BY DEFAULT AS
  /// IDENTITY), read back on insert.
  constexpr ColumnDecl identity() const { return with([](ColumnDecl& c) { c.identity_key = true; }); }

 private:
  template <class F>
  constexpr ColumnDecl with(F f) const {
    ColumnDecl copy = *this;
    f(copy);
    return copy;
  }
};

/// Options for one column: column(&T::m).name("x").sql_type("VARCHAR(64)").default_now() ...
template <class T, class M>
consteval ColumnDecl<T> column(M T::*member) {
  ColumnDecl<T> c;
  c.field = detail::field_of(member);
  return c;
}

// ---- org scoping -----------------------------------------------------------------------------

namespace detail {
template <class T, std::size_t... I>
consteval std::size_t org_field_index(std::index_sequence<I...>) {
  std::size_t found = reflect::npos, count = 0;
  ((std::is_same_v<std::remove_cv_t<reflect::field_type<I, T>>, OrgId> ? (found = I, ++count, 0) : 0), ...);
  return count > 1 ? reflect::npos - 1 : found;
}
}  // namespace detail

/// Index of T's OrgId field, or npos for a global entity.
template <class T>
inline constexpr std::size_t org_field = [] {
  constexpr std::size_t i = detail::org_field_index<T>(std::make_index_sequence<reflect::field_count<T>>{});
  static_assert(i != reflect::npos - 1, "tenantry: an entity may have at most one OrgId field");
  return i;
}();

/// True for entities with an OrgId field: every operation on them is scoped to one org.
template <class T>
concept org_scoped = org_field<T> != reflect::npos;

/// True for entities whose tenantry::entity<T> specialisation is visible.
template <class T>
concept declared_entity = requires {
  { entity<T>::table } -> std::convertible_to<std::string_view>;
  entity<T>::primary_key;
};

}  // namespace tenantry
