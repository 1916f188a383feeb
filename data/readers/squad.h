// SQuAD-JSON, the format of SQuAD v1.1, XQuAD, MLQA and TyDiQA-GoldP in XTREME:
// {"data": [{"paragraphs": [{"context", "qas": [{"id", "question", "answers": [{"text",
// "answer_start"}]}]}]}]}. answer_start counts Unicode code points (Python indices).
// XTREME replaces test answers by [{"answer_start": 0, "text": ""}]; such questions are read as
// unlabeled. SQuAD 2.0 (train-v2.0.json, dev-v2.0.json) adds "is_impossible" and, on
// unanswerable questions, "plausible_answers" in the answers' format.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/example.h"
#include "data/readers/reader.h"
#include "data/readers/text_file.h"

namespace stilts::data {

struct SquadAnswer {
  std::string text;
  int64_t start = 0;  // in code points
};

struct SquadQuestion {
  std::string id;
  std::string question;
  std::vector<SquadAnswer> answers;  // empty when unlabeled or unanswerable
  // SQuAD 2.0 only (the question has "is_impossible"): an unanswerable question is labeled,
  // has no answers and keeps its plausible_answers.
  std::optional<bool> is_impossible;
  std::vector<SquadAnswer> plausible_answers;
  JsonPlace place;  // for errors the format-specific readers find
};

struct SquadParagraph {
  std::string context;
  std::vector<SquadQuestion> questions;    // the valid ones
  const nlohmann::json* record = nullptr;  // the paragraph object, for format extensions
  JsonPlace place;
  int64_t ordinal = 0;  // 1-based, counting every paragraph of the file in order
};

// Walks a SQuAD-JSON file, checking every answer against its context; a bad question or
// paragraph is skipped per ReadOptions. A file that is not valid JSON, or has no "data" array,
// cannot be read record by record and always throws.
void for_each_squad_paragraph(const std::string& path, const ReadOptions& options,
                              ReadSummary& summary,
                              const std::function<void(const SquadParagraph&)>& paragraph);

// The language the XTREME layout encodes in a QA file name: xquad.{l}.json,
// tydiqa.goldp.{l}.{split}.json, MLQA's {split}-context-{l}-question-{q}.json (the context
// language, which MLQA's scorer normalizes by), the translate-train files
// {squad,tydiqa}.translate.train.en-{l}.json; empty when the name does not say.
std::string qa_language_from_name(const std::string& path);

// The name TyDi QA gives a language in its ids and file names ("ar" -> "arabic"); throws
// std::invalid_argument for a language TyDi QA does not have.
std::string_view tydiqa_language_name(std::string_view language);

// TyDi QA's own GoldP release, tydiqa-goldp-v1.1-{train,dev}.json, holds every language in one
// file; each question's language is then the one its id starts with ("swahili-123-0" -> sw). So
// do the per-language files of its dev archive, tydiqa-goldp-v1.1-dev/tydiqa-goldp-dev-{name}.json
// (name as tydiqa_language_name), which keep the answers XTREME's copy of them blanks.
//
// "question: {q} context: {c}" -> the first answer's text; gold holds the question id, the
// context and all answers (texts and code-point starts). SQuAD 2.0 files also give gold
// is_impossible and plausible_answers; an unanswerable question's target is empty, which is
// the no-answer prediction of the SQuAD 2.0 scorer.
std::vector<Example> read_squad(const std::string& path, const ReadOptions& options,
                                ReadSummary& summary);

}  // namespace stilts::data
