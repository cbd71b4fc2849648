// tenantry/entity.hpp - declaring a table next to its struct.
//
//   struct ApiToken {
//     tenantry::Uuid id;
//     tenantry::OrgId org_id;  // this field makes the entity org-scoped
//     std::string token_prefix;
//     tenantry::Timestamp created_at;
//     int expires_in;
//   };
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
// A struct without an OrgId field must also say `static constexpr auto scope = tenantry::global;`
// (see "org scoping" below for the rules every entity is checked against), or, when its rows
// belong to the org of a parent row, `static constexpr auto scope = tenantry::through<&T::fk>;`.
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
#include <optional>
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
  bool global = false;
  std::string_view name{};  // with name_given: the constraint's name (empty: none, SQLite)
  bool name_given = false;

  /// Names the constraint as an existing database named it ("users_pkey") instead of
  /// pk_<table>. named("") declares it without a name (SQLite's `id INTEGER PRIMARY KEY`).
  constexpr KeyDecl named(std::string_view n) const {
    KeyDecl copy = *this;
    copy.name = n;
    copy.name_given = true;
    return copy;
  }

  /// Declares deliberately that this key is unique across every org although it lacks the org
  /// column (see the existence-oracle rule under "org scoping" below, and docs/tenancy.md).
  constexpr KeyDecl global_unique() const {
    KeyDecl copy = *this;
    copy.global = true;
    return copy;
  }
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
  std::string_view name{};  // empty (and not name_given): uq_<table>_<columns>
  bool global = false;
  bool name_given = false;

  /// Names the constraint as an existing database named it ("users_email_key"); named("")
  /// declares it without a name (SQLite).
  constexpr UniqueDecl named(std::string_view n) const {
    UniqueDecl copy = *this;
    copy.name = n;
    copy.name_given = true;
    return copy;
  }

  /// Declares deliberately that the value is unique across every org although the constraint
  /// lacks the org column, accepting that an insert tells one org whether another holds the
  /// value (docs/tenancy.md, "Existence oracles"). On an org-scoped table tenantry then also
  /// adds UNIQUE (org, columns), the target of tenant-safe foreign keys to these columns.
  constexpr UniqueDecl global_unique() const {
    UniqueDecl copy = *this;
    copy.global = true;
    return copy;
  }
};

namespace detail {
struct unique_fn {
  template <class M0, class T, class... Ms>
  consteval UniqueDecl<T> operator()(M0 T::*first, Ms... rest) const {
    static_assert((std::is_same_v<typename reflect::member_pointer_traits<Ms>::class_type, T> && ...),
                  "tenantry: every member of a UNIQUE constraint must belong to the same struct");
    UniqueDecl<T> u;
    detail::push_member(u.columns, first);
    (detail::push_member(u.columns, rest), ...);
    return u;
  }
};
}  // namespace detail

/// UNIQUE over one or more members: unique(&T::a, &T::b). A function object, not a function:
/// `unique` written unqualified inside entity<T> must never be std::unique, which
/// argument-dependent lookup would otherwise add (a member of type std::string makes std an
/// associated namespace of &T::member) and pick, with an error about iterators.
inline constexpr detail::unique_fn unique{};

// ---- indexes ---------------------------------------------------------------------------------

template <class T>
struct IndexDecl {
  detail::ColumnList<T> columns;
  bool is_unique = false;
  std::string_view where_sql{};  // partial index predicate, SQL written by the programmer
  std::string_view name{};
  bool global = false;

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
  /// A unique index lacking the org column on an org-scoped table, meant to be unique across
  /// every org: see UniqueDecl::global_unique (no org-including twin is added for an index).
  constexpr IndexDecl global_unique() const {
    IndexDecl copy = *this;
    copy.global = true;
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
  std::string_view full_name{};  // with name_given: the constraint's whole name
  bool name_given = false;

  /// Names the constraint exactly ("users_age_check") instead of ck_<table>_...; named("")
  /// declares it without a name (SQLite).
  constexpr CheckDecl named(std::string_view n) const {
    CheckDecl copy = *this;
    copy.full_name = n;
    copy.name_given = true;
    return copy;
  }
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
  std::string_view name{};  // with name_given: the constraint's name
  bool name_given = false;

  /// Names the constraint as an existing database named it ("orders_customer_id_fkey")
  /// instead of fk_<table>_<columns>; named("") declares it without a name (SQLite).
  constexpr ForeignKeyDecl named(std::string_view n) const {
    ForeignKeyDecl copy = *this;
    copy.name = n;
    copy.name_given = true;
    return copy;
  }
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
  bool serial_key = false;
  bool write_once_flag = false;
  std::string_view check_name_text{};  // with check_name_given: the name of the column's own CHECK
  bool check_name_given = false;

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
  /// Like identity(), for an existing PostgreSQL SERIAL / BIGSERIAL column (an integer whose
  /// default is nextval() of the sequence <table>_<column>_seq): the DDL says SMALLSERIAL,
  /// SERIAL or BIGSERIAL by the field's width. SQLite: the same as identity() (a rowid alias).
  /// Names the CHECK the field's type adds (an enum's IN list; on SQLite a Varchar's length, a
  /// bool's 0/1, a Json's json_valid) as an existing database named it, instead of
  /// ck_<table>_<column>[_suffix]; check_named("") writes it without a name (SQLite).
  constexpr ColumnDecl check_named(std::string_view n) const {
    return with([&](ColumnDecl& c) {
      c.check_name_text = n;
      c.check_name_given = true;
    });
  }
  constexpr ColumnDecl serial() const {
    return with([](ColumnDecl& c) {
      c.identity_key = true;
      c.serial_key = true;
    });
  }

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
//
// Every entity is org-scoped, schema-scoped or global, and says which:
//
//   * org-scoped: it has one org id field: tenantry::OrgId (UUID keys), TextOrgId (text slugs) or
//     IntOrgId (bigint keys); that type is the entity's org type, org_id_of<T>. Every operation
//     on it takes an org of that type and touches only that org's rows. (It may also say
//     `static constexpr auto scope = tenantry::Scope::org;`.)
//   * org-scoped with platform rows: its org field is a std::optional<OrgId> (a nullable org
//     column: audit events, OTP codes, service registrations that exist before or outside any
//     tenant). Calls with an org still touch only that org's rows (never a row of no org), and the
//     rows of no org are reached only through the named scope tenantry::platform, passed in place
//     of the org (PlatformScope, types.hpp). It is org-scoped in every other respect: the org-less
//     (global) call forms do not compile, and it gets the row-level security policy. Platform
//     rows are UUID-only for now: std::optional<TextOrgId> / std::optional<IntOrgId> are refused.
//   * schema-scoped: no org column, and its entity<T> declares
//         static constexpr auto scope = tenantry::per_org_schema;   // [using org_type = TextOrgId;]
//     It lives in each org's schema (OrgSchemas, schema per org, PostgreSQL only); every
//     operation still takes the org, which selects the schema (see per_org_schema below).
//   * global: it has no OrgId field AND its entity<T> declares
//         static constexpr auto scope = tenantry::global;
//     Its rows are shared by every org, so being global is never implicit: a struct that merely
//     lacks an OrgId (a projection of an org-scoped table, a `Uuid org_id`) does not compile.
//
// The rules below are checked when an entity is first used (org_scoped<T>, table_info<T>(), a
// Repository), each a compile error whose message states the rule (tests/compile_fail/):
//   1. no OrgId field and no `scope = tenantry::global`: refused;
//   2. an OrgId field and `scope = tenantry::global`: refused;
//   3. a field named org_id, stored as column "org_id", or named like the entity's org column,
//      is the entity's org field: an org id (OrgId, TextOrgId, IntOrgId) or a std::optional<OrgId>
//      (platform rows; an optional TextOrgId/IntOrgId is refused);
//   4. a global entity has no foreign key to an org-scoped entity (a child scoped only through
//      its parent is readable by every org);
//   5. a foreign key between org-scoped entities has one org type on both sides, pairs the
//      child's org column with the parent's, or names neither (tenantry then adds both, see
//      schema.hpp), and references the parent's primary key or one of its unique() constraints;
//   6. a UNIQUE or unique index of an org-scoped entity includes the org column, or says
//      .global_unique(): otherwise an insert that fails tells one org that another holds the
//      value (an existence oracle, docs/tenancy.md);
//   7. the primary key of an org-scoped entity includes the org column, or is one Uuid column
//      (random ids: an id nobody can guess tells nothing) or one identity() column (assigned by
//      the database, never chosen by the caller), or says key(...).global_unique();
//   8. global_unique() is refused with org_leading_keys, which makes every unique lead with the org.
// An entity scoped through its parent (`scope = tenantry::through<&T::fk>`, below) is checked too:
//   9. it has no OrgId field (with one it is plainly org-scoped);
//  10. the field names a member of T that is not std::optional (a row without a parent would
//      belong to no org);
//  11. T declares foreign_key(&T::fk, &Parent::key), Parent is not T, and Parent is org-scoped
//      or itself scoped through its parent (chains of any depth), never global;
//  12. the key referenced is Parent's primary key or one of its unique(), unique on its own
//      (not org-leading): else one parent key could name a row in two orgs;
//  13. its other foreign keys reference global entities only (a second reference to an
//      org-scoped row could point at another org's row);
//  14. no org-scoped or global entity has a foreign key to it (the database cannot pair the org
//      of a row scoped through its parent);
//  15. rules 6 and 7 hold with the foreign key of the scope in place of the org column: its
//      UNIQUEs include it (or say .global_unique()), and its primary key includes it or is one
//      Uuid or identity() column.
//  16. an entity whose org column is optional has no org_leading_keys and no org column in its
//      primary key (a key column is never NULL). Its tables also get, from schema.hpp: for each
//      UNIQUE (org, cols) a unique index on (cols) WHERE org IS NULL (platform rows are unique
//      among themselves: NULLs are distinct in a UNIQUE), and for each tenant-safe foreign key
//      (org, cols) -> parent (org, key) a CHECK (org IS NOT NULL OR cols are NULL), because a
//      composite key with a NULL column is not checked at all (MATCH SIMPLE) and a platform row
//      could otherwise point at any org's parent.
//  17. an entity scoped by its schema (`scope = tenantry::per_org_schema`, below) has no org id
//      field (rule 3 applies to it too); its org type is entity<T>::org_type (OrgId by default).
// Entity sets (create_tables<Es...>, schema_sql<D, Es...>, OrgSchemas<Es...>) also refuse two
// entities declaring one table with different scopes (check_entity_set below), and table_info
// does the same at run time across the whole process (schema.hpp).

/// The scopes an entity can have; see above. `parent` is declared with tenantry::through<>.
enum class Scope : std::uint8_t { org, global, parent, per_org_schema };

/// `static constexpr auto scope = tenantry::global;` declares an entity global.
inline constexpr Scope global = Scope::global;

/// `static constexpr auto scope = tenantry::per_org_schema;` declares an entity scoped by the
/// schema it lives in (schema-per-org strategy, org_schema.hpp): its table has no org column,
/// one copy of it lives in each org's schema, and every operation on it still takes the org,
/// which selects the schema. Its org type is OrgId unless entity<T> also says
/// `using org_type = tenantry::TextOrgId;` (or IntOrgId). It works only on a PostgreSQL
/// connection opened with pg::Options::org_schemas and only as a member of an OrgSchemas<...>
/// set: with SQLite it does not compile, in create_tables / schema_sql (shared tables) it does
/// not compile, and on a PostgreSQL connection without org_schemas every call is a UsageError.
inline constexpr Scope per_org_schema = Scope::per_org_schema;
/// `static constexpr auto scope = tenantry::through<&T::user_id>;` declares an entity with no
/// org column of its own scoped through its parent: each row belongs to the org of the row its
/// foreign key `user_id` references (rules 9-14 above). Every statement then filters it with
/// EXISTS (SELECT 1 FROM parent WHERE parent.key = row.user_id AND parent.org = $1), recursively
/// when the parent is itself scoped through its parent (sql_writer.hpp).
template <auto Member>
struct ThroughParent {
  static constexpr auto member = Member;
};
template <auto Member>
inline constexpr ThroughParent<Member> through{};

// tenantry::platform, the scope of the rows that belong to no org, is declared in types.hpp
// (PlatformScope) next to OrgId.

/// True for entities whose tenantry::entity<T> specialisation is visible.
template <class T>
concept declared_entity = requires {
  { entity<T>::table } -> std::convertible_to<std::string_view>;
  entity<T>::primary_key;
};

/// The org column's name unless the entity renames it; a field of another type by this name is
/// refused (rule 3).
inline constexpr std::string_view default_org_column = "org_id";

namespace detail {
/// True for std::optional<OrgId / TextOrgId / IntOrgId> (a nullable org column).
template <class F>
inline constexpr bool is_optional_org = false;
template <class K>
inline constexpr bool is_optional_org<std::optional<BasicOrgId<K>>> = true;

/// True for the types an org column can have: an org id (OrgId, TextOrgId, IntOrgId: every row
/// has an org) or a std::optional of one (rows of no org, "platform rows": see PlatformScope;
/// only std::optional<OrgId> passes the entity rules).
template <class F>
inline constexpr bool is_org_type = is_org_id<F>::value || is_optional_org<F>;

/// The org id type of an org column type (the optional's value type for a nullable one).
template <class F>
struct org_of_column {
  using type = F;
};
template <class K>
struct org_of_column<std::optional<BasicOrgId<K>>> {
  using type = BasicOrgId<K>;
};

template <class T, std::size_t... I>
consteval std::size_t org_field_index(std::index_sequence<I...>) {
  std::size_t found = reflect::npos, count = 0;
  ((is_org_type<std::remove_cv_t<reflect::field_type<I, T>>> ? (found = I, ++count, 0) : 0), ...);
  return count > 1 ? reflect::npos - 1 : found;
}

/// T's OrgId (or std::optional<OrgId>) field without any rule checked (npos: none; npos - 1:
/// several).
template <class T>
inline constexpr std::size_t raw_org_field = org_field_index<T>(std::make_index_sequence<reflect::field_count<T>>{});

template <class T>
inline constexpr bool has_org_field = raw_org_field<T> != reflect::npos;

template <class S>
inline constexpr bool is_through_parent = false;
template <auto M>
inline constexpr bool is_through_parent<ThroughParent<M>> = true;

/// True when entity<T>::scope is tenantry::through<&T::fk> (rules 9-14 are then checked).
template <class T>
consteval bool declares_through() {
  if constexpr (requires { entity<T>::scope; }) return is_through_parent<std::remove_cv_t<decltype(entity<T>::scope)>>;
  else return false;
}

template <class T>
consteval bool declares_global() {
  if constexpr (requires { entity<T>::scope; }) {
    if constexpr (std::is_same_v<std::remove_cv_t<decltype(entity<T>::scope)>, Scope>) {
      return entity<T>::scope == Scope::global;
    } else if constexpr (declares_through<T>()) {
      return false;
    } else {
      static_assert(always_false<T>,
                    "tenantry: entity<T>::scope is tenantry::global, tenantry::Scope::org, tenantry::per_org_schema or "
                    "tenantry::through<&T::fk>");
      return !has_org_field<T>;  // keeps the scope rules quiet: this message is the one to fix
    }
  } else {
    return false;
  }
}

/// True when entity<T> says `scope = tenantry::per_org_schema`.
template <class T>
consteval bool declares_schema_scope() {
  if constexpr (requires { entity<T>::scope; }) {
    if constexpr (std::is_same_v<std::remove_cv_t<decltype(entity<T>::scope)>, Scope>)
      return entity<T>::scope == Scope::per_org_schema;
    else return false;
  } else {
    return false;
  }
}

/// The org type an entity's calls take: its org field's type, or for a schema-scoped entity its
/// declared org_type (OrgId by default). OrgId for a global entity (whose calls take none).
template <class T>
struct org_id_of_impl {
  using type = OrgId;
};
template <class T>
  requires(raw_org_field<T> < reflect::npos - 1)
struct org_id_of_impl<T> {
  using type = typename org_of_column<std::remove_cv_t<reflect::field_type<raw_org_field<T>, T>>>::type;
};
template <class T>
  requires(raw_org_field<T> == reflect::npos && !declares_through<T>() && requires { typename entity<T>::org_type; })
struct org_id_of_impl<T> {
  using type = typename entity<T>::org_type;
};

template <class T>
consteval bool declares_org_leading_keys() {
  if constexpr (requires { entity<T>::org_leading_keys; }) return static_cast<bool>(entity<T>::org_leading_keys);
  else return false;
}

template <class T>
consteval auto declared_constraints() {
  if constexpr (requires { entity<T>::constraints; }) return entity<T>::constraints;
  else return std::tuple<>{};
}

template <class T>
consteval auto declared_columns() {
  if constexpr (requires { entity<T>::columns; }) return entity<T>::columns;
  else return std::tuple<>{};
}

/// The column name of field I: its rename in entity<T>::columns, or the field's name.
template <class T, std::size_t I>
consteval std::string_view column_name_of() {
  std::string_view name = reflect::field_name<T, I>;
  std::apply([&](const auto&... c) { ((c.field == I && !c.rename.empty() ? (name = c.rename, 0) : 0), ...); },
             declared_columns<T>());
  return name;
}

template <class T>
consteval bool is_identity_field(std::size_t i) {
  bool found = false;
  std::apply([&](const auto&... c) { ((found = found || (c.field == i && c.identity_key)), ...); }, declared_columns<T>());
  return found;
}

/// True when T's org field is a std::optional org id (no rule checked).
template <class T>
consteval bool raw_org_is_optional() {
  constexpr std::size_t org = raw_org_field<T>;
  if constexpr (org < reflect::npos - 1) return is_optional_org<std::remove_cv_t<reflect::field_type<org, T>>>;
  else return false;
}

/// True when some field of T is a std::optional org id.
template <class T>
consteval bool has_optional_org_field() {
  return []<std::size_t... I>(std::index_sequence<I...>) {
    return (is_optional_org<std::remove_cv_t<reflect::field_type<I, T>>> || ...);
  }(std::make_index_sequence<reflect::field_count<T>>{});
}

/// Rule 3: every field named like the org column is the org field (an OrgId or a
/// std::optional<OrgId>).
template <class T>
consteval bool org_named_fields_are_org_ids() {
  constexpr std::size_t org = raw_org_field<T>;
  return []<std::size_t... I>(std::index_sequence<I...>) {
    const auto org_like = [](std::string_view n) {
      if (n == default_org_column) return true;
      if constexpr (org < reflect::npos - 1) return n == column_name_of<T, org>();
      return false;
    };
    return ((is_org_type<std::remove_cv_t<reflect::field_type<I, T>>> ||
             (!org_like(reflect::field_name<T, I>) && !org_like(column_name_of<T, I>()))) &&
            ...);
  }(std::make_index_sequence<reflect::field_count<T>>{});
}

template <class D>
struct fk_parent {
  using type = void;
};
template <class T, class P>
struct fk_parent<ForeignKeyDecl<T, P>> {
  using type = P;
};

/// `list` and column c (unless already there).
template <class T>
constexpr ColumnList<T> with_column(ColumnList<T> list, std::size_t c) {
  if (!list.contains(c)) list.push(c);
  return list;
}

/// Rule 4: a global T references no org-scoped entity.
template <class T>
consteval bool references_org_scoped() {
  bool found = false;
  std::apply(
      [&](const auto&... c) {
        (
            [&](const auto& decl) {
              using P = typename fk_parent<std::remove_cvref_t<decltype(decl)>>::type;
              if constexpr (!std::is_void_v<P>) found = found || has_org_field<P> || declares_through<P>() || declares_schema_scope<P>();
            }(c),
            ...);
      },
      declared_constraints<T>());
  return found;
}

/// Rule 14: T has a foreign key to an entity scoped through its parent.
template <class T>
consteval bool references_parent_scoped() {
  bool found = false;
  std::apply(
      [&](const auto&... c) {
        (
            [&](const auto& decl) {
              using P = typename fk_parent<std::remove_cvref_t<decltype(decl)>>::type;
              if constexpr (!std::is_void_v<P>) found = found || declares_through<P>();
            }(c),
            ...);
      },
      declared_constraints<T>());
  return found;
}

// ---- scoped through the parent (rules 9-14) ----

/// The field index of entity<T>::scope's through<&T::fk>, or npos when it names another struct's
/// member.
template <class T>
consteval std::size_t through_field() {
  constexpr auto m = entity<T>::scope.member;
  using MP = std::remove_cv_t<decltype(m)>;
  if constexpr (std::is_member_object_pointer_v<MP>) {
    if constexpr (std::is_same_v<typename reflect::member_pointer_traits<MP>::class_type, T>) return field_of(m);
    else return reflect::npos;
  } else {
    return reflect::npos;
  }
}

template <class T>
using constraints_type = decltype(declared_constraints<T>());

/// The position in entity<T>::constraints of the one-column foreign key on field F, or npos.
template <class T, std::size_t F>
consteval std::size_t foreign_key_on() {
  return []<std::size_t... I>(std::index_sequence<I...>) {
    std::size_t found = reflect::npos;
    (
        [&] {
          using D = std::remove_cvref_t<std::tuple_element_t<I, constraints_type<T>>>;
          if constexpr (!std::is_void_v<typename fk_parent<D>::type>) {
            constexpr D d = std::get<I>(declared_constraints<T>());
            if (found == reflect::npos && d.columns.size == 1 && d.columns.index[0] == F) found = I;
          }
        }(),
        ...);
    return found;
  }(std::make_index_sequence<std::tuple_size_v<constraints_type<T>>>{});
}

template <class T>
consteval std::size_t scope_foreign_key() {
  if constexpr (!declares_through<T>()) {
    return reflect::npos;
  } else {
    constexpr std::size_t f = through_field<T>();
    if constexpr (f == reflect::npos) return reflect::npos;
    else return foreign_key_on<T, f>();
  }
}

/// The parent entity of T's scope (void when T is not scoped through a declared foreign key).
template <class T, std::size_t K = scope_foreign_key<T>()>
struct scope_parent {
  using type = typename fk_parent<std::remove_cvref_t<std::tuple_element_t<K, constraints_type<T>>>>::type;
};
template <class T>
struct scope_parent<T, reflect::npos> {
  using type = void;
};

/// An entity scoped through its parent takes its parent's org type (the chain's root's).
template <class T>
  requires(raw_org_field<T> == reflect::npos && declares_through<T>())
struct org_id_of_impl<T> {
  using P = typename scope_parent<T>::type;
  using type = typename std::conditional_t<std::is_void_v<P> || std::is_same_v<P, T>, org_id_of_impl<void>,
                                           org_id_of_impl<P>>::type;
};

/// Rule 12: the scope's foreign key references a key of P unique on its own.
template <class T, class P>
consteval bool scope_references_unique_key() {
  constexpr auto fk = std::get<scope_foreign_key<T>()>(declared_constraints<T>());
  if (declares_org_leading_keys<P>()) return false;
  bool found = false;
  if constexpr (std::is_same_v<std::remove_cv_t<decltype(entity<P>::primary_key)>, KeyDecl<P>>)
    found = fk.parent_columns.same_set(entity<P>::primary_key.columns);
  std::apply(
      [&](const auto&... c) {
        (
            [&](const auto& decl) {
              if constexpr (std::is_same_v<std::remove_cvref_t<decltype(decl)>, UniqueDecl<P>>)
                found = found || fk.parent_columns.same_set(decl.columns);
            }(c),
            ...);
      },
      declared_constraints<P>());
  return found;
}

/// Rule 13: a foreign key of T other than its scope's reaches an org-scoped or parent-scoped
/// entity.
template <class T>
consteval bool other_foreign_key_reaches_org() {
  return []<std::size_t... I>(std::index_sequence<I...>) {
    return ([] {
      using P = typename fk_parent<std::remove_cvref_t<std::tuple_element_t<I, constraints_type<T>>>>::type;
      if constexpr (std::is_void_v<P> || I == scope_foreign_key<T>()) return false;
      else return has_org_field<P> || declares_through<P>();
    }() || ...);
  }(std::make_index_sequence<std::tuple_size_v<constraints_type<T>>>{});
}


enum class ForeignKeyFault : std::uint8_t { none, unpaired_org, not_a_key, set_null_org, org_types_differ };

/// Rule 5 for one foreign key of org-scoped T to org-scoped P.
template <class T, class P>
constexpr ForeignKeyFault org_foreign_key_fault(const ForeignKeyDecl<T, P>& fk) {
  constexpr std::size_t co = raw_org_field<T>, po = raw_org_field<P>;
  if constexpr (!std::is_same_v<typename org_id_of_impl<T>::type, typename org_id_of_impl<P>::type>)
    return ForeignKeyFault::org_types_differ;
  std::size_t ci = reflect::npos, pi = reflect::npos;
  for (std::size_t k = 0; k < fk.columns.size && k < fk.parent_columns.size; ++k) {
    if (fk.columns.index[k] == co) ci = k;
    if (fk.parent_columns.index[k] == po) pi = k;
  }
  if (ci != pi) return ForeignKeyFault::unpaired_org;
  if (ci != reflect::npos && fk.action == on_delete::set_null) return ForeignKeyFault::set_null_org;
  // The parent columns the database will see: with the org (added when the key names none).
  const ColumnList<P> target = with_column(fk.parent_columns, po);
  bool found = false;
  if constexpr (std::is_same_v<std::remove_cv_t<decltype(entity<P>::primary_key)>, KeyDecl<P>>)
    found = target.same_set(with_column(entity<P>::primary_key.columns, po));
  constexpr bool leading = declares_org_leading_keys<P>();
  std::apply(
      [&](const auto&... c) {
        (
            [&](const auto& decl) {
              using D = std::remove_cvref_t<decltype(decl)>;
              // A UNIQUE without the org has an org-including twin (schema.hpp); a unique index
              // counts only as it is (with the org, or made org-leading), never partial.
              if constexpr (std::is_same_v<D, UniqueDecl<P>>) {
                found = found || target.same_set(with_column(decl.columns, po));
              } else if constexpr (std::is_same_v<D, IndexDecl<P>>) {
                if (decl.is_unique && decl.where_sql.empty() && (leading || decl.columns.contains(po)))
                  found = found || target.same_set(with_column(decl.columns, po));
              }
            }(c),
            ...);
      },
      declared_constraints<P>());
  return found ? ForeignKeyFault::none : ForeignKeyFault::not_a_key;
}

template <class T>
consteval ForeignKeyFault org_foreign_keys_fault() {
  ForeignKeyFault fault = ForeignKeyFault::none;
  std::apply(
      [&](const auto&... c) {
        (
            [&](const auto& decl) {
              using D = std::remove_cvref_t<decltype(decl)>;
              using P = typename fk_parent<D>::type;
              if constexpr (!std::is_void_v<P> && std::is_same_v<D, ForeignKeyDecl<T, P>>) {
                if constexpr (has_org_field<P>)
                  if (fault == ForeignKeyFault::none) fault = org_foreign_key_fault(decl);
              }
            }(c),
            ...);
      },
      declared_constraints<T>());
  return fault;
}

/// Rule 6: every UNIQUE and unique index of org-scoped T includes its org or is global_unique
/// (for T scoped through its parent, Org is the foreign key of its scope).
template <class T, std::size_t Org = raw_org_field<T>>
consteval bool uniques_include_org() {
  constexpr std::size_t org = Org;
  bool ok = true;
  std::apply(
      [&](const auto&... c) {
        (
            [&](const auto& decl) {
              using D = std::remove_cvref_t<decltype(decl)>;
              if constexpr (std::is_same_v<D, UniqueDecl<T>>)
                ok = ok && (decl.global || decl.columns.contains(org));
              else if constexpr (std::is_same_v<D, IndexDecl<T>>)
                ok = ok && (!decl.is_unique || decl.global || decl.columns.contains(org));
            }(c),
            ...);
      },
      declared_constraints<T>());
  return ok;
}

/// Rule 7: the primary key of org-scoped T includes its org, is one Uuid or identity column, or
/// is global_unique.
template <class T, std::size_t Org = raw_org_field<T>>
consteval bool key_is_not_an_oracle() {
  if constexpr (!std::is_same_v<std::remove_cv_t<decltype(entity<T>::primary_key)>, KeyDecl<T>>) {
    return true;  // refused with its own message by table_info
  } else {
    constexpr auto pk = entity<T>::primary_key;
    if (pk.global || pk.columns.contains(Org)) return true;
    if constexpr (pk.columns.size == 1) {
      constexpr std::size_t i = pk.columns.index[0];
      return std::is_same_v<std::remove_cv_t<reflect::field_type<i, T>>, Uuid> || is_identity_field<T>(i);
    } else {
      return false;
    }
  }
}

/// Rule 9: whether T's primary key names its org column.
template <class T>
consteval bool primary_key_names_org() {
  if constexpr (!std::is_same_v<std::remove_cv_t<decltype(entity<T>::primary_key)>, KeyDecl<T>>) return false;
  else return entity<T>::primary_key.columns.contains(raw_org_field<T>);
}

/// Rule 8.
template <class T>
consteval bool declares_any_global_unique() {
  bool found = false;
  if constexpr (std::is_same_v<std::remove_cv_t<decltype(entity<T>::primary_key)>, KeyDecl<T>>)
    found = entity<T>::primary_key.global;
  std::apply(
      [&](const auto&... c) {
        (
            [&](const auto& decl) {
              using D = std::remove_cvref_t<decltype(decl)>;
              if constexpr (std::is_same_v<D, UniqueDecl<T>> || std::is_same_v<D, IndexDecl<T>>)
                found = found || decl.global;
            }(c),
            ...);
      },
      declared_constraints<T>());
  return found;
}

/// Rules 9-15 for T declaring scope = through<&T::fk>; each failure states its rule.
template <class T>
consteval bool check_parent_scope_rules() {
  static_assert(!has_org_field<T>,
                "tenantry: an entity with an OrgId field is org-scoped: it cannot also be scoped through its parent "
                "(drop scope = tenantry::through<...>)");
  constexpr std::size_t f = through_field<T>();
  static_assert(f != reflect::npos, "tenantry: scope = tenantry::through<&T::fk> names a field of this entity");
  if constexpr (f != reflect::npos) {
    static_assert(!is_optional<std::remove_cv_t<reflect::field_type<f, T>>>::value,
                  "tenantry: the field of scope = tenantry::through<&T::fk> cannot be std::optional: a row without a "
                  "parent would belong to no org");
    constexpr std::size_t k = scope_foreign_key<T>();
    static_assert(k != reflect::npos,
                  "tenantry: scope = tenantry::through<&T::fk> needs foreign_key(&T::fk, &Parent::key) in entity<T>::"
                  "constraints: the parent row is what gives each row its org");
    if constexpr (k != reflect::npos) {
      using P = typename scope_parent<T>::type;
      static_assert(!std::is_same_v<P, T>, "tenantry: an entity cannot be scoped through a foreign key to its own table");
      if constexpr (!std::is_same_v<P, T>) {
        static_assert(has_org_field<P> || declares_through<P>(),
                      "tenantry: scope = tenantry::through<&T::fk> references a global entity: the parent must be "
                      "org-scoped (or itself scoped through its parent)");
        static_assert(scope_references_unique_key<T, P>(),
                      "tenantry: the foreign key of scope = tenantry::through<&T::fk> must reference the parent's "
                      "primary key or a unique() of it that is unique without the org (not org_leading_keys)");
      }
      static_assert(!other_foreign_key_reaches_org<T>(),
                    "tenantry: an entity scoped through its parent references org-scoped entities only through the "
                    "foreign key of its scope (another could point at a row of another org)");
      static_assert(uniques_include_org<T, f>(),
                    "tenantry: a UNIQUE or unique index of an entity scoped through its parent must include the foreign "
                    "key of its scope (else an insert tells one org what another holds); add .global_unique() to mean it");
      static_assert(key_is_not_an_oracle<T, f>(),
                    "tenantry: the primary key of an entity scoped through its parent must include the foreign key of its "
                    "scope or be one Uuid or identity() column (a natural key tells one org what another holds); add "
                    ".global_unique() to mean it");
    }
  }
  return true;
}

/// Rule 17, and rule 3, for an entity declaring scope = tenantry::per_org_schema.
template <class T>
consteval bool check_schema_scoped_rules() {
  constexpr bool org = has_org_field<T>;
  {
    static_assert(!org && !has_optional_org_field<T>(),
                  "tenantry: an entity with scope = tenantry::per_org_schema is scoped by its schema and has no org "
                  "column: remove its org id field (or make it an ordinary org-scoped entity)");
    static_assert(is_org_id<typename org_id_of_impl<T>::type>::value,
                  "tenantry: entity<T>::org_type of a per_org_schema entity is tenantry::OrgId, TextOrgId or IntOrgId");
    static_assert(org_named_fields_are_org_ids<T>(),
                  "tenantry: a field named or stored as the org column (org_id) must be a tenantry::OrgId");
  }
  return true;
}

/// Rules 1-15 for an org-scoped, parent-scoped or global entity.
template <class T>
consteval bool check_org_or_global_rules() {
  constexpr bool org = has_org_field<T>;
  static_assert(org || declares_global<T>() || declares_through<T>(),
                "tenantry: an entity with no OrgId field must declare `static constexpr auto scope = tenantry::global;` "
                "in its tenantry::entity<T> (being global is never implicit)");
  static_assert(!org || !declares_global<T>(),
                "tenantry: an entity with an OrgId field is org-scoped and cannot declare scope = tenantry::global");
  static_assert(org_named_fields_are_org_ids<T>(),
                "tenantry: a field named or stored as the org column (org_id) must be a tenantry::OrgId (or a "
                "std::optional<OrgId>)");
  if constexpr (raw_org_is_optional<T>()) {
    static_assert(std::is_same_v<std::remove_cv_t<reflect::field_type<raw_org_field<T>, T>>, std::optional<OrgId>>,
                  "tenantry: platform rows (an optional org column) need a std::optional<tenantry::OrgId>: an optional "
                  "TextOrgId or IntOrgId org column is not supported yet");
    static_assert(!declares_org_leading_keys<T>(),
                  "tenantry: org_leading_keys needs an org in every row, and this entity's org column is optional "
                  "(std::optional<OrgId>)");
    static_assert(!primary_key_names_org<T>(),
                  "tenantry: the primary key of an entity whose org column is optional (std::optional<OrgId>) cannot "
                  "include the org column (a key column is never NULL)");
  }
  if constexpr (declares_through<T>()) {
    static_assert(check_parent_scope_rules<T>());
  } else if constexpr (!org) {
    static_assert(!references_org_scoped<T>(),
                  "tenantry: a global entity cannot have a foreign key to an org-scoped entity: give it the OrgId field "
                  "of the org its rows belong to");
  } else if constexpr (raw_org_field<T> != reflect::npos - 1) {
    static_assert(!references_parent_scoped<T>(),
                  "tenantry: an org-scoped entity cannot have a foreign key to an entity scoped through its parent "
                  "(the database cannot pair their orgs): reference the parent instead");
    constexpr ForeignKeyFault fk = org_foreign_keys_fault<T>();
    static_assert(fk != ForeignKeyFault::org_types_differ,
                  "tenantry: a foreign key between org-scoped entities needs one org type on both sides (OrgId, "
                  "TextOrgId or IntOrgId)");
    static_assert(fk != ForeignKeyFault::unpaired_org,
                  "tenantry: a foreign key between org-scoped entities must pair the child's OrgId column with the "
                  "parent's, or name neither (tenantry then adds both)");
    static_assert(fk != ForeignKeyFault::set_null_org,
                  "tenantry: ON DELETE SET NULL on a foreign key that names the org would null the org: name neither "
                  "org (tenantry then adds both and nulls only your columns)");
    static_assert(fk != ForeignKeyFault::not_a_key,
                  "tenantry: a foreign key to an org-scoped entity must reference its primary key or one of its "
                  "unique() constraints");
    if constexpr (declares_org_leading_keys<T>()) {
      static_assert(!declares_any_global_unique<T>(),
                    "tenantry: global_unique() contradicts org_leading_keys, which makes every key and unique lead "
                    "with the org");
    } else {
      static_assert(uniques_include_org<T>(),
                    "tenantry: a UNIQUE or unique index of an org-scoped entity must include its OrgId column (else an "
                    "insert tells one org what another holds); add .global_unique() to mean it");
      static_assert(key_is_not_an_oracle<T>(),
                    "tenantry: the primary key of an org-scoped entity must include its OrgId column or be one Uuid or "
                    "identity() column (a natural key tells one org what another holds); add .global_unique() to mean "
                    "it");
    }
  }
  return true;
}

/// Checks every rule for a declared entity; each failure is a static_assert stating its rule.
template <class T>
consteval bool check_entity_rules() {
  if constexpr (declares_schema_scope<T>()) return check_schema_scoped_rules<T>();
  else return check_org_or_global_rules<T>();
}
}  // namespace detail

/// Index of T's OrgId field, or npos for a global entity. Reading it checks the scope rules above.
template <class T>
inline constexpr std::size_t org_field = [] {
  static_assert(declared_entity<T>,
                "tenantry: no entity declaration for this struct; specialise tenantry::entity<T> with "
                "`table` and `primary_key`");
  if constexpr (declared_entity<T>) static_assert(detail::check_entity_rules<T>());
  constexpr std::size_t i = detail::raw_org_field<T>;
  static_assert(i != reflect::npos - 1, "tenantry: an entity may have at most one OrgId field");
  return i;
}();

/// True for entities with an org id field (OrgId, TextOrgId, IntOrgId): every operation on them
/// is scoped to one org, and every statement filters by (or writes) their org column.
template <class T>
concept org_scoped = org_field<T> != reflect::npos;

/// True for entities declaring `scope = tenantry::per_org_schema` (no org column; the org's
/// schema is the scope).
template <class T>
concept schema_scoped = org_field<T> == reflect::npos && detail::declares_schema_scope<T>();

/// True for entities scoped through their parent (`scope = tenantry::through<&T::fk>`): they
/// have no org column, and every operation on them takes an org and reaches only the rows whose
/// parent (chain) belongs to it.
template <class T>
concept parent_scoped = org_field<T> == reflect::npos && detail::declares_through<T>();

/// True for the entities every operation on which takes an org: org-scoped, scoped through their
/// parent, or scoped by their schema. Only the others, global entities, are read and written
/// without an org.
template <class T>
concept takes_org = org_scoped<T> || parent_scoped<T> || schema_scoped<T>;

/// True for the entities whose statements filter by the org, binding it as parameter 1:
/// org-scoped ones and those scoped through their parent. A schema-scoped entity's statements
/// bind no org (its schema, chosen by the org, is the scope).
template <class T>
concept binds_org_param = org_scoped<T> || parent_scoped<T>;

/// The entity whose rows give a parent-scoped T's rows their org (void for other entities).
template <class T>
using scope_parent_t = typename detail::scope_parent<T>::type;

/// True for org-scoped entities whose org column is optional (a std::optional<OrgId> field):
/// they have platform rows, reached through tenantry::platform only.
template <class T>
concept org_column_optional = org_scoped<T> && detail::raw_org_is_optional<T>();

/// The org type entity T's calls take (OrgId, TextOrgId or IntOrgId): its org field's type, its
/// parent's org type for an entity scoped through its parent, or the org_type a schema-scoped
/// entity declares (OrgId by default).
template <class T>
using org_id_of = typename detail::org_id_of_impl<T>::type;

/// The key type of T's org (Uuid, std::string or std::int64_t).
template <class T>
using org_key_of = typename org_id_of<T>::key_type;

namespace detail {
/// One bit per org key type, for checking that the tables of one statement agree.
template <class O>
inline constexpr unsigned org_key_bit = std::is_same_v<O, OrgId> ? 1u : std::is_same_v<O, TextOrgId> ? 2u : 4u;
/// E's bit when its operations take an org, else 0.
template <class E>
inline constexpr unsigned org_keys_of = takes_org<E> ? org_key_bit<org_id_of<E>> : 0u;
/// The org type of a set of bits holding one (OrgId for none or several: those are refused).
template <unsigned Bits>
using org_id_for_bits = std::conditional_t<Bits == 2u, TextOrgId, std::conditional_t<Bits == 4u, IntOrgId, OrgId>>;
/// True when bits name at most one org key type.
constexpr bool one_org_key(unsigned bits) { return (bits & (bits - 1)) == 0; }
}  // namespace detail

/// The scope entity T has (checking its rules).
template <class T>
inline constexpr Scope scope_of = org_scoped<T>      ? Scope::org
                                  : parent_scoped<T> ? Scope::parent
                                  : schema_scoped<T> ? Scope::per_org_schema
                                                     : Scope::global;

namespace detail {
template <class A, class B>
consteval bool same_table_different_scope() {
  return std::string_view(entity<A>::table) == std::string_view(entity<B>::table) && scope_of<A> != scope_of<B>;
}
template <class... Es>
consteval bool has_table_with_two_scopes() {
  return ([]<class A>(std::type_identity<A>) { return (same_table_different_scope<A, Es>() || ...); }(
              std::type_identity<Es>{}) ||
          ...);
}
/// The org column name of E when it is org-scoped.
template <class E>
consteval std::string_view org_column_of() {
  if constexpr (org_scoped<E>) return column_name_of<E, org_field<E>>();
  else return {};
}
template <class G, class... Es>
consteval bool global_has_org_like_column() {
  if constexpr (org_scoped<G>) {
    return false;
  } else {
    return []<std::size_t... I>(std::index_sequence<I...>) {
      const auto org_like = [](std::string_view n) {
        return ((org_scoped<Es> && n == org_column_of<Es>()) || ...);
      };
      return ((org_like(reflect::field_name<G, I>) || org_like(column_name_of<G, I>())) || ...);
    }(std::make_index_sequence<reflect::field_count<G>>{});
  }
}
template <class... Es>
consteval bool has_global_with_org_like_column() {
  return (global_has_org_like_column<Es, Es...>() || ...);
}
}  // namespace detail

/// Checks an entity set (the tables of one database): each entity's rules, no table declared with
/// two scopes, and no global entity with a column named like an org-scoped entity's org column.
template <class... Es>
consteval bool check_entity_set() {
  static_assert(((static_cast<void>(org_field<Es>), true) && ...));
  static_assert(!detail::has_table_with_two_scopes<Es...>(),
                "tenantry: two entities of one set declare the same table with different scopes (one org-scoped, one "
                "global)");
  static_assert(!detail::has_global_with_org_like_column<Es...>(),
                "tenantry: a global entity has a column named like the org column of an org-scoped entity of the same "
                "set: org ids belong in tenantry::OrgId fields of org-scoped entities");
  return true;
}

}  // namespace tenantry
