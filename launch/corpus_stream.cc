#include "launch/corpus_stream.h"

#include <memory>
#include <utility>

namespace stilts::launch {

// data/ cannot include core/, so it keeps its own copy of the ignored-label value.
static_assert(data::kLabelPad == kIgnoreIndex);

CorpusStream::CorpusStream(std::vector<std::string> corpora, int64_t vocab_size,
                           std::string tokenizer_checksum, data::SamplerOptions sampler,
                           data::BatcherOptions batcher, size_t prefetch)
    : loader_(
          [corpora = std::move(corpora), vocab_size, checksum = std::move(tokenizer_checksum),
           sampler = std::move(sampler), batcher = std::move(batcher)] {
            return std::make_unique<data::CorpusBatcher>(corpora, vocab_size, checksum, sampler,
                                                         batcher);
          },
          prefetch) {}

Batch CorpusStream::next() {
  data::TokenBatch t = loader_.next();
  Batch b;
  b.batch_size = t.batch_size;
  b.input_len = t.input_len;
  b.target_len = t.target_len;
  b.input_ids = std::move(t.input_ids);
  b.labels = std::move(t.labels);
  return b;
}

}  // namespace stilts::launch
