#include "experiments/metrics/mlqa.h"

#include <unicode/uchar.h>

#include <algorithm>
#include <stdexcept>

#include "experiments/metrics/python_text.h"

namespace stilts::experiments::metrics {
namespace {

namespace pt = python_text;

bool is_ascii_punctuation(char32_t c) {
  return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) ||
         (c >= 0x7B && c <= 0x7E);
}

// The script's r'[\u4e00-\u9fa5]'.
bool is_segmented_cjk(char32_t c) {
  return c >= 0x4E00 && c <= 0x9FA5;
}

enum class Segmentation { kWhitespace, kMixed };

Segmentation segmentation_of(std::string_view language) {
  for (std::string_view whitespace : {"en", "es", "hi", "vi", "de", "ar"}) {
    if (language == whitespace) {
      return Segmentation::kWhitespace;
    }
  }
  if (language == "zh") {
    return Segmentation::kMixed;
  }
  throw std::invalid_argument("MLQA evaluation: unknown language '" + std::string(language) +
                              "' (the evaluator knows en es de ar hi vi zh)");
}

std::vector<std::u32string> mixed_segmentation(std::u32string_view text) {
  std::vector<std::u32string> segments;
  std::u32string pending;
  auto flush = [&] {
    for (auto& token : pt::split(pending)) {
      segments.push_back(std::move(token));
    }
    pending.clear();
  };
  for (char32_t c : text) {
    if (is_segmented_cjk(c) || mlqa_is_punctuation(c)) {
      flush();
      segments.emplace_back(1, c);
    } else {
      pending.push_back(c);
    }
  }
  flush();
  return segments;
}

std::u32string remove_articles(const std::u32string& text, std::string_view language) {
  static const std::vector<std::u32string> kEnglish = {U"a", U"an", U"the"};
  static const std::vector<std::u32string> kSpanish = {U"un", U"una", U"unos", U"unas",
                                                       U"el", U"la",  U"los",  U"las"};
  static const std::vector<std::u32string> kGerman = {U"ein",   U"eine",  U"einen", U"einem",
                                                      U"eines", U"einer", U"der",   U"die",
                                                      U"das",   U"den",   U"dem",   U"des"};
  static const std::vector<std::u32string> kVietnamese = {U"c\u1ee7a", U"l\u00e0", U"c\u00e1i",
                                                          U"chi\u1ebfc", U"nh\u1eefng"};
  if (language == "en") {
    return pt::remove_words(text, kEnglish);
  }
  if (language == "es") {
    return pt::remove_words(text, kSpanish);
  }
  if (language == "de") {
    return pt::remove_words(text, kGerman);
  }
  if (language == "vi") {
    return pt::remove_words(text, kVietnamese);
  }
  if (language == "ar") {
    std::u32string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
      if (i + 1 < text.size() && text[i] == U'\u0627' && text[i + 1] == U'\u0644') {
        out.push_back(U' ');
        i += 2;
      } else {
        out.push_back(text[i++]);
      }
    }
    return out;
  }
  return text;  // hi and zh have no article list
}

std::u32string normalize(std::string_view text, std::string_view language) {
  const Segmentation segmentation = segmentation_of(language);
  const std::u32string lowered = pt::lower(pt::decode_utf8(text));
  std::u32string no_punctuation;
  no_punctuation.reserve(lowered.size());
  for (char32_t c : lowered) {
    if (!mlqa_is_punctuation(c)) {
      no_punctuation.push_back(c);
    }
  }
  const std::u32string no_articles = remove_articles(no_punctuation, language);
  const std::vector<std::u32string> tokens = segmentation == Segmentation::kMixed
                                                 ? mixed_segmentation(no_articles)
                                                 : pt::split(no_articles);
  std::u32string out;
  bool first = true;
  for (const auto& token : tokens) {
    if (pt::strip(token).empty()) {
      continue;
    }
    if (!first) {
      out.push_back(U' ');
    }
    first = false;
    out += token;
  }
  return out;
}

}  // namespace

bool mlqa_is_punctuation(char32_t c) {
  return is_ascii_punctuation(c) || (U_GET_GC_MASK(static_cast<UChar32>(c)) & U_GC_P_MASK) != 0;
}

std::vector<std::string> mlqa_mixed_segmentation(std::string_view text) {
  std::vector<std::string> out;
  for (const auto& segment : mixed_segmentation(pt::decode_utf8(text))) {
    out.push_back(pt::encode_utf8(segment));
  }
  return out;
}

std::string mlqa_normalize_answer(std::string_view text, std::string_view language) {
  return pt::encode_utf8(normalize(text, language));
}

bool mlqa_exact_match(std::string_view prediction, std::string_view ground_truth,
                      std::string_view language) {
  return normalize(prediction, language) == normalize(ground_truth, language);
}

double mlqa_f1(std::string_view prediction, std::string_view ground_truth,
               std::string_view language) {
  return token_f1(pt::split(normalize(prediction, language)),
                  pt::split(normalize(ground_truth, language)));
}

QaScores mlqa_evaluate(const std::vector<QaQuestion>& questions, const QaPredictions& predictions,
                       std::string_view language) {
  segmentation_of(language);  // an unknown language is refused even when nothing is answered
  return evaluate_answers(
      questions, predictions, "MLQA evaluation",
      [&](std::string_view p, std::string_view g) {
        return mlqa_exact_match(p, g, language) ? 1.0 : 0.0;
      },
      [&](std::string_view p, std::string_view g) { return mlqa_f1(p, g, language); });
}

}  // namespace stilts::experiments::metrics
