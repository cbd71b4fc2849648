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
// pop on a short per-thread array.
#pragma once

#include "tenantry/error.hpp"

#include <algorithm>
#include <cstddef>
#include <vector>

namespace tenantry {

class StatementLease {
 public:
  [[gnu::always_inline]] explicit StatementLease(const void* statement) : s_(statement) { acquire(s_); }
  [[gnu::always_inline]] ~StatementLease() { release(s_); }
  StatementLease(const StatementLease&) = delete;
  StatementLease& operator=(const StatementLease&) = delete;

  /// The two halves, for holders that move (the repository's statement runner). Inline: every
  /// statement takes a lease, and the usual case is a short scan and a store.
  [[gnu::always_inline]] static void acquire(const void* s) {
    Held& h = held;
    for (std::size_t k = 0; k < h.size; ++k)
      if (h.items[k] == s) [[unlikely]]
        refuse();
    if (h.size == Held::capacity || h.spilled != 0) [[unlikely]]
      return acquire_more(s);
    h.items[h.size++] = s;
  }
  [[gnu::always_inline]] static void release(const void* s) noexcept {
    Held& h = held;
    // Leases end in the reverse order they began, so the last one is the usual match.
    if (h.size > 0 && h.items[h.size - 1] == s) [[likely]] {
      --h.size;
      return;
    }
    release_more(s);
  }

 private:
  // Held statements, at most once each (a second lease is refused), so the order does not
  // matter. A fixed array in a constant-initialised thread_local: no allocation, no lazy
  // initialisation check per use; nesting deeper than its capacity goes on in a vector.
  struct Held {
    static constexpr std::size_t capacity = 16;
    const void* items[capacity];
    std::size_t size;
    std::size_t spilled;  // how many more() holds
  };
  static inline thread_local Held held{};

  static std::vector<const void*>& more() {
    thread_local std::vector<const void*> rest;
    return rest;
  }
  [[noreturn, gnu::cold, gnu::noinline]] static void refuse() {
    throw UsageError(
        "tenantry: this statement is still being read (a call with the same SQL on the same connection from inside "
        "for_each_row): finish the loop first, or use another connection");
  }
  [[gnu::noinline]] static void acquire_more(const void* s) {
    auto& rest = more();
    if (std::find(rest.begin(), rest.end(), s) != rest.end()) refuse();
    Held& h = held;
    if (h.size < Held::capacity) {
      h.items[h.size++] = s;
      return;
    }
    rest.push_back(s);
    ++h.spilled;
  }
  [[gnu::noinline]] static void release_more(const void* s) noexcept {
    Held& h = held;
    if (h.spilled != 0) {
      auto& rest = more();
      if (auto it = std::find(rest.begin(), rest.end(), s); it != rest.end()) {
        rest.erase(it);
        --h.spilled;
        return;
      }
    }
    for (std::size_t k = 0; k < h.size; ++k) {
      if (h.items[k] == s) {
        h.items[k] = h.items[--h.size];
        return;
      }
    }
  }
  const void* s_;
};

}  // namespace tenantry
