#include "spmdkit/runtime/failure_agreement.hpp"

#include <cstdlib>
#include <string>

namespace spmd {

std::chrono::milliseconds failure_grace() {
  if (const char* text = std::getenv("SPMD_FAILURE_GRACE_MS"); text != nullptr) {
    try {
      const long value = std::stol(text);
      if (value >= 0) return std::chrono::milliseconds(value);
    } catch (const std::exception&) {
      // fall through to the default: a bad value here must not itself break error handling
    }
  }
  return std::chrono::milliseconds(1500);
}

}  // namespace spmd
