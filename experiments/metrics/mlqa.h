// MLQA's evaluator, as xtreme/third_party/evaluate_mlqa.py (MLQA's mlqa_evaluation_v1.py) scores
// MLQA in evaluate.py, with the answer language = the test file's language. Checked line by line
// against that script (google-research/xtreme @838c13b):
//
//   normalize_answer(s, lang) = white_space_fix(remove_articles(remove_punc(lower(s)), lang), lang)
//     lower           Python's str.lower() (full Unicode);
//     remove_punc     deletes PUNCT = every code point whose unicodedata category starts with 'P'
//                     (here ICU's general category, U_GC_P_MASK) plus string.punctuation (ASCII,
//                     which adds $ + < = > ^ ` | ~, categories S*);
//     remove_articles re.sub(r'\b(...)\b', ' ', text) with Python 3's Unicode \b and the lists
//                       en: a an the
//                       es: un una unos unas el la los las
//                       de: ein eine einen einem eines einer der die das den dem des
//                       vi: của là cái chiếc những   (precomposed, NFC, as in the script)
//                       hi, zh: nothing;
//                     ar: re.sub('\sال^|ال', ' ', text). The first alternative needs the start of
//                       the string (^) *after* a space and the prefix, so it never matches: every
//                       occurrence of the two letters ال (U+0627 U+0644), anywhere, even inside a
//                       word, becomes a space;
//     white_space_fix for en es hi vi de ar: str.split(); for zh: mixed_segmentation, which makes
//                     every character in U+4E00..U+9FA5 (exactly that range, not all of CJK) and
//                     every PUNCT character its own token and splits the text between them on
//                     whitespace; then ' '.join of the non-blank tokens;
//   F1, exact match, the maximum over gold answers and the corpus percentages are the SQuAD ones
//   (squad.h), on these normalized strings. Any other language throws std::invalid_argument (the
//   script raises "Unknown Language").
//
// PUNCT is built from the Unicode tables of the scoring Python (3.7-3.11: Unicode 11-14); ICU 72
// has Unicode 15, so a punctuation character added after that Python's Unicode is removed here
// and kept there (none of the MLQA languages' common punctuation is affected).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "experiments/metrics/squad.h"

namespace stilts::experiments::metrics {

// A member of the script's PUNCT set.
bool mlqa_is_punctuation(char32_t c);
// The script's mixed_segmentation (zh), on raw text.
std::vector<std::string> mlqa_mixed_segmentation(std::string_view text);

std::string mlqa_normalize_answer(std::string_view text, std::string_view language);
bool mlqa_exact_match(std::string_view prediction, std::string_view ground_truth,
                      std::string_view language);
double mlqa_f1(std::string_view prediction, std::string_view ground_truth,
               std::string_view language);

// Percentages over all questions; a question without a prediction scores 0 and is listed.
QaScores mlqa_evaluate(const std::vector<QaQuestion>& questions, const QaPredictions& predictions,
                       std::string_view language);

}  // namespace stilts::experiments::metrics
