// The languages, with the family, branch and script the reports group by: by default the 50
// XTREME-R languages, whose one copy is experiments/languages.tsv; the build compiles it into this
// library (data/languages.tsv.cc.in), and it is parsed once, on first use, so every reader
// validates against the same list the reports group by.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace stilts::data {

struct Language {
  std::string_view code;  // ISO 639-1, as XTREME names its files
  std::string_view name;
  std::string_view family;
  std::string_view branch;  // empty where the family has none listed
  std::string_view script;  // ISO 15924, the script XTREME's data for the language is in
};

// In the order of experiments/languages.tsv (alphabetical by code).
const std::vector<Language>& xtreme_r_languages();

// The table find_language, check_language and language_codes consult: xtreme_r_languages()
// unless use_language_table replaced it. A study on other languages (the synthetic study of
// data/synthetic_study.h) brings its own table as a file in the same layout; the commands that
// read languages take it as --languages FILE and call use_language_table once, before reading
// anything (the table is process-wide and not synchronized).
const std::vector<Language>& language_table();
// Where language_table() came from, for messages: "the 50 XTREME-R languages" or the file.
const std::string& language_table_source();
// Reads the table in `path` and makes it language_table(). Throws std::invalid_argument naming
// the file (and the line) when it cannot be read or is malformed.
void use_language_table(const std::string& path);
// Makes xtreme_r_languages() the table again.
void use_xtreme_r_language_table();
// The codes of language_table(), in its order.
std::vector<std::string> language_codes();

// nullptr when the code is not in language_table().
const Language* find_language(std::string_view code);

// The code's family in language_table(), or "unknown" for a code outside it: the group the
// reports and the evaluation summaries put such a language in.
std::string family_of(std::string_view code);

// Throws std::invalid_argument naming the code, `where` (a file, an option) and the table when
// the code is not in language_table().
void check_language(const std::string& code, const std::string& where);

// Parses a table in the layout of experiments/languages.tsv: the header line
// "code\tname\tfamily\tbranch\tscript", then one language per line with those five
// tab-separated columns (branch may be empty). The views point into `tsv`. Throws
// std::invalid_argument naming `where` and the line on a malformed line or a repeated code.
std::vector<Language> parse_language_table(std::string_view tsv, const std::string& where);

}  // namespace stilts::data
