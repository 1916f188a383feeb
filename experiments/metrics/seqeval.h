// Span F1 as evaluate.py scores PAN-X (WikiANN NER) and UD-POS: seqeval.metrics f1_score,
// precision_score and recall_score with their defaults (conlleval-compatible chunking, micro
// average, prefix tags). install_tools.sh pins no seqeval version, and the versions disagree on
// tags without a B-/I- prefix, so both are implemented (chakki-works/seqeval, read line by line):
//
//   SeqevalVersion::kLegacy  seqeval <= 0.0.12 (2019-06 .. 2020-09, what XTREME was released
//                            with): type = the text after the LAST '-' of the whole tag, or the
//                            whole tag when it has none ("NOUN" -> "NOUN", "O" -> "O").
//                            This reproduces the numbers the official evaluate_test.py expects
//                            for the repository's mock predictions (UD-POS avg F1 70.2174...), so
//                            it is the default.
//   SeqevalVersion::kV1      seqeval >= 0.0.16, including 1.2.2, today's `pip install seqeval`:
//                            type = the text after the FIRST '-' of the tag minus its first
//                            character, or '_' when that is empty ("NOUN" -> "OUN", "O" -> "_").
//                            On the same mock UD-POS files this gives avg F1 70.398.
//   PAN-X's IOB2 tags (B-PER, I-LOC, O) get the same chunks under both.
//
// The common rules:
//   * The sentences are flattened into one sequence with an 'O' after every sentence, and one
//     more 'O' is appended; chunk offsets are positions in that sequence.
//   * `tag` = the first character of the tag ("B-PER" -> B, "NOUN" -> N).
//   * A chunk ends before position i when the previous tag is E or S; or previous B/I and current
//     B, S or O; or the previous tag is not O (nor '.') and the type changes. A chunk starts at i
//     when the tag is B or S; or E/S then E/I; or O then E/I; or the tag is not O (nor '.') and
//     the type changes. Hence IOB1-tolerance: an I- after O or after another type starts a chunk,
//     a type change mid-chunk ends one, and the sentence-final 'O' closes a chunk at the end.
//   * Chunks are compared as sets of (type, begin, end); micro precision = correct / predicted,
//     recall = correct / gold, F1 = 2PR / (P + R), each 0 when its denominator is 0.
//
// UD-POS gold and predictions are bare UPOS tags, which seqeval scores with these very rules (it
// only warns "seems not to be NE tag"). So a run of equal POS tags is ONE chunk ("NOUN NOUN" is a
// single chunk), SCONJ and SYM (tag 'S') are single-token chunks, INTJ has tag 'I'; with kV1
// moreover CCONJ and SCONJ share the type "CONJ" (a SCONJ after a CCONJ run restarts the chunk
// without closing it, dropping the CCONJ tokens) and X shares the type '_' with the sentence
// separator, so an X run that ends a sentence is never closed nor counted. These are the numbers
// the official script prints, not a per-token POS accuracy; that is token_accuracy() below
// (seqeval's accuracy_score).
//
// Unequal numbers of sentences, or of tags in a sentence, throw std::invalid_argument naming both
// counts (evaluate.py asserts the sentence count, seqeval 1.x raises ValueError on the lengths).
// No sentences at all scores 0 (seqeval's zero_division). An empty tag throws.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace stilts::experiments::metrics {

using TagSentences = std::vector<std::vector<std::string>>;

enum class SeqevalVersion { kLegacy, kV1 };

// seqeval's (chunk_type, chunk_start, chunk_end); end is inclusive.
struct Chunk {
  std::string type;
  std::size_t begin = 0;
  std::size_t end = 0;
  bool operator==(const Chunk&) const = default;
};

// get_entities on one flat sequence (no separators; one 'O' appended).
std::vector<Chunk> seqeval_chunks(const std::vector<std::string>& tags,
                                  SeqevalVersion version = SeqevalVersion::kLegacy);
// get_entities on sentences (flattened with an 'O' after each).
std::vector<Chunk> seqeval_chunks(const TagSentences& sentences,
                                  SeqevalVersion version = SeqevalVersion::kLegacy);

struct SpanScores {
  double precision = 0.0;  // percent
  double recall = 0.0;     // percent
  double f1 = 0.0;         // percent
  std::size_t correct = 0;
  std::size_t predicted = 0;
  std::size_t gold = 0;
};

SpanScores seqeval_scores(const TagSentences& labels, const TagSentences& predictions,
                          SeqevalVersion version = SeqevalVersion::kLegacy);

// seqeval.metrics.accuracy_score in percent: equal tags over all tags (throws when there are
// none).
double token_accuracy(const TagSentences& labels, const TagSentences& predictions);

}  // namespace stilts::experiments::metrics
