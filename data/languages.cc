#include "data/languages.h"

#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

namespace stilts::data {

// experiments/languages.tsv, compiled in by the build (data/languages.tsv.cc.in).
extern const char kLanguagesTsv[];

namespace {

std::vector<std::string_view> split_tabs(std::string_view line) {
  std::vector<std::string_view> fields;
  for (;;) {
    const size_t tab = line.find('\t');
    fields.push_back(line.substr(0, tab));
    if (tab == std::string_view::npos) return fields;
    line.remove_prefix(tab + 1);
  }
}

}  // namespace

std::vector<Language> parse_language_table(std::string_view tsv, const std::string& where) {
  std::vector<Language> languages;
  int line_number = 0;
  while (!tsv.empty()) {
    const size_t end = tsv.find('\n');
    std::string_view line = tsv.substr(0, end);
    tsv.remove_prefix(end == std::string_view::npos ? tsv.size() : end + 1);
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::string at = where + ":" + std::to_string(line_number) + ": ";
    if (line_number == 1) {
      if (line != "code\tname\tfamily\tbranch\tscript")
        throw std::invalid_argument(
            at + "expected the header 'code<TAB>name<TAB>family<TAB>branch<TAB>script'");
      continue;
    }
    if (line.empty()) continue;
    const std::vector<std::string_view> f = split_tabs(line);
    if (f.size() != 5)
      throw std::invalid_argument(at + "expected 5 tab-separated columns, found " +
                                  std::to_string(f.size()));
    for (int column : {0, 1, 2, 4})
      if (f[column].empty())
        throw std::invalid_argument(at + "empty column " + std::to_string(column + 1) +
                                    " (only branch may be empty)");
    for (const Language& seen : languages)
      if (seen.code == f[0])
        throw std::invalid_argument(at + "language code '" + std::string(f[0]) + "' repeated");
    languages.push_back({f[0], f[1], f[2], f[3], f[4]});
  }
  if (line_number == 0) throw std::invalid_argument(where + ": empty language table");
  return languages;
}

const std::vector<Language>& xtreme_r_languages() {
  static const std::vector<Language> languages =
      parse_language_table(kLanguagesTsv, "experiments/languages.tsv");
  return languages;
}

namespace {

struct ActiveTable {
  std::string text;  // the file's bytes, which the Language views point into
  std::vector<Language> languages;
  std::string source;
};

ActiveTable*& active_table() {
  static ActiveTable* table = nullptr;  // nullptr: the XTREME-R table
  return table;
}

}  // namespace

const std::vector<Language>& language_table() {
  return active_table() ? active_table()->languages : xtreme_r_languages();
}

const std::string& language_table_source() {
  static const std::string xtreme_r = "the 50 XTREME-R languages";
  return active_table() ? active_table()->source : xtreme_r;
}

void use_language_table(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::invalid_argument(path + ": cannot open the language table");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  auto table = std::make_unique<ActiveTable>();
  table->text = std::move(bytes).str();
  table->languages = parse_language_table(table->text, path);
  table->source = "the language table " + path;
  // The previous table is kept alive: views into it may still be held.
  active_table() = table.release();
}

void use_xtreme_r_language_table() {
  active_table() = nullptr;
}

std::vector<std::string> language_codes() {
  std::vector<std::string> codes;
  for (const Language& language : language_table()) codes.emplace_back(language.code);
  return codes;
}

const Language* find_language(std::string_view code) {
  for (const Language& language : language_table())
    if (language.code == code) return &language;
  return nullptr;
}

std::string family_of(std::string_view code) {
  const Language* language = find_language(code);
  return language ? std::string(language->family) : "unknown";
}

void check_language(const std::string& code, const std::string& where) {
  if (find_language(code) == nullptr)
    throw std::invalid_argument(where + ": unknown language code '" + code + "' (expected one of " +
                                language_table_source() + ")");
}

}  // namespace stilts::data
