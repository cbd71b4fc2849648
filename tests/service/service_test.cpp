// The reference service (examples/service) as a client sees it: a real server on a loopback port,
// real HTTP requests, on SQLite and on PostgreSQL. Every endpoint and every middleware refusal:
// unknown / suspended orgs, missing / foreign / revoked tokens, client-sent identity headers,
// role checks, bad JSON / unknown fields / oversized bodies (which change nothing), and rows of
// one org never reachable from another.
#include "http_client.hpp"
#include "service_support.hpp"

#include "app/entities.hpp"
#include "app/repositories.hpp"
#include "service/http_server.hpp"
#include "service/service.hpp"

#include <tenantry/encrypted.hpp>
#include <tenantry/tenantry.hpp>

#include <boost/json.hpp>

#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <thread>
#include <string>
#include <vector>

namespace json = boost::json;
using svctest::HttpResult;
using service::Role;

namespace {

constexpr const char* domain = "tenantry.test";

std::string host(const std::string& slug) { return slug + "." + domain; }

json::value parse(const HttpResult& r) {
  INFO("body: " << r.body);
  json::error_code ec;
  json::value v = json::parse(r.body, ec);
  REQUIRE(!ec);
  return v;
}

std::string str(const json::value& v, std::string_view key) {
  const auto* p = v.as_object().if_contains(key);
  REQUIRE(p != nullptr);
  REQUIRE(p->is_string());
  return std::string(p->as_string().c_str());
}

std::string error_code(const HttpResult& r) { return str(parse(r).at("error"), "code"); }

/// A service on a fresh database with three orgs (acme, globex, initech) and tokens:
/// alice@acme (user), pam@acme (power_user), alice@globex (admin).
struct World {
  std::string url;
  std::unique_ptr<service::Service> svc;
  std::unique_ptr<service::HttpServer> server;
  std::string acme_id, globex_id;
  std::string alice, pam, alice_globex, initech_token;

  explicit World(std::string database_url, std::chrono::milliseconds ttl = std::chrono::milliseconds(60000))
      : url(std::move(database_url)) {
    service::Config c;
    c.database_url = url;
    c.org_domain = domain;
    c.pool_size = 4;
    c.org_cache_ttl = ttl;
    c.max_body_bytes = 4096;
    c.platform_key = tenantry::PlatformKey::generate().to_text();
    c.init_schema = true;
    svc = std::make_unique<service::Service>(c);
    server = std::make_unique<service::HttpServer>(*svc, "127.0.0.1", 0);
    acme_id = svc->create_org("acme", "Acme Corp", "acme-oauth-secret").id;
    globex_id = svc->create_org("globex", "Globex", "globex-oauth-secret").id;
    svc->create_org("initech", "Initech", "initech-oauth-secret");
    alice = svc->issue_token("acme", "alice", Role::user).token;
    pam = svc->issue_token("acme", "pam", Role::power_user).token;
    alice_globex = svc->issue_token("globex", "alice", Role::admin).token;
    initech_token = svc->issue_token("initech", "ian", Role::admin).token;
  }

  HttpResult req(const std::string& method, const std::string& org, const std::string& target,
                 const std::string& token = "", const std::string& body = "",
                 std::vector<std::pair<std::string, std::string>> headers = {}) {
    if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
    return svctest::http(server->port(), method, target, host(org), headers, body, method == "POST" || method == "PUT");
  }
  HttpResult get(const std::string& org, const std::string& target, const std::string& token) {
    return req("GET", org, target, token);
  }
  std::int64_t count(const std::string& org, const std::string& target, const std::string& token) {
    const auto r = get(org, target, token);
    REQUIRE(r.status == 200);
    return parse(r).at("total").as_int64();
  }
};

}  // namespace

TEST_CASE("service: /health checks the database, for any host", "[service]") {
  svctest::on_each_backend([](const svctest::Backend& b) {
    World w(b.url);
    for (const std::string h : {"127.0.0.1", "acme.tenantry.test", "nosuch.tenantry.test"}) {
      const auto r = svctest::http(w.server->port(), "GET", "/health", h);
      REQUIRE(r.status == 200);
      const auto v = parse(r);
      CHECK(str(v, "status") == "ok");
      const auto& db = v.at("databases").as_array().at(0);
      CHECK(str(db, "backend") == b.name);
      CHECK(db.at("ok").as_bool());
      CHECK(r.header("content-type") == "application/json");
    }
    CHECK(svctest::http(w.server->port(), "POST", "/health", "127.0.0.1").status == 405);
  });
}

TEST_CASE("service: /health reports a database without the schema as unavailable", "[service]") {
  svctest::TempFile file("bare");
  service::Config c;
  c.database_url = file.url();
  c.platform_key = tenantry::PlatformKey::generate().to_text();
  service::Service svc(c);  // no init_schema
  service::HttpServer server(svc, "127.0.0.1", 0);
  const auto r = svctest::http(server.port(), "GET", "/health", "x");
  CHECK(r.status == 503);
  CHECK(str(parse(r), "status") == "unavailable");
}

TEST_CASE("service: the org comes from the Host subdomain; unknown 404, suspended 403", "[service]") {
  svctest::on_each_backend([](const svctest::Backend& b) {
    World w(b.url);
    const auto ok = w.get("acme", "/api/orgs/current", w.alice);
    REQUIRE(ok.status == 200);
    CHECK(str(parse(ok), "slug") == "acme");
    CHECK(str(parse(ok), "id") == w.acme_id);
    // Port, upper case and a trailing dot name the same org.
    for (const std::string h : {"acme.tenantry.test:8443", "ACME.Tenantry.Test", "acme.tenantry.test."}) {
      const auto r = svctest::http(w.server->port(), "GET", "/api/orgs/current", h, {{"Authorization", "Bearer " + w.alice}});
      CHECK(r.status == 200);
    }
    // No org there: 404 before any token is looked at.
    for (const std::string h : {"nosuch.tenantry.test", "tenantry.test", "acme.evil.example", "a.acme.tenantry.test",
                                "127.0.0.1", "", "acme.tenantry.test.evil.example", "-x-.tenantry.test"}) {
      INFO("host: '" << h << "'");
      const auto r = svctest::http(w.server->port(), "GET", "/api/orgs/current", h, {{"Authorization", "Bearer " + w.alice}});
      CHECK(r.status == 404);
      CHECK(error_code(r) == "org_not_found");
    }
    // Suspended: 403 even with the org's own admin token; active again: 200.
    w.svc->set_org_status("initech", "suspended");
    auto r = w.get("initech", "/api/orgs/current", w.initech_token);
    CHECK(r.status == 403);
    CHECK(error_code(r) == "org_suspended");
    CHECK(w.get("initech", "/api/tokens", w.initech_token).status == 403);
    w.svc->set_org_status("initech", "active");
    CHECK(w.get("initech", "/api/orgs/current", w.initech_token).status == 200);
    w.svc->set_org_status("initech", "deleted");
    CHECK(w.get("initech", "/api/orgs/current", w.initech_token).status == 404);
  });
}

TEST_CASE("service: orgs are cached, and the cache is invalidated", "[service]") {
  svctest::on_each_backend([](const svctest::Backend& b) {
    World w(b.url, std::chrono::milliseconds(60000));
    CHECK(w.get("acme", "/api/orgs/current", w.alice).status == 200);
    const auto before = w.svc->org_cache_stats();
    for (int i = 0; i < 5; ++i) CHECK(w.get("acme", "/api/orgs/current", w.alice).status == 200);
    CHECK(w.svc->org_cache_stats().hits >= before.hits + 5);
    CHECK(w.svc->org_cache_stats().misses == before.misses);

    // Another process suspends acme in the database: this process still serves its cached entry
    // (for at most the TTL) ...
    {
      tenantry::Database db = tenantry::connect(w.url);
      app::OrgRepository<tenantry::AnyDialect>(db).update_org_status(tenantry::Uuid::parse(w.acme_id),
                                                                     app::OrgStatus::suspended);
    }
    CHECK(w.get("acme", "/api/orgs/current", w.alice).status == 200);
    // ... until it is invalidated.
    w.svc->invalidate_org("acme");
    CHECK(w.get("acme", "/api/orgs/current", w.alice).status == 403);

    // An org created after a request for its slug was answered 404 is found at once.
    CHECK(w.get("newco", "/api/orgs/current", "x").status == 404);
    w.svc->create_org("newco", "NewCo", "s");
    const auto t = w.svc->issue_token("newco", "nina", Role::user).token;
    CHECK(w.get("newco", "/api/orgs/current", t).status == 200);
  });

  // With a short TTL, a change made elsewhere is seen without any invalidation.
  svctest::TempFile file("ttl");
  World w(file.url(), std::chrono::milliseconds(200));
  CHECK(w.get("acme", "/api/orgs/current", w.alice).status == 200);
  {
    tenantry::Database db = tenantry::connect(w.url);
    app::OrgRepository<tenantry::AnyDialect>(db).update_org_status(tenantry::Uuid::parse(w.acme_id),
                                                                   app::OrgStatus::suspended);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(w.get("acme", "/api/orgs/current", w.alice).status == 403);
}

TEST_CASE("service: bearer tokens are checked within the org of the Host", "[service]") {
  svctest::on_each_backend([](const svctest::Backend& b) {
    World w(b.url);
    auto r = w.get("acme", "/api/orgs/current", "");
    CHECK(r.status == 401);
    CHECK(r.header("www-authenticate") == "Bearer");
    CHECK(w.req("GET", "acme", "/api/orgs/current", "", "", {{"Authorization", "Basic YWxpY2U6eA=="}}).status == 401);
    CHECK(w.get("acme", "/api/orgs/current", "bodhiapp_not-a-real-token-at-all").status == 401);
    // A token's prefix with another secret: the digest does not match.
    CHECK(w.get("acme", "/api/orgs/current", w.alice.substr(0, 20) + std::string(w.alice.size() - 20, 'x')).status == 401);
    // A valid token of globex on acme's subdomain (and the other way round): refused.
    CHECK(w.get("acme", "/api/orgs/current", w.alice_globex).status == 401);
    CHECK(w.get("globex", "/api/orgs/current", w.alice).status == 401);
    CHECK(w.get("globex", "/api/aliases", w.pam).status == 401);
    // Each works at home, as its own user and role.
    auto v = parse(w.get("globex", "/api/orgs/current", w.alice_globex));
    CHECK(str(v, "role") == "admin");
    v = parse(w.get("acme", "/api/orgs/current", w.alice));
    CHECK(str(v, "role") == "user");
    CHECK(str(v, "user_id") == "alice");
  });
}

TEST_CASE("service: client-sent identity headers are ignored", "[service]") {
  svctest::on_each_backend([](const svctest::Backend& b) {
    World w(b.url);
    const std::vector<std::pair<std::string, std::string>> forged = {
        {"X-BodhiApp-User-Id", "pam"},      {"X-BodhiApp-Role", "admin"},    {"X-BodhiApp-Scope", "scope_token_admin"},
        {"X-Org-Id", w.globex_id},          {"X-Tenantry-Org", "globex"},    {"X-User-Id", "pam"},
        {"x-bodhiapp-user-id", "root"}};
    // Without a token, they authenticate nobody.
    CHECK(w.req("GET", "acme", "/api/orgs/current", "", "", forged).status == 401);
    // With alice's token, alice she stays: user role, acme, her own tokens only.
    auto r = w.req("GET", "acme", "/api/orgs/current", w.alice, "", forged);
    REQUIRE(r.status == 200);
    auto v = parse(r);
    CHECK(str(v, "user_id") == "alice");
    CHECK(str(v, "role") == "user");
    CHECK(str(v, "id") == w.acme_id);
    // A forged role does not lift her to power_user.
    r = w.req("POST", "acme", "/api/aliases", w.alice, R"({"alias":"a","repo":"r","filename":"f"})", forged);
    CHECK(r.status == 403);
    r = w.req("GET", "acme", "/api/tokens", w.alice, "", forged);
    REQUIRE(r.status == 200);
    const auto listed = parse(r);
    for (const auto& t : listed.at("data").as_array()) CHECK(str(t, "user_id") == "alice");
  });
}

TEST_CASE("service: current org and user memberships", "[service]") {
  svctest::on_each_backend([](const svctest::Backend& b) {
    World w(b.url);
    auto v = parse(w.get("acme", "/api/orgs/current", w.pam));
    CHECK(str(v, "display_name") == "Acme Corp");
    CHECK(str(v, "status") == "active");
    CHECK(str(v, "role") == "power_user");
    CHECK(v.as_object().if_contains("client_secret") == nullptr);

    // alice belongs to acme and globex; pam to acme only.
    v = parse(w.get("acme", "/api/orgs/user-memberships", w.alice));
    CHECK(str(v, "user_id") == "alice");
    const auto& m = v.at("memberships").as_array();
    REQUIRE(m.size() == 2);
    std::map<std::string, bool> current;
    for (const auto& e : m) current[str(e, "slug")] = e.at("current").as_bool();
    CHECK(current == std::map<std::string, bool>{{"acme", true}, {"globex", false}});
    v = parse(w.get("acme", "/api/orgs/user-memberships", w.pam));
    REQUIRE(v.at("memberships").as_array().size() == 1);
    CHECK(str(v.at("memberships").as_array()[0], "slug") == "acme");
    CHECK(w.req("POST", "acme", "/api/orgs/current", w.pam, "{}").status == 405);
  });
}

TEST_CASE("service: tokens: list, create (secret shown once), revoke", "[service]") {
  svctest::on_each_backend([](const svctest::Backend& b) {
    World w(b.url);
    auto r = w.req("POST", "acme", "/api/tokens", w.alice, R"({"name":"ci"})");
    REQUIRE(r.status == 201);
    auto v = parse(r);
    const std::string token = str(v, "token"), id = str(v, "id");
    CHECK(token.starts_with("bodhiapp_"));
    CHECK(str(v, "org_id") == w.acme_id);
    CHECK(str(v, "scopes") == "scope_token_user");
    // The new token authenticates, as alice.
    CHECK(str(parse(w.get("acme", "/api/orgs/current", token)), "user_id") == "alice");

    r = w.get("acme", "/api/tokens", w.alice);
    REQUIRE(r.status == 200);
    v = parse(r);
    CHECK(v.at("total").as_int64() == 2);
    for (const auto& t : v.at("data").as_array()) {
      CHECK(str(t, "org_id") == w.acme_id);
      CHECK(str(t, "user_id") == "alice");
      CHECK(t.as_object().if_contains("token") == nullptr);
      CHECK(t.as_object().if_contains("token_hash") == nullptr);
    }
    CHECK(r.body.find(token.substr(17)) == std::string::npos);  // never the secret part again
    // pam sees only her own.
    CHECK(w.count("acme", "/api/tokens", w.pam) == 1);
    // Paging.
    v = parse(w.get("acme", "/api/tokens?page=2&page_size=1", w.alice));
    CHECK(v.at("data").as_array().size() == 1);
    CHECK(w.get("acme", "/api/tokens?page=0", w.alice).status == 400);
    CHECK(w.get("acme", "/api/tokens?page_size=x", w.alice).status == 400);

    // No more than the creator's role; scope names only.
    r = w.req("POST", "acme", "/api/tokens", w.alice, R"({"name":"x","scope":"scope_token_admin"})");
    CHECK(r.status == 403);
    CHECK(w.req("POST", "acme", "/api/tokens", w.alice, R"({"name":"x","scope":"root"})").status == 400);
    CHECK(w.req("POST", "acme", "/api/tokens", w.pam, R"({"name":"x","scope":"scope_token_power_user"})").status == 201);

    // Revoke: only one's own, only in this org.
    CHECK(w.req("DELETE", "acme", "/api/tokens/" + id, w.pam).status == 404);
    CHECK(w.req("DELETE", "globex", "/api/tokens/" + id, w.alice_globex).status == 404);
    CHECK(w.req("DELETE", "acme", "/api/tokens/not-a-uuid", w.alice).status == 404);
    r = w.req("DELETE", "acme", "/api/tokens/" + id, w.alice);
    REQUIRE(r.status == 200);
    CHECK(str(parse(r), "status") == "inactive");
    r = w.get("acme", "/api/orgs/current", token);
    CHECK(r.status == 401);
    CHECK_THAT(r.body, Catch::Contains("revoked"));
    CHECK(w.get("acme", "/api/orgs/current", w.alice).status == 200);
  });
}

TEST_CASE("service: bad JSON, unknown fields and oversized bodies get 400 and change nothing", "[service]") {
  svctest::on_each_backend([](const svctest::Backend& b) {
    World w(b.url);
    const std::int64_t tokens = w.count("acme", "/api/tokens", w.pam);
    const std::int64_t aliases = w.count("acme", "/api/aliases", w.pam);
    const std::string big(5000, 'x');
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"/api/tokens", "{not json"},
        {"/api/tokens", "[1,2]"},
        {"/api/tokens", R"({"name":"t","admin":true})"},
        {"/api/tokens", R"({"name":42})"},
        {"/api/tokens", R"({})"},
        {"/api/tokens", R"({"name":""})"},
        {"/api/tokens", ""},
        {"/api/tokens", R"({"name":")" + big + R"("})"},
        {"/api/aliases", R"({"alias":"a","repo":"r","filename":"f","org_id":")" + w.globex_id + R"("})"},
        {"/api/aliases", R"({"alias":"a","repo":"r","filename":"f","request_params":[1]})"},
        {"/api/aliases", R"({"alias":"a","repo":"r"})"},
        {"/api/aliases", std::string(R"({"alias":"a","repo":"r","filename":"f","x":)") + std::string(40, '[') + "1" +
                             std::string(40, ']') + "}"},
        {"/api/toolsets", R"({"toolset_type":"t","slug":"Bad Slug"})"},
        {"/api/toolsets", R"({"toolset_type":"t","slug":"s","enabled":"yes"})"},
    };
    for (const auto& [target, body] : bad) {
      INFO(target << " <- " << body.substr(0, 100));
      const auto r = w.req("POST", "acme", target, w.pam, body);
      CHECK(r.status == 400);
      const auto msg = str(parse(r).at("error"), "message");
      CHECK(!msg.empty());
    }
    CHECK_THAT(w.req("POST", "acme", "/api/tokens", w.pam, R"({"name":"t","admin":true})").body,
               Catch::Contains("unknown field 'admin'"));
    CHECK_THAT(w.req("POST", "acme", "/api/tokens", w.pam, R"({"name":")" + big + R"("})").body,
               Catch::Contains("exceeds the limit of 4096 bytes"));
    // A wrong content type.
    CHECK(w.req("POST", "acme", "/api/tokens", w.pam, R"({"name":"t"})", {{"Content-Type", "text/plain"}}).status == 400);
    // An oversized body announced by Content-Length is refused by the server before it is read.
    const std::string raw = "POST /api/tokens HTTP/1.1\r\nHost: acme.tenantry.test\r\nAuthorization: Bearer " + w.pam +
                            "\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{\"name\":\"x\"";
    const auto r = svctest::send_raw(w.server->port(), raw);
    CHECK(r.status == 400);
    CHECK_THAT(r.body, Catch::Contains("body_too_large"));
    // Garbage that is not HTTP.
    CHECK(svctest::send_raw(w.server->port(), "NOT HTTP AT ALL\r\n\r\n").status == 400);

    CHECK(w.count("acme", "/api/tokens", w.pam) == tokens);
    CHECK(w.count("acme", "/api/aliases", w.pam) == aliases);
    CHECK(w.get("acme", "/api/toolsets", w.pam).body == R"({"data":[]})");
    CHECK(w.get("acme", "/api/nosuch", w.pam).status == 404);
  });
}

TEST_CASE("service: user aliases CRUD, per org", "[service]") {
  svctest::on_each_backend([](const svctest::Backend& b) {
    World w(b.url);
    const std::string body =
        R"({"alias":"llama3:instruct","repo":"meta/llama3","filename":"q4.gguf","request_params":{"temperature":0.7},"context_params":["--ctx-size","4096"]})";
    auto r = w.req("POST", "acme", "/api/aliases", w.pam, body);
    REQUIRE(r.status == 201);
    auto v = parse(r);
    const std::string id = str(v, "id");
    CHECK(str(v, "org_id") == w.acme_id);
    CHECK(v.at("request_params").at("temperature").as_double() == Approx(0.7));
    CHECK(v.at("context_params").as_array().size() == 2);
    CHECK(str(v, "snapshot") == "main");
    // The same alias again in acme: 409; in globex: its own, fine.
    CHECK(w.req("POST", "acme", "/api/aliases", w.pam, body).status == 409);
    r = w.req("POST", "globex", "/api/aliases", w.alice_globex, body);
    REQUIRE(r.status == 201);
    const std::string globex_alias = str(parse(r), "id");
    // users read, power users write.
    CHECK(w.get("acme", "/api/aliases/" + id, w.alice).status == 200);
    CHECK(w.req("PUT", "acme", "/api/aliases/" + id, w.alice, R"({"repo":"x"})").status == 403);
    CHECK(w.req("DELETE", "acme", "/api/aliases/" + id, w.alice).status == 403);

    r = w.req("PUT", "acme", "/api/aliases/" + id, w.pam, R"({"filename":"q8.gguf","snapshot":"abc"})");
    REQUIRE(r.status == 200);
    v = parse(r);
    CHECK(str(v, "filename") == "q8.gguf");
    CHECK(str(v, "repo") == "meta/llama3");
    CHECK(str(parse(w.get("acme", "/api/aliases/" + id, w.alice)), "snapshot") == "abc");

    // Paging and listing.
    for (int i = 0; i < 4; ++i)
      REQUIRE(w.req("POST", "acme", "/api/aliases", w.pam,
                    R"({"alias":"a)" + std::to_string(i) + R"(","repo":"r","filename":"f"})")
                  .status == 201);
    v = parse(w.get("acme", "/api/aliases?page=2&page_size=2", w.alice));
    CHECK(v.at("total").as_int64() == 5);
    REQUIRE(v.at("data").as_array().size() == 2);
    CHECK(str(v.at("data").as_array()[0], "alias") == "a2");
    const auto all = parse(w.get("acme", "/api/aliases?page_size=100", w.alice));
    for (const auto& a : all.at("data").as_array())
      CHECK(str(a, "org_id") == w.acme_id);

    // acme's alias id is nothing in globex, whatever the verb; and globex's nothing in acme.
    CHECK(w.get("globex", "/api/aliases/" + id, w.alice_globex).status == 404);
    CHECK(w.req("PUT", "globex", "/api/aliases/" + id, w.alice_globex, R"({"repo":"stolen"})").status == 404);
    CHECK(w.req("DELETE", "globex", "/api/aliases/" + id, w.alice_globex).status == 404);
    CHECK(w.get("acme", "/api/aliases/" + globex_alias, w.pam).status == 404);
    CHECK(str(parse(w.get("acme", "/api/aliases/" + id, w.alice)), "repo") == "meta/llama3");
    CHECK(w.count("globex", "/api/aliases", w.alice_globex) == 1);

    // Renaming onto an existing alias: 409, nothing changed.
    CHECK(w.req("PUT", "acme", "/api/aliases/" + id, w.pam, R"({"alias":"a0"})").status == 409);
    CHECK(str(parse(w.get("acme", "/api/aliases/" + id, w.alice)), "alias") == "llama3:instruct");

    CHECK(w.req("DELETE", "acme", "/api/aliases/" + id, w.pam).status == 204);
    CHECK(w.get("acme", "/api/aliases/" + id, w.pam).status == 404);
    CHECK(w.req("DELETE", "acme", "/api/aliases/" + id, w.pam).status == 404);
    CHECK(w.count("acme", "/api/aliases", w.pam) == 4);
  });
}

TEST_CASE("service: toolsets CRUD, each user's own, API keys sealed under the org's key", "[service]") {
  svctest::on_each_backend([](const svctest::Backend& b) {
    World w(b.url);
    auto r = w.req("POST", "acme", "/api/toolsets", w.alice,
                   R"({"toolset_type":"web-search","slug":"exa","description":"search","api_key":"exa-secret-key-1234"})");
    REQUIRE(r.status == 201);
    auto v = parse(r);
    const std::string id = str(v, "id");
    CHECK(str(v, "org_id") == w.acme_id);
    CHECK(str(v, "api_key_masked") == "****1234");
    CHECK(v.at("has_api_key").as_bool());
    CHECK(r.body.find("exa-secret") == std::string::npos);

    // Stored sealed: the column holds an envelope, which opens for acme's toolsets column only.
    tenantry::Database db = tenantry::connect(w.url);
    const auto row = tenantry::Repository<app::Toolset>(db).find(tenantry::OrgId::parse(w.acme_id), tenantry::Uuid::parse(id));
    REQUIRE(row);
    REQUIRE(row->encrypted_api_key);
    CHECK(row->encrypted_api_key->starts_with("tnt1:1:"));
    CHECK(row->encrypted_api_key->find("exa-secret") == std::string::npos);

    CHECK(w.req("POST", "acme", "/api/toolsets", w.alice, R"({"toolset_type":"web-search","slug":"exa"})").status == 409);
    // pam has her own namespace of slugs, and does not see alice's.
    CHECK(w.req("POST", "acme", "/api/toolsets", w.pam, R"({"toolset_type":"web-search","slug":"exa"})").status == 201);
    CHECK(parse(w.get("acme", "/api/toolsets", w.pam)).at("data").as_array().size() == 1);
    CHECK(w.get("acme", "/api/toolsets/" + id, w.pam).status == 404);
    CHECK(w.req("PUT", "acme", "/api/toolsets/" + id, w.pam, R"({"enabled":false})").status == 404);
    CHECK(w.req("DELETE", "acme", "/api/toolsets/" + id, w.pam).status == 404);
    // Another org: nothing, even for the same user id.
    CHECK(w.get("globex", "/api/toolsets/" + id, w.alice_globex).status == 404);
    CHECK(parse(w.get("globex", "/api/toolsets", w.alice_globex)).at("data").as_array().empty());

    r = w.req("PUT", "acme", "/api/toolsets/" + id, w.alice, R"({"api_key":"new-key-abcd","enabled":false})");
    REQUIRE(r.status == 200);
    v = parse(r);
    CHECK(str(v, "api_key_masked") == "****abcd");
    CHECK_FALSE(v.at("enabled").as_bool());
    CHECK(str(v, "description") == "search");
    r = w.req("PUT", "acme", "/api/toolsets/" + id, w.alice, R"({"api_key":null,"description":null})");
    REQUIRE(r.status == 200);
    v = parse(r);
    CHECK_FALSE(v.at("has_api_key").as_bool());
    CHECK(v.at("description").is_null());
    CHECK(w.req("PUT", "acme", "/api/toolsets/" + id, w.alice, R"({"toolset_type":"x"})").status == 400);

    // Rotation re-seals toolset keys and the client secret; the service reads them as before.
    REQUIRE(w.req("PUT", "acme", "/api/toolsets/" + id, w.alice, R"({"api_key":"after-rotation-9876"})").status == 200);
    const auto rot = w.svc->rotate_org_key("acme");
    CHECK(rot.new_version == 2);
    CHECK(rot.resealed == 2);  // the toolset key, the OAuth client secret
    CHECK(str(parse(w.get("acme", "/api/toolsets/" + id, w.alice)), "api_key_masked") == "****9876");
    CHECK(w.svc->client_secret("acme") == "acme-oauth-secret");
    CHECK(w.svc->client_secret("globex") == "globex-oauth-secret");

    CHECK(w.req("DELETE", "acme", "/api/toolsets/" + id, w.alice).status == 204);
    CHECK(w.get("acme", "/api/toolsets/" + id, w.alice).status == 404);
  });
}

TEST_CASE("service: keep-alive connections carry many requests, each checked on its own", "[service]") {
  svctest::TempFile file("keepalive");
  World w(file.url());
  // Two requests on one connection: acme with alice's token, then globex with acme's token.
  const std::string raw = "GET /api/orgs/current HTTP/1.1\r\nHost: acme.tenantry.test\r\nAuthorization: Bearer " +
                          w.alice + "\r\n\r\nGET /api/orgs/current HTTP/1.1\r\nHost: globex.tenantry.test\r\n" +
                          "Authorization: Bearer " + w.alice + "\r\nConnection: close\r\n\r\n";
  const std::string out = svctest::exchange(w.server->port(), raw);
  CHECK(out.starts_with("HTTP/1.1 200 OK\r\n"));
  const auto second = out.find("HTTP/1.1 ", 10);
  REQUIRE(second != std::string::npos);
  CHECK(out.compare(second, 12, "HTTP/1.1 401") == 0);
  CHECK(out.find(w.globex_id) == std::string::npos);
}
