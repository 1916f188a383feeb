#include "data/toy_task.h"

#include <algorithm>
#include <random>
#include <stdexcept>

namespace stilts::data {

void ToyTaskOptions::validate(int64_t vocab_size) const {
  if (kind != "copy" && kind != "reverse")
    throw std::invalid_argument("--task: unknown toy task '" + kind +
                                "' (expected copy or reverse)");
  if (num_tokens < 2) throw std::invalid_argument("--toy-tokens: must be at least 2");
  if (first_token < 0 || static_cast<int64_t>(first_token) + num_tokens > vocab_size)
    throw std::invalid_argument("--toy-tokens: tokens [" + std::to_string(first_token) + ", " +
                                std::to_string(first_token + num_tokens) +
                                ") do not fit the vocabulary of " + std::to_string(vocab_size));
  if (min_length < 1 || max_length < min_length)
    throw std::invalid_argument("--toy-min-length/--toy-max-length: need 1 <= min <= max");
}

TextToTokens ToyTask::example(uint64_t index) const {
  std::seed_seq seq{static_cast<uint32_t>(options_.seed),
                    static_cast<uint32_t>(options_.seed >> 32), static_cast<uint32_t>(index),
                    static_cast<uint32_t>(index >> 32)};
  std::mt19937 gen(seq);
  // Draw with explicit arithmetic rather than std::uniform_int_distribution, whose output is
  // not specified across standard libraries.
  auto draw = [&](uint32_t n) { return static_cast<int32_t>(gen() % n); };
  const int32_t length = options_.min_length +
                         draw(static_cast<uint32_t>(options_.max_length - options_.min_length + 1));
  TextToTokens ex;
  for (int32_t i = 0; i < length; ++i)
    ex.input.push_back(options_.first_token + draw(static_cast<uint32_t>(options_.num_tokens)));
  ex.target = ex.input;
  if (options_.kind == "reverse") std::reverse(ex.target.begin(), ex.target.end());
  ex.input.push_back(options_.eos_id);
  ex.target.push_back(options_.eos_id);
  return ex;
}

}  // namespace stilts::data
