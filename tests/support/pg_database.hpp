// The PostgreSQL the integration tests (tests/pg/*.cpp) run against.
//
//   tenantry_test::pg_url()   a URL to a fresh, empty database of its own on the server named by
//                             TENANTRY_PG_URL
//
// Every call creates a new database, "tenantry_test_<pid>_<random>", so tests never see each
// other's tables or rows. A URL is meant for the test case that asked for it: databases made by
// earlier test cases are dropped (WITH (FORCE)) when a later one asks for its first URL, and the
// rest when the process exits. Without TENANTRY_PG_URL, or when that server does not answer, the
// calling test FAILS saying how to start one; the PostgreSQL tests are never skipped in silence.
//
// Plain libpq on purpose: the driver under test is not trusted to set up its own test fixture.
#pragma once

#include <catch2/catch.hpp>

#include <libpq-fe.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tenantry_test {

namespace pg_detail {

inline constexpr const char* how_to_start =
    "The PostgreSQL tests need a server: run them through scripts/test.sh, or start one with "
    "`scripts/pg.sh start` and `export TENANTRY_PG_URL=$(scripts/pg.sh url)`.";

struct ConnCloser {
  void operator()(PGconn* c) const noexcept { PQfinish(c); }
};
using ConnPtr = std::unique_ptr<PGconn, ConnCloser>;

inline std::string trimmed(const char* message) {
  std::string s = message != nullptr ? message : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

/// The URL as it may be printed: a password in it is replaced by ***.
inline std::string redacted(std::string url) {
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  const auto at = url.find('@', scheme + 3);
  if (at == std::string::npos || url.find('/', scheme + 3) < at) return url;
  const auto colon = url.find(':', scheme + 3);
  if (colon != std::string::npos && colon < at) url.replace(colon + 1, at - colon - 1, "***");
  return url;
}

inline std::string percent_encoded(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0x0F];
    }
  }
  return out;
}

/// `base` (a URL or a keyword string) with its database replaced by `database`, as a URL: the
/// library's own URL parser, and so connect(), accept only URLs.
inline std::string url_for(const std::string& base, const std::string& database, std::string& error) {
  for (std::string_view scheme : {"postgresql://", "postgres://"}) {
    if (base.starts_with(scheme)) {
      // scheme authority [/path] [?query]: keep everything but the path.
      const std::size_t authority_end = base.find_first_of("/?", scheme.size());
      const std::string authority = base.substr(0, authority_end);
      const std::size_t query = base.find('?', scheme.size());
      return authority + "/" + database + (query == std::string::npos ? "" : base.substr(query));
    }
  }
  // A keyword string: every setting but dbname becomes a query parameter of the URL.
  char* parse_error = nullptr;
  PQconninfoOption* options = PQconninfoParse(base.c_str(), &parse_error);
  if (options == nullptr) {
    error = "TENANTRY_PG_URL is neither a postgresql:// URL nor a libpq keyword string: " + trimmed(parse_error);
    PQfreemem(parse_error);
    return {};
  }
  std::string url = "postgresql:///" + database;
  char separator = '?';
  for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr || *o->val == '\0' || std::string_view(o->keyword) == "dbname") continue;
    url += separator;
    url += o->keyword;
    url += '=';
    url += percent_encoded(o->val);
    separator = '&';
  }
  PQconninfoFree(options);
  return url;
}

/// The server (TENANTRY_PG_URL) and the databases this process created on it.
class Databases {
 public:
  static Databases& instance() {
    static Databases databases;
    return databases;
  }

  /// A fresh database's URL; on failure, an empty string and `error` says why.
  std::string create(const std::string& test_case, std::string& error) {
    std::lock_guard lock(mutex_);
    if (!failure_.empty()) {
      error = failure_;  // the server will not appear half way through the run
      return {};
    }
    const char* env = std::getenv("TENANTRY_PG_URL");
    if (env == nullptr || *env == '\0') {
      failure_ = std::string("TENANTRY_PG_URL is not set. ") + how_to_start;
      error = failure_;
      return {};
    }
    base_ = env;
    ConnPtr admin = connect_admin();
    if (PQstatus(admin.get()) != CONNECTION_OK) {
      failure_ = "cannot connect to TENANTRY_PG_URL=" + redacted(base_) + ": " + trimmed(PQerrorMessage(admin.get())) +
                 ". " + how_to_start;
      error = failure_;
      return {};
    }

    // Earlier test cases are over and their connections closed: their databases can go now.
    if (test_case != current_test_) {
      for (const std::string& name : current_) drop(admin.get(), name);
      current_.clear();
      current_test_ = test_case;
    }

    std::random_device random;
    char suffix[9];
    std::snprintf(suffix, sizeof suffix, "%08x", static_cast<unsigned>(random()));
    const std::string name = "tenantry_test_" + std::to_string(::getpid()) + "_" + suffix;
    // template0: nobody can be connected to it (CREATE DATABASE fails while anyone is connected
    // to the template), and it is the pristine one.
    PGresult* r = PQexec(admin.get(), ("CREATE DATABASE \"" + name + "\" TEMPLATE template0").c_str());
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) error = "CREATE DATABASE " + name + " failed: " + trimmed(PQresultErrorMessage(r));
    PQclear(r);
    if (!ok) return {};
    current_.push_back(name);
    const std::string url = url_for(base_, name, error);
    return url;
  }

  Databases(const Databases&) = delete;
  Databases& operator=(const Databases&) = delete;

 private:
  Databases() = default;
  ~Databases() {
    if (current_.empty()) return;
    ConnPtr admin = connect_admin();
    if (PQstatus(admin.get()) != CONNECTION_OK) {
      std::fprintf(stderr, "pg_database.hpp: could not drop %zu test database(s): %s\n", current_.size(),
                   trimmed(PQerrorMessage(admin.get())).c_str());
      return;
    }
    for (const std::string& name : current_) drop(admin.get(), name);
  }

  ConnPtr connect_admin() const {
    // connect_timeout before dbname: the URL's own setting wins when it has one.
    const char* const keys[] = {"connect_timeout", "dbname", nullptr};
    const char* const values[] = {"5", base_.c_str(), nullptr};
    ConnPtr c(PQconnectdbParams(keys, values, 1));
    if (c) PQsetNoticeProcessor(c.get(), [](void*, const char*) {}, nullptr);
    return c;
  }

  static void drop(PGconn* admin, const std::string& name) {
    PGresult* r = PQexec(admin, ("DROP DATABASE IF EXISTS \"" + name + "\" WITH (FORCE)").c_str());
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
      std::fprintf(stderr, "pg_database.hpp: DROP DATABASE %s failed: %s\n", name.c_str(),
                   trimmed(PQresultErrorMessage(r)).c_str());
    PQclear(r);
  }

  std::mutex mutex_;
  std::string base_;
  std::string failure_;               // set once the server is known to be missing
  std::string current_test_;          // the test case the databases in current_ belong to
  std::vector<std::string> current_;  // created and not dropped yet
};

}  // namespace pg_detail

/// A URL to a fresh, empty database; FAILs the calling test when there is no server to use.
inline std::string pg_url() {
  std::string error;
  std::string url = pg_detail::Databases::instance().create(Catch::getResultCapture().getCurrentTestName(), error);
  if (url.empty()) FAIL(error);
  return url;
}

/// `url` (a postgresql:// URL) with its user replaced by `role`, for tests that connect to the
/// same database as another role (the test server trusts loopback logins).
inline std::string as_role(const std::string& url, const std::string& role) {
  const auto scheme = url.find("://") + 3;
  const auto at = url.find('@', scheme);
  const auto rest = at == std::string::npos || url.find('/', scheme) < at ? scheme : at + 1;
  return url.substr(0, scheme) + role + "@" + url.substr(rest);
}

}  // namespace tenantry_test
