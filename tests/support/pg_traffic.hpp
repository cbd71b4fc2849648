// What a piece of test code sends to PostgreSQL, read from libpq's protocol trace (PQtrace):
// the round trips and statements a call costs, counted on the wire rather than inferred.
#pragma once

#include <tenantry/postgres.hpp>

#include <catch2/catch.hpp>

#include <libpq-fe.h>

#include <cstdio>
#include <string_view>

namespace tenantry_test {

/// Round trips (the server's ReadyForQuery messages: one per sync point or simple query) and
/// statements executed (Bind and simple Query messages).
struct Traffic {
  int round_trips = 0, statements = 0;
};

/// The traffic f() causes on c. The trace is a temporary file, stopped however f() ends.
template <class F>
Traffic traffic(tenantry::pg::Connection& c, F&& f) {
  std::FILE* trace = std::tmpfile();
  REQUIRE(trace != nullptr);
  PQtrace(c.native(), trace);
  PQsetTraceFlags(c.native(), PQTRACE_SUPPRESS_TIMESTAMPS);
  const auto stop = [&] {
    PQuntrace(c.native());
    std::rewind(trace);
  };
  try {
    f();
  } catch (...) {
    stop();
    std::fclose(trace);
    throw;
  }
  stop();
  Traffic t;
  char line[4096];
  while (std::fgets(line, sizeof line, trace) != nullptr) {
    const std::string_view l(line);
    if (l.starts_with("B") && l.find("\tReadyForQuery") != std::string_view::npos) ++t.round_trips;
    if (l.starts_with("F") &&
        (l.find("\tBind\t") != std::string_view::npos || l.find("\tQuery\t") != std::string_view::npos))
      ++t.statements;
  }
  std::fclose(trace);
  return t;
}

}  // namespace tenantry_test
