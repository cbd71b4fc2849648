// tenantry/driver/transaction.hpp - scoped transactions shared by the drivers.
//
//   auto tx = db.transaction();   // BEGIN (SQLite: BEGIN IMMEDIATE), or SAVEPOINT when nested
//   tokens.insert(org, token);    // statements on db: all or none of them
//   tx.commit();                  // COMMIT, or RELEASE SAVEPOINT
//
// A Transaction that is destroyed without commit() rolls back: on an exception, an early
// return, or a forgotten commit. Scopes must end in the reverse order they began; the
// connection tracks the depth so a nested scope becomes a savepoint automatically.
#pragma once

#include "tenantry/error.hpp"

#include <exception>
#include <utility>

namespace tenantry {

/// Connection must provide begin_scope(), commit_scope() and rollback_scope(), each acting on the
/// innermost open scope.
template <class Connection>
class [[nodiscard]] Transaction {
 public:
  explicit Transaction(Connection& conn) : conn_(&conn) { conn_->begin_scope(); }
  Transaction(Transaction&& other) noexcept : conn_(std::exchange(other.conn_, nullptr)) {}
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  ~Transaction() {
    if (conn_ == nullptr) return;
    try {
      conn_->rollback_scope();
    } catch (...) {
      // A destructor must not throw; a failed rollback leaves the connection marked broken by
      // the driver, and the next statement reports it.
    }
  }

  /// Makes the scope's changes permanent (or part of the enclosing scope, when nested).
  void commit() {
    if (conn_ == nullptr) throw UsageError("tenantry: transaction already committed or rolled back");
    Connection* c = std::exchange(conn_, nullptr);
    c->commit_scope();
  }

  /// Undoes the scope's changes now rather than at destruction.
  void rollback() {
    if (conn_ == nullptr) throw UsageError("tenantry: transaction already committed or rolled back");
    std::exchange(conn_, nullptr)->rollback_scope();
  }

  bool active() const noexcept { return conn_ != nullptr; }

 private:
  Connection* conn_;
};

}  // namespace tenantry
