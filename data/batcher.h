// Batches by token budget with length bucketing, over the examples a MixtureSampler picks.
//
// An example goes to the bucket of (input length, target length), each length mapped to the
// first boundary at or above it. A bucket holds as many examples as fit the budget at its
// upper lengths, rounded up to a multiple of 8 (B x (input + target) <= max_tokens), and
// becomes a batch as soon as it is full, so a batch pads only within its bucket and never
// exceeds the budget. Examples wait in their bucket until then; the batcher's state lists the
// waiting examples by reference, so a restored batcher emits the same batches.
//
// Buckets hold only (source, index) and lengths: the tokens are read when the batch is built.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/corpus_reader.h"
#include "data/sampler.h"

namespace stilts::data {

inline constexpr int64_t kPadMultiple = 8;
// The loss ignores these label positions: core's kIgnoreIndex, which data/ cannot include.
inline constexpr int32_t kLabelPad = -100;

// A batch as plain token arrays; launch/ turns it into the trainer's Batch.
struct TokenBatch {
  int64_t batch_size = 0;
  int64_t input_len = 0;           // a multiple of kPadMultiple
  int64_t target_len = 0;          // a multiple of kPadMultiple
  std::vector<int32_t> input_ids;  // [batch_size, input_len], padded with pad_id
  std::vector<int32_t> labels;     // [batch_size, target_len], padded with kLabelPad
  std::vector<std::string> ids;    // example ids
  std::vector<SampleRef> refs;     // where each row came from

  bool operator==(const TokenBatch&) const = default;
};

struct ExampleLengths {
  size_t input = 0;
  size_t target = 0;
};

// The examples of every source, by reference. Lengths are asked for every drawn example,
// tokens only for those that go into a batch.
class ExampleStore {
 public:
  virtual ~ExampleStore() = default;
  virtual std::vector<uint64_t> sizes() const = 0;
  virtual ExampleLengths lengths(SampleRef ref) const = 0;
  virtual std::vector<int32_t> input(SampleRef ref) const = 0;
  virtual std::vector<int32_t> target(SampleRef ref) const = 0;
  virtual std::string id(SampleRef ref) const = 0;
};

// Corpus files as an ExampleStore. Opening checks each against the model's vocabulary size
// and tokenizer checksum (CorpusReader::check_compatible), so ids from another tokenizer never
// reach training. HDF5: construct, use and destroy it on one thread.
class CorpusStore : public ExampleStore {
 public:
  CorpusStore(const std::vector<std::string>& paths, int64_t vocab_size,
              std::string_view tokenizer_checksum);
  std::vector<uint64_t> sizes() const override;
  ExampleLengths lengths(SampleRef ref) const override;
  std::vector<int32_t> input(SampleRef ref) const override;
  std::vector<int32_t> target(SampleRef ref) const override;
  std::string id(SampleRef ref) const override;
  // Each corpus's `task` attribute, in order.
  std::vector<std::string> tasks() const;

 private:
  std::vector<CorpusReader> readers_;
};

struct BatcherOptions {
  int64_t max_tokens = 8192;  // per batch, B x (padded input length + padded target length)
  int64_t max_input_len = 1024;
  int64_t max_target_len = 256;
  // Longer examples are cut to the maximum (as seqio's trim does, eos included) or, when
  // false, skipped. Either way they are counted.
  bool truncate = true;
  // Ascending upper bounds of the length buckets, applied to inputs and targets alike; lengths
  // above the last go to the last bucket. Empty = powers of two from 8 to the longer maximum.
  std::vector<int64_t> bucket_boundaries;
  int32_t pad_id = 0;

  // Throws std::invalid_argument naming the field, also when the longest example cannot fit
  // the budget alone.
  void validate() const;
};

struct BatcherCounts {
  uint64_t examples = 0;   // drawn from the sampler
  uint64_t truncated = 0;  // examples cut to the maximum lengths
  uint64_t refused = 0;    // examples skipped for being too long
};

// What a Loader prefetches from: the next batch and the position after it.
class BatchSource {
 public:
  virtual ~BatchSource() = default;
  virtual TokenBatch next() = 0;
  virtual nlohmann::json state() const = 0;
  virtual void restore(const nlohmann::json& state) = 0;
};

class Batcher : public BatchSource {
 public:
  // `store` must outlive the batcher. The sampler runs over store.sizes().
  Batcher(const ExampleStore& store, SamplerOptions sampler, BatcherOptions options);

  // Throws std::runtime_error when 100000 examples in a row are refused.
  TokenBatch next() override;
  // {"sampler", "pending": [[source, index]...], "counts"}
  nlohmann::json state() const override;
  void restore(const nlohmann::json& state) override;

  const BatcherCounts& counts() const { return counts_; }
  const MixtureSampler& sampler() const { return sampler_; }
  // The bucket upper bounds in use (options or the default powers of two).
  const std::vector<int64_t>& boundaries() const { return boundaries_; }

 private:
  struct Pending {
    SampleRef ref;
    ExampleLengths lengths;  // after truncation
  };
  struct Bucket {
    size_t capacity = 0;
    std::deque<Pending> examples;
  };

  size_t bucket_of(const ExampleLengths& lengths) const;
  // Files the example in its bucket, or counts it as refused; returns the bucket, or
  // buckets_.size() when refused.
  size_t admit(SampleRef ref, bool count);
  TokenBatch build(Bucket& bucket) const;

  const ExampleStore& store_;
  MixtureSampler sampler_;
  BatcherOptions options_;
  std::vector<int64_t> boundaries_;
  std::vector<Bucket> buckets_;  // boundaries_.size() squared: input bucket major
  BatcherCounts counts_;
};

// Batches over corpus files: what a Loader's factory builds on the prefetch thread. Task weights
// in `sampler` become per-corpus weights by the corpora's tasks and sizes (task_weighted).
class CorpusBatcher : public BatchSource {
 public:
  CorpusBatcher(const std::vector<std::string>& paths, int64_t vocab_size,
                std::string_view tokenizer_checksum, SamplerOptions sampler,
                BatcherOptions options);
  TokenBatch next() override { return batcher_.next(); }
  nlohmann::json state() const override { return batcher_.state(); }
  void restore(const nlohmann::json& state) override { batcher_.restore(state); }
  const Batcher& batcher() const { return batcher_; }

 private:
  CorpusStore corpora_;
  Batcher batcher_;  // after corpora_, which it refers to
};

}  // namespace stilts::data
