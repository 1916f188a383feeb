#include "data/readers/squad.h"

namespace stilts::data {

using nlohmann::json;

namespace {

std::vector<SquadAnswer> read_answers(const json& answers, const std::string& context,
                                      const JsonPlace& place) {
  std::vector<SquadAnswer> read;
  for (size_t i = 0; i < answers.size(); ++i) {
    const JsonPlace at = place[i];
    SquadAnswer answer{json_string(answers[i], "text", at),
                       json_int(answers[i], "answer_start", at)};
    const auto span = code_point_slice(context, answer.start, code_point_count(answer.text));
    if (!span)
      at["answer_start"].fail("answer_start " + std::to_string(answer.start) +
                              " is out of range for a context of " +
                              std::to_string(code_point_count(context)) + " code points");
    if (*span != answer.text)
      at["answer_start"].fail("the context at answer_start " + std::to_string(answer.start) +
                              " reads '" + std::string(*span) + "', not the answer text '" +
                              answer.text + "'");
    read.push_back(std::move(answer));
  }
  return read;
}

SquadQuestion read_question(const json& qa, const std::string& context, const JsonPlace& place) {
  SquadQuestion question;
  question.place = place;
  question.id = json_string(qa, "id", place);
  question.question = json_string(qa, "question", place);
  const json& answers = json_array(qa, "answers", place);
  const bool placeholder = answers.size() == 1 && answers[0].is_object() &&
                           answers[0].contains("text") && answers[0]["text"] == "" &&
                           answers[0].contains("answer_start") && answers[0]["answer_start"] == 0;
  if (qa.contains("is_impossible")) {
    const json& impossible = json_field(qa, "is_impossible", json::value_t::boolean, place);
    question.is_impossible = impossible.get<bool>();
    if (*question.is_impossible) {
      if (!answers.empty())
        place["answers"].fail("an unanswerable question (is_impossible) has " +
                              std::to_string(answers.size()) + " answers, expected none");
      if (qa.contains("plausible_answers"))
        question.plausible_answers = read_answers(json_array(qa, "plausible_answers", place),
                                                  context, place["plausible_answers"]);
      return question;
    }
  }
  if (answers.empty() || placeholder) return question;
  question.answers = read_answers(answers, context, place["answers"]);
  return question;
}

// The gold's form of answers: parallel lists, as the SQuAD scorers take them.
json answers_json(const std::vector<SquadAnswer>& answers) {
  json texts = json::array(), starts = json::array();
  for (const SquadAnswer& answer : answers) {
    texts.push_back(answer.text);
    starts.push_back(answer.start);
  }
  return {{"text", texts}, {"answer_start", starts}};
}

// TyDi QA's own GoldP files: tydiqa-goldp-v1.1-{train,dev}.json and the dev archive's
// tydiqa-goldp-v1.1-dev/tydiqa-goldp-dev-{language name}.json.
bool is_tydiqa_release(const std::string& path) {
  const std::string name = base_name(path);
  return name.rfind("tydiqa-goldp-v1.1-", 0) == 0 || name.rfind("tydiqa-goldp-dev-", 0) == 0;
}

// The names TyDi QA gives its languages, in question ids and file names.
const std::vector<std::pair<std::string, std::string>>& tydiqa_names() {
  static const std::vector<std::pair<std::string, std::string>> names = {
      {"arabic", "ar"},     {"bengali", "bn"},  {"english", "en"}, {"finnish", "fi"},
      {"indonesian", "id"}, {"japanese", "ja"}, {"korean", "ko"},  {"russian", "ru"},
      {"swahili", "sw"},    {"telugu", "te"},   {"thai", "th"}};
  return names;
}

// The language name TyDi QA puts before the first '-' of every question id.
std::string tydiqa_question_language(const SquadQuestion& question) {
  const std::string name = question.id.substr(0, question.id.find('-'));
  for (const auto& [language_name, code] : tydiqa_names())
    if (name == language_name) return code;
  question.place["id"].fail("question id '" + question.id +
                            "' does not start with a TyDi QA language name");
}

}  // namespace

void for_each_squad_paragraph(const std::string& path, const ReadOptions& options,
                              ReadSummary& summary,
                              const std::function<void(const SquadParagraph&)>& paragraph) {
  const json root = read_json_file(path);
  const JsonPlace top{path, ""};
  const json& data = json_array(root, "data", top);
  int64_t ordinal = 0;
  for (size_t d = 0; d < data.size(); ++d) {
    const JsonPlace article = top["data"][d];
    const json* found = nullptr;
    guarded(options, summary, [&] { found = &json_array(data[d], "paragraphs", article); });
    if (found == nullptr) continue;
    const json& paragraphs = *found;
    for (size_t p = 0; p < paragraphs.size(); ++p) {
      ++ordinal;
      guarded(options, summary, [&] {
        SquadParagraph par;
        par.ordinal = ordinal;
        par.place = article["paragraphs"][p];
        par.record = &paragraphs[p];
        par.context = json_string(paragraphs[p], "context", par.place);
        const json& qas = json_array(paragraphs[p], "qas", par.place);
        for (size_t q = 0; q < qas.size(); ++q)
          guarded(options, summary, [&] {
            par.questions.push_back(read_question(qas[q], par.context, par.place["qas"][q]));
          });
        paragraph(par);
      });
    }
  }
}

std::string_view tydiqa_language_name(std::string_view language) {
  for (const auto& [name, code] : tydiqa_names())
    if (code == language) return name;
  throw std::invalid_argument("tydiqa: no TyDi QA language '" + std::string(language) + "'");
}

std::string qa_language_from_name(const std::string& path) {
  const std::string name = base_name(path);
  auto after = [&](const std::string& prefix) -> std::string {
    if (name.rfind(prefix, 0) != 0) return "";
    const size_t end = name.find_first_of(".-", prefix.size());
    return end == std::string::npos ? "" : name.substr(prefix.size(), end - prefix.size());
  };
  for (const char* prefix : {"xquad.", "tydiqa.goldp.", "dev-context-", "test-context-",
                             "squad.translate.train.en-", "tydiqa.translate.train.en-"})
    if (std::string language = after(prefix); !language.empty()) return language;
  return "";
}

std::vector<Example> read_squad(const std::string& path, const ReadOptions& options,
                                ReadSummary& summary) {
  const bool per_question_language = is_tydiqa_release(path);
  const std::string language =
      per_question_language ? "" : resolve_language(path, qa_language_from_name(path), options);
  std::vector<Example> examples;
  for_each_squad_paragraph(path, options, summary, [&](const SquadParagraph& paragraph) {
    for (const SquadQuestion& question : paragraph.questions)
      guarded(options, summary, [&] {
        Example example;
        example.id = question.id;
        example.language = per_question_language ? tydiqa_question_language(question) : language;
        example.input = "question: " + question.question + " context: " + paragraph.context;
        example.gold["labeled"] =
            !question.answers.empty() || question.is_impossible.value_or(false);
        example.gold["question_id"] = question.id;
        example.gold["context"] = paragraph.context;
        example.gold["answers"] = answers_json(question.answers);
        if (question.is_impossible) {
          example.gold["is_impossible"] = *question.is_impossible;
          example.gold["plausible_answers"] = answers_json(question.plausible_answers);
        }
        if (!question.answers.empty()) example.target = question.answers.front().text;
        examples.push_back(std::move(example));
      });
  });
  summary.examples += static_cast<int64_t>(examples.size());
  return examples;
}

}  // namespace stilts::data
