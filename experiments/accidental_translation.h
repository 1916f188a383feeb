// Accidental translation (Xue et al. 2021, mT5, section 5): a model fine-tuned on English alone
// and asked in another language sometimes answers in English, or translates the answer instead
// of copying it from the context. `stilts eval` measures it per language on the generation
// tasks (QA: xquad, mlqa, tydiqa): the share of answers whose dominant script is not the
// language's (data/languages.h, ISO 15924), and the share of answers that do not occur in the
// context.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace stilts::experiments {

// The ISO 15924 short name ("Latn", "Cyrl", "Hani", ...) of the script most code points of
// `utf8` belong to, by ICU's uscript_getScript; code points of the Common and Inherited
// scripts (digits, punctuation, spaces, combining marks) and invalid bytes are not counted;
// ties go to the alphabetically first name. "" when no code point has a script of its own.
std::string dominant_script(std::string_view utf8);

// Whether text whose dominant script is `script` is in `language_script` (a language's
// script in data/languages.h): the same code, or one of the scripts a composite code stands
// for (Jpan: Hani, Hira, Kana; Hang, as XTREME's Korean: Hang, Hani; Hans, Hant: Hani). Text
// without a script of its own ("") matches every language.
bool script_matches(std::string_view script, std::string_view language_script);

// Counts over one language's non-empty answers.
struct AccidentalTranslation {
  std::string language_script;
  int64_t answers = 0;         // non-empty predictions
  int64_t other_script = 0;    // whose dominant script does not match language_script
  int64_t not_in_context = 0;  // that are no substring of their context

  // Counts one prediction (an empty one is not counted).
  void add(std::string_view prediction, std::string_view context);
  // {"script", "answers", "other_script", "not_in_context", "other_script_share",
  //  "not_in_context_share"} (the shares null without answers).
  nlohmann::json to_json() const;
};

}  // namespace stilts::experiments
