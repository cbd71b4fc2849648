// tenantry/schema.hpp - the runtime description of an entity's table.
//
// table_info<T>() turns the compile-time declarations of entity<T> into a TableInfo once per
// process. Everything that writes SQL (ddl.hpp, statements.hpp) reads TableInfo, which keeps the
// SQL builders ordinary non-template code: less to compile per entity, and one place to read.
#pragma once

#include "tenantry/entity.hpp"
#include "tenantry/error.hpp"
#include "tenantry/reflect.hpp"
#include "tenantry/types.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

namespace tenantry {

struct ColumnInfo {
  std::string name;
  Kind kind = Kind::text;
  int int_bytes = 8;   // integers: 2, 4 or 8 bytes needed
  int real_bytes = 8;  // reals: 4 or 8
  bool nullable = false;
  bool is_org = false;
  bool is_enum = false;
  std::vector<std::string> enum_values;
  std::string sql_type;  // override; empty: the dialect decides
  DefaultKind default_kind = DefaultKind::none;
  Literal default_literal{};
  std::string default_sql;
  bool identity = false;
  bool serial = false;      // identity spelled SERIAL / BIGSERIAL on PostgreSQL (entity.hpp serial())
  int max_length = 0;       // Varchar<N> (sql_types.hpp): N; 0 for no limit
  std::string check_name;   // with check_named: the name of the CHECK the type adds (entity.hpp)
  bool check_named = false;
  bool write_once = false;  // never updated after insert
  /// Filled by the database on insert (identity, default_now, default_uuid): left out of
  /// INSERT and read back through RETURNING.
  bool generated() const noexcept {
    return identity || default_kind == DefaultKind::now || default_kind == DefaultKind::uuid;
  }
};

struct UniqueInfo {
  std::string name;
  std::vector<std::size_t> columns;
  /// Added by tenantry, not declared: the org-including twin of the primary key, or of a
  /// global_unique() UNIQUE, on an org-scoped table; the target of tenant-safe foreign keys.
  bool implicit = false;
  /// For a twin: the name of the key or UNIQUE it doubles (the twin is created just before it).
  std::string twin_of;
  /// Declared global_unique(): unique across every org although it lacks the org column.
  bool global = false;
};

struct IndexInfo {
  std::string name;
  std::vector<std::size_t> columns;
  std::vector<bool> descending;
  bool unique = false;
  std::string where;
  bool global = false;  // a unique index declared global_unique()
};

struct CheckInfo {
  std::string name;
  std::size_t column = reflect::npos;  // structured: column op literal
  std::string op;
  Literal value{};
  std::string raw_sql;  // raw form
};

struct ForeignKeyInfo {
  std::string name;
  std::vector<std::size_t> columns;  // as declared
  std::string parent_table;
  std::vector<std::string> parent_columns;  // as declared
  on_delete action = on_delete::no_action;
  /// Set when an org-scoped table references another org-scoped table without naming the org:
  /// the DDL then references (org, columns) instead, so the database itself refuses a child in
  /// one org pointing at a parent in another, and no referential action of one org's delete
  /// reaches another org's rows. Holds the parent's org column name. (ON DELETE SET NULL on a
  /// dialect without a column list gets a second, single-column key for the action: ddl.hpp.)
  std::string parent_org_column;
  /// The parent has org-leading keys: its key alone is not unique, only (org, key) is.
  bool parent_org_leading = false;
  bool tenant_safe() const noexcept { return !parent_org_column.empty(); }
  /// The second key of a tenant-safe ON DELETE SET NULL reference where the dialect has no
  /// column list (SQLite; ddl.hpp): the declared columns alone, carrying the action.
  std::string set_null_name() const { return name.size() <= 54 ? name + "_set_null" : name.substr(0, 54) + "_set_null"; }
};

struct TableInfo {
  std::string name;
  std::vector<ColumnInfo> columns;
  std::vector<std::size_t> primary_key;
  std::size_t org_column = reflect::npos;
  std::vector<UniqueInfo> uniques;
  std::vector<IndexInfo> indexes;
  std::vector<CheckInfo> checks;
  std::vector<ForeignKeyInfo> foreign_keys;
  /// entity<T>::org_leading_keys (org-scoped tables only): the primary key, every UNIQUE and
  /// every unique index start with the org column, as distribution by org (Citus) requires.
  bool org_leading_keys = false;
  /// Scoped through its parent (entity<T>::scope = tenantry::through<&T::fk>): the table has no
  /// org column; a row belongs to the org of the scope_parent row whose scope_parent_column
  /// equals its scope_column. The parent is org-scoped or itself scoped through its parent.
  std::size_t scope_column = reflect::npos;
  const TableInfo* scope_parent = nullptr;
  std::size_t scope_parent_column = reflect::npos;
  /// key(...).named(n): the primary key's name as declared (empty: unnamed, SQLite).
  std::string declared_primary_key_name;
  bool primary_key_named = false;

  bool org_scoped() const noexcept { return org_column != reflect::npos; }
  /// entity<T>::scope = tenantry::per_org_schema: no org column, the org's schema is the scope;
  /// its DDL is made only with a schema (OrgSchemas).
  bool schema_scoped = false;
  bool parent_scoped() const noexcept { return scope_parent != nullptr; }
  /// Org-scoped or scoped through its parent: every statement on the table takes the org and
  /// filters by it. A schema-scoped table takes the org too, but only to choose its schema: its
  /// statements have nothing to filter by (and it has no RLS policy).
  bool takes_org() const noexcept { return org_scoped() || parent_scoped(); }
  /// The org column is nullable (a std::optional<OrgId> field): the table has platform rows,
  /// rows of no org, reached through tenantry::platform only (types.hpp, PlatformScope).
  bool org_optional() const noexcept { return org_scoped() && columns[org_column].nullable; }
  bool has_generated() const noexcept {
    for (const auto& c : columns)
      if (c.generated()) return true;
    return false;
  }
  std::string primary_key_name() const;
};

// ---- constraint naming -----------------------------------------------------------------------

/// Deterministic constraint and index names: <prefix>_<table>_<parts joined by _>. PostgreSQL
/// silently truncates identifiers beyond 63 bytes, which would make two long names collide and
/// error messages name something the program never declared, so long names are cut to 54 bytes
/// and suffixed with 8 hex digits of a hash of the full name.
inline std::string constraint_name(std::string_view prefix, std::string_view table,
                                   const std::vector<std::string_view>& parts) {
  std::string name(prefix);
  name += '_';
  name += table;
  for (auto p : parts) {
    name += '_';
    name += p;
  }
  if (name.size() <= 63) return name;
  std::uint32_t h = 2166136261u;  // FNV-1a
  for (unsigned char c : name) h = (h ^ c) * 16777619u;
  constexpr char hex[] = "0123456789abcdef";
  std::string out = name.substr(0, 54);
  out += '_';
  for (int i = 7; i >= 0; --i) out += hex[(h >> (4 * i)) & 0xF];
  return out;
}

inline std::string TableInfo::primary_key_name() const {
  return primary_key_named ? declared_primary_key_name : constraint_name("pk", name, {});
}

template <class T>
const TableInfo& table_info();

namespace detail {

template <class T>
auto entity_constraints() {
  if constexpr (requires { entity<T>::constraints; }) return entity<T>::constraints;
  else return std::tuple<>{};
}
template <class T>
constexpr bool entity_org_leading_keys() {
  return declares_org_leading_keys<T>();
}

/// The name of type T as the compiler spells it (e.g. "app::ApiToken"), for messages.
template <class T>
consteval std::string_view type_name() {
  const std::string_view s = __PRETTY_FUNCTION__;  // "... [with T = app::ApiToken; ...]" or "... [T = app::ApiToken]"
  const std::size_t at = s.find("T = ") + 4;
  return s.substr(at, s.find_first_of(";]", at) - at);
}

/// The process-wide record of which scope each table name was declared with, by which entity:
/// two entities declaring one table with different scopes (a global projection of an
/// org-scoped table, say) are refused at the first use of the second, even when no entity set
/// shows them together at compile time (check_entity_set). Thread-safe.
inline void register_table_scope(const std::string& table, bool org_scoped, std::string_view entity) {
  struct Entry {
    bool org_scoped;
    std::string entity;
  };
  static std::mutex mutex;
  static std::unordered_map<std::string, Entry> tables;
  const std::lock_guard<std::mutex> lock(mutex);
  const auto [at, added] = tables.try_emplace(table, Entry{org_scoped, std::string(entity)});
  if (added || at->second.org_scoped == org_scoped) return;
  const auto scope = [](bool org) { return org ? std::string("org-scoped") : std::string("global"); };
  throw UsageError("tenantry: table '" + table + "' is declared " + scope(at->second.org_scoped) + " by " +
                   at->second.entity + " and " + scope(org_scoped) + " by " + std::string(entity) +
                   "; a table has one scope (a global entity on an org-scoped table reads and writes every org's rows)");
}

/// `cols` with the org column first and the others in their declared order. Names stay as
/// declared, so errors and migrations still name what the program declared.
inline std::vector<std::size_t> org_first(std::vector<std::size_t> cols, std::size_t org) {
  cols.erase(std::remove(cols.begin(), cols.end(), org), cols.end());
  cols.insert(cols.begin(), org);
  return cols;
}

template <class T>
auto entity_columns() {
  if constexpr (requires { entity<T>::columns; }) return entity<T>::columns;
  else return std::tuple<>{};
}

template <class T>
std::vector<std::size_t> to_vector(const ColumnList<T>& list) {
  return std::vector<std::size_t>(list.index.begin(), list.index.begin() + static_cast<std::ptrdiff_t>(list.size));
}

template <class T, std::size_t I>
ColumnInfo column_info() {
  using F = std::remove_cv_t<reflect::field_type<I, T>>;
  static_assert(storable<F>,
                "tenantry: an entity field has a type with no column mapping; use a supported type or "
                "specialise tenantry::type_mapping<T>");
  using VT = value_traits<F>;
  ColumnInfo c;
  c.name = std::string(reflect::field_name<T, I>);
  c.kind = VT::kind;
  if constexpr (requires { VT::int_bytes; }) c.int_bytes = VT::int_bytes;
  if constexpr (requires { VT::real_bytes; }) c.real_bytes = VT::real_bytes;
  if constexpr (requires { VT::max_length; }) c.max_length = VT::max_length;
  if constexpr (requires { VT::sql_type(); }) c.sql_type = std::string(VT::sql_type());  // Varchar, Decimal
  c.nullable = VT::nullable;
  c.is_org = is_org_type<F>;
  if constexpr (requires { VT::is_enum; }) {
    c.is_enum = true;
    for (const auto& [value, name] : VT::values) c.enum_values.emplace_back(name);
  }
  return c;
}

template <class T>
TableInfo build_declared_table_info();

/// The constraints a table with platform rows (a nullable org column) needs besides its
/// declared ones (entity.hpp, rule 9):
///   * for each UNIQUE or unique index that includes the org, a unique index on its other
///     columns WHERE org IS NULL: a UNIQUE treats NULLs as distinct, so two platform rows with
///     the same value would both be accepted. Named ux_<table>_<columns>_platform.
///   * for each tenant-safe foreign key (org, cols) -> parent (org, key), a CHECK that a row of
///     no org has cols NULL: a composite key with a NULL column is not checked (MATCH SIMPLE,
///     and SQLite has no other), so a platform row could otherwise point at any org's parent.
///     Named ck_<table>_<columns>_platform. Platform rows reference no org-scoped row.
inline void add_platform_rules(TableInfo& t) {
  const std::string& org = t.columns[t.org_column].name;
  std::string org_is_null;
  org_is_null += '"';
  org_is_null += org;
  org_is_null += "\" IS NULL";
  const auto names_of = [&](const std::vector<std::size_t>& cols) {
    std::vector<std::string_view> parts;
    for (auto i : cols) parts.push_back(t.columns[i].name);
    parts.push_back("platform");
    return parts;
  };
  const auto without_org = [&](std::vector<std::size_t> cols) {
    cols.erase(std::remove(cols.begin(), cols.end(), t.org_column), cols.end());
    return cols;
  };
  const auto has_org = [&](const std::vector<std::size_t>& cols) {
    return std::find(cols.begin(), cols.end(), t.org_column) != cols.end();
  };
  std::vector<IndexInfo> platform;
  for (const UniqueInfo& u : t.uniques) {
    if (u.implicit || !has_org(u.columns)) continue;  // twins double a key unique without the org
    IndexInfo ix;
    ix.columns = without_org(u.columns);
    if (ix.columns.empty()) continue;
    ix.descending.assign(ix.columns.size(), false);
    ix.unique = true;
    ix.where = org_is_null;
    ix.name = constraint_name("ux", t.name, names_of(ix.columns));
    platform.push_back(std::move(ix));
  }
  for (const IndexInfo& u : t.indexes) {
    if (!u.unique || !has_org(u.columns)) continue;
    IndexInfo ix;
    for (std::size_t k = 0; k < u.columns.size(); ++k)
      if (u.columns[k] != t.org_column) {
        ix.columns.push_back(u.columns[k]);
        ix.descending.push_back(k < u.descending.size() && u.descending[k]);
      }
    if (ix.columns.empty()) continue;
    ix.unique = true;
    ix.where = u.where.empty() ? org_is_null : "(" + u.where + ") AND " + org_is_null;
    ix.name = constraint_name("ux", t.name, names_of(ix.columns));
    platform.push_back(std::move(ix));
  }
  for (auto& ix : platform) t.indexes.push_back(std::move(ix));
  for (const ForeignKeyInfo& fk : t.foreign_keys) {
    if (!fk.tenant_safe() && !has_org(fk.columns)) continue;
    const auto cols = without_org(fk.columns);
    if (cols.empty()) continue;
    CheckInfo ck;
    ck.name = constraint_name("ck", t.name, names_of(cols));
    ck.raw_sql = '"' + org + "\" IS NOT NULL OR (";
    for (std::size_t k = 0; k < cols.size(); ++k) {
      if (k) ck.raw_sql += " AND ";
      ck.raw_sql += '"' + t.columns[cols[k]].name + "\" IS NULL";
    }
    ck.raw_sql += ')';
    t.checks.push_back(std::move(ck));
  }
}

template <class T>
TableInfo build_table_info() {
  // org_field<T> states the rule when T has no entity declaration (entity.hpp); it is one
  // instantiation however many places ask, so the message appears once. Nothing more is compiled
  // for an undeclared struct.
  (void)org_field<T>;
  if constexpr (declared_entity<T>) return build_declared_table_info<T>();
  else return TableInfo{};
}

template <class T>
TableInfo build_declared_table_info() {
  static_assert(reflect::check_entity_shape<T>());
  TableInfo t;
  t.name = std::string(entity<T>::table);
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (t.columns.push_back(column_info<T, I>()), ...);
  }(std::make_index_sequence<reflect::field_count<T>>{});
  t.org_column = org_field<T>;
  t.schema_scoped = schema_scoped<T>;

  constexpr auto pk = entity<T>::primary_key;
  static_assert(std::is_same_v<std::remove_cv_t<decltype(pk)>, KeyDecl<T>>,
                "tenantry: primary_key must be key(&ThisStruct::member, ...) naming this entity's members");
  t.primary_key = to_vector(pk.columns);
  t.primary_key_named = pk.name_given;
  t.declared_primary_key_name = std::string(pk.name);
  t.org_leading_keys = t.org_scoped() && entity_org_leading_keys<T>();
  if (t.org_leading_keys) t.primary_key = org_first(t.primary_key, t.org_column);

  std::apply(
      [&](const auto&... decl) {
        (
            [&](const auto& c) {
              using D = std::remove_cvref_t<decltype(c)>;
              static_assert(std::is_same_v<D, ColumnDecl<T>>,
                            "tenantry: entity<T>::columns holds column(&T::member)... of this entity only");
              ColumnInfo& col = t.columns[c.field];
              if (!c.rename.empty()) col.name = std::string(c.rename);
              if (!c.type_override.empty()) col.sql_type = std::string(c.type_override);
              col.default_kind = c.default_kind;
              col.default_literal = c.default_literal;
              col.default_sql = std::string(c.default_sql_text);
              col.identity = c.identity_key;
              col.serial = c.serial_key;
              col.check_named = c.check_name_given;
              col.check_name = std::string(c.check_name_text);
              col.write_once = c.write_once_flag;
            }(decl),
            ...);
      },
      entity_columns<T>());

  const auto names_of = [&](const std::vector<std::size_t>& cols) {
    std::vector<std::string_view> parts;
    for (auto i : cols) parts.push_back(t.columns[i].name);
    return parts;
  };

  std::apply(
      [&](const auto&... decl) {
        (
            [&](const auto& c) {
              using D = std::remove_cvref_t<decltype(c)>;
              if constexpr (std::is_same_v<D, UniqueDecl<T>>) {
                UniqueInfo u;
                u.columns = to_vector(c.columns);
                u.name = c.name.empty() && !c.name_given ? constraint_name("uq", t.name, names_of(u.columns))
                                                         : std::string(c.name);
                u.global = c.global;
                t.uniques.push_back(std::move(u));
              } else if constexpr (std::is_same_v<D, IndexDecl<T>>) {
                IndexInfo ix;
                ix.columns = to_vector(c.columns);
                ix.descending.assign(c.columns.descending.begin(),
                                     c.columns.descending.begin() + static_cast<std::ptrdiff_t>(c.columns.size));
                ix.unique = c.is_unique;
                ix.where = std::string(c.where_sql);
                ix.global = c.global;
                ix.name = c.name.empty() ? constraint_name(c.is_unique ? "ux" : "ix", t.name, names_of(ix.columns))
                                         : std::string(c.name);
                t.indexes.push_back(std::move(ix));
              } else if constexpr (std::is_same_v<D, CheckDecl<T>> || std::is_same_v<D, CheckDecl<void>>) {
                CheckInfo ck;
                if (c.column != reflect::npos) {
                  ck.column = c.column;
                  ck.op = std::string(c.op);
                  ck.value = c.value;
                  const std::string_view opname = c.op == "=" ? "eq" : c.op == "<>" ? "ne" : c.op == "<" ? "lt"
                                                : c.op == "<=" ? "le" : c.op == ">" ? "gt" : "ge";
                  ck.name = constraint_name("ck", t.name, {t.columns[c.column].name, opname});
                } else {
                  ck.raw_sql = std::string(c.raw_sql);
                  ck.name = constraint_name("ck", t.name, {c.raw_name});
                }
                if (c.name_given) ck.name = std::string(c.full_name);
                t.checks.push_back(std::move(ck));
              } else if constexpr (requires { c.parent_columns; }) {
                static_assert(std::is_same_v<decltype(c.columns), ColumnList<T>>,
                              "tenantry: a foreign key of entity<T> must start from T's own members");
                ForeignKeyInfo fk;
                fk.columns = to_vector(c.columns);
                fk.action = c.action;
                [&]<class Parent>(const ColumnList<Parent>& parent) {
                  static_assert(declared_entity<Parent>,
                                "tenantry: a foreign key references a struct with no tenantry::entity declaration");
                  // A self-reference must read the table being built: table_info<T>() is
                  // still initialising.
                  const TableInfo* ptp = &t;
                  if constexpr (!std::is_same_v<Parent, T>) ptp = &table_info<Parent>();
                  const TableInfo& pt = *ptp;
                  fk.parent_table = pt.name;
                  for (std::size_t k = 0; k < parent.size; ++k) fk.parent_columns.push_back(pt.columns[parent.index[k]].name);
                  // Child and parent both org-scoped, the reference naming neither org: make it
                  // (org, columns) -> parent (org, columns), so the database itself refuses a child
                  // of one org pointing at a parent of another, and a parent's delete never reaches
                  // another org's children. The parent has a matching UNIQUE: its key's or a
                  // global unique's org-including twin (added below), or a declared one
                  // (entity.hpp rule 5 refuses any other target at compile time).
                  const std::vector<std::size_t> parent_cols = to_vector(parent);
                  const bool names_org = std::find(fk.columns.begin(), fk.columns.end(), t.org_column) != fk.columns.end() ||
                                         std::find(parent_cols.begin(), parent_cols.end(), pt.org_column) != parent_cols.end();
                  if (t.org_scoped() && pt.org_scoped() && !names_org) fk.parent_org_column = pt.columns[pt.org_column].name;
                  fk.parent_org_leading = pt.org_leading_keys;
                }(c.parent_columns);
                fk.name = c.name_given ? std::string(c.name) : constraint_name("fk", t.name, names_of(fk.columns));
                t.foreign_keys.push_back(std::move(fk));
              } else {
                static_assert(always_false<D>,
                              "tenantry: entity<T>::constraints holds unique(), index(), unique_index(), check(), "
                              "check_sql() or foreign_key() of this entity only");
              }
            }(decl),
            ...);
      },
      entity_constraints<T>());

  // Org-leading keys: every UNIQUE and unique index gets the org first (a UNIQUE that lacked the
  // org becomes unique per org). Plain indexes are left as declared.
  if (t.org_leading_keys) {
    for (auto& u : t.uniques) u.columns = org_first(u.columns, t.org_column);
    for (auto& ix : t.indexes)
      if (ix.unique) {
        const auto at = std::find(ix.columns.begin(), ix.columns.end(), t.org_column);
        if (at != ix.columns.end()) ix.descending.erase(ix.descending.begin() + (at - ix.columns.begin()));
        ix.descending.insert(ix.descending.begin(), false);
        ix.columns = org_first(ix.columns, t.org_column);
      }
  }

  // Every org-scoped table whose primary key lacks the org gets UNIQUE (org, key), and each of
  // its global_unique() UNIQUEs UNIQUE (org, columns): the targets of tenant-safe foreign keys
  // from other org-scoped tables (see ForeignKeyInfo). A twin already declared is not repeated.
  // Each twin is listed (and created) just before what it doubles: see create_table_sql.
  if (t.org_scoped()) {
    const auto has_org = [&](const std::vector<std::size_t>& cols) {
      return std::find(cols.begin(), cols.end(), t.org_column) != cols.end();
    };
    const auto declared = [&](const std::vector<std::size_t>& cols) {
      return std::any_of(t.uniques.begin(), t.uniques.end(), [&](const UniqueInfo& u) {
        return std::is_permutation(u.columns.begin(), u.columns.end(), cols.begin(), cols.end());
      });
    };
    const auto twin = [&](const std::vector<std::size_t>& of, const std::string& of_name) {
      std::vector<std::size_t> cols{t.org_column};
      cols.insert(cols.end(), of.begin(), of.end());
      return UniqueInfo{constraint_name("uq", t.name, names_of(cols)), cols, true, of_name, false};
    };
    std::vector<UniqueInfo> uniques;
    if (!has_org(t.primary_key)) {
      UniqueInfo pk_twin = twin(t.primary_key, t.primary_key_name());
      if (!declared(pk_twin.columns)) uniques.push_back(std::move(pk_twin));
    }
    for (UniqueInfo& u : t.uniques) {
      if (!has_org(u.columns)) {
        UniqueInfo u_twin = twin(u.columns, u.name);
        if (!declared(u_twin.columns)) uniques.push_back(std::move(u_twin));
      }
      uniques.push_back(std::move(u));
    }
    t.uniques = std::move(uniques);
  }
  if (t.org_optional()) add_platform_rules(t);
  if constexpr (declares_through<T>() && scope_foreign_key<T>() != reflect::npos) {
    using P = scope_parent_t<T>;
    constexpr auto fk = std::get<scope_foreign_key<T>()>(declared_constraints<T>());
    t.scope_column = fk.columns.index[0];
    t.scope_parent = &table_info<P>();
    t.scope_parent_column = fk.parent_columns.index[0];
  }
  register_table_scope(t.name, t.takes_org(), type_name<T>());
  return t;
}

}  // namespace detail

/// The table description of entity T, built on first use and shared for the process's life.
template <class T>
const TableInfo& table_info() {
  static const TableInfo info = detail::build_table_info<T>();
  return info;
}

}  // namespace tenantry
