// The SentencePiece tokenizer of mT5: loading a model (the real 250,100-piece mT5 model or one
// trained here), encoding and decoding, the special and sentinel ids, the number of embedding
// rows, and a checksum that ties corpora to the model they were tokenized with. Training a model
// the mT5 way (unigram, byte fallback, sentinels as the last pieces) is `train_tokenizer`.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace stilts::data {

struct TokenizerOptions {
  // The ids the model must give its special pieces; load refuses a model that disagrees. The
  // defaults are mT5's (there is no bos).
  int32_t pad_id = 0;
  int32_t eos_id = 1;
  int32_t unk_id = 2;
  // Sentinels <extra_id_0> .. <extra_id_{num_extra_ids-1}> are pieces of the model, in
  // descending ids from first_sentinel_id; -1 means the top piece (piece_count - 1), the mT5
  // rule. Load checks that each of those pieces is spelt `<extra_id_N>` (with or without the
  // leading U+2581 of a word start), so a model without sentinels is never silently misused.
  int32_t num_extra_ids = 100;
  int32_t first_sentinel_id = -1;
  // Embedding rows are the piece count rounded up to this multiple (mT5: 250,100 -> 250,112).
  int64_t vocab_multiple = 128;
};

// `count` rounded up to a multiple of `multiple` (>= 1).
int64_t round_up_vocab(int64_t count, int64_t multiple);

// Immutable after load and cheap to copy (copies share the model). Encoding and decoding are
// safe to call from several threads at once.
class Tokenizer {
 public:
  // Throws std::runtime_error naming model_path if the file cannot be read, is not a
  // SentencePiece model, or disagrees with `options` (special ids, sentinels).
  static Tokenizer load(const std::string& model_path, TokenizerOptions options = {});

  // Without eos: callers decide where sequences end (templates, span corruption). The text is
  // normalized first by the model's rule (NFKC for mT5, runs of spaces collapsed), so
  // decode(encode(s)) == s for normalized text; characters without a piece are spelt in bytes.
  std::vector<int32_t> encode(std::string_view text) const;
  std::vector<int32_t> encode_with_eos(std::string_view text) const;
  std::vector<std::string> encode_pieces(std::string_view text) const;

  // Decodes up to (not including) the first eos, since whatever a decoder emits after eos is
  // not part of the sequence; pad and other control pieces decode to nothing. Throws
  // std::out_of_range for an id outside [0, piece_count()) (e.g. an embedding padding row).
  std::string decode(std::span<const int32_t> ids) const;
  std::string id_to_piece(int32_t id) const;

  // Pieces of the SentencePiece model (250,100 for mT5).
  int64_t piece_count() const { return piece_count_; }
  // Rows of the model's embedding and lm_head (250,112 for mT5); rows past piece_count() are
  // padding and never produced by encode.
  int64_t model_vocab_size() const { return round_up_vocab(piece_count_, options_.vocab_multiple); }

  // The id of <extra_id_n>; throws std::out_of_range unless 0 <= n < num_extra_ids.
  int32_t sentinel_id(int n) const;
  int32_t num_extra_ids() const { return options_.num_extra_ids; }
  int32_t pad_id() const { return options_.pad_id; }
  int32_t eos_id() const { return options_.eos_id; }
  int32_t unk_id() const { return options_.unk_id; }

  // FNV-1a 64-bit hash of the model file's bytes as 16 lowercase hex digits. Corpus files
  // record it so that a corpus tokenized with another model is refused.
  const std::string& checksum() const { return checksum_; }
  const std::string& path() const { return path_; }

 private:
  Tokenizer() = default;

  std::shared_ptr<const sentencepiece::SentencePieceProcessor> processor_;
  TokenizerOptions options_;
  int64_t piece_count_ = 0;
  std::string checksum_;
  std::string path_;
};

struct TokenizerTrainOptions {
  std::vector<std::string> inputs;  // text files, one sentence per line
  std::string model_prefix;         // writes PREFIX.model and PREFIX.vocab
  // Pieces of the resulting model, sentinels included: SentencePiece learns
  // vocab_size - num_extra_ids pieces and the sentinels are appended on top.
  int64_t vocab_size = 32000;
  int32_t num_extra_ids = 100;
  // The share of characters that get a piece of their own; the rest are spelt in bytes (byte
  // fallback). SentencePiece's recommendation for scripts with large character sets (CJK) is
  // 0.9995; 1.0 keeps every character of a small corpus.
  double character_coverage = 0.9995;
  // Sentences sampled from the inputs (shuffled, seeded); 0 takes every sentence.
  int64_t input_sentence_size = 10'000'000;
  // 0 = every core. The model records the thread count, and the EM sums split by it, so models
  // are byte-identical for the same inputs, options and thread count.
  int num_threads = 0;
  uint32_t seed = 0;
  // "unigram" (mT5's) or "bpe". Unigram seeds its pieces with substrings shared between distinct
  // words, so a small vocabulary of few word types (the synthetic study's) never gets a whole
  // word as a piece; BPE merges by frequency and does.
  std::string model_type = "unigram";
  bool verbose = false;  // SentencePiece's progress log on stderr
};

// Trains a unigram SentencePiece model with byte fallback, pad 0, eos 1, unk 2 and no bos, whose
// last num_extra_ids pieces are `▁<extra_id_N>` with <extra_id_0> at the top, as in mT5. Writes
// PREFIX.model (under a temporary name, renamed when complete) and PREFIX.vocab (piece and score
// per line), checks that the written model loads with the mT5 ids, and returns its path. Throws
// std::invalid_argument naming a bad option and std::runtime_error naming the file that failed.
std::string train_tokenizer(const TokenizerTrainOptions& options);

}  // namespace stilts::data
