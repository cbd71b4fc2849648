// tenantry/batch.hpp - several independent writes for one org, sent together, all or nothing.
//
//   tenantry::Batch batch(conn, org);           // bound to one org; its calls take none
//   const auto i = batch.insert(invoice);       // a BatchRow<Invoice>: where to read it back
//   const auto k = batch.update(customer);
//   batch.set(token.id, &ApiToken::status, TokenStatus::revoked);
//   batch.erase<ApiToken>(old_token.id);
//   tenantry::BatchResult done = batch.run();   // PostgreSQL: one round trip
//   if (!done.changed(k)) ...                   // the org had no such customer
//   const Invoice& written = done.row(i);       // with its org and generated columns
//
// The org rule. A batch is made for one org, and nothing added to it names an org: every
// statement runs with the batch's org, bound as its parameter (a row's own org field is
// checked when it is added: a nil one takes the batch's org, another org is OrgMismatch and the
// statement is not added), and in that org's database context (row-level security setting,
// schema search path). An entity of another org type than the batch's, or a global entity
// (whose statements would run without an org), does not compile. So a batch cannot span two
// orgs: a second org is a second batch, and nothing of one outlives its run() on the
// connection (the context is transaction-local).
//
// What a statement is. insert(row), update(row), set(key, &E::member, value), erase<E>(key)
// and put(row, target) are the repository calls of the same names (repository.hpp), with the
// same SQL, prepared once per shape per connection and with every value bound as a parameter.
// The values are copied when the statement is added: changing a row afterwards, or letting it
// end, changes nothing of the batch, and the batch never writes into the caller's row (it keeps
// no pointer to it). The row an insert wrote, with its org and the columns the database
// generated (identity, default_now, default_uuid), is the result's: done.row(i), where i is
// the BatchRow<E> insert() returned.
//
// run(). All the statements, in the order they were added, in one transaction: either all of
// them are written or none is. A failing statement (unique, check or foreign key violation, a
// row-level security refusal) throws the typed error (error.hpp) the single call would throw,
// whose batch_statement() and what() name the statement; the transaction is rolled back and
// the connection is usable. On PostgreSQL (pg::Connection) the batch is one libpq pipeline with
// one sync: BEGIN, the org context, each statement, COMMIT, one round trip where the single
// calls take one each (pg::Connection::run_pipelined). Inside the caller's transaction a batch
// joins it through a savepoint (a failure rolls back the batch only): savepoint, org context
// (only when the transaction does not hold this org yet), the statements in one pipeline,
// release. A server session that lost one of the statements (26000) fails the pipeline with
// nothing written; outside a transaction it is sent once more in a transaction of its own, the
// statements prepared again in it. On SQLite, and through a Database, the same statements run
// one after the other in one transaction. Batches with a put(), or a write to an entity scoped
// through its parent, run one statement at a time on PostgreSQL too (in one transaction, just as
// atomic): their refusals (a conflict with another org's row, a parent that is not the org's)
// are found by reading the result, which a pipeline only gives after its COMMIT.
//
// run() empties the batch, whatever its outcome; add statements again to reuse it. A statement
// observer (observe.hpp) is told of each statement with the batch's org; in a pipelined batch
// once its result is read (a failed batch: the failed statement only), with the time that took
// as its duration (the round trip is the batch's, not one statement's).
#pragma once

#include "tenantry/error.hpp"
#include "tenantry/org_context.hpp"
#include "tenantry/repository.hpp"
#include "tenantry/statement_lease.hpp"
#include "tenantry/types.hpp"

#include <any>
#include <cstddef>
#include <memory>
#include <memory_resource>
#include <new>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace tenantry {

/// The position of an insert in its batch, typed with its entity: what Batch::insert returns and
/// BatchResult::row takes. It converts to the statement's position (BatchResult::changed).
template <class E>
class BatchRow {
 public:
  constexpr operator std::size_t() const noexcept { return index_; }  // NOLINT: a position
  constexpr std::size_t index() const noexcept { return index_; }

 private:
  template <class, org_id_type>
  friend class Batch;
  constexpr explicit BatchRow(std::size_t index) noexcept : index_(index) {}
  std::size_t index_;
};

/// What run() reports: for each statement, in the order they were added, whether it changed a
/// row (an insert and a put always do; an update, set or erase does not when the org has no row
/// with that key, as the single calls return false), and the rows the inserts wrote.
class BatchResult {
 public:
  std::size_t size() const noexcept { return changed_.size(); }
  bool changed(std::size_t k) const {
    check(k);
    return changed_[k];
  }
  /// The row insert `i` wrote, as the database has it: the batch's org, and the columns the
  /// database generated (identity, default_now, default_uuid). Owned by the result.
  template <class E>
  const E& row(BatchRow<E> i) const {
    check(i.index());
    const E* r = i.index() < rows_.size() ? std::any_cast<E>(&rows_[i.index()]) : nullptr;
    if (r == nullptr)
      throw UsageError("tenantry: batch statement " + std::to_string(i.index()) +
                       " is not an insert of this entity: the BatchRow is of another batch's run");
    return *r;
  }

 private:
  template <class, org_id_type>
  friend class Batch;
  void check(std::size_t k) const {
    if (k >= changed_.size())
      throw UsageError("tenantry: batch statement " + std::to_string(k) + " out of range: the batch had " +
                       std::to_string(changed_.size()));
  }
  std::vector<bool> changed_;
  std::vector<std::any> rows_;  // by position; an insert's row (empty for the other statements)
};

namespace detail {

/// A connection that sends a batch as one pipeline (pg::Connection).
template <class Conn>
concept pipelining_connection = requires(Conn& c) {
  { Conn::can_pipeline() } -> std::convertible_to<bool>;
  typename Conn::statement;
};

template <class Conn>
struct batch_statement_of {
  struct none {};
  using type = none;
};
template <pipelining_connection Conn>
struct batch_statement_of<Conn> {
  using type = typename Conn::statement;
};

/// One statement of a batch: the repository call that runs it alone (SQLite, a Database, the
/// batches that cannot be pipelined), and its SQL, binding and result for a pipeline.
template <class Conn, class O>
class BatchOp {
 public:
  using Stmt = typename batch_statement_of<Conn>::type;
  virtual ~BatchOp() = default;
  /// "insert into api_tokens", for the error of a failing statement.
  virtual std::string describe() const = 0;
  /// False when the statement's refusal is read from its result (it needs its own round trip).
  virtual bool pipelines() const = 0;
  /// Runs the statement as the repository's own call, in the batch's transaction.
  virtual bool run(Conn& conn, const O& org) = 0;
  virtual const Sql& sql() const = 0;
  virtual void bind(Stmt& st, const O& org) const = 0;
  /// Reads the result of the statement's pipelined execution (its row, when has_row).
  virtual bool read(Stmt& st, bool has_row) = 0;
  /// After the commit: an insert moves the row it wrote into `slot` (the result's).
  virtual void keep(std::any& /*slot*/) {}
};

/// The repository's parts a batch statement needs (a friend of Repository).
template <class E, class D, class Conn>
struct BatchParts {
  using Repo = Repository<E, D, Conn>;
  using O = org_id_of<E>;

  /// The checks the single call makes before anything is sent. Through a Database, the
  /// repository of its dialect's (a schema-scoped entity's are left to run(), which has them).
  template <class F>
  static void on_driver(Conn& conn, F&& f) {
    if constexpr (std::is_same_v<D, AnyDialect>) {
      if constexpr (!schema_scoped<E>)
        conn.visit([&](auto& c) {
          using C = std::remove_reference_t<decltype(c)>;
          f(Repository<E, typename C::dialect, C>(c));
        });
    } else {
      f(Repo(conn));
    }
  }
  static void adopt(Conn& conn, const O& org, E& row) {
    on_driver(conn, [&](auto repo) {
      repo.require_org_schema();
      repo.adopt_org(org, row);
    });
  }
  static void check(Conn& conn, const O& org, const E& row) {
    on_driver(conn, [&](auto repo) {
      repo.require_org_schema();
      repo.check_org(org, row);
    });
  }
  static void check_key(Conn& conn) {
    if constexpr (schema_scoped<E>) on_driver(conn, [&](auto repo) { repo.require_org_schema(); });
    else (void)conn;
  }
  static void check_settable(std::size_t i) {
    const TableInfo& t = table();
    if (i == t.org_column || t.columns[i].write_once) detail::refuse_setting(t, i);
  }
  static const TableInfo& table() { return table_info<E>(); }

  template <class Stmt>
  static void read_generated(Stmt& st, bool has_row, E& row) {
    const auto& f = Repo::fixed();
    if (f.generated_cols.empty() || !has_row) return;
    int c = 0;
    for (auto i : f.generated_cols) Repo::readers[i](st, c++, row);
  }
  static bool has_generated() { return !Repo::fixed().generated_cols.empty(); }

  static const Sql& insert_sql() { return Repo::fixed().insert; }
  template <class Stmt>
  static void bind_insert(Stmt& st, const O& org, const E& row) {
    // The org column from the batch's org, whatever the row says (it was checked when added).
    Repo::template bind_insert_columns<true>(st, 1, row, Repo::column_org(org));
  }

  static const Sql& update_sql() { return Repo::fixed().update; }
  template <class Stmt>
  static void bind_update(Stmt& st, const O& org, const E& row) {
    int p = Repo::bind_row_key(st, Repo::column_org(org), row);
    for (auto i : Repo::fixed().update_cols) Repo::binders[i](st, p++, row);
  }

  static Sql set_sql(std::size_t index) {
    thread_local std::array<Sql, reflect::field_count<E>> by_field{};
    Sql& s = by_field[index];
    if (s.text == nullptr) s = cached_sql<D>(statements::update<E>({index}));
    return s;
  }
  template <class Stmt, class V>
  static void bind_set(Stmt& st, const O& org, const key_t<E>& key, const V& value) {
    const int p = Repo::bind_org_key(st, Repo::column_org(org), key);
    bind_value(st, p, value);
  }

  static const Sql& erase_sql() { return Repo::fixed().erase; }
  template <class Stmt>
  static void bind_erase(Stmt& st, const O& org, const key_t<E>& key) {
    Repo::bind_org_key(st, Repo::column_org(org), key);
  }
};

template <class Conn, class O, class E>
using batch_parts = BatchParts<E, typename Conn::dialect, Conn>;

template <class Conn, class O, class E>
class BatchInsert final : public BatchOp<Conn, O> {
 public:
  using P = batch_parts<Conn, O, E>;
  explicit BatchInsert(E row) : row_(std::move(row)) {}
  std::string describe() const override { return "insert into " + P::table().name; }
  bool pipelines() const override { return !parent_scoped<E>; }
  bool run(Conn& conn, const O& org) override {
    Repository<E, typename Conn::dialect, Conn>(conn).insert(org, row_);
    return true;
  }
  const Sql& sql() const override {
    if constexpr (pipelining_connection<Conn>) return P::insert_sql();
    else throw UsageError("tenantry: internal error: not a pipelining connection");
  }
  void bind(typename BatchOp<Conn, O>::Stmt& st, const O& org) const override {
    if constexpr (pipelining_connection<Conn>) P::bind_insert(st, org, row_);
  }
  bool read(typename BatchOp<Conn, O>::Stmt& st, bool has_row) override {
    if constexpr (pipelining_connection<Conn>) P::read_generated(st, has_row, row_);
    return true;
  }
  void keep(std::any& slot) override { slot.emplace<E>(std::move(row_)); }

 private:
  E row_;  // the batch's copy; the database's generated columns are read into it
};

template <class Conn, class O, class E>
class BatchUpdate final : public BatchOp<Conn, O> {
 public:
  using P = batch_parts<Conn, O, E>;
  explicit BatchUpdate(E row) : row_(std::move(row)) {}
  std::string describe() const override { return "update of " + P::table().name; }
  bool pipelines() const override { return !parent_scoped<E>; }
  bool run(Conn& conn, const O& org) override {
    return Repository<E, typename Conn::dialect, Conn>(conn).update(org, row_);
  }
  const Sql& sql() const override {
    if constexpr (pipelining_connection<Conn>) return P::update_sql();
    else throw UsageError("tenantry: internal error: not a pipelining connection");
  }
  void bind(typename BatchOp<Conn, O>::Stmt& st, const O& org) const override {
    if constexpr (pipelining_connection<Conn>) P::bind_update(st, org, row_);
  }
  bool read(typename BatchOp<Conn, O>::Stmt& st, bool) override {
    if constexpr (pipelining_connection<Conn>) return st.changes() > 0;
    else return false;
  }

 private:
  E row_;
};

template <class Conn, class O, class E, class M>
class BatchSet final : public BatchOp<Conn, O> {
 public:
  using P = batch_parts<Conn, O, E>;
  BatchSet(key_t<E> key, M E::*member, M value, Sql sql)
      : key_(std::move(key)), member_(member), value_(std::move(value)), sql_(sql) {}
  std::string describe() const override {
    const TableInfo& t = P::table();
    return "set of " + t.name + "." + t.columns[reflect::runtime_index_of(member_)].name;
  }
  bool pipelines() const override { return !parent_scoped<E>; }
  bool run(Conn& conn, const O& org) override {
    return Repository<E, typename Conn::dialect, Conn>(conn).set(org, key_, member_, value_);
  }
  const Sql& sql() const override { return sql_; }
  void bind(typename BatchOp<Conn, O>::Stmt& st, const O& org) const override {
    if constexpr (pipelining_connection<Conn>) P::bind_set(st, org, key_, value_);
  }
  bool read(typename BatchOp<Conn, O>::Stmt& st, bool) override {
    if constexpr (pipelining_connection<Conn>) return st.changes() > 0;
    else return false;
  }

 private:
  key_t<E> key_;
  M E::*member_;
  M value_;
  Sql sql_;
};

template <class Conn, class O, class E>
class BatchErase final : public BatchOp<Conn, O> {
 public:
  using P = batch_parts<Conn, O, E>;
  explicit BatchErase(key_t<E> key) : key_(std::move(key)) {}
  std::string describe() const override { return "erase from " + P::table().name; }
  bool pipelines() const override { return true; }
  bool run(Conn& conn, const O& org) override {
    return Repository<E, typename Conn::dialect, Conn>(conn).erase(org, key_);
  }
  const Sql& sql() const override {
    if constexpr (pipelining_connection<Conn>) return P::erase_sql();
    else throw UsageError("tenantry: internal error: not a pipelining connection");
  }
  void bind(typename BatchOp<Conn, O>::Stmt& st, const O& org) const override {
    if constexpr (pipelining_connection<Conn>) P::bind_erase(st, org, key_);
  }
  bool read(typename BatchOp<Conn, O>::Stmt& st, bool) override {
    if constexpr (pipelining_connection<Conn>) return st.changes() > 0;
    else return false;
  }

 private:
  key_t<E> key_;
};

template <class Conn, class O, class E>
class BatchPut final : public BatchOp<Conn, O> {
 public:
  using P = batch_parts<Conn, O, E>;
  BatchPut(E row, ConflictTarget<E> target) : row_(std::move(row)), target_(std::move(target)) {}
  std::string describe() const override { return "put into " + P::table().name; }
  bool pipelines() const override { return false; }  // a conflict with another org's row is read from the result
  bool run(Conn& conn, const O& org) override {
    Repository<E, typename Conn::dialect, Conn>(conn).put(org, row_, target_);
    return true;
  }
  const Sql& sql() const override { throw UsageError("tenantry: internal error: put is not pipelined"); }
  void bind(typename BatchOp<Conn, O>::Stmt&, const O&) const override {}
  bool read(typename BatchOp<Conn, O>::Stmt&, bool) override { return true; }

 private:
  E row_;
  ConflictTarget<E> target_;
};

/// Resets a statement when a batch is done with it, whatever way.
template <class Stmt>
struct BatchStatementUse {
  explicit BatchStatementUse(Stmt& s) : st(s), lease(&s) {}
  ~BatchStatementUse() { st.reset(); }
  BatchStatementUse(const BatchStatementUse&) = delete;
  BatchStatementUse& operator=(const BatchStatementUse&) = delete;
  Stmt& st;
  StatementLease lease;
};

}  // namespace detail

/// Several independent writes of one org, run together in one transaction (see the file
/// comment). Conn: sqlite::Connection, pg::Connection or Database; O: the org type (OrgId,
/// TextOrgId, IntOrgId), deduced from the org. Used by one thread, like its connection.
template <class Conn, org_id_type O>
class Batch {
 public:
  using connection_type = Conn;
  using org_type = O;

  /// A batch for `org` on `conn`. A nil org (or an invalid text org) is refused here.
  Batch(Conn& conn, const O& org) : conn_(&conn), org_(require_org(org, "a batch")) {}
  // Not movable: the statements live in the batch's own buffer.
  Batch(const Batch&) = delete;
  Batch& operator=(const Batch&) = delete;
  ~Batch() { clear(); }

  const O& org() const noexcept { return org_; }
  /// Statements added since the last run().
  std::size_t size() const noexcept { return ops_.size(); }

  /// INSERT of a copy of `row` as the batch's org's row. A nil org field takes the batch's org;
  /// another org is OrgMismatch (the statement is not added). Returns the statement's position,
  /// typed: after run(), BatchResult::row(i) is the row written, with its generated columns
  /// (`row` itself is never written to, and may end before run()).
  template <class E>
  BatchRow<E> insert(const E& row) {
    if constexpr (accepts<E>()) {
      E copy = row;
      detail::batch_parts<Conn, O, E>::adopt(*conn_, org_, copy);
      const std::size_t k = add<detail::BatchInsert<Conn, O, E>>(std::move(copy));
      has_insert_ = true;
      return BatchRow<E>(k);
    } else {
      return BatchRow<E>(0);
    }
  }

  /// UPDATE of every non-key column of the org's row with `row`'s key; run() reports whether
  /// there was one (BatchResult::changed). Another org in the row is OrgMismatch.
  template <class E>
  std::size_t update(const E& row) {
    if constexpr (accepts<E>()) {
      detail::batch_parts<Conn, O, E>::check(*conn_, org_, row);
      return add<detail::BatchUpdate<Conn, O, E>>(row);
    } else {
      return 0;
    }
  }

  /// UPDATE of one column of the org's row `key`: set(id, &ApiToken::status, TokenStatus::revoked).
  template <class E, class M, class V>
  std::size_t set(const key_t<E>& key, M E::*member, V&& value) {
    static_assert(!detail::is_org_type<M>, "tenantry: the org column cannot be changed");
    if constexpr (accepts<E>() && !detail::is_org_type<M>) {
      const std::size_t index = reflect::runtime_index_of(member);
      detail::batch_parts<Conn, O, E>::check_key(*conn_);
      detail::batch_parts<Conn, O, E>::check_settable(index);
      Sql sql{};
      if constexpr (detail::pipelining_connection<Conn>) sql = detail::batch_parts<Conn, O, E>::set_sql(index);
      return add<detail::BatchSet<Conn, O, E, M>>(key, member, M(std::forward<V>(value)), sql);
    } else {
      return 0;
    }
  }

  /// DELETE of the org's row `key`: erase<ApiToken>(id).
  template <class E>
  std::size_t erase(const key_t<E>& key) {
    if constexpr (accepts<E>()) {
      detail::batch_parts<Conn, O, E>::check_key(*conn_);
      return add<detail::BatchErase<Conn, O, E>>(key);
    } else {
      return 0;
    }
  }

  /// INSERT ... ON CONFLICT (target) DO UPDATE without reading the row back (Repository::put).
  /// A batch with a put runs one statement at a time (see the file comment).
  template <class E>
  std::size_t put(const E& row, const ConflictTarget<E>& target) {
    if constexpr (accepts<E>()) {
      detail::batch_parts<Conn, O, E>::check(*conn_, org_, row);
      return add<detail::BatchPut<Conn, O, E>>(row, target);
    } else {
      return 0;
    }
  }

  /// Runs every statement added, in order, all or nothing, and empties the batch.
  BatchResult run() {
    struct Clear {  // the batch is empty again, whatever happens
      Batch& b;
      ~Clear() { b.clear(); }
    } clear_at_end{*this};
    auto& ops = ops_;
    BatchResult out;
    out.changed_.resize(ops.size());
    if (ops.empty()) return out;
    [[maybe_unused]] const auto label = detail::label_org(*conn_, org_);
    std::size_t at = ops.size();  // the statement being bound, sent or read
    bool written = false;
    try {
      if constexpr (detail::pipelining_connection<Conn>) {
        bool pipelined = Conn::can_pipeline();
        for (const auto& op : ops) pipelined = pipelined && op->pipelines();
        if (pipelined) {
          run_pipelined(ops, out, at, written);
          keep_rows(out);
          return out;
        }
      }
      // One after the other in one transaction; each statement sets the org's context in it
      // as its single call does (once: the transaction then holds the org).
      auto tx = conn_->transaction();
      for (at = 0; at < ops.size(); ++at) out.changed_[at] = ops[at]->run(*conn_, org_);
      at = ops.size();
      tx.commit();
    } catch (Error& e) {
      if (at < ops.size()) e.set_batch_statement(at, ops.size(), ops[at]->describe(), written);
      throw;
    }
    keep_rows(out);
    return out;
  }

 private:
  using Op = detail::BatchOp<Conn, O>;

  /// Whether entity E can be part of a batch of org type O; the one error when not.
  template <class E>
  static constexpr bool accepts() {
    static_assert(takes_org<E>,
                  "tenantry: a batch runs for one org, and this entity is global (it has no org): use its repository "
                  "without an org");
    static_assert(!takes_org<E> || std::is_same_v<org_id_of<E>, O>,
                  "tenantry: this entity's org type is not the batch's (OrgId, TextOrgId, IntOrgId): a batch runs for "
                  "one org of one type");
    return takes_org<E> && std::is_same_v<org_id_of<E>, O>;
  }

  /// Constructs statement T in the batch's buffer.
  template <class T, class... A>
  std::size_t add(A&&... a) {
    void* at = arena_.allocate(sizeof(T), alignof(T));
    Op* op = ::new (at) T(std::forward<A>(a)...);
    try {
      ops_.push_back(op);
    } catch (...) {
      op->~Op();
      throw;
    }
    return ops_.size() - 1;
  }

  /// After the commit: the rows the inserts wrote move into the result.
  void keep_rows(BatchResult& out) {
    if (!has_insert_) return;
    out.rows_.resize(ops_.size());
    for (std::size_t k = 0; k < ops_.size(); ++k) ops_[k]->keep(out.rows_[k]);
  }

  void clear() noexcept {
    has_insert_ = false;
    for (Op* op : ops_) op->~Op();
    ops_.clear();
    ops_.shrink_to_fit();  // its storage is the arena's, released next
    arena_.release();
  }

  void run_pipelined(std::pmr::vector<Op*>& ops, BatchResult& out, std::size_t& at,
                     bool& written) requires detail::pipelining_connection<Conn> {
    using Stmt = typename Conn::statement;
    // Every statement prepared first (a round trip on its first use on this connection only):
    // a pipeline cannot prepare in its middle.
    // With schema per org that is done in the org's context, where the tables are: so a
    // batch's first use of a statement costs what the single call's first use does.
    std::pmr::vector<Stmt*> statements(ops.size(), &arena_);
    bool ready = true;
    for (const auto& op : ops) ready = ready && conn_->ready_for_pipeline(op->sql());
    const auto prepare = [&](bool again) {
      for (at = 0; at < ops.size(); ++at) {
        statements[at] = &conn_->prepare(ops[at]->sql());
        if (again) statements[at]->prepare_again();
        statements[at]->prepare_for_pipeline();
      }
      at = ops.size();
    };
    if (ready) prepare(false);
    else in_org_context(*conn_, org_, [&] { prepare(false); });
    // A server session that lost a statement fails the pipeline (nothing written); the
    // connection then runs it once more in a transaction of its own, every statement prepared
    // again there (Connection::run_pipelined).
    conn_->run_pipelined(
        org_, ops.size(), [&] { prepare(true); },
        [&](std::size_t k) {
          at = k;
          detail::BatchStatementUse<Stmt> use(*statements[k]);
          ops[k]->bind(use.st, org_);
          const bool queued = use.st.queue_in_pipeline();
          at = ops.size();
          return queued;
        },
        [&](std::size_t k, auto result) {
          at = k;
          detail::BatchStatementUse<Stmt> use(*statements[k]);
          const bool has_row = use.st.take_pipelined(std::move(result));
          written = true;  // only a committed batch's results are read
          out.changed_[k] = ops[k]->read(use.st, has_row);
          at = ops.size();
        });
  }

  Conn* conn_;
  O org_;
  // The statements, in a buffer of the batch's own (then in blocks the arena allocates): no
  // allocation per statement. Released by run().
  alignas(std::max_align_t) std::byte buffer_[1024];
  std::pmr::monotonic_buffer_resource arena_{buffer_, sizeof buffer_};
  std::pmr::vector<Op*> ops_{&arena_};
  bool has_insert_ = false;  // whether run() has rows to keep
};

}  // namespace tenantry
