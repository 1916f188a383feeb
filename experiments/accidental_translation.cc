#include "experiments/accidental_translation.h"

#include <unicode/uscript.h>
#include <unicode/utf8.h>

#include <map>

namespace stilts::experiments {

std::string dominant_script(std::string_view utf8) {
  std::map<std::string, int64_t> counts;  // ordered: ties go to the first name
  const auto length = static_cast<int32_t>(utf8.size());
  for (int32_t i = 0; i < length;) {
    UChar32 c = 0;
    U8_NEXT(utf8.data(), i, length, c);
    if (c < 0) continue;
    UErrorCode error = U_ZERO_ERROR;
    const UScriptCode script = uscript_getScript(c, &error);
    if (U_FAILURE(error) || script == USCRIPT_COMMON || script == USCRIPT_INHERITED ||
        script == USCRIPT_UNKNOWN)
      continue;
    ++counts[uscript_getShortName(script)];
  }
  std::string best;
  int64_t most = 0;
  for (const auto& [script, count] : counts)
    if (count > most) {
      best = script;
      most = count;
    }
  return best;
}

bool script_matches(std::string_view script, std::string_view language_script) {
  if (script.empty() || script == language_script) return true;
  if (language_script == "Jpan") return script == "Hani" || script == "Hira" || script == "Kana";
  if (language_script == "Hang" || language_script == "Kore")
    return script == "Hang" || script == "Hani";
  if (language_script == "Hans" || language_script == "Hant") return script == "Hani";
  return false;
}

void AccidentalTranslation::add(std::string_view prediction, std::string_view context) {
  if (prediction.empty()) return;
  ++answers;
  if (!script_matches(dominant_script(prediction), language_script)) ++other_script;
  if (context.find(prediction) == std::string_view::npos) ++not_in_context;
}

nlohmann::json AccidentalTranslation::to_json() const {
  auto share = [&](int64_t n) {
    return answers > 0 ? nlohmann::json(static_cast<double>(n) / static_cast<double>(answers))
                       : nlohmann::json(nullptr);
  };
  return {{"script", language_script},
          {"answers", answers},
          {"other_script", other_script},
          {"not_in_context", not_in_context},
          {"other_script_share", share(other_script)},
          {"not_in_context_share", share(not_in_context)}};
}

}  // namespace stilts::experiments
