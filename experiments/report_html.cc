#include "experiments/report_html.h"

#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm.h>

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace stilts::experiments {

namespace fs = std::filesystem;

namespace {

// Wide tables scroll inside their own box (the page keeps its width) with the header row kept
// in view; the table of contents flows into columns, as a report has dozens of sections.
constexpr const char* kStyle = R"(
body { font: 15px/1.45 system-ui, sans-serif; color: #1f2328; margin: 0 auto; max-width: 80rem;
       padding: 1rem 2rem; }
h1, h2, h3 { line-height: 1.2; margin-top: 1.6em; }
code { background: #f2f2f2; padding: 0 .2em; border-radius: 3px; }
nav.toc { background: #f6f8fa; border: 1px solid #d0d7de; padding: .5rem 1.5rem; }
nav.toc h2 { margin-top: .5em; }
nav.toc > ul { columns: 22rem; }
nav.toc li { break-inside: avoid; }
.table-wrap { overflow: auto; width: fit-content; max-width: 100%; max-height: 85vh;
              border: 1px solid #d0d7de; margin: 1em 0; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: .3em .7em; text-align: left; white-space: nowrap;
         border-bottom: 1px solid #d0d7de; }
th { position: sticky; top: 0; background: #eaeef2; }
tbody tr:nth-child(even) { background: #f6f8fa; }
figure { margin: 1.5em 0; }
figure svg { width: 100%; max-width: 60rem; height: auto; }
figcaption { font-style: italic; }
section.checks { border: 1px solid #d0d7de; padding: 0 1.5rem .5rem; margin: 1em 0; }
.verdict { font-weight: bold; color: #fff; padding: 0 .4em; border-radius: 3px; }
.verdict.pass { background: #1a7f37; }
.verdict.fail { background: #cf222e; }
)";

struct DocumentFree {
  void operator()(cmark_node* node) const { cmark_node_free(node); }
};
struct ParserFree {
  void operator()(cmark_parser* parser) const { cmark_parser_free(parser); }
};

std::string escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '&')
      out += "&amp;";
    else if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '"')
      out += "&quot;";
    else
      out += c;
  }
  return out;
}

cmark_node* new_node(cmark_node_type type, const std::string& literal) {
  cmark_node* node = cmark_node_new(type);
  cmark_node_set_literal(node, literal.c_str());
  return node;
}

cmark_node* new_paragraph(const std::string& text) {
  cmark_node* paragraph = cmark_node_new(CMARK_NODE_PARAGRAPH);
  cmark_node_append_child(paragraph, new_node(CMARK_NODE_TEXT, text));
  return paragraph;
}

// Every node under `root` in document order, collected first so the tree can change after.
std::vector<cmark_node*> nodes_of(cmark_node* root) {
  std::vector<cmark_node*> nodes;
  cmark_iter* iter = cmark_iter_new(root);
  for (cmark_event_type event; (event = cmark_iter_next(iter)) != CMARK_EVENT_DONE;)
    if (event == CMARK_EVENT_ENTER) nodes.push_back(cmark_iter_get_node(iter));
  cmark_iter_free(iter);
  return nodes;
}

std::string plain_text(cmark_node* node) {
  std::string text;
  for (cmark_node* n : nodes_of(node)) {
    const cmark_node_type type = cmark_node_get_type(n);
    if (type == CMARK_NODE_TEXT || type == CMARK_NODE_CODE)
      text += cmark_node_get_literal(n);
    else if (type == CMARK_NODE_SOFTBREAK || type == CMARK_NODE_LINEBREAK)
      text += ' ';
  }
  return text;
}

void replace(cmark_node* node, cmark_node* replacement) {
  cmark_node_replace(node, replacement);
  cmark_node_free(node);
}

// The Markdown is free text (run ids are folder names, notes are the user's): what it holds
// as markup is shown as written, and nothing it links to is fetched or followed.
void neutralize(cmark_node* document) {
  for (cmark_node* node : nodes_of(document)) {
    const cmark_node_type type = cmark_node_get_type(node);
    if (type == CMARK_NODE_HTML_INLINE) {
      replace(node, new_node(CMARK_NODE_TEXT, cmark_node_get_literal(node)));
    } else if (type == CMARK_NODE_HTML_BLOCK) {
      std::string literal = cmark_node_get_literal(node);
      while (!literal.empty() && literal.back() == '\n') literal.pop_back();
      replace(node, new_paragraph(literal));
    } else if (type == CMARK_NODE_LINK || type == CMARK_NODE_IMAGE) {
      const std::string url = cmark_node_get_url(node);
      if (type == CMARK_NODE_LINK && url.starts_with('#')) continue;
      while (cmark_node* child = cmark_node_first_child(node))
        cmark_node_insert_before(node, child);
      if (!url.empty()) cmark_node_insert_before(node, new_node(CMARK_NODE_TEXT, " (" + url + ")"));
      cmark_node_unlink(node);
      cmark_node_free(node);
    }
  }
}

// gnuplot's SVG made fit to sit inside the page: the XML prolog dropped, the namespace
// declarations dropped (HTML puts inline SVG in its namespace itself, and they are URLs that
// the page must not name), and the ids, which every gnuplot SVG repeats (gpPt0, textbox, ...),
// prefixed per figure so that the page's ids stay unique and each figure uses its own.
std::string inline_svg(const fs::path& path, const std::string& prefix) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (!in) throw std::runtime_error("cannot read " + path.string());
  const std::string text = buffer.str();
  const size_t start = text.find("<svg");
  if (start == std::string::npos) throw std::runtime_error(path.string() + ": no <svg> element");
  std::string svg = text.substr(start);
  static const std::regex xmlns(R"re(\s+xmlns(:\w+)?\s*=\s*("[^"]*"|'[^']*'))re");
  static const std::regex id(R"re((\sid\s*=\s*)(["']))re");
  static const std::regex href(R"re((href\s*=\s*)(["'])#)re");
  static const std::regex url(R"re(url\(\s*#)re");
  svg = std::regex_replace(svg, xmlns, "");
  svg = std::regex_replace(svg, id, "$1$2" + prefix);
  svg = std::regex_replace(svg, href, "$1$2#" + prefix);
  return std::regex_replace(svg, url, "url(#" + prefix);
}

std::string figure_html(const Figure& figure, const fs::path& dir) {
  return "<figure id=\"figure-" + escape(figure.stem) + "\">\n" +
         inline_svg(dir / (figure.stem + ".svg"), figure.stem + "-") + "\n<figcaption>" +
         escape(figure.caption) + "</figcaption>\n</figure>";
}

// The section a level-2 heading titled `title` opens: the heading and what follows it up to
// the next heading of level 1 or 2. Empty when there is none.
std::vector<cmark_node*> section(cmark_node* document, const std::string& title) {
  std::vector<cmark_node*> nodes;
  for (cmark_node* node = cmark_node_first_child(document); node; node = cmark_node_next(node)) {
    const bool heading =
        cmark_node_get_type(node) == CMARK_NODE_HEADING && cmark_node_get_heading_level(node) <= 2;
    if (heading && !nodes.empty()) break;
    if (!nodes.empty() ||
        (heading && cmark_node_get_heading_level(node) == 2 && plain_text(node) == title))
      nodes.push_back(node);
  }
  return nodes;
}

// A check's list item opens with its verdict, plain or in bold: the word becomes a coloured mark.
void mark_verdict(cmark_node* item) {
  cmark_node* paragraph = cmark_node_first_child(item);
  if (!paragraph || cmark_node_get_type(paragraph) != CMARK_NODE_PARAGRAPH) return;
  cmark_node* text = cmark_node_first_child(paragraph);
  if (text && cmark_node_get_type(text) == CMARK_NODE_STRONG) text = cmark_node_first_child(text);
  if (!text || cmark_node_get_type(text) != CMARK_NODE_TEXT) return;
  const std::string literal = cmark_node_get_literal(text);
  struct Verdict {
    std::string word, css;
  };
  for (const Verdict& verdict : {Verdict{"PASS", "pass"}, Verdict{"FAIL", "fail"}}) {
    const size_t n = verdict.word.size();
    if (!literal.starts_with(verdict.word) ||
        (literal.size() > n && std::isalnum(static_cast<unsigned char>(literal[n]))))
      continue;
    cmark_node_insert_before(
        text, new_node(CMARK_NODE_HTML_INLINE,
                       "<span class=\"verdict " + verdict.css + "\">" + verdict.word + "</span>"));
    cmark_node_set_literal(text, literal.substr(n).c_str());
    return;
  }
}

std::string slug(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c)))
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    else if (!out.empty() && out.back() != '-')
      out += '-';
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.empty() ? "section" : out;
}

// Gives each level-2 and level-3 heading an anchor and returns the table of contents linking
// them, level 3 nested under the level 2 before it.
std::string anchor_headings(cmark_node* document) {
  std::set<std::string> ids;
  std::string toc = "<nav class=\"toc\">\n<h2>Contents</h2>\n<ul>\n";
  bool in_item = false, in_sublist = false;
  for (cmark_node* node : nodes_of(document)) {
    if (cmark_node_get_type(node) != CMARK_NODE_HEADING) continue;
    const int level = cmark_node_get_heading_level(node);
    if (level != 2 && level != 3) continue;
    const std::string text = plain_text(node);
    std::string id = slug(text);
    for (int n = 2; !ids.insert(id).second; ++n) id = slug(text) + '-' + std::to_string(n);
    cmark_node_prepend_child(node, new_node(CMARK_NODE_HTML_INLINE, "<a id=\"" + id + "\"></a>"));
    const std::string link = "<a href=\"#" + id + "\">" + escape(text) + "</a>";
    if (level == 2 || !in_item) {
      if (in_sublist) toc += "</ul>";
      if (in_item) toc += "</li>\n";
      toc += "<li>" + link;
      in_item = true;
      in_sublist = false;
    } else {
      if (!in_sublist) toc += "<ul>";
      toc += "<li>" + link + "</li>";
      in_sublist = true;
    }
  }
  if (in_sublist) toc += "</ul>";
  if (in_item) toc += "</li>\n";
  return toc + "</ul>\n</nav>";
}

}  // namespace

std::string report_html(const std::string& markdown, const PlotSet& plots) {
  std::string source = markdown;
  source +=
      "\n\n## Plots\n\nDrawn by gnuplot: the report folder's `plots/` holds the script "
      "`plots.gp`, the data and each figure as PNG and SVG.\n\n";
  for (const std::string& note : plots.notes) source += "- " + note + "\n";

  cmark_gfm_core_extensions_ensure_registered();
  std::unique_ptr<cmark_parser, ParserFree> parser(cmark_parser_new(CMARK_OPT_DEFAULT));
  cmark_parser_attach_syntax_extension(parser.get(), cmark_find_syntax_extension("table"));
  cmark_parser_feed(parser.get(), source.data(), source.size());
  std::unique_ptr<cmark_node, DocumentFree> document(cmark_parser_finish(parser.get()));
  cmark_node* doc = document.get();
  neutralize(doc);

  const fs::path plots_dir = fs::path(plots.script).parent_path();
  for (const Figure& figure : plots.figures)
    cmark_node_append_child(doc, new_node(CMARK_NODE_HTML_BLOCK, figure_html(figure, plots_dir)));
  for (cmark_node* node : nodes_of(doc))
    if (std::strcmp(cmark_node_get_type_string(node), "table") == 0) {
      cmark_node_insert_before(node, new_node(CMARK_NODE_HTML_BLOCK, "<div class=\"table-wrap\">"));
      cmark_node_insert_after(node, new_node(CMARK_NODE_HTML_BLOCK, "</div>"));
    }

  // The top of the page: the title, the checks where the report has them, then the contents.
  cmark_node* first = cmark_node_first_child(doc);
  const bool titled = first && cmark_node_get_type(first) == CMARK_NODE_HEADING &&
                      cmark_node_get_heading_level(first) == 1;
  const std::string title = titled ? plain_text(first) : "stilts report";
  cmark_node* cursor = titled ? first : nullptr;
  const auto place = [&](cmark_node* node) {
    if (cursor)
      cmark_node_insert_after(cursor, node);
    else
      cmark_node_prepend_child(doc, node);
    cursor = node;
  };
  if (const std::vector<cmark_node*> checks = section(doc, "Checks"); !checks.empty()) {
    for (cmark_node* node : checks)
      if (cmark_node_get_type(node) == CMARK_NODE_LIST)
        for (cmark_node* item = cmark_node_first_child(node); item; item = cmark_node_next(item))
          mark_verdict(item);
    place(new_node(CMARK_NODE_HTML_BLOCK, "<section class=\"checks\">"));
    for (cmark_node* node : checks) place(node);
    place(new_node(CMARK_NODE_HTML_BLOCK, "</section>"));
  }
  place(new_node(CMARK_NODE_HTML_BLOCK, anchor_headings(doc)));

  // Unsafe lets this file's own markup through: neutralize left the Markdown none of its own.
  char* body =
      cmark_render_html(doc, CMARK_OPT_UNSAFE, cmark_parser_get_syntax_extensions(parser.get()));
  std::string html =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>" +
      escape(title) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n" + body +
      "</body>\n</html>\n";
  std::free(body);
  return html;
}

}  // namespace stilts::experiments
