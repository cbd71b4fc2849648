// expect_throw<Ex>(f): the exception a test expects, returned so its message and fields can be
// checked. Shared by every test executable; needs no database.
#pragma once

#include <catch2/catch.hpp>

#include <stdexcept>
#include <utility>

namespace testdb {

/// Runs f and returns the exception of type Ex it throws. Fails the test when f returns normally;
/// an exception of another type propagates (and fails the test, showing its message).
template <class Ex, class F>
Ex expect_throw(F&& f) {
  try {
    std::forward<F>(f)();
  } catch (const Ex& e) {
    return e;
  }
  FAIL("expected an exception, but none was thrown");
  throw std::logic_error("unreachable");
}

}  // namespace testdb
