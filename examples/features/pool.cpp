// examples/features/pool.cpp - a connection pool shared by threads: each takes a lease, works on
// it, and gives it back clean (open transactions rolled back, org context cleared).
#include <tenantry/tenantry.hpp>

#include <atomic>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

struct Hit {
  tenantry::Uuid id{};
  tenantry::OrgId org_id{};
  std::string path{};
};

template <>
struct tenantry::entity<Hit> {
  static constexpr std::string_view table = "hits";
  static constexpr auto primary_key = key(&Hit::id);
};

int main() {
  using namespace tenantry;
  namespace fs = std::filesystem;
  const fs::path file = fs::temp_directory_path() / ("tenantry-example-pool-" + Uuid::random().to_string() + ".db");
  bool ok = false;
  {
    Pool<Database> pool{"sqlite:" + file.string(), {.size = 3}};
    create_tables<Hit>(*pool.acquire());
    const OrgId org = OrgId::random();
    std::vector<std::thread> threads;
    for (int t = 0; t < 6; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 20; ++i) {
          auto conn = pool.acquire();  // waits while all 3 are leased
          Repository<Hit>(*conn).insert(org, Hit{.id = Uuid::random(), .path = "/p/" + std::to_string(t)});
        }  // the lease ends: the connection goes back to the pool
      });
    }
    for (auto& th : threads) th.join();
    const std::int64_t hits = Repository<Hit>(*pool.acquire()).count(org);
    const PoolStats st = pool.stats();
    std::cout << hits << " hits through " << st.opened << " connection(s), " << st.acquired << " leases, " << st.waited
              << " waited\n";
    ok = hits == 120 && st.opened <= 3;
  }
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(file.string() + suffix);
  return ok ? 0 : 1;
}
