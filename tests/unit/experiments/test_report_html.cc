// report.html (experiments/report_html.h) from synthetic Markdown and SVG files: tables, inline
// figures, nothing referenced outside the page, the checks block, escaping of run ids and notes,
// the table of contents, and the refusals naming the figure's file. A browser opens a real
// report in tests/e2e/report_html.sh.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "experiments/report_html.h"
#include "tests/unit/error_of.h"
#include "tests/unit/temp_dir.h"

namespace stilts::experiments {
namespace {

using stilts::testing::error_of;
using stilts::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;

// What gnuplot's svg terminal writes, cut down: the prolog, the namespaces, definitions used by
// id, a raster image as a data: URI.
constexpr const char* kSvg = R"(<?xml version="1.0" encoding="utf-8"  standalone="no"?>
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">
<svg 
 viewBox="0 0 900 560"
 xmlns="http://www.w3.org/2000/svg"
 xmlns:xlink="http://www.w3.org/1999/xlink"
>
<defs>
	<path id='gpPt0' stroke='currentColor' d='M-1,0 h2 M0,-1 v2'/>
	<linearGradient id="shade"><stop offset="0"/></linearGradient>
</defs>
<g id="gnuplot_canvas">
	<use xlink:href='#gpPt0' x='10' y='20'/>
	<rect width='5' height='5' fill='url(#shade)'/>
	<image width='3' height='4' xlink:href='data:image/png;base64,iVBORw0KGgo='/>
	<text>gain &amp; size</text>
</g>
</svg>
)";

class ReportHtml : public ::testing::Test {
 protected:
  // A plot set whose figures' SVGs are kSvg, under the temporary folder.
  PlotSet plots(const std::vector<Figure>& figures, const std::vector<std::string>& notes = {}) {
    PlotSet set{dir_ / "plots.gp", figures, notes};
    for (const Figure& figure : figures) std::ofstream(dir_ / (figure.stem + ".svg")) << kSvg;
    return set;
  }

  TempDir dir_;
};

constexpr const char* kReport = R"(# stilts report

Runs from `runs`: 2 run(s) with results.

| target task | model | regime | seeds | runs |
|---|---|---|---|---|
| xnli | test-tiny | none | 1, 2 | tiny-none-1, tiny-none-2 |

## Method

Scores are means.

## xnli (accuracy, x100)

### test-tiny

| family | none |
|---|---|
| all (non-English) | 61.00 ± 1.41 |

## tatoeba (accuracy, x100)

### test-tiny

| family | none |
|---|---|
| all | 36.00 |
)";

// Every src= and href= value of the page.
std::vector<std::string> references(const std::string& html) {
  static const std::regex reference(R"re((?:src|href)\s*=\s*(?:"([^"]*)"|'([^']*)'))re");
  std::vector<std::string> found;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), reference);
       it != std::sregex_iterator(); ++it)
    found.push_back((*it)[1].matched ? (*it)[1].str() : (*it)[2].str());
  return found;
}

// The ids of the page that some element already has.
std::vector<std::string> repeated_ids(const std::string& html) {
  static const std::regex id(R"re(\sid=["']([^"']*))re");
  std::set<std::string> ids;
  std::vector<std::string> repeated;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), id); it != std::sregex_iterator();
       ++it)
    if (!ids.insert((*it)[1].str()).second) repeated.push_back((*it)[1].str());
  return repeated;
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST_F(ReportHtml, TablesBecomeScrollingTables) {
  const std::string html = report_html(kReport, plots({}));
  EXPECT_EQ(count(html, "<table>"), 3u);
  EXPECT_EQ(count(html, "<div class=\"table-wrap\">\n<table>"), 3u);
  EXPECT_THAT(html, HasSubstr("<th>target task</th>"));
  EXPECT_THAT(html, HasSubstr("<td>61.00 ± 1.41</td>"));
  EXPECT_THAT(html, Not(HasSubstr("|---|")));
  EXPECT_THAT(html, HasSubstr("<title>stilts report</title>"));
  // The stylesheet's scrolling box, sticky header row and zebra rows.
  EXPECT_THAT(html, HasSubstr("overflow: auto"));
  EXPECT_THAT(html, HasSubstr("position: sticky"));
  EXPECT_THAT(html, HasSubstr("nth-child(even)"));
}

TEST_F(ReportHtml, FiguresAreInlinedWithTheirCaptions) {
  const std::string html =
      report_html(kReport, plots({{"gain-xnli", "xnli: gain & size"}, {"heatmap-xnli", "heat"}},
                                 {"gain-mlm: no baseline run"}));
  EXPECT_EQ(count(html, "<svg"), 2u);
  EXPECT_THAT(html, HasSubstr("<figure id=\"figure-gain-xnli\">\n<svg"));
  EXPECT_THAT(html, HasSubstr("<figcaption>xnli: gain &amp; size</figcaption>"));
  EXPECT_THAT(html, HasSubstr("<figcaption>heat</figcaption>"));
  EXPECT_THAT(html, HasSubstr("<li>gain-mlm: no baseline run</li>"));
  EXPECT_THAT(html, Not(HasSubstr("<?xml")));
  EXPECT_THAT(html, Not(HasSubstr("DOCTYPE svg")));
  // Each figure's ids are its own, and its references follow them.
  EXPECT_THAT(html, HasSubstr("id='gain-xnli-gpPt0'"));
  EXPECT_THAT(html, HasSubstr("id='heatmap-xnli-gpPt0'"));
  EXPECT_THAT(html, HasSubstr("xlink:href='#heatmap-xnli-gpPt0'"));
  EXPECT_THAT(html, HasSubstr("fill='url(#gain-xnli-shade)'"));
  EXPECT_THAT(html, HasSubstr("<text>gain &amp; size</text>"));
  EXPECT_EQ(repeated_ids(html), std::vector<std::string>{});
}

TEST_F(ReportHtml, ReferencesNothingOutsideThePage) {
  const std::string markdown = std::string(kReport) +
                               "\n## Notes\n\n"
                               "See [the paper](https://example.org/paper), <https://example.org>, "
                               "![a figure](plots/old.png), [PNG](plots/gain.png) and "
                               "[Method](#method).\n";
  const std::string html = report_html(markdown, plots({{"gain-xnli", "gain"}}));
  for (const std::string& target : references(html))
    EXPECT_TRUE(target.starts_with('#') || target.starts_with("data:")) << target;
  EXPECT_THAT(html, HasSubstr("<a href=\"#method\">Method</a>"));
  // What a link pointed at stays readable as text.
  EXPECT_THAT(html, HasSubstr("the paper (https://example.org/paper)"));
  EXPECT_THAT(html, HasSubstr("a figure (plots/old.png)"));
  EXPECT_THAT(html, HasSubstr("PNG (plots/gain.png)"));
  EXPECT_THAT(html, Not(HasSubstr("<img")));
  EXPECT_THAT(html, Not(HasSubstr("<link")));
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("@import")));

  // A report naming no address names none in its page: gnuplot's namespace URLs are dropped.
  EXPECT_THAT(report_html(kReport, plots({{"gain-xnli", "gain"}})), Not(HasSubstr("http")));
}

TEST_F(ReportHtml, ChecksComeFirstPassGreenFailRed) {
  const std::string markdown = std::string(kReport) +
                               "\n## Checks\n\n"
                               "- PASS positive control: +4.20 [1.00, 7.40]\n"
                               "- **FAIL** negative control: +3.10 [0.50, 5.70]\n"
                               "- PASSABLE is no verdict\n"
                               "\n## Caveats\n\n- few seeds\n";
  const std::string html = report_html(markdown, plots({}));
  const size_t checks = html.find("<section class=\"checks\">");
  ASSERT_NE(checks, std::string::npos);
  EXPECT_LT(html.find("<h1>stilts report</h1>"), checks);
  EXPECT_LT(checks, html.find("<nav class=\"toc\">"));
  EXPECT_LT(html.find("</section>"), html.find("Runs from"));
  EXPECT_THAT(html, HasSubstr("<li><span class=\"verdict pass\">PASS</span> positive control: "
                              "+4.20 [1.00, 7.40]</li>"));
  EXPECT_THAT(html, HasSubstr("<li><strong><span class=\"verdict fail\">FAIL</span></strong> "
                              "negative control: +3.10 [0.50, 5.70]</li>"));
  EXPECT_THAT(html, HasSubstr("<li>PASSABLE is no verdict</li>"));
  EXPECT_THAT(html, HasSubstr(".verdict.pass { background: #1a7f37; }"));  // green
  EXPECT_THAT(html, HasSubstr(".verdict.fail { background: #cf222e; }"));  // red
  // The sections around it keep their order.
  EXPECT_LT(html.find("id=\"tatoeba-accuracy-x100\""), html.find("id=\"caveats\""));

  EXPECT_THAT(report_html(kReport, plots({})), Not(HasSubstr("class=\"checks\"")));
}

TEST_F(ReportHtml, EscapesRunIdsAndNotes) {
  const std::string markdown =
      "# stilts report\n\n"
      "Note: runs <b>small</b> & fast, 1 < 2 <script>alert(1)</script>\n\n"
      "<div onclick=\"x()\">a note that looks like HTML</div>\n\n"
      "| run |\n|---|\n| run<b>&1 |\n\n"
      "## Runs <i>a</i> & b\n";
  const std::string html = report_html(markdown, plots({{"f", "caption <i> & co"}}));
  EXPECT_THAT(html, HasSubstr("runs &lt;b&gt;small&lt;/b&gt; &amp; fast, 1 &lt; 2 "
                              "&lt;script&gt;alert(1)&lt;/script&gt;"));
  EXPECT_THAT(html, HasSubstr("<p>&lt;div onclick=&quot;x()&quot;&gt;a note that looks like "
                              "HTML&lt;/div&gt;</p>"));
  EXPECT_THAT(html, HasSubstr("<td>run&lt;b&gt;&amp;1</td>"));
  EXPECT_THAT(html, HasSubstr("<a href=\"#runs-i-a-i-b\">Runs &lt;i&gt;a&lt;/i&gt; &amp; b</a>"));
  EXPECT_THAT(html, HasSubstr("<figcaption>caption &lt;i&gt; &amp; co</figcaption>"));
  EXPECT_THAT(html, Not(HasSubstr("<b>")));
  EXPECT_THAT(html, Not(HasSubstr("<i>")));
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("onclick=\"")));
}

TEST_F(ReportHtml, ContentsLinkEverySection) {
  const std::string html = report_html(std::string(kReport) + "\n## test-tiny 2\n", plots({}));
  const std::string toc = html.substr(html.find("<nav"), html.find("</nav>") - html.find("<nav"));
  EXPECT_THAT(toc, HasSubstr("<li><a href=\"#method\">Method</a></li>"));
  EXPECT_THAT(toc, HasSubstr("<li><a href=\"#xnli-accuracy-x100\">xnli (accuracy, x100)</a><ul>"
                             "<li><a href=\"#test-tiny\">test-tiny</a></li></ul></li>"));
  // The same title twice gets two anchors.
  EXPECT_THAT(toc, HasSubstr("<li><a href=\"#test-tiny-2\">test-tiny</a></li>"));
  EXPECT_THAT(toc, HasSubstr("<li><a href=\"#test-tiny-2-2\">test-tiny 2</a></li>"));
  EXPECT_THAT(toc, HasSubstr("<li><a href=\"#plots\">Plots</a></li>"));
  EXPECT_EQ(repeated_ids(html), std::vector<std::string>{});
  for (const std::string& target : references(toc))
    EXPECT_THAT(html, HasSubstr("<a id=\"" + target.substr(1) + "\"></a>")) << target;
}

TEST_F(ReportHtml, RefusesAFigureWithoutItsSvg) {
  PlotSet set = plots({{"gain-xnli", "gain"}});
  set.figures.push_back({"missing", "gone"});
  EXPECT_THAT(error_of([&] { report_html(kReport, set); }),
              HasSubstr("cannot read " + dir_ / "missing.svg"));
  std::ofstream(dir_ / "broken.svg") << "<?xml version=\"1.0\"?>\n<html></html>\n";
  set.figures.back() = {"broken", "not an svg"};
  EXPECT_THAT(error_of([&] { report_html(kReport, set); }),
              HasSubstr(dir_ / "broken.svg" + ": no <svg> element"));
}

}  // namespace
}  // namespace stilts::experiments
