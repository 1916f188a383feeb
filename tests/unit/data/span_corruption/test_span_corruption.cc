#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "data/span_corruption.h"

namespace stilts::data {
namespace {

constexpr int32_t kFirstSentinel = 250099;  // <extra_id_0> in mT5

SpanCorruptionOptions mt5_options() {
  SpanCorruptionOptions o;
  o.first_sentinel_id = kFirstSentinel;
  return o;
}

// Repeats values so that reconstruction cannot rely on tokens being unique.
std::vector<int32_t> make_tokens(int64_t length) {
  std::vector<int32_t> tokens;
  for (int64_t i = 0; i < length; ++i) tokens.push_back(static_cast<int32_t>(3 + (i * 7919) % 500));
  return tokens;
}

bool is_sentinel(int32_t token) {
  return token <= kFirstSentinel && token > kFirstSentinel - 100;
}

// Python's round() on the same double, computed independently of the library.
int64_t python_round(double x) {
  return static_cast<int64_t>(std::nearbyint(x));
}

// Span lengths read back from a result: the runs between sentinels, eos dropped.
std::vector<int64_t> runs(const std::vector<int32_t>& seq) {
  std::vector<int64_t> lengths;
  int64_t run = 0;
  for (size_t i = 0; i + 1 < seq.size(); ++i) {
    if (is_sentinel(seq[i])) {
      if (run > 0) lengths.push_back(run);
      run = 0;
    } else {
      ++run;
    }
  }
  if (run > 0) lengths.push_back(run);
  return lengths;
}

std::vector<int32_t> sentinels(const std::vector<int32_t>& seq) {
  std::vector<int32_t> out;
  std::copy_if(seq.begin(), seq.end(), std::back_inserter(out), is_sentinel);
  return out;
}

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(SpanCorruption, NoiseAndSpanCountsFollowT5ForEveryLength) {
  const SpanCorruptionOptions o = mt5_options();
  for (int64_t length = 2; length <= 600; ++length) {
    const SpanCorrupted r = span_corrupt(make_tokens(length), o, 7, length);
    const int64_t noise = std::clamp<int64_t>(python_round(length * 0.15), 1, length - 1);
    const int64_t spans = std::max<int64_t>(1, python_round(noise / 3.0));
    EXPECT_EQ(static_cast<int64_t>(sentinels(r.inputs).size()), spans) << length;
    EXPECT_EQ(static_cast<int64_t>(r.targets.size()), noise + spans + 1) << length;
    EXPECT_EQ(static_cast<int64_t>(r.inputs.size()), length - noise + spans + 1) << length;
  }
}

TEST(SpanCorruption, HalvesRoundToEvenAsPythonDoes) {
  const SpanCorruptionOptions o = mt5_options();
  // 10 * 0.15 = 1.5 -> 2, 30 * 0.15 = 4.5 -> 4, 50 * 0.15 = 7.5 -> 8.
  for (auto [length, noise] : std::vector<std::pair<int64_t, int64_t>>{{10, 2}, {30, 4}, {50, 8}}) {
    const SpanCorrupted r = span_corrupt(make_tokens(length), o, 0, 0);
    const auto lengths = runs(r.targets);
    int64_t total = 0;
    for (int64_t n : lengths) total += n;
    EXPECT_EQ(total, noise) << length;
  }
}

TEST(SpanCorruption, NoiseFractionAveragesTheDensity) {
  const SpanCorruptionOptions o = mt5_options();
  int64_t noise = 0;
  int64_t total = 0;
  for (uint64_t i = 0; i < 2000; ++i) {
    const int64_t length = 20 + static_cast<int64_t>((i * 2654435761u) % 581);
    const SpanCorrupted r = span_corrupt(make_tokens(length), o, 3, i);
    const auto spans = static_cast<int64_t>(sentinels(r.targets).size());
    noise += static_cast<int64_t>(r.targets.size()) - spans - 1;
    total += length;
  }
  EXPECT_NEAR(static_cast<double>(noise) / static_cast<double>(total), 0.15, 0.002);
}

TEST(SpanCorruption, SentinelsCountDownAndMatchAcrossInputsAndTargets) {
  const SpanCorruptionOptions o = mt5_options();
  for (int64_t length : {2, 3, 17, 100, 568, 1137}) {
    const SpanCorrupted r = span_corrupt(make_tokens(length), o, 11, 5);
    const auto in = sentinels(r.inputs);
    ASSERT_FALSE(in.empty());
    for (size_t i = 0; i < in.size(); ++i) EXPECT_EQ(in[i], kFirstSentinel - int32_t(i));
    EXPECT_EQ(sentinels(r.targets), in) << length;
    EXPECT_EQ(r.inputs.back(), 1);
    EXPECT_EQ(r.targets.back(), 1);
  }
}

TEST(SpanCorruption, NonNoiseComesFirstAndNoiseLast) {
  const SpanCorruptionOptions o = mt5_options();
  for (int64_t length = 2; length <= 300; ++length) {
    const std::vector<int32_t> tokens = make_tokens(length);
    const SpanCorrupted r = span_corrupt(tokens, o, 1, length);
    EXPECT_EQ(r.inputs.front(), tokens.front()) << length;
    EXPECT_EQ(r.targets.front(), kFirstSentinel) << length;
    EXPECT_TRUE(is_sentinel(r.inputs[r.inputs.size() - 2])) << length;
    EXPECT_EQ(r.targets[r.targets.size() - 2], tokens.back()) << length;
  }
}

TEST(SpanCorruption, InputsAndTargetsReconstructTheTokens) {
  const SpanCorruptionOptions o = mt5_options();
  for (int64_t length = 2; length <= 600; ++length) {
    const std::vector<int32_t> tokens = make_tokens(length);
    for (uint64_t seed = 0; seed < 4; ++seed) {
      const SpanCorrupted r = span_corrupt(tokens, o, seed, 1000 + length);
      ASSERT_EQ(span_uncorrupt(r.inputs, r.targets, kFirstSentinel, 1), tokens)
          << "length " << length << " seed " << seed;
    }
  }
}

TEST(SpanCorruption, DeterministicPerSeedAndIndexAndVariesAcrossThem) {
  const SpanCorruptionOptions o = mt5_options();
  const std::vector<int32_t> tokens = make_tokens(200);
  const SpanCorrupted a = span_corrupt(tokens, o, 42, 9);
  const SpanCorrupted b = span_corrupt(tokens, o, 42, 9);
  EXPECT_EQ(a.inputs, b.inputs);
  EXPECT_EQ(a.targets, b.targets);
  EXPECT_NE(span_corrupt(tokens, o, 43, 9).inputs, a.inputs);
  EXPECT_NE(span_corrupt(tokens, o, 42, 9 + (uint64_t{1} << 32)).inputs, a.inputs);
  std::map<std::vector<int32_t>, int> seen;
  for (uint64_t i = 0; i < 200; ++i) ++seen[span_corrupt(tokens, o, 42, i).inputs];
  EXPECT_EQ(seen.size(), 200u);
}

// Pins the stream: examples are regenerated from (seed, index) on resume, so a change here
// silently changes the data of a resumed run.
TEST(SpanCorruption, StreamIsPinned) {
  SpanCorruptionOptions o;
  o.first_sentinel_id = 199;
  std::vector<int32_t> tokens;
  for (int32_t i = 0; i < 60; ++i) tokens.push_back(10 + i);
  const SpanCorrupted r = span_corrupt(tokens, o, 1, 2);
  // Noise spans: tokens 35, 40-42 and 65-69.
  EXPECT_EQ(r.targets,
            (std::vector<int32_t>{199, 35, 198, 40, 41, 42, 197, 65, 66, 67, 68, 69, 1}));
  std::vector<int32_t> inputs(tokens.begin(), tokens.begin() + 25);
  for (int32_t t : {199, 36, 37, 38, 39, 198}) inputs.push_back(t);
  for (int32_t t = 43; t <= 64; ++t) inputs.push_back(t);
  for (int32_t t : {197, 1}) inputs.push_back(t);
  EXPECT_EQ(r.inputs, inputs);
}

TEST(SpanCorruption, SpanLengthsAverageTheMeanAndVary) {
  const SpanCorruptionOptions o = mt5_options();
  const std::vector<int32_t> tokens = make_tokens(568);  // 85 noise tokens in 28 spans
  int64_t noise_spans = 0, noise_tokens = 0, singles = 0, kept_spans = 0, kept_singles = 0;
  for (uint64_t i = 0; i < 2000; ++i) {
    const SpanCorrupted r = span_corrupt(tokens, o, 5, i);
    for (int64_t n : runs(r.targets)) {
      ++noise_spans;
      noise_tokens += n;
      singles += n == 1;
    }
    for (int64_t n : runs(r.inputs)) {
      ++kept_spans;
      kept_singles += n == 1;
    }
  }
  EXPECT_NEAR(static_cast<double>(noise_tokens) / static_cast<double>(noise_spans), 3.0, 0.05);
  // A segment of a uniform split of n items into k has length 1 with probability
  // (k - 1) / (n - 1): 27/84 for the noise, 27/482 for the 483 kept tokens.
  EXPECT_NEAR(static_cast<double>(singles) / static_cast<double>(noise_spans), 27.0 / 84.0, 0.01);
  EXPECT_NEAR(static_cast<double>(kept_singles) / static_cast<double>(kept_spans), 27.0 / 482.0,
              0.005);
}

TEST(RandomSegmentation, EverySplitIsEquallyLikely) {
  std::mt19937_64 gen(123);
  std::map<std::vector<int64_t>, int> counts;
  const int draws = 20000;
  for (int i = 0; i < draws; ++i) ++counts[random_segmentation(6, 3, gen)];
  ASSERT_EQ(counts.size(), 10u);  // C(5, 2)
  for (const auto& [split, n] : counts) {
    EXPECT_EQ(split.size(), 3u);
    EXPECT_NEAR(n, draws / 10, 250);  // about six standard deviations
  }
}

TEST(RandomSegmentation, EdgeCases) {
  std::mt19937_64 gen(1);
  EXPECT_EQ(random_segmentation(5, 1, gen), (std::vector<int64_t>{5}));
  EXPECT_EQ(random_segmentation(4, 4, gen), (std::vector<int64_t>{1, 1, 1, 1}));
  EXPECT_THROW(random_segmentation(4, 5, gen), std::invalid_argument);
  EXPECT_THROW(random_segmentation(4, 0, gen), std::invalid_argument);
}

TEST(SpanCorruptionLengths, MatchT5Anchors) {
  const SpanLengths a = span_corruption_lengths(512, 0.15, 3.0);
  EXPECT_EQ(a.tokens_length, 568);
  EXPECT_EQ(a.targets_length, 114);
  const SpanLengths b = span_corruption_lengths(1024, 0.15, 3.0);
  EXPECT_EQ(b.tokens_length, 1137);
  EXPECT_EQ(b.targets_length, 229);
}

TEST(SpanCorruptionLengths, CorruptedRawTokensFit) {
  const SpanCorruptionOptions o = mt5_options();
  for (int64_t inputs_length = 3; inputs_length <= 1100; ++inputs_length) {
    const SpanLengths s = span_corruption_lengths(inputs_length, 0.15, 3.0);
    const SpanCorrupted r = span_corrupt(make_tokens(s.tokens_length), o, 0, inputs_length);
    EXPECT_LE(static_cast<int64_t>(r.inputs.size()), inputs_length) << inputs_length;
    EXPECT_EQ(static_cast<int64_t>(r.targets.size()), s.targets_length) << inputs_length;
  }
}

TEST(SpanCorruptionLengths, RejectsBadArguments) {
  EXPECT_NE(error_of([] { span_corruption_lengths(2, 0.15, 3.0); }).find("inputs_length"),
            std::string::npos);
  EXPECT_NE(error_of([] { span_corruption_lengths(512, 0.0, 3.0); }).find("noise_density"),
            std::string::npos);
  EXPECT_NE(error_of([] { span_corruption_lengths(512, 0.15, 0.5); }).find("mean_noise_span"),
            std::string::npos);
}

TEST(SpanCorruptionOptions, ValidateNamesTheField) {
  const auto field_error = [](auto edit) {
    SpanCorruptionOptions o = mt5_options();
    edit(o);
    return error_of([&] { o.validate(); });
  };
  EXPECT_NO_THROW(mt5_options().validate());
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (double d : {0.0, 1.0, -0.1, nan})
    EXPECT_NE(field_error([&](auto& o) { o.noise_density = d; }).find("noise_density"),
              std::string::npos);
  for (double m : {0.5, 0.0, nan})
    EXPECT_NE(
        field_error([&](auto& o) { o.mean_noise_span_length = m; }).find("mean_noise_span_length"),
        std::string::npos);
  EXPECT_NE(field_error([](auto& o) { o.eos_id = -1; }).find("eos_id"), std::string::npos);
  EXPECT_NE(field_error([](auto& o) { o.max_sentinels = 0; }).find("max_sentinels"),
            std::string::npos);
  EXPECT_NE(field_error([](auto& o) { o.first_sentinel_id = -1; }).find("first_sentinel_id"),
            std::string::npos);
  EXPECT_NE(field_error([](auto& o) { o.first_sentinel_id = 50; }).find("first_sentinel_id"),
            std::string::npos);
  EXPECT_NE(field_error([](auto& o) { o.eos_id = kFirstSentinel - 99; }).find("eos_id"),
            std::string::npos);
}

TEST(SpanCorruption, RejectsUnusableInput) {
  const SpanCorruptionOptions o = mt5_options();
  EXPECT_NE(error_of([&] { span_corrupt({}, o, 0, 0); }).find("at least 2"), std::string::npos);
  EXPECT_NE(error_of([&] { span_corrupt({5}, o, 0, 0); }).find("at least 2"), std::string::npos);
  EXPECT_NE(error_of([&] {
              span_corrupt({5, kFirstSentinel - 3}, o, 0, 0);
            }).find("sentinel"),
            std::string::npos);
  SpanCorruptionOptions few = o;
  few.max_sentinels = 3;
  // 200 tokens: 30 noise tokens in 10 spans.
  const std::string e = error_of([&] { span_corrupt(make_tokens(200), few, 0, 0); });
  EXPECT_NE(e.find("10 sentinels"), std::string::npos) << e;
  SpanCorruptionOptions dense = o;
  dense.noise_density = 0.9;
  dense.mean_noise_span_length = 1.0;
  EXPECT_NE(error_of([&] { span_corrupt(make_tokens(20), dense, 0, 0); }).find("non-noise"),
            std::string::npos);
  SpanCorruptionOptions unset;
  EXPECT_NE(error_of([&] { span_corrupt(make_tokens(20), unset, 0, 0); }).find("first_sentinel"),
            std::string::npos);
}

TEST(SpanUncorrupt, RejectsInconsistentPairs) {
  const int32_t s0 = kFirstSentinel, s1 = kFirstSentinel - 1;
  const auto error = [](std::vector<int32_t> in, std::vector<int32_t> tg) {
    return error_of([&] { span_uncorrupt(in, tg, kFirstSentinel, 1); });
  };
  EXPECT_EQ(span_uncorrupt({5, s0, 6, s1, 1}, {s0, 7, s1, 8, 9, 1}, kFirstSentinel, 1),
            (std::vector<int32_t>{5, 7, 6, 8, 9}));
  EXPECT_NE(error({5, s0}, {s0, 7, 1}).find("eos"), std::string::npos);
  EXPECT_NE(error({5, s0, 1}, {s0, 7}).find("eos"), std::string::npos);
  EXPECT_NE(error({5, 1}, {s0, 7, 1}).find("no sentinel"), std::string::npos);
  EXPECT_NE(error({5, s0, 6, s1, 1}, {s0, 7, 1}).find("targets have 1"), std::string::npos);
  EXPECT_NE(error({s0, 6, 1}, {s0, 7, 1}).find("alternate"), std::string::npos);
  EXPECT_NE(error({5, s0, 6, 1}, {s0, 7, 1}).find("alternate"), std::string::npos);
  EXPECT_NE(error({5, s0, 1}, {s0, s1, 7, 1}).find("alternate"), std::string::npos);
  EXPECT_NE(error({5, s0, 6, s0, s1, 1}, {s0, 7, s1, 8, 1}).find("out of order"),
            std::string::npos);
}

}  // namespace
}  // namespace stilts::data
