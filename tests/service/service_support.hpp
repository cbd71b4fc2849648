// Shared by the service tests (tests/service/*.cpp): temporary SQLite files, the backends every
// test runs on, and reading a whole file or a command's output (for the "nothing in clear on disk"
// checks).
#pragma once

#include "support/pg_database.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace svctest {

namespace fs = std::filesystem;

/// A database file name nobody uses yet, under $TENANTRY_TEST_TMP (or /tmp); removed with its
/// -wal/-shm/-journal companions at scope end.
class TempFile {
 public:
  explicit TempFile(std::string_view tag) {
    static std::atomic<unsigned> counter{0};
    const char* env = std::getenv("TENANTRY_TEST_TMP");
    fs::path dir = (env != nullptr && *env != '\0') ? fs::path(env) : fs::path("/tmp");
    std::error_code ec;
    fs::create_directories(dir, ec);
    path_ = dir / ("tenantry-svc-" + std::string(tag) + "-" + std::to_string(::getpid()) + "-" +
                   std::to_string(counter++) + ".db");
    remove();
  }
  ~TempFile() { remove(); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  std::string string() const { return path_.string(); }
  std::string url() const { return "sqlite:" + path_.string(); }

 private:
  void remove() const noexcept {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(path_.string() + suffix, ec);
  }
  fs::path path_;
};

/// The backends each service test runs on: a fresh SQLite file and a fresh PostgreSQL database.
struct Backend {
  std::string name;
  std::string url;
};

/// Runs f(backend) for SQLite and then PostgreSQL. Without TENANTRY_PG_URL the PostgreSQL run
/// FAILS saying how to start a server (never skipped in silence).
template <class F>
void on_each_backend(F&& f) {
  {
    TempFile file("sqlite");
    INFO("backend: sqlite");
    f(Backend{"sqlite", file.url()});
  }
  {
    INFO("backend: postgres");
    f(Backend{"postgres", tenantry_test::pg_url()});
  }
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

/// Everything a shell command prints on stdout; FAILs when it exits non-zero.
inline std::string command_output(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[65536];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = ::pclose(p);
  INFO("command: " << cmd);
  REQUIRE(status == 0);
  return out;
}

}  // namespace svctest
