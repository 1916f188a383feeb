// A training or scoring batch as plain token arrays: the trainer and the model never see a
// data/ type (docs/DESIGN.md), so data/ and core/ stay independent.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace stilts {

inline constexpr int32_t kIgnoreIndex = -100;

struct Batch {
  int64_t batch_size = 0;
  int64_t input_len = 0;
  int64_t target_len = 0;
  std::vector<int32_t> input_ids;  // [batch_size, input_len], padded with pad (0)
  std::vector<int32_t> labels;     // [batch_size, target_len], padded with kIgnoreIndex

  int64_t target_tokens() const;  // labels that are not kIgnoreIndex
  // Throws std::invalid_argument (prefixed with `what`) on inconsistent sizes or ids outside
  // [0, vocab_size).
  void validate(int64_t vocab_size, const std::string& what) const;
};

// Builds a batch from ragged sequences, padding inputs with pad_id and labels with
// kIgnoreIndex to the longest of each (at least 1).
Batch make_batch(const std::vector<std::vector<int32_t>>& inputs,
                 const std::vector<std::vector<int32_t>>& labels, int32_t pad_id);

// T5's _shift_right: decoder inputs are the labels moved one step right after the start
// token, with ignored positions replaced by pad.
std::vector<int32_t> shift_right(const Batch& batch, int32_t decoder_start_id, int32_t pad_id);

}  // namespace stilts
