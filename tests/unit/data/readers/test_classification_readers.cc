#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "data/readers/pawsx.h"
#include "data/readers/xcopa.h"
#include "data/readers/xnli.h"
#include "tests/unit/data/readers/fixtures.h"

namespace stilts::data {
namespace {

using nlohmann::json;
using testing::error_of;
using testing::fixture;
using ::testing::HasSubstr;

TEST(XnliReader, ReadsLabeledRowsWithCsvQuotingAndArabicText) {
  ReadSummary summary;
  const auto examples = read_xnli(fixture("xnli/dev-ar.tsv"), {}, summary);
  ASSERT_EQ(examples.size(), 3u);
  EXPECT_EQ(summary.examples, 3);
  EXPECT_EQ(examples[0].id, "dev-ar-0");
  EXPECT_EQ(examples[0].language, "ar");
  EXPECT_EQ(examples[0].input,
            "xnli: premise: ذهب الولد إلى المدرسة. hypothesis: الولد في المدرسة.");
  EXPECT_EQ(examples[0].target, "entailment");
  EXPECT_EQ(examples[0].gold,
            json({{"labeled", true}, {"label", "entailment"}, {"label_index", 0}}));
  // csv.writer quoted this field because it holds '"'; the reader undoes the quoting.
  EXPECT_EQ(examples[1].input, "xnli: premise: قال \"مرحبا\" للجميع. hypothesis: لم يتكلم أحد.");
  EXPECT_EQ(examples[1].target, "contradiction");
  EXPECT_EQ(examples[1].gold["label_index"], 2);
  EXPECT_EQ(examples[2].target, "neutral");
}

TEST(XnliReader, ReadsEnglishTrainFile) {
  ReadSummary summary;
  const auto examples = read_xnli(fixture("xnli/train-en.tsv"), {}, summary);
  ASSERT_EQ(examples.size(), 2u);
  EXPECT_EQ(examples[1].language, "en");
  EXPECT_EQ(examples[1].input, "xnli: premise: He said \"no\" twice. hypothesis: He agreed.");
}

TEST(XnliReader, TestSplitHasNoLabels) {
  ReadSummary summary;
  const auto examples = read_xnli(fixture("xnli/test-zh.tsv"), {}, summary);
  ASSERT_EQ(examples.size(), 2u);
  EXPECT_EQ(examples[0].language, "zh");
  EXPECT_EQ(examples[0].input, "xnli: premise: 我喜欢喝茶。 hypothesis: 我讨厌茶。");
  EXPECT_EQ(examples[0].target, "");
  EXPECT_EQ(examples[0].gold, json({{"labeled", false}}));
}

TEST(XnliReader, MissingColumnAndBadLabelNameFileAndLine) {
  const std::string path = fixture("malformed/xnli/dev-de.tsv");
  ReadSummary summary;
  EXPECT_EQ(error_of([&] { read_xnli(path, {}, summary); }),
            path + ":2: expected 3 tab-separated columns (sentence1, sentence2, label), got 2");

  ReadOptions skip;
  skip.skip_bad_records = true;
  ReadSummary skipped;
  const auto examples = read_xnli(path, skip, skipped);
  ASSERT_EQ(examples.size(), 1u);
  EXPECT_EQ(skipped.examples, 1);
  EXPECT_EQ(skipped.skipped, 2);
  ASSERT_EQ(skipped.skipped_reasons.size(), 2u);
  EXPECT_EQ(skipped.skipped_reasons[1],
            path +
                ":3: bad label 'maybe', expected one of 'entailment', 'neutral', "
                "'contradiction'");
}

TEST(XnliReader, RejectsUnknownLanguageAndMissingFile) {
  ReadSummary summary;
  EXPECT_THAT(error_of([&] { read_xnli(fixture("malformed/xnli/dev-xx.tsv"), {}, summary); }),
              HasSubstr("unknown language code 'xx'"));
  EXPECT_EQ(error_of([&] { read_xnli("/no/such/dir/dev-de.tsv", {}, summary); }),
            "cannot open /no/such/dir/dev-de.tsv");
}

TEST(PawsxReader, MapsDigitsToLabelWords) {
  ReadSummary summary;
  const auto examples = read_pawsx(fixture("pawsx/dev-zh.tsv"), {}, summary);
  ASSERT_EQ(examples.size(), 2u);
  EXPECT_EQ(examples[0].id, "dev-zh-0");
  EXPECT_EQ(examples[0].input, "paws sentence1: 他出生于上海。 sentence2: 他在上海出生。");
  EXPECT_EQ(examples[0].target, "paraphrase");
  EXPECT_EQ(examples[0].gold,
            json({{"labeled", true}, {"label", "paraphrase"}, {"label_index", 1}}));
  EXPECT_EQ(examples[1].target, "different_meaning");
}

TEST(PawsxReader, TestSplitHasNoLabels) {
  ReadSummary summary;
  const auto examples = read_pawsx(fixture("pawsx/test-ko.tsv"), {}, summary);
  ASSERT_EQ(examples.size(), 1u);
  EXPECT_EQ(examples[0].language, "ko");
  EXPECT_EQ(examples[0].input,
            "paws sentence1: 그는 서울에서 태어났다. sentence2: 그는 서울 출신이다.");
  EXPECT_EQ(examples[0].gold, json({{"labeled", false}}));
}

TEST(XcopaReader, TargetIsTheCorrectChoice) {
  ReadSummary summary;
  const auto examples = read_xcopa(fixture("xcopa/val-th.jsonl"), {}, summary);
  ASSERT_EQ(examples.size(), 2u);
  EXPECT_EQ(examples[0].id, "val-th-1");
  EXPECT_EQ(examples[0].language, "th");
  EXPECT_EQ(examples[0].input,
            "xcopa: premise: ผู้ชายเปิดก๊อกน้ำ question: effect choice1: ห้องน้ำเต็มไปด้วยน้ำ "
            "choice2: น้ำไหลออกจากก๊อก");
  EXPECT_EQ(examples[0].target, "น้ำไหลออกจากก๊อก");
  EXPECT_EQ(examples[0].gold, json({{"labeled", true},
                                    {"question", "effect"},
                                    {"choices", {"ห้องน้ำเต็มไปด้วยน้ำ", "น้ำไหลออกจากก๊อก"}},
                                    {"label", 1}}));
  EXPECT_EQ(examples[1].target, "เธอทำตุ๊กตาหาย");
  EXPECT_EQ(examples[1].gold["question"], "cause");
}

TEST(XcopaReader, TestLabelsArePlaceholdersAndReadAsAbsent) {
  ReadSummary summary;
  const auto examples = read_xcopa(fixture("xcopa/test-zh.jsonl"), {}, summary);
  ASSERT_EQ(examples.size(), 1u);
  EXPECT_EQ(examples[0].target, "");
  EXPECT_EQ(examples[0].gold, json({{"labeled", false},
                                    {"question", "cause"},
                                    {"choices", {"太阳升起来了。", "草被割了。"}}}));
}

TEST(XcopaReader, TruncatedLineBadQuestionAndBadLabel) {
  const std::string path = fixture("malformed/xcopa/val-it.jsonl");
  ReadSummary summary;
  EXPECT_THAT(error_of([&] { read_xcopa(path, {}, summary); }),
              HasSubstr(path + ":2: invalid JSON at byte"));

  ReadOptions skip;
  skip.skip_bad_records = true;
  ReadSummary skipped;
  EXPECT_EQ(read_xcopa(path, skip, skipped).size(), 1u);
  EXPECT_EQ(skipped.skipped, 3);
  ASSERT_EQ(skipped.skipped_reasons.size(), 3u);
  EXPECT_EQ(skipped.skipped_reasons[1],
            path + ":3:question: bad value 'why', expected 'cause' or 'effect'");
  EXPECT_EQ(skipped.skipped_reasons[2], path + ":4:label: bad label 2, expected 0 or 1");
}

}  // namespace
}  // namespace stilts::data
