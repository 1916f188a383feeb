#include "data/readers/lareqa.h"

#include "data/readers/squad.h"

namespace stilts::data {

using nlohmann::json;

namespace {

// "{lang}.json" -> "lang"; empty otherwise.
std::string lareqa_language(const std::string& name) {
  const std::string suffix = ".json";
  if (name.size() <= suffix.size() || name.find('.') != name.size() - suffix.size()) return "";
  return name.substr(0, name.size() - suffix.size());
}

}  // namespace

std::vector<Example> read_lareqa(const std::string& path, const ReadOptions& options,
                                 ReadSummary& summary) {
  const std::string language = resolve_language(path, lareqa_language(base_name(path)), options);
  std::vector<Example> examples;
  for_each_squad_paragraph(path, options, summary, [&](const SquadParagraph& paragraph) {
    const json& breaks = json_array(*paragraph.record, "sentence_breaks", paragraph.place);
    std::vector<std::pair<int64_t, int64_t>> sentences;
    std::vector<Example> candidates;
    for (size_t s = 0; s < breaks.size(); ++s) {
      const JsonPlace at = paragraph.place["sentence_breaks"][s];
      if (!breaks[s].is_array() || breaks[s].size() != 2 || !breaks[s][0].is_number_integer() ||
          !breaks[s][1].is_number_integer())
        at.fail("expected [start, end]");
      const int64_t start = breaks[s][0], end = breaks[s][1];
      const auto text = code_point_slice(paragraph.context, start, end - start);
      if (start < 0 || end < start || !text)
        at.fail("[" + std::to_string(start) + ", " + std::to_string(end) +
                "] is out of range for a context of " +
                std::to_string(code_point_count(paragraph.context)) + " code points");
      sentences.emplace_back(start, end);
      Example candidate;
      // XTREME's candidate uid (utils_lareqa), so rankings can be compared with its files.
      candidate.id = language + "_" + std::to_string(paragraph.ordinal) + "_" + std::to_string(s);
      candidate.language = language;
      candidate.input = std::string(*text);
      candidate.gold["role"] = "candidate";
      candidate.gold["context"] = paragraph.context;
      candidates.push_back(std::move(candidate));
    }
    // A question whose answer lies in no sentence is a bad record of its own; the paragraph's
    // sentences remain candidates for the other questions.
    std::vector<Example> queries;
    for (const SquadQuestion& question : paragraph.questions)
      guarded(options, summary, [&] {
        Example query;
        query.id = question.id + "_" + language;  // XTREME's question uid
        query.language = language;
        query.input = question.question;
        query.gold["role"] = "query";
        query.gold["question_id"] = question.id;
        query.gold["labeled"] = !question.answers.empty();
        if (!question.answers.empty()) {
          const int64_t start = question.answers.front().start;
          size_t s = 0;
          while (s < sentences.size() &&
                 !(sentences[s].first <= start && start < sentences[s].second))
            ++s;
          if (s == sentences.size())
            paragraph.place["sentence_breaks"].fail("no sentence holds the answer_start " +
                                                    std::to_string(start) + " of question '" +
                                                    question.id + "'");
          query.gold["answer_candidate"] = candidates[s].id;
        }
        queries.push_back(std::move(query));
      });
    for (auto* part : {&candidates, &queries})
      for (Example& example : *part) examples.push_back(std::move(example));
  });
  summary.examples += static_cast<int64_t>(examples.size());
  return examples;
}

}  // namespace stilts::data
