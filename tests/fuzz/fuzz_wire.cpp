// libFuzzer: decoding values from untrusted bytes (src/spmdkit/runtime/wire.hpp: task and
// result messages, journal records). Property: a decode succeeds or throws spmd::Error -- no
// crash, no sanitizer report, no allocation beyond the input's size (a corrupt count must not
// make a reader allocate terabytes: libFuzzer's -malloc_limit_mb catches it).
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "spmdkit/runtime/error.hpp"
#include "spmdkit/runtime/wire.hpp"

namespace {

template <class T>
void round_trip(std::string_view bytes) {
  try {
    (void)spmd::wire::decode<T>(bytes);
  } catch (const spmd::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 6) {
    case 0: round_trip<std::string>(bytes); break;
    case 1: round_trip<std::vector<std::string>>(bytes); break;
    case 2: round_trip<std::map<std::string, std::uint64_t>>(bytes); break;
    case 3:
      round_trip<std::tuple<std::optional<std::string>, std::vector<double>, std::int32_t>>(bytes);
      break;
    case 4: round_trip<std::vector<std::vector<std::uint32_t>>>(bytes); break;
    default:
      round_trip<std::pair<std::string, std::vector<std::pair<std::uint64_t, std::string>>>>(bytes);
      break;
  }
  return 0;
}
