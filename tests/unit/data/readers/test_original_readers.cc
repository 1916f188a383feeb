// The readers of the labeled originals, the releases whose test labels XTREME's copies remove
// (docs/TASKS.md), on fixtures laid out as the releases unpack under download/<task>/original/.
#include <gtest/gtest.h>

#include "data/readers/sentence_pair_release.h"
#include "data/readers/xcopa.h"
#include "tests/unit/data/readers/fixtures.h"

namespace stilts::data {
namespace {

using nlohmann::json;
using testing::error_of;
using testing::original;

ReadOptions with_language(const std::string& language) {
  ReadOptions options;
  options.language = language;
  return options;
}

ReadOptions skipping(ReadOptions options) {
  options.skip_bad_records = true;
  return options;
}

const std::string kXnli = original("xnli/original/XNLI-1.0/xnli.test.tsv");

TEST(XnliReleaseReader, ReadsOneLanguagesRowsWithXtremesIds) {
  ReadSummary summary;
  const auto german = read_xnli_release(kXnli, with_language("de"), summary);
  ASSERT_EQ(german.size(), 3u);
  EXPECT_EQ(summary.examples, 3);
  EXPECT_EQ(german[0].id, "test-de-0");
  EXPECT_EQ(german[0].language, "de");
  EXPECT_EQ(german[0].input,
            "xnli: premise: Der Hund schläft im Garten. hypothesis: Ein Tier ruht.");
  EXPECT_EQ(german[0].target, "entailment");
  EXPECT_EQ(german[0].gold, json({{"labeled", true}, {"label", "entailment"}, {"label_index", 0}}));
  EXPECT_EQ(german[1].id, "test-de-1");
  EXPECT_EQ(german[1].target, "contradiction");
  EXPECT_EQ(german[1].gold["label_index"], 2);
  // Unquoted: a '"' is text, as XTREME reads the release.
  EXPECT_EQ(german[2].id, "test-de-2");
  EXPECT_EQ(german[2].input, "xnli: premise: Er liest. hypothesis: Er liest \"Faust\".");
  EXPECT_EQ(german[2].target, "neutral");

  const auto english = read_xnli_release(kXnli, with_language("en"), summary);
  ASSERT_EQ(english.size(), 1u);
  EXPECT_EQ(english[0].id, "test-en-0");
  EXPECT_EQ(english[0].input,
            "xnli: premise: He said \"no\" twice. hypothesis: He agreed at once.");
  EXPECT_EQ(english[0].target, "contradiction");
  EXPECT_TRUE(read_xnli_release(kXnli, with_language("sw"), summary).empty());
}

TEST(XnliReleaseReader, NeedsTheLanguage) {
  ReadSummary summary;
  EXPECT_EQ(error_of([&] { read_xnli_release(kXnli, {}, summary); }),
            kXnli + ": the file name does not give the language and options.language is empty");
}

TEST(XnliReleaseReader, MalformedRowsNameTheLine) {
  const std::string path = original("malformed/XNLI-1.0/xnli.test.tsv");
  ReadSummary summary;
  EXPECT_EQ(error_of([&] { read_xnli_release(path, with_language("de"), summary); }),
            path +
                ":3: expected 19 tab-separated columns (language, gold_label, "
                "sentence1_binary_parse, sentence2_binary_parse, sentence1_parse, "
                "sentence2_parse, sentence1, sentence2, promptID, pairID, genre, label1, label2, "
                "label3, label4, label5, sentence1_tokenized, sentence2_tokenized, match), got 18");
  ReadSummary skipped;
  const auto examples = read_xnli_release(path, skipping(with_language("de")), skipped);
  ASSERT_EQ(examples.size(), 2u);
  EXPECT_EQ(examples[0].id, "test-de-0");
  EXPECT_EQ(examples[1].id, "test-de-2");  // the row with the bad label keeps its place
  EXPECT_EQ(skipped.skipped, 2);
  ASSERT_EQ(skipped.skipped_reasons.size(), 2u);
  EXPECT_EQ(skipped.skipped_reasons[1],
            path +
                ":4: bad label 'entails', expected one of 'entailment', 'neutral', "
                "'contradiction'");

  const std::string dev = original("malformed/XNLI-1.0/xnli.dev.tsv");
  EXPECT_EQ(error_of([&] { read_xnli_release(dev, skipping(with_language("de")), skipped); }),
            dev +
                ":1: the header lacks column 'sentence2', expected language, sentence1, "
                "sentence2, gold_label");
}

TEST(PawsxReleaseReader, LanguageFromTheFolderAndLabels) {
  ReadSummary summary;
  const auto examples =
      read_pawsx_release(original("pawsx/original/x-final/de/test_2k.tsv"), {}, summary);
  ASSERT_EQ(examples.size(), 3u);
  EXPECT_EQ(examples[0].id, "test-de-0");
  EXPECT_EQ(examples[0].language, "de");
  EXPECT_EQ(examples[0].input,
            "paws sentence1: Die Stadt liegt am Fluss. sentence2: Am Fluss liegt die Stadt.");
  EXPECT_EQ(examples[0].target, "paraphrase");
  EXPECT_EQ(examples[0].gold,
            json({{"labeled", true}, {"label", "paraphrase"}, {"label_index", 1}}));
  EXPECT_EQ(examples[1].target, "different_meaning");
  EXPECT_EQ(examples[2].id, "test-de-2");
  EXPECT_EQ(examples[2].input,
            "paws sentence1: Sie nannte ihn \"Max\". sentence2: Er hieß \"Max\".");

  const std::string bad = original("malformed/x-final/de/test_2k.tsv");
  EXPECT_EQ(error_of([&] { read_pawsx_release(bad, {}, summary); }),
            bad + ":2: bad label '2', expected one of '0', '1'");
}

// XCOPA's own files keep the labels XTREME's copy sets to 0.
TEST(XcopaReleaseReader, TestLabelsAreReal) {
  ReadSummary summary;
  const auto examples = read_xcopa(original("xcopa/original/data/et/test.et.jsonl"), {}, summary);
  ASSERT_EQ(examples.size(), 2u);
  EXPECT_EQ(examples[0].id, "test-et-0");
  EXPECT_EQ(examples[0].language, "et");
  EXPECT_EQ(examples[0].target, "See oli õrn.");
  EXPECT_EQ(examples[1].id, "test-et-1");
  EXPECT_EQ(examples[1].target, "Ma leidsin pileti tüki.");
  EXPECT_EQ(examples[1].gold, json({{"labeled", true},
                                    {"question", "effect"},
                                    {"choices", {"Ma leidsin relva.", "Ma leidsin pileti tüki."}},
                                    {"label", 1}}));
}

}  // namespace
}  // namespace stilts::data
