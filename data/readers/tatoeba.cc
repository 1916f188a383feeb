#include "data/readers/tatoeba.h"

#include <filesystem>
#include <stdexcept>

#include "data/readers/text_file.h"

namespace stilts::data {

namespace {

// "{xx}-en.{xx}" -> "xx"; empty when the name does not follow the layout.
std::string tatoeba_language(const std::string& name) {
  const size_t dash = name.find("-en.");
  if (dash == std::string::npos || name.substr(dash + 4) != name.substr(0, dash)) return "";
  return name.substr(0, dash);
}

}  // namespace

std::vector<Example> read_tatoeba(const std::string& path, const ReadOptions& options,
                                  ReadSummary& summary) {
  const std::string language = resolve_language(path, tatoeba_language(base_name(path)), options);
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  const std::string english_path = (dir / (language + "-en.en")).string();
  const std::string gold_path = (dir / ("test-" + language + ".tsv")).string();
  const std::vector<std::string> sentences = read_lines(path);
  const std::vector<std::string> english = read_lines(english_path);
  // The two sides are one list of pairs: a length mismatch breaks every index, so no record
  // can be skipped to recover from it.
  if (sentences.size() != english.size())
    throw RecordError(
        english_path, std::to_string(english.size()),
        "expected as many lines as " + path + " (" + std::to_string(sentences.size()) + ")");
  std::vector<std::string> gold;
  if (std::filesystem::exists(gold_path)) {
    gold = read_lines(gold_path);
    if (gold.size() != sentences.size())
      throw RecordError(
          gold_path, std::to_string(gold.size()),
          "expected one index per line of " + path + " (" + std::to_string(sentences.size()) + ")");
  }

  std::vector<Example> examples;
  for (size_t i = 0; i < sentences.size(); ++i)
    guarded(options, summary, [&] {
      Example query;
      query.id = language + "-" + std::to_string(i);
      query.language = language;
      query.input = sentences[i];
      query.gold["role"] = "query";
      query.gold["labeled"] = !gold.empty();
      if (!gold.empty()) {
        size_t parsed = 0;
        int64_t index = -1;
        try {
          index = std::stoll(gold[i], &parsed);
        } catch (const std::exception&) {
          parsed = 0;
        }
        if (parsed != gold[i].size() || index < 0 || index >= static_cast<int64_t>(english.size()))
          throw RecordError(gold_path, std::to_string(i + 1),
                            "expected an English line index in [0, " +
                                std::to_string(english.size()) + "), got '" + gold[i] + "'");
        query.gold["gold_index"] = index;
      }
      examples.push_back(std::move(query));
    });
  for (size_t j = 0; j < english.size(); ++j) {
    Example candidate;
    candidate.id = "en-" + std::to_string(j);
    candidate.language = "en";
    candidate.input = english[j];
    candidate.gold["role"] = "candidate";
    candidate.gold["index"] = j;
    examples.push_back(std::move(candidate));
  }
  summary.examples += static_cast<int64_t>(examples.size());
  return examples;
}

}  // namespace stilts::data
