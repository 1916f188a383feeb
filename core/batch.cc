#include "core/batch.h"

#include <algorithm>
#include <stdexcept>

namespace stilts {

int64_t Batch::target_tokens() const {
  return std::count_if(labels.begin(), labels.end(), [](int32_t t) { return t != kIgnoreIndex; });
}

void Batch::validate(int64_t vocab_size, const std::string& what) const {
  if (batch_size <= 0 || input_len <= 0 || target_len <= 0)
    throw std::invalid_argument(what + ": empty batch");
  if (static_cast<int64_t>(input_ids.size()) != batch_size * input_len ||
      static_cast<int64_t>(labels.size()) != batch_size * target_len)
    throw std::invalid_argument(what + ": token arrays do not match the batch shape");
  for (size_t i = 0; i < input_ids.size(); ++i)
    if (input_ids[i] < 0 || input_ids[i] >= vocab_size)
      throw std::invalid_argument(what + ": input token " + std::to_string(input_ids[i]) +
                                  " of example " + std::to_string(i / input_len) +
                                  " is outside the vocabulary [0, " + std::to_string(vocab_size) +
                                  ")");
  for (size_t i = 0; i < labels.size(); ++i)
    if (labels[i] != kIgnoreIndex && (labels[i] < 0 || labels[i] >= vocab_size))
      throw std::invalid_argument(what + ": label " + std::to_string(labels[i]) + " of example " +
                                  std::to_string(i / target_len) +
                                  " is outside the vocabulary [0, " + std::to_string(vocab_size) +
                                  ")");
  if (target_tokens() == 0) throw std::invalid_argument(what + ": every label is ignored");
}

Batch make_batch(const std::vector<std::vector<int32_t>>& inputs,
                 const std::vector<std::vector<int32_t>>& labels, int32_t pad_id) {
  if (inputs.size() != labels.size())
    throw std::invalid_argument(std::to_string(inputs.size()) + " input sequences but " +
                                std::to_string(labels.size()) + " label sequences");
  Batch b;
  b.batch_size = static_cast<int64_t>(inputs.size());
  b.input_len = 1;
  b.target_len = 1;
  for (size_t i = 0; i < inputs.size(); ++i) {
    b.input_len = std::max<int64_t>(b.input_len, static_cast<int64_t>(inputs[i].size()));
    b.target_len = std::max<int64_t>(b.target_len, static_cast<int64_t>(labels[i].size()));
  }
  b.input_ids.assign(b.batch_size * b.input_len, pad_id);
  b.labels.assign(b.batch_size * b.target_len, kIgnoreIndex);
  for (size_t i = 0; i < inputs.size(); ++i) {
    std::copy(inputs[i].begin(), inputs[i].end(), b.input_ids.begin() + i * b.input_len);
    std::copy(labels[i].begin(), labels[i].end(), b.labels.begin() + i * b.target_len);
  }
  return b;
}

std::vector<int32_t> shift_right(const Batch& batch, int32_t decoder_start_id, int32_t pad_id) {
  std::vector<int32_t> out(batch.labels.size());
  for (int64_t b = 0; b < batch.batch_size; ++b) {
    const int32_t* src = batch.labels.data() + b * batch.target_len;
    int32_t* dst = out.data() + b * batch.target_len;
    dst[0] = decoder_start_id;
    for (int64_t t = 1; t < batch.target_len; ++t)
      dst[t] = src[t - 1] == kIgnoreIndex ? pad_id : src[t - 1];
  }
  return out;
}

}  // namespace stilts
