// tenantry/fleet.hpp - one migration directory applied to every org schema (schema per org,
// org_schema.hpp), with bounded parallelism, a canary group, lock timeouts, resume and progress.
//
//   migrate::FleetOptions opt;
//   opt.connections = 4;                          // parallel workers, one connection each
//   opt.canary = {OrgSchemas::schema_name(acme)};  // these go first; any failure stops the fleet
//   opt.lock_timeout = std::chrono::seconds(2);    // a busy org is retried later, not waited for
//   opt.progress = [](const migrate::FleetProgress& p) { std::cout << p.line() << '\r'; };
//   migrate::FleetResult r = migrate::run_fleet<pg::Connection>(
//       [&] { return pg::Connection(url); }, schemas, migrate::load_directory("migrations/org"), opt);
//
// Each org schema is migrated by migrate::Runner on a worker connection whose search_path is
// that schema, then public: unqualified names in the files are the org's tables (name shared
// tables as public.<table>), and the runner's record table, _tenantry_migrations, lives in the
// org schema. That record is the truth about which org is at which version, and it is written
// in the same transaction as the migration it records, so:
//   * a runner killed at any point (SIGKILL included) leaves every org either migrated and
//     recorded or untouched; running the fleet again resumes: no org is migrated twice, none
//     is skipped;
//   * each org schema has its own advisory lock (Options::lock_key), so two fleets started at
//     once never migrate the same org at the same time, and different orgs go in parallel.
// A summary per org (version, when, how long, the last error) is kept in the control table
// public._tenantry_fleet for dashboards; it is written after the org's own record, so after a
// kill it may lag by the orgs in flight, and the next run brings it up to date.
//
// lock_timeout (SET lock_timeout on each worker connection) makes a migration that waits for a
// table lock held by the application (a long transaction in one busy org) fail fast with nothing
// applied; that org is retried after the others, up to `retries` more times, and reported as
// busy if it never got its lock. The canary group (FleetOptions::canary, or the first
// canary_count schemas) is migrated first; if any of it fails, nothing else is touched.
#pragma once

#include "tenantry/error.hpp"
#include "tenantry/migrate.hpp"
#include "tenantry/sql_registry.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace tenantry::migrate {

/// Progress of a fleet run, reported after every org (and once at the start).
struct FleetProgress {
  std::size_t total = 0;     ///< org schemas in the run
  std::size_t done = 0;      ///< migrated now or already at the target version
  std::size_t migrated = 0;  ///< of done: had something applied by this run
  std::size_t busy = 0;      ///< waiting for a retry after a lock timeout
  std::size_t failed = 0;    ///< failed for good
  std::size_t running = 0;   ///< being migrated right now
  std::string phase;         ///< "canary" or "fleet"
  std::chrono::milliseconds elapsed{0};
  std::optional<std::chrono::milliseconds> eta;  ///< from the pace so far

  /// "fleet 340/1000 done (338 migrated), 4 running, 2 busy, 0 failed, 12.3 s, ETA 24.0 s"
  std::string line() const {
    const auto secs = [](std::chrono::milliseconds ms) {
      char b[32];
      std::snprintf(b, sizeof b, "%.1f s", static_cast<double>(ms.count()) / 1000.0);
      return std::string(b);
    };
    return phase + " " + std::to_string(done) + "/" + std::to_string(total) + " done (" + std::to_string(migrated) +
           " migrated), " + std::to_string(running) + " running, " + std::to_string(busy) + " busy, " +
           std::to_string(failed) + " failed, " + secs(elapsed) + (eta ? ", ETA " + secs(*eta) : "");
  }
};

struct FleetOptions {
  std::size_t connections = 4;           ///< workers, each with its own connection
  std::vector<std::string> canary{};     ///< schemas migrated first, before any other
  std::size_t canary_count = 0;          ///< or: the first N schemas (when `canary` is empty)
  std::chrono::milliseconds lock_timeout{std::chrono::seconds(5)};
  int retries = 2;                       ///< more tries for an org whose lock timed out
  /// How long a runner waits for another runner on the same org schema (see Options).
  std::chrono::milliseconds wait_timeout{std::chrono::minutes(1)};
  std::optional<std::int64_t> target{};  ///< up to this version (default: all)
  std::string control_schema = "public";  ///< where _tenantry_fleet lives
  std::function<void(const FleetProgress&)> progress{};
};

/// The outcome for one org schema.
struct OrgOutcome {
  std::string schema;
  std::vector<std::int64_t> applied;  ///< versions applied by this run
  std::int64_t version = 0;           ///< the org's version afterwards
  std::chrono::microseconds took{0};
  int attempts = 0;
  std::string error;  ///< empty when it succeeded
  bool busy = false;  ///< failed on a lock timeout every time
};

struct FleetResult {
  std::vector<OrgOutcome> orgs;  ///< in the order given
  std::size_t migrated = 0, unchanged = 0, failed = 0;
  std::size_t not_attempted = 0;  ///< left alone because the canary group failed
  bool stopped_by_canary = false;
  std::size_t peak_connections = 0;  ///< worker connections open at once
  std::chrono::milliseconds total{0};
  bool ok() const noexcept { return failed == 0 && !stopped_by_canary; }
};

/// The advisory lock key of `schema`'s runner: FNV-1a of "tenantry_migrations:<schema>".
inline std::int64_t schema_lock_key(std::string_view schema) {
  return Options::advisory_lock_key_value("tenantry_migrations:" + std::string(schema));
}

namespace detail {

inline std::string quote_schema(std::string_view ident) {
  std::string out = "\"";
  for (char c : ident) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

inline const Sql& set_path() {
  // Only an existing schema: a missing one would leave public first on the path, and the org's
  // migrations would run there.
  static const Sql s = intern_sql(
      "SELECT set_config('search_path', format('%I, public', nspname), false) FROM pg_catalog.pg_namespace"
      " WHERE nspname = $1");
  return s;
}

inline std::string control_ddl(const std::string& schema) {
  return "CREATE TABLE IF NOT EXISTS " + quote_schema(schema) + ".\"_tenantry_fleet\" (\n"
         "  schema_name TEXT NOT NULL PRIMARY KEY,\n"
         "  version BIGINT NOT NULL,\n"
         "  migrated_at TIMESTAMPTZ NOT NULL,\n"
         "  duration_ms BIGINT NOT NULL,\n"
         "  attempts INTEGER NOT NULL,\n"
         "  error TEXT\n"
         ")";
}

inline Sql control_upsert(const std::string& schema) {
  return intern_sql("INSERT INTO " + quote_schema(schema) +
                    ".\"_tenantry_fleet\" (schema_name, version, migrated_at, duration_ms, attempts, error)"
                    " VALUES ($1, $2, now(), $3, $4, $5) ON CONFLICT (schema_name) DO UPDATE SET"
                    " version = EXCLUDED.version, migrated_at = EXCLUDED.migrated_at,"
                    " duration_ms = EXCLUDED.duration_ms, attempts = EXCLUDED.attempts, error = EXCLUDED.error");
}

inline bool lock_timed_out(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const MigrationError& m) {
    return m.database_code() == "55P03";  // lock_not_available
  } catch (const DatabaseError& d) {
    return d.code() == "55P03";
  } catch (...) {
    return false;
  }
}

}  // namespace detail

/// Migrates every schema in `schemas` with `migrations` (see the header comment). `connect`
/// opens one PostgreSQL connection (pg::Connection) per worker. Returns per-org outcomes; an
/// org that fails does not stop the others, except in the canary group.
template <class Conn, class Connect>
FleetResult run_fleet(Connect&& connect, const std::vector<std::string>& schemas, const std::vector<Migration>& migrations,
                      const FleetOptions& options = {}) {
  static_assert(Conn::dialect::is_postgres, "tenantry: the migration fleet is for PostgreSQL schemas per org");
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  FleetResult result;
  result.orgs.resize(schemas.size());
  for (std::size_t i = 0; i < schemas.size(); ++i) result.orgs[i].schema = schemas[i];
  {
    std::set<std::string> seen;
    for (const auto& s : schemas)
      if (!seen.insert(s).second) throw UsageError("tenantry: migrate: fleet: schema '" + s + "' is listed twice");
  }

  // The canary group first, then the rest.
  std::vector<std::size_t> canary, rest;
  for (std::size_t i = 0; i < schemas.size(); ++i) {
    const bool in_canary = options.canary.empty()
                               ? i < options.canary_count
                               : std::find(options.canary.begin(), options.canary.end(), schemas[i]) != options.canary.end();
    (in_canary ? canary : rest).push_back(i);
  }
  for (const auto& c : options.canary)
    if (std::find(schemas.begin(), schemas.end(), c) == schemas.end())
      throw UsageError("tenantry: migrate: fleet: canary schema '" + c + "' is not one of the schemas to migrate");

  {
    Conn control = connect();
    control.execute(detail::control_ddl(options.control_schema));
  }
  const Sql upsert = detail::control_upsert(options.control_schema);

  std::mutex mutex;  // guards everything below
  FleetProgress progress;
  progress.total = schemas.size();
  std::size_t open_connections = 0;
  const auto report = [&] {  // with mutex held
    if (!options.progress) return;
    progress.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    const std::size_t finished = progress.done + progress.failed;
    progress.eta.reset();
    if (finished > 0 && finished < progress.total)
      progress.eta = std::chrono::milliseconds(progress.elapsed.count() *
                                               static_cast<std::int64_t>(progress.total - finished) /
                                               static_cast<std::int64_t>(finished));
    options.progress(progress);
  };

  // One phase: workers take orgs from `queue`; a lock timeout puts the org back at the end.
  const auto phase = [&](std::vector<std::size_t> queue, const std::string& name) {
    std::size_t next = 0;
    std::vector<std::size_t> retry;  // orgs whose lock timed out, for the next round
    {
      std::lock_guard lock(mutex);
      progress.phase = name;
      report();
    }
    for (int round = 0; round <= options.retries && !queue.empty(); ++round) {
      next = 0;
      retry.clear();
      const std::size_t workers = std::max<std::size_t>(1, std::min(options.connections, queue.size()));
      std::vector<std::thread> threads;
      std::vector<std::exception_ptr> crashed(workers);
      for (std::size_t w = 0; w < workers; ++w) {
        threads.emplace_back([&, w] {
          try {
            Conn conn = connect();
            {
              std::lock_guard lock(mutex);
              result.peak_connections = std::max(result.peak_connections, ++open_connections);
            }
            struct Close {
              std::mutex& m;
              std::size_t& n;
              ~Close() {
                std::lock_guard lock(m);
                --n;
              }
            } close{mutex, open_connections};
            conn.execute("SET lock_timeout = " + std::to_string(options.lock_timeout.count()));
            for (;;) {
              std::size_t index;
              {
                std::lock_guard lock(mutex);
                if (next == queue.size()) return;
                index = queue[next++];
                ++progress.running;
                if (round > 0) --progress.busy;
              }
              OrgOutcome& org = result.orgs[index];
              const auto t0 = Clock::now();
              ++org.attempts;
              bool busy = false;
              try {
                {
                  auto& st = conn.prepare(detail::set_path());
                  detail::Reset<std::remove_reference_t<decltype(st)>> reset{st};
                  st.bind_text(1, org.schema);
                  if (!st.step())
                    throw UsageError("tenantry: migrate: fleet: schema '" + org.schema + "' does not exist");
                }
                Options ropt;
                ropt.lock_key = schema_lock_key(org.schema);
                ropt.wait_timeout = options.wait_timeout;
                Runner<Conn> runner(conn, migrations, ropt);
                RunResult r = runner.up(options.target);
                org.applied.insert(org.applied.end(), r.versions.begin(), r.versions.end());
                org.version = 0;
                for (const auto& s : runner.status())
                  if (s.applied) org.version = std::max(org.version, s.version);
                org.error.clear();
              } catch (...) {
                busy = detail::lock_timed_out(std::current_exception());
                try {
                  throw;
                } catch (const std::exception& e) {
                  org.error = e.what();
                } catch (...) {
                  org.error = "unknown error";
                }
              }
              org.took += std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0);
              try {
                auto& st = conn.prepare(upsert);
                detail::Reset<std::remove_reference_t<decltype(st)>> reset{st};
                st.bind_text(1, org.schema);
                st.bind_int(2, org.version);
                st.bind_int(3, org.took.count() / 1000);
                st.bind_int(4, org.attempts);
                if (org.error.empty()) st.bind_null(5);
                else st.bind_text(5, org.error);
                while (st.step()) {
                }
              } catch (...) {
                // The summary is for dashboards; the org's own record is the truth.
              }
              std::lock_guard lock(mutex);
              --progress.running;
              if (org.error.empty()) {
                ++progress.done;
                if (!org.applied.empty()) ++progress.migrated;
              } else if (busy && round < options.retries) {
                ++progress.busy;
                retry.push_back(index);
              } else {
                org.busy = busy;
                ++progress.failed;
              }
              report();
            }
          } catch (...) {
            crashed[w] = std::current_exception();  // could not connect: the queue goes on without it
          }
        });
      }
      for (auto& t : threads) t.join();
      // Orgs never taken because every worker failed to connect count as failed.
      for (; next < queue.size(); ++next) {
        OrgOutcome& org = result.orgs[queue[next]];
        org.error = "not migrated: no worker could connect";
        std::lock_guard lock(mutex);
        ++progress.failed;
      }
      if (std::all_of(crashed.begin(), crashed.end(), [](const auto& x) { return static_cast<bool>(x); }))
        std::rethrow_exception(crashed[0]);  // not one worker could connect
      queue = retry;
    }
  };

  phase(canary, "canary");
  const bool canary_failed =
      std::any_of(canary.begin(), canary.end(), [&](std::size_t i) { return !result.orgs[i].error.empty(); });
  if (canary_failed) {
    result.stopped_by_canary = true;
    for (std::size_t i : rest) result.orgs[i].error = "not migrated: the canary group failed";
    result.not_attempted = rest.size();
  } else {
    phase(rest, "fleet");
  }
  for (const OrgOutcome& o : result.orgs) {
    if (o.attempts == 0 && !o.error.empty()) continue;  // counted in not_attempted
    if (!o.error.empty()) ++result.failed;
    else if (!o.applied.empty()) ++result.migrated;
    else ++result.unchanged;
  }
  result.total = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  return result;
}

/// The version of each schema as its own record says (0: nothing applied, or no record table
/// yet), in one query (query_to_xml runs the per-schema query on the server).
template <class Conn>
std::vector<std::pair<std::string, std::int64_t>> fleet_versions(Conn& conn, const std::vector<std::string>& schemas) {
  static const Sql sql = intern_sql(
      "SELECT n.nspname::text, (xpath('/row/v/text()', query_to_xml(format('SELECT COALESCE(MAX(version), 0) AS v"
      " FROM %I._tenantry_migrations WHERE NOT dirty', n.nspname), false, true, '')))[1]::text::int8"
      " FROM pg_catalog.pg_namespace n JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid"
      " AND c.relname = '_tenantry_migrations' AND c.relkind = 'r'"
      " WHERE n.nspname = ANY (string_to_array($1, chr(31)))");
  std::string list;
  for (const auto& s : schemas) list += (list.empty() ? "" : "\x1f") + s;
  std::map<std::string, std::int64_t> found;
  {
    auto& st = conn.prepare(sql);
    detail::Reset<std::remove_reference_t<decltype(st)>> reset{st};
    st.bind_text(1, list);
    while (st.step()) found[std::string(st.column_text(0))] = st.column_int(1);
  }
  std::vector<std::pair<std::string, std::int64_t>> out;
  for (const auto& s : schemas) {
    auto it = found.find(s);
    out.emplace_back(s, it == found.end() ? 0 : it->second);
  }
  return out;
}

}  // namespace tenantry::migrate
