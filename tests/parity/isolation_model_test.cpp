// A randomized isolation test: thousands of mixed repository operations over several orgs, each
// result checked against an in-memory model of what every org should have, and the whole table
// (read with plain SQL, no org filter) compared with the model at the end and at checkpoints.
//
// The operations include every way the known leak classes show up: reads and writes naming
// another org's id, bulk update/erase, upserts hitting and missing (on the org-leading UNIQUE
// and on the bare primary key), rows carrying another org, the same unique key in every org,
// transactions committed and rolled back with savepoints inside, and one connection serving
// every org in turn (so a statement cached for one org is reused for the next). A "leak" is any
// row of another org returned, or any row of another org changed: the test reports the count
// and requires it to be zero, along with every other result matching the model.
//
// TENANTRY_MODEL_SEED=<n> replays a run (the seed is printed per backend);
// TENANTRY_MODEL_OPS=<n> changes the number of operations (default 3000).
//
// Next to the tokens, each token may hold secrets in a table with no org column of its own,
// scoped through the token (model_token_secrets, tenantry::through<&TokenSecret::token_id>): the
// table shape whose hashes leaked when it was read as global. Secrets are inserted under the
// org's tokens and, as the attack, under other orgs' tokens (which must write nothing and throw
// OrgMismatch), read, listed, joined to their token and erased, and cascade with their token;
// the whole secrets table is compared with the model at every checkpoint too.
// A second run, run_text_model, does the same over a text-keyed entity set (TextOrgId slugs that
// differ only in case, hold quotes and semicolons, are 64 bytes long or not ASCII) on SQLite,
// PostgreSQL shared, row-level security and schema per org (tests/support/org_key_backends.hpp).
//
// A third model does the same for platform rows (types.hpp, PlatformScope): audit_events,
// whose org column is optional, holds rows of five orgs and rows of no org, and every operation
// runs in a random one of the six scopes (tenantry::platform being the sixth), naming ids of
// every scope and rows carrying a wrong scope. A leak is a row of another scope returned or
// changed, or a row stored in a scope the model does not have it in.
//
// Backends: ORG_ISOLATION_BACKENDS (SQLite file, PostgreSQL, PostgreSQL without server-side
// prepares, both through connect(url), schema per org) plus PostgresRlsApp below: row-level
// security with org_context, the tables owned by one role and used by another, neither
// superuser nor BYPASSRLS, so the database's policy is in force under every operation.
#include "support/backends.hpp"
#include "support/platform_entities.hpp"
#include "support/org_key_backends.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

using namespace tenantry;
using fixtures::ApiToken;
using fixtures::TokenStatus;

namespace model_fx {
/// A token's secret: no org column, scoped through its token.
struct TokenSecret {
  Uuid id;
  Uuid token_id;
  std::string hash;
};
}  // namespace model_fx
using model_fx::TokenSecret;

template <>
struct tenantry::entity<TokenSecret> {
  static constexpr auto scope = tenantry::through<&TokenSecret::token_id>;
  static constexpr std::string_view table = "model_token_secrets";
  static constexpr auto primary_key = key(&TokenSecret::id);
  static constexpr auto constraints = std::tuple{foreign_key(&TokenSecret::token_id, &ApiToken::id, on_delete::cascade)};
};

// Named, so that a unity build of tests/parity (tests/CMakeLists.txt) keeps this file's
// using-declarations and helpers to itself.
namespace isolation_model_test {

namespace {

// ---- PostgreSQL with row-level security, as an application role -------------------------------

using tenantry_test::as_role;  // support/pg_database.hpp

/// The fixture schema created with DdlOptions{row_level_security} by an owner role; the returned
/// connection is an application role granted DML only, with pg::Options{org_context}. Plain SQL
/// checks of "what is stored" go through admin() (the test server's superuser, which bypasses
/// every policy). Role names carry the process id: the roles are cluster-wide and several test
/// processes may share the server; the destructor of Roles drops them.
struct PostgresRlsApp {
  using Dialect = PgDialect;
  using Conn = pg::Connection;
  static constexpr std::string_view name = "postgres, row-level security, application role";
  static constexpr bool is_postgres = true;

  struct Roles {
    std::string owner = "tenantry_model_owner_" + std::to_string(::getpid());
    std::string app = "tenantry_model_app_" + std::to_string(::getpid());
    Roles() {
      Conn admin(parity::Postgres::url());
      for (const auto& r : {owner, app})
        admin.execute("DO $$ BEGIN CREATE ROLE " + r +
                      " LOGIN NOSUPERUSER NOBYPASSRLS; EXCEPTION WHEN duplicate_object THEN NULL; END $$");
    }
    ~Roles() {
      try {
        Conn admin(parity::Postgres::url());
        admin.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public; DROP OWNED BY " + owner + ", " + app +
                      "; DROP ROLE " + owner + "; DROP ROLE " + app);
      } catch (const std::exception& e) {
        std::cerr << "isolation model: could not drop the test roles: " << e.what() << '\n';
      }
    }
  };
  static Roles& roles() {
    static Roles r;
    return r;
  }
  static Conn& admin() {
    static Conn c(parity::Postgres::url());
    return c;
  }
  static Conn open() {
    Roles& r = roles();
    admin().execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public; GRANT ALL ON SCHEMA public TO " + r.owner +
                    "; GRANT USAGE ON SCHEMA public TO " + r.app);
    {
      Conn owner(as_role(parity::Postgres::url(), r.owner));
      owner.execute(schema_sql<Dialect, fixtures::Organization, ApiToken, TokenSecret, platform_fixtures::AuditEvent>(
          DdlOptions{.row_level_security = true}));
      owner.execute("GRANT SELECT, INSERT ON organizations TO " + r.app +
                    "; GRANT SELECT, INSERT, UPDATE, DELETE ON api_tokens, model_token_secrets, audit_events TO " + r.app);
    }
    return Conn(as_role(parity::Postgres::url(), r.app), pg::Options{.org_context = true});
  }
};

template <class B>
constexpr bool is_rls = std::is_same_v<B, PostgresRlsApp>;

/// The connection plain-SQL checks read through: the superuser for PostgresRlsApp (the app role
/// sees nothing without an org), the test's own connection elsewhere.
template <class B>
typename B::Conn& raw_conn(typename B::Conn& conn) {
  if constexpr (is_rls<B>) return PostgresRlsApp::admin();
  else return conn;
}

// ---- the model --------------------------------------------------------------------------------

/// What the test knows of a row: every column but the two timestamps, which stay constant.
struct Row {
  std::string org, id, user, name, prefix, hash, scopes, status;
  std::optional<std::string> last;
  friend bool operator==(const Row&, const Row&) = default;
};

std::string status_text(TokenStatus s) { return s == TokenStatus::active ? "active" : "revoked"; }

Row row_of(const ApiToken& t) {
  return Row{t.org_id.to_string(), t.id.to_string(), t.user_id, t.name, t.token_prefix, t.token_hash, t.scopes,
             status_text(t.status), t.last_used_by};
}

std::string describe(const Row& r) {
  return "{" + r.org.substr(0, 8) + " " + r.id.substr(0, 8) + " " + r.user + " " + r.name + " " + r.prefix + " " +
         r.hash + " " + r.scopes + " " + r.status + " " + r.last.value_or("NULL") + "}";
}

using Key = std::pair<std::string, std::string>;  // (org, id) as text

/// A secret as the test knows it: the org is its token's.
struct SecretRow {
  std::string org, token, hash;
  friend bool operator==(const SecretRow&, const SecretRow&) = default;
};

struct Model {
  std::map<Key, Row> rows;
  std::map<std::string, SecretRow> secrets;  // by secret id

  /// ON DELETE CASCADE: the secrets of tokens no longer there go with them.
  void cascade() {
    std::erase_if(secrets, [&](const auto& s) { return rows.count({s.second.org, s.second.token}) == 0; });
  }

  const Row* find(const std::string& org, const std::string& id) const {
    auto it = rows.find({org, id});
    return it == rows.end() ? nullptr : &it->second;
  }
  /// Another row of `org` holding `prefix` (the UNIQUE (org_id, token_prefix)), other than `id`.
  const Row* prefix_taken(const std::string& org, const std::string& prefix, const std::string& id = {}) const {
    for (auto it = rows.lower_bound({org, ""}); it != rows.end() && it->first.first == org; ++it)
      if (it->second.prefix == prefix && it->second.id != id) return &it->second;
    return nullptr;
  }
  /// The row with this id in any org (the primary key is the id alone, except per-org schemas).
  const Row* id_anywhere(const std::string& id) const {
    for (const auto& [k, r] : rows)
      if (k.second == id) return &r;
    return nullptr;
  }
  std::vector<Row> of(const std::string& org) const {
    std::vector<Row> out;
    for (auto it = rows.lower_bound({org, ""}); it != rows.end() && it->first.first == org; ++it)
      out.push_back(it->second);
    return out;
  }
  void put(const Row& r) { rows[{r.org, r.id}] = r; }
};

// ---- the run -----------------------------------------------------------------------------------

std::uint64_t env_or(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

template <class B>
class Run {
 public:
  using Conn = typename B::Conn;

  Run(std::uint64_t seed, int orgs) : rng_(seed) {
    // The secrets table: created with the others under row-level security, in each org's schema
    // by add_org under schema per org, here otherwise.
    if constexpr (!is_rls<B> && !parity::schema_per_org<B>) {
      if constexpr (std::is_same_v<Conn, Database>)
        conn_.execute(conn_.is_postgres() ? schema_sql<PgDialect, TokenSecret>() : schema_sql<SqliteDialect, TokenSecret>());
      else
        conn_.execute(schema_sql<typename B::Dialect, TokenSecret>());
    }
    for (int i = 0; i < orgs; ++i) orgs_.push_back(add_org("model-" + std::to_string(i)));
  }

  int leaks = 0;       // rows of another org returned or changed
  int mismatches = 0;  // any other disagreement with the model
  int ops = 0;
  std::map<std::string, int> counts;  // per operation, for the report

  /// The operation running now, named in the failure message of an unexpected exception.
  std::string current;

  void step(bool in_tx) {
    ++ops;
    const int pick = uniform(0, 111);
    current = "pick " + std::to_string(pick) + (in_tx ? " in a transaction" : "");
    if (pick < 10) insert(in_tx);
    else if (pick < 13) insert_other_org();
    else if (pick < 18) insert_many(in_tx);
    else if (pick < 30) find();
    else if (pick < 40) list();
    else if (pick < 46) count_exists();
    else if (pick < 54) update(in_tx);
    else if (pick < 61) set();
    else if (pick < 68) upsert_on_prefix();
    else if (pick < 74) upsert_on_id(in_tx);
    else if (pick < 81) erase();
    else if (pick < 85) erase_where();
    else if (pick < 89) update_where();
    else if (pick < 97) secret_insert(in_tx);
    else if (pick < 105) secret_read();
    else if (pick < 108) secret_erase_where();
    else if (!in_tx) transaction();
    else find();
  }

  /// Every stored row (with `where`, binding `args`), read with plain SQL and no org filter.
  /// Schema per org: read from each org's own schema, where a row must carry that schema's org;
  /// one that does not was written through the wrong schema, which the views in public (they
  /// show the org_id column, not the schema) would hide.
  template <class... Args>
  std::map<Key, Row> read_stored(const std::string& op, const std::string& where, const Args&... args) {
    std::map<Key, Row> stored;
    const std::string columns =
        "SELECT CAST(org_id AS TEXT), CAST(id AS TEXT), user_id, name, token_prefix, token_hash, scopes, status, "
        "last_used_by FROM ";
    if constexpr (parity::schema_per_org<B>) {
      for (const auto& o : orgs_) {
        const std::string sql = columns + "\"" + parity::FixtureOrgTables::schema_name(o) + "\".api_tokens" + where;
        parity::raw_query(
            conn_, sql,
            [&](auto& st) {
              Row r = read_raw(st);
              if (r.org != o.to_string()) {
                ++leaks;
                fail(op, "a row of org " + r.org.substr(0, 8) + " is stored in the schema of " + o.to_string().substr(0, 8));
              }
              stored[{o.to_string(), r.id}] = r;
            },
            args...);
      }
    } else {
      parity::raw_query(
          raw_conn<B>(conn_), columns + "api_tokens" + where,
          [&](auto& st) {
            Row r = read_raw(st);
            stored[{r.org, r.id}] = r;
          },
          args...);
    }
    return stored;
  }

  /// Every stored secret with its token's org, read with plain SQL and no filter ("none" for a
  /// secret whose token is gone, which the foreign key must make impossible).
  std::map<std::string, SecretRow> read_secrets() {
    std::map<std::string, SecretRow> out;
    const auto read = [&](auto& st, const std::string& org) {
      SecretRow r{org.empty() ? std::string(st.column_text(3)) : org, std::string(st.column_text(1)), std::string(st.column_text(2))};
      out[std::string(st.column_text(0))] = r;
    };
    const std::string columns = "SELECT CAST(s.id AS TEXT), CAST(s.token_id AS TEXT), s.hash, COALESCE(CAST(t.org_id AS TEXT), 'none') FROM ";
    if constexpr (parity::schema_per_org<B>) {
      for (const auto& o : orgs_) {
        const std::string schema = "\"" + parity::FixtureOrgTables::schema_name(o) + "\".";
        parity::raw_query(conn_, columns + schema + "model_token_secrets s LEFT JOIN " + schema + "api_tokens t ON t.id = s.token_id",
                          [&](auto& st) { read(st, o.to_string()); });
      }
    } else {
      parity::raw_query(raw_conn<B>(conn_), columns + "model_token_secrets s LEFT JOIN api_tokens t ON t.id = s.token_id",
                        [&](auto& st) { read(st, std::string()); });
    }
    return out;
  }

  /// The whole table against the model.
  void check_table(const char* when) {
    const std::map<std::string, SecretRow> secrets = read_secrets();
    for (const auto& [id, r] : model_.secrets) {
      auto it = secrets.find(id);
      if (it == secrets.end()) fail(when, "missing secret " + id);
      else if (!(it->second == r)) fail(when, "secret " + id + " differs: stored in " + it->second.org + " under " + it->second.token);
    }
    for (const auto& [id, r] : secrets)
      if (model_.secrets.count(id) == 0) {
        ++leaks;  // written under a token of another org (or of none)
        fail(when, "unexpected secret " + id + " of org " + r.org + " under token " + r.token);
      }
    const std::map<Key, Row> stored = read_stored(when, "");
    for (const auto& [k, r] : model_.rows) {
      auto it = stored.find(k);
      if (it == stored.end()) {
        fail(when, "missing row " + describe(r));
      } else if (!(it->second == r)) {
        fail(when, "row differs: stored " + describe(it->second) + ", model " + describe(r));
      }
    }
    for (const auto& [k, r] : stored)
      if (model_.rows.count(k) == 0) {
        // A row in an org the model does not have it in: written into, or moved to, the wrong org.
        ++leaks;
        fail(when, "unexpected row " + describe(r));
      }
  }

  Conn& conn() { return conn_; }
  const Model& model() const { return model_; }

 private:
  Conn conn_ = B::open();
  parity::Repo<B, ApiToken> tokens_{conn_};
  parity::Repo<B, TokenSecret> secrets_{conn_};
  std::mt19937_64 rng_;
  std::vector<OrgId> orgs_;
  Model model_;
  int fresh_ = 0;
  // Schema per org: each org has its own table, so the primary key (id) is unique per org only.
  static constexpr bool global_ids = !parity::schema_per_org<B>;

  OrgId add_org(std::string slug) {
    const OrgId org = parity::add_org(conn_, std::move(slug));
    if constexpr (parity::schema_per_org<B>) OrgSchemas<ApiToken, TokenSecret>::provision_org(conn_, org, DdlOptions{.if_not_exists = true});
    return org;
  }

  int uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool chance(int percent) { return uniform(0, 99) < percent; }
  OrgId any_org() { return orgs_[static_cast<std::size_t>(uniform(0, static_cast<int>(orgs_.size()) - 1))]; }
  OrgId other_org(const OrgId& not_this) {
    OrgId o = any_org();
    while (o == not_this) o = any_org();
    return o;
  }
  std::string pool_prefix() { return "p" + std::to_string(uniform(0, 5)); }  // collides within and across orgs
  std::string pool_user() { return "u" + std::to_string(uniform(0, 2)); }
  TokenStatus any_status() { return chance(50) ? TokenStatus::active : TokenStatus::revoked; }

  void fail(const std::string& op, const std::string& what) {
    ++mismatches;
    if (mismatches <= 20) FAIL_CHECK(B::name << ": " << op << ": " << what);
  }
  void check_leak(const std::string& op, const OrgId& org, const ApiToken& t) {
    if (t.org_id != org) {
      ++leaks;
      fail(op, "returned a row of another org: " + describe(row_of(t)));
    }
  }

  /// A random existing row, or nullptr when the model is empty.
  const Row* any_row() {
    if (model_.rows.empty()) return nullptr;
    auto it = model_.rows.begin();
    std::advance(it, uniform(0, static_cast<int>(model_.rows.size()) - 1));
    return &it->second;
  }
  /// An id for `org` to name: its own row's, another org's row's (the cross-tenant probe), or
  /// one nobody has.
  std::string probe_id(const OrgId& org) {
    const int k = uniform(0, 9);
    if (k < 5) {
      const auto own = model_.of(org.to_string());
      if (!own.empty()) return own[static_cast<std::size_t>(uniform(0, static_cast<int>(own.size()) - 1))].id;
    }
    if (k < 9)
      if (const Row* r = any_row()) return r->id;
    return Uuid::random().to_string();
  }

  ApiToken fresh_token(const std::string& prefix) {
    ApiToken t = testdb::make_token(prefix, pool_user());
    t.name = "n" + std::to_string(uniform(0, 9));
    t.status = any_status();
    if (chance(30)) t.last_used_by = "ip" + std::to_string(uniform(0, 9));
    return t;
  }
  static ApiToken token_of(const Row& r) {
    ApiToken t = testdb::make_token(r.prefix, r.user);
    t.id = Uuid::parse(r.id);
    t.org_id = OrgId::parse(r.org);
    t.name = r.name;
    t.token_hash = r.hash;
    t.scopes = r.scopes;
    t.status = r.status == "active" ? TokenStatus::active : TokenStatus::revoked;
    t.last_used_by = r.last;
    return t;
  }

  /// The rows of other orgs sharing `id` must be exactly as modelled after an operation of `org`
  /// (one plain-SQL query, no org filter).
  void check_others_untouched(const std::string& op, const OrgId& org, const std::string& id) {
    // Under row-level security the check reads through another connection, which cannot see what
    // an open transaction wrote; the checkpoints after it commits compare everything.
    if (is_rls<B> && conn_.in_transaction()) return;
    std::map<std::string, Row> stored;
    for (const auto& [k, r] : read_stored(op, " WHERE CAST(id AS TEXT) = ?1", id))
      if (k.first != org.to_string()) stored[k.first] = r;
    std::map<std::string, Row> want;
    for (const auto& [k, r] : model_.rows)
      if (k.second == id && k.first != org.to_string()) want[k.first] = r;
    if (stored != want) {
      ++leaks;
      std::string detail;
      for (const auto& [o, r] : stored) detail += " stored " + describe(r);
      for (const auto& [o, r] : want) detail += " model " + describe(r);
      fail(op + " in " + org.to_string().substr(0, 8), "another org's row with id " + id + " changed, appeared or vanished:" + detail);
    }
  }

  template <class St>
  static Row read_raw(St& st) {
    Row r;
    std::string* cols[] = {&r.org, &r.id, &r.user, &r.name, &r.prefix, &r.hash, &r.scopes, &r.status};
    for (int c = 0; c < 8; ++c) *cols[c] = std::string(st.column_text(c));
    if (!st.column_is_null(8)) r.last = std::string(st.column_text(8));
    return r;
  }

  /// Runs f, which the model says must throw Ex; inside a transaction in a savepoint, since a
  /// failed statement aborts a PostgreSQL transaction.
  template <class Ex, class F>
  void expect_failure(const std::string& op, bool in_tx, F&& f) {
    std::optional<Transaction<Conn>> sp;
    if (in_tx) sp.emplace(conn_.transaction());
    try {
      f();
      fail(op, "succeeded, the model expected a failure");
    } catch (const Ex&) {
    }
    if (sp) sp->rollback();
  }

  // ---- operations ----

  void insert(bool in_tx) {
    ++counts["insert"];
    const OrgId org = any_org();
    ApiToken t = fresh_token(pool_prefix());
    // Sometimes reuse another row's id: the primary key is not per org (except schema per org).
    const Row* same_id = nullptr;
    if (chance(15))
      if (const Row* r = any_row()) {
        t.id = Uuid::parse(r->id);
        same_id = r;
      }
    // Schema per org: the id may be in this org as well as in the one it was picked from.
    const bool id_taken = same_id != nullptr && (global_ids || model_.find(org.to_string(), same_id->id) != nullptr);
    current += ": insert into " + org.to_string().substr(0, 8) + " id " + t.id.to_string() +
               (same_id ? " (the id of a row of " + same_id->org.substr(0, 8) + ")" : "");
    if (id_taken || model_.prefix_taken(org.to_string(), t.token_prefix)) {
      expect_failure<UniqueViolation>("insert", in_tx, [&] { tokens_.insert(org, t); });
    } else {
      tokens_.insert(org, t);
      model_.put(row_of(t));
    }
    check_others_untouched("insert", org, t.id.to_string());
  }

  void insert_other_org() {
    ++counts["insert naming another org"];
    const OrgId org = any_org();
    ApiToken t = fresh_token("x" + std::to_string(++fresh_));
    t.org_id = other_org(org);
    try {
      tokens_.insert(org, t);
      ++leaks;
      fail("insert naming another org", "accepted");
    } catch (const OrgMismatch&) {
    }
    std::vector<ApiToken> batch{fresh_token("x" + std::to_string(++fresh_)), t};
    try {
      tokens_.insert_many(org, batch);
      ++leaks;
      fail("insert_many naming another org", "accepted");
    } catch (const OrgMismatch&) {
    }
  }

  void insert_many(bool in_tx) {
    ++counts["insert_many"];
    const OrgId org = any_org();
    std::vector<ApiToken> batch;
    const int n = uniform(1, 4);
    for (int i = 0; i < n; ++i) batch.push_back(fresh_token("m" + std::to_string(++fresh_)));
    // One batch in five collides inside the org: all or nothing.
    const bool collide = chance(20) && !model_.of(org.to_string()).empty();
    if (collide) batch.back().token_prefix = model_.of(org.to_string()).front().prefix;
    if (collide) {
      // insert_many runs in its own savepoint: no outer one needed.
      try {
        tokens_.insert_many(org, batch);
        fail("insert_many", "succeeded, the model expected a unique violation");
      } catch (const UniqueViolation&) {
      }
      (void)in_tx;
    } else {
      tokens_.insert_many(org, batch);
      for (const auto& t : batch) model_.put(row_of(t));
    }
  }

  void find() {
    ++counts["find"];
    const OrgId org = any_org();
    const std::string id = probe_id(org);
    const auto got = tokens_.find(org, Uuid::parse(id));
    const Row* want = model_.find(org.to_string(), id);
    if (got) check_leak("find", org, *got);
    if (!want && got) fail("find", "found " + describe(row_of(*got)) + ", the model has nothing");
    else if (want && !got) fail("find", "found nothing, the model has " + describe(*want));
    else if (want && !(row_of(*got) == *want)) fail("find", "found " + describe(row_of(*got)) + ", model " + describe(*want));
  }

  void list() {
    ++counts["list"];
    const OrgId org = any_org();
    std::vector<Row> want = model_.of(org.to_string());
    std::sort(want.begin(), want.end(), [](const Row& a, const Row& b) { return a.prefix < b.prefix; });
    std::vector<ApiToken> got;
    const int shape = uniform(0, 3);
    const std::string user = pool_user();
    const TokenStatus status = any_status();
    const std::int64_t n = uniform(1, 6);
    std::vector<Row> filtered;
    for (const auto& r : want)
      if ((shape != 1 && shape != 3) || r.user == user)
        if (shape != 2 || r.status == status_text(status)) filtered.push_back(r);
    switch (shape) {
      case 0: got = tokens_.list(org, order_by(&ApiToken::token_prefix)); break;
      case 1: got = tokens_.list(org, col(&ApiToken::user_id) == user, order_by(&ApiToken::token_prefix)); break;
      case 2:
        got = tokens_.list(org, col(&ApiToken::status) == status, order_by(&ApiToken::token_prefix), limit(n));
        if (filtered.size() > static_cast<std::size_t>(n)) filtered.resize(static_cast<std::size_t>(n));
        break;
      default:
        got = tokens_.list(org, col(&ApiToken::user_id) == user, order_by(&ApiToken::token_prefix).desc(), limit(n),
                           offset(1));
        std::reverse(filtered.begin(), filtered.end());
        filtered.erase(filtered.begin(), filtered.begin() + std::min<std::ptrdiff_t>(1, static_cast<std::ptrdiff_t>(filtered.size())));
        if (filtered.size() > static_cast<std::size_t>(n)) filtered.resize(static_cast<std::size_t>(n));
        break;
    }
    for (const auto& t : got) check_leak("list", org, t);
    std::vector<Row> got_rows;
    for (const auto& t : got) got_rows.push_back(row_of(t));
    if (got_rows != filtered)
      fail("list", "shape " + std::to_string(shape) + ": " + std::to_string(got_rows.size()) + " rows, the model " +
                       std::to_string(filtered.size()));
  }

  void count_exists() {
    ++counts["count/exists"];
    const OrgId org = any_org();
    const std::string user = pool_user();
    const auto own = model_.of(org.to_string());
    const auto with_user = std::count_if(own.begin(), own.end(), [&](const Row& r) { return r.user == user; });
    if (tokens_.count(org) != static_cast<std::int64_t>(own.size())) fail("count", "differs");
    if (tokens_.count(org, col(&ApiToken::user_id) == user) != with_user) fail("count where", "differs");
    if (tokens_.exists(org, col(&ApiToken::user_id) == user) != (with_user > 0)) fail("exists", "differs");
    const std::string id = probe_id(org);
    if (tokens_.exists(org, col(&ApiToken::id) == Uuid::parse(id)) != (model_.find(org.to_string(), id) != nullptr)) {
      if (model_.find(org.to_string(), id) == nullptr) ++leaks;
      fail("exists by id", "differs for " + id);
    }
  }

  void update(bool in_tx) {
    ++counts["update"];
    const OrgId org = any_org();
    const std::string id = probe_id(org);
    const Row* target = model_.find(org.to_string(), id);
    Row next = target ? *target : Row{org.to_string(), id, "u0", "n", "q" + std::to_string(++fresh_), "h", "read", "active", {}};
    next.name = "upd" + std::to_string(uniform(0, 99));
    next.status = status_text(any_status());
    if (chance(40)) next.prefix = pool_prefix();
    ApiToken t = token_of(next);
    t.org_id = OrgId{};  // a nil org in the row takes the call's org: only the key decides
    if (target && model_.prefix_taken(org.to_string(), next.prefix, id)) {
      expect_failure<UniqueViolation>("update", in_tx, [&] { tokens_.update(org, t); });
    } else {
      const bool changed = tokens_.update(org, t);
      if (changed != (target != nullptr)) {
        if (changed) ++leaks;
        fail("update", std::string("returned ") + (changed ? "true" : "false") + " for " + id);
      }
      if (target) model_.put(next);
    }
    check_others_untouched("update", org, id);
  }

  void set() {
    ++counts["set"];
    const OrgId org = any_org();
    const std::string id = probe_id(org);
    const TokenStatus s = any_status();
    const bool changed = tokens_.set(org, Uuid::parse(id), &ApiToken::status, s);
    Row* target = model_.rows.count({org.to_string(), id}) ? &model_.rows[{org.to_string(), id}] : nullptr;
    if (changed != (target != nullptr)) {
      if (changed) ++leaks;
      fail("set", std::string("returned ") + (changed ? "true" : "false") + " for " + id);
    }
    if (target) target->status = status_text(s);
    check_others_untouched("set", org, id);
  }

  void upsert_on_prefix() {
    ++counts["upsert on (org, prefix)"];
    const OrgId org = any_org();
    ApiToken t = fresh_token(pool_prefix());
    const Row* existing = model_.prefix_taken(org.to_string(), t.token_prefix);
    ApiToken back = tokens_.upsert(org, std::as_const(t), on_conflict(&ApiToken::org_id, &ApiToken::token_prefix));
    check_leak("upsert", org, back);
    Row want = row_of(t);
    want.org = org.to_string();
    if (existing) want.id = existing->id;  // hit: the existing row, updated
    if (!(row_of(back) == want)) fail("upsert on prefix", "read back " + describe(row_of(back)) + ", model " + describe(want));
    model_.put(want);
    check_others_untouched("upsert on prefix", org, want.id);
  }

  void upsert_on_id(bool in_tx) {
    ++counts["upsert on id"];
    const OrgId org = any_org();
    const std::string id = probe_id(org);
    ApiToken t = fresh_token(chance(50) ? pool_prefix() : "v" + std::to_string(++fresh_));
    t.id = Uuid::parse(id);
    const Row* own = model_.find(org.to_string(), id);
    const Row* elsewhere = global_ids ? model_.id_anywhere(id) : nullptr;
    const bool other_orgs_id = own == nullptr && elsewhere != nullptr;
    const bool prefix_clash = model_.prefix_taken(org.to_string(), t.token_prefix, id) != nullptr;
    current += ": upsert on id into " + org.to_string().substr(0, 8) + " id " + id + (own ? " (own)" : "");
    if (other_orgs_id || prefix_clash) {
      // Another org's row holds the id: the guarded DO UPDATE touches nothing and the repository
      // reports a unique violation (under row-level security the database may refuse first).
      if constexpr (is_rls<B>)
        expect_failure<DatabaseError>("upsert on id", in_tx, [&] { tokens_.upsert(org, t, on_conflict(&ApiToken::id)); });
      else
        expect_failure<UniqueViolation>("upsert on id", in_tx, [&] { tokens_.upsert(org, t, on_conflict(&ApiToken::id)); });
    } else {
      ApiToken back = tokens_.upsert(org, std::as_const(t), on_conflict(&ApiToken::id));
      check_leak("upsert on id", org, back);
      Row want = row_of(t);
      want.org = org.to_string();
      if (!(row_of(back) == want)) fail("upsert on id", "read back " + describe(row_of(back)) + ", model " + describe(want));
      model_.put(want);
    }
    check_others_untouched("upsert on id", org, id);
  }

  void erase() {
    ++counts["erase"];
    const OrgId org = any_org();
    const std::string id = probe_id(org);
    const bool removed = tokens_.erase(org, Uuid::parse(id));
    const bool want = model_.rows.erase({org.to_string(), id}) > 0;
    model_.cascade();
    if (removed != want) {
      if (removed) ++leaks;
      fail("erase", std::string("returned ") + (removed ? "true" : "false") + " for " + id);
    }
    check_others_untouched("erase", org, id);
  }

  void erase_where() {
    ++counts["erase_where"];
    const OrgId org = any_org();
    const std::string user = pool_user();
    const std::string status = status_text(any_status());
    std::int64_t want = 0;
    for (auto it = model_.rows.begin(); it != model_.rows.end();) {
      if (it->first.first == org.to_string() && it->second.user == user && it->second.status == status) {
        it = model_.rows.erase(it);
        ++want;
      } else {
        ++it;
      }
    }
    model_.cascade();
    const std::int64_t got = tokens_.erase_where(
        org, col(&ApiToken::user_id) == user && col(&ApiToken::status) == (status == "active" ? TokenStatus::active : TokenStatus::revoked));
    if (got != want) {
      if (got > want) ++leaks;
      fail("erase_where", std::to_string(got) + " rows, the model " + std::to_string(want));
    }
  }

  void update_where() {
    ++counts["update_where"];
    const OrgId org = any_org();
    const std::string user = pool_user();
    const std::string name = "bulk" + std::to_string(uniform(0, 99));
    std::int64_t want = 0;
    for (auto& [k, r] : model_.rows)
      if (k.first == org.to_string() && r.user == user) {
        r.name = name;
        ++want;
      }
    const std::int64_t got = tokens_.update_where(org, col(&ApiToken::user_id) == user, assign(col(&ApiToken::name), name));
    if (got != want) {
      if (got > want) ++leaks;
      fail("update_where", std::to_string(got) + " rows, the model " + std::to_string(want));
    }
  }

  // ---- secrets, scoped through their token ----

  /// A secret id for `org` to name: its own secret's, another org's, or one nobody has.
  std::string probe_secret(const OrgId& org) {
    std::vector<std::string> own, all;
    for (const auto& [id, r] : model_.secrets) {
      all.push_back(id);
      if (r.org == org.to_string()) own.push_back(id);
    }
    const int k = uniform(0, 9);
    if (k < 5 && !own.empty()) return own[static_cast<std::size_t>(uniform(0, static_cast<int>(own.size()) - 1))];
    if (k < 9 && !all.empty()) return all[static_cast<std::size_t>(uniform(0, static_cast<int>(all.size()) - 1))];
    return Uuid::random().to_string();
  }

  void secret_insert(bool in_tx) {
    ++counts["secret insert"];
    const OrgId org = any_org();
    const std::string token = probe_id(org);  // the org's token, another org's, or none
    const TokenSecret s{Uuid::random(), Uuid::parse(token), "s" + std::to_string(uniform(0, 5))};
    current += ": secret insert into " + org.to_string().substr(0, 8) + " under token " + token;
    if (model_.find(org.to_string(), token) != nullptr) {
      secrets_.insert(org, s);
      model_.secrets[s.id.to_string()] = SecretRow{org.to_string(), token, s.hash};
      return;
    }
    ++counts["secret insert under another org's token"];
    std::optional<Transaction<Conn>> sp;
    if (in_tx) sp.emplace(conn_.transaction());
    bool written = false;
    try {
      secrets_.insert(org, s);
      written = true;
    } catch (const OrgMismatch&) {
    }
    if (sp) sp->rollback();
    if (written) {
      ++leaks;
      fail("secret insert", "accepted a secret under token " + token + ", which is not a token of " + org.to_string());
    }
  }

  void secret_read() {
    ++counts["secret read"];
    const OrgId org = any_org();
    const std::string o = org.to_string();
    const std::string id = probe_secret(org);
    const auto got = secrets_.find(org, Uuid::parse(id));
    const auto at = model_.secrets.find(id);
    const bool want = at != model_.secrets.end() && at->second.org == o;
    if (got && !want) {
      ++leaks;
      fail("secret find", "found secret " + id + ", which is not a secret of " + o);
    } else if (!got && want) {
      fail("secret find", "found nothing for secret " + id);
    } else if (got && (got->hash != at->second.hash || got->token_id.to_string() != at->second.token)) {
      fail("secret find", "secret " + id + " differs");
    }
    // The org's secrets, by the repository and joined to their tokens.
    std::map<std::string, std::string> want_list, want_join;
    for (const auto& [sid, r] : model_.secrets)
      if (r.org == o) {
        want_list[sid] = r.hash;
        want_join[sid] = model_.find(o, r.token)->prefix;
      }
    std::map<std::string, std::string> got_list, got_join;
    for (const TokenSecret& x : secrets_.list(org)) got_list[x.id.to_string()] = x.hash;
    const auto joined = select(col(&TokenSecret::id), col(&ApiToken::token_prefix))
                            .from<TokenSecret>()
                            .join<ApiToken>(col(&ApiToken::id) == col(&TokenSecret::token_id));
    for (const auto& [sid, prefix] : fetch(conn_, org, joined)) got_join[sid.to_string()] = prefix;
    for (const auto* got_map : {&got_list, &got_join})
      for (const auto& [sid, v] : *got_map)
        if (want_list.count(sid) == 0) {
          ++leaks;
          fail("secret list/join", "returned secret " + sid + ", which is not a secret of " + o);
        }
    if (got_list != want_list) fail("secret list", std::to_string(got_list.size()) + " secrets, the model " + std::to_string(want_list.size()));
    if (got_join != want_join) fail("secret join", std::to_string(got_join.size()) + " rows, the model " + std::to_string(want_join.size()));
    if (secrets_.count(org) != static_cast<std::int64_t>(want_list.size())) fail("secret count", "differs");
  }

  void secret_erase_where() {
    ++counts["secret erase_where"];
    const OrgId org = any_org();
    const std::string hash = "s" + std::to_string(uniform(0, 5));
    std::int64_t want = 0;
    for (auto it = model_.secrets.begin(); it != model_.secrets.end();) {
      if (it->second.org == org.to_string() && it->second.hash == hash) {
        it = model_.secrets.erase(it);
        ++want;
      } else {
        ++it;
      }
    }
    const std::int64_t got = secrets_.erase_where(org, col(&TokenSecret::hash) == hash);
    if (got != want) {
      if (got > want) ++leaks;
      fail("secret erase_where", std::to_string(got) + " rows, the model " + std::to_string(want));
    }
  }

  /// A transaction of a few operations, with a savepoint inside half the time; committed or
  /// rolled back (each independently), the model following.
  void transaction() {
    ++counts["transaction"];
    const Model before = model_;
    auto tx = conn_.transaction();
    const int n = uniform(2, 8);
    for (int i = 0; i < n; ++i) step(true);
    if (chance(50)) {
      ++counts["savepoint"];
      const Model at_savepoint = model_;
      auto sp = conn_.transaction();
      const int m = uniform(1, 5);
      for (int i = 0; i < m; ++i) step(true);
      if (chance(50)) {
        sp.rollback();
        model_ = at_savepoint;
        ++counts["savepoint rolled back"];
      } else {
        sp.commit();
      }
      // The connection must work on after the savepoint, whatever the org it set before it.
      find();
    }
    if (chance(60)) {
      tx.commit();
      ++counts["committed"];
    } else {
      tx.rollback();
      model_ = before;
      ++counts["rolled back"];
    }
    if (parity::native_in_transaction(conn_)) fail("transaction", "the database still has a transaction open");
  }
};

template <class B>
void run_model() {
  const std::uint64_t seed = env_or("TENANTRY_MODEL_SEED", std::random_device{}());
  const int ops = static_cast<int>(env_or("TENANTRY_MODEL_OPS", 3000));
  INFO(B::name << ": TENANTRY_MODEL_SEED=" << seed);
  const auto start = std::chrono::steady_clock::now();
  Run<B> run(seed, 5);
  try {
    while (run.ops < ops) {
      run.step(false);
      if (run.ops % 250 == 0) run.check_table("checkpoint");
    }
  } catch (const std::exception& e) {
    std::string where;
    if (const auto id = run.current.find(" id "); id != std::string::npos)
      for (const auto& [k, r] : run.read_stored("diagnosis", " WHERE CAST(id AS TEXT) = ?1", run.current.substr(id + 4, 36)))
        where += " [stored in " + k.first.substr(0, 8) + ": " + describe(r) + "]";
    FAIL(B::name << ": operation " << run.ops << " (" << run.current << ") threw: " << e.what() << where);
  }
  run.check_table("end");

  if constexpr (is_rls<B>) {
    // Outside any transaction the application role has no org: plain SQL fails loudly
    // (OrgContextMissing), although the table holds every org's rows.
    CHECK_THROWS_AS(parity::raw_count(run.conn(), "SELECT COUNT(*) FROM api_tokens"), OrgContextMissing);
    CHECK(parity::raw_text(run.conn(), "SELECT current_setting('app.current_org_id', true)").value_or("") == "");
  }

  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  std::cout << "isolation model [" << B::name << (B::is_postgres ? "" : ", sqlite") << "] seed " << seed << ": " << run.ops << " operations, "
            << run.model().rows.size() << " rows and " << run.model().secrets.size() << " secrets in 5 orgs, leaks " << run.leaks << ", other mismatches "
            << run.mismatches - run.leaks << ", " << ms << " ms\n  ";
  for (const auto& [op, n] : run.counts) std::cout << op << " " << n << "; ";
  std::cout << '\n';
  CHECK(run.leaks == 0);
  CHECK(run.mismatches == 0);
  // The run must actually have exercised the operations it claims to.
  for (const char* op : {"insert", "insert_many", "find", "list", "update", "set", "upsert on (org, prefix)",
                         "upsert on id", "erase", "erase_where", "update_where", "transaction", "savepoint",
                         "savepoint rolled back", "committed", "rolled back", "secret insert",
                         "secret insert under another org's token", "secret read", "secret erase_where"})
    CHECK(run.counts[op] > 0);
  CHECK(run.model().rows.size() > 20);
}

}  // namespace

// ---- the platform-row model ---------------------------------------------------------------------

namespace {

using platform_fixtures::AuditEvent;

/// An event as the test knows it; scope "" is the platform scope (no org).
struct Event {
  std::string scope, id, code, what;
  int level = 0;
  friend bool operator==(const Event&, const Event&) = default;
};
std::string describe(const Event& e) {
  return "{" + (e.scope.empty() ? std::string("platform") : e.scope.substr(0, 8)) + " " + e.id.substr(0, 8) + " " +
         e.code + " " + e.what + " " + std::to_string(e.level) + "}";
}
Event event_of(const AuditEvent& e) {
  return Event{e.org_id ? e.org_id->to_string() : std::string(), e.id.to_string(), e.code, e.what, e.level};
}

template <class B>
void create_events_table(typename B::Conn& conn) {
  if constexpr (is_rls<B>) {
    (void)conn;  // created with its policy by the owner (PostgresRlsApp::open)
  } else if constexpr (std::is_same_v<typename B::Conn, Database>) {
    conn.execute(conn.is_postgres() ? platform_fixtures::events_schema<PgDialect>()
                                    : platform_fixtures::events_schema<SqliteDialect>());
  } else {
    conn.execute(platform_fixtures::events_schema<typename B::Conn::dialect>());
  }
}

template <class B>
class PlatformRun {
 public:
  using Conn = typename B::Conn;
  PlatformRun(std::uint64_t seed, int orgs) : rng_(seed) {
    create_events_table<B>(conn_);
    for (int i = 0; i < orgs; ++i) orgs_.push_back(parity::add_org(conn_, "platform-model-" + std::to_string(i)));
  }
  int leaks = 0, mismatches = 0, ops = 0;
  std::map<std::string, int> counts;
  std::string current;

  void step(bool in_tx) {
    ++ops;
    const int pick = uniform(0, 99);
    const std::optional<OrgId> scope = any_scope();
    current = "pick " + std::to_string(pick) + " in " + name(scope);
    if (pick < 11) insert(scope, in_tx);
    else if (pick < 14) insert_many(scope, in_tx);
    else if (pick < 18) insert_wrong_scope(scope);
    else if (pick < 25) find(scope);
    else if (pick < 30) find_many(scope);
    else if (pick < 40) list(scope);
    else if (pick < 46) count_exists(scope);
    else if (pick < 54) update(scope, in_tx);
    else if (pick < 60) set(scope);
    else if (pick < 64) upsert_on_code(scope);
    else if (pick < 67) put_on_code(scope);
    else if (pick < 73) upsert_on_id(scope, in_tx);
    else if (pick < 81) erase(scope);
    else if (pick < 85) erase_where(scope);
    else if (pick < 89) update_where(scope);
    else if (pick < 92) query(scope);
    else if (!in_tx) transaction();
    else find(scope);
  }

  void check_table(const char* when) {
    std::map<std::string, Event> stored;
    parity::raw_query(raw_conn<B>(conn_),
                      "SELECT COALESCE(CAST(org_id AS TEXT), ''), CAST(id AS TEXT), code, what, level FROM audit_events",
                      [&](auto& st) {
                        Event e{std::string(st.column_text(0)), std::string(st.column_text(1)),
                                std::string(st.column_text(2)), std::string(st.column_text(3)),
                                static_cast<int>(st.column_int(4))};
                        stored[e.id] = e;
                      });
    for (const auto& [id, e] : model_)
      if (!stored.count(id)) fail(when, "missing " + describe(e));
      else if (!(stored[id] == e)) {
        if (stored[id].scope != e.scope) ++leaks;
        fail(when, "stored " + describe(stored[id]) + ", model " + describe(e));
      }
    for (const auto& [id, e] : stored)
      if (!model_.count(id)) {
        ++leaks;
        fail(when, "unexpected " + describe(e));
      }
  }
  Conn& conn() { return conn_; }
  std::size_t rows() const { return model_.size(); }
  std::size_t platform_rows() const {
    return static_cast<std::size_t>(std::count_if(model_.begin(), model_.end(), [](const auto& kv) { return kv.second.scope.empty(); }));
  }

 private:
  Conn conn_ = B::open();
  parity::Repo<B, AuditEvent> events_{conn_};
  std::mt19937_64 rng_;
  std::vector<OrgId> orgs_;
  std::map<std::string, Event> model_;  // by id (the primary key is the id alone)
  int fresh_ = 0;

  static std::string key(const std::optional<OrgId>& s) { return s ? s->to_string() : std::string(); }
  static std::string name(const std::optional<OrgId>& s) { return s ? s->to_string().substr(0, 8) : std::string("platform"); }
  int uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool chance(int percent) { return uniform(0, 99) < percent; }
  std::optional<OrgId> any_scope() {
    const int k = uniform(0, static_cast<int>(orgs_.size()));  // one in six: the platform scope
    if (k == static_cast<int>(orgs_.size())) return std::nullopt;
    return orgs_[static_cast<std::size_t>(k)];
  }
  std::optional<OrgId> other_scope(const std::optional<OrgId>& not_this) {
    std::optional<OrgId> s = any_scope();
    while (s == not_this) s = any_scope();
    return s;
  }
  std::string pool_code() { return "c" + std::to_string(uniform(0, 4)); }  // collides within and across scopes

  void fail(const std::string& op, const std::string& what) {
    ++mismatches;
    if (mismatches <= 20) FAIL_CHECK(B::name << ": platform model: " << op << " (" << current << "): " << what);
  }
  void check_scope(const std::string& op, const std::optional<OrgId>& s, const AuditEvent& e) {
    if (e.org_id != s) {
      ++leaks;
      fail(op, "returned a row of another scope: " + describe(event_of(e)));
    }
  }
  std::vector<Event> of(const std::optional<OrgId>& s) const {
    std::vector<Event> out;
    for (const auto& [id, e] : model_)
      if (e.scope == key(s)) out.push_back(e);
    return out;
  }
  const Event* code_taken(const std::optional<OrgId>& s, const std::string& code, const std::string& but = {}) const {
    for (const auto& [id, e] : model_)
      if (e.scope == key(s) && e.code == code && id != but) return &e;
    return nullptr;
  }
  const Event* in_scope(const std::optional<OrgId>& s, const std::string& id) const {
    auto it = model_.find(id);
    return it != model_.end() && it->second.scope == key(s) ? &it->second : nullptr;
  }
  /// An id to name: the scope's own, any scope's (the probe), or nobody's.
  std::string probe_id(const std::optional<OrgId>& s) {
    const int k = uniform(0, 9);
    if (k < 5) {
      const auto own = of(s);
      if (!own.empty()) return own[static_cast<std::size_t>(uniform(0, static_cast<int>(own.size()) - 1))].id;
    }
    if (k < 9 && !model_.empty()) {
      auto it = model_.begin();
      std::advance(it, uniform(0, static_cast<int>(model_.size()) - 1));
      return it->first;
    }
    return Uuid::random().to_string();
  }
  AuditEvent fresh(const std::optional<OrgId>& s, std::string code) {
    AuditEvent e = platform_fixtures::make_event(std::move(code), s, uniform(0, 3));
    e.what = "w" + std::to_string(uniform(0, 9));
    return e;
  }
  // Each call in its scope: tenantry::platform for none.
  template <class F>
  decltype(auto) in(const std::optional<OrgId>& s, F&& f) {
    if (s) return f(*s);
    return f(platform);
  }
  template <class Ex, class F>
  void expect_failure(const std::string& op, bool in_tx, F&& f) {
    std::optional<Transaction<Conn>> sp;
    if (in_tx) sp.emplace(conn_.transaction());
    try {
      f();
      fail(op, "succeeded, the model expected a failure");
    } catch (const Ex&) {
    }
    if (sp) sp->rollback();
  }

  void insert(const std::optional<OrgId>& s, bool in_tx) {
    ++counts["insert"];
    AuditEvent e = fresh(s, pool_code());
    if (chance(10) && !model_.empty()) e.id = Uuid::parse(model_.begin()->first);  // an id of any scope
    const bool clash = model_.count(e.id.to_string()) > 0 || code_taken(s, e.code) != nullptr;
    if (clash) {
      expect_failure<UniqueViolation>("insert", in_tx, [&] { in(s, [&](auto sc) { events_.insert(sc, e); }); });
    } else {
      in(s, [&](auto sc) { events_.insert(sc, e); });
      model_[e.id.to_string()] = event_of(e);
      if (!s) ++counts["insert of a platform row"];
    }
  }
  // Three rows at once (one unnest statement on PostgreSQL), a code of the pool now and then.
  void insert_many(const std::optional<OrgId>& s, bool in_tx) {
    ++counts["insert_many"];
    std::vector<AuditEvent> batch;
    for (int i = 0; i < 3; ++i) batch.push_back(fresh(s, chance(20) ? pool_code() : "n" + std::to_string(++fresh_)));
    bool clash = false;
    std::set<std::string> codes;
    for (const auto& e : batch) clash = clash || code_taken(s, e.code) != nullptr || !codes.insert(e.code).second;
    if (clash) {
      expect_failure<UniqueViolation>("insert_many", in_tx, [&] { in(s, [&](auto sc) { events_.insert_many(sc, batch); }); });
      return;
    }
    in(s, [&](auto sc) { events_.insert_many(sc, batch); });
    for (const auto& e : batch) model_[e.id.to_string()] = event_of(e);
  }
  void insert_wrong_scope(const std::optional<OrgId>& s) {
    ++counts["insert of another scope's row"];
    AuditEvent e = fresh(other_scope(s), "x" + std::to_string(++fresh_));
    try {
      in(s, [&](auto sc) { events_.insert(sc, e); });
      ++leaks;
      fail("insert of another scope's row", "accepted");
    } catch (const OrgMismatch&) {
    }
    std::vector<AuditEvent> batch{fresh(s, "x" + std::to_string(++fresh_)), e};
    try {
      in(s, [&](auto sc) { events_.insert_many(sc, batch); });
      ++leaks;
      fail("insert_many with another scope's row", "accepted");
    } catch (const OrgMismatch&) {
    }
    AuditEvent existing = e;
    if (!model_.empty()) {
      const Event& any = model_.begin()->second;
      if (any.scope != key(s)) {
        existing.id = Uuid::parse(any.id);
        existing.org_id = any.scope.empty() ? std::nullopt : std::optional<OrgId>(OrgId::parse(any.scope));
        try {
          in(s, [&](auto sc) { (void)events_.update(sc, existing); });
          ++leaks;
          fail("update of another scope's row", "accepted");
        } catch (const OrgMismatch&) {
        }
      }
    }
  }
  void find(const std::optional<OrgId>& s) {
    ++counts["find"];
    const std::string id = probe_id(s);
    const auto got = in(s, [&](auto sc) { return events_.find(sc, Uuid::parse(id)); });
    const Event* want = in_scope(s, id);
    if (got) check_scope("find", s, *got);
    if (!want != !got) fail("find", std::string(got ? "found " : "found nothing for ") + id);
    else if (want && !(event_of(*got) == *want)) fail("find", "found " + describe(event_of(*got)) + ", model " + describe(*want));
  }
  // Six ids of any scope (repeats allowed): the scope's rows among them, each once.
  void find_many(const std::optional<OrgId>& s) {
    ++counts["find_many"];
    std::vector<Uuid> keys;
    std::set<std::string> want;
    for (int i = 0; i < 6; ++i) {
      keys.push_back(Uuid::parse(probe_id(s)));
      if (in_scope(s, keys.back().to_string())) want.insert(keys.back().to_string());
    }
    const auto got = in(s, [&](auto sc) { return events_.find_many(sc, keys); });
    std::set<std::string> have;
    for (const auto& e : got) {
      check_scope("find_many", s, e);
      const Event* m = in_scope(s, e.id.to_string());
      if (m && !(event_of(e) == *m)) fail("find_many", "found " + describe(event_of(e)) + ", model " + describe(*m));
      have.insert(e.id.to_string());
    }
    if (have != want || got.size() != have.size()) {
      if (have.size() > want.size()) ++leaks;
      fail("find_many", std::to_string(got.size()) + " rows, the model " + std::to_string(want.size()));
    }
  }
  void list(const std::optional<OrgId>& s) {
    ++counts["list"];
    const int level = uniform(0, 3);
    const std::string code = pool_code();
    // A user predicate with OR at the top: it must stay inside the scope's filter.
    const auto got = in(s, [&](auto sc) {
      return events_.list(sc, col(&AuditEvent::level) >= level || col(&AuditEvent::code) == code, order_by(&AuditEvent::id));
    });
    std::vector<Event> want;
    for (const auto& e : of(s))
      if (e.level >= level || e.code == code) want.push_back(e);
    std::sort(want.begin(), want.end(), [](const Event& a, const Event& b) { return a.id < b.id; });
    std::vector<Event> rows;
    for (const auto& e : got) {
      check_scope("list", s, e);
      rows.push_back(event_of(e));
    }
    std::sort(rows.begin(), rows.end(), [](const Event& a, const Event& b) { return a.id < b.id; });
    if (rows != want) fail("list", std::to_string(rows.size()) + " rows, the model " + std::to_string(want.size()));
  }
  void count_exists(const std::optional<OrgId>& s) {
    ++counts["count/exists"];
    const auto own = of(s);
    if (in(s, [&](auto sc) { return events_.count(sc); }) != static_cast<std::int64_t>(own.size())) fail("count", "differs");
    const std::string id = probe_id(s);
    const bool got = in(s, [&](auto sc) { return events_.exists(sc, col(&AuditEvent::id) == Uuid::parse(id)); });
    if (got != (in_scope(s, id) != nullptr)) {
      if (got) ++leaks;
      fail("exists by id", "differs for " + id);
    }
  }
  void update(const std::optional<OrgId>& s, bool in_tx) {
    ++counts["update"];
    const std::string id = probe_id(s);
    const Event* target = in_scope(s, id);
    Event next = target ? *target : Event{key(s), id, "u" + std::to_string(++fresh_), "w", 0};
    next.what = "upd" + std::to_string(uniform(0, 99));
    next.level = uniform(0, 3);
    if (chance(40)) next.code = pool_code();
    AuditEvent e{Uuid::parse(id), s, next.code, next.what, next.level};
    if (target && code_taken(s, next.code, id)) {
      expect_failure<UniqueViolation>("update", in_tx, [&] { in(s, [&](auto sc) { (void)events_.update(sc, e); }); });
      return;
    }
    const bool changed = in(s, [&](auto sc) { return events_.update(sc, e); });
    if (changed != (target != nullptr)) {
      if (changed) ++leaks;
      fail("update", std::string("returned ") + (changed ? "true" : "false") + " for " + id);
    }
    if (target) model_[id] = next;
  }
  void set(const std::optional<OrgId>& s) {
    ++counts["set"];
    const std::string id = probe_id(s);
    const int level = uniform(0, 3);
    const bool changed = in(s, [&](auto sc) { return events_.set(sc, Uuid::parse(id), &AuditEvent::level, level); });
    const Event* target = in_scope(s, id);
    if (changed != (target != nullptr)) {
      if (changed) ++leaks;
      fail("set", std::string("returned ") + (changed ? "true" : "false") + " for " + id);
    }
    if (target) model_[id].level = level;
  }
  void upsert_on_code(const std::optional<OrgId>& s) {
    ++counts["upsert on (org, code)"];
    AuditEvent e = fresh(s, pool_code());
    const Event* existing = code_taken(s, e.code);
    const AuditEvent back = in(s, [&](auto sc) {
      return events_.upsert(sc, std::as_const(e), on_conflict(&AuditEvent::org_id, &AuditEvent::code));
    });
    check_scope("upsert on code", s, back);
    Event want = event_of(e);
    if (existing) want.id = existing->id;
    if (!(event_of(back) == want)) fail("upsert on code", "read back " + describe(event_of(back)) + ", model " + describe(want));
    model_[want.id] = want;
  }
  // The upsert without RETURNING: the table comparison at each checkpoint checks what it wrote.
  void put_on_code(const std::optional<OrgId>& s) {
    ++counts["put on (org, code)"];
    AuditEvent e = fresh(s, pool_code());
    Event want = event_of(e);
    if (const Event* existing = code_taken(s, e.code)) want.id = existing->id;
    in(s, [&](auto sc) { events_.put(sc, std::as_const(e), on_conflict(&AuditEvent::org_id, &AuditEvent::code)); });
    model_[want.id] = want;
  }
  void upsert_on_id(const std::optional<OrgId>& s, bool in_tx) {
    ++counts["upsert on id"];
    const std::string id = probe_id(s);
    AuditEvent e = fresh(s, chance(50) ? pool_code() : "v" + std::to_string(++fresh_));
    e.id = Uuid::parse(id);
    const Event* own = in_scope(s, id);
    const bool elsewhere = !own && model_.count(id) > 0;
    if (elsewhere || code_taken(s, e.code, id)) {
      if constexpr (is_rls<B>)
        expect_failure<DatabaseError>("upsert on id", in_tx, [&] { in(s, [&](auto sc) { (void)events_.upsert(sc, std::as_const(e), on_conflict(&AuditEvent::id)); }); });
      else
        expect_failure<UniqueViolation>("upsert on id", in_tx, [&] { in(s, [&](auto sc) { (void)events_.upsert(sc, std::as_const(e), on_conflict(&AuditEvent::id)); }); });
      return;
    }
    const AuditEvent back = in(s, [&](auto sc) { return events_.upsert(sc, std::as_const(e), on_conflict(&AuditEvent::id)); });
    check_scope("upsert on id", s, back);
    model_[id] = event_of(e);
  }
  void erase(const std::optional<OrgId>& s) {
    ++counts["erase"];
    const std::string id = probe_id(s);
    const bool removed = in(s, [&](auto sc) { return events_.erase(sc, Uuid::parse(id)); });
    const bool want = in_scope(s, id) != nullptr;
    if (want) model_.erase(id);
    if (removed != want) {
      if (removed) ++leaks;
      fail("erase", std::string("returned ") + (removed ? "true" : "false") + " for " + id);
    }
  }
  void erase_where(const std::optional<OrgId>& s) {
    ++counts["erase_where"];
    const int level = uniform(0, 3);
    const std::string code = pool_code();
    std::int64_t want = 0;
    for (auto it = model_.begin(); it != model_.end();)
      if (it->second.scope == key(s) && (it->second.level == level || it->second.code == code)) {
        it = model_.erase(it);
        ++want;
      } else {
        ++it;
      }
    const std::int64_t got =
        in(s, [&](auto sc) { return events_.erase_where(sc, col(&AuditEvent::level) == level || col(&AuditEvent::code) == code); });
    if (got != want) {
      if (got > want) ++leaks;
      fail("erase_where", std::to_string(got) + " rows, the model " + std::to_string(want));
    }
  }
  void update_where(const std::optional<OrgId>& s) {
    ++counts["update_where"];
    const int level = uniform(0, 3);
    const std::string what = "bulk" + std::to_string(uniform(0, 99));
    std::int64_t want = 0;
    for (auto& [id, e] : model_)
      if (e.scope == key(s) && (e.level == level || e.code == "c0")) {
        e.what = what;
        ++want;
      }
    const std::int64_t got = in(s, [&](auto sc) {
      return events_.update_where(sc, col(&AuditEvent::level) == level || col(&AuditEvent::code) == "c0",
                                  assign(col(&AuditEvent::what), what));
    });
    if (got != want) {
      if (got > want) ++leaks;
      fail("update_where", std::to_string(got) + " rows, the model " + std::to_string(want));
    }
  }
  void query(const std::optional<OrgId>& s) {
    ++counts["query"];
    const auto q = select(col(&AuditEvent::code), count()).from<AuditEvent>().group_by(col(&AuditEvent::code));
    const auto got = in(s, [&](auto sc) { return fetch(conn_, sc, q); });
    std::map<std::string, std::int64_t> want, have;
    for (const auto& e : of(s)) ++want[e.code];
    for (const auto& [code, n] : got) have[code] = n;
    if (have != want) {
      std::int64_t total = 0;
      for (const auto& [c, n] : have) total += n;
      if (total > static_cast<std::int64_t>(of(s).size())) ++leaks;
      fail("query", "grouped counts differ");
    }
  }
  void transaction() {
    ++counts["transaction"];
    const auto before = model_;
    auto tx = conn_.transaction();
    const int n = uniform(2, 8);
    for (int i = 0; i < n; ++i) step(true);
    if (chance(60)) {
      tx.commit();
      ++counts["committed"];
    } else {
      tx.rollback();
      model_ = before;
      ++counts["rolled back"];
    }
  }
};

template <class B>
void run_platform_model() {
  const std::uint64_t seed = env_or("TENANTRY_MODEL_SEED", std::random_device{}());
  const int ops = static_cast<int>(env_or("TENANTRY_MODEL_OPS", 3000)) / 2;
  INFO(B::name << ": TENANTRY_MODEL_SEED=" << seed);
  PlatformRun<B> run(seed, 5);
  try {
    while (run.ops < ops) {
      run.step(false);
      if (run.ops % 250 == 0) run.check_table("checkpoint");
    }
  } catch (const std::exception& e) {
    FAIL(B::name << ": platform model: operation " << run.ops << " (" << run.current << ") threw: " << e.what());
  }
  run.check_table("end");
  if constexpr (is_rls<B>)
    CHECK_THROWS_AS(parity::raw_count(run.conn(), "SELECT COUNT(*) FROM audit_events"), OrgContextMissing);
  std::cout << "platform-row model [" << B::name << (B::is_postgres ? "" : ", sqlite") << "] seed " << seed << ": "
            << run.ops << " operations, " << run.rows() << " rows (" << run.platform_rows()
            << " of no org), leaks " << run.leaks << ", other mismatches " << run.mismatches - run.leaks << "\n  ";
  for (const auto& [op, n] : run.counts) std::cout << op << " " << n << "; ";
  std::cout << '\n';
  CHECK(run.leaks == 0);
  CHECK(run.mismatches == 0);
  for (const char* op : {"insert", "insert_many", "insert of another scope's row", "find", "find_many", "list",
                         "update", "set", "upsert on (org, code)", "put on (org, code)", "upsert on id", "erase", "erase_where", "update_where", "query",
                         "transaction", "committed", "rolled back"})
    CHECK(run.counts[op] > 0);
  CHECK(run.counts["insert of a platform row"] > 0);
}

}  // namespace

TEMPLATE_TEST_CASE("isolation model: platform rows and five orgs, random operations in every scope, zero leaks",
                   "[parity][org][model][platform]", ORG_ISOLATION_BACKENDS, PostgresRlsApp) {
  run_platform_model<TestType>();
}

TEMPLATE_TEST_CASE("isolation model: random operations over five orgs match the model, zero leaks",
                   "[parity][org][model]", ORG_ISOLATION_BACKENDS, PostgresRlsApp) {
  run_model<TestType>();
}

// ---- text org keys -----------------------------------------------------------------------------

namespace {

template <class B>
void run_text_model() {
  using namespace org_key_backends;
  using P = org_keys::SlugProject;
  const std::uint64_t seed = env_or("TENANTRY_MODEL_SEED", std::random_device{}());
  const int ops = static_cast<int>(env_or("TENANTRY_MODEL_OPS", 3000) / 3);
  INFO(B::name << ", text org keys: TENANTRY_MODEL_SEED=" << seed);
  std::mt19937_64 rng(seed);
  const auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  B db;
  const std::vector<TextOrgId> orgs = {TextOrgId{"acme"}, TextOrgId{"Acme"},
                                       TextOrgId{"x\"; DROP TABLE slug_projects; --"}, TextOrgId{std::string(64, 'z')},
                                       TextOrgId{"caf\xc3\xa9"}};
  for (const auto& o : orgs) db.add_org(o);
  Repository<P, typename B::Dialect, typename B::Conn> projects{db.conn};
  constexpr bool global_ids = !B::schemas;  // schema per org: ids are unique per org's table

  using Key = std::pair<std::string, std::string>;  // (org, id)
  std::map<Key, std::pair<std::string, std::int64_t>> model;  // -> (name, rank)
  std::vector<std::string> ids;
  int leaks = 0, mismatches = 0;
  std::map<std::string, int> counts;
  const auto fail = [&](const std::string& op, const std::string& what) {
    ++mismatches;
    if (mismatches <= 20) FAIL_CHECK(B::name << ": " << op << ": " << what);
  };
  const auto name_taken = [&](const std::string& org, const std::string& name, const std::string& except = {}) {
    for (const auto& [k, v] : model)
      if (k.first == org && v.first == name && k.second != except) return true;
    return false;
  };
  const auto id_taken = [&](const std::string& org, const std::string& id) {
    for (const auto& [k, v] : model)
      if (k.second == id && (global_ids || k.first == org)) return true;
    return false;
  };
  const auto probe = [&](const std::string& org) {
    const int k = uniform(0, 9);
    if (k < 4)
      for (const auto& [key, v] : model)
        if (key.first == org && uniform(0, 2) == 0) return key.second;
    if (k < 9 && !ids.empty()) return ids[static_cast<std::size_t>(uniform(0, static_cast<int>(ids.size()) - 1))];
    return Uuid::random().to_string();
  };
  const auto check_table = [&](const char* when) {
    std::map<Key, std::pair<std::string, std::int64_t>> stored;
    for (const auto& [o, id, name, rank] : db.stored_projects()) stored[{o, id}] = {name, rank};
    for (const auto& [k, v] : stored)
      if (!model.count(k)) {
        ++leaks;
        fail(when, "unexpected row " + k.second + " in org '" + k.first + "'");
      } else if (model[k] != v) {
        fail(when, "row " + k.second + " differs");
      }
    for (const auto& [k, v] : model)
      if (!stored.count(k)) fail(when, "missing row " + k.second);
  };

  for (int op = 0; op < ops; ++op) {
    const TextOrgId& org = orgs[static_cast<std::size_t>(uniform(0, static_cast<int>(orgs.size()) - 1))];
    const std::string o = org.to_string();
    const std::string name = "n" + std::to_string(uniform(0, 5));
    const auto rank = static_cast<std::int64_t>(uniform(0, 9));
    const int pick = uniform(0, 99);
    try {
      if (pick < 20) {
        ++counts["insert"];
        std::string id = Uuid::random().to_string();
        if (uniform(0, 99) < 15 && !ids.empty()) id = ids[static_cast<std::size_t>(uniform(0, static_cast<int>(ids.size()) - 1))];
        if (name_taken(o, name) || id_taken(o, id)) {
          CHECK_THROWS_AS(projects.insert(org, P{Uuid::parse(id), {}, name, rank}), UniqueViolation);
        } else {
          projects.insert(org, P{Uuid::parse(id), {}, name, rank});
          model[{o, id}] = {name, rank};
          ids.push_back(id);
        }
      } else if (pick < 25) {
        ++counts["insert naming another org"];
        const TextOrgId& other = orgs[(static_cast<std::size_t>(uniform(1, 4)) + static_cast<std::size_t>(&org - orgs.data())) % orgs.size()];
        try {
          projects.insert(org, P{Uuid::random(), other, "x", 0});
          ++leaks;
          fail("insert naming another org", "accepted");
        } catch (const OrgMismatch&) {
        }
      } else if (pick < 40) {
        ++counts["find"];
        const std::string id = probe(o);
        const auto got = projects.find(org, Uuid::parse(id));
        const auto it = model.find({o, id});
        if (got && got->organization_id != org) ++leaks;
        if (got.has_value() != (it != model.end())) {
          if (got) ++leaks;
          fail("find", id);
        } else if (got && (got->name != it->second.first || got->rank != it->second.second)) {
          fail("find", "row differs");
        }
      } else if (pick < 50) {
        ++counts["list"];
        std::vector<std::string> want;
        for (const auto& [k, v] : model)
          if (k.first == o) want.push_back(v.first);
        std::sort(want.begin(), want.end());
        std::vector<std::string> got;
        for (const auto& p : projects.list(org, order_by(&P::name))) {
          if (p.organization_id != org) ++leaks;
          got.push_back(p.name);
        }
        if (got != want) fail("list", std::to_string(got.size()) + " rows, the model " + std::to_string(want.size()));
      } else if (pick < 58) {
        ++counts["count"];
        std::int64_t want = 0;
        for (const auto& [k, v] : model) want += k.first == o && (v.first == name || v.second >= rank);
        const std::int64_t got = projects.count(org, col(&P::name) == name || col(&P::rank) >= rank);
        if (got != want) {
          if (got > want) ++leaks;
          fail("count", std::to_string(got) + " vs " + std::to_string(want));
        }
      } else if (pick < 66) {
        ++counts["set"];
        const std::string id = probe(o);
        const bool changed = projects.set(org, Uuid::parse(id), &P::rank, rank);
        const auto it = model.find({o, id});
        if (changed != (it != model.end())) {
          if (changed) ++leaks;
          fail("set", id);
        }
        if (it != model.end()) it->second.second = rank;
      } else if (pick < 74) {
        ++counts["update"];
        const std::string id = probe(o);
        const auto it = model.find({o, id});
        const std::string keep = it != model.end() ? it->second.first : "fresh" + std::to_string(op);
        const bool changed = projects.update(org, P{Uuid::parse(id), {}, keep, rank});  // nil org: the call's
        if (changed != (it != model.end())) {
          if (changed) ++leaks;
          fail("update", id);
        }
        if (it != model.end()) it->second.second = rank;
      } else if (pick < 82) {
        ++counts["upsert on (org, name)"];
        const std::string fresh = Uuid::random().to_string();
        const P back = projects.upsert(org, P{Uuid::parse(fresh), {}, name, rank},
                                       on_conflict(&P::organization_id, &P::name));
        if (back.organization_id != org) ++leaks;
        std::string id = fresh;
        for (const auto& [k, v] : model)
          if (k.first == o && v.first == name) id = k.second;
        if (back.id.to_string() != id) fail("upsert", "hit another row");
        if (id == fresh) ids.push_back(fresh);
        model[{o, id}] = {name, rank};
      } else if (pick < 90) {
        ++counts["erase"];
        const std::string id = probe(o);
        const bool removed = projects.erase(org, Uuid::parse(id));
        const bool want = model.erase({o, id}) > 0;
        if (removed != want) {
          if (removed) ++leaks;
          fail("erase", id);
        }
      } else if (pick < 95) {
        ++counts["erase_where"];
        std::int64_t want = 0;
        for (auto it = model.begin(); it != model.end();)
          if (it->first.first == o && (it->second.second == rank || it->second.first == name)) {
            it = model.erase(it);
            ++want;
          } else {
            ++it;
          }
        const std::int64_t got = projects.erase_where(org, col(&P::rank) == rank || col(&P::name) == name);
        if (got != want) {
          if (got > want) ++leaks;
          fail("erase_where", std::to_string(got) + " vs " + std::to_string(want));
        }
      } else {
        ++counts["update_where"];
        std::int64_t want = 0;
        for (auto& [k, v] : model)
          if (k.first == o && (v.first == name || v.second == rank)) {
            v.second = 100 + rank;
            ++want;
          }
        const std::int64_t got =
            projects.update_where(org, col(&P::name) == name || col(&P::rank) == rank, assign(col(&P::rank), 100 + rank));
        if (got != want) {
          if (got > want) ++leaks;
          fail("update_where", std::to_string(got) + " vs " + std::to_string(want));
        }
      }
    } catch (const std::exception& e) {
      FAIL(B::name << ": operation " << op << " (pick " << pick << ", org '" << o << "') threw: " << e.what());
    }
    if (op % 200 == 199) check_table("checkpoint");
  }
  check_table("end");
  std::cout << "isolation model [" << B::name << ", text org keys] seed " << seed << ": " << ops << " operations, "
            << model.size() << " rows in " << orgs.size() << " orgs, leaks " << leaks << ", other mismatches "
            << mismatches - leaks << '\n';
  CHECK(leaks == 0);
  CHECK(mismatches == 0);
  for (const char* op : {"insert", "insert naming another org", "find", "list", "count", "set", "update",
                         "upsert on (org, name)", "erase", "erase_where", "update_where"})
    CHECK(counts[op] > 0);
}

}  // namespace

TEMPLATE_TEST_CASE("isolation model: text org keys (two cases, quotes, 64 bytes, unicode) match the model, zero leaks",
                   "[parity][org][model][org-keys]", org_key_backends::SqliteFile<org_key_backends::TextKeys>,
                   org_key_backends::PostgresShared<org_key_backends::TextKeys>,
                   org_key_backends::PostgresRls<org_key_backends::TextKeys>,
                   org_key_backends::PostgresSchemas<org_key_backends::TextKeys>) {
  run_text_model<TestType>();
}

}  // namespace isolation_model_test
