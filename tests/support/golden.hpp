// Golden files (tests/golden/): check_golden compares SQL text a test produced with the file of
// that name; TENANTRY_UPDATE_GOLDEN=1 rewrites the file instead (review the diff before committing).
#pragma once

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace golden {

inline std::string path_of(const std::string& name) {
  return std::string(TENANTRY_SOURCE_DIR) + "/tests/golden/" + name;
}

inline void check_golden(const std::string& name, const std::string& actual) {
  const std::string path = path_of(name);
  if (std::getenv("TENANTRY_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path, std::ios::binary) << actual;
    WARN("updated " << path);
    return;
  }
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::stringstream expected;
  expected << in.rdbuf();
  CHECK(actual == expected.str());
}

}  // namespace golden
