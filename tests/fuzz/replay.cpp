// Runs every file of tests/fuzz/corpus/<target>/ and tests/fuzz/regressions/<target>/ through the
// fuzz targets' entry points (targets.hpp), in the ordinary builds: a fixed crash stays fixed and
// the seed corpus keeps satisfying every property without a fuzzing engine. A violated property
// aborts; an escaping exception fails. Usage: tenantry-fuzz-replay <tests/fuzz directory>.
#include "fuzz/targets.hpp"

#include <algorithm>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <vector>

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " <tests/fuzz directory>\n";
    return 2;
  }
  const fs::path root = argv[1];
  struct Target {
    const char* name;
    int (*entry)(const std::uint8_t*, std::size_t);
  };
  int failures = 0;
  for (const Target t : {Target{"url", tenantry_fuzz::url}, Target{"migrate", tenantry_fuzz::migrate},
                         Target{"values", tenantry_fuzz::values}}) {
    std::size_t corpus = 0, regressions = 0;
    for (const char* kind : {"corpus", "regressions"}) {
      const fs::path dir = root / kind / t.name;
      std::vector<fs::path> files;
      for (const auto& entry : fs::directory_iterator(dir))
        if (entry.is_regular_file() && entry.path().filename() != ".gitkeep") files.push_back(entry.path());
      std::sort(files.begin(), files.end());
      for (const fs::path& file : files) {
        std::ifstream in(file, std::ios::binary);
        const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        try {
          t.entry(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
        } catch (const std::exception& e) {
          std::cerr << "FAILED " << file.string() << ": exception escaped: " << e.what() << "\n";
          ++failures;
        }
        ++(std::string_view(kind) == "corpus" ? corpus : regressions);
      }
    }
    std::cout << t.name << ": " << corpus << " corpus and " << regressions << " regression inputs\n";
    if (corpus == 0) {
      std::cerr << "FAILED " << t.name << ": no corpus files under " << (root / "corpus" / t.name).string() << "\n";
      ++failures;
    }
  }
  return failures == 0 ? 0 : 1;
}
