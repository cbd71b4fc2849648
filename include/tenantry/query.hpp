// tenantry/query.hpp - predicates and ordering for list/count/exists/erase_where/update_where.
//
//   tokens.list(org, col(&ApiToken::user_id) == uid && col(&ApiToken::status) != TokenStatus::revoked,
//               order_by(&ApiToken::created_at).desc(), limit(50), offset(100));
//
// col(), order_by() are consteval: the member is resolved to a column index at compile time,
// and a member of another struct does not compile. Values are always bound as parameters.
//
// Statement text depends only on the *shape* of a query (which columns, which operators, how
// many IN values, whether a LIMIT is present), never on the values. Each node appends its shape
// to a small key; repositories build the SQL once per key and reuse it.
#pragma once

#include "tenantry/entity.hpp"
#include "tenantry/schema.hpp"
#include "tenantry/types.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace tenantry {

namespace query_detail {

enum class Op : char { eq = '=', ne = '!', lt = '<', le = 'l', gt = '>', ge = 'g', like = '~' };

inline std::string_view op_sql(Op op) {
  switch (op) {
    case Op::eq: return " = ";
    case Op::ne: return " <> ";
    case Op::lt: return " < ";
    case Op::le: return " <= ";
    case Op::gt: return " > ";
    case Op::ge: return " >= ";
    case Op::like: return " LIKE ";
  }
  return " = ";
}

inline void shape_index(std::string& key, std::size_t index) {
  key += static_cast<char>(index & 0x7F);
  key += static_cast<char>((index >> 7) & 0x7F);
}

}  // namespace query_detail

/// Marks a type as a predicate on entity T. Predicates provide:
///   void shape(std::string& key) const;                       what the SQL depends on
///   template <class D> void sql(std::string&, const TableInfo&, int& next) const;
///   template <class S> void bind(S&, int& next) const;        in the same order as sql()
template <class P>
concept predicate = requires { typename P::entity_type; P::is_predicate; };

/// A comparison of one column with a bound value.
template <class T, class M>
struct Compare {
  using entity_type = T;
  static constexpr bool is_predicate = true;
  std::size_t index;
  query_detail::Op op;
  M value;

  // An empty optional compares as IS NULL / IS NOT NULL: "= NULL" is never true in SQL.
  bool compares_null() const {
    if constexpr (is_optional<M>::value) return !value.has_value() && (op == query_detail::Op::eq || op == query_detail::Op::ne);
    else return false;
  }
  void shape(std::string& key) const {
    key += 'c';
    key += static_cast<char>(op);
    key += compares_null() ? 'n' : 'v';
    query_detail::shape_index(key, index);
  }
  template <class D>
  void sql(std::string& out, const TableInfo& t, int& next) const {
    D::quote(out, t.columns[index].name);
    if (compares_null()) {
      out += op == query_detail::Op::eq ? " IS NULL" : " IS NOT NULL";
      return;
    }
    out += query_detail::op_sql(op);
    D::placeholder(out, next++);
  }
  template <class S>
  void bind(S& s, int& next) const {
    if (compares_null()) return;
    bind_value(s, next++, value);
  }
};

/// column IS [NOT] NULL.
template <class T>
struct NullTest {
  using entity_type = T;
  static constexpr bool is_predicate = true;
  std::size_t index;
  bool negated;
  void shape(std::string& key) const {
    key += negated ? 'N' : 'n';
    query_detail::shape_index(key, index);
  }
  template <class D>
  void sql(std::string& out, const TableInfo& t, int&) const {
    D::quote(out, t.columns[index].name);
    out += negated ? " IS NOT NULL" : " IS NULL";
  }
  template <class S>
  void bind(S&, int&) const {}
};

/// column IN (values...). An empty list matches nothing.
template <class T, class M>
struct InList {
  using entity_type = T;
  static constexpr bool is_predicate = true;
  std::size_t index;
  std::vector<M> values;
  bool negated = false;
  void shape(std::string& key) const {
    key += negated ? 'I' : 'i';
    query_detail::shape_index(key, index);
    query_detail::shape_index(key, values.size());
    key += static_cast<char>((values.size() >> 14) & 0x7F);
  }
  template <class D>
  void sql(std::string& out, const TableInfo& t, int& next) const {
    if (values.empty()) {
      out += negated ? "1 = 1" : "1 = 0";
      return;
    }
    D::quote(out, t.columns[index].name);
    out += negated ? " NOT IN (" : " IN (";
    for (std::size_t k = 0; k < values.size(); ++k) {
      if (k) out += ", ";
      D::placeholder(out, next++);
    }
    out += ')';
  }
  template <class S>
  void bind(S& s, int& next) const {
    for (const auto& v : values) bind_value(s, next++, v);
  }
};

template <class L, class R, char Joiner>
struct Junction {
  static_assert(std::is_same_v<typename L::entity_type, typename R::entity_type>,
                "tenantry: both sides of && / || must be predicates on the same entity");
  using entity_type = typename L::entity_type;
  static constexpr bool is_predicate = true;
  L left;
  R right;
  void shape(std::string& key) const {
    key += '(';
    left.shape(key);
    key += Joiner;
    right.shape(key);
    key += ')';
  }
  template <class D>
  void sql(std::string& out, const TableInfo& t, int& next) const {
    out += '(';
    left.template sql<D>(out, t, next);
    out += Joiner == '&' ? " AND " : " OR ";
    right.template sql<D>(out, t, next);
    out += ')';
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
  static constexpr bool is_predicate = true;
  P inner;
  void shape(std::string& key) const {
    key += '!';
    inner.shape(key);
  }
  template <class D>
  void sql(std::string& out, const TableInfo& t, int& next) const {
    out += "NOT (";
    inner.template sql<D>(out, t, next);
    out += ')';
  }
  template <class S>
  void bind(S& s, int& next) const {
    inner.bind(s, next);
  }
};

template <predicate L, predicate R>
Junction<L, R, '&'> operator&&(L l, R r) {
  return {std::move(l), std::move(r)};
}
template <predicate L, predicate R>
Junction<L, R, '|'> operator||(L l, R r) {
  return {std::move(l), std::move(r)};
}
template <predicate P>
Negation<P> operator!(P p) {
  return {std::move(p)};
}

/// A column of entity T holding M, resolved at compile time by col(&T::member).
template <class T, class M>
struct Column {
  std::size_t index;

  template <class V>
    requires std::is_constructible_v<M, V>
  Compare<T, M> compare(query_detail::Op op, V&& v) const {
    return {index, op, M(std::forward<V>(v))};
  }
  template <class V> requires std::is_constructible_v<M, V>
  friend Compare<T, M> operator==(Column c, V&& v) { return c.compare(query_detail::Op::eq, std::forward<V>(v)); }
  template <class V> requires std::is_constructible_v<M, V>
  friend Compare<T, M> operator!=(Column c, V&& v) { return c.compare(query_detail::Op::ne, std::forward<V>(v)); }
  template <class V> requires std::is_constructible_v<M, V>
  friend Compare<T, M> operator<(Column c, V&& v) { return c.compare(query_detail::Op::lt, std::forward<V>(v)); }
  template <class V> requires std::is_constructible_v<M, V>
  friend Compare<T, M> operator<=(Column c, V&& v) { return c.compare(query_detail::Op::le, std::forward<V>(v)); }
  template <class V> requires std::is_constructible_v<M, V>
  friend Compare<T, M> operator>(Column c, V&& v) { return c.compare(query_detail::Op::gt, std::forward<V>(v)); }
  template <class V> requires std::is_constructible_v<M, V>
  friend Compare<T, M> operator>=(Column c, V&& v) { return c.compare(query_detail::Op::ge, std::forward<V>(v)); }

  /// LIKE pattern (bound as a parameter; % and _ are wildcards). Text columns only. Case: SQLite's
  /// LIKE ignores ASCII case, PostgreSQL's does not.
  template <class V>
    requires(std::is_same_v<M, std::string> || std::is_same_v<M, std::optional<std::string>>)
  Compare<T, M> like(V&& pattern) const {
    return compare(query_detail::Op::like, std::forward<V>(pattern));
  }
  NullTest<T> is_null() const { return {index, false}; }
  NullTest<T> is_not_null() const { return {index, true}; }
  InList<T, M> in(std::vector<M> values) const { return {index, std::move(values), false}; }
  InList<T, M> not_in(std::vector<M> values) const { return {index, std::move(values), true}; }
};

/// The column of a member, for predicates: col(&ApiToken::user_id) == "u1".
template <class T, class M>
consteval Column<T, M> col(M T::*member) {
  return Column<T, M>{detail::field_of(member)};
}

/// ORDER BY one column: order_by(&T::m), order_by(&T::m).desc().
template <class T>
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

/// One assignment for update_where: set(&T::status, value).
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
