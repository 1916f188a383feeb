#include "experiments/metrics/accuracy.h"

#include <stdexcept>

namespace stilts::experiments::metrics {

double accuracy(const std::vector<std::string>& labels,
                const std::vector<std::string>& predictions) {
  if (labels.size() != predictions.size()) {
    throw std::invalid_argument("accuracy: " + std::to_string(predictions.size()) +
                                " predictions but " + std::to_string(labels.size()) + " labels");
  }
  if (predictions.empty()) {
    throw std::invalid_argument("accuracy: no examples to score");
  }
  std::size_t correct = 0;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    correct += predictions[i] == labels[i];
  }
  return static_cast<double>(correct) / static_cast<double>(predictions.size()) * 100;
}

}  // namespace stilts::experiments::metrics
