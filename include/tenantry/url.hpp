// tenantry/url.hpp - parsing database URLs.
//
//   sqlite:app.db            a file, relative to the working directory
//   sqlite://app.db          the same (sqlx's spelling)
//   sqlite:///var/lib/app.db an absolute path
//   sqlite::memory:          a private in-memory database
//   sqlite:app.db?mode=ro    read-only (mode=rw: must exist; mode=rwc: create, the default)
//   postgres://user:pass@host:5432/db?sslmode=disable   (also postgresql://) handed to libpq
//   host=db port=5432 dbname=app user=app                libpq's keyword/value form, handed to
//                                                        libpq too (PostgreSQL)
//
// Anything else is refused with UrlError: a near miss of a PostgreSQL URL ("postgres:/db",
// "postgres:db", "Postgres://db") says what is wrong with it rather than "unknown scheme".
//
// Parsing is separate from connecting so that a bad URL is reported with what is wrong before
// any I/O, and so the parser can be tested (and fuzzed) on its own.
#pragma once

#include "tenantry/error.hpp"

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

namespace tenantry {

struct DatabaseUrl {
  enum class Kind { sqlite, postgres };
  Kind kind = Kind::sqlite;
  std::string sqlite_path;           // ":memory:" for the in-memory database
  bool read_only = false;            // sqlite ?mode=ro
  bool create = true;                // sqlite: create the file when missing (mode=rwc)
  std::string pg_conninfo;           // the URL as libpq takes it
  std::string host, port, database;  // postgres, for messages and checks

  bool is_postgres() const noexcept { return kind == Kind::postgres; }
};

namespace detail {

/// `text` with control bytes written as \xNN: a NUL would end a message where what() is read as
/// a C string, and with it everything after it.
inline std::string printable(std::string_view text) {
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u != 0x7F) {
      out += c;
    } else {
      static constexpr char hex[] = "0123456789abcdef";
      out += {'\\', 'x', hex[u >> 4], hex[u & 0xF]};
    }
  }
  return out;
}

inline bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
inline bool is_keyword_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/// True when `text` has libpq's keyword/value form: optional spaces, a keyword, optional spaces,
/// '=' ("host=db dbname=app"). A URL never does (its scheme ends in ':' before any '=').
inline bool looks_like_keywords(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() && is_space(text[i])) ++i;
  const std::size_t start = i;
  while (i < text.size() && is_keyword_char(text[i])) ++i;
  if (i == start) return false;
  while (i < text.size() && is_space(text[i])) ++i;
  return i < text.size() && text[i] == '=';
}

/// `url` as it may appear in a message: never a password. Everything between "://" and the
/// last '@' is cut (a password may itself hold '@', '/' or '?' when not percent-encoded, so the
/// cut errs on the side of hiding too much), in a URL and in a keyword string alike (libpq expands
/// a `dbname` value that is a URL), and so is the value of a `password=` query
/// parameter. In a keyword/value string the value of `password` is cut: a quoted one up to its
/// closing quote, an unquoted or unterminated one to the end of the string.
/// Redacted before shortening, so a long URL cannot push its '@' out of sight.
/// Control bytes are written as \xNN (printable()).
inline std::string redacted(std::string_view url) {
  std::string shown(url);
  // A URL's userinfo, also inside a keyword string: libpq expands a `dbname` value that is
  // itself a URL, so `dbname='postgresql://user:secret@host/db'` carries a password too.
  if (const auto scheme = shown.find("://"); scheme != std::string::npos) {
    if (const auto at = shown.rfind('@'); at != std::string::npos && at > scheme + 3)
      shown.replace(scheme + 3, at - scheme - 3, "***");
  }
  if (looks_like_keywords(url)) {
    // password [spaces] = [spaces] value
    for (std::size_t from = 0; (from = shown.find("password", from)) != std::string::npos;) {
      std::size_t i = from + 8;
      if (from > 0 && !is_space(shown[from - 1])) {
        from = i;
        continue;
      }
      while (i < shown.size() && is_space(shown[i])) ++i;
      if (i >= shown.size() || shown[i] != '=') {
        from = i;
        continue;
      }
      ++i;
      while (i < shown.size() && is_space(shown[i])) ++i;
      std::size_t end = i;
      if (end < shown.size() && shown[end] == '\'') {
        for (++end; end < shown.size() && shown[end] != '\''; ++end)
          if (shown[end] == '\\') ++end;
        end = std::min(end + 1, shown.size());
      } else {
        // Unquoted, the value ends at a space for libpq, but a message is only written for a
        // string that did not parse, where the "rest" may be the password's second word.
        end = shown.size();
      }
      shown.replace(i, end - i, "***");
      from = i + 3;
    }
    if (shown.size() > 200) shown = shown.substr(0, 200) + "...";
    return printable(shown);
  }
  for (std::size_t from = 0; (from = shown.find("password=", from)) != std::string::npos;) {
    from += 9;
    const std::size_t end = std::min(shown.find('&', from), shown.size());
    shown.replace(from, end - from, "***");
  }
  if (shown.size() > 200) shown = shown.substr(0, 200) + "...";
  return printable(shown);
}

[[noreturn]] inline void fail(std::string_view url, const std::string& why) {
  // `why` quotes parts of the URL too (a scheme, an option, a port): escaped the same way.
  throw UrlError("tenantry: bad database URL '" + redacted(url) + "': " + printable(why));
}

/// A port as a message quotes it: what comes before its last '@' may be a user and password (a
/// URL typed into `port=`), so it is cut as redacted() cuts userinfo, then shortened.
inline std::string port_for_message(std::string_view port) {
  std::string shown(port);
  if (const auto at = shown.rfind('@'); at != std::string::npos) shown.replace(0, at, "***");
  return "'" + shown.substr(0, 20) + "'";
}

/// Checks a libpq port list ("5432" or "5432,5433"; in a URL each item may be "host:port").
inline void check_ports(std::string_view url, std::string_view port) {
  // A '@' cannot be in a port; what precedes it may be credentials, whose ',' and ':' must not
  // steer which message is given either.
  if (port.find('@') != std::string_view::npos) fail(url, "port " + port_for_message(port) + " is not a number");
  for (std::string_view rest = port;;) {
    const auto comma = rest.find(',');
    std::string_view one = rest.substr(0, comma);
    if (auto c = one.rfind(':'); c != std::string_view::npos) one = one.substr(c + 1);
    if (one.empty()) fail(url, "empty port");
    unsigned long value = 0;
    for (char ch : one) {
      if (ch < '0' || ch > '9') fail(url, "port " + port_for_message(one) + " is not a number");
      value = value * 10 + static_cast<unsigned long>(ch - '0');
      if (value > 65535) fail(url, "port " + port_for_message(one) + " is out of range (1-65535)");
    }
    if (value == 0) fail(url, "port 0 is not a usable port");
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
}

inline void parse_sqlite(std::string_view url, std::string_view rest, DatabaseUrl& out) {
  std::string_view query;
  if (auto q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  if (rest.starts_with("///")) rest.remove_prefix(2);      // sqlite:///abs -> /abs
  else if (rest.starts_with("//")) rest.remove_prefix(2);  // sqlite://rel -> rel
  if (rest == ":memory:" || rest == "memory:") {
    out.sqlite_path = ":memory:";
  } else {
    if (rest.empty())
      fail(url, "no file path after 'sqlite:' (use sqlite:app.db, sqlite:///abs/path or sqlite::memory:)");
    if (rest.find('\0') != std::string_view::npos) fail(url, "the path contains a NUL byte");
    out.sqlite_path = std::string(rest);
  }
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view item = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (item == "mode=ro") {
      out.read_only = true;
      out.create = false;
    } else if (item == "mode=rw") {
      out.create = false;
    } else if (item == "mode=rwc") {
      out.create = true;
    } else if (item == "mode=memory") {
      out.sqlite_path = ":memory:";
    } else {
      fail(url, "unknown SQLite option '" + std::string(item.substr(0, 64)) + "' (known: mode=ro|rw|rwc|memory)");
    }
  }
}

inline void parse_postgres(std::string_view url, std::string_view after_scheme, DatabaseUrl& out) {
  // authority = [userinfo@]host[:port] up to the first '/' or '?'
  const std::size_t end = after_scheme.find_first_of("/?");
  std::string_view authority = after_scheme.substr(0, end);
  std::string_view path = end == std::string_view::npos ? std::string_view{} : after_scheme.substr(end);
  if (auto at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  std::string_view host = authority, port;
  bool has_port = false;
  if (authority.starts_with('[')) {  // [ipv6]:port
    const auto close = authority.find(']');
    if (close == std::string_view::npos) fail(url, "unterminated '[' in an IPv6 host");
    host = authority.substr(0, close + 1);
    const std::string_view tail = authority.substr(close + 1);
    if (!tail.empty()) {
      if (tail.front() != ':') fail(url, "unexpected text after the IPv6 host");
      port = tail.substr(1);
      has_port = true;
    }
  } else if (auto colon = authority.find(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    has_port = true;
  }
  // libpq accepts host lists, "h1:p1,h2:p2": every port in the list must be valid.
  if (has_port) check_ports(url, port);
  out.host = std::string(host);
  out.port = std::string(port);
  if (path.starts_with('/')) out.database = std::string(path.substr(1, path.find('?') - 1));
  out.pg_conninfo = std::string(url);
}

/// How a message names the `nth` keyword (from 1) of a keyword/value string: quoted when it is
/// one of libpq's own keywords, else by its place only. An unknown "keyword" may be the rest of a
/// password that held a space (`password=two words` reads "words" as a keyword), so its text is
/// never quoted back (nor its byte offset, which would tell the length of what came before).
inline std::string keyword_for_message(std::string_view key, std::size_t nth) {
  static constexpr std::string_view known[] = {"host",
                                               "hostaddr",
                                               "port",
                                               "dbname",
                                               "user",
                                               "password",
                                               "passfile",
                                               "channel_binding",
                                               "connect_timeout",
                                               "client_encoding",
                                               "options",
                                               "application_name",
                                               "fallback_application_name",
                                               "keepalives",
                                               "keepalives_idle",
                                               "keepalives_interval",
                                               "keepalives_count",
                                               "tcp_user_timeout",
                                               "replication",
                                               "gssencmode",
                                               "sslmode",
                                               "requiressl",
                                               "sslcompression",
                                               "sslcert",
                                               "sslkey",
                                               "sslpassword",
                                               "sslcertmode",
                                               "sslrootcert",
                                               "sslcrl",
                                               "sslcrldir",
                                               "sslsni",
                                               "requirepeer",
                                               "require_auth",
                                               "ssl_min_protocol_version",
                                               "ssl_max_protocol_version",
                                               "krbsrvname",
                                               "gsslib",
                                               "gssdelegation",
                                               "service",
                                               "target_session_attrs",
                                               "load_balance_hosts"};
  for (const std::string_view k : known)
    if (key == k) return "'" + std::string(key) + "'";
  return "keyword #" + std::to_string(nth);
}

/// libpq's keyword/value form: `keyword = value` pairs separated by spaces; a value is a run of
/// non-space characters or a single-quoted string, either with backslash escapes (\' and \\).
/// The keywords themselves are left to libpq (which knows its own version's list and refuses an
/// unknown one at connect); host (or hostaddr), port and dbname are read for messages and checks.
inline void parse_keywords(std::string_view url, DatabaseUrl& out) {
  std::string host, hostaddr;
  std::size_t i = 0, nth = 0;
  const auto skip_spaces = [&] {
    while (i < url.size() && is_space(url[i])) ++i;
  };
  for (skip_spaces(); i < url.size(); skip_spaces()) {
    ++nth;
    const std::size_t key_start = i;
    while (i < url.size() && is_keyword_char(url[i])) ++i;
    const std::string key(url.substr(key_start, i - key_start));
    if (key.empty())
      fail(url, "expected a keyword as item #" + std::to_string(nth) + " (libpq's form is keyword=value ...)");
    skip_spaces();
    if (i >= url.size() || url[i] != '=') fail(url, "missing '=' after " + keyword_for_message(key, nth));
    ++i;
    skip_spaces();
    std::string value;
    if (i < url.size() && url[i] == '\'') {
      bool closed = false;
      for (++i; i < url.size(); ++i) {
        if (url[i] == '\\' && i + 1 < url.size()) {
          value += url[++i];
        } else if (url[i] == '\'') {
          closed = true;
          ++i;
          break;
        } else {
          value += url[i];
        }
      }
      if (!closed) fail(url, "unterminated quoted value of " + keyword_for_message(key, nth));
    } else {
      while (i < url.size() && !is_space(url[i])) {
        if (url[i] == '\\' && i + 1 < url.size()) ++i;
        value += url[i++];
      }
    }
    if (value.find('\0') != std::string::npos)
      fail(url, "the value of " + keyword_for_message(key, nth) + " contains a NUL byte");
    if (key == "host") host = value;
    else if (key == "hostaddr") hostaddr = value;
    else if (key == "dbname") out.database = value;
    else if (key == "port") {
      if (!value.empty()) check_ports(url, value);
      out.port = value;
    }
  }
  out.host = !host.empty() ? host : hostaddr;
  out.pg_conninfo = std::string(url);
}

/// The scheme of `url` (before the first ':'), lower-cased, when it is one tenantry knows but
/// written in a way libpq or tenantry does not accept; the reason, else empty.
inline std::string near_miss(std::string_view url) {
  const auto colon = url.find(':');
  if (colon == std::string_view::npos) return {};
  std::string scheme(url.substr(0, colon));
  for (char& c : scheme)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  const std::string_view rest = url.substr(colon + 1);
  if (scheme == "postgres" || scheme == "postgresql") {
    if (!rest.starts_with("//"))
      return "a PostgreSQL URL starts with '" + scheme + "://' (two slashes), as in " + scheme +
             "://user@host:5432/dbname; for a local socket use " + scheme + ":///dbname";
    return "the scheme must be written in lower case: '" + scheme + "://'";
  }
  if (scheme == "sqlite") return "the scheme must be written in lower case: 'sqlite:'";
  if (scheme == "postgre" || scheme == "pgsql" || scheme == "psql" || scheme == "pg")
    return "unknown scheme '" + std::string(url.substr(0, colon)) +
           "': for PostgreSQL write postgres:// or postgresql://";
  return {};
}

}  // namespace detail

/// Parses a database URL (or a libpq keyword/value string); throws UrlError saying what is wrong
/// (unknown scheme, missing path, malformed port...). An empty `url` reads the DATABASE_URL
/// environment variable.
inline DatabaseUrl parse_database_url(std::string_view url) {
  std::string from_env;
  if (url.empty()) {
    const char* env = std::getenv("DATABASE_URL");
    if (env == nullptr || *env == '\0') throw UrlError("tenantry: no database URL given and DATABASE_URL is not set");
    from_env = env;
    url = from_env;
  }
  DatabaseUrl out;
  if (url.starts_with("sqlite:")) {
    out.kind = DatabaseUrl::Kind::sqlite;
    detail::parse_sqlite(url, url.substr(7), out);
    return out;
  }
  for (std::string_view scheme : {"postgres://", "postgresql://"}) {
    if (url.starts_with(scheme)) {
      out.kind = DatabaseUrl::Kind::postgres;
      detail::parse_postgres(url, url.substr(scheme.size()), out);
      return out;
    }
  }
  if (detail::looks_like_keywords(url)) {
    out.kind = DatabaseUrl::Kind::postgres;
    detail::parse_keywords(url, out);
    return out;
  }
  if (const std::string why = detail::near_miss(url); !why.empty()) detail::fail(url, why);
  const auto colon = url.find(':');
  if (colon == std::string_view::npos || colon == 0)
    detail::fail(url, "no scheme (expected sqlite:, postgres://, postgresql:// or libpq's host=... dbname=...)");
  detail::fail(url, "unknown scheme '" + std::string(url.substr(0, std::min<std::size_t>(colon, 64))) +
                        "' (expected sqlite:, postgres:// or postgresql://)");
}

}  // namespace tenantry
