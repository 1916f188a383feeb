// The readers of XTREME's prediction and gold files (experiments/prediction_files.h): the
// evaluate.py reading rules, and errors that name the file, the line or JSON path and what was
// expected. Also the language table compiled from experiments/languages.tsv.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "data/languages.h"
#include "experiments/prediction_files.h"
#include "tests/unit/error_of.h"

namespace stilts::experiments {
namespace {

using stilts::testing::error_of;
using ::testing::HasSubstr;

class PredictionFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "stilts-pf-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  std::string dir_;
};

TEST_F(PredictionFilesTest, LabelLinesAreStrippedAndBlankLinesKept) {
  const std::string path = write("test-ar.tsv", "entailment \r\n\tneutral\n\ncontradiction");
  EXPECT_EQ(read_label_lines(path),
            (std::vector<std::string>{"entailment", "neutral", "", "contradiction"}));
  EXPECT_TRUE(read_label_lines(write("empty.tsv", "")).empty());
  // Python's str.strip() also removes Unicode spaces (no-break space, ideographic space).
  EXPECT_EQ(read_label_lines(write("u.tsv", "\u00a0neutral\u3000\n")),
            (std::vector<std::string>{"neutral"}));
}

TEST_F(PredictionFilesTest, TagSentencesFollowReadTag) {
  // A blank line ends a sentence; two in a row make an empty one; the last sentence needs no
  // blank line after it; a trailing blank line adds nothing.
  const std::string path = write("test-th.tsv", "B-PER\nI-PER \n\nO\n\n\nB-LOC\nO");
  const std::vector<std::vector<std::string>> expected = {
      {"B-PER", "I-PER"}, {"O"}, {}, {"B-LOC", "O"}};
  EXPECT_EQ(read_tag_sentences(path), expected);
  EXPECT_EQ(read_tag_sentences(write("b.tsv", "NOUN\nVERB\n\n")),
            (std::vector<std::vector<std::string>>{{"NOUN", "VERB"}}));
}

TEST_F(PredictionFilesTest, IdPairs) {
  const std::string path = write("test-zh.tsv", "zh-000001\ten-000010\nzh-000002\ten-000020\n");
  EXPECT_EQ(read_id_pairs(path), (std::vector<std::pair<std::string, std::string>>{
                                     {"zh-000001", "en-000010"}, {"zh-000002", "en-000020"}}));
  const std::string bad = write("bad.tsv", "a\tb\nc d\n");
  const std::string error = error_of([&] { read_id_pairs(bad); });
  EXPECT_THAT(error, HasSubstr(bad + ":2: expected '<source id><TAB><target id>', got 'c d'"));
  EXPECT_THAT(error_of([&] { read_id_pairs(write("three.tsv", "a\tb\tc\n")); }),
              HasSubstr("three.tsv:1: expected"));
}

TEST_F(PredictionFilesTest, JsonlLabelsKeepTheirJsonSpelling) {
  const std::string path = write(
      "test-et.jsonl", "{\"premise\": \"x\", \"label\": 1}\n{\"label\": \"1\", \"idx\": 2}\n");
  EXPECT_EQ(read_jsonl_labels(path), (std::vector<std::string>{"1", "\"1\""}));
  const std::string missing = write("missing.jsonl", "{\"label\": 0}\n{\"idx\": 1}\n");
  EXPECT_THAT(error_of([&] { read_jsonl_labels(missing); }),
              HasSubstr(missing + ":2:label: missing, expected the example's label"));
  const std::string broken = write("broken.jsonl", "{\"label\": 0}\n\n");
  EXPECT_THAT(error_of([&] { read_jsonl_labels(broken); }),
              HasSubstr(broken + ":2: expected a JSON object with a \"label\""));
  const std::string nested = write("nested.jsonl", "{\"label\": [0]}\n");
  EXPECT_THAT(error_of([&] { read_jsonl_labels(nested); }),
              HasSubstr(nested + ":1:label: expected a number or a string"));
}

TEST_F(PredictionFilesTest, SquadGoldWithOrWithoutData) {
  const std::string article =
      R"({"title": "t", "paragraphs": [{"context": "北京是首都", "qas": [)"
      R"({"id": "q1", "question": "?", "answers": [{"text": "北京", "answer_start": 0},)"
      R"( {"text": "北京市", "answer_start": 0}]}, {"id": "q2", "answers": []}]}]})";
  for (const std::string& text :
       {R"({"version": "1.1", "data": [)" + article + "]}", "[" + article + "]"}) {
    const auto questions = read_squad_gold(write("test-zh.json", text));
    ASSERT_EQ(questions.size(), 2u);
    EXPECT_EQ(questions[0].id, "q1");
    EXPECT_EQ(questions[0].answers, (std::vector<std::string>{"北京", "北京市"}));
    EXPECT_EQ(questions[1].id, "q2");
    EXPECT_TRUE(questions[1].answers.empty());
  }
}

TEST_F(PredictionFilesTest, SquadGoldErrorsNameTheJsonPath) {
  const std::string no_id =
      write("test-ar.json", R"({"data": [{"paragraphs": [{"qas": [{"answers": []}]}]}]})");
  EXPECT_THAT(error_of([&] { read_squad_gold(no_id); }),
              HasSubstr(no_id + ":data[0].paragraphs[0].qas[0].id: missing, expected a string"));
  const std::string bad_answer =
      write("a.json",
            R"({"data": [{"paragraphs": [{"qas": [{"id": "x", "answers": [{"text": 3}]}]}]}]})");
  EXPECT_THAT(error_of([&] { read_squad_gold(bad_answer); }),
              HasSubstr("data[0].paragraphs[0].qas[0].answers[0].text: expected a string"));
  const std::string not_squad = write("b.json", R"({"q1": "answer"})");
  EXPECT_THAT(error_of([&] { read_squad_gold(not_squad); }), HasSubstr("expected SQuAD JSON"));
  const std::string syntax = write("c.json", "{\"data\": [\n  {,}]}");
  EXPECT_THAT(error_of([&] { read_squad_gold(syntax); }), HasSubstr(syntax + ":2: invalid JSON"));
  EXPECT_THAT(error_of([&] { read_squad_gold(dir_ + "/none.json"); }),
              HasSubstr("cannot open " + dir_ + "/none.json"));
}

TEST_F(PredictionFilesTest, QaPredictions) {
  const auto predictions = read_qa_predictions(write("p.json", R"({"q1": "القاهرة", "q2": ""})"));
  ASSERT_EQ(predictions.size(), 2u);
  EXPECT_EQ(predictions.at("q1"), "القاهرة");
  EXPECT_EQ(predictions.at("q2"), "");
  const std::string list = write("list.json", R"({"q1": ["a"]})");
  EXPECT_THAT(error_of([&] { read_qa_predictions(list); }),
              HasSubstr(list + ":q1: expected the answer text (a string)"));
  EXPECT_THAT(error_of([&] { read_qa_predictions(write("arr.json", "[]")); }),
              HasSubstr("expected a JSON object {question id: answer text}"));
}

TEST_F(PredictionFilesTest, RankedIds) {
  const auto ranked = read_ranked_ids(write("m.json", R"({"e1": ["Q3", "Q1"], "e2": []})"));
  EXPECT_EQ(ranked.at("e1"), (std::vector<std::string>{"Q3", "Q1"}));
  EXPECT_TRUE(ranked.at("e2").empty());
  const std::string bad = write("bad.json", R"({"e1": ["Q3", 4]})");
  EXPECT_THAT(error_of([&] { read_ranked_ids(bad); }),
              HasSubstr(bad + ":e1[1]: expected an id (a string)"));
  EXPECT_THAT(error_of([&] { read_ranked_ids(write("s.json", R"({"e1": "Q1"})")); }),
              HasSubstr(":e1: expected a list of ids"));
}

TEST(LanguageTable, TheFiftyLanguagesOfExperimentsTsv) {
  const auto& languages = data::xtreme_r_languages();
  ASSERT_EQ(languages.size(), 50u);
  EXPECT_EQ(languages.front().code, "af");
  EXPECT_EQ(languages.back().code, "zh");
  const data::Language* th = data::find_language("th");
  ASSERT_NE(th, nullptr);
  EXPECT_EQ(th->name, "Thai");
  EXPECT_EQ(th->family, "Kra-Dai");
  EXPECT_EQ(th->branch, "Tai-Kadai");
  EXPECT_EQ(th->script, "Thai");
  EXPECT_EQ(data::find_language("eu")->branch, "");
  EXPECT_EQ(data::find_language("zh")->script, "Hans");
  EXPECT_EQ(data::find_language("ja")->script, "Jpan");
  EXPECT_EQ(data::find_language("ur")->script, "Arab");
  EXPECT_EQ(data::find_language("xx"), nullptr);
  int latin = 0;
  for (const data::Language& language : languages) {
    EXPECT_EQ(language.script.size(), 4u) << language.code;
    latin += language.script == "Latn";
  }
  EXPECT_EQ(latin, 27);
}

TEST(LanguageTable, MalformedTablesNameTheLine) {
  const std::string header = "code\tname\tfamily\tbranch\tscript\n";
  EXPECT_THAT(error_of([&] { data::parse_language_table("code\tname\n", "t.tsv"); }),
              HasSubstr("t.tsv:1: expected the header"));
  EXPECT_THAT(error_of([&] { data::parse_language_table(header + "af\tAfrikaans\n", "t.tsv"); }),
              HasSubstr("t.tsv:2: expected 5 tab-separated columns, found 2"));
  EXPECT_THAT(error_of([&] {
                data::parse_language_table(header + "af\tA\tIE\t\tLatn\naf\tB\tIE\t\tLatn\n",
                                           "t.tsv");
              }),
              HasSubstr("t.tsv:3: language code 'af' repeated"));
  EXPECT_THAT(error_of([&] { data::parse_language_table(header + "af\tA\tIE\tG\t\n", "t.tsv"); }),
              HasSubstr("t.tsv:2: empty column 5"));
  const auto table = data::parse_language_table(header + "af\tA\tIE\t\tLatn\r\n", "t.tsv");
  ASSERT_EQ(table.size(), 1u);
  EXPECT_EQ(table[0].script, "Latn");
}

}  // namespace
}  // namespace stilts::experiments
