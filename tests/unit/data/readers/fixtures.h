// Paths to the hand-written XTREME fixtures.
#pragma once

#include <string>

#include "tests/unit/error_of.h"

namespace stilts::data::testing {

inline std::string fixture(const std::string& relative) {
  return std::string(STILTS_FIXTURES) + "/xtreme/" + relative;
}

// The labeled originals, laid out as their releases unpack under download/<task>/original/, and
// malformed copies under malformed/.
inline std::string originals() {
  return std::string(STILTS_FIXTURES) + "/originals";
}
inline std::string original(const std::string& relative) {
  return originals() + "/" + relative;
}

using stilts::testing::error_of;

}  // namespace stilts::data::testing
