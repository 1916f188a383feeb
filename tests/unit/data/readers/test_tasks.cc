#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <utility>

#include "data/languages.h"
#include "data/tasks.h"
#include "tests/unit/data/readers/fixtures.h"

namespace stilts::data {
namespace {

using testing::error_of;
using testing::fixture;
using ::testing::HasSubstr;

TEST(TaskTable, DispatchesByTaskName) {
  ReadSummary summary;
  EXPECT_EQ(read_task("xnli", fixture("xnli/dev-ar.tsv"), {}, summary).size(), 3u);
  EXPECT_EQ(read_task("udpos", fixture("udpos/dev-he.tsv"), {}, summary)[0].target,
            "NOUN VERB NOUN PUNCT");
  EXPECT_EQ(read_task("panx", fixture("panx/dev-ar.tsv"), {}, summary)[0].target,
            "O B-PER O B-LOC");
  EXPECT_EQ(
      read_task("tydiqa", fixture("tydiqa/tydiqa-goldp-v1.1-train/tydiqa.goldp.te.train.json"), {},
                summary)[0]
          .language,
      "te");
  EXPECT_EQ(summary.examples, 3 + 2 + 1 + 1);
}

TEST(TaskTable, SquadDefaultsToEnglish) {
  ReadSummary summary;
  const auto examples = read_task("squad", fixture("squad/train-v1.1.json"), {}, summary);
  ASSERT_EQ(examples.size(), 2u);
  EXPECT_EQ(examples[0].language, "en");
}

TEST(TaskTable, UnknownTaskListsTheKnownOnes) {
  ReadSummary summary;
  EXPECT_EQ(error_of([&] { read_task("xnlii", "x.tsv", {}, summary); }),
            "unknown task 'xnlii' (known tasks: xnli, pawsx, xcopa, udpos, panx, squad, xquad, "
            "mlqa, tydiqa, tatoeba, bucc2018, lareqa, mewslix, udhr, udhr-article, udhr-pairs, "
            "udhr-align, synth-text, synth-topic, synth-object, synth-align, mnli, snli, anli, "
            "qqp, sst2, squad_v2, hellaswag, cosmosqa, "
            "commonsenseqa, socialiqa, copa, ccg)");
}

TEST(TaskTable, MissingFileNamesThePath) {
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
  // 16 groups: Korean is Koreanic and Basque an isolate, each its own row (neither is pooled
  // with the other as "isolates"), and Haitian Creole is marked as a contact language.
  EXPECT_EQ(families.size(), 16u);
  EXPECT_EQ(find_language("ko")->family, "Koreanic");
  EXPECT_EQ(find_language("eu")->family, "Basque (isolate)");
  EXPECT_EQ(find_language("ht")->family, "Creole (contact language)");
  ASSERT_NE(find_language("he"), nullptr);
  EXPECT_EQ(find_language("he")->family, "Afro-Asiatic");
  EXPECT_EQ(find_language("xx"), nullptr);
  EXPECT_THAT(error_of([] { check_language("iw", "options.language"); }),
              HasSubstr("options.language: unknown language code 'iw'"));
}

TEST(TaskTable, OnlyTheUdhrReadersTakeAFolder) {
  for (const char* task : {"udhr", "udhr-article", "udhr-pairs", "udhr-align"})
    EXPECT_TRUE(task_spec(task).reads_folders) << task;
  for (const char* task : {"xnli", "squad", "tatoeba"})
    EXPECT_FALSE(task_spec(task).reads_folders) << task;
  EXPECT_EQ(find_task("nope"), nullptr);
}

// Rank classification compares the label words with the model's scores of each; they must be
// the targets the reader trains on, by label index.
TEST(TaskTable, LabelWordsAreTheReadersTargets) {
  ReadSummary summary;
  for (const auto& [task, file] :
       {std::pair{"xnli", "xnli/dev-ar.tsv"}, std::pair{"pawsx", "pawsx/dev-zh.tsv"}}) {
    const Evaluation& evaluation = *task_spec(task).evaluation;
    ASSERT_EQ(evaluation.label_words.size(), evaluation.file_labels.size()) << task;
    for (const Example& e : read_task(task, fixture(file), {}, summary))
      EXPECT_EQ(e.target, evaluation.label_words.at(e.gold.at("label_index").get<size_t>()))
          << task << " " << e.id;
  }
  EXPECT_EQ(task_spec("pawsx").evaluation->file_labels, (std::vector<std::string>{"0", "1"}));
}

TEST(TaskTable, EveryEvaluatedTaskHasItsLayoutAndLanguages) {
  for (const std::string& name : eval_task_names()) {
    const TaskSpec& task = task_spec(name);
    const Evaluation& evaluation = *task.evaluation;
    EXPECT_FALSE(evaluation.languages().empty()) << name;
    for (const std::string& language : evaluation.languages())
      for (const char* split : {"dev", "test"}) {
        const std::string path = data_file(task, "d", split, language);
        EXPECT_EQ(path.find('{'), std::string::npos) << path;
        EXPECT_EQ(path.rfind("d/", 0), 0u) << path;
      }
    if (evaluation.mode == InferenceMode::kRankLabels) {
      EXPECT_FALSE(evaluation.label_words.empty()) << name;
    }
    if (evaluation.mode == InferenceMode::kTags) {
      EXPECT_FALSE(evaluation.tags.empty()) << name;
    }
  }
  EXPECT_FALSE(task_spec("squad").evaluation.has_value());
  EXPECT_EQ(data_file(task_spec("xcopa"), "d", "dev", "th"), "d/xcopa/val-th.jsonl");
}

TEST(TaskTable, HelpTextsListTheTable) {
  EXPECT_EQ(name_list(retrieval_task_names()),
            "tatoeba, bucc2018, lareqa, mewslix, udhr-align, synth-align");
  const std::string help = eval_task_help();
  EXPECT_THAT(help, HasSubstr("xnli, pawsx, xcopa, udpos, panx, xquad, mlqa, tydiqa, tatoeba, "
                              "bucc2018: threshold chosen on the dev split, lareqa: "));
  EXPECT_THAT(help, HasSubstr("mewslix: candidates from candidate_set_entities.jsonl, "
                              "udhr-article, udhr-pairs, udhr-align"));
}

}  // namespace
}  // namespace stilts::data
