// Built-in toy tasks for smoke tests and the learning test: copy or reverse a random token
// sequence. Example i of a task depends only on (seed, i), so any position in the stream can
// be regenerated on resume without storing data.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace stilts::data {

struct TextToTokens {
  std::vector<int32_t> input;   // ends with eos
  std::vector<int32_t> target;  // ends with eos
};

struct ToyTaskOptions {
  std::string kind = "copy";  // copy | reverse
  int32_t first_token = 3;    // after pad (0), eos (1), unk (2)
  int32_t num_tokens = 32;    // tokens drawn from [first_token, first_token + num_tokens)
  int32_t min_length = 4;
  int32_t max_length = 12;  // before eos
  int32_t eos_id = 1;
  uint64_t seed = 0;

  // Throws std::invalid_argument naming the option; vocab_size bounds the token range.
  void validate(int64_t vocab_size) const;
};

class ToyTask {
 public:
  explicit ToyTask(ToyTaskOptions options) : options_(std::move(options)) {}
  TextToTokens example(uint64_t index) const;

 private:
  ToyTaskOptions options_;
};

}  // namespace stilts::data
