// Paths to the hand-written XTREME fixtures.
#pragma once

#include <string>

#include "tests/unit/error_of.h"

namespace stilts::data::testing {

inline std::string fixture(const std::string& relative) {
  return std::string(STILTS_FIXTURES) + "/xtreme/" + relative;
}

using stilts::testing::error_of;

}  // namespace stilts::data::testing
