#include "data/tokenizer.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <unordered_map>

#include "data/stable_hash.h"

namespace stilts::data {
namespace {

// SentencePiece speaks std::vector<int>; token ids here are int32_t.
static_assert(std::is_same_v<int, int32_t>);

// The word-start marker U+2581 that SentencePiece puts before pieces that begin a word.
constexpr std::string_view kWordStart = "\xe2\x96\x81";

std::string extra_id_text(int n) {
  return "<extra_id_" + std::to_string(n) + ">";
}

std::string read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw std::runtime_error(path + ": cannot open");
  std::ostringstream bytes;
  bytes << file.rdbuf();
  if (file.bad()) throw std::runtime_error(path + ": read failed");
  return std::move(bytes).str();
}

std::string fnv1a_64_hex(std::string_view bytes) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(stable_hash(bytes)));
  return hex;
}

void append_varint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out += static_cast<char>((value & 0x7f) | 0x80);
    value >>= 7;
  }
  out += static_cast<char>(value);
}

// One `pieces` entry of sentencepiece.ModelProto in protobuf wire format: {piece = 1 (string),
// score = 2 (float), type = 3 (USER_DEFINED = 4)}. The Debian package ships no .proto or
// generated classes, and a repeated field appended to a serialized message parses as appended
// elements, so the sentinels can be added to the trained model's bytes directly.
std::string user_defined_piece_field(std::string_view piece) {
  std::string message;
  message += '\x0a';
  append_varint(message, piece.size());
  message += piece;
  message += '\x15';
  message.append(4, '\0');  // score 0.0f, as seqio gives its extra ids
  message += '\x18';
  append_varint(message, 4);
  std::string field;
  field += '\x0a';
  append_varint(field, message.size());
  return field + message;
}

std::string shortest(double value) {
  char buffer[32];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

std::string joined(const std::vector<std::string>& items, const char* separator) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

}  // namespace

int64_t round_up_vocab(int64_t count, int64_t multiple) {
  if (multiple < 1) throw std::invalid_argument("vocabulary multiple must be >= 1");
  return (count + multiple - 1) / multiple * multiple;
}

Tokenizer Tokenizer::load(const std::string& model_path, TokenizerOptions options) {
  if (options.vocab_multiple < 1)
    throw std::invalid_argument("tokenizer vocab_multiple must be >= 1");
  if (options.num_extra_ids < 0)
    throw std::invalid_argument("tokenizer num_extra_ids must be >= 0");
  const std::string bytes = read_file(model_path);
  auto processor = std::make_shared<sentencepiece::SentencePieceProcessor>();
  if (const auto status = processor->LoadFromSerializedProto(bytes); !status.ok())
    throw std::runtime_error(model_path + ": not a SentencePiece model (" + status.ToString() +
                             ")");

  const struct {
    const char* name;
    int32_t actual, expected;
  } specials[] = {{"pad", processor->pad_id(), options.pad_id},
                  {"eos", processor->eos_id(), options.eos_id},
                  {"unk", processor->unk_id(), options.unk_id}};
  for (const auto& s : specials)
    if (s.actual != s.expected)
      throw std::runtime_error(model_path + ": " + s.name + " id is " + std::to_string(s.actual) +
                               ", expected " + std::to_string(s.expected));

  Tokenizer t;
  t.piece_count_ = processor->GetPieceSize();
  if (options.first_sentinel_id < 0) options.first_sentinel_id = t.piece_count_ - 1;
  const int32_t last_sentinel = options.first_sentinel_id - (options.num_extra_ids - 1);
  if (options.num_extra_ids > 0 &&
      (options.first_sentinel_id >= t.piece_count_ || last_sentinel < 0))
    throw std::runtime_error(model_path + ": sentinels " + std::to_string(last_sentinel) + ".." +
                             std::to_string(options.first_sentinel_id) + " do not fit its " +
                             std::to_string(t.piece_count_) + " pieces");
  for (int n = 0; n < options.num_extra_ids; ++n) {
    const std::string& piece = processor->IdToPiece(options.first_sentinel_id - n);
    const std::string want = extra_id_text(n);
    if (piece != want && piece != std::string(kWordStart) + want)
      throw std::runtime_error(model_path + ": piece " +
                               std::to_string(options.first_sentinel_id - n) + " is '" + piece +
                               "', expected the sentinel " + want +
                               " (a model without sentinels needs num_extra_ids 0)");
  }
  t.processor_ = std::move(processor);
  t.options_ = options;
  t.checksum_ = fnv1a_64_hex(bytes);
  t.path_ = model_path;
  return t;
}

std::vector<int32_t> Tokenizer::encode(std::string_view text) const {
  std::vector<int32_t> ids;
  if (const auto status = processor_->Encode(text, &ids); !status.ok())
    throw std::runtime_error(path_ + ": encoding failed: " + status.ToString());
  return ids;
}

std::vector<int32_t> Tokenizer::encode_with_eos(std::string_view text) const {
  std::vector<int32_t> ids = encode(text);
  ids.push_back(options_.eos_id);
  return ids;
}

std::vector<std::string> Tokenizer::encode_pieces(std::string_view text) const {
  std::vector<std::string> pieces;
  if (const auto status = processor_->Encode(text, &pieces); !status.ok())
    throw std::runtime_error(path_ + ": encoding failed: " + status.ToString());
  return pieces;
}

std::string Tokenizer::decode(std::span<const int32_t> ids) const {
  const auto end = std::find(ids.begin(), ids.end(), options_.eos_id);
  const std::vector<int> kept(ids.begin(), end);
  for (int id : kept)
    if (id < 0 || id >= piece_count_)
      throw std::out_of_range("token id " + std::to_string(id) + " is outside the " +
                              std::to_string(piece_count_) + " pieces of " + path_);
  std::string text;
  if (const auto status = processor_->Decode(kept, &text); !status.ok())
    throw std::runtime_error(path_ + ": decoding failed: " + status.ToString());
  return text;
}

std::string Tokenizer::id_to_piece(int32_t id) const {
  if (id < 0 || id >= piece_count_)
    throw std::out_of_range("token id " + std::to_string(id) + " is outside the " +
                            std::to_string(piece_count_) + " pieces of " + path_);
  return processor_->IdToPiece(id);
}

int32_t Tokenizer::sentinel_id(int n) const {
  if (n < 0 || n >= options_.num_extra_ids)
    throw std::out_of_range("sentinel <extra_id_" + std::to_string(n) + "> does not exist (" +
                            std::to_string(options_.num_extra_ids) + " extra ids)");
  return options_.first_sentinel_id - n;
}

std::string train_tokenizer(const TokenizerTrainOptions& options) {
  if (options.inputs.empty()) throw std::invalid_argument("--input: no training text given");
  if (options.model_prefix.empty()) throw std::invalid_argument("--model-prefix: empty");
  if (options.num_extra_ids < 0) throw std::invalid_argument("--extra-ids: must be >= 0");
  if (options.vocab_size <= options.num_extra_ids)
    throw std::invalid_argument("--vocab-size: " + std::to_string(options.vocab_size) +
                                " leaves no room beside " + std::to_string(options.num_extra_ids) +
                                " extra ids");
  if (!(options.character_coverage > 0 && options.character_coverage <= 1))
    throw std::invalid_argument("--character-coverage: must be in (0, 1]");
  if (options.input_sentence_size < 0)
    throw std::invalid_argument("--input-sentence-size: must be >= 0");
  if (options.num_threads < 0) throw std::invalid_argument("--threads: must be >= 0");
  for (const std::string& input : options.inputs) {
    // SentencePiece takes its inputs as one comma-separated list.
    if (input.find(',') != std::string::npos)
      throw std::invalid_argument("--input: file names with commas are not supported: " + input);
    if (!std::ifstream(input)) throw std::runtime_error(input + ": cannot open");
  }

  if (options.model_type != "unigram" && options.model_type != "bpe")
    throw std::invalid_argument("--model-type: expected unigram or bpe, got '" +
                                options.model_type + "'");
  // SentencePiece allows at most 128 threads.
  const int threads =
      std::min(128, options.num_threads > 0
                        ? options.num_threads
                        : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  const int64_t learned = options.vocab_size - options.num_extra_ids;
  const std::unordered_map<std::string, std::string> spec = {
      {"input", joined(options.inputs, ",")},
      {"model_type", options.model_type},
      {"vocab_size", std::to_string(learned)},
      {"byte_fallback", "true"},
      {"character_coverage", shortest(options.character_coverage)},
      {"pad_id", "0"},
      {"eos_id", "1"},
      {"unk_id", "2"},
      {"bos_id", "-1"},
      {"input_sentence_size", std::to_string(options.input_sentence_size)},
      {"shuffle_input_sentence", "true"},
      {"num_threads", std::to_string(threads)},
      {"minloglevel", options.verbose ? "0" : "1"},
  };
  // The sentence sampler draws from SentencePiece's global generator, random unless seeded.
  sentencepiece::SetRandomGeneratorSeed(options.seed);
  std::string model;
  if (const auto status = sentencepiece::SentencePieceTrainer::Train(spec, nullptr, &model);
      !status.ok())
    throw std::runtime_error("training a tokenizer on " + joined(options.inputs, ", ") +
                             " failed: " + status.ToString() + " (SentencePiece was asked for " +
                             std::to_string(learned) + " pieces: --vocab-size " +
                             std::to_string(options.vocab_size) + " less " +
                             std::to_string(options.num_extra_ids) + " extra ids)");
  // Descending, so that <extra_id_0> is the very last piece: sentinel_id(n) = count - 1 - n.
  for (int n = options.num_extra_ids - 1; n >= 0; --n)
    model += user_defined_piece_field(std::string(kWordStart) + extra_id_text(n));

  const std::string path = options.model_prefix + ".model";
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out.write(model.data(), static_cast<std::streamsize>(model.size()));
    if (!out.flush()) throw std::runtime_error(temporary + ": cannot write");
  }
  TokenizerOptions load_options;
  load_options.num_extra_ids = options.num_extra_ids;
  Tokenizer tokenizer = [&] {
    try {
      return Tokenizer::load(temporary, load_options);
    } catch (...) {
      std::filesystem::remove(temporary);
      throw;
    }
  }();
  if (tokenizer.piece_count() != options.vocab_size) {
    std::filesystem::remove(temporary);
    throw std::runtime_error(temporary + ": has " + std::to_string(tokenizer.piece_count()) +
                             " pieces, expected --vocab-size " +
                             std::to_string(options.vocab_size));
  }
  std::filesystem::rename(temporary, path);

  const std::string vocab_path = options.model_prefix + ".vocab";
  std::ofstream vocab(vocab_path, std::ios::trunc);
  sentencepiece::SentencePieceProcessor processor;
  if (const auto status = processor.LoadFromSerializedProto(model); !status.ok())
    throw std::runtime_error(path + ": " + status.ToString());
  for (int id = 0; id < processor.GetPieceSize(); ++id)
    vocab << processor.IdToPiece(id) << '\t' << processor.GetScore(id) << '\n';
  if (!vocab.flush()) throw std::runtime_error(vocab_path + ": cannot write");
  return path;
}

}  // namespace stilts::data
