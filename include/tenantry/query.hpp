// tenantry/query.hpp - predicates, columns and ordering.
//
//   tokens.list(org, col(&ApiToken::user_id) == uid && col(&ApiToken::status) != TokenStatus::revoked,
//               order_by(&ApiToken::created_at).desc(), limit(50), offset(100));
//
// col(), order_by() are consteval: the member is resolved to a column index at compile time,
// and a member of another struct does not compile. Values are always bound as parameters.
//
// A predicate is a tree of the library's nodes (comparisons, IS NULL, IN, AND/OR/NOT, column
// equalities, EXISTS and IN subqueries). It never writes SQL itself: it describes itself as
// statement nodes (statement.hpp), and the one SQL writer (sql_writer.hpp) turns those into text,
// parenthesizing every AND/OR. So whatever a predicate says, it stays inside its parentheses,
// next to the org filter the writer adds; and the set of predicate types is closed (the
// `predicate` concept accepts library nodes only). For SQL the nodes cannot say, use the raw
// query path (raw.hpp), which is named so that a review can find every use.
//
// Columns name a *source*: an entity, or an alias of one for a second copy of the same table in
// a query (Alias<Node, 1>::col(&Node::id)). A predicate may only name sources of the statement
// it is used in (or of an enclosing statement, from inside a subquery); anything else does not
// compile.
#pragma once

#include "tenantry/entity.hpp"
#include "tenantry/schema.hpp"
#include "tenantry/statement.hpp"
#include "tenantry/types.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace tenantry {

// ---- sources ---------------------------------------------------------------------------------

/// A second (third...) copy of entity E's table in one query: a self-join, or a closure table
/// joined to its node table twice. Alias<E, 0> is E itself.
template <class E, int N>
struct Alias {
  using entity_type = E;
  static constexpr int number = N;
  template <class M>
  static consteval auto col(M E::*member);
};

namespace query_detail {

template <class Src>
struct source_traits {
  using entity = Src;
};
template <class E, int N>
struct source_traits<Alias<E, N>> {
  using entity = E;
};
template <class E>
struct source_traits<Alias<E, 0>> {
  using entity = E;
};
/// The entity a source reads.
template <class Src>
using source_entity = typename source_traits<Src>::entity;

/// Alias<E, 0> and E are the same source.
template <class Src>
struct canonical {
  using type = Src;
};
template <class E>
struct canonical<Alias<E, 0>> {
  using type = E;
};
template <class Src>
using canonical_t = typename canonical<Src>::type;

template <class Src, class... Srcs>
inline constexpr int index_in = [] {
  int i = 0, found = -1;
  ((found = (found < 0 && std::is_same_v<canonical_t<Src>, canonical_t<Srcs>>) ? i : found, ++i), ...);
  return found;
}();

void tenantry_column_of_an_entity_that_is_not_in_the_query();

/// Resolves sources to (scope, index) while a statement is described. Parent is the context of
/// the enclosing statement (void at the top), for correlated subqueries.
template <class Parent, class... Srcs>
struct Context {
  const Parent* parent = nullptr;
  stmt::Statement* statement = nullptr;

  template <class Src>
  static constexpr bool knows() {
    if constexpr (index_in<Src, Srcs...> >= 0) return true;
    else if constexpr (std::is_void_v<Parent>) return false;
    else return Parent::template knows<Src>();
  }

  template <class Src>
  stmt::ColRef ref(std::size_t column) const {
    constexpr int i = index_in<Src, Srcs...>;
    if constexpr (i >= 0) {
      return stmt::ColRef{0, static_cast<std::uint8_t>(i), static_cast<std::uint16_t>(column)};
    } else {
      static_assert(!std::is_void_v<Parent>,
                    "tenantry: a column of an entity that is not in the query: add the entity with from<E>() / join<E>(...)");
      stmt::ColRef r = parent->template ref<Src>(column);
      ++r.scope;
      return r;
    }
  }
};

using Nodes = stmt::small_vector<stmt::Node, 8>;

template <class V>
inline void push(V& nodes, const stmt::Node& n) {
  nodes.push_back(n);
}

/// Adds p's run-time shape to k (statement.hpp's ShapeKey); a node that cannot say makes k
/// unusable.
template <class P>
inline void shape_of(const P& p, stmt::ShapeKey& k) {
  if constexpr (requires { p.shape(k); }) p.shape(k);
  else k.usable = false;
}

}  // namespace query_detail

// ---- predicates ------------------------------------------------------------------------------

/// Library predicate node types say so by specialising this (and only library types do: the set
/// of predicates is closed, so no type can put text of its own into a statement).
template <class P>
struct is_predicate_node : std::false_type {};

/// A predicate: a tree of the library's nodes (col(...) == v, &&, ||, !, in, is_null, exists...).
template <class P>
concept predicate = is_predicate_node<std::remove_cvref_t<P>>::value;

/// A comparison of one column with a bound value.
template <class Src, class M>
struct Compare {
  using source_type = Src;
  using entity_type = query_detail::source_entity<Src>;
  std::size_t index;
  stmt::Cmp op;
  M value;

  template <class... Srcs>
  static constexpr bool names_only = (query_detail::index_in<Src, Srcs...> >= 0);

  // An empty optional compares as IS NULL / IS NOT NULL: "= NULL" is never true in SQL.
  bool compares_null() const {
    if constexpr (is_optional<M>::value) return !value.has_value() && (op == stmt::Cmp::eq || op == stmt::Cmp::ne);
    else return false;
  }
  template <class C, class V>
  void describe(const C& ctx, V& nodes) const {
    stmt::Node n;
    n.a = ctx.template ref<Src>(index);
    if (compares_null()) {
      n.kind = stmt::NodeKind::null_test;
      n.negated = op == stmt::Cmp::ne;
    } else {
      n.kind = stmt::NodeKind::compare;
      n.cmp = op;
    }
    query_detail::push(nodes, n);
  }
  void shape(stmt::ShapeKey& k) const {
    k.add(static_cast<std::uint32_t>(index) << 8 | static_cast<std::uint32_t>(op) << 1 | (compares_null() ? 1u : 0u));
  }
  template <class S>
  void bind(S& s, int& next) const {
    if (compares_null()) return;
    bind_value(s, next++, value);
  }
};

/// column IS [NOT] NULL.
template <class Src>
struct NullTest {
  using source_type = Src;
  using entity_type = query_detail::source_entity<Src>;
  std::size_t index;
  bool negated;
  template <class... Srcs>
  static constexpr bool names_only = (query_detail::index_in<Src, Srcs...> >= 0);
  template <class C, class V>
  void describe(const C& ctx, V& nodes) const {
    stmt::Node n;
    n.kind = stmt::NodeKind::null_test;
    n.negated = negated;
    n.a = ctx.template ref<Src>(index);
    query_detail::push(nodes, n);
  }
  void shape(stmt::ShapeKey& k) const { k.add(static_cast<std::uint32_t>(index) << 1 | (negated ? 1u : 0u)); }
  template <class S>
  void bind(S&, int&) const {}
};

/// column IN (values...). An empty list matches nothing (NOT IN: everything).
template <class Src, class M>
struct InList {
  using source_type = Src;
  using entity_type = query_detail::source_entity<Src>;
  std::size_t index;
  std::vector<M> values;
  bool negated = false;
  template <class... Srcs>
  static constexpr bool names_only = (query_detail::index_in<Src, Srcs...> >= 0);
  template <class C, class V>
  void describe(const C& ctx, V& nodes) const {
    stmt::Node n;
    n.kind = stmt::NodeKind::in_list;
    n.negated = negated;
    n.a = ctx.template ref<Src>(index);
    n.count = static_cast<std::uint32_t>(values.size());
    query_detail::push(nodes, n);
  }
  void shape(stmt::ShapeKey& k) const {
    k.add(static_cast<std::uint32_t>(index) << 1 | (negated ? 1u : 0u));
    k.add(static_cast<std::uint32_t>(values.size()));
  }
  template <class S>
  void bind(S& s, int& next) const {
    for (const auto& v : values) bind_value(s, next++, v);
  }
};

/// a <op> b for two columns of the same C++ type (a join condition, a correlation).
template <class SrcA, class SrcB, class M>
struct ColumnCompare {
  using source_type = SrcA;
  using entity_type = query_detail::source_entity<SrcA>;
  std::size_t a, b;
  stmt::Cmp op;
  template <class... Srcs>
  static constexpr bool names_only = (query_detail::index_in<SrcA, Srcs...> >= 0) && (query_detail::index_in<SrcB, Srcs...> >= 0);
  template <class C, class V>
  void describe(const C& ctx, V& nodes) const {
    stmt::Node n;
    n.kind = stmt::NodeKind::column_compare;
    n.cmp = op;
    n.a = ctx.template ref<SrcA>(a);
    n.b = ctx.template ref<SrcB>(b);
    query_detail::push(nodes, n);
  }
  void shape(stmt::ShapeKey& k) const {
    k.add(static_cast<std::uint32_t>(a) << 16 | static_cast<std::uint32_t>(b) << 3 | static_cast<std::uint32_t>(op));
  }
  template <class S>
  void bind(S&, int&) const {}
};

template <class L, class R, bool All>
struct Junction {
  using entity_type = typename L::entity_type;
  L left;
  R right;
  template <class... Srcs>
  static constexpr bool names_only = L::template names_only<Srcs...> && R::template names_only<Srcs...>;
  template <class C, class V>
  void describe(const C& ctx, V& nodes) const {
    stmt::Node n;
    n.kind = All ? stmt::NodeKind::all_of : stmt::NodeKind::any_of;
    n.count = 2;
    query_detail::push(nodes, n);
    left.describe(ctx, nodes);
    right.describe(ctx, nodes);
  }
  // The tree's form is the type's; only the leaves have run-time shape.
  void shape(stmt::ShapeKey& k) const {
    query_detail::shape_of(left, k);
    query_detail::shape_of(right, k);
  }
  template <class S>
  void bind(S& s, int& next) const {
    left.bind(s, next);
    right.bind(s, next);
  }
};

template <class P>
struct Negation {
  using entity_type = typename P::entity_type;
  P inner;
  template <class... Srcs>
  static constexpr bool names_only = P::template names_only<Srcs...>;
  template <class C, class V>
  void describe(const C& ctx, V& nodes) const {
    stmt::Node n;
    n.kind = stmt::NodeKind::negation;
    query_detail::push(nodes, n);
    inner.describe(ctx, nodes);
  }
  void shape(stmt::ShapeKey& k) const { query_detail::shape_of(inner, k); }
  template <class S>
  void bind(S& s, int& next) const {
    inner.bind(s, next);
  }
};

template <class Src, class M>
struct is_predicate_node<Compare<Src, M>> : std::true_type {};
template <class Src>
struct is_predicate_node<NullTest<Src>> : std::true_type {};
template <class Src, class M>
struct is_predicate_node<InList<Src, M>> : std::true_type {};
template <class A, class B, class M>
struct is_predicate_node<ColumnCompare<A, B, M>> : std::true_type {};
template <class L, class R, bool All>
struct is_predicate_node<Junction<L, R, All>> : std::true_type {};
template <class P>
struct is_predicate_node<Negation<P>> : std::true_type {};

namespace query_detail {
/// True for a predicate that reads an org-scoped table through a subquery: the statement it is
/// part of then needs the org, even when its own table is global.
template <class P>
struct reaches_org_scoped : std::false_type {};
template <class L, class R, bool All>
struct reaches_org_scoped<Junction<L, R, All>>
    : std::bool_constant<reaches_org_scoped<L>::value || reaches_org_scoped<R>::value> {};
template <class P>
struct reaches_org_scoped<Negation<P>> : reaches_org_scoped<P> {};
/// True for a predicate that reads, through a subquery, an org-scoped table whose org column is
/// a plain OrgId (every row has an org): it cannot be part of a tenantry::platform call.
template <class P>
struct reaches_org_only : std::false_type {};
template <class L, class R, bool All>
struct reaches_org_only<Junction<L, R, All>>
    : std::bool_constant<reaches_org_only<L>::value || reaches_org_only<R>::value> {};
template <class P>
struct reaches_org_only<Negation<P>> : reaches_org_only<P> {};

/// The org types (detail::org_key_bit) of the tables a predicate reads through subqueries: one
/// statement may hold one org type only.
template <class P>
struct org_keys_in : std::integral_constant<unsigned, 0u> {};
template <class L, class R, bool All>
struct org_keys_in<Junction<L, R, All>>
    : std::integral_constant<unsigned, org_keys_in<L>::value | org_keys_in<R>::value> {};
template <class P>
struct org_keys_in<Negation<P>> : org_keys_in<P> {};

/// True for a predicate whose subqueries read a table with an org column: the statement then
/// binds the org as $1 (a schema-scoped table alone takes no org parameter).
template <class P>
struct binds_org : std::false_type {};
template <class L, class R, bool All>
struct binds_org<Junction<L, R, All>> : std::bool_constant<binds_org<L>::value || binds_org<R>::value> {};
template <class P>
struct binds_org<Negation<P>> : binds_org<P> {};
}  // namespace query_detail

template <predicate L, predicate R>
Junction<L, R, true> operator&&(L l, R r) {
  return {std::move(l), std::move(r)};
}
template <predicate L, predicate R>
Junction<L, R, false> operator||(L l, R r) {
  return {std::move(l), std::move(r)};
}
template <predicate P>
Negation<P> operator!(P p) {
  return {std::move(p)};
}

// ---- columns ---------------------------------------------------------------------------------

namespace query_detail {
template <class A, class B>
struct same_value : std::is_same<A, B> {};
template <class A, class B>
struct same_value<std::optional<A>, B> : std::is_same<A, B> {};
template <class A, class B>
struct same_value<A, std::optional<B>> : std::is_same<A, B> {};
template <class A, class B>
struct same_value<std::optional<A>, std::optional<B>> : std::is_same<A, B> {};
}  // namespace query_detail

/// A column of source Src (an entity, or an Alias of one) holding M, from col(&T::member).
template <class Src, class M>
struct Column {
  using source_type = Src;
  using value_type = M;
  std::size_t index;

  template <class V>
    requires std::is_constructible_v<M, V>
  Compare<Src, M> compare(stmt::Cmp op, V&& v) const {
    return {index, op, M(std::forward<V>(v))};
  }
  template <class V> requires std::is_constructible_v<M, V>
  friend Compare<Src, M> operator==(Column c, V&& v) { return c.compare(stmt::Cmp::eq, std::forward<V>(v)); }
  template <class V> requires std::is_constructible_v<M, V>
  friend Compare<Src, M> operator!=(Column c, V&& v) { return c.compare(stmt::Cmp::ne, std::forward<V>(v)); }
  template <class V> requires std::is_constructible_v<M, V>
  friend Compare<Src, M> operator<(Column c, V&& v) { return c.compare(stmt::Cmp::lt, std::forward<V>(v)); }
  template <class V> requires std::is_constructible_v<M, V>
  friend Compare<Src, M> operator<=(Column c, V&& v) { return c.compare(stmt::Cmp::le, std::forward<V>(v)); }
  template <class V> requires std::is_constructible_v<M, V>
  friend Compare<Src, M> operator>(Column c, V&& v) { return c.compare(stmt::Cmp::gt, std::forward<V>(v)); }
  template <class V> requires std::is_constructible_v<M, V>
  friend Compare<Src, M> operator>=(Column c, V&& v) { return c.compare(stmt::Cmp::ge, std::forward<V>(v)); }

  /// a = b between two columns: a join condition or a subquery's correlation. The two must hold
  /// the same C++ type (an optional and its value type count as the same).
  template <class Src2, class M2>
  ColumnCompare<Src, Src2, M> equals(Column<Src2, M2> other) const {
    static_assert(query_detail::same_value<M, M2>::value,
                  "tenantry: compared columns must hold the same C++ type (std::optional<T> and T count as the same)");
    return {index, other.index, stmt::Cmp::eq};
  }
  template <class Src2, class M2>
  friend ColumnCompare<Src, Src2, M> operator==(Column a, Column<Src2, M2> b) {
    return a.equals(b);
  }
  template <class Src2, class M2>
  friend ColumnCompare<Src, Src2, M> operator!=(Column a, Column<Src2, M2> b) {
    auto c = a.equals(b);
    c.op = stmt::Cmp::ne;
    return c;
  }

  /// LIKE pattern (bound as a parameter; % and _ are wildcards). Text columns only. Case: SQLite's
  /// LIKE ignores ASCII case, PostgreSQL's does not.
  template <class V>
    requires(std::is_same_v<M, std::string> || std::is_same_v<M, std::optional<std::string>>)
  Compare<Src, M> like(V&& pattern) const {
    return compare(stmt::Cmp::like, std::forward<V>(pattern));
  }
  NullTest<Src> is_null() const { return {index, false}; }
  NullTest<Src> is_not_null() const { return {index, true}; }
  InList<Src, M> in(std::vector<M> values) const { return {index, std::move(values), false}; }
  InList<Src, M> not_in(std::vector<M> values) const { return {index, std::move(values), true}; }
};

/// The column of a member, for predicates: col(&ApiToken::user_id) == "u1".
template <class T, class M>
consteval Column<T, M> col(M T::*member) {
  return Column<T, M>{detail::field_of(member)};
}

template <class E, int N>
template <class M>
consteval auto Alias<E, N>::col(M E::*member) {
  return Column<std::conditional_t<N == 0, E, Alias<E, N>>, M>{detail::field_of(member)};
}

// ---- ordering and paging ---------------------------------------------------------------------

/// ORDER BY one column: order_by(&T::m), order_by(&T::m).desc(), order_by(Alias<T, 1>::col(&T::m)).
template <class Src>
struct OrderBy {
  std::size_t index;
  bool descending = false;
  constexpr OrderBy desc() const { return {index, true}; }
  constexpr OrderBy asc() const { return {index, false}; }
};
template <class T, class M>
consteval OrderBy<T> order_by(M T::*member) {
  return OrderBy<T>{detail::field_of(member)};
}
template <class Src, class M>
constexpr OrderBy<Src> order_by(Column<Src, M> c) {
  return OrderBy<Src>{c.index};
}

/// Keyset pagination: list(org, order_by(&T::created_at), order_by(&T::id), after(last), limit(50))
/// returns the rows that come after `last` in that order. The ordering must end in the primary
/// key (so "after" is exact) and its columns must be NOT NULL; the row's values are bound as
/// parameters. Unlike offset(n), the database seeks to the row instead of counting n rows.
template <class E>
struct After {
  const E* row;
};
template <class E>
After<E> after(const E& last_row) {
  return {&last_row};
}

/// LIMIT n and OFFSET n, bound as parameters.
struct Limit {
  std::int64_t n;
};
struct Offset {
  std::int64_t n;
};
constexpr Limit limit(std::int64_t n) { return {n}; }
constexpr Offset offset(std::int64_t n) { return {n}; }

/// Columns to SET, for update(org, row, only(&T::a, &T::b)) and upsert's update list.
template <class T>
struct ColumnSelection {
  detail::ColumnList<T> columns;
};
template <class M0, class T, class... Ms>
consteval ColumnSelection<T> only(M0 T::*first, Ms... rest) {
  ColumnSelection<T> s;
  detail::push_member(s.columns, first);
  (detail::push_member(s.columns, rest), ...);
  return s;
}

/// One assignment for update_where: assign(col(&T::status), value).
template <class T, class M>
struct Assignment {
  std::size_t index;
  M value;
};
template <class T, class M, class V>
  requires std::is_constructible_v<M, V>
Assignment<T, M> assign(Column<T, M> c, V&& v) {
  return {c.index, M(std::forward<V>(v))};
}

}  // namespace tenantry
