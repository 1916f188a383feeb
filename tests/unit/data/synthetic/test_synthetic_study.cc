// The synthetic study's generator (data/synthetic_study.h): the languages relate as designed
// (identity equal to English, disjoint scripts but shared anchors, each family's word order),
// the tasks' labels are the designed ones, and the files are written whole and reproducibly.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "data/languages.h"
#include "data/readers/reader.h"
#include "data/synthetic_study.h"
#include "data/tasks.h"
#include "data/tokenizer.h"
#include "tests/unit/error_of.h"
#include "tests/unit/temp_dir.h"

namespace stilts::data {
namespace {

namespace fs = std::filesystem;
using stilts::testing::error_of;
using stilts::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> words(const std::string& sentence) {
  std::istringstream in(sentence);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::string read(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> lines(const fs::path& path) {
  std::vector<std::string> out;
  std::istringstream in(read(path));
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(SyntheticStudy, LanguagesAndLabels) {
  std::vector<std::string> codes, mix;
  for (const SyntheticLanguage& l : synthetic_languages()) {
    codes.emplace_back(l.code);
    if (l.in_mix) mix.emplace_back(l.code);
  }
  EXPECT_THAT(codes, ElementsAre("en", "ei", "aa", "ab", "ba", "bb"));
  EXPECT_THAT(mix, ElementsAre("en", "aa", "ba"));
  EXPECT_THAT(synthetic_topic_labels(), ElementsAre("animal", "food", "tool", "place"));
}

TEST(SyntheticStudy, SentencesAreReproducibleAndRelateAsDesigned) {
  const SyntheticSentence s = synthetic_sentence(7, "t", 3);
  const SyntheticSentence again = synthetic_sentence(7, "t", 3);
  EXPECT_EQ(render_sentence(s, "en", 7), render_sentence(again, "en", 7));
  EXPECT_EQ(render_sentence(s, "aa", 7), render_sentence(again, "aa", 7));
  // Another seed spells the derived languages otherwise; English is English.
  EXPECT_NE(render_sentence(s, "aa", 7), render_sentence(s, "aa", 8));
  EXPECT_EQ(render_sentence(s, "en", 7), render_sentence(s, "en", 8));

  std::map<std::string, std::set<std::string>> characters;  // per language, non-anchor letters
  int same_topic = 0;
  for (uint64_t i = 0; i < 400; ++i) {
    const SyntheticSentence x = synthetic_sentence(1, "t", i);
    same_topic += x.subject_topic == x.object_topic;
    const std::string en = render_sentence(x, "en", 1);
    EXPECT_EQ(render_sentence(x, "ei", 1), en);  // the identity control is English
    const std::vector<std::string> e = words(en);
    for (const std::string code : {"aa", "ab", "ba", "bb"}) {
      const std::vector<std::string> w = words(render_sentence(x, code, 1));
      ASSERT_EQ(w.size(), e.size()) << en;  // one word for one word
      EXPECT_EQ(w.back(), ".");
      for (const std::string& word : w)
        if (word != "." && !std::isdigit(static_cast<unsigned char>(word[0])) &&
            !std::isupper(static_cast<unsigned char>(word[0])))
          characters[code].insert(word);
    }
    // Alpha keeps English's order: the anchors (a number, a name) sit where English has them.
    const std::vector<std::string> alpha = words(render_sentence(x, "aa", 1));
    for (size_t k = 0; k < e.size(); ++k) {
      if (std::isdigit(static_cast<unsigned char>(e[k][0])) ||
          std::isupper(static_cast<unsigned char>(e[k][0]))) {
        EXPECT_EQ(alpha[k], e[k]);
      }
    }
  }
  // The topics are drawn apart: the object shares the subject's about a quarter of the time.
  EXPECT_GT(same_topic, 60);
  EXPECT_LT(same_topic, 140);
  // No pseudo-word of one derived language is a word of another: they share anchors only.
  for (const std::string a : {"aa", "ab", "ba", "bb"}) {
    for (const std::string b : {"aa", "ab", "ba", "bb"}) {
      if (a >= b) continue;
      for (const std::string& w : characters[a]) {
        EXPECT_FALSE(characters[b].count(w)) << w;
      }
    }
  }
}

TEST(SyntheticStudy, BetaPutsTheObjectFirstAndTheNounBeforeItsAdjective) {
  // A sentence with both adjectives and no anchor: the, adj, noun, verb, the, adj, noun.
  SyntheticSentence s;
  s.subject_topic = 0;
  s.subject_noun = 1;       // dog
  s.subject_adjective = 0;  // red
  s.verb = 0;               // sees
  s.object_topic = 2;
  s.object_noun = 1;       // hammer
  s.object_adjective = 1;  // small
  s.anchor = 0;            // "2 times"
  EXPECT_EQ(render_sentence(s, "en", 1), "the red dog sees the small hammer 2 times .");
  const std::vector<std::string> alpha = words(render_sentence(s, "aa", 1));
  const std::vector<std::string> beta = words(render_sentence(s, "ba", 1));
  ASSERT_EQ(beta.size(), 10u);
  // English word -> its Beta word, read off sentences of one word change each.
  SyntheticSentence only_dog = s;
  only_dog.subject_adjective = only_dog.object_adjective = -1;
  const std::vector<std::string> bare = words(render_sentence(only_dog, "ba", 1));
  // OSV: the object phrase (the hammer) first, then the subject (the dog), then the verb.
  ASSERT_EQ(bare.size(), 8u);
  EXPECT_EQ(bare[0], bare[2]);  // "the" twice
  EXPECT_EQ(beta[0], bare[0]);
  EXPECT_EQ(beta[1], bare[1]);  // the hammer ...
  EXPECT_EQ(beta[4], bare[3]);  // ... the dog ...
  EXPECT_EQ(beta[6], bare[4]);  // ... sees
  EXPECT_EQ(beta[7], "2");
  EXPECT_EQ(alpha[7], "2");
}

// The counts of a small study: 50 sentences of text per language, 40 English training and 10 dev
// examples, 30 test, 20 intermediate and 15 parallel sentences.
SyntheticStudyOptions small_options(int64_t text_sentences = 50) {
  SyntheticStudyOptions options;
  options.text_sentences = text_sentences;
  options.target_train = 40;
  options.target_dev = 10;
  options.target_test = 30;
  options.intermediate_train = 20;
  options.align_sentences = 15;
  return options;
}

TEST(SyntheticStudy, WritesEveryFileWholeWithTheDesignedLabels) {
  TempDir dir;
  SyntheticStudyOptions options = small_options();
  const fs::path out = fs::path(dir.path()) / "study";
  write_synthetic_study(out.string(), options);

  const std::vector<Language> table =
      parse_language_table(read(out / "languages.tsv"), "languages.tsv");
  ASSERT_EQ(table.size(), 6u);
  EXPECT_EQ(table[4].code, "ba");
  EXPECT_EQ(table[4].family, "Beta");
  // 50 sentences in documents of 8: 7 lines, the last of 2 sentences.
  const std::vector<std::string> text = lines(out / "text" / "bb.txt");
  ASSERT_EQ(text.size(), 7u);
  EXPECT_EQ(std::count(text[0].begin(), text[0].end(), '.'), 8);
  EXPECT_EQ(std::count(text[6].begin(), text[6].end(), '.'), 2);
  EXPECT_FALSE(fs::exists(out / "topic" / "train-aa.tsv"));  // the target is English only
  const std::vector<std::string> test_en = lines(out / "topic" / "test-en.tsv");
  const std::vector<std::string> test_bb = lines(out / "topic" / "test-bb.tsv");
  ASSERT_EQ(test_en.size(), 30u);
  ASSERT_EQ(test_bb.size(), 30u);
  std::set<std::string> test_sentences;
  for (size_t i = 0; i < test_en.size(); ++i) {
    const auto tab = [](const std::string& line, int n) {
      size_t at = 0;
      for (int k = 0; k < n; ++k) at = line.find('\t', at) + 1;
      return line.substr(at, line.find('\t', at) - at);
    };
    EXPECT_EQ(tab(test_en[i], 0), tab(test_bb[i], 0));               // a translation keeps its id
    EXPECT_EQ(tab(test_en[i], 2), tab(test_bb[i], 2));               // and its label
    EXPECT_EQ(tab(test_en[i], 2), synthetic_topic_labels()[i % 4]);  // balanced over the topics
    EXPECT_THAT(synthetic_topic_labels(), ::testing::Contains(tab(test_en[i], 2)));
    // The label is the subject's topic: the first noun of an English sentence.
    test_sentences.insert(tab(test_en[i], 1));
  }
  // No English sentence is in two splits: not the test set, not a dev set and its training set.
  std::set<std::string> seen = test_sentences;
  const std::pair<const char*, size_t> splits[] = {{"topic/train-en.tsv", 40u},
                                                   {"topic/dev-en.tsv", 10u},
                                                   {"object/train-en.tsv", 20u},
                                                   {"object/dev-en.tsv", 10u}};
  for (const auto& [split, count] : splits) {
    const std::vector<std::string> rows = lines(out / split);
    EXPECT_EQ(rows.size(), count) << split;
    for (const std::string& line : rows)
      EXPECT_TRUE(
          seen.insert(line.substr(line.find('\t') + 1, line.rfind('\t') - line.find('\t') - 1))
              .second)
          << split << ": a sentence of another split: " << line;
  }
  // The intermediate task in English and the mix languages only; the shuffled copy keeps the
  // sentences and ids and changes labels.
  EXPECT_TRUE(fs::exists(out / "object" / "train-aa.tsv"));
  EXPECT_FALSE(fs::exists(out / "object" / "train-ab.tsv"));
  const std::vector<std::string> object = lines(out / "object" / "train-ba.tsv");
  const std::vector<std::string> shuffled = lines(out / "object-shuffled" / "train-ba.tsv");
  ASSERT_EQ(object.size(), 20u);
  ASSERT_EQ(shuffled.size(), 20u);
  int same_label = 0;
  for (size_t i = 0; i < object.size(); ++i) {
    EXPECT_EQ(object[i].substr(0, object[i].rfind('\t')),
              shuffled[i].substr(0, shuffled[i].rfind('\t')));
    same_label += object[i] == shuffled[i];
  }
  EXPECT_LT(same_label, 15);  // about a quarter by chance
  EXPECT_EQ(lines(out / "object-shuffled" / "train-en.tsv")[3].substr(
                lines(out / "object-shuffled" / "train-en.tsv")[3].rfind('\t')),
            shuffled[3].substr(shuffled[3].rfind('\t')));  // one shuffled label per example
  EXPECT_EQ(lines(out / "align" / "ab.tsv").size(), 15u);

  // The same options write the same bytes; an existing folder is refused, untouched.
  const fs::path again = fs::path(dir.path()) / "again";
  write_synthetic_study(again.string(), options);
  EXPECT_EQ(read(out / "topic" / "test-ba.tsv"), read(again / "topic" / "test-ba.tsv"));
  EXPECT_EQ(read(out / "text" / "aa.txt"), read(again / "text" / "aa.txt"));
  EXPECT_THAT(error_of([&] { write_synthetic_study(out.string(), options); }),
              HasSubstr("study: exists"));
  EXPECT_EQ(lines(out / "text" / "bb.txt").size(), 7u);
  options.target_test = 0;
  EXPECT_THAT(
      error_of([&] { write_synthetic_study((fs::path(dir.path()) / "x").string(), options); }),
      HasSubstr("target_test must be at least 1, got 0"));
}

// A small study written once per test that needs one.
fs::path small_study(const TempDir& dir, int64_t text_sentences = 50) {
  const fs::path out = fs::path(dir.path()) / "study";
  write_synthetic_study(out.string(), small_options(text_sentences));
  return out;
}

// The study's tasks read its files once its language table is the table (--languages).
TEST(SyntheticReaders, ReadTheStudyUnderItsLanguageTable) {
  TempDir dir;
  const fs::path study = small_study(dir);
  ReadSummary summary;
  const std::string test_aa = (study / "topic" / "test-aa.tsv").string();
  EXPECT_THAT(error_of([&] { read_task("synth-topic", test_aa, {}, summary); }),
              HasSubstr("unknown language code 'aa' (expected one of the 50 XTREME-R languages)"));
  use_language_table((study / "languages.tsv").string());
  EXPECT_EQ(language_table().size(), 6u);
  EXPECT_EQ(find_language("bb")->family, "Beta");
  EXPECT_THAT(language_table_source(), HasSubstr("languages.tsv"));

  const std::vector<Example> topic = read_task("synth-topic", test_aa, {}, summary);
  ASSERT_EQ(topic.size(), 30u);
  EXPECT_EQ(topic[0].id.rfind("topic-test-", 0), 0u);  // the English sentence's id
  EXPECT_EQ(topic[0].language, "aa");
  EXPECT_EQ(topic[0].input.rfind("subject: ", 0), 0u);
  EXPECT_EQ(topic[0].gold.at("label"), topic[0].target);
  EXPECT_EQ(synthetic_topic_labels().at(topic[0].gold.at("label_index").get<size_t>()),
            topic[0].target);
  const std::vector<Example> object =
      read_task("synth-object", (study / "object" / "train-ba.tsv").string(), {}, summary);
  ASSERT_EQ(object.size(), 20u);
  EXPECT_EQ(object[3].input.rfind("object: ", 0), 0u);
  EXPECT_EQ(object[3].language, "ba");
  EXPECT_EQ(read_task("synth-text", (study / "text" / "ab.txt").string(), {}, summary).size(), 7u);

  const std::vector<Example> align =
      read_task("synth-align", (study / "align" / "bb.tsv").string(), {}, summary);
  ASSERT_EQ(align.size(), 30u);  // 15 queries, then the 15 English candidates
  EXPECT_EQ(align[4].gold.at("role"), "query");
  EXPECT_EQ(align[4].gold.at("gold_index"), 4);
  EXPECT_EQ(align[15].gold.at("role"), "candidate");
  EXPECT_EQ(align[15].language, "en");
  EXPECT_EQ(data_file(task_spec("synth-topic"), study.string(), "test", "ab"),
            (study / "topic" / "test-ab.tsv").string());

  // A label outside the four, or a missing column, names the file and line.
  std::ofstream(fs::path(dir.path()) / "test-aa.tsv") << "x\tthe dog sees the cat .\tanimal\n"
                                                      << "y\tthe dog sees the cat .\tcolour\n";
  EXPECT_THAT(error_of([&] {
                read_task("synth-topic", (fs::path(dir.path()) / "test-aa.tsv").string(), {},
                          summary);
              }),
              HasSubstr("test-aa.tsv:2: label 'colour' is none of animal, food, tool, place"));
}

TEST(SyntheticReaders, ALanguageTableThatCannotBeReadIsRefusedByName) {
  TempDir dir;
  const std::vector<Language>* before = &language_table();
  EXPECT_THAT(error_of([&] { use_language_table(dir / "none.tsv"); }),
              HasSubstr("none.tsv: cannot open the language table"));
  std::ofstream(dir / "bad.tsv") << "code\tname\tfamily\tbranch\tscript\nxx\tX\n";
  EXPECT_THAT(error_of([&] { use_language_table(dir / "bad.tsv"); }),
              HasSubstr("bad.tsv:2: expected 5 tab-separated columns, found 2"));
  EXPECT_EQ(&language_table(), before);  // the table in force is kept
}

// With BPE at 2000 pieces every word of the study and every label is one piece, so the target
// task's labels are single tokens (unigram at that size splits most words: it seeds its pieces
// with substrings shared by distinct words).
TEST(SyntheticTokenizer, BpeMakesEveryWordAndLabelOnePiece) {
  TempDir dir;
  const fs::path study = small_study(dir, 1500);
  TokenizerTrainOptions options;
  for (const SyntheticLanguage& l : synthetic_languages())
    options.inputs.push_back((study / "text" / (std::string(l.code) + ".txt")).string());
  options.model_prefix = dir / "tok";
  options.vocab_size = 2000;
  options.character_coverage = 1.0;
  options.model_type = "bpe";
  options.num_threads = 1;
  const Tokenizer tokenizer = Tokenizer::load(train_tokenizer(options));
  for (const std::string& label : synthetic_topic_labels())
    EXPECT_EQ(tokenizer.encode(label).size(), 1u) << label;
  for (const SyntheticLanguage& l : synthetic_languages())
    for (const std::string& line :
         lines(study / "topic" / ("test-" + std::string(l.code) + ".tsv"))) {
      const std::string sentence =
          line.substr(line.find('\t') + 1, line.rfind('\t') - line.find('\t') - 1);
      EXPECT_EQ(tokenizer.encode(sentence).size(), words(sentence).size()) << sentence;
    }
  options.model_type = "wordpiece";
  EXPECT_THAT(error_of([&] { train_tokenizer(options); }),
              HasSubstr("--model-type: expected unigram or bpe, got 'wordpiece'"));
}

}  // namespace
}  // namespace stilts::data
