#include "experiments/prediction_files.h"

#include <nlohmann/json.hpp>

#include "data/readers/reader.h"
#include "data/readers/text_file.h"
#include "experiments/metrics/python_text.h"

namespace stilts::experiments {

using data::JsonPlace;
using data::RecordError;
using nlohmann::json;

namespace {

// str.strip(): Unicode whitespace, as evaluate.py strips every line it reads.
std::string strip(const std::string& text) {
  return python_text::strip(std::string_view(text));
}

const json& field(const json& object, const char* key, json::value_t type, const JsonPlace& place) {
  return data::json_field(object, key, type, place);
}

}  // namespace

std::vector<std::string> read_label_lines(const std::string& path) {
  std::vector<std::string> labels = data::read_lines(path);
  for (std::string& label : labels) label = strip(label);
  return labels;
}

std::vector<std::vector<std::string>> read_tag_sentences(const std::string& path) {
  std::vector<std::vector<std::string>> sentences;
  std::vector<std::string> sentence;
  for (const std::string& line : data::read_lines(path)) {
    std::string tag = strip(line);
    if (!tag.empty()) {
      sentence.push_back(std::move(tag));
    } else {
      sentences.push_back(std::move(sentence));
      sentence.clear();
    }
  }
  if (!sentence.empty()) sentences.push_back(std::move(sentence));
  return sentences;
}

std::vector<std::pair<std::string, std::string>> read_id_pairs(const std::string& path) {
  std::vector<std::pair<std::string, std::string>> pairs;
  const std::vector<std::string> lines = data::read_lines(path);
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string line = strip(lines[i]);
    const size_t tab = line.find('\t');
    if (tab == std::string::npos || line.find('\t', tab + 1) != std::string::npos)
      throw RecordError(path, std::to_string(i + 1),
                        "expected '<source id><TAB><target id>', got '" + line + "'");
    pairs.emplace_back(line.substr(0, tab), line.substr(tab + 1));
  }
  return pairs;
}

std::vector<std::string> read_jsonl_labels(const std::string& path) {
  std::vector<std::string> labels;
  const std::vector<std::string> lines = data::read_lines(path);
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string where = std::to_string(i + 1);
    json record;
    try {
      record = json::parse(lines[i]);
    } catch (const json::parse_error&) {
      throw RecordError(path, where, "expected a JSON object with a \"label\"");
    }
    const JsonPlace place{path, where + ":"};
    if (!record.is_object()) place.fail("expected a JSON object with a \"label\"");
    const auto label = record.find("label");
    if (label == record.end()) place["label"].fail("missing, expected the example's label");
    if (label->is_structured()) place["label"].fail("expected a number or a string");
    labels.push_back(label->dump());
  }
  return labels;
}

std::vector<metrics::QaQuestion> read_squad_gold(const std::string& path) {
  const json root = data::read_json_file(path);
  JsonPlace place{path, ""};
  const json* articles = &root;
  if (root.is_object() && root.contains("data")) {
    place = place["data"];
    articles = &root["data"];
  }
  if (!articles->is_array())
    place.fail("expected SQuAD JSON: {\"data\": [articles]} or a list of articles");
  std::vector<metrics::QaQuestion> questions;
  for (size_t a = 0; a < articles->size(); ++a) {
    const JsonPlace article_place = place[a];
    const json& paragraphs =
        field((*articles)[a], "paragraphs", json::value_t::array, article_place);
    for (size_t p = 0; p < paragraphs.size(); ++p) {
      const JsonPlace paragraph_place = article_place["paragraphs"][p];
      const json& qas = field(paragraphs[p], "qas", json::value_t::array, paragraph_place);
      for (size_t q = 0; q < qas.size(); ++q) {
        const JsonPlace qa_place = paragraph_place["qas"][q];
        metrics::QaQuestion question;
        question.id = data::json_string(qas[q], "id", qa_place);
        const json& answers = field(qas[q], "answers", json::value_t::array, qa_place);
        for (size_t i = 0; i < answers.size(); ++i)
          question.answers.push_back(data::json_string(answers[i], "text", qa_place["answers"][i]));
        questions.push_back(std::move(question));
      }
    }
  }
  return questions;
}

metrics::QaPredictions read_qa_predictions(const std::string& path) {
  const json root = data::read_json_file(path);
  const JsonPlace place{path, ""};
  if (!root.is_object()) place.fail("expected a JSON object {question id: answer text}");
  metrics::QaPredictions predictions;
  for (const auto& [id, answer] : root.items()) {
    if (!answer.is_string()) place[id].fail("expected the answer text (a string)");
    predictions[id] = answer.get<std::string>();
  }
  return predictions;
}

std::map<std::string, std::vector<std::string>> read_ranked_ids(const std::string& path) {
  const json root = data::read_json_file(path);
  const JsonPlace place{path, ""};
  if (!root.is_object()) place.fail("expected a JSON object {example id: [ids]}");
  std::map<std::string, std::vector<std::string>> ranked;
  for (const auto& [id, ids] : root.items()) {
    if (!ids.is_array()) place[id].fail("expected a list of ids");
    std::vector<std::string>& list = ranked[id];
    for (size_t i = 0; i < ids.size(); ++i) {
      if (!ids[i].is_string()) place[id][i].fail("expected an id (a string)");
      list.push_back(ids[i].get<std::string>());
    }
  }
  return ranked;
}

}  // namespace stilts::experiments
