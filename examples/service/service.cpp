// examples/service/service.cpp - the service's middleware and handlers, on tenantry's public API
// (Pool, Repository, OrgKeys) and the reference app's entities and repositories. See service.hpp
// for the middleware order and docs/service.md for the endpoints.
#include "service/service.hpp"

#include "app/entities.hpp"
#include "app/repositories.hpp"
#include "app/schema.hpp"

#include <tenantry/encrypted.hpp>
#include <tenantry/pool.hpp>
#include <tenantry/tenantry.hpp>

#include <boost/json.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace service {

namespace json = boost::json;
using tenantry::OrgId;
using tenantry::Timestamp;
using tenantry::Uuid;
using D = tenantry::AnyDialect;
using Db = tenantry::Database;

// ---- small helpers --------------------------------------------------------------------------

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

std::string env_or(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return (v != nullptr && *v != '\0') ? std::string(v) : std::move(fallback);
}

std::size_t env_size(const char* name, std::size_t fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  std::size_t n = 0;
  const auto [p, ec] = std::from_chars(v, v + std::char_traits<char>::length(v), n);
  if (ec != std::errc() || *p != '\0')
    throw std::runtime_error(std::string(name) + "='" + v + "' is not a whole number");
  return n;
}

std::string sha256_hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &len, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256 failed");
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

/// "bodhiapp_" + 43 characters of base64url (32 random bytes).
std::string new_token_text() {
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1) throw std::runtime_error("RAND_bytes failed");
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out = "bodhiapp_";
  unsigned acc = 0;
  int bits = 0;
  for (unsigned char b : raw) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      out += alphabet[(acc >> (bits - 6)) & 63];
      bits -= 6;
    }
  }
  if (bits > 0) out += alphabet[(acc << (6 - bits)) & 63];
  OPENSSL_cleanse(raw, sizeof raw);
  return out;
}

constexpr std::string_view token_scheme = "bodhiapp_";
constexpr std::size_t token_prefix_length = 17;  // "bodhiapp_" + 8: the lookup key, stored in clear

/// An error the middleware or a handler answers with.
struct HttpError {
  int status;
  std::string code, message;
};

[[noreturn]] void fail(int status, std::string code, std::string message) {
  throw HttpError{status, std::move(code), std::move(message)};
}

Response json_response(int status, const json::value& v) {
  return Response{status, json::serialize(v), {}};
}

Response error_response(int status, std::string_view code, std::string_view message) {
  return json_response(status, json::object{{"error", json::object{{"code", code}, {"message", message}}}});
}

std::string org_status_text(app::OrgStatus s) { return std::string(tenantry::enum_to_text(s)); }

}  // namespace

std::string_view Request::header(std::string_view name) const {
  for (const Header& h : headers)
    if (iequals(h.name, name)) return h.value;
  return {};
}

std::string_view role_name(Role r) {
  switch (r) {
    case Role::user: return "user";
    case Role::power_user: return "power_user";
    case Role::manager: return "manager";
    case Role::admin: return "admin";
  }
  return "user";
}

std::string_view role_scope(Role r) {
  switch (r) {
    case Role::user: return "scope_token_user";
    case Role::power_user: return "scope_token_power_user";
    case Role::manager: return "scope_token_manager";
    case Role::admin: return "scope_token_admin";
  }
  return "scope_token_user";
}

namespace {

std::optional<Role> role_from_scope(std::string_view scope) {
  for (Role r : {Role::user, Role::power_user, Role::manager, Role::admin})
    if (scope == role_scope(r)) return r;
  return std::nullopt;
}

/// The highest role among space-separated scopes.
std::optional<Role> role_from_scopes(std::string_view scopes) {
  std::optional<Role> best;
  while (!scopes.empty()) {
    const auto sp = scopes.find(' ');
    const auto one = scopes.substr(0, sp);
    if (auto r = role_from_scope(one); r && (!best || *r > *best)) best = r;
    scopes = sp == std::string_view::npos ? std::string_view{} : scopes.substr(sp + 1);
  }
  return best;
}

// ---- request bodies -------------------------------------------------------------------------

/// A JSON object body whose every field is one of `allowed`; 400 otherwise.
json::object parse_body(const Request& req, std::size_t max_bytes, const std::vector<std::string_view>& allowed) {
  if (req.body.size() > max_bytes)
    fail(400, "body_too_large", "request body of " + std::to_string(req.body.size()) + " bytes exceeds the limit of " +
                                    std::to_string(max_bytes) + " bytes");
  if (const auto ct = req.header("content-type"); !ct.empty() && lower(ct).find("application/json") != 0)
    fail(400, "bad_content_type", "expected Content-Type: application/json");
  json::error_code ec;
  json::parse_options opt;
  opt.max_depth = 16;
  json::value v = json::parse(req.body, ec, {}, opt);
  if (ec) fail(400, "bad_json", "request body is not valid JSON: " + ec.message());
  if (!v.is_object()) fail(400, "bad_json", "request body must be a JSON object");
  json::object obj = std::move(v.as_object());
  for (const auto& kv : obj) {
    const std::string_view key(kv.key().data(), kv.key().size());
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      fail(400, "unknown_field", "unknown field '" + std::string(key.substr(0, 64)) + "' (allowed: " + list + ")");
    }
  }
  return obj;
}

std::optional<std::string> opt_string(const json::object& o, std::string_view key, std::size_t max_len,
                                      bool allow_empty = false) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) fail(400, "bad_field", "field '" + std::string(key) + "' must be a string");
  const auto& s = v->as_string();
  if (s.size() > max_len)
    fail(400, "bad_field", "field '" + std::string(key) + "' is longer than " + std::to_string(max_len) + " characters");
  if (s.empty() && !allow_empty) fail(400, "bad_field", "field '" + std::string(key) + "' must not be empty");
  return std::string(s.data(), s.size());
}

std::string req_string(const json::object& o, std::string_view key, std::size_t max_len) {
  auto s = opt_string(o, key, max_len);
  if (!s) fail(400, "missing_field", "field '" + std::string(key) + "' is required");
  return *s;
}

std::optional<bool> opt_bool(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_bool()) fail(400, "bad_field", "field '" + std::string(key) + "' must be true or false");
  return v->as_bool();
}

/// A JSON object or array field, as text for a tenantry::Json column.
std::optional<tenantry::Json> opt_json(const json::object& o, std::string_view key, bool want_object) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (want_object ? !v->is_object() : !v->is_array())
    fail(400, "bad_field", "field '" + std::string(key) + "' must be a JSON " + (want_object ? "object" : "array"));
  return tenantry::Json{json::serialize(*v)};
}

json::value json_text(const tenantry::Json& j) {
  json::error_code ec;
  json::value v = json::parse(j.text, ec);
  return ec ? json::value(nullptr) : v;
}

/// Accepts the slug shape of a DNS label: [a-z0-9-], 1..63, not starting or ending with '-'.
bool valid_slug(std::string_view s) {
  if (s.empty() || s.size() > 63 || s.front() == '-' || s.back() == '-') return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return true;
}

// ---- paths and queries ----------------------------------------------------------------------

struct Target {
  std::vector<std::string> segments;  // "/api/tokens/abc" -> {"api", "tokens", "abc"}
  std::map<std::string, std::string> query;
  std::string path;
};

Target parse_target(std::string_view target) {
  Target t;
  const auto q = target.find('?');
  t.path = std::string(target.substr(0, q));
  std::string_view rest = t.path;
  while (!rest.empty()) {
    if (rest.front() == '/') {
      rest.remove_prefix(1);
      continue;
    }
    const auto slash = rest.find('/');
    t.segments.emplace_back(rest.substr(0, slash));
    rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
  }
  if (q != std::string_view::npos) {
    std::string_view qs = target.substr(q + 1);
    while (!qs.empty()) {
      const auto amp = qs.find('&');
      const auto pair = qs.substr(0, amp);
      const auto eq = pair.find('=');
      t.query.emplace(std::string(pair.substr(0, eq)), eq == std::string_view::npos ? "" : std::string(pair.substr(eq + 1)));
      qs = amp == std::string_view::npos ? std::string_view{} : qs.substr(amp + 1);
    }
  }
  return t;
}

std::int64_t query_int(const Target& t, const std::string& key, std::int64_t fallback, std::int64_t lo, std::int64_t hi) {
  const auto it = t.query.find(key);
  if (it == t.query.end()) return fallback;
  std::int64_t n = 0;
  const auto [p, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), n);
  if (ec != std::errc() || p != it->second.data() + it->second.size() || n < lo || n > hi)
    fail(400, "bad_query", "query parameter '" + key + "' must be a whole number from " + std::to_string(lo) + " to " +
                               std::to_string(hi));
  return n;
}

Uuid path_id(const std::string& segment) {
  if (auto u = Uuid::try_parse(segment)) return *u;
  fail(404, "not_found", "no such resource");
}

// ---- the identity headers a client must never be able to set --------------------------------

bool is_identity_header(std::string_view name) {
  const std::string n = lower(name);
  for (std::string_view prefix : {"x-bodhiapp-", "x-tenantry-", "x-org-", "x-user-", "x-forwarded-user"})
    if (n.starts_with(prefix)) return true;
  return n == "x-role" || n == "x-scope" || n == "x-scopes";
}

}  // namespace

// ---- the service ------------------------------------------------------------------------------

Config Config::from_environment() {
  Config c;
  c.database_url = env_or("DATABASE_URL", "");
  c.org_domain = lower(env_or("BODHI_ORG_DOMAIN", c.org_domain));
  c.pool_size = env_size("DATABASE_POOL_SIZE", 0);
  c.org_cache_ttl = std::chrono::milliseconds(env_size("SERVICE_ORG_CACHE_TTL_MS", 5000));
  c.max_body_bytes = env_size("SERVICE_MAX_BODY_BYTES", c.max_body_bytes);
  return c;
}

namespace {

/// What the middleware resolved for the request: the org and the caller.
struct OrgContext {
  OrgId id;
  std::string slug, display_name;
  app::OrgStatus status = app::OrgStatus::active;
};

struct Caller {
  std::string user_id;
  Role role = Role::user;
  std::string scopes;
  Uuid token_id;
};

/// Orgs by slug, with expiry; unknown slugs are cached too (so random subdomains cost one query
/// per TTL, not one per request).
class OrgCache {
 public:
  explicit OrgCache(std::chrono::milliseconds ttl) : ttl_(ttl) {}

  template <class Load>
  std::optional<OrgContext> get(const std::string& slug, Load&& load) {
    const auto now = clock::now();
    {
      std::lock_guard lock(mutex_);
      if (auto it = entries_.find(slug); it != entries_.end() && now - it->second.fetched < ttl_) {
        ++hits_;
        return it->second.org;
      }
    }
    ++misses_;
    std::optional<OrgContext> org = load();
    std::lock_guard lock(mutex_);
    if (entries_.size() > 10000) entries_.clear();  // bounded: a flood of random subdomains
    entries_[slug] = Entry{org, now};
    return org;
  }
  void invalidate(const std::string& slug) {
    std::lock_guard lock(mutex_);
    entries_.erase(slug);
  }
  Service::CacheStats stats() const { return {hits_.load(), misses_.load()}; }

 private:
  using clock = std::chrono::steady_clock;
  struct Entry {
    std::optional<OrgContext> org;
    clock::time_point fetched;
  };
  std::chrono::milliseconds ttl_;
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
  std::atomic<std::uint64_t> hits_{0}, misses_{0};
};

constexpr auto toolset_key = tenantry::secret<&app::Toolset::encrypted_api_key>;
constexpr auto remote_api_key = tenantry::secret<&app::ApiModelAlias::encrypted_api_key>;
constexpr auto client_secret_column = tenantry::org_row_secret<&app::Organization::client_secret, &app::Organization::id>;

tenantry::PlatformKey load_platform_key(const Config& c) {
  return c.platform_key.empty() ? tenantry::PlatformKey::from_environment()
                                : tenantry::PlatformKey::from_text(c.platform_key);
}

std::string resolve_url(const Config& c) {
  if (!c.database_url.empty()) return c.database_url;
  return env_or("DATABASE_URL", "sqlite:tenantry-service.db");
}

tenantry::PoolOptions<Db> pool_options(const Config& c) {
  tenantry::PoolOptions<Db> o;
  o.size = c.pool_size;
  o.acquire_timeout = std::chrono::milliseconds(5000);
  o.connect.sqlite.busy_timeout_ms = 10000;
  return o;
}

}  // namespace

struct Service::Impl {
  Config config;
  std::string url;
  tenantry::Pool<Db> pool;
  tenantry::OrgKeys keys;
  OrgCache orgs;

  explicit Impl(Config c)
      : config(std::move(c)),
        url(resolve_url(config)),
        pool(url, pool_options(config)),
        keys(load_platform_key(config)),
        orgs(config.org_cache_ttl) {
    if (config.init_schema) init_schema();
  }

  void init_schema() {
    auto db = pool.acquire();
    tenantry::DdlOptions opt;
    opt.if_not_exists = true;
    app::create_app_schema(*db, opt);
    tenantry::create_tables<tenantry::OrgKeyRecord>(*db, opt);
  }

  // ---- middleware ---------------------------------------------------------------------------

  /// The org slug of a Host header, or a 404 saying why there is none.
  std::string slug_of_host(std::string_view host) const {
    std::string h = lower(host);
    if (h.empty()) fail(404, "org_not_found", "no Host header: orgs are served at <org>." + config.org_domain);
    if (h.front() == '[') fail(404, "org_not_found", "no org in an IP address host");
    if (const auto colon = h.rfind(':'); colon != std::string::npos) h.resize(colon);
    if (!h.empty() && h.back() == '.') h.pop_back();
    const std::string suffix = "." + config.org_domain;
    if (h.size() <= suffix.size() || !h.ends_with(suffix))
      fail(404, "org_not_found", "host '" + h.substr(0, 80) + "' names no org: orgs are served at <org>." + config.org_domain);
    std::string slug = h.substr(0, h.size() - suffix.size());
    if (!valid_slug(slug)) fail(404, "org_not_found", "no org '" + slug.substr(0, 64) + "'");
    return slug;
  }

  OrgContext resolve_org(Db& db, const std::string& slug) {
    auto org = orgs.get(slug, [&]() -> std::optional<OrgContext> {
      auto row = app::OrgRepository<D>(db).get_org_by_slug(slug);
      if (!row) return std::nullopt;
      return OrgContext{OrgId{row->id}, row->slug, row->display_name, row->status};
    });
    if (!org || org->status == app::OrgStatus::deleted) fail(404, "org_not_found", "no org '" + slug + "'");
    if (org->status == app::OrgStatus::suspended) fail(403, "org_suspended", "org '" + slug + "' is suspended");
    return *org;
  }

  Caller authenticate(Db& db, const OrgContext& org, const Request& req) {
    const std::string_view auth = req.header("authorization");
    if (auth.empty()) fail(401, "unauthorized", "missing Authorization: Bearer <token>");
    if (auth.size() < 7 || !iequals(auth.substr(0, 7), "bearer "))
      fail(401, "unauthorized", "the Authorization header must be 'Bearer <token>'");
    std::string_view token = auth.substr(7);
    while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
    while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
    if (token.size() < token_prefix_length + 8 || token.size() > 200 || !token.starts_with(token_scheme))
      fail(401, "unauthorized", "invalid token");
    // The prefix finds the row in THIS org only; a token of another org has no row here.
    auto row = app::TokenRepository<D>(db).get_api_token_by_prefix(org.id, token.substr(0, token_prefix_length));
    const std::string digest = sha256_hex(token);
    if (!row || row->token_hash.size() != digest.size() ||
        CRYPTO_memcmp(row->token_hash.data(), digest.data(), digest.size()) != 0)
      fail(401, "unauthorized", "invalid token");
    if (row->status != app::TokenStatus::active) fail(401, "unauthorized", "token is revoked");
    const auto role = role_from_scopes(row->scopes);
    if (!role) fail(403, "forbidden", "the token has no role scope");
    return Caller{row->user_id, *role, row->scopes, row->id};
  }

  Response handle(Request& req) {
    // 1. Identity comes from the token alone: whatever a client sends as identity is dropped.
    std::erase_if(req.headers, [](const Header& h) { return is_identity_header(h.name); });
    const Target target = parse_target(req.target);
    // 2. Health, for any host (the proxy's checks use the bare address).
    if (target.segments.size() == 1 && target.segments[0] == "health") {
      if (req.method != "GET") fail(405, "method_not_allowed", "use GET /health");
      return health();
    }
    // 3. The org, from the Host subdomain.
    const std::string slug = slug_of_host(req.header("host"));
    auto lease = pool.acquire();
    Db& db = *lease;
    const OrgContext org = resolve_org(db, slug);
    // 4. The caller, from the bearer token, within that org.
    const Caller caller = authenticate(db, org, req);
    // 5. The route.
    return route(db, org, caller, req, target);
  }

  // ---- routes -------------------------------------------------------------------------------

  struct Ctx {
    Db& db;
    const OrgContext& org;
    const Caller& caller;
    const Request& req;
    const Target& target;
  };

  void require_role(const Ctx& c, Role min) const {
    if (c.caller.role < min)
      fail(403, "forbidden",
           "this needs the role " + std::string(role_name(min)) + " (the token has " + std::string(role_name(c.caller.role)) + ")");
  }

  Response route(Db& db, const OrgContext& org, const Caller& caller, const Request& req, const Target& t) {
    const Ctx c{db, org, caller, req, t};
    const auto& s = t.segments;
    const std::string& m = req.method;
    const auto method_not_allowed = [&]() -> Response { fail(405, "method_not_allowed", m + " is not allowed on " + t.path); };
    if (s.size() >= 2 && s[0] == "api") {
      if (s[1] == "orgs" && s.size() == 3) {
        if (s[2] == "current") return m == "GET" ? current_org(c) : method_not_allowed();
        if (s[2] == "user-memberships") return m == "GET" ? memberships(c) : method_not_allowed();
      }
      if (s[1] == "tokens") {
        if (s.size() == 2) return m == "GET" ? list_tokens(c) : m == "POST" ? create_token(c) : method_not_allowed();
        if (s.size() == 3) return m == "DELETE" ? revoke_token(c, path_id(s[2])) : method_not_allowed();
      }
      if (s[1] == "aliases") {
        if (s.size() == 2) return m == "GET" ? list_aliases(c) : m == "POST" ? create_alias(c) : method_not_allowed();
        if (s.size() == 3) {
          const Uuid id = path_id(s[2]);
          if (m == "GET") return get_alias(c, id);
          if (m == "PUT") return update_alias(c, id);
          if (m == "DELETE") return delete_alias(c, id);
          return method_not_allowed();
        }
      }
      if (s[1] == "toolsets") {
        if (s.size() == 2) return m == "GET" ? list_toolsets(c) : m == "POST" ? create_toolset(c) : method_not_allowed();
        if (s.size() == 3) {
          const Uuid id = path_id(s[2]);
          if (m == "GET") return get_toolset(c, id);
          if (m == "PUT") return update_toolset(c, id);
          if (m == "DELETE") return delete_toolset(c, id);
          return method_not_allowed();
        }
      }
    }
    fail(404, "not_found", "no route " + m + " " + t.path.substr(0, 100));
  }

  // ---- health -------------------------------------------------------------------------------

  Response health() {
    json::array dbs;
    bool ok = true;
    const auto start = std::chrono::steady_clock::now();
    json::object main{{"name", "main"}};
    try {
      auto lease = pool.acquire(std::chrono::milliseconds(2000));
      main["backend"] = lease->is_postgres() ? "postgres" : "sqlite";
      lease->execute("SELECT 1");
      // The tables the service needs are there (a fresh database without the schema is unhealthy).
      (void)tenantry::Repository<tenantry::OrgKeyRecord>(*lease).count(OrgId{Uuid::random()});
      (void)app::OrgRepository<D>(*lease).get_org_by_slug("health-check");
      main["ok"] = true;
    } catch (const std::exception& e) {
      ok = false;
      main["ok"] = false;
      main["error"] = e.what();
    }
    main["latency_ms"] =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    dbs.push_back(std::move(main));
    return json_response(ok ? 200 : 503,
                         json::object{{"status", ok ? "ok" : "unavailable"}, {"databases", std::move(dbs)},
                                      {"platform_key", keys.platform().fingerprint()}});
  }

  // ---- orgs ---------------------------------------------------------------------------------

  static json::object org_json(const OrgContext& o) {
    return {{"id", o.id.to_string()}, {"slug", o.slug}, {"display_name", o.display_name},
            {"status", org_status_text(o.status)}};
  }

  Response current_org(const Ctx& c) {
    json::object o = org_json(c.org);
    o["user_id"] = c.caller.user_id;
    o["role"] = role_name(c.caller.role);
    return json_response(200, o);
  }

  /// The orgs where the caller's user has an approved membership (an approved access request).
  /// Each org is asked with its own id: the query is org-scoped like every other.
  Response memberships(const Ctx& c) {
    json::array out;
    tenantry::Repository<app::UserAccessRequest> access(c.db);
    for (const app::Organization& o : app::OrgRepository<D>(c.db).list_orgs()) {
      if (o.status == app::OrgStatus::deleted) continue;
      const OrgId id{o.id};
      if (!access.exists(id, tenantry::col(&app::UserAccessRequest::user_id) == c.caller.user_id &&
                                 tenantry::col(&app::UserAccessRequest::status) == app::AccessRequestStatus::approved))
        continue;
      out.push_back(json::object{{"org_id", o.id.to_string()}, {"slug", o.slug}, {"display_name", o.display_name},
                                 {"status", org_status_text(o.status)}, {"current", id == c.org.id}});
    }
    return json_response(200, json::object{{"user_id", c.caller.user_id}, {"memberships", std::move(out)}});
  }

  // ---- tokens -------------------------------------------------------------------------------

  static json::object token_json(const app::ApiToken& t) {
    return {{"id", t.id.to_string()},
            {"org_id", t.org_id.to_string()},
            {"user_id", t.user_id},
            {"name", t.name},
            {"token_prefix", t.token_prefix},
            {"scopes", t.scopes},
            {"status", std::string(tenantry::enum_to_text(t.status))},
            {"created_at", t.created_at.to_iso()},
            {"updated_at", t.updated_at.to_iso()}};
  }

  Response list_tokens(const Ctx& c) {
    const auto page = app::TokenRepository<D>(c.db).list_api_tokens(c.org.id, c.caller.user_id,
                                                                    query_int(c.target, "page", 1, 1, 1000000),
                                                                    query_int(c.target, "page_size", 30, 1, 100));
    json::array data;
    for (const auto& t : page.items) data.push_back(token_json(t));
    return json_response(200, json::object{{"data", std::move(data)}, {"total", page.total}, {"page", page.page},
                                           {"page_size", page.per_page}});
  }

  Response create_token(const Ctx& c) {
    const json::object body = parse_body(c.req, config.max_body_bytes, {"name", "scope"});
    const std::string name = req_string(body, "name", 100);
    const std::string scope = opt_string(body, "scope", 64).value_or(std::string(role_scope(Role::user)));
    const auto role = role_from_scope(scope);
    if (!role)
      fail(400, "bad_field", "field 'scope' must be one of scope_token_user, scope_token_power_user, "
                             "scope_token_manager, scope_token_admin");
    if (*role > c.caller.role)
      fail(403, "forbidden", "a token cannot grant more than its creator's role (" +
                                 std::string(role_name(c.caller.role)) + ")");
    auto [row, text] = insert_token(c.db, c.org.id, c.caller.user_id, name, *role);
    json::object out = token_json(row);
    out["token"] = text;  // the only time the token is ever shown
    return json_response(201, out);
  }

  static std::pair<app::ApiToken, std::string> insert_token(Db& db, OrgId org, const std::string& user_id,
                                                            const std::string& name, Role role) {
    const std::string text = new_token_text();
    app::ApiToken row{.user_id = user_id,
                      .name = name,
                      .token_prefix = text.substr(0, token_prefix_length),
                      .token_hash = sha256_hex(text),
                      .scopes = std::string(role_scope(role))};
    app::TokenRepository<D>(db).create_api_token(org, row);
    return {row, text};
  }

  Response revoke_token(const Ctx& c, const Uuid& id) {
    app::TokenRepository<D> tokens(c.db);
    auto row = tokens.get_api_token_by_id(c.org.id, c.caller.user_id, id);
    if (!row) fail(404, "not_found", "no such token");
    row->status = app::TokenStatus::inactive;
    tokens.update_api_token(c.org.id, c.caller.user_id, *row);
    return json_response(200, token_json(*tokens.get_api_token_by_id(c.org.id, c.caller.user_id, id)));
  }

  // ---- user aliases (org-wide) ----------------------------------------------------------------

  static json::object alias_json(const app::UserAlias& a) {
    return {{"id", a.id.to_string()},
            {"org_id", a.org_id.to_string()},
            {"alias", a.alias},
            {"repo", a.repo},
            {"filename", a.filename},
            {"snapshot", a.snapshot},
            {"request_params", json_text(a.request_params)},
            {"context_params", json_text(a.context_params)},
            {"created_at", a.created_at.to_iso()},
            {"updated_at", a.updated_at.to_iso()}};
  }

  Response list_aliases(const Ctx& c) {
    const std::int64_t page = query_int(c.target, "page", 1, 1, 1000000);
    const std::int64_t size = query_int(c.target, "page_size", 30, 1, 100);
    tenantry::Repository<app::UserAlias> aliases(c.db);
    json::array data;
    for (const auto& a : aliases.list(c.org.id, tenantry::order_by(&app::UserAlias::alias), tenantry::limit(size),
                                      tenantry::offset((page - 1) * size)))
      data.push_back(alias_json(a));
    return json_response(200, json::object{{"data", std::move(data)}, {"total", aliases.count(c.org.id)},
                                           {"page", page}, {"page_size", size}});
  }

  Response get_alias(const Ctx& c, const Uuid& id) {
    auto a = app::UserAliasRepository<D>(c.db).get_user_alias_by_id(c.org.id, id);
    if (!a) fail(404, "not_found", "no such alias");
    return json_response(200, alias_json(*a));
  }

  inline static const std::vector<std::string_view> alias_fields = {"alias", "repo", "filename", "snapshot",
                                                                    "request_params", "context_params"};

  Response create_alias(const Ctx& c) {
    require_role(c, Role::power_user);
    const json::object body = parse_body(c.req, config.max_body_bytes, alias_fields);
    app::UserAlias a{.alias = req_string(body, "alias", 200),
                     .repo = req_string(body, "repo", 500),
                     .filename = req_string(body, "filename", 500),
                     .snapshot = opt_string(body, "snapshot", 200, true).value_or("main"),
                     .request_params = opt_json(body, "request_params", true).value_or(tenantry::Json{"{}"}),
                     .context_params = opt_json(body, "context_params", false).value_or(tenantry::Json{"[]"})};
    a.id = Uuid::time_ordered();
    a.created_at = a.updated_at = Timestamp::now();
    try {
      tenantry::Repository<app::UserAlias>(c.db).insert(c.org.id, a);
    } catch (const tenantry::UniqueViolation&) {
      fail(409, "conflict", "the org already has an alias '" + a.alias.substr(0, 100) + "'");
    }
    return json_response(201, alias_json(a));
  }

  Response update_alias(const Ctx& c, const Uuid& id) {
    require_role(c, Role::power_user);
    const json::object body = parse_body(c.req, config.max_body_bytes, alias_fields);
    app::UserAliasRepository<D> repo(c.db);
    auto a = repo.get_user_alias_by_id(c.org.id, id);
    if (!a) fail(404, "not_found", "no such alias");
    if (auto v = opt_string(body, "alias", 200)) a->alias = *v;
    if (auto v = opt_string(body, "repo", 500)) a->repo = *v;
    if (auto v = opt_string(body, "filename", 500)) a->filename = *v;
    if (auto v = opt_string(body, "snapshot", 200, true)) a->snapshot = *v;
    if (auto v = opt_json(body, "request_params", true)) a->request_params = *v;
    if (auto v = opt_json(body, "context_params", false)) a->context_params = *v;
    a->updated_at = Timestamp::now();
    try {
      if (!tenantry::Repository<app::UserAlias>(c.db).update(c.org.id, *a)) fail(404, "not_found", "no such alias");
    } catch (const tenantry::UniqueViolation&) {
      fail(409, "conflict", "the org already has an alias '" + a->alias.substr(0, 100) + "'");
    }
    return json_response(200, alias_json(*a));
  }

  Response delete_alias(const Ctx& c, const Uuid& id) {
    require_role(c, Role::power_user);
    if (!app::UserAliasRepository<D>(c.db).delete_user_alias(c.org.id, id)) fail(404, "not_found", "no such alias");
    return Response{204, "", {}};
  }

  // ---- toolsets (the caller's own; API keys sealed under the org's key) ------------------------

  json::object toolset_json(const Ctx& c, const app::Toolset& t) {
    json::object o{{"id", t.id.to_string()},
                   {"org_id", t.org_id.to_string()},
                   {"user_id", t.user_id},
                   {"toolset_type", t.toolset_type},
                   {"slug", t.slug},
                   {"enabled", t.enabled},
                   {"has_api_key", t.encrypted_api_key.has_value()},
                   {"created_at", t.created_at.to_iso()},
                   {"updated_at", t.updated_at.to_iso()}};
    o["description"] = t.description ? json::value(*t.description) : json::value(nullptr);
    if (t.encrypted_api_key) {
      // The key is opened to show its last four characters, never returned whole.
      std::string key = keys.open(c.db, c.org.id, toolset_key, *t.encrypted_api_key);
      o["api_key_masked"] = key.size() >= 8 ? "****" + key.substr(key.size() - 4) : std::string("****");
      OPENSSL_cleanse(key.data(), key.size());
    } else {
      o["api_key_masked"] = nullptr;
    }
    return o;
  }

  Response list_toolsets(const Ctx& c) {
    json::array data;
    for (const auto& t : app::ToolsetRepository<D>(c.db).list_toolsets(c.org.id, c.caller.user_id))
      data.push_back(toolset_json(c, t));
    return json_response(200, json::object{{"data", std::move(data)}});
  }

  std::optional<app::Toolset> own_toolset(const Ctx& c, const Uuid& id) {
    auto t = app::ToolsetRepository<D>(c.db).get_toolset(c.org.id, id);
    if (!t || t->user_id != c.caller.user_id) return std::nullopt;
    return t;
  }

  Response get_toolset(const Ctx& c, const Uuid& id) {
    auto t = own_toolset(c, id);
    if (!t) fail(404, "not_found", "no such toolset");
    return json_response(200, toolset_json(c, *t));
  }

  std::optional<std::string> sealed_api_key(const Ctx& c, const json::object& body, bool& present) {
    const json::value* v = body.if_contains("api_key");
    present = v != nullptr;
    if (v == nullptr || v->is_null()) return std::nullopt;
    auto plain = opt_string(body, "api_key", 1000);
    return keys.seal(c.db, c.org.id, toolset_key, *plain);
  }

  Response create_toolset(const Ctx& c) {
    const json::object body =
        parse_body(c.req, config.max_body_bytes, {"toolset_type", "slug", "description", "enabled", "api_key"});
    app::Toolset t{.user_id = c.caller.user_id,
                   .toolset_type = req_string(body, "toolset_type", 100),
                   .slug = req_string(body, "slug", 100),
                   .description = opt_string(body, "description", 1000, true),
                   .enabled = opt_bool(body, "enabled").value_or(true)};
    if (!valid_slug(t.slug)) fail(400, "bad_field", "field 'slug' must be lowercase letters, digits and '-'");
    bool present = false;
    t.encrypted_api_key = sealed_api_key(c, body, present);
    try {
      app::ToolsetRepository<D>(c.db).create_toolset(c.org.id, t);
    } catch (const tenantry::UniqueViolation&) {
      fail(409, "conflict", "you already have a toolset '" + t.slug + "'");
    }
    return json_response(201, toolset_json(c, t));
  }

  Response update_toolset(const Ctx& c, const Uuid& id) {
    const json::object body = parse_body(c.req, config.max_body_bytes, {"slug", "description", "enabled", "api_key"});
    auto t = own_toolset(c, id);
    if (!t) fail(404, "not_found", "no such toolset");
    if (auto v = opt_string(body, "slug", 100)) {
      if (!valid_slug(*v)) fail(400, "bad_field", "field 'slug' must be lowercase letters, digits and '-'");
      t->slug = *v;
    }
    if (body.if_contains("description")) {
      if (body.at("description").is_null()) t->description.reset();
      else t->description = opt_string(body, "description", 1000, true);
    }
    if (auto v = opt_bool(body, "enabled")) t->enabled = *v;
    bool present = false;
    auto sealed = sealed_api_key(c, body, present);
    if (present) t->encrypted_api_key = std::move(sealed);
    try {
      if (!app::ToolsetRepository<D>(c.db).update_toolset(c.org.id, *t)) fail(404, "not_found", "no such toolset");
    } catch (const tenantry::UniqueViolation&) {
      fail(409, "conflict", "you already have a toolset '" + t->slug + "'");
    }
    return json_response(200, toolset_json(c, *t));
  }

  Response delete_toolset(const Ctx& c, const Uuid& id) {
    if (!own_toolset(c, id) || !app::ToolsetRepository<D>(c.db).delete_toolset(c.org.id, id))
      fail(404, "not_found", "no such toolset");
    return Response{204, "", {}};
  }

  // ---- administration -----------------------------------------------------------------------

  app::Organization org_row(Db& db, const std::string& slug) {
    auto row = app::OrgRepository<D>(db).get_org_by_slug(slug);
    if (!row) throw std::runtime_error("no org '" + slug + "'");
    return *row;
  }
};

// ---- Service ----------------------------------------------------------------------------------

Service::Service(Config config) : impl_(std::make_unique<Impl>(std::move(config))) {}
Service::~Service() = default;

const Config& Service::config() const noexcept { return impl_->config; }

Response Service::handle(Request request) noexcept {
  try {
    try {
      return impl_->handle(request);
    } catch (const HttpError& e) {
      Response r = error_response(e.status, e.code, e.message);
      if (e.status == 401) r.headers.push_back({"WWW-Authenticate", "Bearer"});
      return r;
    } catch (const tenantry::PoolTimeout&) {
      return error_response(503, "unavailable", "the service is overloaded; try again");
    } catch (const tenantry::ConnectionError&) {
      return error_response(503, "unavailable", "the database is unreachable; try again");
    } catch (const tenantry::BusyError&) {
      return error_response(503, "unavailable", "the database is busy; try again");
    } catch (const tenantry::EncryptionError& e) {
      std::fprintf(stderr, "tenantry-service: encryption error: %s\n", e.what());
      return error_response(500, "internal", "a stored secret could not be opened");
    } catch (const std::exception& e) {
      std::fprintf(stderr, "tenantry-service: %s %s: %s\n", request.method.c_str(), request.target.c_str(), e.what());
      return error_response(500, "internal", "internal error");
    }
  } catch (...) {
    return Response{500, R"({"error":{"code":"internal","message":"internal error"}})", {}};
  }
}

void Service::init_schema() { impl_->init_schema(); }

OrgSummary Service::create_org(const std::string& slug, const std::string& display_name,
                               const std::string& client_secret) {
  if (!valid_slug(slug)) throw std::runtime_error("'" + slug + "' is not a valid org slug ([a-z0-9-], 1-63)");
  auto lease = impl_->pool.acquire();
  Db& db = *lease;
  auto tx = db.transaction();  // the org, its key and its sealed secret: all or none
  app::Organization o{.slug = slug, .display_name = display_name, .kc_client_id = "kc-" + slug,
                      .client_secret = "", .encryption_key = std::string(tenantry::entity<tenantry::OrgKeyRecord>::table)};
  app::OrgRepository<D>(db).create_org(o);
  const OrgId org{o.id};
  impl_->keys.provision(db, org);
  tenantry::Repository<app::Organization>(db).set(o.id, &app::Organization::client_secret,
                                                  impl_->keys.seal(db, org, client_secret_column, client_secret));
  tx.commit();
  impl_->orgs.invalidate(slug);
  return {o.id.to_string(), o.slug, o.display_name, org_status_text(o.status)};
}

IssuedToken Service::issue_token(const std::string& slug, const std::string& user_id, Role role,
                                 const std::string& name) {
  auto lease = impl_->pool.acquire();
  Db& db = *lease;
  const OrgId org{impl_->org_row(db, slug).id};
  auto tx = db.transaction();
  auto [row, text] = Impl::insert_token(db, org, user_id, name, role);
  tenantry::Repository<app::UserAccessRequest> access(db);
  if (!access.exists(org, tenantry::col(&app::UserAccessRequest::user_id) == user_id &&
                              tenantry::col(&app::UserAccessRequest::status) == app::AccessRequestStatus::approved)) {
    app::UserAccessRequest r{.id = Uuid::time_ordered(), .username = user_id + "@example.com", .user_id = user_id,
                             .status = app::AccessRequestStatus::approved, .reviewer = std::string("cli")};
    r.created_at = r.updated_at = Timestamp::now();
    access.insert(org, r);
  }
  tx.commit();
  return {row.id.to_string(), text};
}

void Service::set_org_status(const std::string& slug, const std::string& status) {
  const auto s = tenantry::enum_from_text<app::OrgStatus>(status);
  if (!s) throw std::runtime_error("status must be active, suspended or deleted");
  auto lease = impl_->pool.acquire();
  app::OrgRepository<D>(*lease).update_org_status(impl_->org_row(*lease, slug).id, *s);
  impl_->orgs.invalidate(slug);
}

RotationSummary Service::rotate_org_key(const std::string& slug) {
  auto lease = impl_->pool.acquire();
  const OrgId org{impl_->org_row(*lease, slug).id};
  const auto r = impl_->keys.rotate(*lease, org, toolset_key, remote_api_key, client_secret_column);
  return {r.old_version, r.new_version, r.resealed};
}

std::string Service::client_secret(const std::string& slug) {
  auto lease = impl_->pool.acquire();
  const app::Organization o = impl_->org_row(*lease, slug);
  return impl_->keys.open(*lease, OrgId{o.id}, client_secret_column, o.client_secret);
}

void Service::invalidate_org(const std::string& slug) { impl_->orgs.invalidate(slug); }

Service::CacheStats Service::org_cache_stats() const { return impl_->orgs.stats(); }

}  // namespace service
