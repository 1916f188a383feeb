#include "data/readers/bucc.h"

#include <filesystem>
#include <map>
#include <set>

#include "data/readers/text_file.h"

namespace stilts::data {

namespace {

struct BuccName {
  std::string language;
  std::string split;
};

// "{xx}-en.{split}.{xx}"; nullopt when the name does not follow the layout.
std::optional<BuccName> parse_bucc_name(const std::string& name) {
  const size_t dash = name.find("-en.");
  const size_t dot = name.rfind('.');
  if (dash == std::string::npos || dot <= dash + 4) return std::nullopt;
  BuccName parsed{name.substr(0, dash), name.substr(dash + 4, dot - dash - 4)};
  if (name.substr(dot + 1) != parsed.language) return std::nullopt;
  return parsed;
}

// "{id}<TAB>{sentence}" lines; a bad line is skipped per options.
std::vector<std::pair<std::string, std::string>> read_id_sentences(const std::string& path,
                                                                   const ReadOptions& options,
                                                                   ReadSummary& summary) {
  std::vector<std::pair<std::string, std::string>> rows;
  for_each_tsv_row(path, Quoting::none, options, summary, [&](int64_t line, const auto& columns) {
    if (columns.size() != 2 || columns[0].empty())
      throw RecordError(
          path, std::to_string(line),
          "expected 2 tab-separated columns (id, sentence), got " + std::to_string(columns.size()));
    rows.emplace_back(columns[0], columns[1]);
  });
  return rows;
}

}  // namespace

std::vector<Example> read_bucc(const std::string& path, const ReadOptions& options,
                               ReadSummary& summary) {
  const std::string name = base_name(path);
  const auto parsed = parse_bucc_name(name);
  const std::string language = resolve_language(path, parsed ? parsed->language : "", options);
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  const std::string stem =
      language + "-en." + (parsed ? parsed->split : resolve_split("", options));
  const std::string english_path = (dir / (stem + ".en")).string();
  const std::string gold_path = (dir / (stem + ".gold")).string();

  const auto sentences = read_id_sentences(path, options, summary);
  const auto english = read_id_sentences(english_path, options, summary);
  const bool labeled = std::filesystem::exists(gold_path);
  std::map<std::string, std::vector<std::string>> pairs;
  if (labeled) {
    std::set<std::string> ids, english_ids;
    for (const auto& row : sentences) ids.insert(row.first);
    for (const auto& row : english) english_ids.insert(row.first);
    for_each_tsv_row(
        gold_path, Quoting::none, options, summary, [&](int64_t line, const auto& columns) {
          const std::string where = std::to_string(line);
          if (columns.size() != 2)
            throw RecordError(
                gold_path, where,
                "expected 2 tab-separated ids, got " + std::to_string(columns.size()) + " columns");
          if (!ids.count(columns[0]))
            throw RecordError(gold_path, where, "id '" + columns[0] + "' is not in " + path);
          if (!english_ids.count(columns[1]))
            throw RecordError(gold_path, where,
                              "id '" + columns[1] + "' is not in " + english_path);
          pairs[columns[0]].push_back(columns[1]);
        });
  }

  std::vector<Example> examples;
  for (const auto& [id, sentence] : sentences) {
    Example query;
    query.id = id;
    query.language = language;
    query.input = sentence;
    query.gold["role"] = "query";
    query.gold["labeled"] = labeled;
    if (labeled) query.gold["gold_ids"] = pairs[id];
    examples.push_back(std::move(query));
  }
  for (const auto& [id, sentence] : english) {
    Example candidate;
    candidate.id = id;
    candidate.language = "en";
    candidate.input = sentence;
    candidate.gold["role"] = "candidate";
    examples.push_back(std::move(candidate));
  }
  summary.examples += static_cast<int64_t>(examples.size());
  return examples;
}

}  // namespace stilts::data
