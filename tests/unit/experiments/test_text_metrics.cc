// SQuAD v1.1, MLQA and accuracy: hand-computed cases for every normalization rule of the official
// scripts, including the ones that surprise (string.punctuation contains '_', '/' joins words,
// Arabic's ال is removed inside words, the Vietnamese list has no "các").
#include <gtest/gtest.h>

#include <stdexcept>

#include "experiments/metrics/accuracy.h"
#include "experiments/metrics/mlqa.h"
#include "experiments/metrics/squad.h"
#include "tests/unit/error_of.h"

namespace stilts::experiments::metrics {
namespace {

using stilts::testing::error_of;

TEST(SquadNormalize, LowerPunctuationArticlesWhitespace) {
  EXPECT_EQ(squad_normalize_answer("The Cat  sat, on a mat!"), "cat sat on mat");
  EXPECT_EQ(squad_normalize_answer("An apple, THE END."), "apple end");
  // Articles only as whole words.
  EXPECT_EQ(squad_normalize_answer("anthem theater a"), "anthem theater");
  // '_' and '-' are in string.punctuation, so they are deleted before article removal.
  EXPECT_EQ(squad_normalize_answer("the_the"), "thethe");
  EXPECT_EQ(squad_normalize_answer("A-team"), "ateam");
  // Non-ASCII punctuation is kept; lower-casing is Unicode.
  EXPECT_EQ(squad_normalize_answer("\u00abÉCOLE\u00bb"), "\u00abécole\u00bb");
  // Unicode whitespace separates tokens (no-break space, em space).
  EXPECT_EQ(squad_normalize_answer("x\u00a0\u2003y\t a \n"), "x y");
  EXPECT_EQ(squad_normalize_answer(""), "");
  EXPECT_EQ(squad_normalize_answer("  the  "), "");
}

TEST(SquadScore, ExactMatchAndF1) {
  EXPECT_TRUE(squad_exact_match("The Eiffel Tower.", "eiffel tower"));
  EXPECT_FALSE(squad_exact_match("Eiffel", "eiffel tower"));
  // "cat sat" against "cat sat down": P = 1, R = 2/3.
  EXPECT_DOUBLE_EQ(squad_f1("the cat sat", "a cat sat down"), 0.8);
  // Counter overlap: x:min(2,1) + y:min(1,2) = 2 of 3 tokens each side.
  EXPECT_DOUBLE_EQ(squad_f1("x x y", "x y y"), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(squad_f1("paris", "london"), 0.0);
}

TEST(SquadScore, EmptyPredictionsAsTheScript) {
  EXPECT_FALSE(squad_exact_match("", "x"));
  EXPECT_DOUBLE_EQ(squad_f1("", "x"), 0.0);
  // Both normalize to "": exact match 1 but F1 0 (no overlapping token).
  EXPECT_TRUE(squad_exact_match("the", "a"));
  EXPECT_DOUBLE_EQ(squad_f1("the", "a"), 0.0);
}

TEST(SquadScore, MaximumOverGoldAnswers) {
  const std::vector<std::string> golds = {"the Eiffel tower", "Eiffel"};
  // 2/3 against the first gold (P 1/2, R 1), 0.4 against the second (P 1/4, R 1).
  EXPECT_DOUBLE_EQ(squad_max_f1("Eiffel Tower in Paris", golds), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(squad_max_exact_match("eiffel", golds), 1.0);
  EXPECT_NE(error_of([] { squad_max_f1("x", {}); }).find("no gold answers"), std::string::npos);
}

TEST(SquadEvaluate, CorpusPercentagesAndMissingAnswers) {
  const std::vector<QaQuestion> questions = {
      {"q1", {"Paris"}}, {"q2", {"the Eiffel tower", "Eiffel"}}, {"q3", {"1889"}}};
  const QaPredictions predictions = {{"q1", "paris."}, {"q2", "Eiffel Tower in Paris"}};
  const QaScores scores = squad_evaluate(questions, predictions);
  EXPECT_EQ(scores.total, 3u);
  EXPECT_DOUBLE_EQ(scores.exact_match, 100.0 * 1 / 3);
  EXPECT_DOUBLE_EQ(scores.f1, 100.0 * (1 + 2.0 / 3.0) / 3);
  ASSERT_EQ(scores.missing_ids.size(), 1u);
  EXPECT_EQ(scores.missing_ids[0], "q3");
  EXPECT_NE(error_of([] { squad_evaluate({}, {}); }).find("no questions"), std::string::npos);
}

TEST(MlqaNormalize, EnglishRemovesUnicodePunctuation) {
  // Unlike SQuAD, every Unicode P* character goes, plus ASCII symbols of string.punctuation.
  EXPECT_EQ(mlqa_normalize_answer("\u00abThe quote\u00bb costs $100", "en"), "quote costs 100");
  EXPECT_EQ(mlqa_normalize_answer("\u00bfQu\u00e9? \u00a1S\u00ed!", "en"), "qué sí");
}

TEST(MlqaNormalize, Chinese) {
  // Full-width punctuation removed, each CJK character its own token, Latin runs kept.
  EXPECT_EQ(mlqa_normalize_answer("我爱NLP，真的！", "zh"), "我 爱 nlp 真 的");
  EXPECT_EQ(mlqa_normalize_answer("abc中文def 123", "zh"), "abc 中 文 def 123");
  // Only U+4E00..U+9FA5 is segmented: U+9FA6 and U+20000 stay inside their run.
  EXPECT_EQ(mlqa_normalize_answer("x\u9fa5y", "zh"), "x \u9fa5 y");
  EXPECT_EQ(mlqa_normalize_answer("x\u9fa6y", "zh"), "x\u9fa6y");
  EXPECT_EQ(mlqa_normalize_answer("x\U00020000y", "zh"), "x\U00020000y");
  // No articles in Chinese.
  EXPECT_EQ(mlqa_normalize_answer("the cat", "zh"), "the cat");
  EXPECT_DOUBLE_EQ(mlqa_f1("北京市", "北京", "zh"), 0.8);
  EXPECT_EQ(mlqa_mixed_segmentation("ab 中c,d"),
            (std::vector<std::string>{"ab", "中", "c", ",", "d"}));
}

TEST(MlqaNormalize, Arabic) {
  // Every ال becomes a space, at the start of a word or inside it.
  EXPECT_EQ(mlqa_normalize_answer("الكتاب في البيت", "ar"), "كتاب في بيت");
  EXPECT_EQ(mlqa_normalize_answer("والالعاب", "ar"), "و عاب");
  EXPECT_EQ(mlqa_normalize_answer("ال", "ar"), "");
  // Arabic comma (U+060C) is punctuation.
  EXPECT_EQ(mlqa_normalize_answer("قلم\u060c كتاب", "ar"), "قلم كتاب");
}

TEST(MlqaNormalize, German) {
  EXPECT_EQ(mlqa_normalize_answer("Der Hund, die Katze und das Haus", "de"), "hund katze und haus");
  EXPECT_EQ(mlqa_normalize_answer("Einem dieser einen Männer des", "de"), "dieser männer");
  // English articles are not German ones.
  EXPECT_EQ(mlqa_normalize_answer("the a", "de"), "the a");
}

TEST(MlqaNormalize, Spanish) {
  // '/' is removed before article removal, joining "gatos" and "unas".
  EXPECT_EQ(mlqa_normalize_answer("El perro y la casa; los gatos/unas", "es"),
            "perro y casa gatosunas");
  EXPECT_EQ(mlqa_normalize_answer("Unos UNAS un una lasaña", "es"), "lasaña");
}

TEST(MlqaNormalize, Hindi) {
  // The danda (U+0964) is punctuation; no article list, not even the English one.
  EXPECT_EQ(mlqa_normalize_answer("भारत की राजधानी।", "hi"), "भारत की राजधानी");
  EXPECT_EQ(mlqa_normalize_answer("the नई दिल्ली", "hi"), "the नई दिल्ली");
}

TEST(MlqaNormalize, Vietnamese) {
  // The official list is của là cái chiếc những; "các" is not in it.
  EXPECT_EQ(mlqa_normalize_answer("Các của là cái chiếc những người", "vi"), "các người");
  EXPECT_EQ(mlqa_normalize_answer("CỦA Là", "vi"), "");
  // Decomposed "của" (u + U+0309) is not the precomposed word of the list: the combining mark is
  // not a word character, so the runs are "cu" and "a".
  EXPECT_EQ(mlqa_normalize_answer("cu\u0309a x", "vi"), "cu\u0309a x");
}

TEST(MlqaNormalize, UnknownLanguageIsRefused) {
  EXPECT_NE(error_of([] { mlqa_normalize_answer("x", "fr"); }).find("unknown language 'fr'"),
            std::string::npos);
  EXPECT_THROW(mlqa_evaluate({{"q", {"x"}}}, {}, "ja"), std::invalid_argument);
}

TEST(MlqaEvaluate, CorpusWithMissingAnswer) {
  const std::vector<QaQuestion> questions = {
      {"a", {"Der Hund"}}, {"b", {"die Katze"}}, {"c", {"das große Haus"}}};
  // a: exact; b: missing; c: "haus" against "große haus" = P 1, R 1/2, F1 2/3.
  const QaPredictions predictions = {{"a", "hund"}, {"c", "ein Haus"}};
  const QaScores scores = mlqa_evaluate(questions, predictions, "de");
  EXPECT_DOUBLE_EQ(scores.exact_match, 100.0 * 1 / 3);
  EXPECT_DOUBLE_EQ(scores.f1, 100.0 * (1 + 2.0 / 3.0) / 3);
  EXPECT_EQ(scores.missing_ids, std::vector<std::string>{"b"});
}

TEST(Accuracy, LabelStrings) {
  const std::vector<std::string> labels = {"entailment", "neutral", "contradiction", "neutral"};
  const std::vector<std::string> predictions = {"entailment", "neutral", "neutral", ""};
  EXPECT_DOUBLE_EQ(accuracy(labels, predictions), 50.0);
  EXPECT_DOUBLE_EQ(accuracy({"3", "17"}, {"3", "17"}), 100.0);
}

TEST(Accuracy, UnequalCountsAndNoExamples) {
  const std::string message = error_of([] { accuracy({"a", "b", "c", "d"}, {"a", "b", "c"}); });
  EXPECT_NE(message.find("3 predictions but 4 labels"), std::string::npos) << message;
  EXPECT_THROW(accuracy({}, {}), std::invalid_argument);
}

}  // namespace
}  // namespace stilts::experiments::metrics
