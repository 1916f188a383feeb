#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "data/readers/glue_tsv.h"
#include "data/readers/multiple_choice.h"
#include "data/readers/nli.h"
#include "data/readers/squad.h"
#include "data/readers/tagging.h"
#include "data/readers/xnli.h"
#include "data/tasks.h"
#include "tests/unit/data/readers/fixtures.h"

namespace stilts::data {
namespace {

using nlohmann::json;
using testing::error_of;
using ::testing::HasSubstr;

std::string intermediate(const std::string& relative) {
  return std::string(STILTS_FIXTURES) + "/intermediate/" + relative;
}

ReadOptions english(const std::string& split = "") {
  ReadOptions options;
  options.language = "en";
  options.split = split;
  return options;
}

ReadOptions skipping() {
  ReadOptions options = english();
  options.skip_bad_records = true;
  return options;
}

TEST(MultiNliJsonl, UsesTheXnliTemplateAndDropsPairsWithoutMajority) {
  ReadSummary summary;
  const auto examples =
      read_multinli_jsonl(intermediate("mnli/multinli_1.0_dev_matched.jsonl"), english(), summary);
  ASSERT_EQ(examples.size(), 3u);
  EXPECT_EQ(summary.examples, 3);
  EXPECT_EQ(summary.skipped, 0);
  EXPECT_EQ(examples[0].id, "63735n");
  EXPECT_EQ(examples[0].language, "en");
  EXPECT_EQ(examples[0].input,
            "xnli: premise: The new rights are nice enough hypothesis: Everyone really likes the "
            "newest benefits ");
  EXPECT_EQ(examples[0].target, "neutral");
  EXPECT_EQ(examples[0].gold, json({{"labeled", true}, {"label", "neutral"}, {"label_index", 1}}));
  EXPECT_EQ(examples[1].id, "123n");
  EXPECT_EQ(examples[1].target, "entailment");
  EXPECT_EQ(examples[2].input, "xnli: premise: She said \"never\". hypothesis: She said yes.");
  EXPECT_EQ(examples[2].gold["label_index"], 2);
}

TEST(MultiNliJsonl, ReadsSnliThroughTheRegistry) {
  ReadSummary summary;
  const auto examples = read_task("snli", intermediate("snli/snli_1.0_test.jsonl"), {}, summary);
  ASSERT_EQ(examples.size(), 2u);
  EXPECT_EQ(examples[1].id, "2677109430.jpg#1r1e");
  EXPECT_EQ(examples[1].language, "en");
  EXPECT_EQ(examples[1].target, "entailment");
}

TEST(MultiNliJsonl, MalformedLinesNameFileLineAndField) {
  const std::string path = intermediate("malformed/mnli/multinli_1.0_train.jsonl");
  ReadSummary summary;
  EXPECT_THAT(error_of([&] { read_multinli_jsonl(path, english(), summary); }),
              HasSubstr(path + ":2: invalid JSON at byte"));

  ReadSummary skipped;
  const auto examples = read_multinli_jsonl(path, skipping(), skipped);
  ASSERT_EQ(examples.size(), 1u);
  EXPECT_EQ(examples[0].id, "1n");
  EXPECT_EQ(skipped.skipped, 3);
  ASSERT_EQ(skipped.skipped_reasons.size(), 3u);
  EXPECT_EQ(skipped.skipped_reasons[1], path + ":3:sentence2: missing, expected a string");
  EXPECT_EQ(skipped.skipped_reasons[2],
            path +
                ":4:gold_label: bad label 'entails', expected one of 'entailment', "
                "'neutral', 'contradiction'");
}

TEST(Anli, MapsLetterLabelsToTheNliWords) {
  ReadSummary summary;
  const auto examples = read_task("anli", intermediate("anli/R1/dev.jsonl"), {}, summary);
  ASSERT_EQ(examples.size(), 3u);
  EXPECT_EQ(examples[0].id, "7f9e7a1c-2b6a-4a55-b4e5-5a3e1c6b1a01");
  EXPECT_EQ(examples[0].input,
            "xnli: premise: Marcello Fiasconaro (born 19 July 1949) is a former Italian middle "
            "distance runner. hypothesis: Fiasconaro was born in the summer.");
  EXPECT_EQ(examples[0].target, "entailment");
  EXPECT_EQ(examples[1].target, "contradiction");
  EXPECT_EQ(examples[2].gold, json({{"labeled", true}, {"label", "neutral"}, {"label_index", 1}}));

  const std::string bad = intermediate("malformed/anli/dev.jsonl");
  EXPECT_EQ(error_of([&] { read_anli(bad, english(), summary); }),
            bad + ":1:label: bad label 'x', expected one of 'e', 'n', 'c'");
}

TEST(GlueTsv, ReadsQqpByHeaderWithT5Template) {
  ReadSummary summary;
  const auto examples = read_qqp(intermediate("glue/QQP/dev.tsv"), english(), summary);
  ASSERT_EQ(examples.size(), 2u);
  EXPECT_EQ(examples[0].id, "40");
  // GLUE's TSVs are unquoted: the quotes are part of the text.
  EXPECT_EQ(examples[0].input,
            "qqp question1: How do I learn \"Python\" fast? question2: What is the fastest way to "
            "learn Python?");
  EXPECT_EQ(examples[0].target, "duplicate");
  EXPECT_EQ(examples[1].gold,
            json({{"labeled", true}, {"label", "not_duplicate"}, {"label_index", 0}}));
}

TEST(GlueTsv, TestFilesHaveNoLabelColumn) {
  ReadSummary summary;
  const auto qqp = read_task("qqp", intermediate("glue/QQP/test.tsv"), {}, summary);
  ASSERT_EQ(qqp.size(), 2u);
  EXPECT_EQ(qqp[1].id, "1");
  EXPECT_EQ(qqp[1].target, "");
  EXPECT_EQ(qqp[1].gold, json({{"labeled", false}}));

  const auto sst2 = read_task("sst2", intermediate("glue/SST-2/test.tsv"), {}, summary);
  ASSERT_EQ(sst2.size(), 2u);
  EXPECT_EQ(sst2[0].id, "0");
  EXPECT_EQ(sst2[0].input, "sst2 sentence: uneasy mishmash of styles and genres .");
}

TEST(GlueTsv, ReadsSst2TrainWithRowIds) {
  ReadSummary summary;
  const auto examples = read_sst2(intermediate("glue/SST-2/train.tsv"), english(), summary);
  ASSERT_EQ(examples.size(), 2u);
  EXPECT_EQ(examples[0].id, "train-0");
  EXPECT_EQ(examples[0].input, "sst2 sentence: hide new secretions from the parental units ");
  EXPECT_EQ(examples[0].target, "negative");
  EXPECT_EQ(examples[1].id, "train-1");
  EXPECT_EQ(examples[1].target, "positive");
}

TEST(GlueTsv, MalformedRowsAndHeaders) {
  const std::string qqp = intermediate("malformed/glue/QQP/train.tsv");
  ReadSummary summary;
  EXPECT_EQ(error_of([&] { read_qqp(qqp, english(), summary); }),
            qqp +
                ":3: expected 6 tab-separated columns (id, qid1, qid2, question1, question2, "
                "is_duplicate), got 4");
  ReadSummary skipped;
  EXPECT_EQ(read_qqp(qqp, skipping(), skipped).size(), 1u);
  EXPECT_EQ(skipped.skipped, 2);
  ASSERT_EQ(skipped.skipped_reasons.size(), 2u);
  EXPECT_EQ(skipped.skipped_reasons[1], qqp + ":4: bad is_duplicate '2', expected 0 or 1");

  // Without its header no row can be read, so even skipping throws.
  const std::string sst2 = intermediate("malformed/glue/SST-2/train.tsv");
  EXPECT_EQ(error_of([&] { read_sst2(sst2, skipping(), summary); }),
            sst2 + ":1: the header lacks column 'sentence', expected sentence, label");
}

TEST(MultipleChoice, HellaswagTargetIsTheCorrectEnding) {
  ReadSummary summary;
  const auto examples =
      read_task("hellaswag", intermediate("hellaswag/hellaswag_val.jsonl"), {}, summary);
  ASSERT_EQ(examples.size(), 2u);
  EXPECT_EQ(examples[0].id, "24");
  EXPECT_EQ(examples[0].input,
            "hellaswag: context: A man is sitting on a roof. he choice1: is using wrap to wrap a "
            "pair of skis. choice2: is ripping level tiles off. choice3: is holding a rubik's "
            "cube. choice4: starts pulling up roofing on a roof.");
  EXPECT_EQ(examples[0].target, "starts pulling up roofing on a roof.");
  EXPECT_EQ(examples[0].gold,
            json({{"labeled", true},
                  {"choices",
                   {"is using wrap to wrap a pair of skis.", "is ripping level tiles off.",
                    "is holding a rubik's cube.", "starts pulling up roofing on a roof."}},
                  {"label", 3}}));
  EXPECT_EQ(examples[1].target, "bends down and grabs the pole.");
}

TEST(MultipleChoice, HellaswagMalformed) {
  const std::string path = intermediate("malformed/hellaswag/hellaswag_train.jsonl");
  ReadSummary summary;
  EXPECT_EQ(error_of([&] { read_hellaswag(path, english(), summary); }),
            path + ":1:endings: expected 4 endings, got 3");
  ReadSummary skipped;
  const auto examples = read_hellaswag(path, skipping(), skipped);
  ASSERT_EQ(examples.size(), 1u);
  EXPECT_EQ(examples[0].id, "3");
  EXPECT_EQ(skipped.skipped, 2);
  ASSERT_EQ(skipped.skipped_reasons.size(), 2u);
  EXPECT_EQ(skipped.skipped_reasons[1], path + ":2:label: bad label 4, expected 0 to 3");
}

TEST(MultipleChoice, CosmosQa) {
  ReadSummary summary;
  const auto examples = read_cosmosqa(intermediate("cosmosqa/valid.jsonl"), english(), summary);
  ASSERT_EQ(examples.size(), 1u);
  EXPECT_EQ(examples[0].input,
            "cosmosqa: context: Do i need to go for a legal divorce ? I wanted to marry a woman "
            "but she is not in the same religion. question: Why is this person asking about "
            "divorce ? choice1: If he gets married in the church he wo nt have to get a divorce . "
            "choice2: He wants to get married to a different person . choice3: He wants to know "
            "if he does nt like this girl can he divorce her ? choice4: None of the above "
            "choices .");
  EXPECT_EQ(examples[0].target, "He wants to get married to a different person .");
  EXPECT_EQ(examples[0].gold["label"], 1);

  const std::string bad = intermediate("malformed/cosmosqa/train.jsonl");
  EXPECT_EQ(error_of([&] { read_cosmosqa(bad, english(), summary); }),
            bad + ":1:answer3: missing, expected a string");
}

TEST(MultipleChoice, CommonsenseQaAnswerKeyPicksTheChoice) {
  ReadSummary summary;
  const auto examples =
      read_task("commonsenseqa", intermediate("commonsenseqa/dev_rand_split.jsonl"), {}, summary);
  ASSERT_EQ(examples.size(), 2u);
  EXPECT_EQ(examples[0].id, "1afa02df02c908a558b4036e80242fac");
  EXPECT_EQ(examples[0].input,
            "commonsenseqa: question: A revolving door is convenient for two direction travel, "
            "but it also serves as a security measure at a what? choice1: bank choice2: library "
            "choice3: department store choice4: mall choice5: new york");
  EXPECT_EQ(examples[0].target, "bank");
  EXPECT_EQ(examples[1].target, "kill animals");
  EXPECT_EQ(examples[1].gold["label"], 2);

  const std::string bad = intermediate("malformed/commonsenseqa/train_rand_split.jsonl");
  EXPECT_EQ(error_of([&] { read_commonsenseqa(bad, english(), summary); }),
            bad + ":1:answerKey: bad answerKey 'F', not the label of a choice");
}

TEST(MultipleChoice, SocialIqaReadsOneBasedLabelsFromTheCompanionFile) {
  ReadSummary summary;
  const auto examples = read_task("socialiqa", intermediate("socialiqa/dev.jsonl"), {}, summary);
  ASSERT_EQ(examples.size(), 2u);
  EXPECT_EQ(examples[0].id, "dev-0");
  EXPECT_EQ(examples[0].input,
            "socialiqa: context: Tracy didn't go home that evening and resisted Riley's attacks. "
            "question: What does Tracy need to do before this? choice1: make a new plan choice2: "
            "Go home and see Riley choice3: Find somewhere to go");
  EXPECT_EQ(examples[0].target, "Find somewhere to go");
  EXPECT_EQ(examples[0].gold["label"], 2);
  EXPECT_EQ(examples[1].target, "sympathetic");
}

TEST(MultipleChoice, SocialIqaBadLabelsAndCountMismatch) {
  const std::string train = intermediate("malformed/socialiqa/train.jsonl");
  const std::string labels = intermediate("malformed/socialiqa/train-labels.lst");
  ReadSummary summary;
  EXPECT_EQ(error_of([&] { read_socialiqa(train, english(), summary); }),
            labels + ":2: bad label '4', expected 1, 2 or 3");
  ReadSummary skipped;
  EXPECT_EQ(read_socialiqa(train, skipping(), skipped).size(), 1u);
  EXPECT_EQ(skipped.skipped, 1);

  const std::string dev = intermediate("malformed/socialiqa/dev.jsonl");
  EXPECT_EQ(error_of([&] { read_socialiqa(dev, skipping(), summary); }),
            intermediate("malformed/socialiqa/dev-labels.lst") + " has 2 labels but " + dev +
                " has 1 records");
}

TEST(SquadV2, UnanswerableQuestionsAreLabeledWithEmptyTargets) {
  ReadSummary summary;
  const auto examples = read_task("squad_v2", intermediate("squad/dev-v2.0.json"), {}, summary);
  ASSERT_EQ(examples.size(), 2u);
  EXPECT_EQ(examples[0].target, "France");
  EXPECT_EQ(examples[0].gold["is_impossible"], false);
  EXPECT_EQ(examples[0].gold["answers"],
            json({{"text", {"France", "France"}}, {"answer_start", {104, 104}}}));
  EXPECT_EQ(examples[1].id, "5ad39d53604f3c001a3fe8d1");
  EXPECT_EQ(examples[1].language, "en");
  EXPECT_EQ(examples[1].target, "");
  const std::string context =
      "The Normans were the people who in the 10th and 11th centuries gave their name to "
      "Normandy, a region in France.";
  EXPECT_EQ(examples[1].gold,
            json({{"labeled", true},
                  {"question_id", "5ad39d53604f3c001a3fe8d1"},
                  {"context", context},
                  {"answers", {{"text", json::array()}, {"answer_start", json::array()}}},
                  {"is_impossible", true},
                  {"plausible_answers", {{"text", {"Normans"}}, {"answer_start", {4}}}}}));
}

TEST(SquadV2, MalformedImpossibleQuestions) {
  const std::string path = intermediate("malformed/squad/dev-v2.0.json");
  ReadSummary summary;
  EXPECT_EQ(error_of([&] { read_squad(path, english(), summary); }),
            path + ":data[0].paragraphs[0].qas[0].is_impossible: expected a boolean");
  ReadSummary skipped;
  EXPECT_TRUE(read_squad(path, skipping(), skipped).empty());
  ASSERT_EQ(skipped.skipped_reasons.size(), 2u);
  EXPECT_EQ(skipped.skipped_reasons[1],
            path +
                ":data[0].paragraphs[0].qas[1].answers: an unanswerable question (is_impossible) "
                "has 1 answers, expected none");
}

TEST(Ccg, OpenTagSetOfSupertags) {
  ReadSummary summary;
  const auto examples = read_task("ccg", intermediate("ccg/dev.tsv"), {}, summary);
  ASSERT_EQ(examples.size(), 2u);
  EXPECT_EQ(examples[0].id, "dev.tsv-0");
  EXPECT_EQ(examples[0].input, "ccg: Pierre Vinken , will");
  EXPECT_EQ(examples[0].target, "N/N N , (S[dcl]\\NP)/(S[b]\\NP)");
  EXPECT_EQ(examples[1].gold, json({{"labeled", true},
                                    {"tokens", {"He", "runs", "."}},
                                    {"tags", {"NP", "S[dcl]\\NP", "."}}}));

  const std::string bad = intermediate("malformed/ccg/train.tsv");
  EXPECT_EQ(error_of([&] { read_tagging(bad, ccg_task(), english(), summary); }),
            bad + ":2: bad tag '' for ccg");
  ReadSummary skipped;
  EXPECT_EQ(read_tagging(bad, ccg_task(), skipping(), skipped).size(), 1u);
  EXPECT_EQ(skipped.skipped, 1);
}

TEST(Copa, SuperGlueCopaThroughTheXcopaReader) {
  ReadSummary summary;
  const auto examples = read_task("copa", intermediate("copa/val.jsonl"), {}, summary);
  ASSERT_EQ(examples.size(), 2u);
  EXPECT_EQ(examples[0].id, "val.jsonl-0");
  EXPECT_EQ(examples[0].language, "en");
  EXPECT_EQ(examples[0].target, "He dropped a hammer on his foot.");
}

TEST(TranslateTrain, XnliTranslatedFilesAreUnquotedAndSpellContradictory) {
  ReadSummary summary;
  const auto examples =
      read_task("xnli", intermediate("translate-train/xnli/XNLI-Translated/en-ar-translated.tsv"),
                {}, summary);
  ASSERT_EQ(examples.size(), 2u);
  EXPECT_EQ(examples[0].id, "translate-train-ar-0");
  EXPECT_EQ(examples[0].language, "ar");
  // The leading quote is text: XTREME reads these files without quoting.
  EXPECT_EQ(examples[0].input, "xnli: premise: \"الرجل\" يقرأ كتابا. hypothesis: الرجل يقرأ.");
  EXPECT_EQ(examples[0].target, "entailment");
  EXPECT_EQ(examples[1].target, "contradiction");
  EXPECT_EQ(examples[1].gold,
            json({{"labeled", true}, {"label", "contradiction"}, {"label_index", 2}}));

  const std::string bad =
      intermediate("malformed/translate-train/xnli/XNLI-Translated/en-ar-translated.tsv");
  EXPECT_EQ(error_of([&] { read_xnli(bad, {}, summary); }),
            bad +
                ":1: bad label 'contradicts', expected one of 'entailment', 'neutral', "
                "'contradiction'");
}

TEST(TranslateTrain, PawsxTranslatedFiles) {
  ReadSummary summary;
  const auto examples = read_task(
      "pawsx", intermediate("translate-train/pawsx/translated/en-ja-translated.tsv"), {}, summary);
  ASSERT_EQ(examples.size(), 2u);
  EXPECT_EQ(examples[0].id, "translate-train-ja-0");
  EXPECT_EQ(examples[0].language, "ja");
  EXPECT_EQ(
      examples[0].input,
      "paws sentence1: ロンドンはイギリスの首都です。 sentence2: イギリスの首都はロンドンです。");
  EXPECT_EQ(examples[0].target, "paraphrase");
  EXPECT_EQ(examples[1].target, "different_meaning");
}

TEST(TranslateTrain, SquadAndTydiqaTranslatedFilesNameTheLanguage) {
  ReadSummary summary;
  const auto squad = read_task(
      "xquad",
      intermediate("translate-train/squad/translate-train/squad.translate.train.en-hi.json"), {},
      summary);
  ASSERT_EQ(squad.size(), 1u);
  EXPECT_EQ(squad[0].language, "hi");
  EXPECT_EQ(squad[0].target, "फ्रांस");
  // answer_start counts code points, not the Devanagari text's bytes.
  EXPECT_EQ(squad[0].gold["answers"], json({{"text", {"फ्रांस"}}, {"answer_start", {46}}}));

  const auto tydiqa = read_task(
      "tydiqa",
      intermediate("translate-train/tydiqa/translate-train/tydiqa.translate.train.en-te.json"), {},
      summary);
  ASSERT_EQ(tydiqa.size(), 1u);
  EXPECT_EQ(tydiqa[0].language, "te");
  EXPECT_EQ(tydiqa[0].input, "question: తెలంగాణ రాజధాని ఏది? context: హైదరాబాద్ తెలంగాణ రాజధాని.");
  EXPECT_EQ(tydiqa[0].target, "హైదరాబాద్");
}

TEST(TranslateTrain, TydiqaReleaseTakesEachQuestionsLanguageFromItsId) {
  ReadSummary summary;
  const auto examples =
      read_task("tydiqa", intermediate("tydiqa/tydiqa-goldp-v1.1-train.json"), {}, summary);
  ASSERT_EQ(examples.size(), 2u);
  EXPECT_EQ(examples[0].id, "arabic--4087384713271925574-0");
  EXPECT_EQ(examples[0].language, "ar");
  EXPECT_EQ(examples[0].target, "القاهرة");
  EXPECT_EQ(examples[0].gold["answers"], json({{"text", {"القاهرة"}}, {"answer_start", {13}}}));
  EXPECT_EQ(examples[1].language, "sw");

  const std::string bad = intermediate("malformed/tydiqa/tydiqa-goldp-v1.1-train.json");
  EXPECT_EQ(error_of([&] { read_squad(bad, {}, summary); }),
            bad +
                ":data[1].paragraphs[0].qas[0].id: question id 'klingon-1-0' does not start with "
                "a TyDi QA language name");
  ReadOptions skip;
  skip.skip_bad_records = true;
  ReadSummary skipped;
  EXPECT_EQ(read_squad(bad, skip, skipped).size(), 1u);
  EXPECT_EQ(skipped.skipped, 1);
}

TEST(IntermediateTasks, RejectUnknownLanguage) {
  ReadOptions options;
  options.language = "xx";
  ReadSummary summary;
  EXPECT_THAT(error_of([&] {
                read_task("mnli", intermediate("snli/snli_1.0_test.jsonl"), options, summary);
              }),
              HasSubstr("unknown language code 'xx'"));
}

}  // namespace
}  // namespace stilts::data
