// SQuAD v1.1 exact match and token F1, as xtreme/third_party/evaluate_squad.py (a copy of the
// official SQuAD v1.1 script) scores XQuAD and TyDiQA-GoldP in evaluate.py:
//
//   normalize_answer(s) = white_space_fix(remove_articles(remove_punc(lower(s)))), where
//     lower           is Python's str.lower() (full Unicode, not ASCII only),
//     remove_punc     deletes the 32 ASCII characters of string.punctuation, nothing else,
//     remove_articles is re.sub(r'\b(a|an|the)\b', ' ', ...) with Python 3's Unicode \b,
//     white_space_fix is ' '.join(text.split()) with Python's Unicode whitespace;
//   exact match  = the normalized strings are equal;
//   F1           = Counter overlap of the whitespace tokens of the normalized strings; 0 when
//                  nothing overlaps (so an empty prediction scores F1 0 even against an empty
//                  gold answer, while its exact match against that answer is 1);
//   per question = the maximum over the gold answers;
//   corpus       = 100 * sum / number of questions, a question without a prediction counting 0
//                  (the script prints "Unanswered question ... will receive score 0.").
//
// Deviations where the script would crash instead: no questions at all, or a question without
// gold answers (ZeroDivisionError / max() of an empty list), throw std::invalid_argument.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace stilts::experiments::metrics {

// One question of a SQuAD-format gold file: its id and the texts of its gold answers.
struct QaQuestion {
  std::string id;
  std::vector<std::string> answers;
};

// Corpus scores in percent; the ids of the questions that had no prediction, in file order.
struct QaScores {
  double exact_match = 0.0;
  double f1 = 0.0;
  std::size_t total = 0;
  std::vector<std::string> missing_ids;
};

// Predictions as in the XTREME prediction files: question id -> answer string.
using QaPredictions = std::unordered_map<std::string, std::string>;

std::string squad_normalize_answer(std::string_view text);
bool squad_exact_match(std::string_view prediction, std::string_view ground_truth);
double squad_f1(std::string_view prediction, std::string_view ground_truth);
// Maximum over the gold answers (throws std::invalid_argument when there are none).
double squad_max_exact_match(std::string_view prediction, const std::vector<std::string>& golds);
double squad_max_f1(std::string_view prediction, const std::vector<std::string>& golds);

QaScores squad_evaluate(const std::vector<QaQuestion>& questions, const QaPredictions& predictions);

// One prediction's score against one gold answer: exact match as 0 or 1, or F1.
using AnswerScore = std::function<double(std::string_view prediction, std::string_view gold)>;
// The corpus loop both scripts share (SQuAD's and MLQA's): per question the best score over its
// gold answers, a question without a prediction counting 0 (and listed), 100 * the means.
// `what` ("SQuAD evaluation") starts the errors.
QaScores evaluate_answers(const std::vector<QaQuestion>& questions,
                          const QaPredictions& predictions, const std::string& what,
                          const AnswerScore& exact_match, const AnswerScore& f1);

// The token F1 of two already-normalized token lists, shared with the MLQA evaluator (the same
// formula in both scripts): precision and recall of the Counter intersection.
double token_f1(const std::vector<std::u32string>& prediction,
                const std::vector<std::u32string>& ground_truth);

}  // namespace stilts::experiments::metrics
