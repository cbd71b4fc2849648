// Shared by the reliability tests (tests/reliability/*.cpp): an entity for load tests, a
// model-checked load worker that runs mixed repository operations through a tenantry::Pool, and
// the final "the database holds exactly what the models say, and no org sees another's rows"
// verification.
//
// Catch2 assertions are not thread-safe: worker threads never assert. They record failures as
// text in their WorkerResult, which the main thread checks after joining them.
#pragma once

#include "support/pg_database.hpp"
#include "support/sqlite_db.hpp"  // TempPath, StringMakers

#include <tenantry/pool.hpp>
#include <tenantry/tenantry.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#if defined(__SANITIZE_THREAD__)
#define TENANTRY_REL_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TENANTRY_REL_TSAN 1
#endif
#endif

namespace rel {

using tenantry::OrgId;
using tenantry::Uuid;

/// Org-scoped, unique name per org, an index on the owning worker.
struct Item {
  Uuid id;
  OrgId org_id;
  std::string owner;  // "w3": the worker that owns the row (each worker has its own key set)
  std::string name;   // "w3-17": unique within the org
  std::int64_t qty = 0;
  std::int64_t version = 0;
  std::optional<std::string> note;
  friend bool operator==(const Item&, const Item&) = default;
};

inline std::string describe(const Item& i) {
  return "{" + i.id.to_string().substr(0, 8) + " org " + i.org_id.to_string().substr(0, 8) + " " + i.name +
         " qty " + std::to_string(i.qty) + " v" + std::to_string(i.version) + " note " +
         (i.note ? "'" + *i.note + "'" : std::string("null")) + "}";
}

}  // namespace rel

template <>
struct tenantry::entity<rel::Item> {
  using T = rel::Item;
  static constexpr std::string_view table = "rel_items";
  static constexpr auto primary_key = key(&T::id);
  static constexpr auto constraints = std::tuple{unique(&T::org_id, &T::name), index(&T::org_id, &T::owner)};
};

namespace rel {

/// Operation counts scale down under ThreadSanitizer (5-15x slower); TENANTRY_RELIABILITY_SCALE
/// (a percentage, default 100) scales them for longer or shorter runs.
inline int scaled(int n) {
  double factor = 1.0;
#if defined(TENANTRY_REL_TSAN)
  factor = 0.2;
#endif
  if (const char* env = std::getenv("TENANTRY_RELIABILITY_SCALE"); env != nullptr && *env != '\0')
    factor *= std::atof(env) / 100.0;
  return std::max(1, static_cast<int>(n * factor));
}

/// Seconds since `start`, for the timings printed by the tests.
inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

template <class Conn>
struct repo_of;
template <>
struct repo_of<tenantry::Database> {
  using type = tenantry::Repository<Item>;
};
template <>
struct repo_of<tenantry::pg::Connection> {
  using type = tenantry::Repository<Item, tenantry::PgDialect>;
};
template <>
struct repo_of<tenantry::sqlite::Connection> {
  using type = tenantry::Repository<Item, tenantry::SqliteDialect>;
};
template <class Conn>
using Repo = typename repo_of<Conn>::type;

// ---- raw SQL through the drivers (no repository, no org filter) --------------------------------

/// Calls f with the driver connection under `c` (itself, or the one a Database holds).
template <class Conn, class F>
decltype(auto) with_driver(Conn& c, F&& f) {
  if constexpr (std::is_same_v<Conn, tenantry::Database>) {
    return c.visit(std::forward<F>(f));
  } else {
    return std::forward<F>(f)(c);
  }
}

/// Resets a driver statement at scope end (tenantry's StatementScope, for either driver).
template <class S>
struct ResetOnExit {
  S& s;
  ~ResetOnExit() { s.reset(); }
};
template <class S>
ResetOnExit(S&) -> ResetOnExit<S>;

/// The single integer `sql` returns.
template <class Conn>
std::int64_t raw_int(Conn& c, const std::string& sql) {
  return with_driver(c, [&](auto& d) -> std::int64_t {
    auto& st = d.prepare(tenantry::intern_sql(sql));
    ResetOnExit guard{st};
    if (!st.step()) throw std::runtime_error("no row from: " + sql);
    return st.column_int(0);
  });
}

/// The single text value `sql` returns ("<null>" for NULL).
template <class Conn>
std::string raw_text(Conn& c, const std::string& sql) {
  return with_driver(c, [&](auto& d) -> std::string {
    auto& st = d.prepare(tenantry::intern_sql(sql));
    ResetOnExit guard{st};
    if (!st.step()) throw std::runtime_error("no row from: " + sql);
    return st.column_is_null(0) ? std::string("<null>") : std::string(st.column_text(0));
  });
}

/// True when `sql` fails because row-level security found no org context (OrgContextMissing):
/// what a read of an org-scoped table without an org must do. For worker threads (no asserts).
template <class Conn>
bool fails_without_org(Conn& c, const std::string& sql) {
  try {
    raw_int(c, sql);
  } catch (const tenantry::OrgContextMissing&) {
    return true;
  } catch (...) {
  }
  return false;
}

/// Every row of rel_items, read with plain SQL, sorted by id.
template <class Conn>
std::vector<Item> dump(Conn& c) {
  return with_driver(c, [&](auto& d) {
    auto& st = d.prepare(tenantry::intern_sql(
        "SELECT CAST(id AS TEXT), CAST(org_id AS TEXT), owner, name, qty, version, note FROM rel_items"));
    ResetOnExit guard{st};
    std::vector<Item> out;
    while (st.step()) {
      Item i;
      i.id = Uuid::parse(st.column_text(0));
      i.org_id = OrgId::parse(st.column_text(1));
      i.owner = st.column_text(2);
      i.name = st.column_text(3);
      i.qty = st.column_int(4);
      i.version = st.column_int(5);
      if (!st.column_is_null(6)) i.note = std::string(st.column_text(6));
      out.push_back(std::move(i));
    }
    std::sort(out.begin(), out.end(), [](const Item& a, const Item& b) { return a.id < b.id; });
    return out;
  });
}

// ---- PostgreSQL roles for row-level security ---------------------------------------------------

using tenantry_test::as_role;  // support/pg_database.hpp

/// The database name in a postgresql:// URL.
inline std::string database_of(const std::string& url) {
  const auto slash = url.find('/', url.find("://") + 3);
  const auto query = url.find('?', slash);
  return url.substr(slash + 1, query == std::string::npos ? std::string::npos : query - slash - 1);
}

/// An ordinary role (neither superuser nor BYPASSRLS), created once per cluster; several test
/// processes may race to create it.
inline void ensure_role(tenantry::pg::Connection& admin, const std::string& role) {
  admin.execute("DO $$ BEGIN CREATE ROLE " + role +
                " LOGIN NOSUPERUSER NOBYPASSRLS; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$");
}

inline constexpr const char* rls_owner = "tenantry_rel_owner";

/// rel_items with row-level security, created by (and so owned by) the ordinary role rls_owner:
/// FORCE makes the policy apply to that owner too.
inline void create_rls_tables(const std::string& url) {
  tenantry::pg::Connection admin(url);
  ensure_role(admin, rls_owner);
  admin.execute(std::string("GRANT ALL ON SCHEMA public TO ") + rls_owner);
  tenantry::pg::Connection owner(as_role(url, rls_owner));
  tenantry::create_tables<Item>(owner, tenantry::DdlOptions{.row_level_security = true});
}

// ---- the load worker -----------------------------------------------------------------------------

/// Thrown inside a lease on purpose: the lease ends by stack unwinding.
struct InjectedFailure : std::runtime_error {
  InjectedFailure() : std::runtime_error("injected failure") {}
};

enum Op { insert, find, update, set, upsert, erase, list, count, tx_commit, tx_rollback, tx_leaked, fail_in_lease, op_count };
inline constexpr std::array<const char*, op_count> op_names = {
    "insert", "find", "update", "set", "upsert", "erase", "list", "count", "tx_commit", "tx_rollback", "tx_leaked",
    "fail_in_lease"};

struct WorkerResult {
  std::map<std::pair<int, int>, Item> model;  // (org index, key number) -> the row as it must be
  std::vector<std::string> failures;          // empty when every answer matched the model (first 20)
  std::uint64_t failed_ops = 0;               // all of them
  std::array<std::uint64_t, op_count> done{};
};

struct LoadConfig {
  int threads = 8;
  int ops_per_thread = 2000;
  int keys_per_org = 24;  // per worker
  std::uint64_t seed = 20240611;
};

template <class Conn>
class Worker {
 public:
  Worker(tenantry::Pool<Conn>& pool, const std::vector<OrgId>& orgs, int index, const LoadConfig& config,
         WorkerResult& out)
      : pool_(pool), orgs_(orgs), tag_("w" + std::to_string(index)), config_(config), out_(out),
        rng_(config.seed * 1000003 + static_cast<std::uint64_t>(index)) {}

  void run() {
    for (op_ = 0; op_ < config_.ops_per_thread; ++op_) {
      try {
        step();
      } catch (const InjectedFailure&) {
        // expected: the lease ended while it propagated
      } catch (const std::exception& e) {
        fail(std::string("unexpected exception: ") + e.what());
      }
    }
  }

 private:
  int pick(int n) { return static_cast<int>(rng_() % static_cast<std::uint64_t>(n)); }

  void fail(const std::string& what) {
    ++out_.failed_ops;
    if (out_.failures.size() < 20) out_.failures.push_back(tag_ + " op " + std::to_string(op_) + ": " + what);
  }
  void expect(bool ok, const std::string& what) {
    if (!ok) fail(what);
  }

  Item fresh(int n) {
    Item i;
    i.id = Uuid::random();
    i.owner = tag_;
    i.name = tag_ + "-" + std::to_string(n);
    i.qty = pick(1000);
    i.version = 1;
    if (pick(3) != 0) i.note = "note " + std::to_string(pick(100000));
    return i;
  }

  const Item* model_row(int o, int n) const {
    auto it = out_.model.find({o, n});
    return it == out_.model.end() ? nullptr : &it->second;
  }

  std::vector<Item> model_rows_of(int o) const {
    std::vector<Item> rows;
    for (const auto& [k, v] : out_.model)
      if (k.first == o) rows.push_back(v);
    std::sort(rows.begin(), rows.end(), [](const Item& a, const Item& b) { return a.name < b.name; });
    return rows;
  }

  /// Writes one change (insert when absent, update when present) and returns the row it made.
  Item write_one(Repo<Conn>& repo, int o, int n) {
    const OrgId& org = orgs_[static_cast<std::size_t>(o)];
    if (const Item* present = model_row(o, n)) {
      Item u = *present;
      u.qty = pick(1000);
      ++u.version;
      expect(repo.update(org, u), "update of a present row in a transaction returned false");
      return u;
    }
    Item row = fresh(n);
    repo.insert(org, row);
    return row;
  }

  void step() {
    const int o = pick(static_cast<int>(orgs_.size()));
    const int n = pick(config_.keys_per_org);
    const OrgId& org = orgs_[static_cast<std::size_t>(o)];
    const Item* present = model_row(o, n);
    const std::pair<int, int> key{o, n};
    // Mostly single operations; a tenth transactions; a few leases that end badly.
    const int r = pick(100);
    const Op op = r < 14 ? insert : r < 28 ? find : r < 38 ? update : r < 48 ? set : r < 58 ? upsert
                : r < 66 ? erase : r < 74 ? list : r < 80 ? count : r < 88 ? tx_commit : r < 93 ? tx_rollback
                : r < 97 ? tx_leaked : fail_in_lease;
    ++out_.done[op];

    auto lease = pool_.acquire();
    Repo<Conn> repo{*lease};
    switch (op) {
      case insert: {
        Item row = fresh(n);
        if (present == nullptr) {
          repo.insert(org, row);
          expect(row.org_id == org, "insert did not fill the org");
          out_.model[key] = row;
        } else {
          try {
            repo.insert(org, row);
            fail("a duplicate name was inserted: " + row.name);
          } catch (const tenantry::UniqueViolation&) {
          }
        }
        break;
      }
      case find: {
        const auto got = repo.find(org, present ? present->id : Uuid::random());
        if (present == nullptr) {
          expect(!got.has_value(), "find of an absent row found " + (got ? describe(*got) : std::string()));
        } else {
          expect(got.has_value() && *got == *present,
                 "find returned " + (got ? describe(*got) : std::string("nothing")) + ", expected " + describe(*present));
        }
        // The same worker's row in another org is never visible through this org.
        const int other = (o + 1 + pick(static_cast<int>(orgs_.size()) - 1)) % static_cast<int>(orgs_.size());
        if (const Item* theirs = model_row(other, n))
          expect(!repo.find(org, theirs->id).has_value(), "a row of another org was found: " + describe(*theirs));
        break;
      }
      case update: {
        if (present != nullptr) {
          Item u = *present;
          u.qty = pick(1000);
          ++u.version;
          u.note = pick(2) ? std::optional<std::string>("updated " + std::to_string(op_)) : std::nullopt;
          expect(repo.update(org, u), "update of a present row returned false");
          out_.model[key] = u;
        } else {
          Item u = fresh(n);
          expect(!repo.update(org, u), "update of an absent row returned true");
        }
        break;
      }
      case set: {
        const std::int64_t qty = pick(1000);
        const bool changed = repo.set(org, present ? present->id : Uuid::random(), &Item::qty, qty);
        expect(changed == (present != nullptr), "set returned " + std::to_string(changed));
        if (present != nullptr) out_.model[key].qty = qty;
        break;
      }
      case upsert: {
        Item row = fresh(n);
        const Item sent = row;
        repo.upsert(org, row, tenantry::on_conflict(&Item::org_id, &Item::name));
        Item expected = sent;
        expected.org_id = org;
        if (present != nullptr) expected.id = present->id;  // the existing row keeps its key
        expect(row == expected, "upsert stored " + describe(row) + ", expected " + describe(expected));
        out_.model[key] = expected;
        break;
      }
      case erase: {
        const bool erased = repo.erase(org, present ? present->id : Uuid::random());
        expect(erased == (present != nullptr), "erase returned " + std::to_string(erased));
        out_.model.erase(key);
        break;
      }
      case list: {
        const auto got = repo.list(org, tenantry::col(&Item::owner) == tag_, tenantry::order_by(&Item::name));
        const auto want = model_rows_of(o);
        if (got != want) {
          fail("list returned " + std::to_string(got.size()) + " rows, expected " + std::to_string(want.size()) +
               (got.empty() ? std::string() : "; first " + describe(got.front())));
        }
        break;
      }
      case count: {
        const auto got = repo.count(org, tenantry::col(&Item::owner) == tag_);
        expect(got == static_cast<std::int64_t>(model_rows_of(o).size()),
               "count returned " + std::to_string(got) + ", expected " + std::to_string(model_rows_of(o).size()));
        break;
      }
      case tx_commit: {
        // Two writes, possibly in two orgs, committed together.
        const int o2 = pick(static_cast<int>(orgs_.size()));
        const int n2 = (n + 1 + pick(config_.keys_per_org - 1)) % config_.keys_per_org;
        auto tx = lease->transaction();
        Item a = write_one(repo, o, n);
        Item b = write_one(repo, o2, n2);
        tx.commit();
        out_.model[key] = a;
        out_.model[{o2, n2}] = b;
        break;
      }
      case tx_rollback: {
        {
          auto tx = lease->transaction();
          write_one(repo, o, n);
          if (pick(2) == 0) tx.rollback();
        }  // otherwise rolled back here
        const auto got = repo.find(org, present ? present->id : Uuid::random());
        expect(present ? (got && *got == *present) : !got.has_value(), "a rolled-back write is visible");
        break;
      }
      case tx_leaked: {
        // A transaction begun and never ended: the pool must roll it back when the lease ends.
        lease->begin_scope();
        if (pick(2) == 0) lease->begin_scope();  // and a savepoint inside it
        write_one(repo, o, n);
        break;
      }
      case fail_in_lease: {
        (void)repo.find(org, present ? present->id : Uuid::random());
        throw InjectedFailure();
      }
      case op_count:
        break;
    }
  }

  tenantry::Pool<Conn>& pool_;
  const std::vector<OrgId>& orgs_;
  std::string tag_;
  const LoadConfig& config_;
  WorkerResult& out_;
  std::mt19937_64 rng_;
  int op_ = 0;
};

/// Runs config.threads workers on `pool` and returns their results (the main thread asserts).
template <class Conn>
std::vector<WorkerResult> run_load(tenantry::Pool<Conn>& pool, const std::vector<OrgId>& orgs, const LoadConfig& config) {
  std::vector<WorkerResult> results(static_cast<std::size_t>(config.threads));
  std::vector<std::thread> threads;
  for (int t = 0; t < config.threads; ++t) {
    threads.emplace_back([&, t] {
      try {
        Worker<Conn>(pool, orgs, t, config, results[static_cast<std::size_t>(t)]).run();
      } catch (const std::exception& e) {
        results[static_cast<std::size_t>(t)].failures.push_back(std::string("worker died: ") + e.what());
      }
    });
  }
  for (auto& t : threads) t.join();
  return results;
}

/// Checks the workers' own findings, then that the table holds exactly the union of the models
/// (read by `admin`, which must see every org's rows), then that each org sees exactly its rows
/// through a pooled repository and none of another org's.
template <class Admin, class Conn>
void verify(const std::vector<WorkerResult>& results, Admin& admin, tenantry::Pool<Conn>& pool,
            const std::vector<OrgId>& orgs) {
  std::uint64_t total_ops = 0;
  std::array<std::uint64_t, op_count> done{};
  for (const auto& r : results) {
    CHECK(r.failed_ops == 0);
    for (const auto& f : r.failures) FAIL_CHECK(f);
    for (std::size_t k = 0; k < op_count; ++k) {
      done[k] += r.done[k];
      total_ops += r.done[k];
    }
  }
  for (std::size_t k = 0; k < op_count; ++k) CHECK(done[k] > 0);  // every kind of operation ran
  INFO("operations: " << total_ops);

  std::vector<Item> expected;
  for (const auto& r : results)
    for (const auto& [k, v] : r.model) expected.push_back(v);
  std::sort(expected.begin(), expected.end(), [](const Item& a, const Item& b) { return a.id < b.id; });
  const std::vector<Item> actual = dump(admin);
  CHECK(actual.size() == expected.size());
  if (actual != expected) {
    // Report the first differences row by row, not two vectors of hundreds of rows.
    std::map<Uuid, const Item*> want, have;
    for (const auto& i : expected) want[i.id] = &i;
    for (const auto& i : actual) have[i.id] = &i;
    int shown = 0;
    for (const auto& [id, w] : want) {
      auto h = have.find(id);
      if (h == have.end()) {
        if (shown++ < 10) FAIL_CHECK("missing row " << describe(*w));
      } else if (!(*h->second == *w)) {
        if (shown++ < 10) FAIL_CHECK("row " << describe(*h->second) << " should be " << describe(*w));
      }
    }
    for (const auto& [id, h] : have)
      if (!want.count(id) && shown++ < 10) FAIL_CHECK("unexpected row " << describe(*h));
    FAIL("the final rows differ from the model");
  }

  // Isolation, through the pool: each org lists exactly its own rows and finds no other org's.
  auto lease = pool.acquire();
  Repo<Conn> repo{*lease};
  for (std::size_t o = 0; o < orgs.size(); ++o) {
    std::vector<Item> mine;
    for (const auto& i : expected)
      if (i.org_id == orgs[o]) mine.push_back(i);
    auto listed = repo.list(orgs[o]);
    std::sort(listed.begin(), listed.end(), [](const Item& a, const Item& b) { return a.id < b.id; });
    CHECK(listed == mine);
    CHECK(repo.count(orgs[o]) == static_cast<std::int64_t>(mine.size()));
    int leaked = 0;
    for (const auto& i : expected)
      if (i.org_id != orgs[o] && repo.find(orgs[o], i.id).has_value()) ++leaked;
    CHECK(leaked == 0);
  }
}

}  // namespace rel
