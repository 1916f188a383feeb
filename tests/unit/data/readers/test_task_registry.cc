#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "data/languages.h"
#include "data/readers/task_registry.h"
#include "tests/unit/data/readers/fixtures.h"

namespace stilts::data {
namespace {

using testing::error_of;
using testing::fixture;
using ::testing::HasSubstr;

TEST(TaskRegistry, DispatchesByTaskName) {
  ReadSummary summary;
  EXPECT_EQ(read_task("xnli", fixture("xnli/dev-ar.tsv"), {}, summary).size(), 3u);
  EXPECT_EQ(read_task("udpos", fixture("udpos/dev-he.tsv"), {}, summary)[0].target,
            "NOUN VERB NOUN PUNCT");
  EXPECT_EQ(read_task("panx", fixture("panx/dev-ar.tsv"), {}, summary)[0].target,
            "O B-PER O B-LOC");
  EXPECT_EQ(
      read_task("tydiqa", fixture("tydiqa/tydiqa.goldp.te.train.json"), {}, summary)[0].language,
      "te");
  EXPECT_EQ(summary.examples, 3 + 2 + 1 + 1);
}

TEST(TaskRegistry, SquadDefaultsToEnglish) {
  ReadSummary summary;
  const auto examples = read_task("squad", fixture("squad/train-v1.1.json"), {}, summary);
  ASSERT_EQ(examples.size(), 2u);
  EXPECT_EQ(examples[0].language, "en");
}

TEST(TaskRegistry, UnknownTaskListsTheKnownOnes) {
  ReadSummary summary;
  EXPECT_EQ(error_of([&] { read_task("xnlii", "x.tsv", {}, summary); }),
            "unknown task 'xnlii' (known tasks: xnli, pawsx, xcopa, udpos, panx, squad, xquad, "
            "mlqa, tydiqa, tatoeba, bucc2018, lareqa, mewslix, udhr, udhr-article, udhr-pairs, "
            "udhr-align, mnli, snli, anli, qqp, sst2, squad_v2, hellaswag, cosmosqa, "
            "commonsenseqa, socialiqa, copa, ccg)");
}

TEST(TaskRegistry, MissingFileNamesThePath) {
  ReadSummary summary;
  EXPECT_EQ(error_of([&] { read_task("xquad", "/no/such/xquad.de.json", {}, summary); }),
            "cannot open /no/such/xquad.de.json");
}

TEST(Languages, TheFiftyXtremeRCodes) {
  const auto& languages = xtreme_r_languages();
  ASSERT_EQ(languages.size(), 50u);
  std::set<std::string_view> codes, families;
  for (const Language& language : languages) {
    codes.insert(language.code);
    families.insert(language.family);
  }
  EXPECT_EQ(codes.size(), 50u);
  // 14 families plus the isolates (Basque, Korean).
  EXPECT_EQ(families.size(), 15u);
  ASSERT_NE(find_language("he"), nullptr);
  EXPECT_EQ(find_language("he")->family, "Afro-Asiatic");
  EXPECT_EQ(find_language("xx"), nullptr);
  EXPECT_THAT(error_of([] { check_language("iw", "options.language"); }),
              HasSubstr("options.language: unknown language code 'iw'"));
}

TEST(TaskRegistry, OnlyTheUdhrReadersTakeAFolder) {
  for (const char* task : {"udhr", "udhr-article", "udhr-pairs", "udhr-align"})
    EXPECT_TRUE(task_reads_folders(task)) << task;
  for (const char* task : {"xnli", "squad", "tatoeba", "nope"})
    EXPECT_FALSE(task_reads_folders(task)) << task;
}

}  // namespace
}  // namespace stilts::data
