// The corpus file: one (task, language, split) of tokenized text-to-text examples, written by
// CorpusWriter (`stilts prepare`) and read by CorpusReader. It is HDF5 so that h5py and the
// HDF5 tools can inspect it:
//
//   /                    attributes: format = "stilts-corpus", version = 1, task, lang, split
//                        (strings), vocab_size (int64), tokenizer_checksum (string), pad_id,
//                        eos_id, unk_id (int32), num_examples (int64, written last)
//   /inputs/tokens       int32, the input tokens of every example, concatenated
//   /inputs/offsets      int64, num_examples + 1: example i is tokens[offsets[i], offsets[i+1])
//   /targets/tokens      int32, the same for the targets
//   /targets/offsets
//   /ids/bytes           uint8, the UTF-8 example ids, concatenated
//   /ids/offsets
//   /gold/bytes          uint8, what scoring needs per example as UTF-8 JSON text ("" if none)
//   /gold/offsets
//
// Every column is flat values plus offsets rather than HDF5 variable-length data: filters
// compress only the heap references of variable-length data, never the bytes themselves, and
// flat arrays read back without one heap lookup per example. All datasets are chunked,
// unlimited in length (the writer appends) and compressed by shuffle + deflate.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>

namespace stilts::data {

inline constexpr const char* kCorpusFormat = "stilts-corpus";
inline constexpr int64_t kCorpusVersion = 1;

struct CorpusColumn {
  const char* group;
  const char* values;  // the dataset beside `offsets` in the group
  bool tokens;         // int32 token ids; otherwise UTF-8 bytes
};
inline constexpr CorpusColumn kCorpusInputs{"inputs", "tokens", true};
inline constexpr CorpusColumn kCorpusTargets{"targets", "tokens", true};
inline constexpr CorpusColumn kCorpusIds{"ids", "bytes", false};
inline constexpr CorpusColumn kCorpusGold{"gold", "bytes", false};
inline constexpr const char* kCorpusOffsets = "offsets";

// 64 KiB per chunk (16Ki tokens). Deflate looks back only 32 KiB, so larger chunks compress
// hardly better, while a random access decompresses a whole chunk: on 29M tokens, 256 KiB
// chunks made random reads three times slower for a file 0.4% smaller.
inline constexpr size_t kCorpusChunkBytes = size_t{64} << 10;
inline constexpr int kCorpusDeflateLevel = 4;  // h5py's default gzip level

// What the caller states about a corpus; the example count is the writer's to record.
struct CorpusAttributes {
  std::string task;   // "xnli"
  std::string lang;   // ISO 639-1 code as XTREME uses it
  std::string split;  // "train", "validation", "test"
  int64_t vocab_size = 0;
  std::string tokenizer_checksum;  // identifies the SentencePiece model that produced the ids
  int32_t pad_id = 0;
  int32_t eos_id = 1;
  int32_t unk_id = 2;

  bool operator==(const CorpusAttributes&) const = default;

  // Throws std::invalid_argument prefixed by `where`.
  void validate(const std::string& where) const {
    // Token ids are stored as int32, so ids up to vocab_size - 1 must fit.
    if (vocab_size <= 0 || vocab_size - 1 > std::numeric_limits<int32_t>::max())
      throw std::invalid_argument(where + ": vocab_size " + std::to_string(vocab_size) +
                                  " is outside [1, 2^31]");
    for (const auto& [name, id] :
         {std::pair{"pad_id", pad_id}, std::pair{"eos_id", eos_id}, std::pair{"unk_id", unk_id}})
      if (id < 0 || id >= vocab_size)
        throw std::invalid_argument(where + ": " + name + " " + std::to_string(id) +
                                    " is outside the vocabulary [0, " + std::to_string(vocab_size) +
                                    ")");
  }
};

// The position of the first token outside [0, vocab_size), or tokens.size() if there is none.
inline size_t find_token_outside_vocab(std::span<const int32_t> tokens, int64_t vocab_size) {
  for (size_t k = 0; k < tokens.size(); ++k)
    if (tokens[k] < 0 || tokens[k] >= vocab_size) return k;
  return tokens.size();
}

// The single list of root attributes, for writing and reading alike: `visit(name, field)` is
// called with a std::string, int64_t or int32_t field.
template <class Attributes, class Visit>
void for_each_corpus_attribute(Attributes& a, Visit&& visit) {
  visit("task", a.task);
  visit("lang", a.lang);
  visit("split", a.split);
  visit("vocab_size", a.vocab_size);
  visit("tokenizer_checksum", a.tokenizer_checksum);
  visit("pad_id", a.pad_id);
  visit("eos_id", a.eos_id);
  visit("unk_id", a.unk_id);
}

}  // namespace stilts::data
