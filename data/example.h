// A text-to-text example: what every task reader produces and every later stage (tokenizing,
// corpora, scoring) consumes.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace stilts::data {

struct Example {
  std::string id;        // stable within its source file (e.g. the SQuAD question id)
  std::string language;  // ISO 639-1 code as XTREME uses it ("en", "zh", ...)
  std::string input;     // the model input, with the task template applied
  std::string target;    // the target text
  nlohmann::json gold = nlohmann::json::object();  // what scoring needs: label, answers, tags
};

}  // namespace stilts::data
