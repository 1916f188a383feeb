#include "experiments/regimes.h"

#include <algorithm>

namespace stilts::experiments {

const std::vector<std::string>& intermediate_regimes() {
  static const std::vector<std::string> regimes = {"none", "english", "multilingual", "shuffled",
                                                   "mlm"};
  return regimes;
}

bool is_intermediate_regime(const std::string& name) {
  const auto& regimes = intermediate_regimes();
  return std::find(regimes.begin(), regimes.end(), name) != regimes.end();
}

std::string intermediate_regime_list() {
  std::string list;
  for (const std::string& regime : intermediate_regimes())
    list += (list.empty() ? "" : ", ") + regime;
  return list;
}

}  // namespace stilts::experiments
