// tenantry/statement_lease.hpp - one reader per cached statement at a time.
//
//   StatementLease lease(stmt);   // throws UsageError if stmt is already being read
//
// Connections cache one prepared statement per SQL text, so two uses of the same text share it.
// A use that begins while another is still reading rows - a repository call or a query made
// from inside a for_each_row callback, on the same connection and with the same text - would
// rebind the statement under the reader: for another org, the outer loop would go on with that
// org's rows. Every use of a cached statement therefore holds a lease for as long as it binds
// and steps, and a second lease on the same statement is refused before anything is bound.
// Leases are per thread (a connection is used by one thread at a time) and cost a push and a
// pop on a short vector.
#pragma once

#include "tenantry/error.hpp"

#include <algorithm>
#include <vector>

namespace tenantry {

class StatementLease {
 public:
  explicit StatementLease(const void* statement) : s_(statement) { acquire(s_); }
  ~StatementLease() { release(s_); }
  StatementLease(const StatementLease&) = delete;
  StatementLease& operator=(const StatementLease&) = delete;

  /// The two halves, for holders that move (the repository's statement runner).
  static void acquire(const void* s) {
    auto& held = leased();
    if (std::find(held.begin(), held.end(), s) != held.end())
      throw UsageError(
          "tenantry: this statement is still being read (a call with the same SQL on the same connection from inside "
          "for_each_row): finish the loop first, or use another connection");
    held.push_back(s);
  }
  static void release(const void* s) noexcept {
    auto& held = leased();
    if (auto it = std::find(held.rbegin(), held.rend(), s); it != held.rend()) held.erase(std::next(it).base());
  }

 private:
  static std::vector<const void*>& leased() {
    thread_local std::vector<const void*> held;
    return held;
  }
  const void* s_;
};

}  // namespace tenantry
