#include "data/corpus_preparation.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>
#include <stdexcept>

#include "data/corpus_writer.h"
#include "data/sampler.h"
#include "data/span_corruption.h"
#include "data/tasks.h"

namespace stilts::data {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Keeps the first max_length - 1 tokens and the eos, as T5's preprocessing trims before it
// appends eos. Returns whether it cut.
bool truncate(std::vector<int32_t>& tokens, int64_t max_length, int32_t eos) {
  if (max_length == 0 || static_cast<int64_t>(tokens.size()) <= max_length) return false;
  tokens.resize(static_cast<size_t>(max_length));
  tokens.back() = eos;
  return true;
}

// One example's corpus records: one for a supervised task, one per chunk of its text under
// span corruption.
struct Tokenized {
  struct Record {
    std::vector<int32_t> input;
    std::vector<int32_t> target;
  };
  std::vector<Record> records;
  bool input_truncated = false;
  bool target_truncated = false;
  int64_t short_chunks = 0;
};

struct SpanObjective {
  SpanCorruptionOptions options;
  int64_t chunk_tokens;
  uint64_t seed;
};

// T5's span-corruption pre-processing of one example's text: split into chunks of
// chunk_tokens, corrupt each. Chunk k of example i is drawn from (seed, i * 2^20 + k), so the
// corpus does not depend on the thread schedule.
void span_corrupt_example(const std::vector<int32_t>& tokens, const SpanObjective& span,
                          uint64_t example, Tokenized& out) {
  for (size_t begin = 0, k = 0; begin < tokens.size(); begin += span.chunk_tokens, ++k) {
    const size_t end = std::min(tokens.size(), begin + static_cast<size_t>(span.chunk_tokens));
    if (end - begin < 2) {
      ++out.short_chunks;
      continue;
    }
    const std::vector<int32_t> chunk(tokens.begin() + begin, tokens.begin() + end);
    SpanCorrupted corrupted = span_corrupt(chunk, span.options, span.seed, (example << 20) | k);
    out.records.push_back({std::move(corrupted.inputs), std::move(corrupted.targets)});
  }
}

std::optional<SpanObjective> span_objective(const PreparationOptions& options,
                                            const Tokenizer& tokenizer) {
  if (!options.span_corruption) return std::nullopt;
  SpanObjective o;
  o.options.eos_id = tokenizer.eos_id();
  o.options.first_sentinel_id = tokenizer.sentinel_id(0);
  o.options.max_sentinels = tokenizer.num_extra_ids();
  o.options.validate();
  // 512 is mT5's fine-tuning input length; pre-training used 1024.
  o.chunk_tokens =
      span_corruption_lengths(options.max_input_len ? options.max_input_len : 512,
                              o.options.noise_density, o.options.mean_noise_span_length)
          .tokens_length;
  o.seed = options.seed;
  return o;
}

}  // namespace

void PreparationOptions::validate(const Tokenizer& tokenizer) const {
  if (task.empty() || inputs.empty() || out.empty())
    throw std::invalid_argument("corpus preparation needs a task, inputs and an output");
  if (max_input_len < 0 || max_target_len < 0)
    throw std::invalid_argument("maximum lengths must be >= 0 (0 = no limit)");
  if (span_corruption && max_target_len != 0)
    throw std::invalid_argument(
        "the maximum target length must be 0: span corruption sets the target length itself");
  if (!(keep_fraction > 0 && keep_fraction <= 1))
    throw std::invalid_argument("the kept fraction (--keep-fraction) must be in (0, 1], got " +
                                std::to_string(keep_fraction));
  if (span_corruption && tokenizer.num_extra_ids() == 0)
    throw std::invalid_argument("span corruption needs a tokenizer with sentinels");
}

PreparationSummary prepare_corpus(const PreparationOptions& options, const Tokenizer& tokenizer,
                                  const PreparationProgress& progress) {
  options.validate(tokenizer);
  const Clock::time_point start = Clock::now();
  const std::optional<SpanObjective> span = span_objective(options, tokenizer);
  PreparationSummary summary;
  summary.chunk_tokens = span ? span->chunk_tokens : 0;

  std::vector<Example> examples;
  for (const std::string& input : options.inputs) {
    std::vector<Example> read = read_task(options.task, input, options.read, summary.read);
    examples.insert(examples.end(), std::make_move_iterator(read.begin()),
                    std::make_move_iterator(read.end()));
  }
  if (options.keep_fraction < 1) {
    const size_t read = examples.size();
    std::erase_if(examples, [&](const Example& e) {
      return !in_source_subset(e.id, options.keep_fraction, options.keep_seed);
    });
    summary.not_kept = static_cast<int64_t>(read - examples.size());
    if (examples.empty() && read > 0)
      throw std::runtime_error("none of the " + std::to_string(read) + " examples of " +
                               options.inputs.front() + " is in the kept fraction " +
                               std::to_string(options.keep_fraction) + " (--keep-fraction)");
  }
  if (examples.empty())
    throw std::runtime_error("no examples in " + options.inputs.front() +
                             (options.inputs.size() > 1 ? " and the other inputs" : "") +
                             (summary.read.skipped ? " (every record was skipped)" : ""));
  const std::string& language = examples.front().language;
  for (const Example& example : examples)
    if (example.language != language)
      throw std::runtime_error("example '" + example.id + "' is in '" + example.language +
                               "' but '" + examples.front().id + "' in '" + language +
                               "': a corpus holds one language (prepare each language apart)");

  CorpusAttributes& attributes = summary.attributes;
  attributes.task = options.task;
  attributes.lang = language;
  attributes.split = options.read.split;
  attributes.vocab_size = tokenizer.model_vocab_size();
  attributes.tokenizer_checksum = tokenizer.checksum();
  attributes.pad_id = tokenizer.pad_id();
  attributes.eos_id = tokenizer.eos_id();
  attributes.unk_id = tokenizer.unk_id();
  // Opened before tokenizing, so an existing output (without force) fails before the work.
  CorpusWriter writer(options.out, attributes, options.force);

  const int64_t total = static_cast<int64_t>(examples.size());
  std::vector<Tokenized> tokenized(examples.size());
  std::atomic<int64_t> done{0};
  // Results go to their example's slot, so the order of the corpus does not depend on the
  // schedule. Only thread 0 reports progress, which keeps the callback on one thread.
#pragma omp parallel
  {
#pragma omp for schedule(dynamic, 64)
    for (int64_t i = 0; i < total; ++i) {
      const Example& example = examples[static_cast<size_t>(i)];
      Tokenized& t = tokenized[static_cast<size_t>(i)];
      if (span) {
        span_corrupt_example(tokenizer.encode(example.input), *span, static_cast<uint64_t>(i), t);
      } else {
        Tokenized::Record r{tokenizer.encode_with_eos(example.input),
                            tokenizer.encode_with_eos(example.target)};
        t.input_truncated = truncate(r.input, options.max_input_len, tokenizer.eos_id());
        t.target_truncated = truncate(r.target, options.max_target_len, tokenizer.eos_id());
        t.records.push_back(std::move(r));
      }
      const int64_t now_done = done.fetch_add(1, std::memory_order_relaxed) + 1;
      if (progress && omp_get_thread_num() == 0) progress(now_done, total);
    }
#pragma omp single
    summary.threads = omp_get_num_threads();
  }
  if (progress) progress(total, total);

  for (size_t i = 0; i < examples.size(); ++i) {
    const Tokenized& t = tokenized[i];
    const nlohmann::json& gold = examples[i].gold;
    for (size_t k = 0; k < t.records.size(); ++k) {
      const Tokenized::Record& r = t.records[k];
      const std::string id = span ? examples[i].id + "-c" + std::to_string(k) : examples[i].id;
      writer.add(r.input, r.target, id, gold.empty() ? std::string() : gold.dump());
      summary.input_tokens += static_cast<int64_t>(r.input.size());
      summary.target_tokens += static_cast<int64_t>(r.target.size());
    }
    summary.records += static_cast<int64_t>(t.records.size());
    summary.inputs_truncated += t.input_truncated;
    summary.targets_truncated += t.target_truncated;
    summary.short_chunks += t.short_chunks;
  }
  writer.finish();
  summary.examples = total;
  summary.seconds = seconds_since(start);
  return summary;
}

}  // namespace stilts::data
