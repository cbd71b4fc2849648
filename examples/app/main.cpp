// examples/app/main.cpp - tenantry-app, the reference app's command line.
//
//   tenantry-app migrate up [--to V] [--rls]        apply pending migrations (progress, durations);
//                                                   --rls: also the row-level security migrations
//                                                   of every PostgreSQL database (main, sessions)
//   tenantry-app migrate down V [--yes|--dry-run]   revert the migrations above V (0: all)
//   tenantry-app migrate status                     every migration: applied, pending, dirty...; and
//                                                   whether the schema matches the entities (exits
//                                                   4 on a changed or missing file, dirt or drift)
//   tenantry-app migrate force V [--yes|--dry-run]  declare the database at V (after a failed
//                                                   no-transaction migration was fixed by hand)
//   tenantry-app migrate diff NAME [--rename A=B] [--fill T.C=SQL] [--allow KIND:T.C] [--print]
//                                                   write the next migration: the database vs the
//                                                   entities, refusing data loss, with the lint
//   tenantry-app migrate verify                     the drift check alone (exit 4 on drift)
//   tenantry-app migrate fleet --dir D [--schemas P] [--connections N] [--canary N]
//                                                   D over every org schema (PostgreSQL)
//   tenantry-app schema [--dialect D] [--no-rls]    print the app's DDL (sqlite or postgres)
//   tenantry-app schema --write [--dialect D] [--yes]  regenerate the generated migration files
//   tenantry-app schema entities [--namespace NS] [--schema S]
//                                                   print the entity declarations (structs and
//                                                   entity<T> blocks) that reproduce the database's
//                                                   schema; what they cannot say goes to stderr
//   tenantry-app demo [--rls] [--keep-schema]       migrate a database of its own, fill every
//                                                   table for two orgs, show that each org sees
//                                                   only its own rows, run the multi-table reads
//   tenantry-app orgs create --slug S --name N | orgs list | orgs suspend --slug S
//   tenantry-app report status --org S [--sql]      one org's rows per status: downloads, access
//                                                   requests, app access requests, tokens
//   tenantry-app report tokens --org S [--sql]      the org's tokens with their owner's login
//   tenantry-app report toolsets --org S --user U [--sql]
//                                                   a user's toolsets with the org's switch for
//                                                   each type, and which are usable
//   tenantry-app report models --org S [--sql]      the org's model aliases with their file's
//                                                   metadata, and those still without
//                                                   (each report: one statement per table read,
//                                                   examples/app/queries.hpp; --sql prints them)
//   tenantry-app health                             connect, SELECT 1, with latencies
//   tenantry-app rls verify [--role R]              check every PostgreSQL database's live row-level
//                                                   security against the generated policies, and
//                                                   that the connected role is subject to them
//                                                   (what a service runs at start-up); exit 4 and
//                                                   every mismatch when not
//   tenantry-app --version                          this program's, tenantry's and the libraries'
//
// Databases are named by URL, on every command that opens one:
//   --db URL          sqlite:PATH, sqlite:///abs/path, sqlite::memory:, postgres://... or libpq's
//                     "host=... dbname=..." form; a plain file path is an SQLite file. Default
//                     $DATABASE_URL, else sqlite:tenantry-demo.db
//   --session-db URL  the HTTP session store's database, default $SESSION_DB_URL; unset (or the
//                     same database as --db): the sessions live in the main database
// One code path serves both databases: the repositories run with D = tenantry::AnyDialect over a
// tenantry::Database opened by tenantry::connect(url).
//
// Commands that cannot hurt by accident:
//   * `migrate down` and `migrate force` change what the database has or records: without --yes
//     they print what they would do and exit 3, changing nothing (--dry-run: the same, exit 0);
//     `schema --write` needs --yes to overwrite a file whose contents would change;
//   * `migrate status`, `down`, `force`, `orgs`, `report` and `health` never create a database;
//   * `demo` replaces only an SQLite file that the demo itself created (it marks its files with
//     its own application id, PRAGMA application_id) and refuses any other existing file; on
//     PostgreSQL it works in a schema of its own, tenantry_demo_<random>, and drops only that.
//
// Migrations come from migrations/<dialect> (and migrations/sessions/<dialect> for a separate
// session database) under the source tree this binary was built from, else ./migrations;
// --dir names another directory of migration files for the main database.
//
// Exit status (stable; also in docs/migrations.md):
//   0  success
//   1  the command failed (message on stderr): a database error, a demo check, a missing file...
//   2  bad command line (unknown command or option, a bad number) or malformed database URL;
//      nothing was done
//   3  refused, nothing was changed: a destructive command without --yes (what it would do was
//      printed), a database the demo did not create, or a `migrate diff` that would lose data
//   4  the database disagrees with its migration files (FILE CHANGED, FILE MISSING, DIRTY) or
//      with the entities (DRIFTED, row-level security not as generated): `migrate status`,
//      `migrate verify` or `rls verify` found it, or up/down/force refused because of it
#include "app/entities.hpp"
#include "app/queries.hpp"
#include "app/repositories.hpp"
#include "app/schema.hpp"
#include "app/schema_check.hpp"
#include "app/upgrade.hpp"

#include <tenantry/entity_printer.hpp>
#include <tenantry/fleet.hpp>
#include <tenantry/migrate.hpp>
#include <tenantry/migration_gen.hpp>
#include <tenantry/tenantry.hpp>

#include <fmt/core.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <optional>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#ifndef TENANTRY_APP_MIGRATIONS_DIR
#define TENANTRY_APP_MIGRATIONS_DIR ""  // set by examples/CMakeLists.txt to <source>/migrations
#endif

namespace {

namespace fs = std::filesystem;
namespace migrate = tenantry::migrate;
using tenantry::AnyDialect;
using tenantry::Database;
using tenantry::OrgId;
using namespace app;

using D = AnyDialect;  // the one code path: every repository over a run-time chosen Database
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// ---- exit status, and the errors that choose it -------------------------------------------------

/// The exit status: stable across versions (see the file comment).
enum ExitStatus : int {
  exit_ok = 0,
  exit_failure = 1,
  exit_usage = 2,
  exit_refused = 3,
  exit_history = 4,
};

/// Something the demo expected did not happen: exit status 1.
struct DemoFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// A command cannot go on (missing directory, unmigrated database...): exit status 1.
struct CommandError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The command line asks for something impossible (a bad number...): exit status 2.
struct UsageFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The command refused to act and changed nothing: exit status 3.
struct Refusal : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void expect(bool condition, const std::string& what) {
  if (!condition) throw DemoFailure(what);
}

// ---- settings ----------------------------------------------------------------------------------

std::string default_db_url() { return "sqlite:tenantry-demo.db"; }

/// What the command line and the environment say.
struct Settings {
  std::string db_url = default_db_url();
  std::string session_db_url;         // empty: sessions in the main database
  std::string dir;                    // --dir: the main database's migration files
  std::string root;                   // schema --write --root: the migrations/ directory
  bool rls = false;                   // PostgreSQL row-level security (0003) and org context
  bool keep_schema = false;           // demo on PostgreSQL: keep the demo's schema
  bool sessions = false;              // migrate down/force: the session database
  bool yes = false;                   // --yes: do what a destructive command does
  bool dry_run = false;               // --dry-run: only say what it would do
  std::optional<std::int64_t> up_to;  // migrate up --to VERSION
};

/// A migration version typed on the command line: a whole number from `min` up. `what` names it
/// in the message ("VERSION", "--to"), which stays one short line whatever was typed.
std::int64_t parse_version(std::string_view what, const std::string& text, std::int64_t min) {
  const std::string shown = text.size() > 24 ? text.substr(0, 24) + "..." : text;
  const std::string expected = min == 0 ? "a migration version: 0, 1, 2..." : "a migration version: 1, 2, 3...";
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos)
    throw UsageFailure(std::string(what) + " must be " + expected + " (not '" + shown + "')");
  std::int64_t v = 0;
  for (const char c : text) {
    if (v > (std::numeric_limits<std::int64_t>::max() - (c - '0')) / 10)
      throw UsageFailure(std::string(what) + " '" + shown + "' is too large for a migration version");
    v = v * 10 + (c - '0');
  }
  if (v < min) throw UsageFailure(std::string(what) + " must be " + expected + " (not '" + shown + "')");
  return v;
}

/// A whole number from `min` to `max` typed on the command line, with a one-line message.
std::int64_t parse_number(std::string_view what, const std::string& text, std::int64_t min, std::int64_t max) {
  const std::string shown = text.size() > 24 ? text.substr(0, 24) + "..." : text;
  const std::string range = "a whole number from " + std::to_string(min) + " to " + std::to_string(max);
  std::int64_t v = 0;
  bool ok = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos && text.size() <= 18;
  for (const char c : ok ? text : std::string()) v = v * 10 + (c - '0');
  if (!ok || v < min || v > max) throw UsageFailure(std::string(what) + " must be " + range + " (not '" + shown + "')");
  return v;
}

// ---- database URLs -----------------------------------------------------------------------------

/// "sqlite tenantry-demo.db" or "postgres 127.0.0.1:5432/app", for messages.
std::string describe(const std::string& url) {
  const tenantry::DatabaseUrl u = tenantry::parse_database_url(url);
  if (!u.is_postgres()) return "sqlite " + u.sqlite_path;
  std::string where = u.host.empty() ? "(local socket)" : u.host;
  if (!u.port.empty()) where += ":" + u.port;
  return "postgres " + where + "/" + u.database;
}

/// True when two URLs name the same database (then the sessions share the main database).
bool same_database(const std::string& a, const std::string& b) {
  if (a == b) return true;
  const tenantry::DatabaseUrl x = tenantry::parse_database_url(a), y = tenantry::parse_database_url(b);
  if (x.kind != y.kind) return false;
  if (x.is_postgres()) return x.host == y.host && x.port == y.port && x.database == y.database;
  if (x.sqlite_path == ":memory:" || y.sqlite_path == ":memory:") return false;  // two private databases
  std::error_code ec1, ec2;
  const fs::path p = fs::weakly_canonical(x.sqlite_path, ec1), q = fs::weakly_canonical(y.sqlite_path, ec2);
  return !ec1 && !ec2 && p == q;
}

bool separate_sessions(const Settings& s) {
  return !s.session_db_url.empty() && !same_database(s.session_db_url, s.db_url);
}

/// Opens a database. With `org_context` (--rls), PostgreSQL repositories set app.current_org_id
/// in every org-scoped operation's transaction, as row-level security policies require.
Database open_db(const std::string& url, bool org_context, bool create = true) {
  tenantry::ConnectOptions options;
  options.postgres.org_context = org_context;
  options.sqlite.create = create;
  return tenantry::connect(url, options);
}

/// Opens a database that must exist already: the commands that inspect or change migration
/// state, and health, never create one (a typo in --db would otherwise make an empty database
/// and report on it).
Database open_existing(const std::string& url, bool org_context) {
  const tenantry::DatabaseUrl u = tenantry::parse_database_url(url);
  if (!u.is_postgres() && u.sqlite_path != ":memory:" && !u.sqlite_path.starts_with("file:") &&
      !fs::exists(u.sqlite_path))
    throw CommandError("there is no database at " + u.sqlite_path + " (run `tenantry-app migrate up` to create it)");
  return open_db(url, org_context, /*create=*/false);
}

std::string_view dialect_of(const Database& db) { return db.is_postgres() ? "postgres" : "sqlite"; }

// ---- plain queries on either database ----------------------------------------------------------

/// Resets a driver statement at scope end (both drivers' statements have reset()).
template <class S>
struct ResetAtExit {
  S& st;
  ~ResetAtExit() { st.reset(); }
};

/// Runs `sql` (no parameters) and calls row(statement) for each result row.
template <class F>
void for_each_row(Database& db, const std::string& sql, F&& row) {
  const tenantry::Sql s = tenantry::intern_sql(sql);
  db.visit([&](auto& conn) {
    auto& st = conn.prepare(s);
    ResetAtExit<std::remove_reference_t<decltype(st)>> reset{st};
    while (st.step()) row(st);
  });
}

// ---- the migrations directories ----------------------------------------------------------------

/// The migrations/ directory: --root, else the source tree's (compiled in), else ./migrations.
fs::path migrations_root(const Settings& s) {
  if (!s.root.empty()) return s.root;
  std::vector<fs::path> tried;
  for (const fs::path& candidate : {fs::path(TENANTRY_APP_MIGRATIONS_DIR), fs::path("migrations")}) {
    if (candidate.empty()) continue;
    std::error_code ec;
    if (fs::is_directory(candidate, ec)) return candidate;
    tried.push_back(candidate);
  }
  std::string list;
  for (const auto& p : tried) list += (list.empty() ? "" : ", ") + p.string();
  throw CommandError("cannot find the migrations directory (tried " + list + "); pass --dir DIR");
}

/// The migration files of the main database: --dir, else <root>/<dialect>.
fs::path main_dir(const Settings& s, const Database& db) {
  if (!s.dir.empty()) return s.dir;
  return migrations_root(s) / dialect_of(db);
}

/// The migration files of a separate session database: <root>/sessions/<dialect>.
fs::path sessions_dir(const Settings& s, const Database& db) {
  return migrations_root(s) / "sessions" / dialect_of(db);
}

// ---- running migrations ------------------------------------------------------------------------

std::string version_text(std::int64_t v) { return fmt::format("{:04}", v); }

/// Prints a runner's progress: "  up    0001 initial schema ................ 12 ms".
struct ProgressPrinter {
  bool line_open = false;

  void operator()(const migrate::Progress& p) {
    using Event = migrate::Progress::Event;
    const std::string_view dir = p.direction == migrate::Direction::up ? "up" : "down";
    switch (p.event) {
      case Event::started:
        close_line();
        fmt::print("  {:<5} {} {:<34}", dir, version_text(p.version),
                   p.description + (p.no_transaction ? " (no-tx)" : ""));
        std::fflush(stdout);
        line_open = true;
        break;
      case Event::finished:
        if (!line_open) fmt::print("  {:<5} {} {:<34}", dir, version_text(p.version), p.description);
        fmt::print("{:>9.1f} ms\n", static_cast<double>(p.duration.count()) / 1000.0);
        line_open = false;
        break;
      case Event::skipped:
        close_line();
        fmt::print("  {:<5} {} {:<34} skipped: another runner did it\n", dir, version_text(p.version), p.description);
        break;
      case Event::waiting:
        close_line();
        if (p.version == 0) fmt::print("  waiting for another runner's migration lock...\n");
        else fmt::print("  waiting for another runner to finish {} {}...\n", version_text(p.version), p.description);
        break;
    }
  }
  void close_line() {
    if (line_open) fmt::print("\n");
    line_open = false;
    std::fflush(stdout);  // before an error message goes to stderr
  }
};

/// The version just below the row-level security migration when it must be held back: on
/// PostgreSQL without --rls (see migrations/postgres/0003_row_level_security.up.sql).
std::optional<std::int64_t> rls_hold_back(const std::vector<migrate::Migration>& ms, const Database& db, bool rls) {
  if (rls || !db.is_postgres()) return std::nullopt;
  for (const auto& m : ms)
    if (m.description == row_level_security_description) return m.version - 1;
  return std::nullopt;
}

std::int64_t current_version(const std::vector<migrate::MigrationStatus>& st) {
  std::int64_t v = 0;
  for (const auto& s : st)
    if (s.applied) v = std::max(v, s.version);
  return v;
}

/// One database and its migration directory.
struct Target {
  std::string label;  // "main" or "sessions"
  std::string url;
  Database* db;
  fs::path dir;
};

/// Applies the pending migrations of one target (up to and including `to`), printing progress.
/// Returns what was applied.
migrate::RunResult migrate_up(const Target& t, bool rls, std::optional<std::int64_t> to = std::nullopt) {
  ProgressPrinter printer;
  migrate::Runner runner(*t.db, t.dir);
  runner.on_progress([&](const migrate::Progress& p) { printer(p); });
  const auto migrations = runner.migrations();
  const std::optional<std::int64_t> held = rls_hold_back(migrations, *t.db, rls);
  std::optional<std::int64_t> target = held;
  if (to && (!target || *to < *target)) target = to;
  fmt::print("migrate up: {} database, {}, {}\n", t.label, describe(t.url), t.dir.string());
  const auto start = Clock::now();
  migrate::RunResult r;
  try {
    r = runner.up(target);
  } catch (...) {
    printer.close_line();
    throw;
  }
  const auto st = runner.status();
  if (r.versions.empty()) fmt::print("  nothing to apply\n");
  for (const auto& s : st) {
    if (!s.applied && held && s.version > *held && s.description == row_level_security_description)
      fmt::print("  held back: {} {} (PostgreSQL row-level security; pass --rls to apply it)\n",
                 version_text(s.version), s.description);
  }
  fmt::print("  at version {}; applied {} migration(s) in {:.1f} ms\n", current_version(st), r.versions.size(),
             ms_since(start));
  return r;
}

int cmd_migrate_up(const Settings& s) {
  Database db = open_db(s.db_url, s.rls);
  migrate_up({"main", s.db_url, &db, main_dir(s, db)}, s.rls, s.up_to);
  if (separate_sessions(s)) {
    // The session database's tables are org-scoped too: --rls applies its policies as well.
    Database sdb = open_db(s.session_db_url, s.rls);
    migrate_up({"sessions", s.session_db_url, &sdb, sessions_dir(s, sdb)}, s.rls);
  }
  return 0;
}

/// "FILE CHANGED", "FILE MISSING" or "DIRTY" when a migration's record disagrees with its file
/// (every run refuses until it is resolved); empty otherwise.
std::string problem_of(const migrate::MigrationStatus& m) {
  if (!m.applied) return {};
  if (m.file_missing) return "FILE MISSING";
  if (!m.checksum_ok) return "FILE CHANGED";
  if (m.dirty) return "DIRTY";
  return {};
}

/// Prints every migration of one target and, once none is pending, whether the schema matches
/// the entities. Returns how many problems it found: migrations that disagree with their files,
/// plus one for a drifted schema.
std::size_t print_status(const Target& t, bool sessions = false) {
  migrate::Runner runner(*t.db, t.dir);
  const auto st = runner.status();
  fmt::print("{} database: {}, {}\n", t.label, describe(t.url), t.dir.string());
  fmt::print("  {:<8}{:<28}{:<14}{:<30}{:>10}  {}\n", "version", "description", "state", "applied at", "took", "notes");
  std::size_t problems = 0;
  for (const auto& m : st) {
    std::string state = problem_of(m);
    if (!state.empty()) ++problems;
    else state = m.applied ? "applied" : "pending";
    std::string notes;
    if (m.no_transaction) notes += "no-transaction ";
    if (!m.has_down && !m.file_missing) notes += "no down file";
    fmt::print("  {:<8}{:<28}{:<14}{:<30}{:>10}  {}\n", version_text(m.version), m.description, state,
               m.applied_at ? m.applied_at->to_iso() : "", m.duration_ms ? fmt::format("{} ms", *m.duration_ms) : "",
               notes);
  }
  fmt::print("  at version {}\n", current_version(st));
  if (problems > 0)
    fmt::print(
        "  {} migration(s) disagree with their files: up, down and force refuse until that is resolved "
        "(see docs/migrations.md)\n",
        problems);
  // (PostgreSQL's row-level security migration may be held back on purpose: see --rls.)
  if (problems > 0 || std::any_of(st.begin(), st.end(), [](const auto& m) {
        return !m.applied && m.description != row_level_security_description;
      })) {
    fmt::print("  schema: not compared with the entities while migrations are pending or disagree with their files\n");
    return problems;
  }
  const bool rls = std::any_of(
      st.begin(), st.end(), [](const auto& m) { return m.applied && m.description == row_level_security_description; });
  const auto drift = sessions ? app::sessions_schema_drift(*t.db, t.db->is_postgres())
                              : app::main_schema_drift(*t.db, rls);
  if (drift.empty()) {
    fmt::print("  schema: matches the entities\n");
    return problems;
  }
  fmt::print("  schema: DRIFTED from the entities ({} difference(s)); to match them, a migration would:\n",
             drift.size());
  for (const auto& d : drift) fmt::print("    {}\n", d);
  return problems + 1;
}

/// Exit 4 when either database disagrees with its migration files or with the entities.
int cmd_migrate_status(const Settings& s) {
  Database db = open_existing(s.db_url, s.rls);
  std::size_t problems = print_status({"main", s.db_url, &db, main_dir(s, db)});
  if (separate_sessions(s)) {
    Database sdb = open_existing(s.session_db_url, false);
    problems += print_status({"sessions", s.session_db_url, &sdb, sessions_dir(s, sdb)}, true);
  }
  return problems > 0 ? exit_history : exit_ok;
}

/// Runs f(target) on the main database, or on the session database with --sessions. Neither
/// is created when missing.
template <class F>
int on_target(const Settings& s, F&& f) {
  if (s.sessions) {
    if (!separate_sessions(s))
      throw CommandError("--sessions needs a separate session database (--session-db or SESSION_DB_URL)");
    Database sdb = open_existing(s.session_db_url, s.rls);
    return f(Target{"sessions", s.session_db_url, &sdb, s.dir.empty() ? sessions_dir(s, sdb) : fs::path(s.dir)});
  }
  Database db = open_existing(s.db_url, s.rls);
  return f(Target{"main", s.db_url, &db, main_dir(s, db)});
}

/// Prints the migrations whose records disagree with their files; returns how many.
std::size_t print_problems(const std::vector<migrate::MigrationStatus>& st) {
  std::size_t n = 0;
  for (const auto& m : st) {
    if (const std::string p = problem_of(m); !p.empty()) {
      fmt::print("  {:<12} {} {}\n", p, version_text(m.version), m.description);
      ++n;
    }
  }
  return n;
}

/// The end of a dry run: exit 0 with --dry-run, else 3 (the command was refused: --yes missing).
int end_dry_run(const Settings& s, const std::string& what) {
  if (s.dry_run) {
    fmt::print("dry run: nothing was changed\n");
    return exit_ok;
  }
  std::fflush(stdout);
  fmt::print(stderr, "tenantry-app: nothing was changed: {} needs --yes (or --dry-run to only see this)\n", what);
  return exit_refused;
}

int cmd_migrate_down(const Settings& s, std::int64_t version) {
  return on_target(s, [&](const Target& t) -> int {
    migrate::Runner runner(*t.db, t.dir);
    const auto st = runner.status();
    std::vector<const migrate::MigrationStatus*> plan;  // newest first, as down() reverts them
    for (auto it = st.rbegin(); it != st.rend(); ++it)
      if (it->applied && it->version > version) plan.push_back(&*it);
    const bool act = s.yes && !s.dry_run;
    fmt::print("migrate down to {}{}: {} database, {}, {}\n", version, act ? "" : " (dry run)", t.label,
               describe(t.url), t.dir.string());
    if (plan.empty()) {
      fmt::print("  nothing to revert: at version {}\n", current_version(st));
      return exit_ok;
    }
    if (!act) {
      for (const auto* m : plan)
        fmt::print("  would revert {} {}{}\n", version_text(m->version), m->description,
                   m->has_down ? "" : " (it has no down file: down would refuse)");
      fmt::print("  reverting runs the down files: the tables and data they drop are gone\n");
      if (print_problems(st) > 0) {
        fmt::print("  the history disagrees with the files: down would refuse until that is resolved\n");
        return exit_history;
      }
      return end_dry_run(s, "reverting " + std::to_string(plan.size()) + " migration(s)");
    }
    ProgressPrinter printer;
    runner.on_progress([&](const migrate::Progress& p) { printer(p); });
    const auto start = Clock::now();
    migrate::RunResult r;
    try {
      r = runner.down(version);
    } catch (...) {
      printer.close_line();
      throw;
    }
    if (r.versions.empty()) fmt::print("  nothing to revert\n");
    fmt::print("  at version {}; reverted {} migration(s) in {:.1f} ms\n", current_version(runner.status()),
               r.versions.size(), ms_since(start));
    return exit_ok;
  });
}

int cmd_migrate_force(const Settings& s, std::int64_t version) {
  return on_target(s, [&](const Target& t) -> int {
    migrate::Runner runner(*t.db, t.dir);
    const auto migrations = runner.migrations();
    if (version != 0 && std::none_of(migrations.begin(), migrations.end(),
                                     [&](const migrate::Migration& m) { return m.version == version; }))
      throw CommandError("migrate force " + std::to_string(version) + ": no migration in " + t.dir.string() +
                         " has that version (0 means nothing applied)");
    const auto st = runner.status();
    std::vector<std::string> changes;  // what force() would change in the records
    for (const auto& m : st) {
      const std::string v = version_text(m.version) + " " + m.description;
      if (m.version > version) {
        if (m.applied) changes.push_back("forget " + v + " (recorded as applied; its changes stay in the database)");
      } else if (!m.applied) {
        changes.push_back("record " + v + " as applied, without running it");
      } else if (m.file_missing) {
        changes.push_back("drop the record of " + v + " (FILE MISSING)");
      } else if (!m.checksum_ok) {
        changes.push_back("record the current file of " + v + " (FILE CHANGED)");
      } else if (m.dirty) {
        changes.push_back("mark " + v + " clean (DIRTY)");
      }
    }
    const bool act = s.yes && !s.dry_run;
    fmt::print("migrate force {}{}: {} database, {}, {}\n", version, act ? "" : " (dry run)", t.label, describe(t.url),
               t.dir.string());
    if (changes.empty()) {
      fmt::print("  nothing to change: the records already say version {}, clean\n", version);
      return exit_ok;
    }
    if (!act) {
      for (const auto& c : changes) fmt::print("  would {}\n", c);
      fmt::print("  no migration SQL runs: force only rewrites the records, so check the database by hand first\n");
      return end_dry_run(s, "rewriting the migration records");
    }
    runner.force(version);
    fmt::print("  recorded at version {}, clean ({} change(s)); no migration SQL was run\n", version, changes.size());
    return exit_ok;
  });
}

// ---- generated migrations, drift, fleet ---------------------------------------------------------

/// What `migrate diff` is told (see tenantry/schema_diff.hpp): --rename, --fill, --allow.
struct DiffArgs {
  std::string name;
  std::vector<std::string> renames, fills, allows;
  bool print_only = false;
};

/// True when the main database has row-level security applied (PostgreSQL 0003).
bool rls_applied(const std::vector<migrate::MigrationStatus>& st) {
  return std::any_of(st.begin(), st.end(),
                     [](const auto& m) { return m.applied && m.description == row_level_security_description; });
}

int cmd_migrate_diff(const Settings& s, const DiffArgs& a) {
  Database db = open_existing(s.db_url, false);
  const fs::path dir = main_dir(s, db);
  migrate::Runner runner(db, dir);
  const auto st = runner.status();
  if (std::any_of(st.begin(), st.end(), [](const auto& m) { return !m.applied; }))
    throw CommandError("migrate diff: " + dir.string() +
                       " has pending migrations: apply them first (the diff is taken"
                       " from the database)");
  migrate::Decisions d;
  for (const auto& r : a.renames) d.renames.push_back(migrate::parse_rename(r));
  for (const auto& f : a.fills) {
    if (f.starts_with("down:")) d.down.fills.push_back(migrate::parse_fill(f.substr(5)));
    else d.up.fills.push_back(migrate::parse_fill(f));
  }
  for (const auto& x : a.allows) {
    if (x.starts_with("down:")) d.down.allow.push_back(migrate::parse_allow(x.substr(5)));
    else d.up.allow.push_back(migrate::parse_allow(x));
  }
  const auto live = tenantry::catalog::read_schema(db);
  const auto want = app::entity_schema(db, rls_applied(st));
  migrate::Generated g;
  try {
    g = migrate::generate(live, want, d);
  } catch (const migrate::DataLossError& e) {
    throw Refusal(e.what());  // nothing written: exit 3
  }
  fmt::print("migrate diff: {} database, {} vs the entities\n", describe(s.db_url), dir.string());
  if (g.empty()) {
    fmt::print("  no differences: nothing to write\n");
    return 0;
  }
  for (const auto& c : g.changes) fmt::print("  {}\n", c);
  if (!g.lint.empty()) fmt::print("lint: {} risky statement(s)\n", g.lint.size());
  for (const auto& l : g.lint) fmt::print("  {}\n", l.text());
  if (a.print_only) {
    const auto [up, down] = migrate::file_texts(g, a.name);
    fmt::print("---- up\n{}---- down\n{}", up, down);
    return 0;
  }
  const fs::path up = migrate::write_files(dir, a.name, g);
  fmt::print("wrote {} and its .down.sql\n", up.string());
  return 0;
}

/// Exit 4 on drift.
int cmd_migrate_verify(const Settings& s) {
  Database db = open_existing(s.db_url, false);
  migrate::Runner runner(db, main_dir(s, db));
  const auto drift = app::main_schema_drift(db, rls_applied(runner.status()));
  if (drift.empty()) {
    fmt::print("migrate verify: {}: the schema matches the entities\n", describe(s.db_url));
    return 0;
  }
  fmt::print("migrate verify: {}: DRIFTED ({} difference(s)); to match the entities, a migration would:\n",
             describe(s.db_url), drift.size());
  for (const auto& d : drift) fmt::print("  {}\n", d);
  return exit_history;
}

/// `migrate fleet`: one directory of migrations over every schema whose name matches a LIKE
/// pattern (PostgreSQL schema per org), with a progress line.
int cmd_migrate_fleet(const Settings& s, const std::string& pattern, std::size_t connections, std::size_t canary,
                      std::int64_t lock_timeout_ms) {
  if (s.dir.empty()) throw CommandError("migrate fleet: --dir names the org schemas' migration directory");
  const tenantry::DatabaseUrl u = tenantry::parse_database_url(s.db_url);
  if (!u.is_postgres()) throw CommandError("migrate fleet: schema per org is PostgreSQL-only");
  tenantry::pg::Connection control(s.db_url);
  std::vector<std::string> schemas;
  {
    const tenantry::Sql q = tenantry::intern_sql(
        "SELECT nspname::text FROM pg_catalog.pg_namespace WHERE nspname LIKE $1 ORDER BY nspname");
    auto& st = control.prepare(q);
    st.bind_text(1, pattern);
    while (st.step()) schemas.emplace_back(st.column_text(0));
    st.reset();
  }
  if (schemas.empty()) throw CommandError("migrate fleet: no schema matches '" + pattern + "'");
  migrate::FleetOptions opt;
  opt.connections = connections;
  opt.canary_count = canary;
  opt.lock_timeout = std::chrono::milliseconds(lock_timeout_ms);
  const bool tty = ::isatty(1) != 0;
  opt.progress = [&](const migrate::FleetProgress& p) {
    if (tty) fmt::print("\r\033[K{}", p.line());
    else if (p.done + p.failed == p.total) fmt::print("{}\n", p.line());
    std::fflush(stdout);
  };
  fmt::print("migrate fleet: {} schema(s) matching '{}', {} connection(s), canary {}, {}\n", schemas.size(), pattern,
             connections, canary, s.dir);
  const auto r = migrate::run_fleet<tenantry::pg::Connection>([&] { return tenantry::pg::Connection(s.db_url); },
                                                              schemas, migrate::load_directory(s.dir), opt);
  if (tty) fmt::print("\n");
  fmt::print("  {} migrated, {} already up to date, {} failed{}, {} not attempted; {:.1f} s, peak {} connection(s)\n",
             r.migrated, r.unchanged, r.failed, r.stopped_by_canary ? " (the canary group failed)" : "",
             r.not_attempted, static_cast<double>(r.total.count()) / 1000.0, r.peak_connections);
  for (const auto& o : r.orgs)
    if (!o.error.empty() && o.attempts > 0) fmt::print("  {}: {}{}\n", o.schema, o.busy ? "busy: " : "", o.error);
  return r.ok() ? 0 : 1;
}

// ---- schema ------------------------------------------------------------------------------------

int cmd_schema_print(const std::string& dialect, bool no_rls) {
  if (dialect == "postgres")
    fmt::print("{}", app_schema<tenantry::PgDialect>(tenantry::DdlOptions{.row_level_security = !no_rls}));
  else fmt::print("{}", app_schema<tenantry::SqliteDialect>());
  return 0;
}

/// `schema entities`: the declarations that reproduce the database's schema (print_entities),
/// on stdout; each thing they do not declare as the database has it, on stderr.
int cmd_schema_entities(const Settings& s, const std::string& ns, const std::string& pg_schema) {
  Database db = open_existing(s.db_url, false);
  tenantry::catalog::ReadOptions read;
  if (!pg_schema.empty()) {
    if (!db.is_postgres()) throw UsageFailure("schema entities: --schema names a PostgreSQL schema");
    read.schema = pg_schema;
  }
  const auto live = tenantry::catalog::read_schema(db, read);
  if (live.tables.empty()) throw CommandError("schema entities: " + describe(s.db_url) + " has no tables to print");
  const auto printed = tenantry::catalog::print_entities(live, {.namespace_name = ns});
  fmt::print("{}", printed.text);
  std::fflush(stdout);
  for (const auto& n : printed.notes) fmt::print(stderr, "tenantry-app: note: {}\n", n);
  return 0;
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return {};
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Writes the generated migration files. A file that exists with other contents is overwritten
/// only with --yes (an applied migration must never change: its checksum is recorded).
int cmd_schema_write(const Settings& s, const std::string& dialect) {
  const fs::path root = migrations_root(s);
  std::vector<GeneratedFile> files;
  if (dialect.empty() || dialect == "sqlite")
    for (auto& f : generated_migration_files<tenantry::SqliteDialect>()) files.push_back(std::move(f));
  if (dialect.empty() || dialect == "postgres")
    for (auto& f : generated_migration_files<tenantry::PgDialect>()) files.push_back(std::move(f));
  std::vector<std::pair<fs::path, bool>> to_write;  // path, exists
  std::size_t unchanged = 0;
  for (const GeneratedFile& f : files) {
    const fs::path path = root / f.path;
    const bool exists = fs::exists(path);
    if (exists && read_text(path) == f.contents) {
      fmt::print("  unchanged  {}\n", path.string());
      ++unchanged;
      continue;
    }
    to_write.emplace_back(path, exists);
  }
  const bool overwrites = std::any_of(to_write.begin(), to_write.end(), [](const auto& w) { return w.second; });
  if (!to_write.empty() && (s.dry_run || (overwrites && !s.yes))) {
    for (const auto& [path, exists] : to_write)
      fmt::print("  would {}  {}\n", exists ? "update" : "create", path.string());
    fmt::print(
        "note: an applied migration must never change (its checksum is recorded); once 0001 has shipped,\n"
        "      change the schema with a new migration instead of regenerating it\n");
    return end_dry_run(s, "overwriting " + std::to_string(to_write.size()) + " migration file(s)");
  }
  for (const GeneratedFile& f : files) {
    const fs::path path = root / f.path;
    const auto it = std::find_if(to_write.begin(), to_write.end(), [&](const auto& w) { return w.first == path; });
    if (it == to_write.end()) continue;
    fs::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << f.contents;
    out.close();
    if (!out) throw CommandError("cannot write " + path.string());
    fmt::print("  {:<9}  {}\n", it->second ? "updated" : "new", path.string());
  }
  fmt::print("schema --write: {} file(s) written, {} unchanged\n", to_write.size(), unchanged);
  if (overwrites)
    fmt::print(
        "note: an applied migration must never change (its checksum is recorded); once 0001 has shipped,\n"
        "      change the schema with a new migration instead of regenerating it\n");
  return exit_ok;
}

// ---- the demo's databases ----------------------------------------------------------------------

/// The SQLite application id (PRAGMA application_id, a field of the database header) the demo
/// writes into every file it creates: 0x746e6465, "tnde". A file without it was not made by the
/// demo, and the demo never deletes or writes it.
inline constexpr std::int32_t demo_application_id = 0x746e6465;

/// The demo's SQLite file: refuses (Refusal, exit 3) a file the demo did not create; deletes one
/// it did (with its -wal, -shm and -journal files), so the demo starts from nothing. --db
/// defaults to $DATABASE_URL, which may well name a real database: whatever that database holds
/// (even orgs with the demo's slugs), the demo leaves it alone unless it carries the mark.
void prepare_demo_file(const std::string& path) {
  if (path == ":memory:") return;  // a private database, gone when the demo ends
  if (path.starts_with("file:"))
    throw Refusal("the demo needs a plain file path (or sqlite::memory:), not the URI '" + path +
                  "': it only replaces a file it created itself");
  std::error_code ec;
  if (!fs::exists(path, ec) && !ec) return;
  std::int64_t id = 0;
  try {
    Database probe(tenantry::sqlite::Connection(
        path, tenantry::sqlite::Options{.wal = false, .read_only = true, .create = false}));
    for_each_row(probe, "PRAGMA application_id", [&](auto& st) { id = st.column_int(0); });
  } catch (const tenantry::DatabaseError& e) {
    throw Refusal("refusing to touch '" + path + "': it exists and is not a database the demo created (" + e.what() +
                  "); pass --db with a path that does not exist yet");
  }
  if (id != demo_application_id)
    throw Refusal("refusing to touch '" + path +
                  "': it exists and the demo did not create it (the demo replaces only its own files); pass --db "
                  "with a path that does not exist yet");
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(path + suffix);
}

/// A database for the demo, empty when the demo starts:
///  * SQLite: a new file, marked with demo_application_id at once; an existing file only if it
///    carries that mark (prepare_demo_file), deleted first;
///  * PostgreSQL: a schema of its own, tenantry_demo_<random>, first on the search_path, so the
///    demo never touches the database's other schemas; it is dropped at the end (also when the
///    demo fails) unless --keep-schema. A second run therefore starts from nothing again.
class DemoDatabase {
 public:
  DemoDatabase(const std::string& url, bool org_context, bool keep_schema)
      : url_(url), keep_(keep_schema), db_(open_fresh(url, org_context)) {
    if (db_.is_postgres()) {
      schema_ = "tenantry_demo_" + tenantry::Uuid::random().to_string().substr(0, 8);
      db_.execute("CREATE SCHEMA \"" + schema_ + "\"; SET search_path TO \"" + schema_ + "\"");
    } else {
      db_.execute("PRAGMA application_id = " + std::to_string(demo_application_id));
    }
  }
  ~DemoDatabase() {
    if (!schema_.empty() && !keep_) {
      try {
        drop_schema();
      } catch (...) {
        // The connection is gone; the schema stays (drop it by hand: DROP SCHEMA ... CASCADE).
      }
    }
  }
  DemoDatabase(const DemoDatabase&) = delete;
  DemoDatabase& operator=(const DemoDatabase&) = delete;

  Database& db() { return db_; }
  const std::string& url() const { return url_; }
  /// "sqlite tenantry-demo.db" / "postgres host:port/db, schema tenantry_demo_1a2b3c4d".
  std::string where() const { return describe(url_) + (schema_.empty() ? "" : ", schema " + schema_); }

  /// Drops the PostgreSQL schema now (the end of a successful demo); returns what it did.
  std::string finish() {
    if (schema_.empty()) return {};
    if (keep_) return "kept schema " + schema_ + " (--keep-schema)";
    drop_schema();
    return "dropped schema " + std::exchange(schema_, std::string());
  }

 private:
  static Database open_fresh(const std::string& url, bool org_context) {
    const tenantry::DatabaseUrl u = tenantry::parse_database_url(url);
    if (!u.is_postgres()) prepare_demo_file(u.sqlite_path);
    return open_db(url, org_context);
  }
  void drop_schema() { db_.execute("RESET search_path; DROP SCHEMA \"" + schema_ + "\" CASCADE"); }

  std::string url_;
  bool keep_;
  Database db_;
  std::string schema_;
};

// ---- printing query results ------------------------------------------------------------------

/// The statement a query sends on this database, as text.
template <class Q>
std::string sql_for(const Database& db, const Q& q) {
  return db.is_postgres() ? tenantry::sql_of<tenantry::PgDialect>(q) : tenantry::sql_of<tenantry::SqliteDialect>(q);
}

/// "completed 2  pending 1", or "-" when there is no row.
template <class S>
std::string status_line(const std::vector<StatusCount<S>>& counts) {
  std::string out;
  for (const auto& c : counts)
    out += fmt::format("{}{} {}", out.empty() ? "" : "  ", tenantry::enum_to_text(c.status), c.count);
  return out.empty() ? "-" : out;
}

// ---- the demo ----------------------------------------------------------------------------------

Bytes to_bytes(std::string_view text) {
  Bytes out;
  for (char c : text) out.push_back(static_cast<std::byte>(c));
  return out;
}

/// A stand-in for the SHA-256 digest the product stores (the demo needs no crypto library).
std::string fake_digest(std::string_view token) {
  return fmt::format("sha256:{:016x}", std::hash<std::string_view>{}(token));
}

/// One line of the demo's timing summary: "  label   text .......... 1.2 ms".
void timed_line(std::string_view label, std::string_view text, double ms) {
  fmt::print("  {:<9}{:<59}{:>7.1f} ms\n", label, text, ms);
}

/// The end of an id, enough to tell rows apart (time-ordered UUIDs share their first digits).
std::string short_id(const Uuid& id) { return "..." + id.to_string().substr(28); }

Timestamp hours_from_now(int hours) { return Timestamp::from(Timestamp::now().time() + std::chrono::hours(hours)); }

// Values present in both orgs: the org-scoped UNIQUE constraints allow them once per org.
constexpr std::string_view shared_prefix = "bodhiapp_demo01";
constexpr std::string_view shared_alias = "llama3:instruct";

/// Rows the isolation checks refer to afterwards.
struct Seeded {
  ApiToken token;
  UserAlias alias;
  SessionRecord session;
};

/// Fills every org-scoped table for `org` through the repositories. The larger org gets a few
/// more rows, so that per-org counts differ and a leak between orgs would show.
Seeded seed_org(DbService<D>& s, OrgId org, bool larger) {
  Seeded out;

  // api_tokens: alice (a member of both orgs) has a token with the same prefix in each.
  out.token = ApiToken{.user_id = "alice",
                       .name = "laptop",
                       .token_prefix = std::string(shared_prefix),
                       .token_hash = fake_digest("alice-laptop"),
                       .scopes = "scope_token_user"};
  s.tokens.create_api_token(org, out.token);
  if (larger) {
    ApiToken ci{.user_id = "bob",
                .name = "ci",
                .token_prefix = "bodhiapp_ci0001",
                .token_hash = fake_digest("bob-ci"),
                .scopes = "scope_token_power_user"};
    s.tokens.create_api_token(org, ci);
    ci.status = TokenStatus::inactive;  // bob revokes it
    expect(s.tokens.update_api_token(org, "bob", ci), "bob could not deactivate his own token");
  }

  // user_aliases: set twice; the second set replaces the parameters of the same row (upsert).
  out.alias = UserAlias{.alias = std::string(shared_alias),
                        .repo = "QuantFactory/Meta-Llama-3-8B-Instruct-GGUF",
                        .filename = "Meta-Llama-3-8B-Instruct.Q8_0.gguf",
                        .snapshot = "main",
                        .request_params = Json{R"({"temperature": 0.7})"},
                        .context_params = Json{R"(["--ctx-size", "4096"])"}};
  s.aliases.set_user_alias(org, out.alias);
  UserAlias cooler = out.alias;
  cooler.id = {};  // a fresh row: the upsert must find the existing one by (org_id, alias)
  cooler.request_params = Json{R"({"temperature": 0.2})"};
  s.aliases.set_user_alias(org, cooler);
  expect(cooler.id == out.alias.id, "re-setting an alias created a second row");
  out.alias = cooler;
  if (larger) {
    UserAlias phi{.alias = "phi3:mini",
                  .repo = "microsoft/Phi-3-mini-4k-instruct-gguf",
                  .filename = "Phi-3-mini-4k-instruct-q4.gguf",
                  .snapshot = "main",
                  .request_params = Json{"{}"},
                  .context_params = Json{"[]"}};
    s.aliases.set_user_alias(org, phi);
  }

  // app_toolset_configs: the admin switch, upserted on (org_id, toolset_type).
  s.toolsets.set_app_toolset_enabled(org, "builtin-exa-web-search", true, "admin");
  if (larger) {
    s.toolsets.set_app_toolset_enabled(org, "builtin-weather", false, "admin");
    s.toolsets.set_app_toolset_enabled(org, "builtin-weather", true, "admin");  // same row, toggled
  }

  // toolsets: alice's web-search instance; slugs are unique per user within the org.
  Toolset search{.user_id = "alice",
                 .toolset_type = "builtin-exa-web-search",
                 .slug = "exa-search",
                 .description = "web search",
                 .encrypted_api_key = "enc:exa-key",
                 .salt = "salt",
                 .nonce = "nonce"};
  s.toolsets.create_toolset(org, search);
  if (larger) {
    Toolset weather{.user_id = "bob", .toolset_type = "builtin-weather", .slug = "weather"};
    s.toolsets.create_toolset(org, weather);
  }

  // api_model_aliases: the same name and prefix in both orgs, each with its own encrypted key.
  ApiModelAlias openai{.name = "openai",
                       .base_url = "https://api.openai.com/v1",
                       .models = Json{R"(["gpt-4o", "gpt-4o-mini"])"},
                       .prefix = "oai/",
                       .encrypted_api_key = "enc:sk-demo",
                       .salt = "salt",
                       .nonce = "nonce"};
  s.models.create_api_model_alias(org, openai);
  expect(s.models.check_prefix_exists(org, "oai/") && !s.models.check_prefix_exists(org, "oai/", openai.id),
         "check_prefix_exists disagrees with the stored alias");

  // model_metadata: upserted on the model's identity; the second call refreshes the same row.
  ModelMetadata gguf{.source = MetadataSource::model,
                     .repo = out.alias.repo,
                     .filename = out.alias.filename,
                     .snapshot = "main",
                     .capabilities = Json{R"({"tools": false})"},
                     .context_max_input_tokens = 8192,
                     .architecture = "llama",
                     .extracted_at = Timestamp::now()};
  s.models.upsert_model_metadata(org, gguf);
  ModelMetadata refreshed = gguf;
  refreshed.id = {};
  refreshed.capabilities = Json{R"({"tools": true})"};
  s.models.upsert_model_metadata(org, refreshed);
  expect(refreshed.id == gguf.id, "refreshing model metadata created a second row");
  if (larger) {
    ModelMetadata api{.source = MetadataSource::api,
                      .api_model_id = "gpt-4o",
                      .capabilities = Json{R"({"vision": true})"},
                      .context_max_input_tokens = 128000,
                      .context_max_output_tokens = 16384,
                      .extracted_at = Timestamp::now()};
    s.models.upsert_model_metadata(org, api);
  }

  // download_requests: one completed download; the larger org has one still pending.
  DownloadRequest dl{.repo = out.alias.repo, .filename = out.alias.filename, .started_at = Timestamp::now()};
  s.models.create_download_request(org, dl);
  s.models.update_download_progress(org, dl.id, 4'000'000'000, 8'540'000'000);
  s.models.finish_download_request(org, dl.id, DownloadStatus::completed, std::nullopt);
  if (larger) {
    DownloadRequest phi{.repo = "microsoft/Phi-3-mini-4k-instruct-gguf", .filename = "Phi-3-mini-4k-instruct-q4.gguf"};
    s.models.create_download_request(org, phi);
  }

  // access_requests: alice joined through one (approved: the owner login the token report shows);
  // carol asks to join; in the larger org dave asked too and was approved.
  const UserAccessRequest alice = s.access.insert_pending_request(
      org, larger ? "alice@acme.example" : "alice@globex.example", "alice");
  expect(s.access.update_request_status(org, alice.id, AccessRequestStatus::approved, "admin"),
         "approving alice's request changed nothing");
  s.access.insert_pending_request(org, "carol@example.com", "carol");
  if (larger) {
    const UserAccessRequest dave = s.access.insert_pending_request(org, "dave@example.com", "dave");
    expect(s.access.update_request_status(org, dave.id, AccessRequestStatus::approved, "admin"),
           "approving dave's request changed nothing");
  }

  // app_access_requests: an external app asks alice for access; she approves.
  AppAccessRequest consent{.app_client_id = "app-notes",
                           .app_name = "Notes",
                           .flow_type = AppAccessFlow::popup,
                           .requested = Json{R"({"toolset_types": ["builtin-exa-web-search"]})"},
                           .requested_role = "scope_user_user",
                           .expires_at = hours_from_now(1)};
  s.app_access.create(org, consent);
  const Json granted{R"({"toolset_types": ["builtin-exa-web-search"]})"};
  expect(s.app_access.update_approval(org, consent.id, "alice", granted, "scope_user_user",
                                      "scope_access_request:" + consent.id.to_string()),
         "approving the app's draft changed nothing");

  // tower_sessions: alice's browser session (and bob's in the larger org).
  out.session = SessionRecord{.id = Uuid::random().to_string(),
                              .data = to_bytes(R"({"user_id": "alice"})"),
                              .expiry_date = hours_from_now(24),
                              .user_id = "alice"};
  s.sessions.save(org, out.session);
  if (larger) {
    SessionRecord bob{.id = Uuid::random().to_string(),
                      .data = to_bytes(R"({"user_id": "bob"})"),
                      .expiry_date = hours_from_now(24),
                      .user_id = "bob"};
    s.sessions.save(org, bob);
  }
  return out;
}

/// The main database and the one the sessions live in (the same one unless SESSION_DB_URL).
struct Databases {
  Database& main;
  Database& sessions;

  template <class E>
  Database& of() {
    if constexpr (std::is_same_v<E, SessionRecord>) return sessions;
    else return main;
  }
};

/// Rows of one table for `org`.
template <class E>
std::int64_t count_of(Databases& dbs, OrgId org) {
  return tenantry::Repository<E, D>(dbs.of<E>()).count(org);
}

/// Rows per org-scoped table for `org`, in OrgScopedEntities order.
std::vector<std::int64_t> count_rows(Databases& dbs, OrgId org) {
  std::vector<std::int64_t> counts;
  for_each_entity<OrgScopedEntities>([&]<class E>(std::type_identity<E>) { counts.push_back(count_of<E>(dbs, org)); });
  return counts;
}

std::int64_t sum(const std::vector<std::int64_t>& v) {
  std::int64_t total = 0;
  for (auto n : v) total += n;
  return total;
}

/// Applies a directory's migrations for the demo, one timed line per migration.
void demo_migrate(Database& db, const fs::path& dir, bool rls, std::string_view label) {
  migrate::Runner runner(db, dir);
  runner.on_progress([&](const migrate::Progress& p) {
    if (p.event == migrate::Progress::Event::finished)
      timed_line(
          label,
          fmt::format("{} {}{}", version_text(p.version), p.description, p.no_transaction ? " (no transaction)" : ""),
          static_cast<double>(p.duration.count()) / 1000.0);
  });
  const auto migrations = runner.migrations();
  const auto target = rls_hold_back(migrations, db, rls);
  runner.up(target);
  for (const auto& m : migrations)
    if (target && m.version > *target)
      fmt::print("  {:<9}{} {} held back (pass --rls to apply it)\n", label, version_text(m.version), m.description);
}

/// True when the current PostgreSQL role ignores row-level security (superuser or BYPASSRLS).
bool bypasses_rls(Database& db) {
  bool bypass = false;
  for_each_row(db, "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user",
               [&](auto& st) { bypass = st.column_bool(0); });
  return bypass;
}

int cmd_demo(const Settings& settings) {
  const auto start = Clock::now();
  DemoDatabase main(settings.db_url, settings.rls, settings.keep_schema);
  std::optional<DemoDatabase> separate;
  if (separate_sessions(settings)) separate.emplace(settings.session_db_url, settings.rls, settings.keep_schema);
  Database& db = main.db();
  Databases dbs{db, separate ? separate->db() : db};
  const bool rls = settings.rls && db.is_postgres();

  fmt::print("tenantry-app demo: {} (fresh){}\n", main.where(), rls ? ", row-level security" : "");
  if (separate) fmt::print("  sessions in their own database: {} (fresh)\n", separate->where());
  if (rls && bypasses_rls(db))
    fmt::print("  note: this role is a superuser or BYPASSRLS: PostgreSQL does not apply the policies to it\n");

  // 1. schema, by the migrations
  auto t = Clock::now();
  demo_migrate(db, main_dir(settings, db), settings.rls, "migrate");
  if (separate) demo_migrate(separate->db(), sessions_dir(settings, separate->db()), settings.rls, "sessions");
  std::size_t indexes = 0;
  for_each_entity<AllEntities>(
      [&]<class E>(std::type_identity<E>) { indexes += tenantry::table_info<E>().indexes.size(); });
  const bool separate_rls = rls && separate && separate->db().is_postgres();
  timed_line(
      "schema",
      fmt::format("11 tables, {} indexes{}", indexes,
                  rls ? separate_rls ? ", 10 + 1 (sessions) isolation policies" : ", 10 isolation policies" : ""),
      ms_since(t));

  // 2. two tenants
  t = Clock::now();
  DbService<D> s(db, dbs.sessions);
  Organization acme{.slug = "acme",
                    .display_name = "Acme Corp",
                    .kc_client_id = "kc-acme",
                    .client_secret = "enc:acme-secret",
                    .encryption_key = "enc:acme-key"};
  Organization globex{.slug = "globex",
                      .display_name = "Globex",
                      .kc_client_id = "kc-globex",
                      .client_secret = "enc:globex-secret",
                      .encryption_key = "enc:globex-key"};
  s.orgs.create_org(acme);
  s.orgs.create_org(globex);
  const OrgId a{acme.id}, g{globex.id};
  timed_line("orgs", fmt::format("acme {}, globex {}", short_id(acme.id), short_id(globex.id)), ms_since(t));

  // 3. every table, both orgs, one transaction per org (on the main database)
  t = Clock::now();
  Seeded sa, sg;
  {
    auto tx = db.transaction();
    sa = seed_org(s, a, /*larger=*/true);
    tx.commit();
  }
  {
    auto tx = db.transaction();
    sg = seed_org(s, g, /*larger=*/false);
    tx.commit();
  }
  timed_line("seed", "every table, both orgs, through the repositories", ms_since(t));

  // 4. what each org sees
  const auto ca = count_rows(dbs, a), cg = count_rows(dbs, g);
  fmt::print("rows per org{:>20}{:>8}\n", "acme", "globex");
  std::size_t k = 0;
  for_each_entity<OrgScopedEntities>([&]<class E>(std::type_identity<E>) {
    fmt::print("  {:<24}{:>6}{:>8}\n", tenantry::table_info<E>().name, ca[k], cg[k]);
    expect(ca[k] > 0 && cg[k] > 0, tenantry::table_info<E>().name + " was left empty for an org");
    ++k;
  });

  // 5. isolation
  t = Clock::now();
  fmt::print("org isolation\n");

  const auto ta = s.tokens.get_api_token_by_prefix(a, shared_prefix);
  const auto tg = s.tokens.get_api_token_by_prefix(g, shared_prefix);
  const auto aa = s.aliases.get_user_alias_by_name(a, shared_alias);
  const auto ag = s.aliases.get_user_alias_by_name(g, shared_alias);
  expect(ta && tg && ta->id != tg->id && aa && ag && aa->id != ag->id,
         "the shared token prefix / alias should exist once in each org");
  expect(
      s.tokens.list_api_tokens(a, "alice", 1, 20).total == 1 && s.tokens.list_api_tokens(g, "alice", 1, 20).total == 1,
      "alice should see exactly her one token in each org");
  fmt::print("  ok  token prefix '{}' and alias '{}' exist once in each org\n", shared_prefix, shared_alias);
  // (seed_org already checked that re-setting an alias, a toolset switch or model metadata hit
  // the org's existing row; the counts above show no duplicates.)
  fmt::print("  ok  upserts on (org_id, alias | toolset_type | model) updated rows in place\n");

  expect(s.tokens.get_api_token_by_id(a, "alice", sa.token.id) && s.aliases.get_user_alias_by_id(a, sa.alias.id) &&
             s.sessions.load(a, sa.session.id),
         "acme cannot find its own rows");
  expect(!s.tokens.get_api_token_by_id(g, "alice", sa.token.id) && !s.aliases.get_user_alias_by_id(g, sa.alias.id) &&
             !s.sessions.load(g, sa.session.id) && !s.tokens.get_api_token_by_id(a, "alice", sg.token.id),
         "a cross-org find returned a row");
  fmt::print("  ok  cross-org find of a token, alias or session by id: nothing\n");

  ApiToken renamed = sa.token;
  renamed.name = "taken-over";
  expect(!s.tokens.update_api_token(g, "alice", renamed), "globex updated acme's token");
  expect(s.tokens.get_api_token_by_id(a, "alice", sa.token.id).value().name == "laptop", "acme's token was changed");
  fmt::print("  ok  globex update of acme's token: 0 rows, acme's row unchanged\n");

  const auto all_tokens = [&] { return count_of<ApiToken>(dbs, a) + count_of<ApiToken>(dbs, g); };
  const auto tokens_before = all_tokens();
  ApiToken stray{.org_id = a,
                 .user_id = "mallory",
                 .name = "stray",
                 .token_prefix = "bodhiapp_stray",
                 .token_hash = fake_digest("stray"),
                 .scopes = "scope_token_user"};
  bool refused = false;
  try {
    s.tokens.create_api_token(g, stray);  // a row of acme, written through a globex-scoped call
  } catch (const tenantry::OrgMismatch&) {
    refused = true;
  }
  expect(refused, "an acme row inserted through globex was not refused");
  expect(all_tokens() == tokens_before && !s.tokens.get_api_token_by_prefix(a, "bodhiapp_stray") &&
             !s.tokens.get_api_token_by_prefix(g, "bodhiapp_stray"),
         "the refused insert wrote a row");
  fmt::print("  ok  insert of an acme row through globex: OrgMismatch, nothing written\n");

  SessionRecord hijack{
      .id = sa.session.id, .data = to_bytes("{}"), .expiry_date = hours_from_now(24), .user_id = "mallory"};
  std::string refusal;
  try {
    s.sessions.save(g, hijack);  // globex claims acme's session id
  } catch (const tenantry::UniqueViolation&) {
    refusal = "UniqueViolation";
  } catch (const tenantry::DatabaseError& e) {
    // With row-level security enforced (a role without BYPASSRLS), PostgreSQL itself refuses the
    // upsert's UPDATE of a row the policy hides: insufficient_privilege.
    if (rls && e.code() == "42501") refusal = "refused by the row-level security policy";
    else throw;
  }
  const auto kept = s.sessions.load(a, sa.session.id);
  expect(!refusal.empty() && kept && kept->user_id == "alice", "globex overwrote acme's session");
  fmt::print("  ok  globex save of acme's session id: {}, acme's session intact\n", refusal);

  expect(s.orgs.update_org_status(globex.id, OrgStatus::suspended) &&
             s.orgs.get_org_by_slug("globex").value().status == OrgStatus::suspended &&
             s.orgs.get_org_by_slug("acme").value().status == OrgStatus::active,
         "suspending globex did not stick (or touched acme)");
  Organization initech{.slug = "initech",
                       .display_name = "Initech",
                       .kc_client_id = "kc-initech",
                       .client_secret = "enc:x",
                       .encryption_key = "enc:y"};
  s.orgs.create_org(initech);
  const OrgId i{initech.id};
  ApiToken it{.user_id = "peter",
              .name = "tps",
              .token_prefix = std::string(shared_prefix),
              .token_hash = fake_digest("tps"),
              .scopes = "scope_token_user"};
  s.tokens.create_api_token(i, it);
  UserAlias ia = sa.alias;
  ia.id = {};
  ia.org_id = {};
  s.aliases.set_user_alias(i, ia);
  const auto initech_rows = sum(count_rows(dbs, i));
  tenantry::Repository<Organization, D>(db).erase(initech.id);
  expect(initech_rows == 2 && sum(count_rows(dbs, i)) == 0, "deleting an org left its rows behind");
  expect(sum(count_rows(dbs, a)) == sum(ca) && sum(count_rows(dbs, g)) == sum(cg), "deleting an org touched others");
  fmt::print("  ok  globex suspended; deleting org 'initech' cascaded its {} rows, others untouched\n", initech_rows);
  timed_line("checks", "", ms_since(t));

  // 6. the multi-table reads (examples/app/queries.hpp): one statement per table read, each
  // filtered by the org in every table it names.
  t = Clock::now();
  fmt::print("queries (one statement each)\n  {:<22}{:<28}{}\n", "", "acme", "globex");
  ReportRepository<D> reports(db);
  const StatusDashboard da = reports.status_dashboard(a), dg = reports.status_dashboard(g);
  const auto per_status_line = [](std::string_view label, const auto& x, const auto& y) {
    fmt::print("  {:<22}{:<28}{}\n", label, status_line(x), status_line(y));
  };
  per_status_line("downloads per status", da.downloads, dg.downloads);
  per_status_line("tokens per status", da.api_tokens, dg.api_tokens);
  per_status_line("access requests", da.access_requests, dg.access_requests);
  using DS = StatusCount<DownloadStatus>;
  using TS = StatusCount<TokenStatus>;
  expect(da.downloads == std::vector<DS>{{DownloadStatus::completed, 1}, {DownloadStatus::pending, 1}} &&
             dg.downloads == std::vector<DS>{{DownloadStatus::completed, 1}} &&
             da.api_tokens == std::vector<TS>{{TokenStatus::active, 1}, {TokenStatus::inactive, 1}} &&
             dg.api_tokens == std::vector<TS>{{TokenStatus::active, 1}},
         "the counts per status disagree with what each org holds");
  const auto owners = reports.tokens_with_owner(a);
  for (const auto& o : owners)
    fmt::print("  acme token {:<10} of {:<8} owner login {}\n", o.name, o.user_id,
               o.username.value_or("(no access request)"));
  expect(owners.size() == 2 && owners[0].user_id == "alice" && owners[0].username == "alice@acme.example" &&
             owners[1].user_id == "bob" && !owners[1].username,
         "tokens with owners: expected alice's (alice@acme.example) and bob's (no login) of acme only");
  const auto models = reports.aliases_with_metadata(a);
  expect(models.size() == 2 && models[0].capabilities && !models[1].capabilities &&
             reports.aliases_without_metadata(a).size() == 1 && reports.aliases_without_metadata(g).empty(),
         "aliases with metadata: expected acme's llama3 with metadata and phi3 without");
  fmt::print("  ok  aliases with their file's metadata: acme {} (1 waiting), globex {} (none waiting)\n", models.size(),
             reports.aliases_with_metadata(g).size());
  timed_line("queries", "", ms_since(t));

  const auto orgs_count = s.orgs.list_orgs().size();
  t = Clock::now();
  for (DemoDatabase* d : {&main, separate ? &*separate : nullptr}) {
    if (d == nullptr) continue;
    if (const std::string done = d->finish(); !done.empty()) timed_line("cleanup", done, ms_since(t));
  }
  fmt::print("demo ok: {} orgs, {} tenant rows, every check passed in {:.1f} ms\n", orgs_count, sum(ca) + sum(cg),
             ms_since(start));
  return 0;
}

// ---- orgs, health ------------------------------------------------------------------------------

/// A slug names a subdomain: 1-63 of [a-z0-9-], not starting or ending with '-'.
bool valid_slug(std::string_view s) {
  if (s.empty() || s.size() > 63 || s.front() == '-' || s.back() == '-') return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return true;
}

/// The app's database, refusing one that has no schema yet (the orgs commands never create it:
/// `migrate up` does). Warns about pending migrations.
Database open_app_db(const Settings& s) {
  const tenantry::DatabaseUrl u = tenantry::parse_database_url(s.db_url);
  if (!u.is_postgres() && u.sqlite_path != ":memory:" && !fs::exists(u.sqlite_path))
    throw CommandError("there is no database at " + u.sqlite_path + ": run `tenantry-app migrate up` first");
  Database db = open_db(s.db_url, s.rls);
  migrate::Runner runner(db, main_dir(s, db));
  const auto status = runner.status();
  const auto held = rls_hold_back(runner.migrations(), db, s.rls);
  std::size_t pending = 0;
  for (const auto& m : status)
    if (!m.applied && !(held && m.version > *held)) ++pending;
  if (current_version(status) == 0)
    throw CommandError("the database " + describe(s.db_url) +
                       " has no schema yet: run `tenantry-app migrate up` first");
  if (pending > 0)
    fmt::print(stderr, "tenantry-app: warning: {} migration(s) pending: run `tenantry-app migrate up`\n", pending);
  return db;
}

int cmd_orgs_create(const Settings& s, const std::string& slug, const std::string& name) {
  if (!valid_slug(slug)) {
    fmt::print(stderr, "tenantry-app: invalid slug '{}': use 1-63 of a-z, 0-9 and '-' (not at either end)\n", slug);
    return 1;
  }
  Database db = open_app_db(s);
  OrgRepository<D> orgs(db);
  // Placeholders: a real deployment registers the Keycloak client and stores its secret and the
  // org's key encrypted; the data layer only carries the text.
  Organization org{.slug = slug,
                   .display_name = name,
                   .kc_client_id = "tenantry-" + slug,
                   .client_secret = "enc:" + Uuid::random().to_string(),
                   .encryption_key = "enc:" + Uuid::random().to_string()};
  try {
    orgs.create_org(org);
  } catch (const tenantry::UniqueViolation&) {
    fmt::print(stderr, "tenantry-app: an org with slug '{}' already exists\n", slug);
    return 1;
  }
  fmt::print("created org '{}' ({}), id {}\n", org.slug, org.display_name, org.id.to_string());
  return 0;
}

int cmd_orgs_list(const Settings& s) {
  Database db = open_app_db(s);
  const auto all = OrgRepository<D>(db).list_orgs();
  fmt::print("{:<16}{:<11}{:<38}{}\n", "slug", "status", "id", "name");
  for (const auto& o : all)
    fmt::print("{:<16}{:<11}{:<38}{}\n", o.slug, tenantry::enum_to_text(o.status), o.id.to_string(), o.display_name);
  fmt::print("{} org(s)\n", all.size());
  return 0;
}

int cmd_orgs_suspend(const Settings& s, const std::string& slug) {
  Database db = open_app_db(s);
  OrgRepository<D> orgs(db);
  const auto org = orgs.get_org_by_slug(slug);
  if (!org) {
    fmt::print(stderr, "tenantry-app: no org with slug '{}'\n", slug);
    return 1;
  }
  orgs.update_org_status(org->id, OrgStatus::suspended);
  fmt::print("suspended org '{}' (was {})\n", slug, tenantry::enum_to_text(org->status));
  return 0;
}

// ---- report: the app's multi-table reads (examples/app/queries.hpp) -------------------------------

/// What `report` prints.
struct ReportOptions {
  std::string what;  // status, tokens, toolsets, models
  std::string slug;
  std::string user;  // toolsets: whose
  bool sql = false;  // also print the statements
};

void print_status_report(Database& db, OrgId org, bool sql) {
  const StatusDashboard d = ReportRepository<D>(db).status_dashboard(org);
  fmt::print("  {:<22}{}\n", "download_requests", status_line(d.downloads));
  fmt::print("  {:<22}{}\n", "access_requests", status_line(d.access_requests));
  fmt::print("  {:<22}{}\n", "app_access_requests", status_line(d.app_access_requests));
  fmt::print("  {:<22}{}\n", "api_tokens", status_line(d.api_tokens));
  if (sql) {
    fmt::print("  sql: {}\n", sql_for(db, queries::per_status<&DownloadRequest::status>()));
    fmt::print("  sql: {}\n", sql_for(db, queries::per_status<&UserAccessRequest::status>()));
    fmt::print("  sql: {}\n", sql_for(db, queries::per_status<&AppAccessRequest::status>()));
    fmt::print("  sql: {}\n", sql_for(db, queries::per_status<&ApiToken::status>()));
  }
}

void print_tokens_report(Database& db, OrgId org, bool sql) {
  const auto rows = ReportRepository<D>(db).tokens_with_owner(org);
  fmt::print("  {:<12}{:<14}{:<22}{:<10}{:<24}{}\n", "user", "name", "prefix", "status", "owner login", "created");
  for (const auto& t : rows)
    fmt::print("  {:<12}{:<14}{:<22}{:<10}{:<24}{}\n", t.user_id, t.name, t.token_prefix,
               tenantry::enum_to_text(t.status), t.username.value_or("(no access request)"), t.created_at.to_iso());
  fmt::print("  {} token(s)\n", rows.size());
  if (sql) fmt::print("  sql: {}\n", sql_for(db, queries::tokens_with_owner()));
}

void print_toolsets_report(Database& db, OrgId org, const std::string& user, bool sql) {
  ReportRepository<D> reports(db);
  const auto rows = reports.toolsets_with_config(org, user);
  const auto usable = reports.usable_toolsets(org, user);
  fmt::print("  {:<16}{:<26}{:<10}{:<16}{}\n", "slug", "type", "enabled", "org switch", "usable");
  for (const auto& t : rows) {
    const std::string org_switch = !t.type_enabled ? "not configured" : *t.type_enabled ? "on" : "off";
    const bool ok = std::find(usable.begin(), usable.end(), t.slug) != usable.end();
    fmt::print("  {:<16}{:<26}{:<10}{:<16}{}\n", t.slug, t.toolset_type, t.enabled ? "yes" : "no", org_switch,
               ok ? "yes" : "no");
  }
  fmt::print("  {} toolset(s) of '{}', {} usable\n", rows.size(), user, usable.size());
  if (sql) {
    fmt::print("  sql: {}\n", sql_for(db, queries::toolsets_with_config(user)));
    fmt::print("  sql: {}\n", sql_for(db, queries::usable_toolsets(user)));
  }
}

void print_models_report(Database& db, OrgId org, bool sql) {
  ReportRepository<D> reports(db);
  const auto rows = reports.aliases_with_metadata(org);
  fmt::print("  {:<20}{:<14}{:<10}{}\n", "alias", "architecture", "context", "capabilities");
  for (const auto& a : rows) {
    if (!a.capabilities) {
      fmt::print("  {:<20}(no metadata yet: {}/{} {})\n", a.alias, a.repo, a.filename, a.snapshot);
      continue;
    }
    fmt::print("  {:<20}{:<14}{:<10}{}\n", a.alias, a.architecture.value_or("?"),
               a.context_max_input_tokens ? std::to_string(*a.context_max_input_tokens) : "?", a.capabilities->text);
  }
  const auto waiting = reports.aliases_without_metadata(org);
  fmt::print("  {} alias(es), {} waiting for metadata\n", rows.size(), waiting.size());
  if (sql) {
    fmt::print("  sql: {}\n", sql_for(db, queries::aliases_with_metadata()));
    fmt::print("  sql: {}\n", sql_for(db, queries::aliases_without_metadata()));
  }
}

int cmd_report(const Settings& s, const ReportOptions& r) {
  Database db = open_app_db(s);
  const auto org = OrgRepository<D>(db).get_org_by_slug(r.slug);
  if (!org) {
    fmt::print(stderr, "tenantry-app: no org with slug '{}'\n", r.slug);
    return exit_failure;
  }
  const OrgId id{org->id};
  fmt::print("{} of org '{}' ({}{})\n", r.what, org->slug, org->display_name,
             org->status == OrgStatus::active ? "" : ", " + std::string(tenantry::enum_to_text(org->status)));
  if (r.what == "status") print_status_report(db, id, r.sql);
  if (r.what == "tokens") print_tokens_report(db, id, r.sql);
  if (r.what == "toolsets") print_toolsets_report(db, id, r.user, r.sql);
  if (r.what == "models") print_models_report(db, id, r.sql);
  return exit_ok;
}

/// Connects to one database and runs SELECT 1 through the Database; prints one line.
bool check_health(std::string_view label, const std::string& url) {
  const std::string where = describe(url);
  try {
    auto t = Clock::now();
    // An existing database only: a health check must not create one.
    Database db = open_db(url, false, /*create=*/false);
    const double connect_ms = ms_since(t);
    t = Clock::now();
    std::int64_t one = 0;
    for_each_row(db, "SELECT 1", [&](auto& st) { one = st.column_int(0); });
    const double query_ms = ms_since(t);
    const bool ok = one == 1;
    fmt::print("{:<6}{:<10}{}  connect {:.2f} ms, SELECT 1 {:.3f} ms\n", ok ? "ok" : "error", label, where, connect_ms,
               query_ms);
    return ok;
  } catch (const tenantry::Error& e) {
    fmt::print("{:<6}{:<10}{}  {}\n", "error", label, where, e.what());
    return false;
  }
}

// ---- rls verify ----------------------------------------------------------------------------------

/// Verifies one database's row-level security (tenantry::pg::verify_rls) for the org-scoped
/// tables of Entities; prints the result. True when it holds (or the database is SQLite).
template <class Entities>
bool verify_database(std::string_view label, const std::string& url, const std::string& role) {
  fmt::print("rls verify: {} database, {}\n", label, describe(url));
  Database db = open_existing(url, true);
  if (!db.is_postgres()) {
    fmt::print("  ok    sqlite has no row-level security: tenantry's org scoping is the only wall\n");
    return true;
  }
  std::vector<const tenantry::TableInfo*> tables;
  for_each_entity<Entities>([&]<class E>(std::type_identity<E>) {
    if (tenantry::table_info<E>().org_scoped()) tables.push_back(&tenantry::table_info<E>());
  });
  std::vector<tenantry::RlsMismatch> problems;
  db.visit([&](auto& conn) {
    if constexpr (std::is_same_v<std::remove_cvref_t<decltype(conn)>, tenantry::pg::Connection>)
      problems = tenantry::pg::rls_mismatches(conn, tables, {.rls_role = role});
  });
  if (problems.empty()) {
    fmt::print(
        "  ok    {} org-scoped tables: ENABLE and FORCE ROW LEVEL SECURITY, exactly the generated "
        "policies; the connected role is subject to them\n",
        tables.size());
    return true;
  }
  fmt::print("  FAILED  {} problem(s):\n", problems.size());
  for (const auto& p : problems) fmt::print("    {}: {}\n", p.table.empty() ? "role" : p.table, p.problem);
  return false;
}

int cmd_rls_verify(const Settings& s, const std::string& role) {
  bool ok = verify_database<AllEntities>("main", s.db_url, role);
  if (separate_sessions(s)) ok = verify_database<SessionDbEntities>("sessions", s.session_db_url, role) && ok;
  if (!ok) {
    std::fflush(stdout);
    fmt::print(stderr, "tenantry-app: row-level security is not enforced as generated (see above)\n");
  }
  return ok ? exit_ok : exit_history;
}

int cmd_health(const Settings& s) {
  bool ok = check_health("main", s.db_url);
  if (separate_sessions(s)) ok = check_health("sessions", s.session_db_url) && ok;
  return ok ? 0 : 1;
}

/// A library message as a user of this command line should read it: without the "tenantry:
/// migrate: " prefix, and naming the tenantry-app command to run instead of the C++ function
/// (force(2) -> `tenantry-app migrate force 2 --yes`, status() -> `tenantry-app migrate status`).
std::string for_cli_users(std::string message, bool sessions) {
  for (const std::string_view prefix : {"tenantry: migrate: ", "tenantry: "})
    if (message.starts_with(prefix)) {
      message.erase(0, prefix.size());
      break;
    }
  const std::string target = sessions ? " --sessions" : "";
  message = std::regex_replace(message, std::regex(R"(call force\()"), "run force(");
  message = std::regex_replace(message, std::regex(R"(force\((\d+)\))"),
                               "`tenantry-app migrate force $1" + target + " --yes`");
  message = std::regex_replace(message, std::regex(R"(force\(\))"),
                               "`tenantry-app migrate force VERSION" + target + " --yes`");
  message = std::regex_replace(message, std::regex(R"(check status\(\) on a new connection)"),
                               "check `tenantry-app migrate status`");
  message = std::regex_replace(message, std::regex(R"(status\(\))"), "`tenantry-app migrate status`");
  return message;
}

/// The version line(s) of --version.
std::string version_report() {
  return fmt::format(
      "tenantry-app {} (tenantry {})\n"
      "  SQLite library {} (compiled with {}; tenantry needs {} or later)\n"
      "  libpq {}.{} (tenantry needs libpq 10 or later, and a PostgreSQL server 15 or later)",
      TENANTRY_VERSION_STRING, tenantry::version_string, sqlite3_libversion(), SQLITE_VERSION,
      TENANTRY_MIN_SQLITE_VERSION_STRING, PQlibVersion() / 10000, PQlibVersion() % 10000);
}

/// The whole program; main() maps what escapes to the exit status.
int run(int argc, char** argv) {
  CLI::App cli{"tenantry-app: the reference app's multi-tenant data layer on tenantry (SQLite or PostgreSQL)"};
  cli.require_subcommand(1);
  cli.set_version_flag("--version", version_report(), "print this program's version and its libraries'");
  cli.footer(
      "Exit status: 0 ok, 1 failure, 2 bad command line or URL, 3 refused (nothing changed; --yes needed), "
      "4 migration history disagrees with the files.");

  Settings s;
  // --db and --session-db on every command that opens a database, bound to the same settings.
  const auto add_db = [&](CLI::App* cmd) {
    cmd->add_option("--db", s.db_url,
                    "database URL: sqlite:PATH, sqlite:///ABS, sqlite::memory:, postgres://... or \"host=... "
                    "dbname=...\" (default $DATABASE_URL, else " +
                        default_db_url() + ")")
        ->envname("DATABASE_URL");
    cmd->add_option("--session-db", s.session_db_url,
                    "the session store's database URL (default $SESSION_DB_URL; unset: the main database)")
        ->envname("SESSION_DB_URL");
  };
  const auto add_dir = [&](CLI::App* cmd) {
    cmd->add_option("--dir", s.dir,
                    "directory of migration files for the main database (default migrations/<dialect> of the "
                    "source tree, else ./migrations/<dialect>)");
  };
  const auto add_rls = [&](CLI::App* cmd, const char* what) { cmd->add_flag("--rls", s.rls, what); };
  const auto add_confirm = [&](CLI::App* cmd, const char* what) {
    cmd->add_flag("--yes", s.yes, what);
    cmd->add_flag("--dry-run", s.dry_run, "only print what would be done (exit 0)");
  };

  // migrate. Numbers are read as text and checked here, for a short message.
  std::string version_arg, to_arg;
  auto* migrate_cmd = cli.add_subcommand("migrate", "apply, revert and inspect the schema migrations");
  migrate_cmd->require_subcommand(1);
  auto* m_up = migrate_cmd->add_subcommand("up", "apply every pending migration (then the session database's)");
  add_db(m_up);
  add_dir(m_up);
  add_rls(m_up, "PostgreSQL: also apply 0003_row_level_security (the app must then connect with org context)");
  m_up->add_option("--to", to_arg, "stop after this version (the main database)");
  auto* m_down = migrate_cmd->add_subcommand(
      "down", "revert the applied migrations above VERSION (0: all), newest first; needs --yes");
  m_down->add_option("version", version_arg, "the version to go back to (0: nothing applied)")->required();
  add_confirm(m_down, "really revert them (without it: print what would be reverted, exit 3)");
  auto* m_status = migrate_cmd->add_subcommand(
      "status",
      "list every migration: applied, pending, DIRTY, FILE CHANGED, FILE MISSING (exit 4 for the last three)");
  auto* m_force = migrate_cmd->add_subcommand(
      "force",
      "declare the database at VERSION, clean, without running SQL (after fixing a failed migration); "
      "needs --yes");
  m_force->add_option("version", version_arg, "the version the database is at (0: nothing applied)")->required();
  add_confirm(m_force, "really rewrite the records (without it: print what would change, exit 3)");
  for (auto* c : {m_down, m_status, m_force}) {
    add_db(c);
    add_dir(c);
  }
  for (auto* c : {m_down, m_force})
    c->add_flag("--sessions", s.sessions, "act on the session database (--session-db) instead of the main one");

  DiffArgs diff_args;
  auto* m_diff = migrate_cmd->add_subcommand(
      "diff", "write the next migration from the difference between the database and the entities (with the lint)");
  m_diff->add_option("name", diff_args.name, "the migration's name (letters, digits, _)")->required();
  m_diff->add_option("--rename", diff_args.renames, "old=new (a table) or table.old=new (a column): keeps the data");
  m_diff->add_option("--fill", diff_args.fills,
                     "table.column=<sql>: the value of existing rows (down:... for the down file)");
  m_diff->add_option("--allow", diff_args.allows,
                     "drop-table:T, drop-column:T.C, type:T.C, not-null:T.C (down:... for the down file)");
  m_diff->add_flag("--print", diff_args.print_only, "print the files instead of writing them");
  auto* m_verify = migrate_cmd->add_subcommand("verify", "compare the schema with the entities; exit 1 on drift");
  std::string fleet_pattern = "org\\_%";
  std::string fleet_connections = "4", fleet_canary = "1", fleet_lock_timeout = "5000";  // checked below
  auto* m_fleet = migrate_cmd->add_subcommand("fleet", "apply --dir to every org schema (PostgreSQL schema per org)");
  m_fleet->add_option("--schemas", fleet_pattern, "LIKE pattern of the org schemas (default org\\_%)");
  m_fleet->add_option("--connections", fleet_connections, "parallel workers (default 4)");
  m_fleet->add_option("--canary", fleet_canary, "how many schemas go first (default 1)");
  m_fleet->add_option("--lock-timeout", fleet_lock_timeout, "ms a migration waits for a lock (default 5000)");
  for (auto* c : {m_diff, m_verify, m_fleet}) {
    add_db(c);
    add_dir(c);
  }

  // schema
  std::string dialect;
  bool write = false, no_rls = false;
  auto* schema = cli.add_subcommand("schema", "print the app's DDL, or regenerate the generated migration files");
  schema->add_option("--dialect", dialect, "sqlite or postgres (printing: default sqlite; --write: default both)")
      ->check(CLI::IsMember({"sqlite", "postgres"}));
  schema->add_flag("--no-rls", no_rls, "postgres: leave out the row-level security policies");
  schema->add_flag("--write", write,
                   "write migrations/<dialect>/0001_initial_schema.{up,down}.sql and the other generated files");
  schema->add_option("--root", s.root, "the migrations/ directory to write into (default: the source tree's)");
  add_confirm(schema, "--write: overwrite files whose contents change (without it: print them, exit 3)");
  std::string entities_ns, entities_schema;
  auto* schema_entities = schema->add_subcommand(
      "entities",
      "print the entity declarations (structs and tenantry::entity<T> blocks) that reproduce the database's schema");
  add_db(schema_entities);
  schema_entities->add_option("--namespace", entities_ns, "the namespace of the structs (default: none)");
  schema_entities->add_option("--schema", entities_schema, "PostgreSQL: the schema to read (default: the current one)");

  // demo
  auto* demo = cli.add_subcommand(
      "demo",
      "migrate a database of its own, fill it for two orgs, show their isolation (never touches a database "
      "it did not create)");
  add_db(demo);
  add_dir(demo);
  add_rls(demo, "PostgreSQL: apply 0003_row_level_security and connect with org context");
  demo->add_flag("--keep-schema", s.keep_schema, "PostgreSQL: keep the demo's schema instead of dropping it");

  // orgs
  std::string slug, name;
  auto* orgs = cli.add_subcommand("orgs", "manage organizations (tenants)");
  orgs->require_subcommand(1);
  auto* orgs_create = orgs->add_subcommand("create", "add an organization");
  orgs_create->add_option("--slug", slug, "subdomain-safe identifier")->required();
  orgs_create->add_option("--name", name, "display name")->required();
  auto* orgs_list = orgs->add_subcommand("list", "list organizations");
  auto* orgs_suspend = orgs->add_subcommand("suspend", "suspend an organization");
  orgs_suspend->add_option("--slug", slug, "the organization's slug")->required();
  for (auto* c : {orgs_create, orgs_list, orgs_suspend}) {
    add_db(c);
    add_dir(c);
  }

  // report
  ReportOptions report_args;
  auto* report = cli.add_subcommand("report", "one org's multi-table reads, each one statement per table read");
  report->require_subcommand(1);
  auto* r_status = report->add_subcommand("status",
                                          "rows per status: downloads, access requests, app access "
                                          "requests, tokens (the admin dashboard)");
  auto* r_tokens = report->add_subcommand("tokens", "every token of the org with its owner's login");
  auto* r_toolsets = report->add_subcommand(
      "toolsets", "a user's toolsets with the org's switch for each type, and which are usable");
  r_toolsets->add_option("--user", report_args.user, "the user's id (Keycloak subject)")->required();
  auto* r_models = report->add_subcommand("models", "model aliases with their file's metadata, and those without");
  for (auto* c : {r_status, r_tokens, r_toolsets, r_models}) {
    c->add_option("--org", report_args.slug, "the organization's slug")->required();
    c->add_flag("--sql", report_args.sql, "also print the SQL statements sent");
    add_db(c);
    add_dir(c);
    add_rls(c, "PostgreSQL: connect with org context (after `migrate up --rls`)");
  }

  auto* health = cli.add_subcommand("health", "check that the database answers (SELECT 1), and how fast");
  add_db(health);

  // rls
  std::string rls_role;
  auto* rls = cli.add_subcommand("rls", "PostgreSQL row-level security");
  rls->require_subcommand(1);
  auto* rls_verify = rls->add_subcommand(
      "verify",
      "check every database's live policies against the generated ones, and that this role is subject "
      "to them (a service's start-up check)");
  add_db(rls_verify);
  rls_verify->add_option("--role", rls_role,
                         "the role the policies were created for (CREATE POLICY ... TO); "
                         "default: none (PUBLIC)");

  try {
    cli.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help, --version
    return cli.exit(e) == 0 ? exit_ok : exit_usage;
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();
    if (!what.empty() && what.back() == '\n') what.pop_back();
    // CLI11 calls an unknown command "A subcommand is required" or an extra argument: say it.
    for (CLI::App* level : {&cli, migrate_cmd, orgs, report, rls, schema}) {
      if (!level->parsed() && level != &cli) continue;
      const std::vector<std::string> left = level->remaining();
      if (left.empty() || left.front().starts_with("-")) continue;
      std::string known;
      for (const CLI::App* sub : level->get_subcommands({})) known += (known.empty() ? "" : ", ") + sub->get_name();
      what = "unknown command '" + left.front() + "'" + (level == &cli ? "" : " for " + level->get_name()) +
             " (commands: " + known + ")";
    }
    fmt::print(stderr, "tenantry-app: {}\nrun `tenantry-app --help` (or `tenantry-app COMMAND --help`) for usage\n",
               what);
    return exit_usage;
  }
  // A plain file path is an SQLite database (the old --db took one). Anything with ':' is a URL
  // and with '=' libpq's keyword form: both go to the URL parser as they are, never to a file.
  for (std::string* url : {&s.db_url, &s.session_db_url})
    if (!url->empty() && url->find_first_of(":=") == std::string::npos) *url = "sqlite:" + *url;
  if (*m_up && !to_arg.empty()) s.up_to = parse_version("--to", to_arg, 1);
  std::int64_t version = 0;
  if (*m_down) version = parse_version("migrate down: VERSION", version_arg, 0);
  if (*m_force) version = parse_version("migrate force: VERSION", version_arg, 0);
  if (s.yes && s.dry_run) throw UsageFailure("--yes and --dry-run contradict each other: pass one");
  std::size_t connections = 0, canary = 0;
  std::int64_t lock_timeout_ms = 0;
  if (*m_fleet) {
    connections = static_cast<std::size_t>(parse_number("--connections", fleet_connections, 1, 1000));
    canary = static_cast<std::size_t>(parse_number("--canary", fleet_canary, 0, 1000000));
    lock_timeout_ms = parse_number("--lock-timeout", fleet_lock_timeout, 1, 86'400'000);
  }

  if (*m_up) return cmd_migrate_up(s);
  if (*m_down) return cmd_migrate_down(s, version);
  if (*m_status) return cmd_migrate_status(s);
  if (*m_force) return cmd_migrate_force(s, version);
  if (*m_diff) return cmd_migrate_diff(s, diff_args);
  if (*m_verify) return cmd_migrate_verify(s);
  if (*m_fleet) return cmd_migrate_fleet(s, fleet_pattern, connections, canary, lock_timeout_ms);
  if (*schema_entities) return cmd_schema_entities(s, entities_ns, entities_schema);
  if (*schema) return write ? cmd_schema_write(s, dialect) : cmd_schema_print(dialect, no_rls);
  if (*demo) return cmd_demo(s);
  if (*orgs_create) return cmd_orgs_create(s, slug, name);
  if (*orgs_list) return cmd_orgs_list(s);
  if (*orgs_suspend) return cmd_orgs_suspend(s, slug);
  for (auto* c : {r_status, r_tokens, r_toolsets, r_models})
    if (*c) {
      report_args.what = c->get_name();
      return cmd_report(s, report_args);
    }
  if (*health) return cmd_health(s);
  if (*rls_verify) return cmd_rls_verify(s, rls_role);
  return exit_usage;  // unreachable: CLI11 requires one subcommand
}

bool sessions_flag(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::string_view(argv[i]) == "--sessions") return true;
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  // Errors go to stderr after everything printed so far, as one "tenantry-app: ..." message.
  const auto error = [&](const std::string& message) {
    std::fflush(stdout);
    fmt::print(stderr, "tenantry-app: {}\n", for_cli_users(message, sessions_flag(argc, argv)));
  };
  try {
    return run(argc, argv);
  } catch (const UsageFailure& e) {
    error(e.what());
    return exit_usage;
  } catch (const tenantry::UrlError& e) {
    error(e.what());
    return exit_usage;
  } catch (const Refusal& e) {
    error(std::string(e.what()) + "; nothing was changed");
    return exit_refused;
  } catch (const DemoFailure& e) {
    error(std::string("demo FAILED: ") + e.what());
    return exit_failure;
  } catch (const tenantry::MigrationError& e) {
    error(e.what());
    using Kind = tenantry::MigrationError::Kind;
    const Kind k = e.kind();
    return k == Kind::dirty || k == Kind::checksum_mismatch || k == Kind::missing_file ? exit_history : exit_failure;
  } catch (const CommandError& e) {
    error(e.what());
    return exit_failure;
  } catch (const tenantry::Error& e) {
    error(e.what());
    return exit_failure;
  } catch (const std::exception& e) {
    error(std::string("error: ") + e.what());
    return exit_failure;
  }
}
