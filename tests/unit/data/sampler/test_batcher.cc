// Token-budget batching with length buckets: budget, padding, bucketing, long examples, resume,
// and corpus files through CorpusStore.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "data/batcher.h"
#include "data/corpus_writer.h"
#include "tests/unit/checkpoint/test_util.h"
#include "tests/unit/data/sampler/memory_store.h"

namespace stilts::data {
namespace {

using testing::MemoryStore;

SamplerOptions sampler_options(uint64_t seed = 4) {
  SamplerOptions s;
  s.seed = seed;
  return s;
}

BatcherOptions batcher_options() {
  BatcherOptions b;
  b.max_tokens = 2048;
  b.max_input_len = 200;
  b.max_target_len = 40;
  return b;
}

// Rows hold the store's tokens cut to the maxima, then pad_id (inputs) or kLabelPad (labels).
void expect_rows(const TokenBatch& batch, const ExampleStore& store, const BatcherOptions& o) {
  ASSERT_EQ(batch.input_ids.size(), static_cast<size_t>(batch.batch_size * batch.input_len));
  ASSERT_EQ(batch.labels.size(), static_cast<size_t>(batch.batch_size * batch.target_len));
  ASSERT_EQ(batch.refs.size(), static_cast<size_t>(batch.batch_size));
  for (int64_t row = 0; row < batch.batch_size; ++row) {
    const SampleRef ref = batch.refs[static_cast<size_t>(row)];
    EXPECT_EQ(batch.ids[static_cast<size_t>(row)], store.id(ref));
    auto check = [&](std::vector<int32_t> tokens, const std::vector<int32_t>& padded, int64_t len,
                     int64_t max, int32_t pad) {
      tokens.resize(std::min<size_t>(tokens.size(), static_cast<size_t>(max)));
      for (int64_t k = 0; k < len; ++k) {
        const int32_t want =
            k < static_cast<int64_t>(tokens.size()) ? tokens[static_cast<size_t>(k)] : pad;
        ASSERT_EQ(padded[static_cast<size_t>(row * len + k)], want)
            << "row " << row << " position " << k;
      }
    };
    check(store.input(ref), batch.input_ids, batch.input_len, o.max_input_len, o.pad_id);
    check(store.target(ref), batch.labels, batch.target_len, o.max_target_len, kLabelPad);
  }
}

TEST(Batcher, RespectsTheBudgetAndPadsToMultiplesOfEight) {
  const MemoryStore store({500, 3000, 80}, 200, 40);
  const BatcherOptions o = batcher_options();
  Batcher batcher(store, sampler_options(), o);
  int64_t rows = 0;
  for (int i = 0; i < 200; ++i) {
    const TokenBatch batch = batcher.next();
    ASSERT_GE(batch.batch_size, 1);
    EXPECT_LE(batch.batch_size * (batch.input_len + batch.target_len), o.max_tokens);
    EXPECT_EQ(batch.input_len % kPadMultiple, 0);
    EXPECT_EQ(batch.target_len % kPadMultiple, 0);
    expect_rows(batch, store, o);
    rows += batch.batch_size;
  }
  // Buckets fill before they batch, so batches are far larger than one example.
  EXPECT_GT(rows, 200 * 4);
}

TEST(Batcher, GroupsSimilarLengths) {
  const MemoryStore store({5000}, 200, 40);
  BatcherOptions o = batcher_options();
  o.bucket_boundaries = {32, 64, 96, 128, 160, 200};
  Batcher batcher(store, sampler_options(), o);
  EXPECT_EQ(batcher.boundaries(), o.bucket_boundaries);
  const auto bucket = [&](size_t length) {
    return std::lower_bound(o.bucket_boundaries.begin(), o.bucket_boundaries.end(),
                            static_cast<int64_t>(length)) -
           o.bucket_boundaries.begin();
  };
  for (int i = 0; i < 100; ++i) {
    const TokenBatch batch = batcher.next();
    const ExampleLengths first = store.lengths(batch.refs[0]);
    for (const SampleRef& ref : batch.refs) {
      EXPECT_EQ(bucket(store.lengths(ref).input), bucket(first.input));
      EXPECT_EQ(bucket(store.lengths(ref).target), bucket(first.target));
    }
  }
}

TEST(Batcher, DefaultBucketsArePowersOfTwo) {
  const MemoryStore store({100}, 200, 40);
  const Batcher batcher(store, sampler_options(), batcher_options());
  EXPECT_EQ(batcher.boundaries(), (std::vector<int64_t>{8, 16, 32, 64, 128, 256}));
}

// The draws of a second sampler with the same options tell which examples the batcher saw.
uint64_t count_long(const MemoryStore& store, const BatcherOptions& o, uint64_t draws) {
  MixtureSampler sampler(store.sizes(), sampler_options());
  uint64_t long_ones = 0;
  for (uint64_t i = 0; i < draws; ++i) {
    const ExampleLengths l = store.lengths(sampler.next());
    long_ones += l.input > static_cast<size_t>(o.max_input_len) ||
                 l.target > static_cast<size_t>(o.max_target_len);
  }
  return long_ones;
}

TEST(Batcher, TruncatesOrRefusesLongExamplesAndCountsThem) {
  const MemoryStore store({400, 900}, 300, 60);
  for (bool truncate : {true, false}) {
    BatcherOptions o = batcher_options();
    o.truncate = truncate;
    Batcher batcher(store, sampler_options(), o);
    bool saw_long = false;
    for (int i = 0; i < 100; ++i) {
      const TokenBatch batch = batcher.next();
      expect_rows(batch, store, o);
      EXPECT_LE(batch.input_len, 200);
      EXPECT_LE(batch.target_len, 40);
      for (const SampleRef& ref : batch.refs) {
        const ExampleLengths l = store.lengths(ref);
        const bool is_long = l.input > 200 || l.target > 40;
        EXPECT_TRUE(truncate || !is_long);
        saw_long = saw_long || is_long;
      }
    }
    EXPECT_EQ(saw_long, truncate);
    const BatcherCounts& c = batcher.counts();
    const uint64_t long_ones = count_long(store, o, c.examples);
    EXPECT_GT(long_ones, 0u);
    EXPECT_EQ(c.truncated, truncate ? long_ones : 0);
    EXPECT_EQ(c.refused, truncate ? 0 : long_ones);
  }
}

TEST(Batcher, StopsWhenItRefusesEveryExample) {
  struct LongStore : MemoryStore {
    using MemoryStore::MemoryStore;
    ExampleLengths lengths(SampleRef) const override { return {201, 1}; }
  };
  const LongStore store({10, 20}, 200, 40);
  BatcherOptions o = batcher_options();
  o.truncate = false;
  Batcher batcher(store, sampler_options(), o);
  EXPECT_THROW(batcher.next(), std::runtime_error);
  EXPECT_EQ(batcher.counts().refused, 100000u);
}

TEST(Batcher, ResumesTheIdenticalStream) {
  const MemoryStore store({300, 50, 2000}, 200, 40);
  SamplerOptions s = sampler_options(12);
  s.rank = 1;
  s.world = 2;
  BatcherOptions o = batcher_options();
  o.truncate = false;
  Batcher batcher(store, s, o);
  for (int i = 0; i < 7; ++i) batcher.next();
  const nlohmann::json saved = nlohmann::json::parse(batcher.state().dump());
  EXPECT_FALSE(saved["pending"].empty());
  std::vector<TokenBatch> expected;
  for (int i = 0; i < 20; ++i) expected.push_back(batcher.next());

  Batcher resumed(store, s, o);
  resumed.restore(saved);
  EXPECT_EQ(resumed.state(), saved);
  for (const TokenBatch& batch : expected) ASSERT_EQ(resumed.next(), batch);
  EXPECT_EQ(resumed.state(), batcher.state());
}

TEST(Batcher, RefusesABudgetBelowOneLongestExample) {
  const MemoryStore store({100}, 200, 40);
  BatcherOptions o = batcher_options();
  o.max_tokens = 200 + 40;  // both multiples of 8: one longest example fits exactly
  EXPECT_NO_THROW(Batcher(store, sampler_options(), o));
  o.max_tokens = 239;
  EXPECT_THROW(Batcher(store, sampler_options(), o), std::invalid_argument);
  o = batcher_options();
  o.bucket_boundaries = {64, 32};
  EXPECT_THROW(Batcher(store, sampler_options(), o), std::invalid_argument);
}

CorpusAttributes corpus_attributes(const std::string& lang, const std::string& task = "xnli") {
  CorpusAttributes a;
  a.task = task;
  a.lang = lang;
  a.split = "train";
  a.vocab_size = 1000;
  a.tokenizer_checksum = "sha256:feed";
  return a;
}

// Writes the MemoryStore's examples of one source as a corpus file.
void write_source(const std::string& path, const MemoryStore& store, size_t source,
                  const std::string& lang, const std::string& task = "xnli") {
  CorpusWriter writer(path, corpus_attributes(lang, task));
  for (uint64_t i = 0; i < store.sizes()[source]; ++i) {
    const SampleRef ref{source, i};
    writer.add(store.input(ref), store.target(ref), store.id(ref));
  }
  writer.finish();
}

TEST(CorpusStore, BatchesCorpusFilesLikeTheirContents) {
  stilts::testing::TempDir dir;
  const MemoryStore memory({60, 150}, 200, 40);
  write_source(dir / "ar.h5", memory, 0, "ar");
  write_source(dir / "sw.h5", memory, 1, "sw");
  const CorpusStore corpora({dir / "ar.h5", dir / "sw.h5"}, 1000, "sha256:feed");
  EXPECT_EQ(corpora.sizes(), memory.sizes());
  Batcher from_files(corpora, sampler_options(), batcher_options());
  Batcher from_memory(memory, sampler_options(), batcher_options());
  for (int i = 0; i < 30; ++i) ASSERT_EQ(from_files.next(), from_memory.next());
}

TEST(CorpusStore, RefusesACorpusOfAnotherTokenizer) {
  stilts::testing::TempDir dir;
  const MemoryStore memory({5}, 20, 10);
  write_source(dir / "ar.h5", memory, 0, "ar");
  EXPECT_THROW(CorpusStore({dir / "ar.h5"}, 1000, "sha256:other"), std::runtime_error);
  EXPECT_THROW(CorpusStore({dir / "ar.h5"}, 250112, "sha256:feed"), std::runtime_error);
}

TEST(CorpusBatcher, TaskWeightsFollowTheCorporasTasks) {
  stilts::testing::TempDir dir;
  const MemoryStore memory({60, 150, 90}, 200, 40);
  write_source(dir / "mnli-en.h5", memory, 0, "en", "mnli");
  write_source(dir / "squad-en.h5", memory, 1, "en", "squad");
  write_source(dir / "mnli-de.h5", memory, 2, "de", "mnli");
  const std::vector<std::string> paths{dir / "mnli-en.h5", dir / "squad-en.h5", dir / "mnli-de.h5"};
  SamplerOptions options = sampler_options();
  options.task_weights = {{"mnli", 1.0}, {"squad", 1.0}};
  const CorpusBatcher batcher(paths, 1000, "sha256:feed", options, batcher_options());
  const std::vector<double>& p = batcher.batcher().sampler().probabilities();
  ASSERT_EQ(p.size(), 3u);
  EXPECT_NEAR(p[0], 0.5 * 60 / 150, 1e-12);
  EXPECT_NEAR(p[1], 0.5, 1e-12);
  EXPECT_NEAR(p[2], 0.5 * 90 / 150, 1e-12);
  options.task_weights = {{"mnli", 1.0}};
  EXPECT_THROW(CorpusBatcher(paths, 1000, "sha256:feed", options, batcher_options()),
               std::invalid_argument);
}

}  // namespace
}  // namespace stilts::data
