// Accuracy as evaluate.py's accuracy() scores XNLI, PAWS-X, XCOPA and Tatoeba: the share of
// positions whose prediction string equals the label string, times 100. The official readers strip
// each line (read_label) or read XCOPA's integer `label`; the caller does that and passes strings
// (Tatoeba: the retrieved index as its decimal string).
//
// Unequal counts throw std::invalid_argument naming both (evaluate.py asserts they match); no
// examples at all throws too (the script divides by zero there). An empty prediction string is an
// ordinary wrong answer unless the label is empty as well.
#pragma once

#include <string>
#include <vector>

namespace stilts::experiments::metrics {

double accuracy(const std::vector<std::string>& labels,
                const std::vector<std::string>& predictions);

}  // namespace stilts::experiments::metrics
