// Training batches from prepared corpora: a data::Loader (prefetch thread, token-budget
// batches over a seeded mixture) behind core's BatchStream, so the trainer checkpoints and
// resumes the loader's position like any other stream.
//
// Threads: the loader reads the corpora with HDF5 on its own thread while the trainer reads
// and writes checkpoints with HDF5 on the calling one. That is safe only because Debian 12's
// serial libhdf5 is built thread-safe (H5_HAVE_THREADSAFE; H5is_library_threadsafe says 1),
// which serializes the calls behind one library-wide lock (data/corpus_hdf5.h refuses to
// compile against a build without it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/trainer.h"
#include "data/batcher.h"
#include "data/loader.h"
#include "data/sampler.h"

namespace stilts::launch {

class CorpusStream : public BatchStream {
 public:
  // Opens the corpora on the loader's thread; rethrows its errors, e.g. a corpus tokenized
  // for another vocabulary size or tokenizer checksum (the message names the corpus).
  CorpusStream(std::vector<std::string> corpora, int64_t vocab_size, std::string tokenizer_checksum,
               data::SamplerOptions sampler, data::BatcherOptions batcher, size_t prefetch);

  Batch next() override;
  nlohmann::json state() const override { return loader_.state(); }
  void restore(const nlohmann::json& state) override { loader_.restore(state); }

 private:
  data::Loader loader_;
};

}  // namespace stilts::launch
