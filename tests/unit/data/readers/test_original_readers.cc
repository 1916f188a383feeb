// The readers of the labeled originals, the releases whose test labels XTREME's copies remove
// (docs/TASKS.md), on fixtures laid out as the releases unpack under download/<task>/original/.
#include <gtest/gtest.h>

#include "data/readers/conllu.h"
#include "data/readers/mewslix.h"
#include "data/readers/sentence_pair_release.h"
#include "data/readers/tagging.h"
#include "data/readers/xcopa.h"
#include "data/tasks.h"
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

ReadOptions with_split(const std::string& split) {
  ReadOptions options;
  options.split = split;
  return options;
}

ReadOptions skipping(ReadOptions options) {
  options.skip_bad_records = true;
  return options;
}

// Tokens and tags of tagging examples, one "token/TAG ..." string per example.
std::vector<std::string> tagged(const std::vector<Example>& examples) {
  std::vector<std::string> sentences;
  for (const Example& e : examples) {
    std::string sentence;
    for (size_t i = 0; i < e.gold.at("tokens").size(); ++i) {
      if (i > 0) sentence += ' ';
      sentence += e.gold.at("tokens")[i].get<std::string>();
      sentence += '/';
      sentence += e.gold.at("tags")[i].get<std::string>();
    }
    sentences.push_back(sentence);
  }
  return sentences;
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

TEST(ConlluReader, FolderOfTreebanksInNameOrder) {
  ReadSummary summary;
  const auto examples =
      read_udpos_conllu(original("udpos/original/en"), with_split("test"), summary);
  // en_ewt, then en_gum, whose text-less sentence and "Yes _" are dropped as XTREME drops them.
  EXPECT_EQ(tagged(examples),
            (std::vector<std::string>{
                "I/PRON 'm/AUX gonna/VERB go/VERB ./PUNCT",
                "Sue/PROPN likes/VERB coffee/NOUN and/CCONJ Bill/PROPN tea/NOUN ./PUNCT",
                "Use/VERB _/SYM here/ADV ./PUNCT", "Hello/INTJ there/ADV ./PUNCT"}));
  ASSERT_EQ(examples.size(), 4u);
  EXPECT_EQ(summary.examples, 4);
  EXPECT_EQ(examples[0].id, "test-en-0");
  EXPECT_EQ(examples[0].language, "en");
  EXPECT_EQ(examples[0].input, "udpos: I 'm gonna go .");
  EXPECT_EQ(examples[0].target, "PRON AUX VERB VERB PUNCT");
  EXPECT_EQ(examples[0].gold["labeled"], true);
  EXPECT_EQ(examples[3].id, "test-en-3");

  const auto dev = read_udpos_conllu(original("udpos/original/en"), with_split("dev"), summary);
  EXPECT_EQ(tagged(dev), std::vector<std::string>{"Dev/NOUN"});
  EXPECT_EQ(dev[0].id, "dev-en-0");
}

TEST(ConlluReader, MultiwordTokenTakesItsHeadsTag) {
  ReadSummary summary;
  // del, al: "de" and "el" tie as children of the noun, and Spanish ranks ADP before DET;
  // Dámelo: the verb heads its clitics.
  EXPECT_EQ(
      tagged(read_udpos_conllu(original("udpos/original/es/es_gsd-ud-test.conllu"), {}, summary)),
      (std::vector<std::string>{"Vino/VERB del/ADP mercado/NOUN al/ADP mediodía/NOUN ./PUNCT",
                                "Dámelo/VERB ./PUNCT"}));
  // zum: a tie that the default ranking gives to ADP, then DEPS giving "zu" a second head, so
  // that "dem" alone has the fewest ancestors.
  EXPECT_EQ(
      tagged(read_udpos_conllu(original("udpos/original/de/de_gsd-ud-test.conllu"), {}, summary)),
      (std::vector<std::string>{"Er/PRON geht/VERB zum/ADP Bahnhof/NOUN ./PUNCT",
                                "Er/PRON geht/VERB zum/DET Bahnhof/NOUN ./PUNCT"}));
}

TEST(ConlluReader, SpacesAndZeroWidthNonJoinersLeaveForms) {
  ReadSummary summary;
  EXPECT_EQ(tagged(read_udpos_conllu(original("udpos/original/fa/fa_seraji-ud-test.conllu"), {},
                                     summary)),
            std::vector<std::string>{"من/PRON میروم/VERB ./PUNCT"});
  const auto vietnamese =
      read_udpos_conllu(original("udpos/original/vi/vi_vtb-ud-test.conllu"), {}, summary);
  EXPECT_EQ(tagged(vietnamese), std::vector<std::string>{"HàNội/PROPN đẹp/ADJ ./PUNCT"});
  EXPECT_EQ(vietnamese[0].id, "test-vi-0");
}

TEST(ConlluReader, FolderNeedsASplitAndItsFiles) {
  ReadSummary summary;
  const std::string folder = original("udpos/original/de");
  EXPECT_EQ(error_of([&] { read_udpos_conllu(folder, {}, summary); }),
            folder +
                ": a folder of treebanks is read for one split, and ReadOptions::split is "
                "empty");
  EXPECT_EQ(error_of([&] { read_udpos_conllu(folder, with_split("dev"), summary); }),
            folder + ": no *-ud-dev.conllu file");
}

TEST(ConlluReader, MalformedSentencesNameTheLine) {
  const std::string path = original("malformed/udpos/es/es_gsd-ud-test.conllu");
  ReadSummary summary;
  EXPECT_EQ(error_of([&] { read_udpos_conllu(path, {}, summary); }),
            path + ":1: expected 10 tab-separated columns, got 9");
  ReadSummary skipped;
  const auto examples = read_udpos_conllu(path, skipping({}), skipped);
  ASSERT_EQ(examples.size(), 1u);
  EXPECT_EQ(examples[0].id, "test-es-2");  // bad sentences keep their places
  EXPECT_EQ(examples[0].target, "ADV PUNCT");
  EXPECT_EQ(skipped.skipped_reasons,
            (std::vector<std::string>{
                path + ":1: expected 10 tab-separated columns, got 9",
                path + ":3: the words of multiword token 'xy' tie as its head and UPOS 'NOUN' is "
                       "not in conllu_to_conll.py's precedence list",
                path + ":12: word ID '3', expected 2",
                path + ":15: the form '\u200c' is empty without spaces and U+200C",
                path + ":18: bad tag 'PUNCTUATION' for udpos"}));
}

TEST(PanxReleaseReader, LanguagePrefixDropped) {
  ReadSummary summary;
  const auto examples =
      read_panx_release(original("panx/original/sw/test"), with_language("sw"), summary);
  EXPECT_EQ(tagged(examples),
            (std::vector<std::string>{"Juma/B-PER anaishi/O Nairobi/B-LOC",
                                      "Benki/B-ORG Kuu/I-ORG ya/I-ORG Kenya/I-ORG :/O"}));
  ASSERT_EQ(examples.size(), 2u);
  EXPECT_EQ(examples[0].id, "test-sw-0");
  EXPECT_EQ(examples[0].language, "sw");
  EXPECT_EQ(examples[0].input, "panx: Juma anaishi Nairobi");
  EXPECT_EQ(examples[0].gold["labeled"], true);
  EXPECT_EQ(examples[1].id, "test-sw-1");
}

TEST(PanxReleaseReader, MalformedLinesNameTheLine) {
  const std::string path = original("malformed/panx/sw/test");
  ReadSummary summary;
  EXPECT_EQ(error_of([&] { read_panx_release(path, with_language("sw"), summary); }),
            path + ":2: expected {lang}:token, got 'Juma'");
  ReadSummary skipped;
  const auto examples = read_panx_release(path, skipping(with_language("sw")), skipped);
  EXPECT_EQ(tagged(examples), std::vector<std::string>{"Asante/O"});
  EXPECT_EQ(examples[0].id, "test-sw-1");
  EXPECT_EQ(skipped.skipped_reasons,
            (std::vector<std::string>{path + ":2: expected {lang}:token, got 'Juma'",
                                      path + ":6: bad tag 'B-CITY' for panx"}));
}

TEST(QaOriginalReaders, AnswersKept) {
  ReadSummary summary;
  const auto xquad = read_task("xquad", original("xquad/original/xquad.de.json"), {}, summary);
  ASSERT_EQ(xquad.size(), 2u);
  EXPECT_EQ(xquad[0].language, "de");
  EXPECT_EQ(xquad[0].target, "Berlin");
  EXPECT_EQ(xquad[1].gold["answers"],
            json({{"text", {"Köln", "durch Köln"}}, {"answer_start", {23, 17}}}));
  const auto mlqa = read_task(
      "mlqa", original("mlqa/original/MLQA_V1/test/test-context-hi-question-hi.json"), {}, summary);
  ASSERT_EQ(mlqa.size(), 1u);
  EXPECT_EQ(mlqa[0].language, "hi");
  EXPECT_EQ(mlqa[0].target, "दिल्ली");
  // TyDi QA's per-language dev files: the language is the one the question id starts with.
  const auto tydiqa = read_task(
      "tydiqa", original("tydiqa/original/tydiqa-goldp-v1.1-dev/tydiqa-goldp-dev-swahili.json"), {},
      summary);
  ASSERT_EQ(tydiqa.size(), 1u);
  EXPECT_EQ(tydiqa[0].id, "swahili--2229419735236429397-0");
  EXPECT_EQ(tydiqa[0].language, "sw");
  EXPECT_EQ(tydiqa[0].target, "Nairobi");
  EXPECT_EQ(tydiqa[0].gold["labeled"], true);
}

TEST(MewslixReleaseReader, MentionsOfOneLanguageWithTheirEntities) {
  const std::string path = original("mewslix/original/wikinews_mentions-test.jsonl");
  ReadSummary summary;
  const auto persian = read_mewslix(path, with_language("fa"), summary);
  ASSERT_EQ(persian.size(), 3u);
  EXPECT_EQ(persian[0].id, "fa-1");
  EXPECT_EQ(persian[0].language, "fa");
  EXPECT_EQ(persian[0].input, "تهران: { تهران } پایتخت ایران است.");
  EXPECT_EQ(persian[0].gold, json({{"role", "query"}, {"labeled", true}, {"entity_id", "Q3616"}}));
  EXPECT_EQ(persian[1].gold["entity_id"], "Q794");
  EXPECT_EQ(persian[2].id, "fa-3");
  const auto arabic = read_mewslix(path, with_language("ar"), summary);
  ASSERT_EQ(arabic.size(), 1u);
  EXPECT_EQ(arabic[0].gold["entity_id"], "Q85");
  EXPECT_EQ(error_of([&] { read_mewslix(path, {}, summary); }),
            path + ": the file name does not give the language and options.language is empty");

  const std::string bad = original("malformed/mewslix/wikinews_mentions-test.jsonl");
  EXPECT_EQ(error_of([&] { read_mewslix(bad, with_language("fa"), summary); }),
            bad + ":2:mentions[0].entity_id: missing, expected a string");
  EXPECT_EQ(error_of([&] { read_mewslix(bad, with_language("ar"), summary); }),
            bad + ":1:mentions[0].entity_id: expected a QID");
}

// The test split's file of every task with a labeled original, and what it reads.
TEST(TaskTable, TestSplitReadsTheLabeledOriginals) {
  struct Case {
    const char* task;
    const char* language;
    const char* file;
    size_t examples;
  };
  for (const Case& c : {
           Case{"xnli", "de", "xnli/original/XNLI-1.0/xnli.test.tsv", 3},
           Case{"pawsx", "de", "pawsx/original/x-final/de/test_2k.tsv", 3},
           Case{"xcopa", "et", "xcopa/original/data/et/test.et.jsonl", 2},
           Case{"udpos", "en", "udpos/original/en", 4},
           Case{"panx", "sw", "panx/original/sw/test", 2},
           Case{"xquad", "de", "xquad/original/xquad.de.json", 2},
           Case{"mlqa", "hi", "mlqa/original/MLQA_V1/test/test-context-hi-question-hi.json", 1},
           Case{"tydiqa", "sw",
                "tydiqa/original/tydiqa-goldp-v1.1-dev/tydiqa-goldp-dev-swahili.json", 1},
           Case{"mewslix", "fa", "mewslix/original/wikinews_mentions-test.jsonl", 3},
       }) {
    const TaskSpec& task = task_spec(c.task);
    const std::string path = data_file(task, testing::originals(), "test", c.language);
    EXPECT_EQ(path, original(c.file)) << c.task;
    ReadOptions options = with_language(c.language);
    options.split = "test";
    ReadSummary summary;
    const auto examples = read_evaluation_file(task, path, options, summary);
    EXPECT_EQ(examples.size(), c.examples) << c.task;
    for (const Example& e : examples) {
      EXPECT_EQ(e.gold.at("labeled"), true) << c.task << " " << e.id;
      EXPECT_EQ(e.language, c.language) << c.task << " " << e.id;
    }
  }
  // Dev stays on XTREME's files, read by the task's own reader.
  EXPECT_EQ(data_file(task_spec("udpos"), "d", "dev", "he"), "d/udpos/dev-he.tsv");
  EXPECT_EQ(data_file(task_spec("tydiqa"), "d", "dev", "sw"),
            "d/tydiqa/tydiqa-goldp-v1.1-dev/tydiqa.goldp.sw.dev.json");
  ReadOptions dev = with_language("he");
  dev.split = "dev";
  ReadSummary summary;
  EXPECT_EQ(
      read_evaluation_file(task_spec("udpos"), testing::fixture("udpos/dev-he.tsv"), dev, summary)
          .size(),
      2u);
  // Tasks whose test files XTREME keeps labeled, or whose test gold is not public, have none.
  for (const char* task : {"tatoeba", "bucc2018", "lareqa", "udhr-article", "udhr-align"})
    EXPECT_TRUE(task_spec(task).evaluation->test_layout.empty()) << task;
  EXPECT_EQ(error_of([] { data_file(task_spec("tydiqa"), "d", "test", "zh"); }),
            "tydiqa: no TyDi QA language 'zh'");
}

}  // namespace
}  // namespace stilts::data
