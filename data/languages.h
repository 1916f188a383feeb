// The 50 XTREME-R languages, with the family, branch and script the reports group by. The one
// copy of the table is experiments/languages.tsv; the build compiles it into this library
// (data/languages.tsv.cc.in), and it is parsed once, on first use, so every reader validates
// against the same list the reports group by.
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

// nullptr when the code is not one of the 50.
const Language* find_language(std::string_view code);

// Throws std::invalid_argument naming the code and `where` (a file, an option) when the code
// is not one of the 50.
void check_language(const std::string& code, const std::string& where);

// Parses a table in the layout of experiments/languages.tsv: the header line
// "code\tname\tfamily\tbranch\tscript", then one language per line with those five
// tab-separated columns (branch may be empty). The views point into `tsv`. Throws
// std::invalid_argument naming `where` and the line on a malformed line or a repeated code.
std::vector<Language> parse_language_table(std::string_view tsv, const std::string& where);

}  // namespace stilts::data
