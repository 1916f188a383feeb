#include "data/readers/squad.h"

namespace stilts::data {

using nlohmann::json;

namespace {

SquadQuestion read_question(const json& qa, const std::string& context, const JsonPlace& place) {
  SquadQuestion question;
  question.id = json_string(qa, "id", place);
  question.question = json_string(qa, "question", place);
  const json& answers = json_array(qa, "answers", place);
  const bool placeholder = answers.size() == 1 && answers[0].is_object() &&
                           answers[0].contains("text") && answers[0]["text"] == "" &&
                           answers[0].contains("answer_start") && answers[0]["answer_start"] == 0;
  if (answers.empty() || placeholder) return question;
  for (size_t i = 0; i < answers.size(); ++i) {
    const JsonPlace at = place["answers"][i];
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
    question.answers.push_back(std::move(answer));
  }
  return question;
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

std::string qa_language_from_name(const std::string& path) {
  const std::string name = base_name(path);
  auto after = [&](const std::string& prefix) -> std::string {
    if (name.rfind(prefix, 0) != 0) return "";
    const size_t end = name.find_first_of(".-", prefix.size());
    return end == std::string::npos ? "" : name.substr(prefix.size(), end - prefix.size());
  };
  for (const char* prefix : {"xquad.", "tydiqa.goldp.", "dev-context-", "test-context-"})
    if (std::string language = after(prefix); !language.empty()) return language;
  return "";
}

std::vector<Example> read_squad(const std::string& path, const ReadOptions& options,
                                ReadSummary& summary) {
  const std::string language = resolve_language(path, qa_language_from_name(path), options);
  std::vector<Example> examples;
  for_each_squad_paragraph(path, options, summary, [&](const SquadParagraph& paragraph) {
    for (const SquadQuestion& question : paragraph.questions) {
      Example example;
      example.id = question.id;
      example.language = language;
      example.input = "question: " + question.question + " context: " + paragraph.context;
      example.gold["labeled"] = !question.answers.empty();
      example.gold["question_id"] = question.id;
      example.gold["context"] = paragraph.context;
      json texts = json::array(), starts = json::array();
      for (const SquadAnswer& answer : question.answers) {
        texts.push_back(answer.text);
        starts.push_back(answer.start);
      }
      example.gold["answers"] = {{"text", texts}, {"answer_start", starts}};
      if (!question.answers.empty()) example.target = question.answers.front().text;
      examples.push_back(std::move(example));
    }
  });
  summary.examples += static_cast<int64_t>(examples.size());
  return examples;
}

}  // namespace stilts::data
