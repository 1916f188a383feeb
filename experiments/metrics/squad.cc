#include "experiments/metrics/squad.h"

#include <algorithm>
#include <map>
#include <stdexcept>

#include "experiments/metrics/python_text.h"

namespace stilts::experiments::metrics {
namespace {

namespace pt = python_text;

// string.punctuation: !"#$%&'()*+,-./:;<=>?@[\]^_`{|}~
bool is_ascii_punctuation(char32_t c) {
  return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) ||
         (c >= 0x7B && c <= 0x7E);
}

std::u32string normalize(std::string_view text) {
  std::u32string lowered = pt::lower(pt::decode_utf8(text));
  std::u32string no_punctuation;
  no_punctuation.reserve(lowered.size());
  for (char32_t c : lowered) {
    if (!is_ascii_punctuation(c)) {
      no_punctuation.push_back(c);
    }
  }
  static const std::vector<std::u32string> kArticles = {U"a", U"an", U"the"};
  const std::u32string no_articles = pt::remove_words(no_punctuation, kArticles);
  std::u32string out;
  for (const std::u32string& token : pt::split(no_articles)) {
    if (!out.empty()) {
      out.push_back(U' ');
    }
    out += token;
  }
  return out;
}

template <class Score>
double max_over(const std::vector<std::string>& golds, Score&& score,
                const std::string& what = "QA metric") {
  if (golds.empty()) {
    throw std::invalid_argument(what + ": a question has no gold answers");
  }
  double best = score(golds.front());
  for (std::size_t i = 1; i < golds.size(); ++i) {
    best = std::max(best, score(golds[i]));
  }
  return best;
}

}  // namespace

double token_f1(const std::vector<std::u32string>& prediction,
                const std::vector<std::u32string>& ground_truth) {
  std::map<std::u32string, long> counts;
  for (const auto& token : prediction) {
    ++counts[token];
  }
  long num_same = 0;
  for (const auto& token : ground_truth) {
    auto it = counts.find(token);
    if (it != counts.end() && it->second > 0) {
      --it->second;
      ++num_same;
    }
  }
  if (num_same == 0) {
    return 0.0;
  }
  const double precision = 1.0 * static_cast<double>(num_same) / prediction.size();
  const double recall = 1.0 * static_cast<double>(num_same) / ground_truth.size();
  return (2 * precision * recall) / (precision + recall);
}

std::string squad_normalize_answer(std::string_view text) {
  return pt::encode_utf8(normalize(text));
}

bool squad_exact_match(std::string_view prediction, std::string_view ground_truth) {
  return normalize(prediction) == normalize(ground_truth);
}

double squad_f1(std::string_view prediction, std::string_view ground_truth) {
  return token_f1(pt::split(normalize(prediction)), pt::split(normalize(ground_truth)));
}

double squad_max_exact_match(std::string_view prediction, const std::vector<std::string>& golds) {
  return max_over(golds, [&](const std::string& gold) {
    return squad_exact_match(prediction, gold) ? 1.0 : 0.0;
  });
}

double squad_max_f1(std::string_view prediction, const std::vector<std::string>& golds) {
  return max_over(golds, [&](const std::string& gold) { return squad_f1(prediction, gold); });
}

QaScores evaluate_answers(const std::vector<QaQuestion>& questions,
                          const QaPredictions& predictions, const std::string& what,
                          const AnswerScore& exact_match, const AnswerScore& f1) {
  if (questions.empty()) {
    throw std::invalid_argument(what + ": the gold file has no questions");
  }
  QaScores scores;
  double exact_sum = 0.0;
  double f1_sum = 0.0;
  for (const QaQuestion& question : questions) {
    ++scores.total;
    auto it = predictions.find(question.id);
    if (it == predictions.end()) {
      scores.missing_ids.push_back(question.id);
      continue;
    }
    const std::string& prediction = it->second;
    exact_sum += max_over(
        question.answers, [&](const std::string& gold) { return exact_match(prediction, gold); },
        what);
    f1_sum += max_over(
        question.answers, [&](const std::string& gold) { return f1(prediction, gold); }, what);
  }
  scores.exact_match = 100.0 * exact_sum / static_cast<double>(scores.total);
  scores.f1 = 100.0 * f1_sum / static_cast<double>(scores.total);
  return scores;
}

QaScores squad_evaluate(const std::vector<QaQuestion>& questions,
                        const QaPredictions& predictions) {
  return evaluate_answers(
      questions, predictions, "SQuAD evaluation",
      [](std::string_view p, std::string_view g) { return squad_exact_match(p, g) ? 1.0 : 0.0; },
      squad_f1);
}

}  // namespace stilts::experiments::metrics
