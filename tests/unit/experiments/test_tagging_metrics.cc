// seqeval chunking and span F1, hand-computed with the rules of seqeval 0.0.12 (kLegacy) and
// 1.2.2 (kV1), including UD-POS's bare tags.
#include <gtest/gtest.h>

#include <stdexcept>

#include "experiments/metrics/seqeval.h"
#include "tests/unit/error_of.h"

namespace stilts::experiments::metrics {
namespace {

using stilts::testing::error_of;
using Chunks = std::vector<Chunk>;

TEST(SeqevalChunks, Iob2) {
  EXPECT_EQ(seqeval_chunks(std::vector<std::string>{"B-PER", "I-PER", "O", "B-LOC"}),
            (Chunks{{"PER", 0, 1}, {"LOC", 3, 3}}));
  // B after I of the same type starts a new chunk.
  EXPECT_EQ(seqeval_chunks(std::vector<std::string>{"B-PER", "I-PER", "B-PER"}),
            (Chunks{{"PER", 0, 1}, {"PER", 2, 2}}));
}

TEST(SeqevalChunks, ChunkStartingWithI) {
  EXPECT_EQ(seqeval_chunks(std::vector<std::string>{"O", "I-PER", "I-PER"}),
            (Chunks{{"PER", 1, 2}}));
  EXPECT_EQ(seqeval_chunks(std::vector<std::string>{"I-ORG", "O"}), (Chunks{{"ORG", 0, 0}}));
}

TEST(SeqevalChunks, TypeChangeMidChunk) {
  EXPECT_EQ(seqeval_chunks(std::vector<std::string>{"B-PER", "I-LOC", "I-LOC", "O"}),
            (Chunks{{"PER", 0, 0}, {"LOC", 1, 2}}));
}

TEST(SeqevalChunks, ChunkAtSentenceEndIsClosed) {
  // Flattened: O B-ORG | O | B-ORG I-ORG | O.
  const TagSentences sentences = {{"O", "B-ORG"}, {"B-ORG", "I-ORG"}};
  EXPECT_EQ(seqeval_chunks(sentences), (Chunks{{"ORG", 1, 1}, {"ORG", 3, 4}}));
  // An I- continuing a chunk across the sentence break starts a new one: the separator 'O'
  // closed the first.
  const TagSentences continued = {{"B-ORG"}, {"I-ORG"}};
  EXPECT_EQ(seqeval_chunks(continued), (Chunks{{"ORG", 0, 0}, {"ORG", 2, 2}}));
}

TEST(SeqevalChunks, PosTagsLegacy) {
  // Bare tags: tag = first letter, type = the whole tag. Equal neighbours merge.
  EXPECT_EQ(seqeval_chunks(std::vector<std::string>{"NOUN", "NOUN", "VERB"}),
            (Chunks{{"NOUN", 0, 1}, {"VERB", 2, 2}}));
  // 'S' tags (SYM, SCONJ) end after one token.
  EXPECT_EQ(seqeval_chunks(std::vector<std::string>{"SYM", "SYM"}),
            (Chunks{{"SYM", 0, 0}, {"SYM", 1, 1}}));
  EXPECT_EQ(seqeval_chunks(std::vector<std::string>{"CCONJ", "SCONJ", "NOUN"}),
            (Chunks{{"CCONJ", 0, 0}, {"SCONJ", 1, 1}, {"NOUN", 2, 2}}));
  const TagSentences x_at_end = {{"NOUN", "X"}, {"VERB"}};
  EXPECT_EQ(seqeval_chunks(x_at_end), (Chunks{{"NOUN", 0, 0}, {"X", 1, 1}, {"VERB", 3, 3}}));
}

TEST(SeqevalChunks, PosTagsV1) {
  const auto v1 = SeqevalVersion::kV1;
  EXPECT_EQ(seqeval_chunks(std::vector<std::string>{"NOUN", "NOUN", "VERB"}, v1),
            (Chunks{{"OUN", 0, 1}, {"ERB", 2, 2}}));
  // CCONJ and SCONJ share type "CONJ": SCONJ restarts the chunk, the CCONJ token is lost.
  EXPECT_EQ(seqeval_chunks(std::vector<std::string>{"CCONJ", "SCONJ", "NOUN"}, v1),
            (Chunks{{"CONJ", 1, 1}, {"OUN", 2, 2}}));
  // X has type '_' like the separator 'O': an X ending a sentence is never closed.
  const TagSentences x_at_end = {{"NOUN", "X"}, {"VERB"}};
  EXPECT_EQ(seqeval_chunks(x_at_end, v1), (Chunks{{"OUN", 0, 0}, {"ERB", 3, 3}}));
  // IOB2 tags chunk the same under both versions.
  EXPECT_EQ(seqeval_chunks(std::vector<std::string>{"O", "I-PER", "B-LOC", "I-LOC"}, v1),
            (Chunks{{"PER", 1, 1}, {"LOC", 2, 3}}));
}

TEST(SeqevalScores, MicroPrecisionRecallF1) {
  const TagSentences gold = {{"B-PER", "I-PER", "O", "B-LOC"}, {"B-ORG", "O"}};
  const TagSentences predicted = {{"B-PER", "I-PER", "O", "I-ORG"}, {"B-ORG", "B-LOC"}};
  // Gold {PER 0-1, LOC 3-3, ORG 5-5}; predicted {PER 0-1, ORG 3-3, ORG 5-5, LOC 6-6}.
  const SpanScores scores = seqeval_scores(gold, predicted);
  EXPECT_EQ(scores.correct, 2u);
  EXPECT_EQ(scores.predicted, 4u);
  EXPECT_EQ(scores.gold, 3u);
  EXPECT_DOUBLE_EQ(scores.precision, 50.0);
  EXPECT_DOUBLE_EQ(scores.recall, 100.0 * 2 / 3);
  EXPECT_DOUBLE_EQ(scores.f1, 100.0 * 2 * 0.5 * (2.0 / 3) / (0.5 + 2.0 / 3));
}

TEST(SeqevalScores, PosLikeTheOfficialScript) {
  const TagSentences gold = {{"PRON", "AUX", "PRON", "PUNCT"}};
  const TagSentences predicted = {{"PRON", "VERB", "PRON", "PUNCT"}};
  // Four single-token chunks each side; AUX vs VERB differ: 3 of 4.
  const SpanScores scores = seqeval_scores(gold, predicted);
  EXPECT_DOUBLE_EQ(scores.f1, 75.0);
  // A merged run counts once: NOUN NOUN is one chunk; predicting NOUN VERB gets neither.
  const SpanScores merged = seqeval_scores({{"NOUN", "NOUN"}}, {{"NOUN", "VERB"}});
  EXPECT_EQ(merged.gold, 1u);
  EXPECT_EQ(merged.predicted, 2u);
  EXPECT_EQ(merged.correct, 0u);
}

TEST(SeqevalScores, EmptyAndAllOutside) {
  const SpanScores none = seqeval_scores({}, {});
  EXPECT_DOUBLE_EQ(none.f1, 0.0);
  const SpanScores outside = seqeval_scores({{"B-PER", "O"}}, {{"O", "O"}});
  EXPECT_DOUBLE_EQ(outside.precision, 0.0);
  EXPECT_DOUBLE_EQ(outside.recall, 0.0);
  EXPECT_DOUBLE_EQ(outside.f1, 0.0);
}

TEST(SeqevalScores, UnequalCounts) {
  std::string message = error_of([] { seqeval_scores({{"O"}, {"O"}}, {{"O"}}); });
  EXPECT_NE(message.find("1 predicted sentences but 2 gold sentences"), std::string::npos)
      << message;
  message = error_of([] { seqeval_scores({{"O"}, {"O", "O"}}, {{"O"}, {"O"}}); });
  EXPECT_NE(message.find("sentence 1 has 1 predicted tags but 2 gold tags"), std::string::npos)
      << message;
  EXPECT_THROW(seqeval_scores({{""}}, {{"O"}}), std::invalid_argument);
}

TEST(TokenAccuracy, FlatTags) {
  EXPECT_DOUBLE_EQ(token_accuracy({{"A", "B"}, {"C"}}, {{"A", "X"}, {"C"}}), 100.0 * 2 / 3);
  EXPECT_THROW(token_accuracy({{"A"}}, {{"A", "B"}}), std::invalid_argument);
  EXPECT_THROW(token_accuracy({}, {}), std::invalid_argument);
}

}  // namespace
}  // namespace stilts::experiments::metrics
