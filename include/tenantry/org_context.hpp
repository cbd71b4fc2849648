// tenantry/org_context.hpp - running one org-scoped operation in its org's database context.
//
//   auto rows = tenantry::in_org_context(conn, org, [&] { return run_the_statement(); });
//
// On a connection that asks for it (pg::Options::org_context for row-level security,
// pg::Options::org_schemas for schema per org), an org-scoped operation runs in a transaction
// that first sets the org for the database (the RLS setting and/or the search_path, both
// transaction-local); inside the caller's transaction it joins it and sets the org there. Other
// connections run f() as is. Repositories, queries (select.hpp) and raw queries (raw.hpp) all go
// through here, so every org-scoped statement runs in its org's context. in_org_statement is
// the same for an operation of exactly one statement, sent with its org in one round trip where
// the connection can. The org is also noted in the connection for its statement observer
// (observe.hpp), whatever the connection's options.
#pragma once

#include "tenantry/error.hpp"
#include "tenantry/observe.hpp"
#include "tenantry/types.hpp"

#include <concepts>
#include <string>
#include <type_traits>
#include <utility>

namespace tenantry {

/// A nil org id is never a tenant: refusing it keeps "forgot to set the org" from reading or
/// writing rows of nobody, or worse, matching rows that were stored with a nil org. An invalid
/// text key (too long, not UTF-8, BasicOrgId) is a ValueError before anything is sent.
namespace detail {
template <org_id_type O>
[[noreturn, gnu::cold, gnu::noinline]] void refuse_org(const O& org, std::string_view what) {
  if (org.is_nil()) throw UsageError("tenantry: nil org id passed to " + std::string(what));
  throw ValueError(O::invalid_message(org.value, "passed to " + std::string(what)));
}
}  // namespace detail

template <org_id_type O>
[[gnu::always_inline]] inline const O& require_org(const O& org, std::string_view what) {
  bool usable = !org.is_nil();
  if constexpr (!std::is_same_v<O, OrgId>) usable = usable && org.valid();
  if (!usable) [[unlikely]]
    detail::refuse_org(org, what);
  return org;
}

namespace detail {
/// The OrgLabel (observe.hpp) of an operation on conn, for connections that have a watch.
template <class Conn, org_id_type O>
auto label_org(Conn& conn, const O& org) {
  if constexpr (requires { conn.statement_watch(); }) return OrgLabel(conn.statement_watch(), org);
  else return 0;
}
/// Whether an operation for org needs the org set in its transaction: org_context_needed(org)
/// where the connection can tell per org (a statement_timeout only some orgs have), else
/// org_context_enabled().
template <class Conn, org_id_type O>
bool org_context_needed(Conn& conn, const O& org) {
  if constexpr (requires {
                  { conn.org_context_needed(org) } -> std::convertible_to<bool>;
                })
    return conn.org_context_needed(org);
  else return conn.org_context_enabled();
}
}  // namespace detail

namespace detail {
/// in_org_context once the org's context is needed: in the caller's transaction, or in one of
/// its own. Out of line, so that the check before it inlines into every operation.
template <class Conn, org_id_type O, class F>
[[gnu::noinline]] auto in_org_transaction(Conn& conn, const O& org, F& f) {
  if (conn.in_transaction()) {
    conn.set_org_context(org);
    return f();
  }
  auto tx = conn.transaction();
  conn.set_org_context(org);
  if constexpr (std::is_void_v<decltype(f())>) {
    f();
    tx.commit();
    return;
  } else {
    auto result = f();
    tx.commit();
    return result;
  }
}
}  // namespace detail

template <class Conn, org_id_type O, class F>
[[gnu::always_inline]] inline auto in_org_context(Conn& conn, const O& org, F&& f) {
  [[maybe_unused]] const auto label = detail::label_org(conn, org);
  if constexpr (requires(Conn& c) {
                  { c.org_context_enabled() } -> std::convertible_to<bool>;
                  c.set_org_context(org);
                }) {
    if (detail::org_context_needed(conn, org)) return detail::in_org_transaction(conn, org, f);
  }
  return f();
}

/// Runs f() in the platform scope's database context (types.hpp, PlatformScope): like
/// in_org_context, on a connection that asks for it, in a transaction that first sets the platform
/// context (platform_setting on and org_setting empty for row-level security; the search path
/// `public` alone for schema per org, where platform rows live in shared tables).
template <class Conn, class F>
auto in_platform_context(Conn& conn, F&& f) {
  if constexpr (requires(Conn& c) {
                  { c.org_context_enabled() } -> std::convertible_to<bool>;
                  c.set_platform_context();
                }) {
    bool needed = conn.org_context_enabled();
    if constexpr (requires { conn.platform_context_needed(); }) needed = conn.platform_context_needed();
    if (needed) {
      if (conn.in_transaction()) {
        conn.set_platform_context();
        return f();
      }
      auto tx = conn.transaction();
      conn.set_platform_context();
      if constexpr (std::is_void_v<decltype(f())>) {
        f();
        tx.commit();
        return;
      } else {
        auto result = f();
        tx.commit();
        return result;
      }
    }
  }
  return f();
}

/// in_org_context for an operation that runs exactly one statement. Where the connection can
/// send the org's context with that statement (pg::Connection::org_statement_pipelined: row-level
/// security outside a transaction), both go in one round trip as one implicit transaction,
/// which scopes the setting to the statement as in_org_context's transaction would, instead of
/// four (BEGIN, set_config, the statement, COMMIT). Anywhere else it is in_org_context. A
/// second statement in f() is refused (UsageError), never run without the org. Pipelined for
/// UUID orgs (OrgId); a text or integer org takes in_org_context's transaction.
template <class Conn, org_id_type O, class F>
[[gnu::always_inline]] inline auto in_org_statement(Conn& conn, const O& org, F&& f) {
  // OrgId only: the connection's pipelined forms take an OrgId, and another org type would
  // otherwise pass this check through BasicOrgId's (refusing) converting constructor.
  if constexpr (std::is_same_v<O, OrgId> && requires(Conn& c) {
                  { c.org_statement_pipelined(org) } -> std::convertible_to<bool>;
                  c.pipeline_org(org);
                }) {
    if (!conn.in_transaction() && conn.org_statement_pipelined(org)) {
      [[maybe_unused]] const auto label = detail::label_org(conn, org);
      const auto pipelined = conn.pipeline_org(org);
      return f();
    }
  }
  return in_org_context(conn, org, std::forward<F>(f));
}

}  // namespace tenantry
