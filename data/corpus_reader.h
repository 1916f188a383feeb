// Reads a corpus file (layout in data/corpus_format.h). Opening validates the whole layout:
// format and version, attributes, and every column's offsets (n + 1 of them, starting at 0,
// never decreasing, ending at the length of the values), so a truncated, corrupt or
// inconsistent file is refused up front with an error naming it and what is wrong.
//
// Memory and speed: the offsets are read at open (32 bytes per example); the values are read
// per example through HDF5's chunk cache, sized per dataset to hold all of it, up to
// kCorpusReaderCacheBytes. Iterating in order decompresses every chunk once (about 4 us per
// example for input and target on one core); random access beyond the cache decompresses up to
// one chunk (kCorpusChunkBytes) per example (about 130 us).
//
// Threads: one reader is used from one thread (the data loader's prefetch thread). Other
// threads may call HDF5 meanwhile (the trainer writes checkpoints), which needs HDF5's
// thread-safe build: Debian 12's is one, and corpus_hdf5.h refuses to compile against another.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "data/corpus_format.h"

namespace stilts::data {

inline constexpr size_t kCorpusReaderCacheBytes = size_t{16} << 20;

class CorpusReader {
 public:
  // Throws std::runtime_error naming `path` if the file is missing, not a corpus, or invalid.
  explicit CorpusReader(const std::string& path);
  ~CorpusReader();
  CorpusReader(CorpusReader&&) noexcept;
  CorpusReader& operator=(CorpusReader&&) noexcept;

  const std::string& path() const;
  const CorpusAttributes& attributes() const;
  size_t size() const;

  // Example i, for i < size() (std::out_of_range otherwise). A stored token outside the
  // vocabulary, or a chunk that fails to decompress, is a std::runtime_error naming the file.
  std::vector<int32_t> input(size_t i) const;
  std::vector<int32_t> target(size_t i) const;
  std::string id(size_t i) const;
  std::string gold(size_t i) const;  // JSON text, or "" when the corpus has no gold
  // Token counts without reading the tokens, for batching by length.
  size_t input_length(size_t i) const;
  size_t target_length(size_t i) const;

  // Throws std::runtime_error naming the file and both vocabulary sizes and tokenizer
  // checksums unless the corpus was tokenized for a model with these.
  void check_compatible(int64_t vocab_size, std::string_view tokenizer_checksum) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace stilts::data
