// Writes a corpus file (layout in data/corpus_format.h) one example at a time. The file
// appears under its name only when finish() has written, fsynced and renamed it, so a reader
// never sees a half-written corpus and an interrupted `stilts prepare` leaves the old one.
// A writer is used from one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "data/corpus_format.h"

namespace stilts::data {

class CorpusWriter {
 public:
  // Refuses an existing `path` unless `force`; an existing file is replaced only by finish().
  // Writes into "<path>.tmp-<pid>" until then.
  CorpusWriter(const std::string& path, const CorpusAttributes& attributes, bool force = false);
  // Without finish(), removes the temporary file: nothing of an abandoned corpus remains.
  ~CorpusWriter();
  CorpusWriter(const CorpusWriter&) = delete;
  CorpusWriter& operator=(const CorpusWriter&) = delete;

  // Token ids must lie in [0, vocab_size); a refused example (std::invalid_argument naming its
  // id) leaves the writer as it was. Memory stays bounded: full chunks go to the file as they
  // fill.
  void add(std::span<const int32_t> input, std::span<const int32_t> target, std::string_view id,
           std::string_view gold_json = {});
  // Records num_examples, closes, fsyncs and renames the file into place.
  void finish();

  int64_t size() const;
  const std::string& path() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace stilts::data
