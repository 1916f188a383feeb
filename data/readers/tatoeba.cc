#include "data/readers/tatoeba.h"

#include <array>
#include <filesystem>
#include <stdexcept>
#include <utility>

#include "data/readers/retrieval_roles.h"
#include "data/readers/text_file.h"

namespace stilts::data {

namespace {

// utils_preprocess.py's lang3_dict (google-research/xtreme @838c13b) without English: the 41
// Tatoeba languages of XTREME-R.
constexpr std::array<std::pair<std::string_view, std::string_view>, 41> kLaserCodes = {{
    {"af", "afr"}, {"ar", "ara"}, {"bg", "bul"}, {"bn", "ben"}, {"de", "deu"}, {"el", "ell"},
    {"es", "spa"}, {"et", "est"}, {"eu", "eus"}, {"fa", "pes"}, {"fi", "fin"}, {"fr", "fra"},
    {"he", "heb"}, {"hi", "hin"}, {"hu", "hun"}, {"id", "ind"}, {"it", "ita"}, {"ja", "jpn"},
    {"jv", "jav"}, {"ka", "kat"}, {"kk", "kaz"}, {"ko", "kor"}, {"ml", "mal"}, {"mr", "mar"},
    {"nl", "nld"}, {"pt", "por"}, {"ru", "rus"}, {"sw", "swh"}, {"ta", "tam"}, {"te", "tel"},
    {"th", "tha"}, {"tl", "tgl"}, {"tr", "tur"}, {"ur", "urd"}, {"vi", "vie"}, {"zh", "cmn"},
    {"az", "aze"}, {"lt", "lit"}, {"pl", "pol"}, {"uk", "ukr"}, {"ro", "ron"},
}};

// "tatoeba.{xxx}-eng.{xxx}" -> "xxx"; empty when the name does not follow LASER's layout.
std::string laser_code(const std::string& name) {
  const std::string prefix = "tatoeba.";
  const size_t dash = name.find("-eng.");
  if (name.rfind(prefix, 0) != 0 || dash == std::string::npos) return "";
  const std::string code = name.substr(prefix.size(), dash - prefix.size());
  return name.substr(dash + 5) == code && code != "eng" ? code : "";
}

// "{xx}-en.{xx}" -> "xx"; empty when the name does not follow XTREME's layout.
std::string xtreme_code(const std::string& name) {
  const size_t dash = name.find("-en.");
  if (dash == std::string::npos || name.substr(dash + 4) != name.substr(0, dash)) return "";
  return name.substr(0, dash);
}

// The English line index of each query, from XTREME-layout gold file.
std::vector<std::string> read_gold(const std::string& gold_path, const std::string& path,
                                   size_t queries) {
  if (!std::filesystem::exists(gold_path))
    throw std::runtime_error(
        path + ": XTREME's Tatoeba copy sorts the English side and has no gold file (expected " +
        gold_path +
        "); read LASER's aligned originals instead, tatoeba/v1/tatoeba.{xxx}-eng.{xxx} and "
        ".eng (experiments/data/download.sh fetches them)");
  std::vector<std::string> gold = read_lines(gold_path);
  if (gold.size() != queries)
    throw RecordError(
        gold_path, std::to_string(gold.size()),
        "expected one index per line of " + path + " (" + std::to_string(queries) + ")");
  return gold;
}

}  // namespace

std::string_view tatoeba_laser_code(std::string_view language) {
  for (const auto& [two, three] : kLaserCodes)
    if (two == language) return three;
  throw std::invalid_argument("tatoeba: no Tatoeba files for language '" + std::string(language) +
                              "'");
}

std::vector<Example> read_tatoeba(const std::string& path, const ReadOptions& options,
                                  ReadSummary& summary) {
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  const std::string name = base_name(path);
  const std::string laser = laser_code(name);
  std::string from_name;
  if (!laser.empty())
    for (const auto& [two, three] : kLaserCodes)
      if (three == laser) from_name = two;
  if (!laser.empty() && from_name.empty())
    throw std::runtime_error(path + ": LASER code '" + laser +
                             "' is none of XTREME's 41 Tatoeba languages");
  if (laser.empty()) from_name = xtreme_code(name);
  const std::string language = resolve_language(path, from_name, options);
  const std::string english_path =
      (dir / (laser.empty() ? language + "-en.en" : "tatoeba." + laser + "-eng.eng")).string();
  const std::string gold_path = (dir / ("test-" + language + ".tsv")).string();
  const std::vector<std::string> sentences = read_lines(path);
  const std::vector<std::string> english = read_lines(english_path);
  // The two sides are one list of pairs: a length mismatch breaks every index, so no record
  // can be skipped to recover from it.
  if (sentences.size() != english.size())
    throw RecordError(
        english_path, std::to_string(english.size()),
        "expected as many lines as " + path + " (" + std::to_string(sentences.size()) + ")");
  // LASER's files are aligned line by line; XTREME's need the gold file.
  const std::vector<std::string> gold =
      laser.empty() ? read_gold(gold_path, path, sentences.size()) : std::vector<std::string>{};

  std::vector<Example> examples;
  for (size_t i = 0; i < sentences.size(); ++i)
    guarded(options, summary, [&] {
      Example query;
      query.id = language + "-" + std::to_string(i);
      query.language = language;
      query.input = sentences[i];
      int64_t index = static_cast<int64_t>(i);
      if (laser.empty()) {
        size_t parsed = 0;
        try {
          index = std::stoll(gold[i], &parsed);
        } catch (const std::exception&) {
          parsed = 0;
        }
        if (parsed != gold[i].size() || index < 0 || index >= static_cast<int64_t>(english.size()))
          throw RecordError(gold_path, std::to_string(i + 1),
                            "expected an English line index in [0, " +
                                std::to_string(english.size()) + "), got '" + gold[i] + "'");
      }
      mark_query(query, static_cast<size_t>(index));
      examples.push_back(std::move(query));
    });
  std::vector<Example> candidates(english.size());
  for (size_t j = 0; j < english.size(); ++j) {
    candidates[j].id = "en-" + std::to_string(j);
    candidates[j].language = "en";
    candidates[j].input = english[j];
  }
  append_candidates(examples, std::move(candidates));
  summary.examples += static_cast<int64_t>(examples.size());
  return examples;
}

}  // namespace stilts::data
