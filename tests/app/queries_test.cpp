// The reference app's multi-table and aggregate reads (examples/app/queries.hpp) and its keyset
// paging, on the app's own migrations: SQLite, PostgreSQL, and PostgreSQL with the row-level
// security migration as a role the policies bind (org context on).
//
// Two orgs hold look-alike data: the same users, token prefixes, alias names, model files and
// toolset types, but different statuses, switches, logins and metadata. Each query's answer for
// acme is checked in full against what acme holds, so any row of globex (a joined access request,
// a toolset switch, a metadata row, a counted status) would change it.
#include "app_support.hpp"

#include "app/queries.hpp"
#include "app/repositories.hpp"

#include "support/golden.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

using namespace app_test;
using namespace app;
namespace migrate = tenantry::migrate;
using tenantry::AnyDialect;

namespace {

enum class Backend { sqlite, postgres, postgres_rls };

const char* name(Backend b) {
  switch (b) {
    case Backend::sqlite: return "sqlite";
    case Backend::postgres: return "postgres";
    case Backend::postgres_rls: return "postgres, row-level security as an application role";
  }
  return "?";
}

/// A migrated database of the backend. `file` keeps an SQLite file alive.
tenantry::Database open_backend(Backend b, std::optional<TempSqlite>& file) {
  if (b == Backend::sqlite) {
    file.emplace();
    tenantry::Database db = tenantry::connect(file->url());
    migrate::Runner(db, migrations("sqlite")).up();
    return db;
  }
  std::string url = tenantry_test::pg_url();
  tenantry::ConnectOptions options;
  std::optional<std::int64_t> to = 1;  // 0003 (RLS) needs org context, which only the last backend sets
  if (b == Backend::postgres_rls) {
    constexpr const char* role = "tenantry_app_owner";  // as rls_test.cpp: neither superuser nor BYPASSRLS
    tenantry::Database admin = tenantry::connect(url);
    admin.execute(std::string("DO $$ BEGIN CREATE ROLE ") + role +
                  " LOGIN NOSUPERUSER NOBYPASSRLS; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; "
                  "END $$");
    admin.execute(std::string("GRANT ALL ON SCHEMA public TO ") + role);
    url = as_role(url, role);
    options.postgres.org_context = true;
    to.reset();
  }
  tenantry::Database db = tenantry::connect(url, options);
  migrate::Runner(db, migrations("postgres")).up(to);
  if (b == Backend::postgres_rls)
    REQUIRE(scalar(db, "SELECT count(*) FROM pg_policies WHERE tablename = 'api_tokens'") == 1);
  return db;
}

constexpr std::string_view file_llama = "Meta-Llama-3-8B-Instruct.Q8_0.gguf";
constexpr std::string_view file_phi = "Phi-3-mini-4k-instruct-q4.gguf";

struct Seeder {
  DbService<AnyDialect>& s;
  OrgId org;
  int n = 0;

  void token(std::string user, std::string name, TokenStatus status) {
    ApiToken t{.user_id = user,
               .name = name,
               .token_prefix = "bodhiapp_" + user + "_" + name,  // the same in both orgs
               .token_hash = "sha256:" + name,
               .scopes = "scope_token_user"};
    s.tokens.create_api_token(org, t);
    if (status != TokenStatus::active) {
      t.status = status;
      REQUIRE(s.tokens.update_api_token(org, user, t));
    }
  }
  void access(std::string user, std::string username, AccessRequestStatus status) {
    const UserAccessRequest r = s.access.insert_pending_request(org, username, user);
    if (status != AccessRequestStatus::pending) REQUIRE(s.access.update_request_status(org, r.id, status, "admin"));
  }
  DownloadRequest download(std::string_view file, DownloadStatus status) {
    DownloadRequest d{.repo = "repo/" + std::string(file), .filename = std::string(file)};
    s.models.create_download_request(org, d);
    if (status != DownloadStatus::pending)
      REQUIRE(s.models.finish_download_request(
          org, d.id, status, status == DownloadStatus::error ? std::optional<std::string>("boom") : std::nullopt));
    return d;
  }
  void app_access(AppAccessStatus status) {
    AppAccessRequest r{.app_client_id = "app-" + std::to_string(++n),
                       .requested = Json{"{}"},
                       .requested_role = "scope_user_user",
                       .expires_at = tenantry::Timestamp::now()};
    s.app_access.create(org, r);
    if (status == AppAccessStatus::approved)
      REQUIRE(s.app_access.update_approval(org, r.id, "alice", Json{"{}"}, "scope_user_user", "scope_x"));
    if (status == AppAccessStatus::denied) REQUIRE(s.app_access.update_denial(org, r.id, "alice"));
  }
  void toolset(std::string user, std::string slug, std::string type, bool enabled) {
    Toolset t{.user_id = user, .toolset_type = type, .slug = slug, .enabled = enabled};
    s.toolsets.create_toolset(org, t);
  }
  void alias(std::string name, std::string_view file) {
    UserAlias a{.alias = name,
                .repo = "repo/" + std::string(file),
                .filename = std::string(file),
                .snapshot = "main",
                .request_params = Json{"{}"},
                .context_params = Json{"[]"}};
    s.aliases.set_user_alias(org, a);
  }
  void metadata(std::string_view file, std::string capabilities, std::int64_t ctx, std::string arch) {
    ModelMetadata m{.source = MetadataSource::model,
                    .repo = "repo/" + std::string(file),
                    .filename = std::string(file),
                    .snapshot = "main",
                    .capabilities = Json{std::move(capabilities)},
                    .context_max_input_tokens = ctx,
                    .architecture = std::move(arch),
                    .extracted_at = tenantry::Timestamp::now()};
    s.models.upsert_model_metadata(org, m);
  }
};

/// acme: the org every check reads.
void seed_acme(Seeder x) {
  x.token("alice", "laptop", TokenStatus::active);
  x.token("alice", "ci", TokenStatus::inactive);
  x.token("bob", "script", TokenStatus::active);
  x.token("carol", "old", TokenStatus::inactive);
  x.access("alice", "alice@acme.example", AccessRequestStatus::approved);
  x.access("alice", "alice@acme.example", AccessRequestStatus::approved);  // joined again: still one row per token
  x.access("bob", "bob@acme.example", AccessRequestStatus::rejected);      // not a member: no login shown
  x.access("dave", "dave@acme.example", AccessRequestStatus::pending);
  x.download(file_llama, DownloadStatus::completed);
  x.download(file_phi, DownloadStatus::completed);
  x.download("mistral.gguf", DownloadStatus::pending);
  x.app_access(AppAccessStatus::draft);
  x.app_access(AppAccessStatus::approved);
  x.s.toolsets.set_app_toolset_enabled(x.org, "builtin-exa-web-search", true, "admin-acme");
  x.s.toolsets.set_app_toolset_enabled(x.org, "builtin-weather", false, "admin-acme");
  x.toolset("alice", "exa", "builtin-exa-web-search", true);
  x.toolset("alice", "exa-off", "builtin-exa-web-search", false);
  x.toolset("alice", "fetch", "builtin-fetch", true);  // a type acme never configured
  x.toolset("alice", "weather", "builtin-weather", true);
  x.toolset("bob", "exa", "builtin-exa-web-search", true);
  x.alias("llama3:instruct", file_llama);
  x.alias("phi3:mini", file_phi);
  x.metadata(file_llama, R"({"tools": true})", 8192, "llama");
  ModelMetadata api{.source = MetadataSource::api,
                    .api_model_id = "gpt-4o",
                    .capabilities = Json{R"({"vision": true})"},
                    .extracted_at = tenantry::Timestamp::now()};
  x.s.models.upsert_model_metadata(x.org, api);  // source = api: never an alias's file
}

/// globex: the same names, other facts. Every one of them would change an acme answer.
void seed_globex(Seeder x) {
  x.token("alice", "laptop", TokenStatus::active);
  x.token("alice", "ci", TokenStatus::active);
  x.token("dave", "d1", TokenStatus::active);
  x.token("dave", "d2", TokenStatus::active);
  x.access("alice", "alice@globex.example", AccessRequestStatus::approved);
  x.access("bob", "bob@globex.example", AccessRequestStatus::approved);
  x.access("carol", "carol@globex.example", AccessRequestStatus::approved);
  x.download(file_llama, DownloadStatus::error);
  x.download(file_phi, DownloadStatus::pending);
  x.download("x.gguf", DownloadStatus::pending);
  x.download("y.gguf", DownloadStatus::pending);
  x.app_access(AppAccessStatus::denied);
  x.app_access(AppAccessStatus::denied);
  x.s.toolsets.set_app_toolset_enabled(x.org, "builtin-exa-web-search", false, "admin-globex");
  x.s.toolsets.set_app_toolset_enabled(x.org, "builtin-weather", true, "admin-globex");
  x.s.toolsets.set_app_toolset_enabled(x.org, "builtin-fetch", true, "admin-globex");
  x.toolset("alice", "exa", "builtin-exa-web-search", true);
  x.toolset("alice", "weather", "builtin-weather", true);
  x.toolset("alice", "globex-only", "builtin-fetch", true);
  x.alias("llama3:instruct", file_llama);
  x.alias("phi3:mini", file_phi);
  x.alias("mistral", "mistral.gguf");
  x.metadata(file_llama, R"({"tools": false})", 4096, "llama-globex");
  x.metadata(file_phi, R"({"tools": true})", 4096, "phi3");
}

template <class S>
std::vector<StatusCount<S>> counts(std::initializer_list<std::pair<S, std::int64_t>> list) {
  std::vector<StatusCount<S>> out;
  for (const auto& [s, n] : list) out.push_back({s, n});
  return out;
}

}  // namespace

TEST_CASE("app queries: each returns the org's rows and never another org's", "[app][queries]") {
  const Backend b = GENERATE(Backend::sqlite, Backend::postgres, Backend::postgres_rls);
  SECTION(name(b)) {
    std::optional<TempSqlite> file;
    tenantry::Database db = open_backend(b, file);
    DbService<AnyDialect> s(db);
    Organization acme{
        .slug = "acme", .display_name = "Acme", .kc_client_id = "kc-a", .client_secret = "s", .encryption_key = "k"};
    Organization globex{.slug = "globex",
                        .display_name = "Globex",
                        .kc_client_id = "kc-g",
                        .client_secret = "s",
                        .encryption_key = "k"};
    s.orgs.create_org(acme);
    s.orgs.create_org(globex);
    const OrgId a{acme.id}, g{globex.id};
    seed_acme({s, a});
    seed_globex({s, g});
    ReportRepository<AnyDialect> reports(db);

    SECTION("counts per status") {
      const StatusDashboard d = reports.status_dashboard(a);
      CHECK(d.downloads == counts<DownloadStatus>({{DownloadStatus::completed, 2}, {DownloadStatus::pending, 1}}));
      CHECK(d.access_requests == counts<AccessRequestStatus>({{AccessRequestStatus::approved, 2},
                                                              {AccessRequestStatus::pending, 1},
                                                              {AccessRequestStatus::rejected, 1}}));
      CHECK(d.app_access_requests ==
            counts<AppAccessStatus>({{AppAccessStatus::approved, 1}, {AppAccessStatus::draft, 1}}));
      CHECK(d.api_tokens == counts<TokenStatus>({{TokenStatus::active, 2}, {TokenStatus::inactive, 2}}));
      const StatusDashboard dg = reports.status_dashboard(g);
      CHECK(dg.downloads == counts<DownloadStatus>({{DownloadStatus::error, 1}, {DownloadStatus::pending, 3}}));
      CHECK(dg.app_access_requests == counts<AppAccessStatus>({{AppAccessStatus::denied, 2}}));
      CHECK(dg.api_tokens == counts<TokenStatus>({{TokenStatus::active, 4}}));
    }

    SECTION("tokens with their owner's login") {
      const auto rows = reports.tokens_with_owner(a);
      std::map<std::string, std::optional<std::string>> login;  // "user/name" -> login
      std::set<tenantry::Uuid> ids;
      for (const auto& r : rows) {
        login[r.user_id + "/" + r.name] = r.username;
        ids.insert(r.id);
        CHECK(r.token_prefix == "bodhiapp_" + r.user_id + "_" + r.name);
      }
      CHECK(rows.size() == 4);  // no duplicate for alice's two approved requests
      CHECK(ids.size() == 4);
      CHECK(login == std::map<std::string, std::optional<std::string>>{{"alice/ci", "alice@acme.example"},
                                                                       {"alice/laptop", "alice@acme.example"},
                                                                       {"bob/script", std::nullopt},
                                                                       {"carol/old", std::nullopt}});
      std::vector<std::string> users;
      for (const auto& r : rows) users.push_back(r.user_id);
      CHECK(users == std::vector<std::string>{"alice", "alice", "bob", "carol"});          // by owner
      for (const auto& r : rows) CHECK(s.tokens.get_api_token_by_id(a, r.user_id, r.id));  // acme's own tokens
      for (const auto& r : reports.tokens_with_owner(g))
        if (r.user_id == "alice") CHECK(r.username == "alice@globex.example");
    }

    SECTION("a user's toolsets with the org's switch, and those usable") {
      const auto rows = reports.toolsets_with_config(a, "alice");
      REQUIRE(rows.size() == 4);
      CHECK(rows[0].slug == "exa");
      CHECK(rows[0].type_enabled == true);
      CHECK(rows[0].type_updated_by == "admin-acme");
      CHECK(rows[1].slug == "exa-off");
      CHECK_FALSE(rows[1].enabled);
      CHECK(rows[1].type_enabled == true);
      CHECK(rows[2].slug == "fetch");
      CHECK(rows[2].type_enabled == std::nullopt);  // globex configured builtin-fetch; acme did not
      CHECK(rows[2].type_updated_by == std::nullopt);
      CHECK(rows[3].slug == "weather");
      CHECK(rows[3].type_enabled == false);  // enabled in globex
      for (const auto& r : rows) CHECK(s.toolsets.get_toolset(a, r.id));

      CHECK(reports.usable_toolsets(a, "alice") == std::vector<std::string>{"exa"});
      CHECK(reports.usable_toolsets(a, "bob") == std::vector<std::string>{"exa"});
      CHECK(reports.usable_toolsets(g, "alice") == std::vector<std::string>{"globex-only", "weather"});
      CHECK(reports.toolsets_with_config(a, "nobody").empty());
    }

    SECTION("aliases with their file's metadata, and those still without") {
      const auto rows = reports.aliases_with_metadata(a);
      REQUIRE(rows.size() == 2);
      CHECK(rows[0].alias == "llama3:instruct");
      REQUIRE(rows[0].capabilities);
      CHECK(rows[0].capabilities->text == R"({"tools": true})");
      CHECK(rows[0].context_max_input_tokens == 8192);
      CHECK(rows[0].architecture == "llama");
      CHECK(rows[1].alias == "phi3:mini");  // globex has metadata for this file, acme has not
      CHECK(rows[1].capabilities == std::nullopt);
      CHECK(rows[1].context_max_input_tokens == std::nullopt);
      CHECK(rows[1].architecture == std::nullopt);

      const auto waiting = reports.aliases_without_metadata(a);
      REQUIRE(waiting.size() == 1);
      CHECK(waiting[0] == ModelFile{"phi3:mini", "repo/" + std::string(file_phi), std::string(file_phi), "main"});
      const auto waiting_g = reports.aliases_without_metadata(g);
      REQUIRE(waiting_g.size() == 1);
      CHECK(waiting_g[0].alias == "mistral");
    }

    SECTION("the downloads page by keyset, newest first") {
      const auto p1 = s.models.list_download_requests_after(a, std::nullopt, 2);
      REQUIRE(p1.size() == 2);
      const auto p2 = s.models.list_download_requests_after(a, p1.back(), 2);
      REQUIRE(p2.size() == 1);
      CHECK(s.models.list_download_requests_after(a, p2.back(), 2).empty());
      // The same order as the offset-paged listing, and acme's rows only.
      const auto all = s.models.list_download_requests(a, 1, 100).items;
      REQUIRE(all.size() == 3);
      CHECK(p1[0].id == all[0].id);
      CHECK(p1[1].id == all[1].id);
      CHECK(p2[0].id == all[2].id);
      for (const auto& r : all) CHECK(r.org_id == a);
      // A cursor row of globex pages acme's rows, never globex's.
      const auto theirs = s.models.list_download_requests_after(g, std::nullopt, 100);
      REQUIRE(theirs.size() == 4);
      for (const auto& cursor : theirs)
        for (const auto& r : s.models.list_download_requests_after(a, cursor, 100)) CHECK(r.org_id == a);
    }
  }
}

TEST_CASE("app queries: the SQL of each, pinned for both dialects", "[app][queries][golden]") {
  // tests/golden/app_queries.<dialect>.sql; TENANTRY_UPDATE_GOLDEN=1 rewrites them.
  const auto all = []<class D>(std::type_identity<D>) {
    std::ostringstream out;
    out << "per status (downloads): " << tenantry::sql_of<D>(queries::per_status<&DownloadRequest::status>()) << '\n'
        << "per status (access requests): " << tenantry::sql_of<D>(queries::per_status<&UserAccessRequest::status>())
        << '\n'
        << "per status (app access requests): " << tenantry::sql_of<D>(queries::per_status<&AppAccessRequest::status>())
        << '\n'
        << "per status (tokens): " << tenantry::sql_of<D>(queries::per_status<&ApiToken::status>()) << '\n'
        << "tokens with owner: " << tenantry::sql_of<D>(queries::tokens_with_owner()) << '\n'
        << "toolsets with config: " << tenantry::sql_of<D>(queries::toolsets_with_config("u")) << '\n'
        << "usable toolsets: " << tenantry::sql_of<D>(queries::usable_toolsets("u")) << '\n'
        << "aliases with metadata: " << tenantry::sql_of<D>(queries::aliases_with_metadata()) << '\n'
        << "aliases without metadata: " << tenantry::sql_of<D>(queries::aliases_without_metadata()) << '\n';
    return out.str();
  };
  for (const auto& [file, actual] :
       {std::pair{std::string("app_queries.sqlite.sql"), all(std::type_identity<tenantry::SqliteDialect>{})},
        std::pair{std::string("app_queries.postgres.sql"), all(std::type_identity<tenantry::PgDialect>{})}}) {
    INFO(file);
    golden::check_golden(file, actual);
  }
}

TEST_CASE("app queries: every table of each statement carries the org", "[app][queries]") {
  // The joined table's org equality sits in the ON clause of its LEFT JOIN (in WHERE it would
  // turn the join inner; left out, it would join another org's access request or metadata).
  const auto orgs_of = [](const std::string& sql) {
    std::size_t n = 0;
    for (auto p = sql.find("\"org_id\" = $1"); p != std::string::npos; p = sql.find("\"org_id\" = $1", p + 1)) ++n;
    return n;
  };
  const std::string tokens = tenantry::sql_of<tenantry::PgDialect>(queries::tokens_with_owner());
  CHECK(
      tokens.find(R"(LEFT JOIN "access_requests" AS "t1" ON ("t1"."user_id" = "t0"."user_id" AND "t1"."status" = $2) )"
                  R"(AND "t1"."org_id" = $1 AND "t1"."org_id" = "t0"."org_id" WHERE "t0"."org_id" = $1 GROUP BY)") !=
      std::string::npos);
  CHECK(orgs_of(tokens) == 2);
  CHECK(orgs_of(tenantry::sql_of<tenantry::PgDialect>(queries::toolsets_with_config("u"))) == 2);
  CHECK(orgs_of(tenantry::sql_of<tenantry::PgDialect>(queries::usable_toolsets("u"))) == 2);  // the EXISTS too
  CHECK(orgs_of(tenantry::sql_of<tenantry::PgDialect>(queries::aliases_with_metadata())) == 2);
  CHECK(orgs_of(tenantry::sql_of<tenantry::PgDialect>(queries::aliases_without_metadata())) == 2);
  CHECK(orgs_of(tenantry::sql_of<tenantry::PgDialect>(queries::per_status<&ApiToken::status>())) == 1);
}
