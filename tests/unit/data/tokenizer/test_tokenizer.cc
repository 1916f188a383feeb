#include "data/tokenizer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <sstream>

namespace stilts::data {
namespace {

namespace fs = std::filesystem;

// Words per script; sentences are drawn from them with a fixed seed. Every word is already in
// NFKC form (no Devanagari nukta letters, no Thai SARA AM), because encoding normalizes and only
// normalized text comes back unchanged.
const std::map<std::string, std::pair<std::string, std::string>> kWords = {
    // language -> (space-separated words, separator between words in a sentence)
    {"en",
     {"the quick brown fox jumps over a lazy dog while children read old books about history "
      "science and music",
      " "}},
    {"el",
     {"η γρήγορη καφέ αλεπού πηδά πάνω από τον τεμπέλη σκύλο ενώ τα παιδιά διαβάζουν παλιά "
      "βιβλία για την ιστορία",
      " "}},
    {"ru",
     {"быстрая коричневая лиса прыгает через ленивую собаку пока дети читают старые книги об "
      "истории и музыке",
      " "}},
    {"ar",
     {"الثعلب البني السريع يقفز فوق الكلب الكسول بينما يقرأ الأطفال كتبا قديمة عن التاريخ "
      "والموسيقى",
      " "}},
    {"hi",
     {"तेज भूरी बिल्ली आलसी कुत्ते के ऊपर कूदती है जबकि बच्चे इतिहास और संगीत की पुरानी किताबें "
      "देखते हैं",
      " "}},
    {"zh", {"敏捷的 棕色 狐狸 跳过了 懒惰的 狗 孩子们 正在 读 关于 历史 和 音乐 的 旧书", ""}},
    {"th",
     {"สุนัขจิ้งจอก กระโดด ข้าม สุนัข ขี้เกียจ ขณะที่ เด็ก อ่าน หนังสือ เก่า เกี่ยวกับ "
      "ประวัติศาสตร์ และ ดนตรี",
      ""}},
};

std::vector<std::string> sentences(const std::string& lang, int count, uint32_t seed) {
  std::vector<std::string> words;
  std::istringstream in(kWords.at(lang).first);
  for (std::string w; in >> w;) words.push_back(w);
  std::mt19937 gen(seed);
  std::vector<std::string> out;
  for (int i = 0; i < count; ++i) {
    std::string s;
    for (int j = 0; j < 8; ++j)
      s += (j ? kWords.at(lang).second : "") + words[gen() % words.size()];
    out.push_back(s);
  }
  return out;
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

void expect_error(const std::function<void()>& f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one mentioning " << parts.front();
  } catch (const std::exception& e) {
    for (const std::string& part : parts)
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}

class TokenizerTest : public ::testing::Test {
 protected:
  static constexpr int64_t kVocab = 600;

  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("stilts_unit_tokenizer_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::ofstream corpus(dir_ / "corpus.txt");
    for (const auto& [lang, words] : kWords)
      for (const std::string& s : sentences(lang, 40, 1)) corpus << s << '\n';
    corpus.close();
    model_ = train_tokenizer(train_options("m"));
  }

  static void TearDownTestSuite() { fs::remove_all(dir_); }

  static TokenizerTrainOptions train_options(const std::string& name) {
    TokenizerTrainOptions o;
    o.inputs = {(dir_ / "corpus.txt").string()};
    o.model_prefix = (dir_ / name).string();
    o.vocab_size = kVocab;
    o.character_coverage = 1.0;
    return o;
  }

  static inline fs::path dir_;
  static inline std::string model_;
};

TEST(RoundUpVocab, RoundsToTheMultiple) {
  EXPECT_EQ(round_up_vocab(250100, 128), 250112);
  EXPECT_EQ(round_up_vocab(250112, 128), 250112);
  EXPECT_EQ(round_up_vocab(1, 128), 128);
  EXPECT_EQ(round_up_vocab(500, 1), 500);
  EXPECT_THROW(round_up_vocab(500, 0), std::invalid_argument);
}

TEST_F(TokenizerTest, WritesModelAndVocab) {
  EXPECT_EQ(model_, (dir_ / "m.model").string());
  EXPECT_TRUE(fs::exists(dir_ / "m.model"));
  EXPECT_FALSE(fs::exists(dir_ / "m.model.tmp"));
  std::ifstream vocab(dir_ / "m.vocab");
  int lines = 0;
  for (std::string line; std::getline(vocab, line);) ++lines;
  EXPECT_EQ(lines, kVocab);
}

TEST_F(TokenizerTest, RoundTripsEveryScript) {
  const Tokenizer t = Tokenizer::load(model_);
  for (const auto& [lang, words] : kWords) {
    // Seed 1 is the training text, seed 2 new sentences from the same words.
    for (uint32_t seed : {1u, 2u}) {
      for (const std::string& s : sentences(lang, 40, seed)) {
        const std::vector<int32_t> ids = t.encode(s);
        ASSERT_FALSE(ids.empty()) << lang;
        for (int32_t id : ids) EXPECT_NE(id, t.unk_id()) << lang << ": " << s;
        EXPECT_EQ(t.decode(ids), s) << lang;
      }
    }
  }
}

TEST_F(TokenizerTest, UnseenCharactersFallBackToBytes) {
  const Tokenizer t = Tokenizer::load(model_);
  for (const std::string s : {"😀", "a 龘 b", "გამარჯობა მსოფლიო", "the fox 🦊 jumps"}) {
    const std::vector<int32_t> ids = t.encode(s);
    bool bytes = false;
    for (int32_t id : ids) {
      EXPECT_NE(id, t.unk_id()) << s;
      bytes |= t.id_to_piece(id).starts_with("<0x");
    }
    EXPECT_TRUE(bytes) << s;
    EXPECT_EQ(t.decode(ids), s);
  }
}

TEST_F(TokenizerTest, SentinelsAreTheTopPieces) {
  const Tokenizer t = Tokenizer::load(model_);
  EXPECT_EQ(t.piece_count(), kVocab);
  EXPECT_EQ(t.num_extra_ids(), 100);
  EXPECT_EQ(t.sentinel_id(0), kVocab - 1);
  EXPECT_EQ(t.sentinel_id(99), kVocab - 100);
  for (int n = 0; n < 100; ++n) {
    const std::string name = "<extra_id_" + std::to_string(n) + ">";
    const int32_t id = t.sentinel_id(n);
    EXPECT_EQ(id, t.piece_count() - 1 - n);
    EXPECT_EQ(t.id_to_piece(id), "\xe2\x96\x81" + name);
    const std::vector<int32_t> one = {id};
    EXPECT_EQ(t.decode(one), name);
  }
  // A sentinel written in text encodes as the sentinel, as with the real mT5 model.
  const std::vector<int32_t> ids = t.encode("the fox <extra_id_0> the dog <extra_id_7>");
  EXPECT_NE(std::find(ids.begin(), ids.end(), t.sentinel_id(0)), ids.end());
  EXPECT_EQ(ids.back(), t.sentinel_id(7));
  EXPECT_THROW(t.sentinel_id(100), std::out_of_range);
  EXPECT_THROW(t.sentinel_id(-1), std::out_of_range);
}

TEST_F(TokenizerTest, SpecialIds) {
  const Tokenizer t = Tokenizer::load(model_);
  EXPECT_EQ(t.pad_id(), 0);
  EXPECT_EQ(t.eos_id(), 1);
  EXPECT_EQ(t.unk_id(), 2);
  EXPECT_EQ(t.id_to_piece(0), "<pad>");
  EXPECT_EQ(t.id_to_piece(1), "</s>");
  EXPECT_EQ(t.id_to_piece(2), "<unk>");

  const std::vector<int32_t> plain = t.encode("the lazy dog");
  std::vector<int32_t> with_eos = t.encode_with_eos("the lazy dog");
  ASSERT_EQ(with_eos.size(), plain.size() + 1);
  EXPECT_EQ(with_eos.back(), t.eos_id());
  EXPECT_EQ(std::count(plain.begin(), plain.end(), t.eos_id()), 0);

  // Decoding stops at eos and renders pad as nothing.
  with_eos.insert(with_eos.begin(), t.pad_id());
  for (int32_t id : t.encode(" old books")) with_eos.push_back(id);
  EXPECT_EQ(t.decode(with_eos), "the lazy dog");
}

TEST_F(TokenizerTest, ModelVocabSizeRoundsUp) {
  const Tokenizer t = Tokenizer::load(model_);
  EXPECT_EQ(t.model_vocab_size(), 640);
  TokenizerOptions exact;
  exact.vocab_multiple = 1;
  EXPECT_EQ(Tokenizer::load(model_, exact).model_vocab_size(), kVocab);
  // Padding rows are not pieces.
  const std::vector<int32_t> padding_row = {static_cast<int32_t>(kVocab)};
  EXPECT_THROW(t.decode(padding_row), std::out_of_range);
  const std::vector<int32_t> negative = {-1};
  EXPECT_THROW(t.decode(negative), std::out_of_range);
}

TEST_F(TokenizerTest, ChecksumIsTheFileContent) {
  const Tokenizer t = Tokenizer::load(model_);
  EXPECT_EQ(t.checksum().size(), 16u);
  EXPECT_EQ(t.checksum().find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(Tokenizer::load(model_).checksum(), t.checksum());
  fs::copy_file(model_, dir_ / "copy.model", fs::copy_options::overwrite_existing);
  EXPECT_EQ(Tokenizer::load((dir_ / "copy.model").string()).checksum(), t.checksum());

  TokenizerTrainOptions other = train_options("other");
  other.vocab_size = kVocab - 10;
  EXPECT_NE(Tokenizer::load(train_tokenizer(other)).checksum(), t.checksum());
}

TEST_F(TokenizerTest, TrainingIsDeterministic) {
  const std::string again = train_tokenizer(train_options("again"));
  EXPECT_EQ(read_bytes(again), read_bytes(model_));
}

TEST_F(TokenizerTest, ModelWithoutSentinels) {
  TokenizerTrainOptions o = train_options("plain");
  o.num_extra_ids = 0;
  const std::string path = train_tokenizer(o);
  TokenizerOptions none;
  none.num_extra_ids = 0;
  const Tokenizer t = Tokenizer::load(path, none);
  EXPECT_EQ(t.piece_count(), kVocab);
  EXPECT_THROW(t.sentinel_id(0), std::out_of_range);
  // Assuming the mT5 sentinels of a model that has none is refused.
  expect_error([&] { Tokenizer::load(path); }, {path, "expected the sentinel <extra_id_0>"});
}

TEST_F(TokenizerTest, LoadErrorsNameTheFile) {
  const std::string missing = (dir_ / "missing.model").string();
  expect_error([&] { Tokenizer::load(missing); }, {missing, "cannot open"});
  const std::string text = (dir_ / "corpus.txt").string();
  expect_error([&] { Tokenizer::load(text); }, {text, "not a SentencePiece model"});
  TokenizerOptions other_pad;
  other_pad.pad_id = 3;
  expect_error([&] { Tokenizer::load(model_, other_pad); }, {model_, "pad id is 0, expected 3"});
  TokenizerOptions too_many;
  too_many.num_extra_ids = 101;
  expect_error([&] { Tokenizer::load(model_, too_many); }, {model_, "<extra_id_100>"});
}

TEST_F(TokenizerTest, TrainErrorsNameTheCause) {
  TokenizerTrainOptions missing = train_options("never");
  missing.inputs.push_back((dir_ / "nope.txt").string());
  expect_error([&] { train_tokenizer(missing); }, {(dir_ / "nope.txt").string(), "cannot open"});
  TokenizerTrainOptions huge = train_options("never");
  huge.vocab_size = 100000;
  expect_error([&] { train_tokenizer(huge); }, {"corpus.txt", "Vocabulary size", "--vocab-size"});
  TokenizerTrainOptions tiny = train_options("never");
  tiny.vocab_size = 100;
  EXPECT_THROW(train_tokenizer(tiny), std::invalid_argument);
  EXPECT_FALSE(fs::exists(dir_ / "never.model"));
}

}  // namespace
}  // namespace stilts::data
