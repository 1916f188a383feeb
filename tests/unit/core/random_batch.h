// Random batches with ragged lengths for model tests.
#pragma once

#include <random>

#include "core/batch.h"
#include "core/config.h"

namespace stilts {

inline Batch random_batch(const ModelConfig& c, int64_t batch, int64_t input_len,
                          int64_t target_len, uint32_t seed) {
  std::mt19937 gen(seed);
  std::vector<std::vector<int32_t>> inputs, labels;
  for (int64_t b = 0; b < batch; ++b) {
    // Ragged lengths so padding masks and ignored labels are exercised.
    std::vector<int32_t> in(input_len - b % 3), out(target_len - b % 2);
    for (auto& t : in) t = 2 + static_cast<int32_t>(gen() % (c.vocab_size - 2));
    for (auto& t : out) t = 2 + static_cast<int32_t>(gen() % (c.vocab_size - 2));
    in.back() = c.eos_token_id;
    out.back() = c.eos_token_id;
    inputs.push_back(in);
    labels.push_back(out);
  }
  return make_batch(inputs, labels, c.pad_token_id);
}

// `count` random token sequences of 3 to 11 tokens, each ending with eos, for inference tests.
inline std::vector<std::vector<int32_t>> random_sequences(const ModelConfig& c, int count,
                                                          uint32_t seed) {
  std::mt19937 gen(seed);
  std::vector<std::vector<int32_t>> out;
  for (int i = 0; i < count; ++i) {
    std::vector<int32_t> ids(3 + (i * 5) % 9);
    for (auto& t : ids) t = 2 + static_cast<int32_t>(gen() % (c.vocab_size - 2));
    ids.back() = c.eos_token_id;
    out.push_back(ids);
  }
  return out;
}

}  // namespace stilts
