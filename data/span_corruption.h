// T5 span corruption (t5/data/preprocessors.py: random_spans_noise_mask,
// noise_span_to_unique_sentinel, nonnoise_span_to_unique_sentinel, random_spans_helper), the
// pretraining objective of mT5.
//
// A sequence of L tokens is split into alternating non-noise and noise spans, non-noise first
// and noise last. The inputs keep the non-noise tokens and replace noise span i by the sentinel
// first_sentinel_id - i; the targets keep the noise tokens and replace non-noise span i by the
// same sentinel. Both end with EOS:
//   tokens  a b c d e f g h        (noise: c d, g h)
//   inputs  a b S0 e f S1 </s>
//   targets S0 c d S1 g h </s>
//
// Rounding follows Python's round() (half to even), as random_spans_helper does.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace stilts::data {

struct SpanCorruptionOptions {
  double noise_density = 0.15;
  double mean_noise_span_length = 3.0;
  int32_t eos_id = 1;
  // The id of <extra_id_0> (250099 for mT5); callers pass it because the vocab_size - 1 - N
  // rule is configurable in the tokenizer.
  int32_t first_sentinel_id = -1;
  // How many <extra_id_N> the vocabulary holds; an example that needs more spans is an error.
  int32_t max_sentinels = 100;

  // Throws std::invalid_argument naming the field.
  void validate() const;
};

struct SpanCorrupted {
  std::vector<int32_t> inputs;   // ends with eos
  std::vector<int32_t> targets;  // ends with eos
};

// Corrupts `tokens` (no eos). The result depends only on (tokens, options, seed,
// example_index): the generator is std::mt19937_64 seeded by std::seed_seq over the seed and
// index halves, both fully specified by the standard, and every draw uses the integer
// arithmetic of random_segmentation, so all standard libraries give the same output.
// T5 needs at least one noise and one non-noise token, so fewer than 2 tokens is an error
// (std::invalid_argument), as is a token in the sentinel range, which would make the result
// ambiguous, or an example needing more than max_sentinels spans.
SpanCorrupted span_corrupt(const std::vector<int32_t>& tokens, const SpanCorruptionOptions& options,
                           uint64_t seed, uint64_t example_index);

// Splits num_items into num_segments non-empty lengths (summing to num_items), every one of
// the C(num_items - 1, num_segments - 1) splits equally likely: the distribution of T5's
// _random_segmentation, which shuffles [1] * (num_segments - 1) + [0] * (num_items -
// num_segments) and takes a cumulative sum. Needs 1 <= num_segments <= num_items.
std::vector<int64_t> random_segmentation(int64_t num_items, int64_t num_segments,
                                         std::mt19937_64& gen);

struct SpanLengths {
  int64_t tokens_length;   // raw tokens to take per example
  int64_t targets_length;  // length of the corrupted targets, eos included
};

// T5's random_spans_helper with one sentinel per span on each side: the most raw tokens whose
// corrupted inputs, eos included, fit inputs_length (512 -> 568 tokens, 114 targets; 1024 ->
// 1137, 229). It counts noise and spans as span_corrupt does (at least one of each), which
// differs from T5 only for lengths too short to corrupt. Needs inputs_length >= 3, the
// inputs of the shortest corruptible sequence.
SpanLengths span_corruption_lengths(int64_t inputs_length, double noise_density,
                                    double mean_noise_span_length);

// The original tokens (no eos) behind a span_corrupt result. Throws std::invalid_argument if
// the pair is not one span_corrupt could have produced with these ids.
std::vector<int32_t> span_uncorrupt(const std::vector<int32_t>& inputs,
                                    const std::vector<int32_t>& targets, int32_t first_sentinel_id,
                                    int32_t eos_id);

}  // namespace stilts::data
