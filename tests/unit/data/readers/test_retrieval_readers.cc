#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "data/readers/bucc.h"
#include "data/readers/lareqa.h"
#include "data/readers/mewslix.h"
#include "data/readers/tatoeba.h"
#include "tests/unit/data/readers/fixtures.h"

namespace stilts::data {
namespace {

using nlohmann::json;
using testing::error_of;
using testing::fixture;
using ::testing::HasSubstr;

ReadOptions skipping() {
  ReadOptions options;
  options.skip_bad_records = true;
  return options;
}

// LASER's originals, laid out as in facebookresearch/LASER data/tatoeba/v1: line i of the
// {xxx} file is the translation of line i of the .eng file, so the gold is the identity.
TEST(TatoebaReader, LaserOriginalsAreAlignedLineByLine) {
  ReadSummary summary;
  const auto examples = read_tatoeba(fixture("tatoeba/v1/tatoeba.tha-eng.tha"), {}, summary);
  ASSERT_EQ(examples.size(), 6u);
  EXPECT_EQ(summary.examples, 6);
  EXPECT_EQ(examples[0].id, "th-0");
  EXPECT_EQ(examples[0].language, "th");
  EXPECT_EQ(examples[0].input, "ฉันรักแมว");
  EXPECT_EQ(examples[0].target, "");
  EXPECT_EQ(examples[0].gold, json({{"role", "query"}, {"labeled", true}, {"gold_index", 0}}));
  EXPECT_EQ(examples[2].gold["gold_index"], 2);
  EXPECT_EQ(examples[3].id, "en-0");
  EXPECT_EQ(examples[3].language, "en");
  EXPECT_EQ(examples[3].input, "I love cats.");
  EXPECT_EQ(examples[3].gold, json({{"role", "candidate"}, {"index", 0}}));
  EXPECT_EQ(examples[5].input, "He goes to school.");
}

TEST(TatoebaReader, LaserCodesMapToXtremesLanguageCodes) {
  ReadSummary summary;
  const auto examples = read_tatoeba(fixture("tatoeba/v1/tatoeba.cmn-eng.cmn"), {}, summary);
  ASSERT_EQ(examples.size(), 4u);
  EXPECT_EQ(examples[1].id, "zh-1");
  EXPECT_EQ(examples[1].language, "zh");
  EXPECT_EQ(examples[1].gold["gold_index"], 1);
  EXPECT_EQ(tatoeba_laser_code("zh"), "cmn");
  EXPECT_EQ(tatoeba_laser_code("fa"), "pes");
  EXPECT_EQ(tatoeba_laser_code("sw"), "swh");
  EXPECT_EQ(tatoeba_laser_code("ro"), "ron");
  EXPECT_EQ(error_of([] { tatoeba_laser_code("yo"); }),
            "tatoeba: no Tatoeba files for language 'yo'");
}

TEST(TatoebaReader, LaserSidesOfDifferentLengthsAreRefused) {
  const std::string english = fixture("malformed/tatoeba/v1/tatoeba.ara-eng.eng");
  ReadSummary summary;
  EXPECT_EQ(error_of([&] {
              read_tatoeba(fixture("malformed/tatoeba/v1/tatoeba.ara-eng.ara"), skipping(),
                           summary);
            }),
            english + ":2: expected as many lines as " +
                fixture("malformed/tatoeba/v1/tatoeba.ara-eng.ara") + " (3)");
}

// XTREME's copy with a gold file of indices into its sorted English side.
TEST(TatoebaReader, XtremeLayoutGoldIndexesIntoTheSortedEnglishSide) {
  ReadSummary summary;
  const auto examples = read_tatoeba(fixture("tatoeba/th-en.th"), {}, summary);
  ASSERT_EQ(examples.size(), 6u);
  EXPECT_EQ(examples[0].id, "th-0");
  EXPECT_EQ(examples[0].gold, json({{"role", "query"}, {"labeled", true}, {"gold_index", 1}}));
  EXPECT_EQ(examples[2].gold["gold_index"], 0);
  EXPECT_EQ(examples[3].input, "He goes to school.");
}

// XTREME's copy as utils_preprocess.py writes it, with no gold file: the pairs are lost.
TEST(TatoebaReader, XtremeLayoutWithoutAGoldFileIsRefused) {
  ReadSummary summary;
  const std::string error =
      error_of([&] { read_tatoeba(fixture("tatoeba/he-en.he"), {}, summary); });
  EXPECT_THAT(error, HasSubstr(fixture("tatoeba/he-en.he") +
                               ": XTREME's Tatoeba copy sorts the English side and has no gold "
                               "file (expected " +
                               fixture("tatoeba/test-he.tsv") + ")"));
  EXPECT_THAT(error, HasSubstr("tatoeba/v1/tatoeba.{xxx}-eng.{xxx}"));
}

TEST(TatoebaReader, GoldIndexOutOfRange) {
  const std::string gold = fixture("malformed/tatoeba/test-ar.tsv");
  ReadSummary summary;
  EXPECT_EQ(error_of([&] { read_tatoeba(fixture("malformed/tatoeba/ar-en.ar"), {}, summary); }),
            gold + ":2: expected an English line index in [0, 2), got '7'");
  ReadSummary skipped;
  EXPECT_EQ(read_tatoeba(fixture("malformed/tatoeba/ar-en.ar"), skipping(), skipped).size(), 3u);
  EXPECT_EQ(skipped.skipped, 1);
}

TEST(BuccReader, DevPairsFromTheGoldFile) {
  ReadSummary summary;
  const auto examples = read_bucc(fixture("bucc2018/zh-en.dev.zh"), {}, summary);
  ASSERT_EQ(examples.size(), 5u);
  EXPECT_EQ(examples[0].id, "zh-000000001");
  EXPECT_EQ(examples[0].language, "zh");
  EXPECT_EQ(examples[0].input, "我喜欢猫。");
  EXPECT_EQ(examples[0].gold,
            json({{"role", "query"}, {"labeled", true}, {"gold_ids", {"en-000000003"}}}));
  EXPECT_EQ(examples[4].id, "en-000000003");
  EXPECT_EQ(examples[4].language, "en");
  EXPECT_EQ(examples[4].gold, json({{"role", "candidate"}}));
}

TEST(BuccReader, TestSplitHasNoGold) {
  ReadSummary summary;
  const auto examples = read_bucc(fixture("bucc2018/de-en.test.de"), {}, summary);
  ASSERT_EQ(examples.size(), 2u);
  EXPECT_EQ(examples[0].gold, json({{"role", "query"}, {"labeled", false}}));
}

TEST(BuccReader, MissingColumnAndUnknownGoldId) {
  const std::string path = fixture("malformed/bucc2018/fr-en.dev.fr");
  ReadSummary summary;
  EXPECT_EQ(error_of([&] { read_bucc(path, {}, summary); }),
            path + ":2: expected 2 tab-separated columns (id, sentence), got 1");
  ReadSummary skipped;
  const auto examples = read_bucc(path, skipping(), skipped);
  ASSERT_EQ(examples.size(), 2u);
  EXPECT_EQ(examples[0].gold["gold_ids"], json::array());
  EXPECT_EQ(skipped.skipped, 2);
  ASSERT_EQ(skipped.skipped_reasons.size(), 2u);
  EXPECT_EQ(skipped.skipped_reasons[1], fixture("malformed/bucc2018/fr-en.dev.gold") +
                                            ":1: id 'en-000000009' is not in " +
                                            fixture("malformed/bucc2018/fr-en.dev.en"));
}

TEST(MewslixReader, MentionQueriesMarkTheMentionInItsSentence) {
  ReadSummary summary;
  const auto examples =
      read_mewslix(fixture("mewslix/wikinews_mentions/dev-ar.jsonl"), {}, summary);
  ASSERT_EQ(examples.size(), 2u);
  EXPECT_EQ(examples[0].id, "ar-1");
  EXPECT_EQ(examples[0].language, "ar");
  EXPECT_EQ(examples[0].input, "باريس: زار الرئيس { باريس } أمس.");
  EXPECT_EQ(examples[0].gold, json({{"role", "query"}, {"labeled", true}, {"entity_id", "Q90"}}));
  // Braces already in the text become parentheses, so the marker stays unique.
  EXPECT_EQ(examples[1].input, "هناك: التقى (الوزير) { هناك } .");
}

TEST(MewslixReader, TestMentionsWithoutEntityAreUnlabeled) {
  ReadSummary summary;
  const auto examples =
      read_mewslix(fixture("mewslix/wikinews_mentions/test-fa.jsonl"), {}, summary);
  ASSERT_EQ(examples.size(), 1u);
  EXPECT_EQ(examples[0].language, "fa");
  EXPECT_EQ(examples[0].input, "تهران: { تهران } پایتخت ایران است.");
  EXPECT_EQ(examples[0].gold, json({{"role", "query"}, {"labeled", false}}));
}

TEST(MewslixReader, CandidatesAndTrainingPairs) {
  ReadSummary summary;
  const auto candidates =
      read_mewslix(fixture("mewslix/candidate_set_entities.jsonl"), {}, summary);
  ASSERT_EQ(candidates.size(), 2u);
  EXPECT_EQ(candidates[0].id, "Q90");
  EXPECT_EQ(candidates[0].language, "en");
  EXPECT_EQ(candidates[0].input, "Paris is the capital of France. It is on the Seine.");
  EXPECT_EQ(candidates[0].gold, json({{"role", "candidate"}, {"title", "Paris"}}));
  EXPECT_EQ(candidates[1].language, "ja");
  EXPECT_EQ(candidates[1].input, "東京は日本の首都である。");

  const auto pairs = read_mewslix(fixture("mewslix/wikipedia_pairs-train.jsonl"), {}, summary);
  ASSERT_EQ(pairs.size(), 1u);
  EXPECT_EQ(pairs[0].input, "Paris: The mayor of { Paris } spoke.");
  EXPECT_EQ(pairs[0].target, "Paris is the capital of France. It is on the Seine.");
  EXPECT_EQ(pairs[0].gold, json({{"role", "pair"}, {"labeled", true}, {"entity_id", "Q90"}}));
}

TEST(MewslixReader, MentionTextMismatchNamesThePath) {
  const std::string path = fixture("malformed/mewslix/wikinews_mentions/dev-ar.jsonl");
  ReadSummary summary;
  EXPECT_EQ(error_of([&] { read_mewslix(path, {}, summary); }),
            path +
                ":1:mentions[0].mention_span: the context at [11, 16) does not read the "
                "mention text 'لندن'");
  ReadSummary skipped;
  EXPECT_TRUE(read_mewslix(path, skipping(), skipped).empty());
  EXPECT_EQ(skipped.skipped, 1);
}

TEST(LareqaReader, SentencesAreCandidatesAndAnswersPointAtThem) {
  ReadSummary summary;
  const auto examples = read_lareqa(fixture("lareqa/xquad-r/ar.json"), {}, summary);
  ASSERT_EQ(examples.size(), 4u);
  const std::string context = "بيروت عاصمة لبنان. تقع على البحر المتوسط.";
  EXPECT_EQ(examples[0].id, "ar_1_0");
  EXPECT_EQ(examples[0].language, "ar");
  EXPECT_EQ(examples[0].input, "بيروت عاصمة لبنان.");
  EXPECT_EQ(examples[0].gold, json({{"role", "candidate"}, {"context", context}}));
  EXPECT_EQ(examples[1].input, "تقع على البحر المتوسط.");
  EXPECT_EQ(examples[3].id, "56beb4343aeaaa14008c925c_ar");
  EXPECT_EQ(examples[3].input, "على أي بحر تقع بيروت؟");
  EXPECT_EQ(examples[3].gold, json({{"role", "query"},
                                    {"question_id", "56beb4343aeaaa14008c925c"},
                                    {"labeled", true},
                                    {"answer_candidate", "ar_1_1"}}));
}

TEST(LareqaReader, AnswerOutsideEverySentence) {
  const std::string path = fixture("malformed/lareqa/xquad-r/ar.json");
  ReadSummary summary;
  EXPECT_EQ(error_of([&] { read_lareqa(path, {}, summary); }),
            path +
                ":data[0].paragraphs[0].sentence_breaks: no sentence holds the answer_start "
                "27 of question 'q2'");
  ReadSummary skipped;
  const auto examples = read_lareqa(path, skipping(), skipped);
  ASSERT_EQ(examples.size(), 1u);
  EXPECT_EQ(examples[0].gold["role"], "candidate");
  EXPECT_EQ(skipped.skipped, 1);
}

}  // namespace
}  // namespace stilts::data
