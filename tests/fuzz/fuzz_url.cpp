// libFuzzer entry for the 'url' target (targets.hpp). Built only with TENANTRY_BUILD_FUZZERS=ON.
#include "fuzz/targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return tenantry_fuzz::url(data, size);
}
