#include "data/batcher.h"

#include <algorithm>
#include <stdexcept>

namespace stilts::data {
namespace {

int64_t round_up(int64_t n) {
  return std::max<int64_t>(kPadMultiple, (n + kPadMultiple - 1) / kPadMultiple * kPadMultiple);
}

void require(bool ok, const std::string& message) {
  if (!ok) throw std::invalid_argument("BatcherOptions: " + message);
}

std::vector<int32_t> cut(std::vector<int32_t> tokens, size_t length) {
  tokens.resize(std::min(tokens.size(), length));
  return tokens;
}

}  // namespace

CorpusStore::CorpusStore(const std::vector<std::string>& paths, int64_t vocab_size,
                         std::string_view tokenizer_checksum) {
  for (const std::string& path : paths) {
    readers_.emplace_back(path);
    readers_.back().check_compatible(vocab_size, tokenizer_checksum);
  }
}

std::vector<uint64_t> CorpusStore::sizes() const {
  std::vector<uint64_t> sizes;
  for (const CorpusReader& r : readers_) sizes.push_back(r.size());
  return sizes;
}

std::vector<std::string> CorpusStore::tasks() const {
  std::vector<std::string> tasks;
  for (const CorpusReader& r : readers_) tasks.push_back(r.attributes().task);
  return tasks;
}

ExampleLengths CorpusStore::lengths(SampleRef ref) const {
  const CorpusReader& r = readers_.at(ref.source);
  return {r.input_length(ref.index), r.target_length(ref.index)};
}

std::vector<int32_t> CorpusStore::input(SampleRef ref) const {
  return readers_.at(ref.source).input(ref.index);
}

std::vector<int32_t> CorpusStore::target(SampleRef ref) const {
  return readers_.at(ref.source).target(ref.index);
}

std::string CorpusStore::id(SampleRef ref) const {
  return readers_.at(ref.source).id(ref.index);
}

void BatcherOptions::validate() const {
  require(max_input_len > 0, "max_input_len must be positive");
  require(max_target_len > 0, "max_target_len must be positive");
  require(max_tokens >= round_up(max_input_len) + round_up(max_target_len),
          "max_tokens " + std::to_string(max_tokens) +
              " cannot hold one example of the maximum lengths, padded to a multiple of " +
              std::to_string(kPadMultiple));
  for (size_t i = 0; i < bucket_boundaries.size(); ++i)
    require(bucket_boundaries[i] > (i == 0 ? 0 : bucket_boundaries[i - 1]),
            "bucket_boundaries must be positive and strictly ascending");
}

Batcher::Batcher(const ExampleStore& store, SamplerOptions sampler, BatcherOptions options)
    : store_(store), sampler_(store.sizes(), std::move(sampler)), options_(std::move(options)) {
  options_.validate();
  boundaries_ = options_.bucket_boundaries;
  if (boundaries_.empty()) {
    const int64_t longest = std::max(options_.max_input_len, options_.max_target_len);
    for (int64_t b = kPadMultiple; boundaries_.empty() || boundaries_.back() < longest; b *= 2)
      boundaries_.push_back(b);
  }
  const size_t n = boundaries_.size();
  buckets_.resize(n * n);
  // The last bucket also takes every length above the last boundary.
  auto upper = [&](size_t b, int64_t max_length) {
    return round_up(b + 1 == n ? max_length : std::min(boundaries_[b], max_length));
  };
  for (size_t i = 0; i < n; ++i)
    for (size_t t = 0; t < n; ++t) {
      const int64_t width = upper(i, options_.max_input_len) + upper(t, options_.max_target_len);
      buckets_[i * n + t].capacity = static_cast<size_t>(options_.max_tokens / width);
    }
}

size_t Batcher::bucket_of(const ExampleLengths& lengths) const {
  auto index = [&](size_t length) {
    const auto it =
        std::lower_bound(boundaries_.begin(), boundaries_.end(), static_cast<int64_t>(length));
    return std::min<size_t>(static_cast<size_t>(it - boundaries_.begin()), boundaries_.size() - 1);
  };
  return index(lengths.input) * boundaries_.size() + index(lengths.target);
}

size_t Batcher::admit(SampleRef ref, bool count) {
  ExampleLengths lengths = store_.lengths(ref);
  const auto max_input = static_cast<size_t>(options_.max_input_len);
  const auto max_target = static_cast<size_t>(options_.max_target_len);
  if (lengths.input > max_input || lengths.target > max_target) {
    if (!options_.truncate) {
      if (count) ++counts_.refused;
      return buckets_.size();
    }
    if (count) ++counts_.truncated;
    lengths = {std::min(lengths.input, max_input), std::min(lengths.target, max_target)};
  }
  const size_t b = bucket_of(lengths);
  buckets_[b].examples.push_back({ref, lengths});
  return b;
}

TokenBatch Batcher::next() {
  // Without this bound, refusing every example of the mixture would hang the training loop.
  constexpr int64_t kMaxRefusedInARow = 100000;
  for (int64_t refused_in_a_row = 0;;) {
    ++counts_.examples;
    const size_t b = admit(sampler_.next(), true);
    if (b == buckets_.size()) {
      if (++refused_in_a_row == kMaxRefusedInARow)
        throw std::runtime_error("Batcher: " + std::to_string(kMaxRefusedInARow) +
                                 " examples in a row were longer than max_input_len " +
                                 std::to_string(options_.max_input_len) + " or max_target_len " +
                                 std::to_string(options_.max_target_len) +
                                 "; raise them or truncate");
      continue;
    }
    refused_in_a_row = 0;
    if (buckets_[b].examples.size() >= buckets_[b].capacity) return build(buckets_[b]);
  }
}

TokenBatch Batcher::build(Bucket& bucket) const {
  TokenBatch batch;
  batch.batch_size = static_cast<int64_t>(bucket.examples.size());
  for (const Pending& p : bucket.examples) {
    batch.input_len = std::max(batch.input_len, static_cast<int64_t>(p.lengths.input));
    batch.target_len = std::max(batch.target_len, static_cast<int64_t>(p.lengths.target));
  }
  batch.input_len = round_up(batch.input_len);
  batch.target_len = round_up(batch.target_len);
  batch.input_ids.assign(static_cast<size_t>(batch.batch_size * batch.input_len), options_.pad_id);
  batch.labels.assign(static_cast<size_t>(batch.batch_size * batch.target_len), kLabelPad);
  for (size_t row = 0; row < bucket.examples.size(); ++row) {
    const Pending& p = bucket.examples[row];
    const std::vector<int32_t> input = cut(store_.input(p.ref), p.lengths.input);
    const std::vector<int32_t> target = cut(store_.target(p.ref), p.lengths.target);
    std::copy(input.begin(), input.end(),
              batch.input_ids.begin() + static_cast<int64_t>(row) * batch.input_len);
    std::copy(target.begin(), target.end(),
              batch.labels.begin() + static_cast<int64_t>(row) * batch.target_len);
    batch.ids.push_back(store_.id(p.ref));
    batch.refs.push_back(p.ref);
  }
  bucket.examples.clear();
  return batch;
}

nlohmann::json Batcher::state() const {
  nlohmann::json pending = nlohmann::json::array();
  for (const Bucket& bucket : buckets_)
    for (const Pending& p : bucket.examples) pending.push_back({p.ref.source, p.ref.index});
  return {{"sampler", sampler_.state()},
          {"pending", pending},
          {"counts",
           {{"examples", counts_.examples},
            {"truncated", counts_.truncated},
            {"refused", counts_.refused}}}};
}

void Batcher::restore(const nlohmann::json& state) {
  sampler_.restore(state.at("sampler"));
  for (Bucket& bucket : buckets_) bucket.examples.clear();
  // Pending examples were listed bucket by bucket in arrival order, so re-filing them in list
  // order rebuilds every bucket as it was.
  for (const nlohmann::json& ref : state.at("pending"))
    admit({ref.at(0).get<size_t>(), ref.at(1).get<uint64_t>()}, false);
  const nlohmann::json& counts = state.at("counts");
  counts_ = {counts.at("examples").get<uint64_t>(), counts.at("truncated").get<uint64_t>(),
             counts.at("refused").get<uint64_t>()};
}

namespace {

SamplerOptions resolve_task_weights(const CorpusStore& corpora, SamplerOptions sampler) {
  if (sampler.task_weights.empty()) return sampler;
  sampler.weights = task_weighted(corpora.tasks(), corpora.sizes(), sampler.task_weights);
  sampler.task_weights.clear();
  return sampler;
}

}  // namespace

CorpusBatcher::CorpusBatcher(const std::vector<std::string>& paths, int64_t vocab_size,
                             std::string_view tokenizer_checksum, SamplerOptions sampler,
                             BatcherOptions options)
    : corpora_(paths, vocab_size, tokenizer_checksum),
      batcher_(corpora_, resolve_task_weights(corpora_, std::move(sampler)), std::move(options)) {}

}  // namespace stilts::data
