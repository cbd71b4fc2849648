// examples/service/service.hpp - the reference multi-tenant HTTP service's core: middleware,
// handlers, and the administration the CLI and the tests use. No HTTP library here: the server
// (http_server.hpp, Boost.Beast) hands each parsed request to Service::handle, so Beast is
// compiled in one translation unit only.
//
// Middleware, in this order, for every request (docs/service.md):
//   1. strip client-supplied identity headers (X-BodhiApp-*, X-Tenantry-*, X-Org-*, X-User-*):
//      identity is never taken from a header a client can send;
//   2. GET /health is answered here, for any Host: it checks every database the service uses;
//   3. resolve the org from the Host subdomain, <slug>.<org domain> (cached, invalidated when the
//      service changes an org; entries expire after Config::org_cache_ttl for changes made by
//      other processes): 404 for an unknown org, 403 for a suspended one;
//   4. bearer token -> SHA-256 digest -> the token row of THIS org -> user, role and scopes
//      (401 when missing, unknown, revoked; a token of another org is unknown here);
//   5. the route's role check (403), then the handler, which gets the resolved org and reaches the
//      data only through repositories that take it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace service {

struct Header {
  std::string name, value;
};

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // "/api/tokens?page=2"
  std::vector<Header> headers;
  std::string body;
  /// The first header of that name (case-insensitive), or "".
  std::string_view header(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string body;  // JSON (empty for 204)
  std::vector<Header> headers;
};

struct Config {
  /// sqlite:... or postgres://...; "" reads DATABASE_URL (and falls back to sqlite:tenantry-service.db).
  std::string database_url;
  /// Orgs are served at <slug>.<org_domain> (BODHI_ORG_DOMAIN).
  std::string org_domain = "localhost";
  /// Connections in the pool; 0 = DATABASE_POOL_SIZE, else 10.
  std::size_t pool_size = 0;
  /// How long an org looked up by slug is trusted (SERVICE_ORG_CACHE_TTL_MS).
  std::chrono::milliseconds org_cache_ttl{5000};
  /// Larger request bodies get 400 (SERVICE_MAX_BODY_BYTES).
  std::size_t max_body_bytes = 16 * 1024;
  /// The platform key's text form; "" = TENANTRY_PLATFORM_KEY / TENANTRY_PLATFORM_KEY_FILE.
  std::string platform_key;
  /// Create the schema (app tables + tenantry_org_keys) at start when the database has none.
  bool init_schema = false;

  /// DATABASE_URL, BODHI_ORG_DOMAIN, DATABASE_POOL_SIZE, SERVICE_ORG_CACHE_TTL_MS,
  /// SERVICE_MAX_BODY_BYTES.
  static Config from_environment();
};

/// Roles, lowest first; a token's role is the highest scope_token_<role> in its scopes.
enum class Role { user, power_user, manager, admin };
std::string_view role_name(Role r);
std::string_view role_scope(Role r);

struct OrgSummary {
  std::string id, slug, display_name, status;
};

struct IssuedToken {
  std::string id, token;  // the token text is returned once and stored only as its SHA-256 digest
};

struct RotationSummary {
  std::int64_t old_version = 0, new_version = 0;
  std::size_t resealed = 0;
};

class Service {
 public:
  explicit Service(Config config);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  /// Runs the middleware chain and the route. Thread-safe; never throws (errors become 4xx/5xx).
  Response handle(Request request) noexcept;

  const Config& config() const noexcept;

  // ---- administration (the CLI, the tests): not reachable over HTTP ---------------------------

  /// Creates the app's tables and tenantry_org_keys (IF NOT EXISTS).
  void init_schema();
  /// A new org with its own data key; its OAuth client secret stored sealed under that key.
  OrgSummary create_org(const std::string& slug, const std::string& display_name, const std::string& client_secret);
  /// A bearer token for `user_id` in the org, with `role`; also records the user's membership.
  IssuedToken issue_token(const std::string& slug, const std::string& user_id, Role role,
                          const std::string& name = "cli");
  /// active / suspended / deleted; drops the org from this process's cache at once.
  void set_org_status(const std::string& slug, const std::string& status);
  /// Re-seals the org's secrets (toolset keys, remote API keys, client secret) under a new key.
  RotationSummary rotate_org_key(const std::string& slug);
  /// The org's OAuth client secret, opened (for the CLI and the tests).
  std::string client_secret(const std::string& slug);
  /// Forgets a cached org (another process changed it).
  void invalidate_org(const std::string& slug);

  struct CacheStats {
    std::uint64_t hits = 0, misses = 0;
  };
  CacheStats org_cache_stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace service
