// tenantry/migrate.hpp - a migration runner for directories of plain SQL files.
//
//   tenantry::sqlite::Connection conn{"app.db"};
//   tenantry::migrate::Runner runner{conn, "migrations/sqlite"};
//   runner.up();                  // every pending migration, each in its own transaction
//   runner.down(3);               // reverts versions above 3, newest first
//   for (auto& s : runner.status()) std::printf("%lld %s\n", (long long)s.version, s.applied ? "applied" : "pending");
//   runner.force(3);              // after a failed no-transaction migration was fixed by hand
//
// Files are named `NNNN_description.up.sql` / `NNNN_description.down.sql` (sqlx's and
// golang-migrate's naming). Applied migrations are recorded in `_tenantry_migrations` with the
// SHA-256 of the up file, so an edited or deleted migration stops the next run before it changes
// anything. docs/migrations.md describes the behaviour in full.
//
// The runner is generic over the driver interface (prepare/bind_*/step/column_*/reset,
// execute(), begin_scope/commit_scope/rollback_scope, `dialect`), so it works with
// sqlite::Connection, pg::Connection and, through visit(), tenantry::Database. It includes no
// driver header: reading and checking the migration files (the parser functions below) needs no
// library at all and can be tested and fuzzed without a database.
//
// Invariants the runner keeps:
//   * a migration run in a transaction is recorded in that same transaction: either the file's
//     changes and its record are both committed, or neither is;
//   * a migration marked `-- tenantry:no-transaction` is recorded as dirty *before* it runs and
//     marked clean after it succeeds, so a failure or a crash in the middle leaves a dirty record
//     and every later run refuses until force();
//   * nothing is applied or reverted while the recorded history disagrees with the files
//     (edited file, deleted file, dirty record);
//   * each version is applied at most once even with several runners at the same time
//     (PostgreSQL: a session advisory lock around the whole run; SQLite: BEGIN IMMEDIATE per
//     migration and a re-check under that lock).
//   * the runner never waits for the PostgreSQL lock inside a statement: it polls
//     pg_try_advisory_lock, because a session blocked in pg_advisory_lock holds a snapshot,
//     CREATE INDEX CONCURRENTLY in the lock holder waits for every older snapshot in the
//     database, and the two would deadlock.
#pragma once

#include "tenantry/error.hpp"
#include "tenantry/fwd.hpp"
#include "tenantry/sha256.hpp"
#include "tenantry/sql_registry.hpp"
#include "tenantry/types.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace tenantry {

/// A migration could not be read, checked, applied or reverted. kind() says which rule was
/// broken; version() and path() name the migration and file when there is one. When the database
/// refused the migration's SQL, cause() holds the driver's exception (a DatabaseError) and
/// database_code() its SQLSTATE / SQLite code.
class MigrationError : public Error {
 public:
  enum class Kind {
    io,                 ///< the directory or a file cannot be read
    bad_file,           ///< a malformed file name, an unknown directive, a NUL byte
    duplicate_version,  ///< two files claim the same version and direction
    checksum_mismatch,  ///< an applied migration's up file was edited afterwards
    missing_file,       ///< an applied version has no file in the directory
    missing_down,       ///< down() needs a .down.sql file that does not exist
    dirty,              ///< a no-transaction migration failed or was interrupted; see force()
    failed,             ///< the database refused a migration's SQL
    unknown_version,    ///< force() was given a version that is not in the directory
    locked,             ///< another runner kept the lock past Options::wait_timeout
  };

  MigrationError(Kind kind, const std::string& message, std::optional<std::int64_t> version = std::nullopt,
                 std::string path = {}, std::exception_ptr cause = nullptr, std::string database_code = {},
                 bool marked_dirty = false)
      : Error(message),
        kind_(kind),
        version_(version),
        path_(std::move(path)),
        cause_(std::move(cause)),
        database_code_(std::move(database_code)),
        marked_dirty_(marked_dirty) {}

  Kind kind() const noexcept { return kind_; }
  std::optional<std::int64_t> version() const noexcept { return version_; }
  const std::string& path() const noexcept { return path_; }
  /// The exception the driver threw, when this error wraps one (rethrow it to inspect it).
  const std::exception_ptr& cause() const noexcept { return cause_; }
  /// code() of the DatabaseError behind a failed migration; empty otherwise.
  const std::string& database_code() const noexcept { return database_code_; }
  /// True when a failed no-transaction migration left the database marked dirty.
  bool marked_dirty() const noexcept { return marked_dirty_; }

 private:
  Kind kind_;
  std::optional<std::int64_t> version_;
  std::string path_;
  std::exception_ptr cause_;
  std::string database_code_;
  bool marked_dirty_;
};

namespace migrate {

enum class Direction { up, down };

// ==== reading migration files (no database) ====================================================

/// What a migration file name says.
struct FileName {
  std::int64_t version = 0;
  std::string description;  ///< the name between '_' and the suffix, with '_' shown as ' '
  Direction direction = Direction::up;
};

/// One SQL file of a migration.
struct Script {
  std::string path;             ///< where it came from, for messages
  std::string sql;              ///< the file's bytes
  bool no_transaction = false;  ///< `-- tenantry:no-transaction` at the top
};

/// One version: its up file and, optionally, its down file.
struct Migration {
  std::int64_t version = 0;
  std::string description;
  std::string checksum;  ///< SHA-256 of the up file's bytes, lower-case hex
  Script up;
  std::optional<Script> down;
};

/// A file handed to parse_migrations(): its bare file name, a path for messages, its bytes.
struct SourceFile {
  std::string name;
  std::string path;
  std::string contents;
};

inline constexpr std::string_view no_transaction_directive = "-- tenantry:no-transaction";

namespace detail {

inline bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
inline bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

inline std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

inline bool iends_with(std::string_view s, std::string_view suffix) noexcept {
  if (s.size() < suffix.size()) return false;
  const std::string_view tail = s.substr(s.size() - suffix.size());
  for (std::size_t i = 0; i < tail.size(); ++i) {
    const auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(tail[i]) != lower(suffix[i])) return false;
  }
  return true;
}

[[noreturn]] inline void bad_name(std::string_view name, const std::string& why) {
  throw MigrationError(MigrationError::Kind::bad_file,
                       "tenantry: migrate: bad migration file name '" + std::string(name) + "': " + why +
                           " (expected NNNN_description.up.sql or NNNN_description.down.sql)",
                       std::nullopt, std::string(name));
}

}  // namespace detail

/// Parses a migration file name (the bare name, without its directory).
///
/// Returns nullopt for files that are not migrations and are skipped: names starting with '.'
/// (editor and VCS files) and names not ending in ".sql" (README.md, .gitkeep). A name that ends
/// in ".sql" must be `<digits>_<description>.up.sql` or `.down.sql`, with a version from 1 to
/// INT64_MAX and a non-empty description; anything else throws MigrationError (bad_file) naming
/// the file, so a typo never makes a migration silently disappear.
inline std::optional<FileName> parse_file_name(std::string_view name) {
  using namespace std::string_view_literals;
  if (name.empty() || name.front() == '.' || !detail::iends_with(name, ".sql"sv)) return std::nullopt;

  FileName out;
  std::string_view stem;
  if (name.ends_with(".up.sql"sv)) {
    out.direction = Direction::up;
    stem = name.substr(0, name.size() - 7);
  } else if (name.ends_with(".down.sql"sv)) {
    out.direction = Direction::down;
    stem = name.substr(0, name.size() - 9);
  } else {
    detail::bad_name(name, "it does not end in '.up.sql' or '.down.sql'");
  }

  std::size_t digits = 0;
  while (digits < stem.size() && detail::is_digit(stem[digits])) ++digits;
  if (digits == 0) detail::bad_name(name, "it does not start with a version number");
  std::int64_t version = 0;
  for (std::size_t i = 0; i < digits; ++i) {
    const int d = stem[i] - '0';
    if (version > (INT64_MAX - d) / 10) detail::bad_name(name, "the version number is larger than 9223372036854775807");
    version = version * 10 + d;
  }
  if (version == 0) detail::bad_name(name, "version 0 is reserved (it means 'nothing applied'); start at 1");
  if (digits == stem.size() || stem[digits] != '_') detail::bad_name(name, "expected '_' after the version number");
  const std::string_view description = stem.substr(digits + 1);
  if (description.empty()) detail::bad_name(name, "the description after '_' is empty");

  out.version = version;
  out.description.assign(description);
  std::replace(out.description.begin(), out.description.end(), '_', ' ');
  return out;
}

/// True when the file asks to run outside a transaction: a line `-- tenantry:no-transaction`
/// among the comment lines at the top of the file (before the first line of SQL; blank lines and
/// `--` comments may precede it, so a licence header is fine).
///
/// Any other `-- tenantry:...` line at the top, or a `-- tenantry:` line further down (where it
/// would be ignored), throws MigrationError (bad_file) naming `path` and the line: a misspelt
/// directive must not silently run a file in a transaction it was written to avoid.
inline bool has_no_transaction_directive(std::string_view sql, std::string_view path) {
  if (sql.starts_with("\xEF\xBB\xBF")) sql.remove_prefix(3);  // UTF-8 byte order mark
  bool header = true;                                         // still in the leading block of blank and comment lines
  bool found = false;
  std::size_t line_no = 0;
  while (!sql.empty()) {
    ++line_no;
    const std::size_t eol = sql.find('\n');
    const std::string_view line = detail::trim(sql.substr(0, eol));
    sql = eol == std::string_view::npos ? std::string_view{} : sql.substr(eol + 1);

    const bool comment = line.starts_with("--");
    if (header && !line.empty() && !comment) header = false;
    if (!comment) continue;
    const std::string_view body = detail::trim(line.substr(2));
    if (!body.starts_with("tenantry:")) continue;
    const auto where = "'" + std::string(path) + "' line " + std::to_string(line_no);
    if (!header) {
      throw MigrationError(MigrationError::Kind::bad_file,
                           "tenantry: migrate: " + where + ": directive '" + std::string(line) +
                               "' must come before the first SQL statement",
                           std::nullopt, std::string(path));
    }
    if (body != no_transaction_directive.substr(3)) {
      throw MigrationError(MigrationError::Kind::bad_file,
                           "tenantry: migrate: " + where + ": unknown directive '" + std::string(line) +
                               "' (the only directive is '" + std::string(no_transaction_directive) + "')",
                           std::nullopt, std::string(path));
    }
    found = true;
  }
  return found;
}

/// SHA-256 of `bytes` as 64 lower-case hex digits: the checksum recorded for every applied
/// migration (tenantry/sha256.hpp: no crypto library; the same digests OpenSSL gave, which
/// earlier versions recorded).
inline std::string sha256_hex(std::string_view bytes) {
  const std::array<unsigned char, 32> md = tenantry::detail::sha256(bytes);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out(64, '0');
  for (std::size_t i = 0; i < 32; ++i) {
    out[2 * i] = hex[md[i] >> 4];
    out[2 * i + 1] = hex[md[i] & 0xF];
  }
  return out;
}

/// Splits PostgreSQL SQL text into its statements at top-level semicolons, skipping over
/// '...' and E'...' strings, "..." identifiers, $tag$...$tag$ bodies, -- comments and (nested)
/// /* */ comments. Pieces that hold only whitespace and comments are dropped; the returned views
/// point into `sql`, without the terminating ';'.
///
/// Used for no-transaction files on PostgreSQL: a multi-statement simple query runs as one
/// implicit transaction, where CREATE INDEX CONCURRENTLY is refused, so such files are sent one
/// statement at a time. (SQL-standard BEGIN ATOMIC ... END bodies contain top-level semicolons
/// and are not recognised; put them in a transactional file.)
inline std::vector<std::string_view> split_statements(std::string_view sql) {
  std::vector<std::string_view> out;
  const std::size_t n = sql.size();
  const auto ident = [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '_' || u >= 0x80;
  };
  std::size_t start = 0, i = 0;
  bool has_code = false;  // the current piece holds more than whitespace and comments
  const auto flush = [&](std::size_t end) {
    if (has_code) out.push_back(detail::trim(sql.substr(start, end - start)));
    start = end + 1;
    has_code = false;
  };
  // Index just past the quoted text opening at `open` (or n when it never closes).
  const auto skip_quoted = [&](std::size_t open, char quote, bool backslash_escapes) {
    std::size_t j = open + 1;
    while (j < n) {
      if (backslash_escapes && sql[j] == '\\') {
        j += 2;
      } else if (sql[j] == quote) {
        if (j + 1 < n && sql[j + 1] == quote) j += 2;  // doubled quote stands for itself
        else return j + 1;
      } else {
        ++j;
      }
    }
    return n;
  };
  while (i < n) {
    const char c = sql[i];
    if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
      const std::size_t eol = sql.find('\n', i);
      i = eol == std::string_view::npos ? n : eol + 1;
    } else if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
      int depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (sql[i] == '/' && i + 1 < n && sql[i + 1] == '*') {
          ++depth;
          i += 2;
        } else if (sql[i] == '*' && i + 1 < n && sql[i + 1] == '/') {
          --depth;
          i += 2;
        } else {
          ++i;
        }
      }
    } else if (c == ';') {
      flush(i);
      ++i;
    } else if (c == '\'') {
      // E'...' (or e'...') is an escape string: a backslash escapes the next character.
      const bool escape_string = i >= 1 && (sql[i - 1] == 'E' || sql[i - 1] == 'e') && (i < 2 || !ident(sql[i - 2]));
      has_code = true;
      i = skip_quoted(i, '\'', escape_string);
    } else if (c == '"') {
      has_code = true;
      i = skip_quoted(i, '"', false);
    } else if (c == '$' && (i == 0 || !ident(sql[i - 1]))) {
      // $$ or $tag$ opens a dollar-quoted body; $1 (a parameter) does not.
      has_code = true;
      std::size_t j = i + 1;
      if (j < n && ident(sql[j]) && !detail::is_digit(sql[j])) {
        while (j < n && ident(sql[j])) ++j;
      }
      if (j < n && sql[j] == '$') {
        const std::string_view tag = sql.substr(i, j - i + 1);
        const std::size_t close = sql.find(tag, j + 1);
        i = close == std::string_view::npos ? n : close + tag.size();
      } else {
        ++i;
      }
    } else {
      if (!detail::is_space(c)) has_code = true;
      ++i;
    }
  }
  flush(n);
  return out;
}

/// The first keyword of `stmt`, upper-cased, after leading whitespace and comments ("BEGIN",
/// "COMMIT", "CREATE"...; empty when there is none). `rest`, when given, receives the text after
/// it, so that the next keyword can be read the same way.
inline std::string first_keyword(std::string_view stmt, std::string_view* rest = nullptr) {
  std::size_t i = 0;
  for (;;) {
    while (i < stmt.size() && detail::is_space(stmt[i])) ++i;
    if (stmt.substr(i).starts_with("--")) {
      const std::size_t eol = stmt.find('\n', i);
      i = eol == std::string_view::npos ? stmt.size() : eol + 1;
    } else if (stmt.substr(i).starts_with("/*")) {
      int depth = 0;  // nested, as PostgreSQL has them
      do {
        if (stmt.substr(i).starts_with("/*")) ++depth, i += 2;
        else if (stmt.substr(i).starts_with("*/")) --depth, i += 2;
        else ++i;
      } while (depth > 0 && i < stmt.size());
    } else {
      break;
    }
  }
  std::string word;
  for (; i < stmt.size(); ++i) {
    const char c = stmt[i];
    if (c >= 'a' && c <= 'z') word += static_cast<char>(c - 'a' + 'A');
    else if (c >= 'A' && c <= 'Z') word += c;
    else break;
  }
  if (rest != nullptr) *rest = stmt.substr(i);
  return word;
}

/// Builds the migration set from files already read: parses each name (skipping non-migration
/// files, see parse_file_name), detects directives and checksums the up files. Throws
/// MigrationError naming the file for a malformed name or directive, a NUL byte, two files with
/// the same version and direction, a down file without an up file, or up and down files of one
/// version with different descriptions. The result is sorted by version.
inline std::vector<Migration> parse_migrations(std::vector<SourceFile> files) {
  // Sorted by name so that which of two clashing files is reported is deterministic.
  std::sort(files.begin(), files.end(), [](const SourceFile& a, const SourceFile& b) { return a.name < b.name; });
  std::map<std::int64_t, Migration> ups;
  std::map<std::int64_t, std::pair<FileName, Script>> downs;
  for (SourceFile& f : files) {
    std::optional<FileName> name = parse_file_name(f.name);
    if (!name) continue;
    if (f.contents.find('\0') != std::string::npos) {
      throw MigrationError(MigrationError::Kind::bad_file,
                           "tenantry: migrate: '" + f.path + "' contains a NUL byte (not a text SQL file?)",
                           name->version, f.path);
    }
    Script script;
    script.no_transaction = has_no_transaction_directive(f.contents, f.path);
    script.path = f.path;
    script.sql = std::move(f.contents);
    const auto clash = [&](const std::string& other) {
      throw MigrationError(MigrationError::Kind::duplicate_version,
                           "tenantry: migrate: '" + other + "' and '" + script.path + "' both have version " +
                               std::to_string(name->version) + " (" +
                               (name->direction == Direction::up ? "up" : "down") + ")",
                           name->version, script.path);
    };
    if (name->direction == Direction::up) {
      if (auto it = ups.find(name->version); it != ups.end()) clash(it->second.up.path);
      Migration m;
      m.version = name->version;
      m.description = std::move(name->description);
      m.checksum = sha256_hex(script.sql);
      m.up = std::move(script);
      ups.emplace(m.version, std::move(m));
    } else {
      if (auto it = downs.find(name->version); it != downs.end()) clash(it->second.second.path);
      const std::int64_t v = name->version;
      downs.emplace(v, std::pair{std::move(*name), std::move(script)});
    }
  }
  for (auto& [version, down] : downs) {
    auto it = ups.find(version);
    if (it == ups.end()) {
      throw MigrationError(MigrationError::Kind::bad_file,
                           "tenantry: migrate: '" + down.second.path + "' has no matching up file for version " +
                               std::to_string(version),
                           version, down.second.path);
    }
    if (it->second.description != down.first.description) {
      throw MigrationError(MigrationError::Kind::bad_file,
                           "tenantry: migrate: '" + it->second.up.path + "' and '" + down.second.path +
                               "' have version " + std::to_string(version) + " but different descriptions",
                           version, down.second.path);
    }
    it->second.down = std::move(down.second);
  }
  std::vector<Migration> out;
  out.reserve(ups.size());
  for (auto& [version, m] : ups) out.push_back(std::move(m));
  return out;
}

/// Reads a file's bytes; throws MigrationError (io) with the path and the system's reason.
inline std::string read_file(const std::filesystem::path& path) {
  errno = 0;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  const auto fail = [&](int err) {
    throw MigrationError(MigrationError::Kind::io,
                         "tenantry: migrate: cannot read '" + path.string() +
                             "': " + std::error_code(err != 0 ? err : EIO, std::generic_category()).message(),
                         std::nullopt, path.string());
  };
  if (!f) fail(errno);
  std::string out;
  char buffer[1 << 14];
  std::size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof buffer, f.get())) > 0) out.append(buffer, got);
  if (std::ferror(f.get())) fail(errno);
  return out;
}

/// Reads the migrations in `dir` (not its subdirectories). Throws MigrationError (io) naming the
/// path when the directory is missing or unreadable or a migration file cannot be read, and the
/// errors of parse_migrations() for bad names and clashes.
inline std::vector<Migration> load_directory(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  const auto io_error = [&](const std::string& what, const fs::path& p) {
    throw MigrationError(MigrationError::Kind::io, "tenantry: migrate: " + what, std::nullopt, p.string());
  };
  std::error_code ec;
  const fs::file_status st = fs::status(dir, ec);
  if (st.type() == fs::file_type::not_found)
    io_error("migrations directory '" + dir.string() + "' does not exist", dir);
  if (ec) io_error("cannot read migrations directory '" + dir.string() + "': " + ec.message(), dir);
  if (!fs::is_directory(st)) io_error("'" + dir.string() + "' is not a directory", dir);

  std::vector<SourceFile> files;
  fs::directory_iterator it(dir, ec);
  if (ec) io_error("cannot read migrations directory '" + dir.string() + "': " + ec.message(), dir);
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) break;
    const fs::path& p = it->path();
    std::string name = p.filename().string();
    if (!parse_file_name(name)) continue;  // not a migration (throws for a malformed .sql name)
    // Anything with a migration's name is read, so a dangling symlink or a directory named like
    // a migration is reported rather than skipped.
    files.push_back(SourceFile{std::move(name), p.string(), read_file(p)});
  }
  if (ec) io_error("cannot read migrations directory '" + dir.string() + "': " + ec.message(), dir);
  return parse_migrations(std::move(files));
}

// ==== running migrations ======================================================================

/// Reported through Options::progress as the runner works.
struct Progress {
  enum class Event {
    started,   ///< about to run the file (the lock is held and the version is claimed)
    finished,  ///< the file ran and its record is committed; `duration` is how long it took
    skipped,   ///< another runner applied (or reverted) it meanwhile
    waiting,   ///< another runner holds the lock (version 0, PostgreSQL) or, on SQLite, is in
               ///< the middle of this no-transaction migration; reported once per wait
  };
  Event event = Event::started;
  Direction direction = Direction::up;
  std::int64_t version = 0;
  std::string description;
  std::string path;
  bool no_transaction = false;
  std::chrono::microseconds duration{0};  ///< how long the file took (the record keeps milliseconds)
};

struct Options {
  /// Called for every migration (see Progress); empty means silent. An exception it throws ends
  /// the run: thrown from `started` the migration does not run, from `finished` it is committed.
  std::function<void(const Progress&)> progress;
  /// How long a runner waits for another runner before giving up with MigrationError (locked or
  /// dirty): on PostgreSQL for the advisory lock (held for a whole run), on SQLite for the write
  /// lock or for another runner's no-transaction migration to finish. On SQLite a no-transaction
  /// migration whose runner died looks the same as one still running, so this is also how long
  /// it takes for such a crash to be reported.
  std::chrono::milliseconds wait_timeout{std::chrono::minutes(10)};
  /// PostgreSQL: the advisory lock a run holds (default advisory_lock_key, below). Runners that
  /// share a key run one at a time; the schema-per-org fleet (fleet.hpp) gives each org schema
  /// its own, so different orgs migrate in parallel and one org never twice at once.
  std::int64_t lock_key = advisory_lock_key_value();

  /// 64-bit FNV-1a of `name`: the lock key of runners named that way.
  static constexpr std::int64_t advisory_lock_key_value(std::string_view name = "tenantry_migrations") {
    std::uint64_t h = 14695981039346656037ULL;
    for (char c : name) {
      h ^= static_cast<unsigned char>(c);
      h *= 1099511628211ULL;
    }
    return static_cast<std::int64_t>(h);
  }
};

/// One row of status(): every version in the directory or in the table, ascending.
struct MigrationStatus {
  std::int64_t version = 0;
  std::string description;
  bool applied = false;                     ///< a record exists (clean or dirty)
  std::optional<Timestamp> applied_at;      ///< when it was applied (started, for no-transaction)
  bool checksum_ok = true;                  ///< false when applied and the file changed or is missing
  bool dirty = false;                       ///< a no-transaction migration failed or was interrupted
  std::optional<std::int64_t> duration_ms;  ///< null for forced records and unfinished ones
  bool file_missing = false;                ///< recorded but no up file in the directory
  bool has_down = false;                    ///< a .down.sql file exists
  bool no_transaction = false;              ///< the up file runs outside a transaction
};

/// What up() or down() did.
struct RunResult {
  std::vector<std::int64_t> versions;  ///< applied by up() / reverted by down(), in order
  std::vector<std::int64_t> skipped;   ///< found done by another runner meanwhile
};

/// The PostgreSQL advisory lock key: 64-bit FNV-1a of "tenantry_migrations". Every tenantry
/// runner on a database uses it unless Options::lock_key says otherwise, so runs are serialised
/// per database.
inline constexpr std::int64_t advisory_lock_key = Options::advisory_lock_key_value();

inline constexpr std::string_view table_name = "_tenantry_migrations";

namespace detail {

template <class C>
inline constexpr bool is_pg = std::is_same_v<typename C::dialect, PgDialect>;

/// One row of _tenantry_migrations.
struct Record {
  std::int64_t version = 0;
  std::string description, checksum;
  std::optional<Timestamp> applied_at;
  std::optional<std::int64_t> duration_ms;
  bool dirty = false;
  /// Claimed by a no-transaction run that has not finished: in progress, or its runner died.
  bool unfinished() const noexcept { return dirty && !duration_ms; }
};

/// The runner's statements, written once with SQLite's ?N placeholders; PostgreSQL gets $N.
template <bool Pg>
struct Statements {
  static Sql make(std::string text) {
    if constexpr (Pg) std::replace(text.begin(), text.end(), '?', '$');
    return intern_sql(std::move(text));
  }
#define TENANTRY_MIGRATE_SQL(name, text) \
  static const Sql& name() {             \
    static const Sql sql = make(text);   \
    return sql;                          \
  }
  TENANTRY_MIGRATE_SQL(select_all,
                       "SELECT version, description, checksum, applied_at, duration_ms, dirty"
                       " FROM _tenantry_migrations ORDER BY version")
  TENANTRY_MIGRATE_SQL(select_first_dirty,
                       "SELECT version, description, checksum, applied_at, duration_ms, dirty"
                       " FROM _tenantry_migrations WHERE dirty ORDER BY version LIMIT 1")
  TENANTRY_MIGRATE_SQL(select_one, "SELECT 1 FROM _tenantry_migrations WHERE version = ?1")
  TENANTRY_MIGRATE_SQL(insert,
                       "INSERT INTO _tenantry_migrations (version, description, checksum, applied_at, duration_ms,"
                       " dirty) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
  TENANTRY_MIGRATE_SQL(set_state, "UPDATE _tenantry_migrations SET dirty = ?2, duration_ms = ?3 WHERE version = ?1")
  TENANTRY_MIGRATE_SQL(set_file,
                       "UPDATE _tenantry_migrations SET description = ?2, checksum = ?3, dirty = ?4 WHERE version = ?1")
  TENANTRY_MIGRATE_SQL(delete_one, "DELETE FROM _tenantry_migrations WHERE version = ?1")
  TENANTRY_MIGRATE_SQL(delete_above, "DELETE FROM _tenantry_migrations WHERE version > ?1")
  TENANTRY_MIGRATE_SQL(try_lock, "SELECT pg_try_advisory_lock(CAST(?1 AS BIGINT))")
  // In the schema CREATE TABLE puts it (the current one), not wherever the search path finds one.
  TENANTRY_MIGRATE_SQL(table_exists,
                       Pg ? "SELECT to_regclass(format('%I._tenantry_migrations', current_schema())) IS NOT NULL"
                          : "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table'"
                            " AND name = '_tenantry_migrations'")
  TENANTRY_MIGRATE_SQL(foreign_keys, "PRAGMA foreign_keys")              // SQLite only
  TENANTRY_MIGRATE_SQL(legacy_alter_table, "PRAGMA legacy_alter_table")  // SQLite only
#undef TENANTRY_MIGRATE_SQL
};

// The record table in each dialect's types. SQLite stores applied_at as tenantry's ISO text.
// duration_ms is null while a no-transaction migration runs and for records written by force().
inline constexpr std::string_view sqlite_table_ddl =
    "CREATE TABLE IF NOT EXISTS _tenantry_migrations (\n"
    "  version INTEGER NOT NULL PRIMARY KEY,\n"
    "  description TEXT NOT NULL,\n"
    "  checksum TEXT NOT NULL,\n"
    "  applied_at TEXT NOT NULL,\n"
    "  duration_ms INTEGER,\n"
    "  dirty INTEGER NOT NULL DEFAULT 0 CHECK (dirty IN (0, 1))\n"
    ")";
// Created only after checking it is missing (under the advisory lock), so that PostgreSQL's
// "already exists, skipping" NOTICE of IF NOT EXISTS never reaches the client.
inline constexpr std::string_view pg_table_ddl =
    "CREATE TABLE _tenantry_migrations (\n"
    "  version BIGINT NOT NULL PRIMARY KEY,\n"
    "  description TEXT NOT NULL,\n"
    "  checksum TEXT NOT NULL,\n"
    "  applied_at TIMESTAMPTZ NOT NULL,\n"
    "  duration_ms BIGINT,\n"
    "  dirty BOOLEAN NOT NULL DEFAULT false\n"
    ")";

/// Resets a cached statement at scope end (as the drivers' own StatementScope does), so it never
/// holds a read lock or stale bindings.
template <class S>
class Reset {
 public:
  explicit Reset(S& s) noexcept : s_(s) {}
  ~Reset() { s_.reset(); }
  Reset(const Reset&) = delete;
  Reset& operator=(const Reset&) = delete;

 private:
  S& s_;
};

/// The runner's work on one concrete driver connection C.
template <class C>
class Engine {
  using Stmts = Statements<is_pg<C>>;
  using Clock = std::chrono::steady_clock;
  using Tx = decltype(std::declval<C&>().transaction());

 public:
  Engine(C& conn, const std::vector<Migration>& migrations, const Options& options)
      : conn_(conn), migrations_(migrations), options_(options) {}

  RunResult up(std::optional<std::int64_t> target) {
    require_no_transaction("up");
    const RunLock lock = lock_run(Direction::up);
    ensure_table();
    const std::vector<Record> records = clean_records(Direction::up);
    check_history(records);
    std::set<std::int64_t> recorded;
    for (const Record& r : records) recorded.insert(r.version);

    RunResult result;
    for (const Migration& m : migrations_) {
      if (target && m.version > *target) break;
      if (recorded.count(m.version) != 0) continue;
      (run(m, Direction::up) ? result.versions : result.skipped).push_back(m.version);
    }
    return result;
  }

  RunResult down(std::int64_t target) {
    require_no_transaction("down");
    if (target < 0)
      throw UsageError("tenantry: migrate: down() target must be a version >= 0, not " + std::to_string(target));
    const RunLock lock = lock_run(Direction::down);
    ensure_table();
    const std::vector<Record> records = clean_records(Direction::down);
    check_history(records);
    // Every down file is checked before the first one runs, so a missing one reverts nothing.
    std::vector<const Migration*> todo;
    for (auto it = records.rbegin(); it != records.rend() && it->version > target; ++it) {
      const Migration* m = find(it->version);  // present: check_history() passed
      if (!m->down) {
        std::string expected = m->up.path;
        if (expected.ends_with(".up.sql")) expected.replace(expected.size() - 7, 7, ".down.sql");
        throw MigrationError(MigrationError::Kind::missing_down,
                             "tenantry: migrate: cannot revert version " + std::to_string(m->version) + " (" +
                                 m->description + "): '" + expected + "' does not exist; nothing was reverted",
                             m->version, expected);
      }
      todo.push_back(m);
    }
    RunResult result;
    for (const Migration* m : todo) (run(*m, Direction::down) ? result.versions : result.skipped).push_back(m->version);
    return result;
  }

  std::vector<MigrationStatus> status() {
    const std::vector<Record> records = table_exists() ? load_records() : std::vector<Record>{};
    std::map<std::int64_t, MigrationStatus> rows;
    for (const Migration& m : migrations_) {
      MigrationStatus& s = rows[m.version];
      s.version = m.version;
      s.description = m.description;
      s.has_down = m.down.has_value();
      s.no_transaction = m.up.no_transaction;
    }
    for (const Record& r : records) {
      auto [it, inserted] = rows.try_emplace(r.version);
      MigrationStatus& s = it->second;
      if (inserted) {  // recorded, but its file is gone
        s.version = r.version;
        s.description = r.description;
        s.file_missing = true;
        s.checksum_ok = false;
      } else {
        s.checksum_ok = find(r.version)->checksum == r.checksum;
      }
      s.applied = true;
      s.applied_at = r.applied_at;
      s.dirty = r.dirty;
      s.duration_ms = r.duration_ms;
    }
    std::vector<MigrationStatus> out;
    out.reserve(rows.size());
    for (auto& [version, s] : rows) out.push_back(std::move(s));
    return out;
  }

  // Makes the records say exactly "the files up to `version` are applied, cleanly": records
  // above it are deleted, and so are records at or below it whose file is gone; the others are
  // marked clean and take their file's current description and checksum; versions without a
  // record get one. applied_at and duration_ms of existing records are kept.
  void force(std::int64_t version) {
    require_no_transaction("force");
    if (version < 0)
      throw UsageError("tenantry: migrate: force() takes a version >= 0, not " + std::to_string(version));
    if (version != 0 && find(version) == nullptr) {
      throw MigrationError(MigrationError::Kind::unknown_version,
                           "tenantry: migrate: force(" + std::to_string(version) +
                               "): no migration has that version (use 0 for 'nothing applied')",
                           version);
    }
    const RunLock lock = lock_run(Direction::up);
    ensure_table();
    Tx tx = begin();
    const std::vector<Record> records = load_records();
    exec(Stmts::delete_above(), [&](auto& st) { st.bind_int(1, version); });
    std::set<std::int64_t> recorded;
    for (const Record& r : records) {
      if (r.version > version) continue;
      if (find(r.version) == nullptr) exec(Stmts::delete_one(), [&](auto& st) { st.bind_int(1, r.version); });
      else recorded.insert(r.version);
    }
    const Timestamp now = Timestamp::now();
    for (const Migration& m : migrations_) {
      if (m.version > version) break;
      if (recorded.count(m.version) != 0) {
        exec(Stmts::set_file(), [&](auto& st) {
          st.bind_int(1, m.version);
          st.bind_text(2, m.description);
          st.bind_text(3, m.checksum);
          st.bind_bool(4, false);
        });
      } else {
        insert_record(m, now, std::nullopt, false);
      }
    }
    tx.commit();
  }

 private:
  // ---- locking ---------------------------------------------------------------------------------

  /// Releases the PostgreSQL session-level advisory lock at scope end, on success and on error
  /// alike (see lock_run()). Holds nothing on SQLite.
  class RunLock {
   public:
    RunLock(C* locked, std::int64_t key) noexcept : conn_(locked), key_(key) {}
    ~RunLock() {
      if (conn_ == nullptr) return;
      try {
        conn_->execute("SELECT pg_advisory_unlock(" + std::to_string(key_) + ")");
      } catch (...) {
        // The connection is broken; the server releases session locks when the session ends.
      }
    }
    RunLock(const RunLock&) = delete;
    RunLock& operator=(const RunLock&) = delete;

   private:
    C* conn_ = nullptr;
    std::int64_t key_ = 0;
  };

  /// PostgreSQL: takes the session-level advisory lock for the whole run. It is polled with
  /// pg_try_advisory_lock rather than waited for in pg_advisory_lock: a session blocked in a
  /// statement holds a snapshot, and CREATE INDEX CONCURRENTLY in the lock holder would wait for
  /// that snapshot while we wait for its lock (a deadlock PostgreSQL resolves by killing one).
  /// SQLite has no session locks; there each migration takes the write lock with BEGIN IMMEDIATE
  /// instead (see claim()).
  RunLock lock_run(Direction dir) {
    if constexpr (is_pg<C>) {
      const auto deadline = Clock::now() + options_.wait_timeout;
      auto pause = std::chrono::milliseconds(5);
      for (bool reported = false;; reported = true) {
        {
          auto& st = conn_.prepare(Stmts::try_lock());
          Reset reset(st);
          st.bind_int(1, options_.lock_key);
          if (st.step() && st.column_bool(0)) return RunLock(&conn_, options_.lock_key);
        }
        if (!reported) report(Progress::Event::waiting, nullptr, 0, dir, {});
        if (Clock::now() >= deadline) {
          throw MigrationError(MigrationError::Kind::locked,
                               "tenantry: migrate: another runner held the migration lock (advisory lock " +
                                   std::to_string(options_.lock_key) + ") for longer than the wait timeout (" +
                                   std::to_string(options_.wait_timeout.count()) + " ms); nothing was done");
        }
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(250));
      }
    } else {
      (void)dir;
      return RunLock(nullptr, 0);
    }
  }

  /// A write transaction (SQLite: BEGIN IMMEDIATE). On SQLite a BusyError at BEGIN means another
  /// runner held the write lock past the busy timeout (a long migration); keep waiting until
  /// Options::wait_timeout.
  Tx begin() {
    const auto deadline = Clock::now() + options_.wait_timeout;
    for (;;) {
      try {
        return conn_.transaction();
      } catch (const BusyError& e) {
        if (is_pg<C>) throw;
        if (Clock::now() >= deadline) {
          throw MigrationError(MigrationError::Kind::locked,
                               std::string("tenantry: migrate: the database stayed locked by another writer for"
                                           " longer than the wait timeout (") +
                                   std::to_string(options_.wait_timeout.count()) + " ms): " + e.what(),
                               std::nullopt, {}, std::current_exception(), e.code());
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));  // in case busy_timeout is 0
      }
    }
  }

  void require_no_transaction(const char* what) {
    if (conn_.in_transaction()) {
      throw UsageError(std::string("tenantry: migrate: ") + what +
                       "() must run outside a transaction: each migration commits on its own");
    }
  }

  // ---- the record table --------------------------------------------------------------------------

  template <class Bind>
  void exec(const Sql& sql, Bind&& bind) {
    auto& st = conn_.prepare(sql);
    Reset reset(st);
    bind(st);
    while (st.step()) {
    }
  }

  bool table_exists() {
    auto& st = conn_.prepare(Stmts::table_exists());
    Reset reset(st);
    if (!st.step()) return false;
    if constexpr (is_pg<C>) return st.column_bool(0);
    else return st.column_int(0) != 0;
  }

  void ensure_table() {
    if (table_exists()) return;
    if constexpr (is_pg<C>) {
      conn_.execute(pg_table_ddl);  // under the advisory lock: nobody else is creating it
    } else {
      // Through begin(): another runner may hold the write lock for a whole run of
      // migrations, longer than one busy timeout. IF NOT EXISTS settles concurrent creators.
      Tx tx = begin();
      conn_.execute(sqlite_table_ddl);
      tx.commit();
    }
  }

  template <class S>
  static Record read_record(S& st) {
    Record r;
    r.version = st.column_int(0);
    r.description = std::string(st.column_text(1));
    r.checksum = std::string(st.column_text(2));
    if (!st.column_is_null(3)) r.applied_at = st.column_timestamp(3);
    if (!st.column_is_null(4)) r.duration_ms = st.column_int(4);
    r.dirty = st.column_bool(5);
    return r;
  }

  std::vector<Record> load_records() {
    std::vector<Record> out;
    auto& st = conn_.prepare(Stmts::select_all());
    Reset reset(st);
    while (st.step()) out.push_back(read_record(st));
    return out;
  }

  std::optional<Record> first_dirty() {
    auto& st = conn_.prepare(Stmts::select_first_dirty());
    Reset reset(st);
    if (!st.step()) return std::nullopt;
    return read_record(st);
  }

  bool is_recorded(std::int64_t version) {
    auto& st = conn_.prepare(Stmts::select_one());
    Reset reset(st);
    st.bind_int(1, version);
    return st.step();
  }

  void insert_record(const Migration& m, Timestamp applied_at, std::optional<std::int64_t> duration_ms, bool dirty) {
    exec(Stmts::insert(), [&](auto& st) {
      st.bind_int(1, m.version);
      st.bind_text(2, m.description);
      st.bind_text(3, m.checksum);
      st.bind_timestamp(4, applied_at);
      if (duration_ms) st.bind_int(5, *duration_ms);
      else st.bind_null(5);
      st.bind_bool(6, dirty);
    });
  }

  void set_state(std::int64_t version, bool dirty, std::optional<std::int64_t> duration_ms) {
    exec(Stmts::set_state(), [&](auto& st) {
      st.bind_int(1, version);
      st.bind_bool(2, dirty);
      if (duration_ms) st.bind_int(3, *duration_ms);
      else st.bind_null(3);
    });
  }

  // ---- checks before running ---------------------------------------------------------------------

  const Migration* find(std::int64_t version) const {
    auto it = std::lower_bound(migrations_.begin(), migrations_.end(), version,
                               [](const Migration& m, std::int64_t v) { return m.version < v; });
    return it != migrations_.end() && it->version == version ? &*it : nullptr;
  }

  /// The version force() should be given to declare `version` not applied.
  std::int64_t version_before(std::int64_t version) const {
    std::int64_t before = 0;
    for (const Migration& m : migrations_) {
      if (m.version >= version) break;
      before = m.version;
    }
    return before;
  }

  [[noreturn]] void throw_dirty(const Record& r, bool waited) const {
    const Migration* m = find(r.version);
    const std::string v = std::to_string(r.version);
    std::string what = "tenantry: migrate: the database is dirty at version " + v + " (" +
                       (m != nullptr ? m->up.path : r.description) + "): ";
    if (r.unfinished()) {
      what += "a migration run outside a transaction started";
      if (r.applied_at) what += " at " + r.applied_at->to_iso();
      what += waited ? " and did not finish within the wait timeout (its runner may still be running, or died)"
                     : " and never finished (its runner crashed or was killed)";
    } else {
      what += "a migration run outside a transaction failed after " + std::to_string(r.duration_ms.value_or(0)) + " ms";
    }
    what += ". Nothing was done. Inspect the database, finish or undo that migration by hand, then call force(" + v +
            ") if its changes are all in place or force(" + std::to_string(version_before(r.version)) +
            ") if none are.";
    throw MigrationError(MigrationError::Kind::dirty, what, r.version, m != nullptr ? m->up.path : std::string{});
  }

  /// Decides what to do about a dirty record. On SQLite, a no-transaction migration that another
  /// live runner is executing looks exactly like one whose runner died: wait (up to
  /// wait_timeout) for it to be finished, and return to re-check. Anything else refuses the run.
  /// (On PostgreSQL the advisory lock rules out a live runner, so an unfinished record is final.)
  void wait_or_throw(const Record& r, Direction dir) {
    if (is_pg<C> || !r.unfinished()) throw_dirty(r, false);
    const auto now = Clock::now();
    if (!wait_deadline_) {
      wait_deadline_ = now + options_.wait_timeout;
      const Migration* m = find(r.version);
      report(Progress::Event::waiting, m, r.version, dir, {});
    } else if (now >= *wait_deadline_) {
      throw_dirty(r, true);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }

  /// The records, once no dirty record is left (waiting on SQLite as wait_or_throw() allows).
  std::vector<Record> clean_records(Direction dir) {
    for (;;) {
      std::vector<Record> records = load_records();
      auto dirty = std::find_if(records.begin(), records.end(), [](const Record& r) { return r.dirty; });
      if (dirty == records.end()) {
        wait_deadline_.reset();
        return records;
      }
      wait_or_throw(*dirty, dir);
    }
  }

  /// Stops the run when an applied migration's file was edited or deleted. Every problem is named
  /// in the message; version() is the first.
  void check_history(const std::vector<Record>& records) const {
    std::string problems;
    std::optional<std::int64_t> first;
    std::string first_path;
    MigrationError::Kind kind = MigrationError::Kind::checksum_mismatch;
    for (const Record& r : records) {
      const Migration* m = find(r.version);
      if (m != nullptr && m->checksum == r.checksum) continue;
      if (!first) {
        first = r.version;
        kind = m == nullptr ? MigrationError::Kind::missing_file : MigrationError::Kind::checksum_mismatch;
        first_path = m == nullptr ? std::string{} : m->up.path;
      }
      problems += problems.empty() ? "" : "; ";
      if (m == nullptr) {
        problems += "version " + std::to_string(r.version) + " (" + r.description +
                    ") is applied but its file is missing from the directory";
      } else {
        problems += "version " + std::to_string(r.version) + " ('" + m->up.path +
                    "') was changed after it was applied (recorded sha256 " + r.checksum.substr(0, 12) + "..., file " +
                    m->checksum.substr(0, 12) + "...)";
      }
    }
    if (first) {
      throw MigrationError(kind,
                           "tenantry: migrate: the applied migrations do not match the files: " + problems +
                               ". Nothing was done. Restore the files (an applied migration is never edited; add a"
                               " new one instead), or record the current files with force().",
                           first, first_path);
    }
  }

  // ---- running one migration ---------------------------------------------------------------------

  static std::int64_t whole_ms(std::chrono::microseconds d) noexcept {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  }

  void report(Progress::Event event, const Migration* m, std::int64_t version, Direction dir,
              std::chrono::microseconds duration) const {
    if (!options_.progress) return;
    Progress p;
    p.event = event;
    p.direction = dir;
    p.version = version;
    p.duration = duration;
    if (m != nullptr) {
      const Script& s = dir == Direction::up || !m->down ? m->up : *m->down;
      p.description = m->description;
      p.path = s.path;
      p.no_transaction = s.no_transaction;
    }
    options_.progress(p);
  }

  /// Opens the write transaction in which `m` is claimed, after re-checking under the lock that
  /// no runner left the database dirty and that `m` still needs doing (up: not recorded; down:
  /// recorded). Returns nullopt when another runner did it meanwhile.
  std::optional<Tx> claim(const Migration& m, Direction dir) {
    for (;;) {
      Tx tx = begin();
      if (std::optional<Record> dirty = first_dirty()) {
        tx.rollback();
        wait_or_throw(*dirty, dir);
        continue;
      }
      wait_deadline_.reset();
      if (is_recorded(m.version) != (dir == Direction::down)) {
        tx.rollback();
        return std::nullopt;
      }
      return std::optional<Tx>(std::move(tx));
    }
  }

  /// Runs a script's SQL. Files may hold several statements: SQLite runs them with
  /// sqlite3_exec, PostgreSQL with one simple query in a transaction; outside a transaction
  /// PostgreSQL gets one statement at a time (see split_statements()).
  ///
  /// A no-transaction file may open a transaction of its own (BEGIN ... COMMIT). If it fails
  /// inside it, that transaction is left open and unknown to the driver; it is rolled back here so
  /// the connection stays usable (SQLite: always tried, harmless without a transaction;
  /// PostgreSQL: only when the statements sent opened one, since a stray ROLLBACK draws a WARNING).
  ///
  /// SQLite's table rebuild turns `PRAGMA foreign_keys` off around its transaction (the pragma is
  /// a no-op inside one), and `PRAGMA legacy_alter_table` on inside it. The settings belong to
  /// the connection, which the application goes on using, so they are put back as they were
  /// before the file ran, whether the file succeeded, failed half-way or forgot to turn them
  /// back: a failed upgrade must not leave a connection that silently stops enforcing foreign
  /// keys, or renames tables without rewriting the references to them.
  void execute_script(const Script& s) {
    const std::vector<std::string_view> statements = split_statements(s.sql);
    if (statements.empty()) return;  // only comments: nothing to send
    if (!s.no_transaction) {
      conn_.execute(s.sql);
      return;
    }
    if constexpr (!is_pg<C>) {
      const bool foreign_keys = sqlite_pragma(Stmts::foreign_keys());
      const bool legacy_alter_table = sqlite_pragma(Stmts::legacy_alter_table());
      struct Restore {
        Engine& e;
        bool fk, legacy;
        ~Restore() {
          try {
            if (e.sqlite_pragma(Stmts::foreign_keys()) != fk)
              e.conn_.execute(fk ? "PRAGMA foreign_keys = ON" : "PRAGMA foreign_keys = OFF");
            if (e.sqlite_pragma(Stmts::legacy_alter_table()) != legacy)
              e.conn_.execute(legacy ? "PRAGMA legacy_alter_table = ON" : "PRAGMA legacy_alter_table = OFF");
          } catch (...) {  // the script's own error (if any) is the one to report
          }
        }
      } restore{*this, foreign_keys, legacy_alter_table};
      execute_no_transaction(statements, s);
    } else {
      execute_no_transaction(statements, s);
    }
  }

  bool sqlite_pragma(const Sql& pragma) {
    auto& st = conn_.prepare(pragma);
    Reset reset(st);
    return st.step() && st.column_int(0) != 0;
  }

  void execute_no_transaction(const std::vector<std::string_view>& statements, const Script& s) {
    bool own_transaction = false;  // PostgreSQL: the file's statements opened one, not yet ended
    try {
      if constexpr (is_pg<C>) {
        for (std::string_view stmt : statements) {
          std::string_view rest;
          const std::string word = first_keyword(stmt, &rest);
          const std::string next = first_keyword(rest);
          if (word == "BEGIN" || word == "START") own_transaction = true;
          conn_.execute(stmt);
          // COMMIT / END / ROLLBACK / ABORT end it; ROLLBACK TO (a savepoint) and the PREPARED
          // forms (another, prepared transaction) do not.
          if ((word == "COMMIT" || word == "END" || word == "ROLLBACK" || word == "ABORT") && next != "TO" &&
              next != "PREPARED")
            own_transaction = false;
        }
      } else {
        conn_.execute(s.sql);
      }
    } catch (...) {
      if (!is_pg<C> || own_transaction) {
        try {
          conn_.execute("ROLLBACK");
        } catch (...) {
        }
      }
      throw;
    }
  }

  [[noreturn]] void throw_failed(const Migration& m, Direction dir, const Script& s, bool dirty) const {
    const std::exception_ptr cause = std::current_exception();
    std::string reason = "unknown error", code;
    bool connection_lost = false;
    try {
      throw;
    } catch (const ConnectionError& e) {
      reason = e.what();
      code = e.code();
      connection_lost = true;
    } catch (const DatabaseError& e) {
      reason = e.what();
      code = e.code();
    } catch (const std::exception& e) {
      reason = e.what();
    } catch (...) {
    }
    const std::string v = std::to_string(m.version);
    std::string what = std::string("tenantry: migrate: ") +
                       (dir == Direction::up ? "migration " : "reverting migration ") + v + " ('" + s.path +
                       "') failed: " + reason + ". ";
    if (connection_lost) {
      // The COMMIT may or may not have reached the server before the connection went.
      what +=
          "The connection was lost, so whether it was committed is unknown: check status() on a new"
          " connection.";
    } else if (dirty) {
      what +=
          "It ran outside a transaction, so part of it may have taken effect: the database is marked dirty at"
          " version " +
          v + " and later runs refuse until force(" + v + ") or force(" + std::to_string(version_before(m.version)) +
          ") once it has been finished or undone by hand.";
    } else {
      what += dir == Direction::up ? "Nothing of it was applied and it was not recorded."
                                   : "Nothing of it was reverted; it is still recorded as applied.";
    }
    throw MigrationError(MigrationError::Kind::failed, what, m.version, s.path, cause, code, dirty);
  }

  /// Applies (up) or reverts (down) one migration. Returns false when it was skipped because
  /// another runner did it meanwhile.
  bool run(const Migration& m, Direction dir) {
    const Script& s = dir == Direction::up ? m.up : *m.down;
    std::optional<Tx> tx = claim(m, dir);
    if (!tx) {
      report(Progress::Event::skipped, &m, m.version, dir, {});
      return false;
    }
    std::chrono::microseconds took{0};

    if (!s.no_transaction) {
      // The file and its record commit together, or not at all.
      report(Progress::Event::started, &m, m.version, dir, {});
      const Timestamp started_at = Timestamp::now();
      const auto start = Clock::now();
      try {
        execute_script(s);
        took = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
        if (dir == Direction::up) insert_record(m, started_at, whole_ms(took), false);
        else exec(Stmts::delete_one(), [&](auto& st) { st.bind_int(1, m.version); });
        tx->commit();  // a deferred constraint can still fail here: part of the migration
      } catch (...) {
        tx.reset();  // roll back before reporting
        throw_failed(m, dir, s, false);
      }
    } else {
      // Claim the version as dirty and unfinished before running, so that a failure or a crash
      // part way through is visible to every later run.
      if (dir == Direction::up) insert_record(m, Timestamp::now(), std::nullopt, true);
      else set_state(m.version, true, std::nullopt);
      tx->commit();
      tx.reset();
      report(Progress::Event::started, &m, m.version, dir, {});
      const auto start = Clock::now();
      try {
        execute_script(s);
      } catch (...) {
        took = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
        try {
          Tx t = begin();
          set_state(m.version, true, whole_ms(took));  // failed (not merely unfinished)
          t.commit();
        } catch (...) {
          // Leaves the record unfinished, which later runs also refuse.
        }
        throw_failed(m, dir, s, true);
      }
      took = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
      Tx t = begin();
      if (dir == Direction::up) set_state(m.version, false, whole_ms(took));
      else exec(Stmts::delete_one(), [&](auto& st) { st.bind_int(1, m.version); });
      t.commit();
    }
    report(Progress::Event::finished, &m, m.version, dir, took);
    return true;
  }

  C& conn_;
  const std::vector<Migration>& migrations_;
  const Options& options_;
  std::optional<Clock::time_point> wait_deadline_;  // set while waiting for another runner
};

}  // namespace detail

/// Applies, reverts and inspects the migrations of one directory on one connection.
///
/// Conn is sqlite::Connection, pg::Connection or tenantry::Database (dispatched with visit()).
/// The directory is read again by every call, so a long-lived Runner sees files added later.
/// Every call must be made outside a transaction; a Runner is used by one thread at a time, like
/// its connection.
template <class Conn>
class Runner {
 public:
  Runner(Conn& conn, std::filesystem::path dir, Options options = {})
      : conn_(&conn), dir_(std::move(dir)), options_(std::move(options)) {}

  /// A runner over migrations already in memory (embedded in the program, or parsed with
  /// parse_migrations()); sorted by version as parse_migrations() returns them.
  Runner(Conn& conn, std::vector<Migration> migrations, Options options = {})
      : conn_(&conn), migrations_(std::move(migrations)), options_(std::move(options)) {
    std::sort(migrations_->begin(), migrations_->end(),
              [](const Migration& a, const Migration& b) { return a.version < b.version; });
    // The engine finds migrations by binary search: versions must be unique (and positive, as
    // parse_file_name() guarantees for files).
    for (std::size_t i = 0; i < migrations_->size(); ++i) {
      const Migration& m = (*migrations_)[i];
      if (m.version <= 0) {
        throw MigrationError(MigrationError::Kind::bad_file,
                             "tenantry: migrate: migration '" + m.up.path + "' has version " +
                                 std::to_string(m.version) + "; versions start at 1",
                             m.version, m.up.path);
      }
      if (i > 0 && (*migrations_)[i - 1].version == m.version) {
        throw MigrationError(MigrationError::Kind::duplicate_version,
                             "tenantry: migrate: '" + (*migrations_)[i - 1].up.path + "' and '" + m.up.path +
                                 "' both have version " + std::to_string(m.version),
                             m.version, m.up.path);
      }
    }
  }

  /// Sets the progress callback (see Progress); an empty function silences the runner.
  void on_progress(std::function<void(const Progress&)> f) { options_.progress = std::move(f); }

  /// Applies every pending migration (or those up to and including `target`), in version order,
  /// each in its own transaction unless the file says otherwise. Refuses (MigrationError, nothing
  /// applied) when the database is dirty or an applied file was edited or removed. A pending
  /// migration whose version is below an applied one is applied too.
  RunResult up(std::optional<std::int64_t> target = std::nullopt) {
    return with([&](auto& engine) { return engine.up(target); });
  }

  /// Reverts the applied migrations above `target` (0: all), newest first, each with its
  /// .down.sql file in its own transaction unless the file says otherwise. Checks that every
  /// needed down file exists before reverting anything.
  RunResult down(std::int64_t target) {
    return with([&](auto& engine) { return engine.down(target); });
  }

  /// Every version in the directory or recorded in the database, ascending. Reads only: the
  /// record table is not created.
  std::vector<MigrationStatus> status() {
    return with([&](auto& engine) { return engine.status(); });
  }

  /// Declares the database to be at `version` (0: nothing applied), clean: records above it are
  /// removed, records at or below it are made to match the current files. For after a failed
  /// no-transaction migration has been finished or undone by hand. Runs nothing but the record
  /// updates, in one transaction.
  void force(std::int64_t version) {
    with([&](auto& engine) { engine.force(version); });
  }

  /// The migrations as read from the directory now (or as given).
  std::vector<Migration> migrations() const { return migrations_ ? *migrations_ : load_directory(dir_); }

 private:
  template <class F>
  decltype(auto) with(F&& f) {
    const std::vector<Migration> migrations = this->migrations();
    const auto on = [&](auto& conn) -> decltype(auto) {
      detail::Engine<std::remove_reference_t<decltype(conn)>> engine(conn, migrations, options_);
      return f(engine);
    };
    if constexpr (std::is_same_v<typename Conn::dialect, AnyDialect>) return conn_->visit(on);
    else return on(*conn_);
  }

  Conn* conn_;
  std::filesystem::path dir_;
  std::optional<std::vector<Migration>> migrations_;
  Options options_;
};

}  // namespace migrate
}  // namespace tenantry
