// The 50 XTREME-R languages, with the family and branch the reports group by. Kept in one
// table so every reader validates against the same list (until the report's
// experiments/languages.tsv exists, this is the only copy).
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
};

const std::vector<Language>& xtreme_r_languages();

// nullptr when the code is not one of the 50.
const Language* find_language(std::string_view code);

// Throws std::invalid_argument naming the code and `where` (a file, an option) when the code
// is not one of the 50.
void check_language(const std::string& code, const std::string& where);

}  // namespace stilts::data
