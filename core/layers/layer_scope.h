// Names a layer for the debug mode's NaN/Inf checks (kernels/debug_checks.h). The scope exists
// only while the checks are on, so a step without them builds no strings.
#pragma once

#include <optional>
#include <string>

#include "kernels/debug_checks.h"

namespace stilts {

class LayerScope {
 public:
  explicit LayerScope(const std::string& name) {
    if (ops::debug_checks()) scope_.emplace(name);
  }

 private:
  std::optional<ops::DebugScope> scope_;
};

}  // namespace stilts
