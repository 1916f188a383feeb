#include "data/readers/udhr.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "data/languages.h"
#include "data/readers/retrieval_roles.h"
#include "data/readers/text_file.h"

namespace stilts::data {

namespace {

std::string read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// Byte offset -> 1-based line, for errors.
class Lines {
 public:
  explicit Lines(std::string_view text) {
    for (size_t i = 0; i < text.size(); ++i)
      if (text[i] == '\n') newlines_.push_back(i);
  }
  std::string at(size_t offset) const {
    const auto before = std::lower_bound(newlines_.begin(), newlines_.end(), offset);
    return std::to_string(1 + (before - newlines_.begin()));
  }

 private:
  std::vector<size_t> newlines_;
};

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool is_alnum(char c) {
  return is_alpha(c) || (c >= '0' && c <= '9');
}

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

void append_utf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// The package writes '&' and '<' as &#x26; and &#x3C;; the named references are the ones
// hand-edited HTML commonly holds, the bidirectional and joiner marks included, which right-to-left
// and Indic text need.
const std::map<std::string_view, uint32_t>& named_references() {
  static const std::map<std::string_view, uint32_t> table = {
      {"amp", '&'},      {"lt", '<'},       {"gt", '>'},       {"quot", '"'},
      {"apos", '\''},    {"nbsp", 0xA0},    {"shy", 0xAD},     {"ndash", 0x2013},
      {"mdash", 0x2014}, {"lsquo", 0x2018}, {"rsquo", 0x2019}, {"ldquo", 0x201C},
      {"rdquo", 0x201D}, {"laquo", 0xAB},   {"raquo", 0xBB},   {"hellip", 0x2026},
      {"zwnj", 0x200C},  {"zwj", 0x200D},   {"lrm", 0x200E},   {"rlm", 0x200F},
  };
  return table;
}

// Appends `raw` (a text run starting at byte `at` of the file) with its character references
// decoded. A '&' that does not start a reference ("AT&T") is text, as in HTML; a reference that
// is malformed or unknown is an error rather than text, since it would be wrong data.
void decode_references(std::string_view raw, size_t at, const std::string& path, const Lines& lines,
                       std::string& out) {
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '&') {
      out += raw[i];
      continue;
    }
    const std::string where = lines.at(at + i);
    size_t end = i + 1;
    if (end < raw.size() && raw[end] == '#') {
      ++end;
      const bool hex = end < raw.size() && lower(raw[end]) == 'x';
      if (hex) ++end;
      const size_t digits = end;
      while (end < raw.size() && (hex ? std::isxdigit(static_cast<unsigned char>(raw[end]))
                                      : (raw[end] >= '0' && raw[end] <= '9')))
        ++end;
      uint32_t cp = 0;
      const std::errc error =
          std::from_chars(raw.data() + digits, raw.data() + end, cp, hex ? 16 : 10).ec;
      if (end == digits || end >= raw.size() || raw[end] != ';')
        throw RecordError(
            path, where,
            "malformed character reference '" +
                std::string(raw.substr(i, std::min<size_t>(end + 1, raw.size()) - i)) +
                "' (expected &#DIGITS; or &#xHEX;)");
      if (error != std::errc() || cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        throw RecordError(path, where,
                          "character reference '" + std::string(raw.substr(i, end + 1 - i)) +
                              "' is not a Unicode scalar value");
      append_utf8(cp, out);
      i = end;
      continue;
    }
    while (end < raw.size() && is_alnum(raw[end])) ++end;
    if (end == i + 1 || end >= raw.size() || raw[end] != ';') {
      out += '&';
      continue;
    }
    const std::string_view name = raw.substr(i + 1, end - i - 1);
    const auto found = named_references().find(name);
    if (found == named_references().end())
      throw RecordError(path, where, "unknown character reference '&" + std::string(name) + ";'");
    append_utf8(found->second, out);
    i = end;
  }
}

// Runs of ASCII whitespace become one space, as a browser renders them; other spaces (no-break,
// ideographic) are text and stay.
std::string normalize_space(std::string_view text) {
  std::string out;
  bool pending = false;
  for (const char c : text) {
    if (is_space(c)) {
      pending = !out.empty();
      continue;
    }
    if (pending) out += ' ';
    pending = false;
    out += c;
  }
  return out;
}

struct Tag {
  std::string name;  // lowercase
  bool end = false;
  bool self_closing = false;
  std::vector<std::pair<std::string, std::string>> attributes;  // lowercase names, raw values
  size_t at = 0;                                                // byte offset of '<'

  const std::string* attribute(std::string_view wanted) const {
    for (const auto& [name, value] : attributes)
      if (name == wanted) return &value;
    return nullptr;
  }
};

bool is_void_element(std::string_view name) {
  static constexpr std::string_view kVoid[] = {"area",  "base",   "br",    "col",  "embed",
                                               "hr",    "img",    "input", "link", "meta",
                                               "param", "source", "track", "wbr"};
  return std::find(std::begin(kVoid), std::end(kVoid), name) != std::end(kVoid);
}

// The HTML subset of the package, split into text runs and tags: `text(raw, at)` and `tag(Tag)`
// in document order. Comments, <!doctype>, <?...> and the content of <script> and <style> are
// skipped. A '<' that starts no tag is text. Unterminated markup is an error naming the line where
// it starts. Attribute values are returned raw (references undecoded).
class Scanner {
 public:
  Scanner(const std::string& path, std::string_view html, const Lines& lines)
      : path_(path), html_(html), lines_(lines) {}

  void run(const std::function<void(std::string_view, size_t)>& text,
           const std::function<void(const Tag&)>& tag) {
    size_t text_start = 0;
    while (pos_ < html_.size()) {
      if (html_[pos_] != '<' || !starts_markup()) {
        ++pos_;
        continue;
      }
      if (pos_ > text_start) text(html_.substr(text_start, pos_ - text_start), text_start);
      if (auto parsed = markup()) {
        tag(*parsed);
        if (!parsed->end && (parsed->name == "script" || parsed->name == "style"))
          skip_raw_text(*parsed);
      }
      text_start = pos_;
    }
    if (pos_ > text_start) text(html_.substr(text_start, pos_ - text_start), text_start);
  }

 private:
  bool starts_markup() const {
    if (pos_ + 1 >= html_.size()) return false;
    const char next = html_[pos_ + 1];
    return is_alpha(next) || next == '!' || next == '?' ||
           (next == '/' && pos_ + 2 < html_.size() && is_alpha(html_[pos_ + 2]));
  }

  [[noreturn]] void fail(size_t at, const std::string& what) const {
    throw RecordError(path_, lines_.at(at), what);
  }

  // Consumes the markup at pos_; a tag, or nothing for comments and declarations.
  std::optional<Tag> markup() {
    const size_t start = pos_;
    if (html_.substr(pos_, 4) == "<!--") {
      const size_t close = html_.find("-->", pos_ + 4);
      if (close == std::string_view::npos) fail(start, "comment '<!--' is never closed");
      pos_ = close + 3;
      return std::nullopt;
    }
    if (html_[pos_ + 1] == '!' || html_[pos_ + 1] == '?') {
      const size_t close = html_.find('>', pos_);
      if (close == std::string_view::npos) fail(start, "declaration '<!' is never closed");
      pos_ = close + 1;
      return std::nullopt;
    }
    Tag tag;
    tag.at = start;
    tag.end = html_[pos_ + 1] == '/';
    pos_ += tag.end ? 2 : 1;
    while (pos_ < html_.size() && (is_alnum(html_[pos_]) || html_[pos_] == '-'))
      tag.name += lower(html_[pos_++]);
    while (true) {
      while (pos_ < html_.size() && is_space(html_[pos_])) ++pos_;
      if (pos_ >= html_.size()) fail(start, "tag <" + tag.name + " is never closed by '>'");
      if (html_[pos_] == '>') {
        ++pos_;
        return tag;
      }
      if (html_[pos_] == '/') {
        ++pos_;
        if (pos_ < html_.size() && html_[pos_] == '>') tag.self_closing = true;
        continue;
      }
      std::string name;
      while (pos_ < html_.size() && !is_space(html_[pos_]) && html_[pos_] != '=' &&
             html_[pos_] != '>' && html_[pos_] != '/')
        name += lower(html_[pos_++]);
      while (pos_ < html_.size() && is_space(html_[pos_])) ++pos_;
      std::string value;
      if (pos_ < html_.size() && html_[pos_] == '=') {
        ++pos_;
        while (pos_ < html_.size() && is_space(html_[pos_])) ++pos_;
        if (pos_ < html_.size() && (html_[pos_] == '"' || html_[pos_] == '\'')) {
          const size_t close = html_.find(html_[pos_], pos_ + 1);
          if (close == std::string_view::npos)
            fail(pos_, "attribute '" + name + "' of <" + tag.name + "> has no closing quote");
          value = html_.substr(pos_ + 1, close - pos_ - 1);
          pos_ = close + 1;
        } else {
          while (pos_ < html_.size() && !is_space(html_[pos_]) && html_[pos_] != '>')
            value += html_[pos_++];
        }
      }
      tag.attributes.emplace_back(std::move(name), std::move(value));
    }
  }

  void skip_raw_text(const Tag& tag) {
    const std::string close = "</" + tag.name;
    for (size_t i = pos_; i + close.size() <= html_.size(); ++i) {
      size_t k = 0;
      while (k < close.size() && lower(html_[i + k]) == close[k]) ++k;
      if (k == close.size()) {
        pos_ = i;
        return;
      }
    }
    fail(tag.at, "<" + tag.name + "> is never closed");
  }

  const std::string& path_;
  std::string_view html_;
  const Lines& lines_;
  size_t pos_ = 0;
};

struct Paragraph {
  int64_t article;
  int64_t number;
  std::string text;
};

// The declaration's structure on top of the scanner: which container (preamble <header> or
// <article>) a <p> belongs to, and the paragraph text.
class DeclarationParser {
 public:
  DeclarationParser(const std::string& path, std::string_view html, const ReadOptions& options,
                    ReadSummary& summary)
      : path_(path), html_(html), lines_(html), options_(options), summary_(summary) {}

  void parse() {
    Scanner scanner(path_, html_, lines_);
    scanner.run([this](std::string_view raw, size_t at) { on_text(raw, at); },
                [this](const Tag& tag) { tag.end ? on_end(tag) : on_start(tag); });
    if (!open_.empty()) fail(open_.back().at, "<" + open_.back().name + "> is never closed");
    if (std::none_of(articles_.begin(), articles_.end(), [](const auto& a) { return a.first > 0; }))
      throw std::runtime_error(path_ +
                               ": no <article data-number=\"N\"> element (not a declaration "
                               "file of the udhr package)");
  }

  const std::string& iso6393() const { return iso6393_; }
  std::vector<Paragraph>& paragraphs() { return paragraphs_; }

 private:
  struct Open {
    std::string name;
    size_t at;
  };
  static constexpr int64_t kOutside = -1;  // not in the preamble or an article
  static constexpr int64_t kSkipped = -2;  // in an article whose number was bad

  [[noreturn]] void fail(size_t at, const std::string& what) const {
    throw RecordError(path_, lines_.at(at), what);
  }

  bool in_container() const { return article_ != kOutside; }

  void on_start(const Tag& tag) {
    if (is_void_element(tag.name) || tag.self_closing) {
      if (tag.name == "br" && in_paragraph_) pieces_.emplace_back(" ", tag.at);
      return;
    }
    if (tag.name == "html") {
      if (const std::string* iso = tag.attribute("data-iso6393")) iso6393_ = *iso;
    } else if (tag.name == "p") {
      if (in_paragraph_)
        fail(tag.at, "<p> inside the <p> opened at line " + lines_.at(paragraph_at_));
      in_paragraph_ = true;
      paragraph_at_ = tag.at;
      pieces_.clear();
      if (article_ >= 0) ++paragraph_;
    } else if (tag.name == "header" || tag.name == "article") {
      if (in_container() || in_paragraph_)
        fail(tag.at, "<" + tag.name + "> inside the <" + open_.back().name + "> opened at line " +
                         lines_.at(open_.back().at));
      start_container(tag);
    } else if (is_heading(tag.name)) {
      ++headings_;
    }
    open_.push_back({tag.name, tag.at});
  }

  void start_container(const Tag& tag) {
    article_ = kSkipped;
    paragraph_ = 0;
    guarded(options_, summary_, [&] {
      int64_t number = 0;
      if (tag.name == "article") {
        const std::string* value = tag.attribute("data-number");
        if (value == nullptr) fail(tag.at, "<article> without a data-number attribute");
        const auto [ptr, error] =
            std::from_chars(value->data(), value->data() + value->size(), number);
        if (error != std::errc() || ptr != value->data() + value->size() || number < 1)
          fail(tag.at, "<article> data-number '" + *value + "' is not an article number >= 1");
      }
      if (const auto seen = articles_.find(number); seen != articles_.end())
        fail(tag.at, (number == 0 ? std::string("a second preamble <header>")
                                  : "article " + std::to_string(number) + " appears again") +
                         " (first at line " + lines_.at(seen->second) + ")");
      articles_.emplace(number, tag.at);
      article_ = number;
    });
  }

  void on_end(const Tag& tag) {
    if (is_void_element(tag.name)) return;
    if (open_.empty()) fail(tag.at, "</" + tag.name + "> closes no element");
    if (open_.back().name != tag.name)
      fail(tag.at, "</" + tag.name + "> does not close the <" + open_.back().name +
                       "> opened at line " + lines_.at(open_.back().at));
    open_.pop_back();
    if (tag.name == "p") {
      in_paragraph_ = false;
      end_paragraph();
    } else if (tag.name == "header" || tag.name == "article") {
      article_ = kOutside;
    } else if (is_heading(tag.name)) {
      --headings_;
    }
  }

  void end_paragraph() {
    if (article_ == kSkipped) return;
    guarded(options_, summary_, [&] {
      if (article_ == kOutside)
        fail(paragraph_at_,
             "<p> outside the preamble <header> and every <article data-number=\"N\">");
      std::string raw;
      for (const auto& [piece, at] : pieces_) decode_references(piece, at, path_, lines_, raw);
      std::string text = normalize_space(raw);
      if (!text.empty()) paragraphs_.push_back({article_, paragraph_, std::move(text)});
    });
  }

  void on_text(std::string_view raw, size_t at) {
    if (headings_ > 0) return;
    if (in_paragraph_) {
      pieces_.emplace_back(raw, at);
      return;
    }
    if (article_ < 0) return;
    const auto first = std::find_if(raw.begin(), raw.end(), [](char c) { return !is_space(c); });
    if (first == raw.end()) return;
    guarded(options_, summary_, [&] {
      const size_t offset = static_cast<size_t>(first - raw.begin());
      std::string text = normalize_space(raw);
      if (text.size() > 40) {
        size_t length = 40;
        // Cut at a character boundary so the message stays valid UTF-8.
        while ((text[length] & 0xC0) == 0x80) --length;
        text = text.substr(0, length) + "...";
      }
      fail(at + offset, "text outside a <p>: '" + text + "'");
    });
  }

  static bool is_heading(std::string_view name) {
    return name == "title" ||
           (name.size() == 2 && name[0] == 'h' && name[1] >= '1' && name[1] <= '6');
  }

  const std::string& path_;
  std::string_view html_;
  Lines lines_;
  const ReadOptions& options_;
  ReadSummary& summary_;

  std::string iso6393_;
  std::vector<Open> open_;
  std::map<int64_t, size_t> articles_;  // number (0 = preamble) -> where it starts
  int64_t article_ = kOutside;
  int64_t paragraph_ = 0;
  int headings_ = 0;
  bool in_paragraph_ = false;
  size_t paragraph_at_ = 0;
  std::vector<std::pair<std::string_view, size_t>> pieces_;  // raw text runs and their offsets
  std::vector<Paragraph> paragraphs_;
};

std::string resolve_udhr_language(const std::string& path, const std::string& iso6393,
                                  const ReadOptions& options) {
  std::string code = iso6393;
  if (code.empty()) {
    std::string stem = base_name(path);
    stem = stem.substr(0, stem.find('.'));
    code = stem.substr(0, stem.find('_'));
  }
  const std::string_view language = udhr_language(code);
  if (!language.empty()) return std::string(language);
  if (options.language.empty())
    throw std::invalid_argument(path + ": UDHR language '" + code +
                                "' is none of the 50 XTREME-R languages (give the language "
                                "explicitly to read it anyway)");
  check_language(options.language, path);
  return options.language;
}

}  // namespace

std::string_view udhr_language(std::string_view iso6393) {
  // Individual languages and their macrolanguage codes. Left out on purpose: azb (South
  // Azerbaijani, Arabic script), prs (Dari), pnb (Western Punjabi, Shahmukhi) and the Central and
  // Ecuadorian Quechua varieties (qug, qvc, qwh): XTREME's az, fa, pa and qu data are North
  // Azerbaijani, Iranian Persian, Eastern Punjabi and Southern Quechua.
  static const std::map<std::string_view, std::string_view> table = {
      {"afr", "af"}, {"ara", "ar"}, {"arb", "ar"}, {"aze", "az"}, {"azj", "az"}, {"bul", "bg"},
      {"ben", "bn"}, {"deu", "de"}, {"ell", "el"}, {"eng", "en"}, {"spa", "es"}, {"est", "et"},
      {"ekk", "et"}, {"eus", "eu"}, {"fas", "fa"}, {"pes", "fa"}, {"fin", "fi"}, {"fra", "fr"},
      {"guj", "gu"}, {"heb", "he"}, {"hin", "hi"}, {"hat", "ht"}, {"hun", "hu"}, {"ind", "id"},
      {"ita", "it"}, {"jpn", "ja"}, {"jav", "jv"}, {"kat", "ka"}, {"kaz", "kk"}, {"kor", "ko"},
      {"lit", "lt"}, {"mal", "ml"}, {"mar", "mr"}, {"msa", "ms"}, {"zsm", "ms"}, {"zlm", "ms"},
      {"mya", "my"}, {"nld", "nl"}, {"pan", "pa"}, {"pol", "pl"}, {"por", "pt"}, {"que", "qu"},
      {"quy", "qu"}, {"quz", "qu"}, {"ron", "ro"}, {"rus", "ru"}, {"swa", "sw"}, {"swh", "sw"},
      {"tam", "ta"}, {"tel", "te"}, {"tha", "th"}, {"tgl", "tl"}, {"tur", "tr"}, {"ukr", "uk"},
      {"urd", "ur"}, {"vie", "vi"}, {"wol", "wo"}, {"yor", "yo"}, {"cmn", "zh"}, {"zho", "zh"},
  };
  const auto found = table.find(iso6393);
  return found == table.end() ? std::string_view() : found->second;
}

const std::vector<UdhrFile>& udhr_xtreme_r_files() {
  // Malay is mly_latn (ISO 639-3 zlm); the package has no zsm file.
  static const std::vector<UdhrFile> files = {
      {"af", "afr"},      {"ar", "arb"},        {"az", "azj_latn"},      {"bg", "bul"},
      {"bn", "ben"},      {"de", "deu_1996"},   {"el", "ell_monotonic"}, {"en", "eng"},
      {"es", "spa"},      {"et", "est"},        {"eu", "eus"},           {"fa", "pes_1"},
      {"fi", "fin"},      {"fr", "fra"},        {"gu", "guj"},           {"he", "heb"},
      {"hi", "hin"},      {"ht", "hat_kreyol"}, {"hu", "hun"},           {"id", "ind"},
      {"it", "ita"},      {"ja", "jpn"},        {"jv", "jav"},           {"ka", "kat"},
      {"kk", "kaz"},      {"ko", "kor"},        {"lt", "lit"},           {"ml", "mal"},
      {"mr", "mar"},      {"ms", "mly_latn"},   {"my", "mya"},           {"nl", "nld"},
      {"pa", "pan"},      {"pl", "pol"},        {"pt", "por_PT"},        {"qu", "quz"},
      {"ro", "ron_2006"}, {"ru", "rus"},        {"sw", "swh"},           {"ta", "tam"},
      {"te", "tel"},      {"th", "tha"},        {"tl", "tgl"},           {"tr", "tur"},
      {"uk", "ukr"},      {"ur", "urd"},        {"vi", "vie"},           {"wo", "wol"},
      {"yo", "yor"},      {"zh", "cmn_hans"},
  };
  return files;
}

namespace {

std::vector<Example> read_declaration(const std::string& path, const ReadOptions& options,
                                      ReadSummary& summary) {
  const std::string html = read_whole_file(path);
  DeclarationParser parser(path, html, options, summary);
  parser.parse();
  const std::string language = resolve_udhr_language(path, parser.iso6393(), options);

  const std::vector<int64_t>& articles = options.articles;
  std::vector<Example> examples;
  examples.reserve(parser.paragraphs().size());
  for (Paragraph& paragraph : parser.paragraphs()) {
    if (!articles.empty() &&
        !std::binary_search(articles.begin(), articles.end(), paragraph.article))
      continue;
    Example example;
    example.id = "udhr-" + language + "-a" + std::to_string(paragraph.article) + "-p" +
                 std::to_string(paragraph.number);
    example.language = language;
    example.input = std::move(paragraph.text);
    example.gold = {{"article", paragraph.article}, {"paragraph", paragraph.number}};
    examples.push_back(std::move(example));
  }
  // An empty selection would make an empty corpus or evaluation, which is never what was meant.
  if (examples.empty() && !articles.empty())
    throw std::runtime_error(path + ": no paragraph of the selected articles " +
                             udhr_articles_text(articles));
  summary.examples += static_cast<int64_t>(examples.size());
  return examples;
}

// The declarations a path names: a file is itself; a folder (the package, or its declaration/)
// holds options.language's declaration, or without a language every XTREME-R one it has.
std::vector<std::string> declaration_files(const std::string& path, const ReadOptions& options) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(path)) return {path};
  const fs::path folder = fs::is_directory(fs::path(path) / "declaration")
                              ? fs::path(path) / "declaration"
                              : fs::path(path);
  std::vector<std::string> files;
  for (const UdhrFile& file : udhr_xtreme_r_files()) {
    if (!options.language.empty() && file.language != options.language) continue;
    const fs::path html = folder / (std::string(file.code) + ".html");
    if (fs::is_regular_file(html)) files.push_back(html.string());
  }
  if (files.empty())
    throw std::runtime_error(
        path + ": no declaration " +
        (options.language.empty()
             ? "of an XTREME-R language (expected declaration/<code>.html, e.g. eng.html)"
             : std::string(udhr_file_code(options.language)) + ".html for language " +
                   options.language));
  return files;
}

using DeclarationReader = std::vector<Example> (*)(const std::string&, const ReadOptions&,
                                                   ReadSummary&);

std::vector<Example> read_each_declaration(const std::string& path, const ReadOptions& options,
                                           ReadSummary& summary, DeclarationReader read_one) {
  std::vector<Example> examples;
  for (const std::string& file : declaration_files(path, options)) {
    std::vector<Example> part = read_one(file, options, summary);
    std::move(part.begin(), part.end(), std::back_inserter(examples));
  }
  return examples;
}

}  // namespace

std::vector<Example> read_udhr(const std::string& path, const ReadOptions& options,
                               ReadSummary& summary) {
  return read_each_declaration(path, options, summary, read_declaration);
}

std::vector<int64_t> parse_udhr_articles(std::string_view selection) {
  const std::string expected =
      "expected article numbers from 0 (the preamble) to 30 and ranges of them, comma-separated, "
      "e.g. 0,11-20";
  const auto trimmed = [](std::string_view text) {
    while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
    while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
    return text;
  };
  const auto article = [&](std::string_view item, std::string_view text) {
    text = trimmed(text);
    int64_t number = -1;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (text.empty() || error != std::errc() || end != text.data() + text.size())
      throw std::invalid_argument("'" + std::string(item) +
                                  "' is neither an article number nor a range; " + expected);
    if (number > 30)
      throw std::invalid_argument("article " + std::to_string(number) +
                                  " is past the declaration's 30; " + expected);
    return number;
  };
  if (trimmed(selection).empty()) throw std::invalid_argument("no article named; " + expected);
  std::vector<bool> named(31, false);
  for (size_t start = 0; start <= selection.size();) {
    const size_t comma = std::min(selection.find(',', start), selection.size());
    const std::string_view item = trimmed(selection.substr(start, comma - start));
    const size_t dash = item.find('-');
    const int64_t first = article(item, item.substr(0, dash));
    const int64_t last =
        dash == std::string_view::npos ? first : article(item, item.substr(dash + 1));
    if (last < first)
      throw std::invalid_argument("the range '" + std::string(item) + "' runs backwards; " +
                                  expected);
    for (int64_t number = first; number <= last; ++number) {
      if (named[static_cast<size_t>(number)])
        throw std::invalid_argument("article " + std::to_string(number) + " is named twice in '" +
                                    std::string(selection) + "'; " + expected);
      named[static_cast<size_t>(number)] = true;
    }
    start = comma + 1;
  }
  std::vector<int64_t> articles;
  for (size_t number = 0; number < named.size(); ++number)
    if (named[number]) articles.push_back(static_cast<int64_t>(number));
  return articles;
}

std::string udhr_articles_text(const std::vector<int64_t>& articles) {
  std::string text;
  for (size_t i = 0; i < articles.size();) {
    size_t last = i;
    while (last + 1 < articles.size() && articles[last + 1] == articles[last] + 1) ++last;
    text += (text.empty() ? "" : ",") + std::to_string(articles[i]);
    if (last > i) text += "-" + std::to_string(articles[last]);
    i = last + 1;
  }
  return text;
}

std::string_view udhr_file_code(std::string_view language) {
  for (const UdhrFile& file : udhr_xtreme_r_files())
    if (file.language == language) return file.code;
  throw std::invalid_argument("no UDHR declaration for language '" + std::string(language) +
                              "' (expected one of the 50 XTREME-R languages)");
}

const std::vector<std::string>& udhr_article_labels() {
  static const std::vector<std::string> labels = [] {
    std::vector<std::string> words;
    for (int article = 0; article <= 30; ++article) words.push_back(std::to_string(article));
    return words;
  }();
  return labels;
}

std::vector<Example> read_udhr_article(const std::string& path, const ReadOptions& options,
                                       ReadSummary& summary) {
  std::vector<Example> paragraphs = read_udhr(path, options, summary);
  summary.examples -= static_cast<int64_t>(paragraphs.size());
  const auto labels = static_cast<int64_t>(udhr_article_labels().size());
  std::vector<Example> examples;
  for (Example& paragraph : paragraphs)
    guarded(options, summary, [&] {
      const int64_t article = paragraph.gold.at("article").get<int64_t>();
      if (article >= labels)
        throw RecordError(path, paragraph.id,
                          "article " + std::to_string(article) +
                              " is past the declaration's 30 (udhr-article's labels are 0..30)");
      paragraph.input = "udhr article: " + paragraph.input;
      paragraph.target = std::to_string(article);
      paragraph.gold["labeled"] = true;
      paragraph.gold["label"] = paragraph.target;
      paragraph.gold["label_index"] = article;
      examples.push_back(std::move(paragraph));
    });
  summary.examples += static_cast<int64_t>(examples.size());
  return examples;
}

const std::vector<std::string>& udhr_pairs_labels() {
  static const std::vector<std::string> labels = {"same", "different"};
  return labels;
}

namespace {

std::vector<Example> pairs_of_declaration(const std::string& path, const ReadOptions& options,
                                          ReadSummary& summary) {
  const std::vector<Example> paragraphs = read_declaration(path, options, summary);
  summary.examples -= static_cast<int64_t>(paragraphs.size());
  const size_t n = paragraphs.size();
  const auto article = [&](size_t i) { return paragraphs[i].gold.at("article").get<int64_t>(); };
  std::vector<Example> examples;
  const auto add = [&](size_t i, size_t j, bool same) {
    Example pair;
    pair.id =
        "udhr-pairs-" + paragraphs[i].language + "-" + std::to_string(i) + "-" + std::to_string(j);
    pair.language = paragraphs[i].language;
    pair.input = "udhr pairs: first: " + paragraphs[i].input + " second: " + paragraphs[j].input;
    pair.target = udhr_pairs_labels()[same ? 0 : 1];
    pair.gold = {{"labeled", true}, {"label", pair.target}, {"label_index", same ? 0 : 1}};
    examples.push_back(std::move(pair));
  };
  for (size_t i = 0; i < n; ++i) {
    if (i + 1 < n && article(i + 1) == article(i)) add(i, i + 1, true);
    size_t j = (i + n / 2) % n;
    size_t tried = 0;
    while (tried < n && article(j) == article(i)) {
      j = (j + 1) % n;
      ++tried;
    }
    if (tried < n) add(i, j, false);
  }
  summary.examples += static_cast<int64_t>(examples.size());
  return examples;
}

std::vector<Example> align_of_declaration(const std::string& path, const ReadOptions& options,
                                          ReadSummary& summary) {
  const std::string english_path =
      (std::filesystem::path(path).parent_path() / (std::string(udhr_file_code("en")) + ".html"))
          .string();
  if (!std::filesystem::is_regular_file(english_path))
    throw std::runtime_error(path + ": no English declaration " + english_path +
                             " beside it (udhr-align retrieves each paragraph's English one)");
  ReadSummary english_read;
  ReadOptions english_options = options;
  english_options.language = "en";
  const std::vector<Example> english =
      read_declaration(english_path, english_options, english_read);
  std::vector<Example> examples = read_declaration(path, options, summary);
  summary.examples -= static_cast<int64_t>(examples.size());

  std::map<std::pair<int64_t, int64_t>, size_t> english_index;
  for (size_t j = 0; j < english.size(); ++j)
    english_index[{english[j].gold.at("article").get<int64_t>(),
                   english[j].gold.at("paragraph").get<int64_t>()}] = j;
  for (Example& query : examples) {
    const auto counterpart = english_index.find(
        {query.gold.at("article").get<int64_t>(), query.gold.at("paragraph").get<int64_t>()});
    mark_query(query, counterpart == english_index.end() ? std::nullopt
                                                         : std::optional(counterpart->second));
  }
  append_candidates(examples, english);
  summary.examples += static_cast<int64_t>(examples.size());
  return examples;
}

}  // namespace

std::vector<Example> read_udhr_pairs(const std::string& path, const ReadOptions& options,
                                     ReadSummary& summary) {
  return read_each_declaration(path, options, summary, pairs_of_declaration);
}

std::vector<Example> read_udhr_align(const std::string& path, const ReadOptions& options,
                                     ReadSummary& summary) {
  return read_each_declaration(path, options, summary, align_of_declaration);
}

}  // namespace stilts::data
