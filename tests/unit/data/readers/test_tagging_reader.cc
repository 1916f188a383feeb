#include <gtest/gtest.h>

#include "data/readers/tagging.h"
#include "tests/unit/data/readers/fixtures.h"

namespace stilts::data {
namespace {

using nlohmann::json;
using testing::error_of;
using testing::fixture;

TEST(TaggingReader, UdposHebrewSentences) {
  ReadSummary summary;
  const auto examples = read_tagging(fixture("udpos/dev-he.tsv"), udpos_task(), {}, summary);
  ASSERT_EQ(examples.size(), 2u);
  EXPECT_EQ(summary.examples, 2);
  EXPECT_EQ(examples[0].id, "dev-he-0");
  EXPECT_EQ(examples[0].language, "he");
  EXPECT_EQ(examples[0].input, "udpos: הילד אכל תפוח .");
  EXPECT_EQ(examples[0].target, "NOUN VERB NOUN PUNCT");
  EXPECT_EQ(examples[0].gold, json({{"labeled", true},
                                    {"tokens", {"הילד", "אכל", "תפוח", "."}},
                                    {"tags", {"NOUN", "VERB", "NOUN", "PUNCT"}}}));
  EXPECT_EQ(examples[1].input, "udpos: שלום");
  EXPECT_EQ(examples[1].target, "INTJ");
}

TEST(TaggingReader, TestFileHoldsTokensOnly) {
  ReadSummary summary;
  const auto examples = read_tagging(fixture("udpos/test-hi.tsv"), udpos_task(), {}, summary);
  ASSERT_EQ(examples.size(), 2u);
  EXPECT_EQ(examples[0].input, "udpos: राम घर गया ।");
  EXPECT_EQ(examples[0].target, "");
  EXPECT_EQ(
      examples[0].gold,
      json({{"labeled", false}, {"tokens", {"राम", "घर", "गया", "।"}}, {"tags", json::array()}}));
}

TEST(TaggingReader, PanxEntities) {
  ReadSummary summary;
  const auto english = read_tagging(fixture("panx/train-en.tsv"), panx_task(), {}, summary);
  ASSERT_EQ(english.size(), 2u);
  EXPECT_EQ(english[0].input, "panx: Rick lives in New York");
  EXPECT_EQ(english[0].target, "B-PER O O B-LOC I-LOC");
  const auto arabic = read_tagging(fixture("panx/dev-ar.tsv"), panx_task(), {}, summary);
  ASSERT_EQ(arabic.size(), 1u);
  EXPECT_EQ(arabic[0].input, "panx: ولد محمد في القاهرة");
  EXPECT_EQ(arabic[0].target, "O B-PER O B-LOC");
  EXPECT_EQ(summary.examples, 3);
}

// PAN-X's test file as utils_preprocess.py writes it: tokens only, no blank line at the end.
TEST(TaggingReader, PanxTestFileHoldsTokensOnly) {
  ReadSummary summary;
  const auto examples = read_tagging(fixture("panx/test-sw.tsv"), panx_task(), {}, summary);
  ASSERT_EQ(examples.size(), 2u);
  EXPECT_EQ(examples[0].input, "panx: Juma anaishi Nairobi");
  EXPECT_EQ(examples[0].gold["labeled"], false);
  EXPECT_EQ(examples[1].gold["tokens"], json({"Asante"}));
}

TEST(TaggingReader, MissingTagAndBadTagSkipTheirSentence) {
  const std::string path = fixture("malformed/panx/train-de.tsv");
  ReadSummary summary;
  EXPECT_EQ(error_of([&] { read_tagging(path, panx_task(), {}, summary); }),
            path + ":4: expected token<TAB>tag, got 1 columns");

  ReadOptions skip;
  skip.skip_bad_records = true;
  ReadSummary skipped;
  const auto examples = read_tagging(path, panx_task(), skip, skipped);
  ASSERT_EQ(examples.size(), 2u);
  // Ids count the skipped sentences, so they still match the file's sentence order.
  EXPECT_EQ(examples[0].id, "train-de-0");
  EXPECT_EQ(examples[1].id, "train-de-3");
  EXPECT_EQ(skipped.skipped, 2);
  ASSERT_EQ(skipped.skipped_reasons.size(), 2u);
  EXPECT_EQ(skipped.skipped_reasons[1], path + ":7: bad tag 'B-CITY' for panx");
}

TEST(TaggingReader, TagTokenCountMismatch) {
  const std::string path = fixture("malformed/udpos/test-ta.tsv");
  ReadSummary summary;
  EXPECT_EQ(error_of([&] { read_tagging(path, udpos_task(), {}, summary); }),
            path + ":1: tag/token count mismatch in the sentence on lines 1-2: 2 tokens, 1 tags");
}

}  // namespace
}  // namespace stilts::data
