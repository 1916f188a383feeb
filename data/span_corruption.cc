#include "data/span_corruption.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace stilts::data {
namespace {

// Python's round(), which random_spans_helper uses: a half goes to the even neighbour, so
// 4.5 noise tokens (L = 30) round to 4, not 5.
int64_t round_half_even(double x) {
  const bool half = std::abs(x - std::trunc(x)) == 0.5;
  return static_cast<int64_t>(half ? 2.0 * std::round(x / 2.0) : std::round(x));
}

void check_noise_shape(double noise_density, double mean_noise_span_length) {
  if (!(noise_density > 0.0 && noise_density < 1.0))
    throw std::invalid_argument("noise_density: must be in (0, 1), got " +
                                std::to_string(noise_density));
  if (!(mean_noise_span_length >= 1.0 && std::isfinite(mean_noise_span_length)))
    throw std::invalid_argument("mean_noise_span_length: must be at least 1, got " +
                                std::to_string(mean_noise_span_length));
}

struct NoiseCounts {
  int64_t noise;  // noise tokens
  int64_t spans;  // noise spans, equal to the non-noise spans
};

// random_spans_noise_mask's clamps keep at least one noise and one non-noise token and one
// span, so every sequence of two or more tokens is corrupted.
NoiseCounts noise_counts(int64_t length, double noise_density, double mean_noise_span_length) {
  const int64_t noise = std::clamp<int64_t>(
      round_half_even(static_cast<double>(length) * noise_density), 1, length - 1);
  const int64_t spans =
      std::max<int64_t>(1, round_half_even(static_cast<double>(noise) / mean_noise_span_length));
  return {noise, spans};
}

// Rejection keeps every value equally likely; `r % n` alone would favour small values.
uint64_t uniform_below(std::mt19937_64& gen, uint64_t n) {
  const uint64_t threshold = (0 - n) % n;  // 2^64 mod n
  for (;;) {
    const uint64_t r = gen();
    if (r >= threshold) return r % n;
  }
}

std::mt19937_64 example_generator(uint64_t seed, uint64_t example_index) {
  // The tag keeps these draws apart from other streams keyed by the same (seed, index), such
  // as the toy tasks'.
  constexpr uint32_t kStreamTag = 0x5370616e;  // "Span"
  std::seed_seq seq{kStreamTag, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32),
                    static_cast<uint32_t>(example_index),
                    static_cast<uint32_t>(example_index >> 32)};
  return std::mt19937_64(seq);
}

bool is_sentinel(int32_t token, const SpanCorruptionOptions& options) {
  return token <= options.first_sentinel_id &&
         token > options.first_sentinel_id - options.max_sentinels;
}

void check_tokens(const std::vector<int32_t>& tokens, const SpanCorruptionOptions& options) {
  if (tokens.size() < 2)
    throw std::invalid_argument("span_corrupt: need at least 2 tokens (one noise, one kept), got " +
                                std::to_string(tokens.size()));
  for (size_t i = 0; i < tokens.size(); ++i)
    if (is_sentinel(tokens[i], options))
      throw std::invalid_argument("span_corrupt: token " + std::to_string(i) + " has id " +
                                  std::to_string(tokens[i]) + ", a sentinel id");
}

NoiseCounts checked_counts(int64_t length, const SpanCorruptionOptions& options) {
  const NoiseCounts c = noise_counts(length, options.noise_density, options.mean_noise_span_length);
  if (c.spans > options.max_sentinels)
    throw std::invalid_argument("span_corrupt: " + std::to_string(length) + " tokens need " +
                                std::to_string(c.spans) + " sentinels, more than max_sentinels (" +
                                std::to_string(options.max_sentinels) + ")");
  if (c.spans > length - c.noise)
    throw std::invalid_argument("span_corrupt: " + std::to_string(length) + " tokens have " +
                                std::to_string(c.spans) + " noise spans but only " +
                                std::to_string(length - c.noise) +
                                " non-noise tokens to separate them; lower noise_density");
  return c;
}

void append(std::vector<int32_t>& to, const std::vector<int32_t>& from, int64_t begin,
            int64_t count) {
  to.insert(to.end(), from.begin() + begin, from.begin() + begin + count);
}

// Runs of literal tokens around the sentinels first, first - 1, ... in that order: k
// sentinels give k + 1 runs. A token is a sentinel only where it is the next one expected.
std::vector<std::vector<int32_t>> runs_between_sentinels(const std::vector<int32_t>& body,
                                                         int32_t first_sentinel_id) {
  std::vector<std::vector<int32_t>> runs(1);
  for (int32_t token : body) {
    if (token == first_sentinel_id - static_cast<int32_t>(runs.size() - 1))
      runs.emplace_back();
    else
      runs.back().push_back(token);
  }
  return runs;
}

std::vector<int32_t> body_before_eos(const std::vector<int32_t>& seq, int32_t eos_id,
                                     const char* name) {
  if (seq.empty() || seq.back() != eos_id)
    throw std::invalid_argument(std::string("span_uncorrupt: ") + name + " must end with eos (" +
                                std::to_string(eos_id) + ")");
  return {seq.begin(), seq.end() - 1};
}

// `skip` is the run that must be empty (the last in inputs, the first in targets); every
// other run is a span and must not be.
void check_runs(const std::vector<std::vector<int32_t>>& runs, size_t skip, int32_t first,
                const char* name) {
  const auto spans = static_cast<int32_t>(runs.size() - 1);
  if (spans == 0)
    throw std::invalid_argument(std::string("span_uncorrupt: ") + name + " have no sentinel " +
                                std::to_string(first));
  for (size_t i = 0; i < runs.size(); ++i) {
    if ((i == skip) != runs[i].empty())
      throw std::invalid_argument(std::string("span_uncorrupt: ") + name +
                                  " do not alternate spans and sentinels at span " +
                                  std::to_string(i));
    for (int32_t token : runs[i])
      if (token <= first && token > first - spans)
        throw std::invalid_argument(std::string("span_uncorrupt: ") + name + " hold sentinel " +
                                    std::to_string(token) + " out of order");
  }
}

}  // namespace

void SpanCorruptionOptions::validate() const {
  check_noise_shape(noise_density, mean_noise_span_length);
  if (eos_id < 0) throw std::invalid_argument("eos_id: must be non-negative");
  if (max_sentinels < 1) throw std::invalid_argument("max_sentinels: must be at least 1");
  if (first_sentinel_id - static_cast<int64_t>(max_sentinels) + 1 < 0)
    throw std::invalid_argument("first_sentinel_id: " + std::to_string(first_sentinel_id) +
                                " leaves no room for max_sentinels (" +
                                std::to_string(max_sentinels) + ") sentinel ids counting down");
  if (is_sentinel(eos_id, *this))
    throw std::invalid_argument("eos_id: " + std::to_string(eos_id) +
                                " falls among the sentinel ids");
}

std::vector<int64_t> random_segmentation(int64_t num_items, int64_t num_segments,
                                         std::mt19937_64& gen) {
  if (num_segments < 1 || num_segments > num_items)
    throw std::invalid_argument("random_segmentation: cannot split " + std::to_string(num_items) +
                                " items into " + std::to_string(num_segments) + " segments");
  // Selection sampling (Knuth's Algorithm S) over the num_items - 1 gaps picks each set of
  // num_segments - 1 cuts with equal probability, as T5's shuffle does, in one ordered pass.
  std::vector<int64_t> lengths;
  int64_t needed = num_segments - 1;
  int64_t start = 0;
  for (int64_t gap = 1; gap < num_items && needed > 0; ++gap) {
    const auto remaining = static_cast<uint64_t>(num_items - gap);
    if (uniform_below(gen, remaining) < static_cast<uint64_t>(needed)) {
      lengths.push_back(gap - start);
      start = gap;
      --needed;
    }
  }
  lengths.push_back(num_items - start);
  return lengths;
}

SpanCorrupted span_corrupt(const std::vector<int32_t>& tokens, const SpanCorruptionOptions& options,
                           uint64_t seed, uint64_t example_index) {
  options.validate();
  check_tokens(tokens, options);
  const auto length = static_cast<int64_t>(tokens.size());
  const NoiseCounts c = checked_counts(length, options);
  std::mt19937_64 gen = example_generator(seed, example_index);
  // Noise first, as T5 draws them with seeds[0] and the non-noise with seeds[1].
  const std::vector<int64_t> noise = random_segmentation(c.noise, c.spans, gen);
  const std::vector<int64_t> kept = random_segmentation(length - c.noise, c.spans, gen);

  SpanCorrupted out;
  int64_t pos = 0;
  for (int64_t i = 0; i < c.spans; ++i) {
    const int32_t sentinel = options.first_sentinel_id - static_cast<int32_t>(i);
    append(out.inputs, tokens, pos, kept[i]);
    pos += kept[i];
    out.inputs.push_back(sentinel);
    out.targets.push_back(sentinel);
    append(out.targets, tokens, pos, noise[i]);
    pos += noise[i];
  }
  out.inputs.push_back(options.eos_id);
  out.targets.push_back(options.eos_id);
  return out;
}

SpanLengths span_corruption_lengths(int64_t inputs_length, double noise_density,
                                    double mean_noise_span_length) {
  check_noise_shape(noise_density, mean_noise_span_length);
  if (inputs_length < 3)
    throw std::invalid_argument("inputs_length: must be at least 3, got " +
                                std::to_string(inputs_length));
  // One sentinel per span on each side, plus eos.
  struct Corrupted {
    int64_t inputs, targets;
  };
  auto corrupted = [&](int64_t tokens_length) {
    const NoiseCounts c = noise_counts(tokens_length, noise_density, mean_noise_span_length);
    return Corrupted{tokens_length - c.noise + c.spans + 1, c.noise + c.spans + 1};
  };
  int64_t tokens_length = inputs_length - 1;
  while (corrupted(tokens_length + 1).inputs <= inputs_length) ++tokens_length;
  const Corrupted fit = corrupted(tokens_length);
  SpanLengths result{tokens_length, fit.targets};
  // T5's adjustment, so that at density 0.5 the targets length equals the inputs length,
  // which is likelier to be a round number.
  if (noise_density == 0.5 && fit.targets > fit.inputs) {
    --result.tokens_length;
    --result.targets_length;
  }
  return result;
}

std::vector<int32_t> span_uncorrupt(const std::vector<int32_t>& inputs,
                                    const std::vector<int32_t>& targets, int32_t first_sentinel_id,
                                    int32_t eos_id) {
  const auto kept =
      runs_between_sentinels(body_before_eos(inputs, eos_id, "inputs"), first_sentinel_id);
  const auto noise =
      runs_between_sentinels(body_before_eos(targets, eos_id, "targets"), first_sentinel_id);
  check_runs(kept, kept.size() - 1, first_sentinel_id, "inputs");
  check_runs(noise, 0, first_sentinel_id, "targets");
  if (kept.size() != noise.size())
    throw std::invalid_argument("span_uncorrupt: inputs have " + std::to_string(kept.size() - 1) +
                                " sentinels but targets have " + std::to_string(noise.size() - 1));
  std::vector<int32_t> tokens;
  for (size_t i = 0; i + 1 < kept.size(); ++i) {
    tokens.insert(tokens.end(), kept[i].begin(), kept[i].end());
    tokens.insert(tokens.end(), noise[i + 1].begin(), noise[i + 1].end());
  }
  return tokens;
}

}  // namespace stilts::data
