// tenantry/select.hpp - queries across entities: joins, projections, aggregates, subqueries.
//
//   struct TokenOwner { Uuid id; std::string name; std::string email; };
//   auto q = select<TokenOwner>(col(&ApiToken::id), col(&ApiToken::name), col(&User::email))
//                .from<ApiToken>()
//                .join<User>(col(&ApiToken::user_id) == col(&User::id))
//                .where(col(&ApiToken::status) == TokenStatus::active)
//                .order_by(order_by(&ApiToken::created_at).desc())
//                .limit(50);
//   std::vector<TokenOwner> rows = fetch(db, org, q);          // one statement
//
//   auto per_status = select(col(&ApiToken::status), count())  // rows are std::tuple<TokenStatus, int64_t>
//                         .from<ApiToken>().group_by(col(&ApiToken::status));
//   auto has_admin = from<Membership>().where(col(&Membership::user_id) == col(&User::id) &&
//                                              col(&Membership::role) == Role::admin);
//   fetch(db, org, select(col(&User::email)).from<User>().where(exists(has_admin)));
//
// The org rule, by construction: the SQL writer (sql_writer.hpp) gives every org-scoped table
// that enters the statement - FROM, JOIN, LEFT JOIN, subquery - its `org = $1`, in the ON clause
// for a joined table, and equates the org columns of joined org-scoped tables. A query that
// reads an org-scoped table needs the org (fetch(conn, org, q)); without one it does not compile.
// A query over global tables only takes no org.
//
// What is checked at compile time: every column a query names belongs to a table in it (or, in
// a subquery, to an enclosing one); compared columns hold the same C++ type; the result struct
// (or tuple) has one field per output, of the output's type - std::optional for a column of the
// optional side of a LEFT JOIN, which is NULL where nothing matched. The result struct needs no
// entity<T> declaration: it is a shape of the output, not a table.
#pragma once

#include "tenantry/error.hpp"
#include "tenantry/org_context.hpp"
#include "tenantry/query.hpp"
#include "tenantry/reflect.hpp"
#include "tenantry/schema.hpp"
#include "tenantry/statement.hpp"
#include "tenantry/statement_cache.hpp"
#include "tenantry/statement_lease.hpp"
#include "tenantry/types.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace tenantry {

// ---- outputs ---------------------------------------------------------------------------------

/// COUNT(*).
struct CountAll {};
/// COUNT(col), COUNT(DISTINCT col), SUM, MIN, MAX, AVG of one column.
template <stmt::Aggregate F, class Src, class M>
struct AggregateOf {
  std::size_t index;
};

inline constexpr CountAll count() { return {}; }
template <class Src, class M>
constexpr AggregateOf<stmt::Aggregate::count, Src, M> count(Column<Src, M> c) {
  return {c.index};
}
template <class Src, class M>
constexpr AggregateOf<stmt::Aggregate::count_distinct, Src, M> count_distinct(Column<Src, M> c) {
  return {c.index};
}
template <class Src, class M>
constexpr AggregateOf<stmt::Aggregate::sum, Src, M> sum(Column<Src, M> c) {
  return {c.index};
}
template <class Src, class M>
constexpr AggregateOf<stmt::Aggregate::min, Src, M> min(Column<Src, M> c) {
  return {c.index};
}
template <class Src, class M>
constexpr AggregateOf<stmt::Aggregate::max, Src, M> max(Column<Src, M> c) {
  return {c.index};
}
template <class Src, class M>
constexpr AggregateOf<stmt::Aggregate::avg, Src, M> avg(Column<Src, M> c) {
  return {c.index};
}

/// A constant output, bound as a parameter: value(project_id) in an INSERT ... SELECT's list.
template <class V>
struct ValueOut {
  V value;
};
template <class V>
ValueOut<V> value(V v) {
  return {std::move(v)};
}

/// An aggregate compared with a value, for HAVING: having(count() > 2).
template <class Src, class V>
struct AggregateCompare {
  using entity_type = void;
  stmt::Aggregate fn;
  std::size_t index;
  stmt::Cmp op;
  V value;
  template <class... Srcs>
  static constexpr bool names_only = std::is_void_v<Src> || (query_detail::index_in<Src, Srcs...> >= 0);
  template <class C, class Vec>
  void describe(const C& ctx, Vec& nodes) const {
    stmt::Node n;
    n.kind = stmt::NodeKind::compare;
    n.cmp = op;
    n.agg = fn;
    if constexpr (!std::is_void_v<Src>) n.a = ctx.template ref<Src>(index);
    nodes.push_back(n);
  }
  void shape(stmt::ShapeKey& k) const {
    k.add(static_cast<std::uint32_t>(index) << 8 | static_cast<std::uint32_t>(fn) << 3 | static_cast<std::uint32_t>(op));
  }
  template <class S>
  void bind(S& s, int& next) const {
    bind_value(s, next++, value);
  }
};
template <class Src, class V>
struct is_predicate_node<AggregateCompare<Src, V>> : std::true_type {};

namespace query_detail {
template <class Src, class V>
AggregateCompare<Src, V> aggregate_compare(stmt::Aggregate fn, std::size_t index, stmt::Cmp op, V v) {
  return {fn, index, op, std::move(v)};
}
}  // namespace query_detail

#define TENANTRY_AGGREGATE_COMPARISON(op_token, cmp)                                                        \
  template <class V>                                                                                         \
    requires std::is_arithmetic_v<V>                                                                         \
  AggregateCompare<void, std::int64_t> operator op_token(CountAll, V v) {                                    \
    return query_detail::aggregate_compare<void>(stmt::Aggregate::count_star, 0, cmp, static_cast<std::int64_t>(v)); \
  }                                                                                                          \
  template <stmt::Aggregate F, class Src, class M, class V>                                                  \
    requires std::is_arithmetic_v<V>                                                                         \
  AggregateCompare<Src, V> operator op_token(AggregateOf<F, Src, M> a, V v) {                                \
    return query_detail::aggregate_compare<Src>(F, a.index, cmp, v);                                        \
  }
TENANTRY_AGGREGATE_COMPARISON(==, stmt::Cmp::eq)
TENANTRY_AGGREGATE_COMPARISON(!=, stmt::Cmp::ne)
TENANTRY_AGGREGATE_COMPARISON(<, stmt::Cmp::lt)
TENANTRY_AGGREGATE_COMPARISON(<=, stmt::Cmp::le)
TENANTRY_AGGREGATE_COMPARISON(>, stmt::Cmp::gt)
TENANTRY_AGGREGATE_COMPARISON(>=, stmt::Cmp::ge)
#undef TENANTRY_AGGREGATE_COMPARISON

namespace query_detail {

template <class... Ts>
struct list {};

template <class T>
struct strip_optional {
  using type = T;
};
template <class T>
struct strip_optional<std::optional<T>> {
  using type = T;
};
template <class T>
using strip_optional_t = typename strip_optional<T>::type;

/// The C++ type an output yields, and whether it can be NULL regardless of its column.
template <class O>
struct output_traits;
template <class Src, class M>
struct output_traits<Column<Src, M>> {
  using source = Src;
  using value = M;
  static constexpr bool may_be_null = is_optional<M>::value;
  static constexpr stmt::Aggregate fn = stmt::Aggregate::none;
};
template <>
struct output_traits<CountAll> {
  using source = void;
  using value = std::int64_t;
  static constexpr bool may_be_null = false;
  static constexpr stmt::Aggregate fn = stmt::Aggregate::count_star;
};
template <class V>
struct output_traits<ValueOut<V>> {
  using source = void;
  using value = V;
  static constexpr bool may_be_null = is_optional<V>::value;
  static constexpr stmt::Aggregate fn = stmt::Aggregate::value;
};
template <stmt::Aggregate F, class Src, class M>
struct output_traits<AggregateOf<F, Src, M>> {
  using source = Src;
  using bare = strip_optional_t<M>;
  using value = std::conditional_t<
      F == stmt::Aggregate::count || F == stmt::Aggregate::count_distinct, std::int64_t,
      std::conditional_t<F == stmt::Aggregate::avg, double,
                         std::conditional_t<F == stmt::Aggregate::sum,
                                            std::conditional_t<std::is_integral_v<bare> && !std::is_same_v<bare, bool>,
                                                               std::int64_t, double>,
                                            bare>>>;
  // SUM/MIN/MAX/AVG over no rows (or only NULLs) are NULL.
  static constexpr bool may_be_null = F != stmt::Aggregate::count && F != stmt::Aggregate::count_distinct;
  static constexpr stmt::Aggregate fn = F;
  static_assert((F != stmt::Aggregate::sum && F != stmt::Aggregate::avg) || std::is_arithmetic_v<bare>,
                "tenantry: sum() and avg() take a numeric column");
};

template <class O>
constexpr std::size_t output_column(const O& o) {
  if constexpr (requires { o.index; }) return o.index;
  else return 0;
}
template <class O>
struct is_value_output : std::false_type {};
template <class V>
struct is_value_output<ValueOut<V>> : std::true_type {};

// ---- query parts ----

template <class Src, stmt::Join K, class P>
struct JoinPart {
  P on;
};
template <class P>
struct WherePart {
  P pred;
};
template <class P>
struct HavingPart {
  P pred;
};
template <class Src>
struct GroupPart {
  std::size_t index;
};
template <class Src>
struct OrderPart {
  OrderBy<Src> order;
};
struct LimitPart {
  std::int64_t n;
};
struct OffsetPart {
  std::int64_t n;
};
struct DistinctPart {};

template <class Src, class Part>
struct is_left_join_of : std::false_type {};
template <class Src, class P>
struct is_left_join_of<Src, JoinPart<Src, stmt::Join::left, P>> : std::true_type {};

template <class Part>
struct part_predicate {
  using type = void;
};
template <class Src, stmt::Join K, class P>
struct part_predicate<JoinPart<Src, K, P>> {
  using type = P;
};
template <class P>
struct part_predicate<WherePart<P>> {
  using type = P;
};
template <class P>
struct part_predicate<HavingPart<P>> {
  using type = P;
};

/// True when Part's predicate names only the sources in Srcs (a list<...>) and Outer.
template <class Part, class Srcs, class... Outer>
struct part_names;
template <class Part, class... Srcs, class... Outer>
struct part_names<Part, list<Srcs...>, Outer...> {
  static constexpr bool value() {
    using P = typename part_predicate<Part>::type;
    if constexpr (std::is_void_v<P>) return true;
    else return P::template names_only<Srcs..., Outer...>;
  }
};
template <class Part, class Srcs, class... Outer>
constexpr bool part_names_only() {
  return part_names<Part, Srcs, Outer...>::value();
}

template <class Part>
constexpr bool part_reaches_org_scoped() {
  using P = typename part_predicate<Part>::type;
  if constexpr (std::is_void_v<P>) return false;
  else return reaches_org_scoped<P>::value;
}
template <class Part>
constexpr bool part_reaches_org_only() {
  using P = typename part_predicate<Part>::type;
  if constexpr (std::is_void_v<P>) return false;
  else return reaches_org_only<P>::value;
}
/// An entity with no rows of no org among those that take an org: org-scoped with a plain OrgId
/// column, scoped by its schema, or scoped through a parent (chain) that is.
template <class E>
constexpr bool org_only() {
  if constexpr (schema_scoped<E>) return true;  // its rows are in an org's schema, none in public
  else if constexpr (org_scoped<E>) return !org_column_optional<E>;
  else if constexpr (parent_scoped<E>) return org_only<scope_parent_t<E>>();
  else return false;
}
template <class Part>
constexpr unsigned part_org_keys() {
  using P = typename part_predicate<Part>::type;
  if constexpr (std::is_void_v<P>) return 0u;
  else return org_keys_in<P>::value;
}
template <class Part>
constexpr bool part_binds_org() {
  using P = typename part_predicate<Part>::type;
  if constexpr (std::is_void_v<P>) return false;
  else return binds_org<P>::value;
}

void tenantry_a_query_needs_from_before_join_where_and_the_rest();

/// The field types of a result row: a struct (through Boost.PFR) or a std::tuple.
template <class R>
struct row_traits {
  static constexpr std::size_t size = reflect::field_count<R>;
  template <std::size_t I>
  using field = reflect::field_type<I, R>;
  template <std::size_t I>
  static auto& get(R& r) {
    return boost::pfr::get<I>(r);
  }
};
template <class... Ts>
struct row_traits<std::tuple<Ts...>> {
  static constexpr std::size_t size = sizeof...(Ts);
  template <std::size_t I>
  using field = std::tuple_element_t<I, std::tuple<Ts...>>;
  template <std::size_t I>
  static auto& get(std::tuple<Ts...>& r) {
    return std::get<I>(r);
  }
};

}  // namespace query_detail

template <class R, class Outs, class Srcs, class Parts>
class Query;

/// A query: select<Row>(outputs...).from<E>().join<F>(on)...; see the header comment.
template <class R, class... Outs, class... Srcs, class... Parts>
class Query<R, std::tuple<Outs...>, query_detail::list<Srcs...>, std::tuple<Parts...>> {
 public:
  std::tuple<Outs...> outputs;
  std::tuple<Parts...> parts;
  using list_of_sources = query_detail::list<Srcs...>;

  /// True when a table of the query (or of a subquery in it) is org-scoped: it then runs with an
  /// org only.
  static constexpr bool reads_org_scoped =
      (takes_org<query_detail::source_entity<Srcs>> || ...) || (query_detail::part_reaches_org_scoped<Parts>() || ...);
  /// True when a table of the query (or of a subquery) has no rows of no org: org-scoped with a
  /// plain OrgId column, or scoped through such a parent. The query cannot run in the platform
  /// scope (tenantry::platform).
  static constexpr bool reads_org_only =
      (query_detail::org_only<query_detail::source_entity<Srcs>>() || ...) ||
      (query_detail::part_reaches_org_only<Parts>() || ...);
  /// The org types of its tables (detail::org_key_bit); it runs only when there is one.
  static constexpr unsigned org_keys =
      (detail::org_keys_of<query_detail::source_entity<Srcs>> | ... | 0u) | (query_detail::part_org_keys<Parts>() | ... | 0u);
  /// The org type fetch(conn, org, query) takes.
  using org_type = detail::org_id_for_bits<org_keys>;
  /// True when a table of it has an org column: the statement binds the org as $1 (sql::needs_org).
  static constexpr bool binds_org =
      (binds_org_param<query_detail::source_entity<Srcs>> || ...) || (query_detail::part_binds_org<Parts>() || ...);

  /// The FROM table: an entity, or an Alias of one.
  template <class Src>
  auto from() const {
    static_assert(sizeof...(Srcs) == 0, "tenantry: a query has one from<E>(); add other tables with join<E>(on)");
    check_source<Src>();
    return Query<R, std::tuple<Outs...>, query_detail::list<Src>, std::tuple<Parts...>>{outputs, parts};
  }
  /// INNER JOIN Src ON `on`. Src's org filter is added to the ON clause by the writer.
  template <class Src, predicate P>
  auto join(P on) const {
    return add_join<Src, stmt::Join::inner>(std::move(on));
  }
  /// LEFT JOIN Src ON `on`: Src's columns come out as std::optional (NULL where nothing matched).
  template <class Src, predicate P>
  auto left_join(P on) const {
    return add_join<Src, stmt::Join::left>(std::move(on));
  }
  /// WHERE pred; several where() calls are ANDed.
  template <predicate P>
  auto where(P pred) const {
    static_assert(sizeof...(Srcs) > 0, "tenantry: a query needs from<E>() before where()");
    return add(query_detail::WherePart<P>{std::move(pred)});
  }
  /// GROUP BY columns.
  template <class... Cs>
  auto group_by(Cs... cols) const {
    return add_all(query_detail::GroupPart<typename Cs::source_type>{cols.index}...);
  }
  /// HAVING pred, e.g. having(count() > 2).
  template <predicate P>
  auto having(P pred) const {
    return add(query_detail::HavingPart<P>{std::move(pred)});
  }
  /// ORDER BY: order_by(order_by(&T::m).desc()) or order_by(col(&T::m)).
  template <class Src>
  auto order_by(OrderBy<Src> o) const {
    return add(query_detail::OrderPart<Src>{o});
  }
  template <class Src, class M>
  auto order_by(Column<Src, M> c) const {
    return add(query_detail::OrderPart<Src>{tenantry::order_by(c)});
  }
  auto limit(std::int64_t n) const {
    static_assert(!(std::is_same_v<Parts, query_detail::LimitPart> || ...), "tenantry: a query has one limit(n)");
    if (n < 0) throw UsageError("tenantry: limit(" + std::to_string(n) + ") is negative");
    return add(query_detail::LimitPart{n});
  }
  auto offset(std::int64_t n) const {
    static_assert(!(std::is_same_v<Parts, query_detail::OffsetPart> || ...), "tenantry: a query has one offset(n)");
    if (n < 0) throw UsageError("tenantry: offset(" + std::to_string(n) + ") is negative");
    return add(query_detail::OffsetPart{n});
  }
  auto distinct() const {
    static_assert(!(std::is_same_v<Parts, query_detail::DistinctPart> || ...), "tenantry: distinct() once is enough");
    return add(query_detail::DistinctPart{});
  }

  // ---- used by fetch() and by subqueries ----

  /// True when the query names only its own sources and `Outer` (a subquery's enclosing ones).
  template <class... Outer>
  static constexpr bool names_only = (query_detail::part_names_only<Parts, list_of_sources, Outer...>() && ...);

  template <class Src>
  static constexpr bool left_joined() {
    return (query_detail::is_left_join_of<query_detail::canonical_t<Src>, Parts>::value || ...);
  }

  /// Fills `s` (its sources, outputs and clauses); ctx resolves columns of enclosing queries.
  template <class Parent>
  void describe(stmt::Statement& s, const Parent* parent) const {
    static_assert(sizeof...(Srcs) > 0, "tenantry: a query needs from<E>()");
    s.verb = stmt::Verb::select;
    (s.sources.push_back(stmt::Source{&table_info<query_detail::source_entity<Srcs>>(), stmt::Join::from, 0, 0}), ...);
    const query_detail::Context<Parent, Srcs...> ctx{parent, &s};
    std::apply([&](const auto&... o) { (describe_output(ctx, s, o), ...); }, outputs);
    std::size_t join_no = 0;
    std::apply([&](const auto&... p) { (describe_part(ctx, s, p, join_no), ...); }, parts);
  }

  /// The run-time facts its description depends on (statement.hpp's ShapeKey): the columns of
  /// its outputs, groupings and orderings, and its predicates' shapes.
  void shape(stmt::ShapeKey& k) const {
    std::apply([&](const auto&... o) { (shape_output(k, o), ...); }, outputs);
    std::apply([&](const auto&... p) { (shape_part(k, p), ...); }, parts);
  }

  /// Binds the query's parameters in the writer's order: SELECT-list values, ON, WHERE, HAVING,
  /// LIMIT, OFFSET.
  template <class S>
  void bind(S& s, int& next) const {
    std::apply(
        [&](const auto&... o) {
          (
              [&](const auto& out) {
                if constexpr (query_detail::is_value_output<std::remove_cvref_t<decltype(out)>>::value)
                  bind_value(s, next++, out.value);
              }(o),
              ...);
        },
        outputs);
    bind_kind<0>(s, next);
    bind_kind<1>(s, next);
    bind_kind<2>(s, next);
    bind_kind<3>(s, next);
    bind_kind<4>(s, next);
  }

  /// True when output O can be NULL: a nullable column, a column of the optional side of a left
  /// join, or SUM/MIN/MAX/AVG (NULL over no rows).
  template <class O>
  static constexpr bool output_nullable() {
    using T = query_detail::output_traits<O>;
    if constexpr (std::is_void_v<typename T::source>) return T::may_be_null;
    else return T::may_be_null || left_joined<typename T::source>();
  }
  template <class O>
  using default_field = std::conditional_t<output_nullable<O>(),
                                           std::optional<query_detail::strip_optional_t<typename query_detail::output_traits<O>::value>>,
                                           typename query_detail::output_traits<O>::value>;

  /// The row type: R, or a std::tuple of the outputs' types when R is void.
  using row_type = std::conditional_t<std::is_void_v<R>, std::tuple<default_field<Outs>...>, R>;

  /// Checks, at compile time, that row_type has one field per output of the output's type.
  static constexpr bool check_row() {
    using RT = query_detail::row_traits<row_type>;
    static_assert(sizeof...(Outs) > 0, "tenantry: fetch needs outputs: select<Row>(col(&T::a), ...)");
    static_assert(RT::size == sizeof...(Outs), "tenantry: the result struct needs exactly one field per selected output");
    return check_fields(std::make_index_sequence<sizeof...(Outs)>{});
  }

  template <class S>
  static void read_row(S& s, row_type& row) {
    read_fields(s, row, std::make_index_sequence<sizeof...(Outs)>{});
  }

 private:
  template <class Src>
  static constexpr void check_source() {
    static_assert(declared_entity<query_detail::source_entity<Src>>,
                  "tenantry: a query reads entities: declare tenantry::entity<T> for this struct");
  }

  template <class Part>
  auto add(Part p) const {
    return Query<R, std::tuple<Outs...>, query_detail::list<Srcs...>, std::tuple<Parts..., Part>>{
        outputs, std::tuple_cat(parts, std::tuple<Part>{std::move(p)})};
  }
  template <class... Ps>
  auto add_all(Ps... ps) const {
    return Query<R, std::tuple<Outs...>, query_detail::list<Srcs...>, std::tuple<Parts..., Ps...>>{
        outputs, std::tuple_cat(parts, std::tuple<Ps...>{std::move(ps)...})};
  }
  template <class Src, stmt::Join K, class P>
  auto add_join(P on) const {
    static_assert(sizeof...(Srcs) > 0, "tenantry: a query needs from<E>() before join<E>(on)");
    static_assert(query_detail::index_in<Src, Srcs...> < 0,
                  "tenantry: this table is already in the query: join a second copy as Alias<E, 1>");
    check_source<Src>();
    using Part = query_detail::JoinPart<Src, K, P>;
    return Query<R, std::tuple<Outs...>, query_detail::list<Srcs..., Src>, std::tuple<Parts..., Part>>{
        outputs, std::tuple_cat(parts, std::tuple<Part>{Part{std::move(on)}})};
  }

  template <class Ctx, class O>
  static void describe_output(const Ctx& ctx, stmt::Statement& s, const O& o) {
    using T = query_detail::output_traits<O>;
    stmt::Output out;
    out.fn = T::fn;
    if constexpr (!std::is_void_v<typename T::source>) out.col = ctx.template ref<typename T::source>(query_detail::output_column(o));
    s.outputs.push_back(out);
  }

  template <class O>
  static void shape_output(stmt::ShapeKey& k, const O& o) {
    k.add(static_cast<std::uint32_t>(query_detail::output_column(o)));
  }
  template <class Part>
  static void shape_part(stmt::ShapeKey& k, const Part& p) {
    using namespace query_detail;
    if constexpr (requires { p.on; }) shape_of(p.on, k);
    else if constexpr (requires { p.pred; }) shape_of(p.pred, k);
    else if constexpr (requires { p.order; }) k.add(static_cast<std::uint32_t>(p.order.index) << 1 | (p.order.descending ? 1u : 0u));
    else if constexpr (is_group(static_cast<const Part*>(nullptr))) k.add(static_cast<std::uint32_t>(p.index));
    else if constexpr (std::is_same_v<Part, LimitPart> || std::is_same_v<Part, OffsetPart> || std::is_same_v<Part, DistinctPart>) {
      // In the signature only: LIMIT/OFFSET values are bound.
    } else {
      k.usable = false;  // a part this function does not know: describe every time
    }
  }

  template <class Ctx, class Part>
  static void describe_part(const Ctx& ctx, stmt::Statement& s, const Part& p, std::size_t& join_no) {
    using namespace query_detail;
    if constexpr (requires { p.on; }) {
      ++join_no;
      stmt::Source& src = s.sources[join_no];
      src.join = join_kind(p);
      src.on_begin = static_cast<std::uint16_t>(s.on.size());
      p.on.describe(ctx, s.on);
      src.on_end = static_cast<std::uint16_t>(s.on.size());
    } else if constexpr (is_where(static_cast<const Part*>(nullptr))) {
      p.pred.describe(ctx, s.where);
    } else if constexpr (is_having(static_cast<const Part*>(nullptr))) {
      p.pred.describe(ctx, s.having);
    } else if constexpr (requires { p.order; }) {
      s.order.push_back(stmt::OrderTerm{ctx.template ref<order_source_t<Part>>(p.order.index), p.order.descending, 0});
    } else if constexpr (is_group(static_cast<const Part*>(nullptr))) {
      s.group_by.push_back(ctx.template ref<group_source_t<Part>>(p.index));
    } else if constexpr (std::is_same_v<Part, LimitPart>) {
      s.has_limit = true;
    } else if constexpr (std::is_same_v<Part, OffsetPart>) {
      s.has_offset = true;
    } else if constexpr (std::is_same_v<Part, DistinctPart>) {
      s.distinct = true;
    }
  }

  template <class Src, stmt::Join K, class P>
  static constexpr stmt::Join join_kind(const query_detail::JoinPart<Src, K, P>&) {
    return K;
  }
  template <class P>
  static constexpr bool is_where(const query_detail::WherePart<P>*) {
    return true;
  }
  static constexpr bool is_where(const void*) { return false; }
  template <class P>
  static constexpr bool is_having(const query_detail::HavingPart<P>*) {
    return true;
  }
  static constexpr bool is_having(const void*) { return false; }
  template <class Src>
  static constexpr bool is_group(const query_detail::GroupPart<Src>*) {
    return true;
  }
  static constexpr bool is_group(const void*) { return false; }
  template <class Part>
  struct order_source;
  template <class Src>
  struct order_source<query_detail::OrderPart<Src>> {
    using type = Src;
  };
  template <class Part>
  using order_source_t = typename order_source<Part>::type;
  template <class Part>
  struct group_source;
  template <class Src>
  struct group_source<query_detail::GroupPart<Src>> {
    using type = Src;
  };
  template <class Part>
  using group_source_t = typename group_source<Part>::type;

  // Kind 0: ON (joins, in order), 1: WHERE, 2: HAVING, 3: LIMIT, 4: OFFSET.
  template <int Kind, class S>
  void bind_kind(S& s, int& next) const {
    std::apply(
        [&](const auto&... p) {
          (
              [&](const auto& part) {
                using Part = std::remove_cvref_t<decltype(part)>;
                if constexpr (Kind == 0 && requires { part.on; }) part.on.bind(s, next);
                else if constexpr (Kind == 1 && is_where(static_cast<const Part*>(nullptr))) part.pred.bind(s, next);
                else if constexpr (Kind == 2 && is_having(static_cast<const Part*>(nullptr))) part.pred.bind(s, next);
                else if constexpr (Kind == 3 && std::is_same_v<Part, query_detail::LimitPart>) s.bind_int(next++, part.n);
                else if constexpr (Kind == 4 && std::is_same_v<Part, query_detail::OffsetPart>) s.bind_int(next++, part.n);
              }(p),
              ...);
        },
        parts);
  }

  template <std::size_t... I>
  static constexpr bool check_fields(std::index_sequence<I...>) {
    return (check_field<I>() && ...);
  }
  template <std::size_t I>
  static constexpr bool check_field() {
    using O = std::tuple_element_t<I, std::tuple<Outs...>>;
    using T = query_detail::output_traits<O>;
    using F = typename query_detail::row_traits<row_type>::template field<I>;
    using V = query_detail::strip_optional_t<typename T::value>;
    constexpr bool nullable = output_nullable<O>();
    static_assert(std::is_same_v<query_detail::strip_optional_t<F>, V>,
                  "tenantry: a result field's type must be the selected output's type (count() is std::int64_t, "
                  "avg() double, sum() of integers std::int64_t)");
    static_assert(is_optional<F>::value || !nullable || T::fn != stmt::Aggregate::none,
                  "tenantry: this output can be NULL (a nullable column, or the optional side of a left join): "
                  "its result field must be a std::optional");
    return true;
  }

  template <class S, std::size_t... I>
  static void read_fields(S& s, row_type& row, std::index_sequence<I...>) {
    (read_value(s, static_cast<int>(I), query_detail::row_traits<row_type>::template get<I>(row)), ...);
  }

  template <class, class, class, class>
  friend class Query;
};

/// select<Row>(outputs...): the outputs of a query, into Row (a plain struct, or a std::tuple);
/// select(outputs...) reads rows as a std::tuple of the outputs' types.
template <class R = void, class... Outs>
auto select(Outs... outs) {
  return Query<R, std::tuple<Outs...>, query_detail::list<>, std::tuple<>>{std::tuple<Outs...>{outs...}, {}};
}

/// from<E>(): a query with no outputs yet, for subqueries (exists(from<E>().where(...))).
template <class Src>
auto from() {
  return select<void>().template from<Src>();
}

// ---- subqueries ------------------------------------------------------------------------------

namespace query_detail {
template <class Q>
struct is_query : std::false_type {};
template <class R, class O, class S, class P>
struct is_query<Query<R, O, S, P>> : std::true_type {};
}  // namespace query_detail

/// EXISTS (subquery) / NOT EXISTS: the subquery may name columns of the enclosing query
/// (correlation). Its org-scoped tables are filtered by the same org.
template <class Q>
struct Exists {
  using entity_type = void;
  Q query;
  bool negated = false;
  template <class... Srcs>
  static constexpr bool names_only = Q::template names_only<Srcs...>;
  template <class C, class V>
  void describe(const C& ctx, V& nodes) const {
    stmt::Statement sub;
    query.describe(sub, &ctx);
    stmt::Node n;
    n.kind = stmt::NodeKind::exists;
    n.negated = negated;
    n.count = static_cast<std::uint32_t>(ctx.statement->subqueries.size());
    ctx.statement->subqueries.push_back(std::move(sub));
    nodes.push_back(n);
  }
  void shape(stmt::ShapeKey& k) const {
    k.add(negated ? 1u : 0u);
    query.shape(k);
  }
  template <class S>
  void bind(S& s, int& next) const {
    query.bind(s, next);
  }
};

/// col IN (subquery) / NOT IN: the subquery selects one column of the same C++ type.
template <class Src, class M, class Q>
struct InSubquery {
  using entity_type = query_detail::source_entity<Src>;
  std::size_t index;
  Q query;
  bool negated = false;
  template <class... Srcs>
  static constexpr bool names_only = (query_detail::index_in<Src, Srcs...> >= 0) && Q::template names_only<Srcs...>;
  template <class C, class V>
  void describe(const C& ctx, V& nodes) const {
    stmt::Statement sub;
    query.describe(sub, &ctx);
    stmt::Node n;
    n.kind = stmt::NodeKind::in_subquery;
    n.negated = negated;
    n.a = ctx.template ref<Src>(index);
    n.count = static_cast<std::uint32_t>(ctx.statement->subqueries.size());
    ctx.statement->subqueries.push_back(std::move(sub));
    nodes.push_back(n);
  }
  void shape(stmt::ShapeKey& k) const {
    k.add(static_cast<std::uint32_t>(index) << 1 | (negated ? 1u : 0u));
    query.shape(k);
  }
  template <class S>
  void bind(S& s, int& next) const {
    query.bind(s, next);
  }
};

template <class Q>
struct is_predicate_node<Exists<Q>> : std::true_type {};
template <class Src, class M, class Q>
struct is_predicate_node<InSubquery<Src, M, Q>> : std::true_type {};
template <class Q>
struct query_detail::reaches_org_scoped<Exists<Q>> : std::bool_constant<Q::reads_org_scoped> {};
template <class Src, class M, class Q>
struct query_detail::reaches_org_scoped<InSubquery<Src, M, Q>> : std::bool_constant<Q::reads_org_scoped> {};
template <class Q>
struct query_detail::reaches_org_only<Exists<Q>> : std::bool_constant<Q::reads_org_only> {};
template <class Src, class M, class Q>
struct query_detail::reaches_org_only<InSubquery<Src, M, Q>> : std::bool_constant<Q::reads_org_only> {};
template <class Q>
struct query_detail::org_keys_in<Exists<Q>> : std::integral_constant<unsigned, Q::org_keys> {};
template <class Src, class M, class Q>
struct query_detail::org_keys_in<InSubquery<Src, M, Q>>
    : std::integral_constant<unsigned, Q::org_keys | detail::org_keys_of<query_detail::source_entity<Src>>> {};
template <class Q>
struct query_detail::binds_org<Exists<Q>> : std::bool_constant<Q::binds_org> {};
template <class Src, class M, class Q>
struct query_detail::binds_org<InSubquery<Src, M, Q>> : std::bool_constant<Q::binds_org> {};

template <class Q>
  requires query_detail::is_query<Q>::value
Exists<Q> exists(Q q) {
  return {std::move(q), false};
}
template <class Q>
  requires query_detail::is_query<Q>::value
Exists<Q> not_exists(Q q) {
  return {std::move(q), true};
}

/// col(&T::m).in(select(col(&S::n)).from<S>()...) is spelled in(col(&T::m), subquery).
template <class Src, class M, class Q>
  requires query_detail::is_query<Q>::value
InSubquery<Src, M, Q> in(Column<Src, M> c, Q q) {
  static_assert(std::tuple_size_v<decltype(q.outputs)> == 1, "tenantry: an IN subquery selects exactly one column");
  using O = std::tuple_element_t<0, decltype(q.outputs)>;
  static_assert(std::is_same_v<query_detail::strip_optional_t<typename query_detail::output_traits<O>::value>,
                               query_detail::strip_optional_t<M>>,
                "tenantry: compared columns must hold the same C++ type (std::optional<T> and T count as the same)");
  return {c.index, std::move(q), false};
}
template <class Src, class M, class Q>
  requires query_detail::is_query<Q>::value
InSubquery<Src, M, Q> not_in(Column<Src, M> c, Q q) {
  auto p = in(c, std::move(q));
  p.negated = true;
  return p;
}

// ---- running a query -------------------------------------------------------------------------

namespace query_detail {

template <class D, class Q>
stmt::Statement describe_top(const Q& q, bool platform = false) {
  stmt::Statement s;
  q.describe(s, static_cast<const void*>(nullptr));
  s.platform = platform;
  return s;
}

template <class Stmt>
struct ResetOnExit {
  Stmt& s;
  [[gnu::always_inline]] ~ResetOnExit() { s.reset(); }
};

// Prepares, binds and steps q on conn, calling on_row(stmt) for each row. `stream`: the driver
// delivers rows one at a time where it would otherwise receive the whole result first
// (PostgreSQL's single-row mode), for for_each_row.
// Inline into each_row (itself inline into its one caller), whose `stream` and `org` are known
// there: one copy survives, and a statement costs no call frame of its own.
template <class Conn, class Q, class OnRow>
[[gnu::always_inline]] inline void run(Conn& conn, const typename Q::org_type* org, const Q& q, bool stream,
                                       OnRow&& on_row) {
  using D = typename Conn::dialect;
  static_assert(Q::check_row());
  // Without an org, a query reading org-scoped tables runs in the platform scope (only the
  // tenantry::platform forms call it so; the writer refuses a plain OrgId table there).
  const bool platform = org == nullptr && Q::reads_org_scoped;
  stmt::ShapeKey key;
  key.add(platform ? 1u : 0u);
  q.shape(key);
  const Sql sql = memo_sql<D, Q>(key, [&] { return describe_top<D>(q, platform); });
  auto& s = conn.prepare(sql);
  const StatementLease lease(&s);
  ResetOnExit<std::remove_reference_t<decltype(s)>> guard{s};
  int next = 1;
  if constexpr (Q::binds_org) {
    if (org) bind_value(s, next++, *org);
  }
  q.bind(s, next);
  if constexpr (requires { s.stream_next_execution(); }) {
    if (stream) s.stream_next_execution();
  }
  while (s.step()) on_row(s);
}

template <class Q>
constexpr void require_org_for() {
  static_assert(!Q::reads_org_scoped,
                "tenantry: this query reads an org-scoped table: pass the org, fetch(conn, org, query); a read without an "
                "org would return every tenant's rows");
}
/// The rules of fetch(conn, org, query); true when they hold (and the call compiles on).
template <class Q, class O>
constexpr bool refuse_org_for() {
  static_assert(Q::reads_org_scoped, "tenantry: this query reads only global tables: call fetch(conn, query), without an org");
  static_assert(detail::one_org_key(Q::org_keys),
                "tenantry: one statement cannot read tables of different org types (OrgId, TextOrgId, IntOrgId): "
                "their org columns cannot be compared");
  if constexpr (Q::reads_org_scoped && detail::one_org_key(Q::org_keys)) {
    static_assert(std::is_same_v<O, typename Q::org_type>,
                  "tenantry: an org id of one key type cannot stand for another (OrgId, TextOrgId, IntOrgId): pass the "
                  "org type of the query's tables");
    return std::is_same_v<O, typename Q::org_type>;
  } else {
    return false;
  }
}
template <class Q>
constexpr void require_platform_for() {
  static_assert(!Q::reads_org_only,
                "tenantry: tenantry::platform reaches rows of no org, and this query reads a table whose org column is a "
                "plain OrgId (every row has an org), a table scoped through one, or one scoped by its schema");
}

}  // namespace query_detail

namespace query_detail {

/// Runs q for `org` (nullptr: a query over global tables only) on conn, calling on_stmt(stmt)
/// with the driver's statement on each row: the org checks, the org's database context and the
/// runtime-dialect dispatch that for_each_row and fetch share.
// Inline: each instantiation has one caller (fetch, fetch_one, for_each_row, stream_each_row, each
// with its own on_stmt), which then calls run() directly.
template <class Conn, class Q, class OnStmt>
[[gnu::always_inline]] inline void each_row(Conn& conn, const typename Q::org_type* org, const Q& q, bool stream,
                                            OnStmt&& on_stmt) {
  if constexpr (requires { conn.visit([](auto&) {}); }) {
    conn.visit([&](auto& c) { each_row(c, org, q, stream, on_stmt); });
  } else if (org != nullptr) {
    require_org(*org, "a query");
    // One statement: with the org in one round trip where the connection can (in_org_statement);
    // a stream holds the connection across calls, so it takes in_org_context's transaction.
    if (stream) in_org_context(conn, *org, [&] { run(conn, org, q, stream, on_stmt); });
    else in_org_statement(conn, *org, [&] { run(conn, org, q, stream, on_stmt); });
  } else {
    run(conn, nullptr, q, stream, on_stmt);
  }
}

/// each_row in the platform scope: the query's org-scoped tables give their rows of no org only.
template <class Conn, class Q, class OnStmt>
void each_platform_row(Conn& conn, const Q& q, bool stream, OnStmt&& on_stmt) {
  (void)refuse_org_for<Q, typename Q::org_type>();
  if constexpr (requires { conn.visit([](auto&) {}); }) {
    conn.visit([&](auto& c) { each_platform_row(c, q, stream, on_stmt); });
  } else {
    in_platform_context(conn, [&] { run(conn, nullptr, q, stream, on_stmt); });
  }
}

}  // namespace query_detail

/// Calls f(row) for each row of the query, one row at a time: nothing is collected and the row
/// passed to f is reused for the next one (copy it to keep it). On SQLite the statement steps
/// through the table; on PostgreSQL the driver receives the whole result first, so f may run
/// other statements on the same connection. For a result too large for memory, stream_each_row.
/// `org` is of the org type of the query's tables (OrgId, TextOrgId or IntOrgId).
template <class Conn, class O, class Q, class F>
  requires query_detail::is_query<Q>::value && org_id_type<O>
void for_each_row(Conn& conn, const O& org, const Q& q, F&& f) {
  if constexpr (query_detail::refuse_org_for<Q, O>()) {  // else refused, with the rule
    typename Q::row_type row{};
    query_detail::each_row(conn, &org, q, false, [&](auto& s) {
      Q::read_row(s, row);
      f(std::as_const(row));
    });
  }
}

/// for_each_row in constant memory on every backend: on PostgreSQL the rows arrive one by one
/// (libpq's single-row mode), so an export of any size never holds more than one row. While it
/// runs, its PostgreSQL connection is busy: f cannot run other statements on it (UsageError);
/// use another connection for them. Leaving early (an exception in f) reads and drops the rest.
template <class Conn, class O, class Q, class F>
  requires query_detail::is_query<Q>::value && org_id_type<O>
void stream_each_row(Conn& conn, const O& org, const Q& q, F&& f) {
  if constexpr (query_detail::refuse_org_for<Q, O>()) {
    typename Q::row_type row{};
    query_detail::each_row(conn, &org, q, true, [&](auto& s) {
      Q::read_row(s, row);
      f(std::as_const(row));
    });
  }
}

/// Every row of the query, for org `org`. Rows are decoded in place into the vector.
template <class Conn, class O, class Q>
  requires query_detail::is_query<Q>::value && org_id_type<O>
std::vector<typename Q::row_type> fetch(Conn& conn, const O& org, const Q& q) {
  std::vector<typename Q::row_type> out;
  if constexpr (query_detail::refuse_org_for<Q, O>())
    query_detail::each_row(conn, &org, q, false, [&](auto& s) { Q::read_row(s, out.emplace_back()); });
  return out;
}

/// The first row of the query, if any (add limit(1) to tell the database).
template <class Conn, class O, class Q>
  requires query_detail::is_query<Q>::value && org_id_type<O>
std::optional<typename Q::row_type> fetch_one(Conn& conn, const O& org, const Q& q) {
  std::optional<typename Q::row_type> out;
  if constexpr (query_detail::refuse_org_for<Q, O>())
    query_detail::each_row(conn, &org, q, false, [&](auto& s) {
      if (!out) Q::read_row(s, out.emplace());
    });
  return out;
}

/// Calls f(row) for each row of the query in the platform scope (types.hpp, PlatformScope):
/// every org-scoped table it reads, joins or subqueries must have an optional org column (or be
/// scoped through such a parent), and only its rows of no org take part (`org IS NULL`; for a
/// table scoped through its parent, the rows whose parent has no org).
template <class Conn, class Q, class F>
  requires query_detail::is_query<Q>::value
void for_each_row(Conn& conn, PlatformScope, const Q& q, F&& f) {
  query_detail::require_platform_for<Q>();
  typename Q::row_type row{};
  query_detail::each_platform_row(conn, q, false, [&](auto& s) {
    Q::read_row(s, row);
    f(std::as_const(row));
  });
}
/// stream_each_row in the platform scope (see for_each_row above).
template <class Conn, class Q, class F>
  requires query_detail::is_query<Q>::value
void stream_each_row(Conn& conn, PlatformScope, const Q& q, F&& f) {
  query_detail::require_platform_for<Q>();
  typename Q::row_type row{};
  query_detail::each_platform_row(conn, q, true, [&](auto& s) {
    Q::read_row(s, row);
    f(std::as_const(row));
  });
}
template <class Conn, class Q>
  requires query_detail::is_query<Q>::value
std::vector<typename Q::row_type> fetch(Conn& conn, PlatformScope, const Q& q) {
  query_detail::require_platform_for<Q>();
  std::vector<typename Q::row_type> out;
  query_detail::each_platform_row(conn, q, false, [&](auto& s) { Q::read_row(s, out.emplace_back()); });
  return out;
}
template <class Conn, class Q>
  requires query_detail::is_query<Q>::value
std::optional<typename Q::row_type> fetch_one(Conn& conn, PlatformScope, const Q& q) {
  query_detail::require_platform_for<Q>();
  std::optional<typename Q::row_type> out;
  query_detail::each_platform_row(conn, q, false, [&](auto& s) {
    if (!out) Q::read_row(s, out.emplace());
  });
  return out;
}

/// A query over global tables only: no org.
template <class Conn, class Q, class F>
  requires query_detail::is_query<Q>::value
void for_each_row(Conn& conn, const Q& q, F&& f) {
  query_detail::require_org_for<Q>();
  typename Q::row_type row{};
  query_detail::each_row(conn, static_cast<const OrgId*>(nullptr), q, false, [&](auto& s) {
    Q::read_row(s, row);
    f(std::as_const(row));
  });
}
/// stream_each_row for a query over global tables only: no org.
template <class Conn, class Q, class F>
  requires query_detail::is_query<Q>::value
void stream_each_row(Conn& conn, const Q& q, F&& f) {
  query_detail::require_org_for<Q>();
  typename Q::row_type row{};
  query_detail::each_row(conn, static_cast<const OrgId*>(nullptr), q, true, [&](auto& s) {
    Q::read_row(s, row);
    f(std::as_const(row));
  });
}
template <class Conn, class Q>
  requires query_detail::is_query<Q>::value
std::vector<typename Q::row_type> fetch(Conn& conn, const Q& q) {
  query_detail::require_org_for<Q>();
  std::vector<typename Q::row_type> out;
  query_detail::each_row(conn, static_cast<const OrgId*>(nullptr), q, false, [&](auto& s) { Q::read_row(s, out.emplace_back()); });
  return out;
}

// ---- INSERT ... SELECT ---------------------------------------------------------------------

/// The columns of Target an INSERT ... SELECT writes, in the order of the query's outputs.
template <class T, class... Ms>
struct Into {
  std::array<std::size_t, sizeof...(Ms)> columns;
};
template <class T, class... Ms>
consteval Into<T, Ms...> into(Ms T::*... members) {
  return {{detail::field_of(members)...}};
}

namespace query_detail {
template <class Target, class Q, class... Ms, std::size_t... I>
constexpr bool check_into(std::index_sequence<I...>) {
  return ([] {
    using O = std::tuple_element_t<I, std::remove_cvref_t<decltype(std::declval<Q>().outputs)>>;
    using M = std::tuple_element_t<I, std::tuple<Ms...>>;
    using T = output_traits<O>;
    static_assert(std::is_same_v<strip_optional_t<typename T::value>, strip_optional_t<M>>,
                  "tenantry: each selected output must have the type of the column it is inserted into");
    static_assert(!detail::is_org_type<M>,
                  "tenantry: an INSERT ... SELECT never names the org column: rows are written in the call's org");
    return true;
  }() && ...);
}

template <class Target, class Q, class... Ms>
stmt::Statement describe_insert_select(const Into<Target, Ms...>& into, const Q& q, bool platform = false) {
  stmt::Statement s = describe_top<void>(q, platform);
  s.verb = stmt::Verb::insert_select;
  const TableInfo& t = table_info<Target>();
  s.target = &t;
  for (auto c : into.columns) s.set.push_back(static_cast<std::uint16_t>(c));
  // Every NOT NULL column the database cannot fill must be written.
  for (std::size_t i = 0; i < t.columns.size(); ++i) {
    const ColumnInfo& c = t.columns[i];
    const bool written = i == t.org_column || std::find(into.columns.begin(), into.columns.end(), i) != into.columns.end();
    if (!written && !c.nullable && !c.generated() && c.default_kind == DefaultKind::none)
      throw UsageError("tenantry: INSERT ... SELECT into '" + t.name + "' leaves NOT NULL column '" + c.name +
                       "' without a value: add it to into(...) and the select list");
  }
  return s;
}
}  // namespace query_detail

/// INSERT INTO Target (org, into...) SELECT $1, outputs... FROM ...: copies rows within org (e.g.
/// an org's default roles into a new project). The target's org column is written from the
/// call's org, never selected, and every org-scoped table the SELECT reads is filtered by it: a
/// row can neither come from nor land in another org. Returns the number of rows inserted.
template <class Target, class Conn, class Q, class... Ms>
  requires query_detail::is_query<Q>::value
std::int64_t insert_select(Conn& conn, const org_id_of<Target>& org, const Into<Target, Ms...>& into, const Q& q) {
  static_assert(takes_org<Target> || !Q::reads_org_scoped,
                "tenantry: INSERT ... SELECT from org-scoped tables into a global table would publish one org's rows to every org");
  static_assert(takes_org<Target> || Q::reads_org_scoped,
                "tenantry: this INSERT ... SELECT touches only global tables: it takes no org");
  static_assert(std::tuple_size_v<decltype(q.outputs)> == sizeof...(Ms),
                "tenantry: INSERT ... SELECT needs one selected output per column of into(...)");
  static_assert(detail::one_org_key(detail::org_keys_of<Target> | Q::org_keys),
                "tenantry: one statement cannot read tables of different org types (OrgId, TextOrgId, IntOrgId): "
                "their org columns cannot be compared");
  static_assert(query_detail::check_into<Target, Q, Ms...>(std::make_index_sequence<sizeof...(Ms)>{}));
  if constexpr (requires { conn.visit([](auto&) {}); }) {
    return conn.visit([&](auto& c) { return insert_select(c, org, into, q); });
  } else {
    using D = typename Conn::dialect;
    require_org(org, "insert_select");
    return in_org_context(conn, org, [&] {
      const Sql sql = cached_sql<D>(query_detail::describe_insert_select(into, q));
      auto& s = conn.prepare(sql);
      const StatementLease lease(&s);
      query_detail::ResetOnExit<std::remove_reference_t<decltype(s)>> guard{s};
      int next = 1;
      if constexpr (binds_org_param<Target> || Q::binds_org) bind_value(s, next++, org);
      q.bind(s, next);
      while (s.step()) {
      }
      return s.changes();
    });
  }
}

/// INSERT ... SELECT in the platform scope: the rows are written with no org (NULL), and every
/// org-scoped table the SELECT reads contributes its rows of no org only. Target and every
/// org-scoped table read must have an optional org column.
template <class Target, class Conn, class Q, class... Ms>
  requires query_detail::is_query<Q>::value
std::int64_t insert_select(Conn& conn, PlatformScope p, const Into<Target, Ms...>& into, const Q& q) {
  static_assert(org_column_optional<Target>,
                "tenantry: tenantry::platform writes rows of no org, and the target's org column is not optional "
                "(std::optional<OrgId>)");
  query_detail::require_platform_for<Q>();
  static_assert(std::tuple_size_v<decltype(q.outputs)> == sizeof...(Ms),
                "tenantry: INSERT ... SELECT needs one selected output per column of into(...)");
  static_assert(query_detail::check_into<Target, Q, Ms...>(std::make_index_sequence<sizeof...(Ms)>{}));
  if constexpr (requires { conn.visit([](auto&) {}); }) {
    return conn.visit([&](auto& c) { return insert_select(c, p, into, q); });
  } else {
    using D = typename Conn::dialect;
    return in_platform_context(conn, [&] {
      const Sql sql = cached_sql<D>(query_detail::describe_insert_select(into, q, true));
      auto& s = conn.prepare(sql);
      const StatementLease lease(&s);
      query_detail::ResetOnExit<std::remove_reference_t<decltype(s)>> guard{s};
      int next = 1;
      q.bind(s, next);
      while (s.step()) {
      }
      return s.changes();
    });
  }
}

/// The SQL text a query runs in dialect D, for review and golden tests.
template <class D, class Q>
  requires query_detail::is_query<Q>::value
std::string sql_of(const Q& q) {
  return write_sql<D>(query_detail::describe_top<D>(q));
}
/// The SQL text the query runs in the platform scope (fetch(conn, tenantry::platform, q)).
template <class D, class Q>
  requires query_detail::is_query<Q>::value
std::string sql_of(PlatformScope, const Q& q) {
  query_detail::require_platform_for<Q>();
  return write_sql<D>(query_detail::describe_top<D>(q, Q::reads_org_scoped));
}

}  // namespace tenantry
