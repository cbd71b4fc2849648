// A throwaway directory of migration files for the migration runner's tests (SQLite, PostgreSQL
// and the bad-input catalogue alike).
#pragma once

#include <tenantry/types.hpp>

#include <catch2/catch.hpp>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

namespace testdb {

/// A fresh, empty directory under $TENANTRY_TEST_TMP (or the system's temp directory), named
/// after `tag`, the process and a counter so parallel test runs never share one; removed with
/// everything in it at scope end.
class MigrationDir {
 public:
  explicit MigrationDir(std::string_view tag = "migrations") {
    static std::atomic<unsigned> counter{0};
    namespace fs = std::filesystem;
    const char* env = std::getenv("TENANTRY_TEST_TMP");
    const fs::path base = (env != nullptr && *env != '\0') ? fs::path(env) : fs::temp_directory_path();
    path_ = base / ("tenantry-" + std::string(tag) + "-" + std::to_string(::getpid()) + "-" +
                    std::to_string(counter++) + "-" + tenantry::Uuid::random().to_string().substr(0, 8));
    fs::create_directories(path_);
  }
  ~MigrationDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  MigrationDir(const MigrationDir&) = delete;
  MigrationDir& operator=(const MigrationDir&) = delete;

  /// Writes (or overwrites) a file in the directory.
  void write(const std::string& name, const std::string& contents) const {
    std::ofstream out(path_ / name, std::ios::binary | std::ios::trunc);
    out << contents;
    REQUIRE(out.good());
  }
  void remove(const std::string& name) const { REQUIRE(std::filesystem::remove(path_ / name)); }
  std::filesystem::path file(const std::string& name) const { return path_ / name; }
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace testdb
