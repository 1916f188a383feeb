#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "data/readers/squad.h"
#include "tests/unit/data/readers/fixtures.h"

namespace stilts::data {
namespace {

using nlohmann::json;
using testing::error_of;
using testing::fixture;
using ::testing::HasSubstr;

TEST(SquadReader, SquadTrainTakesTheLanguageFromOptions) {
  const std::string path = fixture("squad/train-v1.1.json");
  ReadSummary summary;
  EXPECT_EQ(error_of([&] { read_squad(path, {}, summary); }),
            path + ": the file name does not give the language and options.language is empty");

  ReadOptions options;
  options.language = "en";
  const auto examples = read_squad(path, options, summary);
  ASSERT_EQ(examples.size(), 2u);
  const std::string context = "Paris is the capital of France. It lies on the Seine.";
  EXPECT_EQ(examples[1].id, "q-en-2");
  EXPECT_EQ(examples[1].language, "en");
  EXPECT_EQ(examples[1].input, "question: Which river flows through Paris? context: " + context);
  EXPECT_EQ(examples[1].target, "the Seine");
  EXPECT_EQ(examples[1].gold,
            json({{"labeled", true},
                  {"question_id", "q-en-2"},
                  {"context", context},
                  {"answers", {{"text", {"the Seine", "Seine"}}, {"answer_start", {43, 47}}}}}));
}

TEST(SquadReader, XquadHindiAnswerStartsCountCodePoints) {
  ReadSummary summary;
  const auto examples = read_squad(fixture("xquad/xquad.hi.json"), {}, summary);
  ASSERT_EQ(examples.size(), 2u);
  EXPECT_EQ(examples[1].language, "hi");
  EXPECT_EQ(examples[1].input,
            "question: दिल्ली किस नदी के किनारे है? context: दिल्ली भारत की राजधानी है। यह यमुना नदी "
            "के किनारे है।");
  EXPECT_EQ(examples[1].target, "यमुना नदी");
  EXPECT_EQ(examples[1].gold["answers"]["answer_start"], json({30}));
}

TEST(SquadReader, TestPlaceholderAnswersAreReadAsAbsent) {
  ReadSummary summary;
  const auto examples = read_squad(fixture("xquad/xquad.ar.json"), {}, summary);
  ASSERT_EQ(examples.size(), 1u);
  EXPECT_EQ(examples[0].language, "ar");
  EXPECT_EQ(examples[0].input, "question: ما هي عاصمة مصر؟ context: القاهرة هي عاصمة مصر.");
  EXPECT_EQ(examples[0].target, "");
  EXPECT_EQ(examples[0].gold["labeled"], false);
  EXPECT_EQ(examples[0].gold["answers"],
            json({{"text", json::array()}, {"answer_start", json::array()}}));
}

TEST(SquadReader, MlqaAndTydiqaLanguagesFromTheirFileNames) {
  ReadSummary summary;
  const auto mlqa =
      read_squad(fixture("mlqa/MLQA_V1/dev/dev-context-zh-question-zh.json"), {}, summary);
  ASSERT_EQ(mlqa.size(), 1u);
  EXPECT_EQ(mlqa[0].language, "zh");
  EXPECT_EQ(mlqa[0].target, "中国北部");
  const auto tydiqa =
      read_squad(fixture("tydiqa/tydiqa-goldp-v1.1-train/tydiqa.goldp.te.train.json"), {}, summary);
  ASSERT_EQ(tydiqa.size(), 1u);
  EXPECT_EQ(tydiqa[0].language, "te");
  EXPECT_EQ(tydiqa[0].id, "1234");
  EXPECT_EQ(tydiqa[0].target, "హైదరాబాద్");
  EXPECT_EQ(summary.examples, 2);
}

// XTREME strips the answers of MLQA's test files and of TyDiQA-GoldP's dev files (which serve
// as its test set) in place: one paragraph per question, ASCII-escaped JSON.
TEST(SquadReader, XtremesStrippedMlqaTestAndTydiqaDevAreUnlabeled) {
  ReadSummary summary;
  const auto mlqa =
      read_squad(fixture("mlqa/MLQA_V1/test/test-context-hi-question-hi.json"), {}, summary);
  ASSERT_EQ(mlqa.size(), 1u);
  EXPECT_EQ(mlqa[0].language, "hi");
  EXPECT_EQ(mlqa[0].input, "question: ताजमहल कहाँ है? context: ताजमहल आगरा में है।");
  EXPECT_EQ(mlqa[0].gold["labeled"], false);
  const auto tydiqa =
      read_squad(fixture("tydiqa/tydiqa-goldp-v1.1-dev/tydiqa.goldp.sw.dev.json"), {}, summary);
  ASSERT_EQ(tydiqa.size(), 1u);
  EXPECT_EQ(tydiqa[0].language, "sw");
  EXPECT_EQ(tydiqa[0].id, "swahili-123-0");
  EXPECT_EQ(tydiqa[0].gold["labeled"], false);
}

TEST(SquadReader, TruncatedJsonNamesLineAndByte) {
  const std::string path = fixture("malformed/xquad/xquad.de.json");
  ReadSummary summary;
  EXPECT_THAT(error_of([&] { read_squad(path, {}, summary); }),
              HasSubstr(path + ":8: invalid JSON at byte 150: "));
}

TEST(SquadReader, AnswerErrorsNameTheJsonPath) {
  const std::string path = fixture("malformed/tydiqa/tydiqa.goldp.fi.train.json");
  const std::string qas = path + ":data[0].paragraphs[0].qas";
  ReadSummary summary;
  EXPECT_EQ(error_of([&] { read_squad(path, {}, summary); }),
            qas +
                "[1].answers[0].answer_start: the context at answer_start 3 reads 'sinki ', "
                "not the answer text 'Suomen'");

  ReadOptions skip;
  skip.skip_bad_records = true;
  ReadSummary skipped;
  const auto examples = read_squad(path, skip, skipped);
  ASSERT_EQ(examples.size(), 1u);
  EXPECT_EQ(examples[0].id, "fi-1");
  EXPECT_EQ(skipped.skipped, 3);
  ASSERT_EQ(skipped.skipped_reasons.size(), 3u);
  EXPECT_EQ(skipped.skipped_reasons[1],
            qas +
                "[2].answers[0].answer_start: answer_start 400 is out of range for a context "
                "of 31 code points");
  EXPECT_EQ(skipped.skipped_reasons[2], qas + "[3].answers: missing, expected an array");
}

}  // namespace
}  // namespace stilts::data
