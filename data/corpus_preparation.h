// Native task files -> one tokenized corpus: read with the task's reader, tokenize every example
// on all cores (or span-corrupt its text), write in the readers' order, so the same inputs
// always give the same file. `stilts prepare` and `stilts bench --what data` both run it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "data/corpus_format.h"
#include "data/readers/reader.h"
#include "data/tokenizer.h"

namespace stilts::data {

struct PreparationOptions {
  std::string task;                 // a name of the task table (data/tasks.h)
  std::vector<std::string> inputs;  // native files; one language and split in all
  std::string out;                  // corpus file
  bool force = false;               // replace an existing corpus
  ReadOptions read;                 // read.split must be set
  int64_t max_input_len = 0;        // eos included; 0 = no limit (span corruption: 512)
  int64_t max_target_len = 0;       // eos included; 0 = no limit; must be 0 for span corruption
  bool span_corruption = false;     // T5's noise on the input text instead of the task's pairs
  uint64_t seed = 0;                // of the span-corruption noise
  // Keep only the examples in_source_subset(id, keep_fraction, keep_seed) selects (data/sampler.h):
  // the same source examples in a task's every language, for the study's regimes.
  double keep_fraction = 1.0;
  uint64_t keep_seed = 0;

  // Throws std::invalid_argument naming the inconsistent option.
  void validate(const Tokenizer& tokenizer) const;
};

struct PreparationSummary {
  CorpusAttributes attributes;
  ReadSummary read;
  int64_t examples = 0;  // read from the inputs and kept (keep_fraction)
  int64_t not_kept = 0;  // read but outside the keep_fraction subset
  int64_t records = 0;   // written (span corruption: one per chunk)
  int64_t input_tokens = 0, target_tokens = 0;
  int64_t inputs_truncated = 0, targets_truncated = 0;
  int64_t chunk_tokens = 0;  // span corruption: raw tokens per chunk
  int64_t short_chunks = 0;  // span corruption: chunks under 2 tokens, dropped
  double seconds = 0;
  int threads = 0;
};

// Called from one thread with the examples tokenized so far.
using PreparationProgress = std::function<void(int64_t done, int64_t total)>;

// Validates the options, then throws std::runtime_error naming the file for bad input. An existing
// output (without force) is refused before any tokenizing.
PreparationSummary prepare_corpus(const PreparationOptions& options, const Tokenizer& tokenizer,
                                  const PreparationProgress& progress = {});

}  // namespace stilts::data
