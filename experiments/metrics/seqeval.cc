#include "experiments/metrics/seqeval.h"

#include <set>
#include <stdexcept>
#include <string_view>
#include <tuple>

namespace stilts::experiments::metrics {
namespace {

// Length in bytes of the UTF-8 character starting at s[0] (Python's chunk[0] is a code point).
std::size_t first_char_bytes(std::string_view s) {
  const auto lead = static_cast<unsigned char>(s[0]);
  std::size_t n = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
  return std::min(n, s.size());
}

struct Split {
  std::string tag;
  std::string type;
};

Split split_tag(const std::string& chunk, SeqevalVersion version) {
  if (chunk.empty()) {
    throw std::invalid_argument("seqeval: an empty tag");
  }
  const std::size_t n = first_char_bytes(chunk);
  if (version == SeqevalVersion::kLegacy) {
    // chunk.split('-')[-1]: after the last '-' of the whole tag, or the whole tag.
    const std::size_t dash = chunk.rfind('-');
    return Split{chunk.substr(0, n), dash == std::string::npos ? chunk : chunk.substr(dash + 1)};
  }
  // chunk[1:].split('-', maxsplit=1)[-1] or '_'
  std::string_view rest = std::string_view(chunk).substr(n);
  const std::size_t dash = rest.find('-');
  if (dash != std::string_view::npos) {
    rest = rest.substr(dash + 1);
  }
  return Split{chunk.substr(0, n), rest.empty() ? std::string("_") : std::string(rest)};
}

bool end_of_chunk(const std::string& prev_tag, const std::string& tag, const std::string& prev_type,
                  const std::string& type) {
  bool end = prev_tag == "E" || prev_tag == "S";
  if (prev_tag == "B" || prev_tag == "I") {
    end = end || tag == "B" || tag == "S" || tag == "O";
  }
  if (prev_tag != "O" && prev_tag != "." && prev_type != type) {
    end = true;
  }
  return end;
}

bool start_of_chunk(const std::string& prev_tag, const std::string& tag,
                    const std::string& prev_type, const std::string& type) {
  bool start = tag == "B" || tag == "S";
  if ((prev_tag == "E" || prev_tag == "S" || prev_tag == "O") && (tag == "E" || tag == "I")) {
    start = true;
  }
  if (tag != "O" && tag != "." && prev_type != type) {
    start = true;
  }
  return start;
}

void check_lengths(const TagSentences& labels, const TagSentences& predictions) {
  if (labels.size() != predictions.size()) {
    throw std::invalid_argument("seqeval: " + std::to_string(predictions.size()) +
                                " predicted sentences but " + std::to_string(labels.size()) +
                                " gold sentences");
  }
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i].size() != predictions[i].size()) {
      throw std::invalid_argument("seqeval: sentence " + std::to_string(i) + " has " +
                                  std::to_string(predictions[i].size()) + " predicted tags but " +
                                  std::to_string(labels[i].size()) + " gold tags");
    }
  }
}

}  // namespace

std::vector<Chunk> seqeval_chunks(const std::vector<std::string>& tags, SeqevalVersion version) {
  std::vector<Chunk> chunks;
  std::string prev_tag = "O";
  std::string prev_type;
  std::size_t begin = 0;
  for (std::size_t i = 0; i <= tags.size(); ++i) {
    static const std::string kOutside = "O";
    const Split current = split_tag(i < tags.size() ? tags[i] : kOutside, version);
    if (end_of_chunk(prev_tag, current.tag, prev_type, current.type)) {
      chunks.push_back({prev_type, begin, i - 1});
    }
    if (start_of_chunk(prev_tag, current.tag, prev_type, current.type)) {
      begin = i;
    }
    prev_tag = current.tag;
    prev_type = current.type;
  }
  return chunks;
}

std::vector<Chunk> seqeval_chunks(const TagSentences& sentences, SeqevalVersion version) {
  std::vector<std::string> flat;
  for (const auto& sentence : sentences) {
    flat.insert(flat.end(), sentence.begin(), sentence.end());
    flat.emplace_back("O");
  }
  return seqeval_chunks(flat, version);
}

SpanScores seqeval_scores(const TagSentences& labels, const TagSentences& predictions,
                          SeqevalVersion version) {
  check_lengths(labels, predictions);
  using Key = std::tuple<std::string, std::size_t, std::size_t>;
  std::set<Key> gold;
  for (const Chunk& chunk : seqeval_chunks(labels, version)) {
    gold.emplace(chunk.type, chunk.begin, chunk.end);
  }
  std::set<Key> predicted;
  for (const Chunk& chunk : seqeval_chunks(predictions, version)) {
    predicted.emplace(chunk.type, chunk.begin, chunk.end);
  }
  SpanScores scores;
  scores.gold = gold.size();
  scores.predicted = predicted.size();
  for (const Key& key : predicted) {
    scores.correct += gold.count(key);
  }
  const double correct = static_cast<double>(scores.correct);
  const double precision = scores.predicted == 0 ? 0.0 : correct / scores.predicted;
  const double recall = scores.gold == 0 ? 0.0 : correct / scores.gold;
  const double denominator = precision + recall;
  const double f1 = 2.0 * precision * recall / (denominator == 0.0 ? 1.0 : denominator);
  scores.precision = precision * 100;
  scores.recall = recall * 100;
  scores.f1 = f1 * 100;
  return scores;
}

double token_accuracy(const TagSentences& labels, const TagSentences& predictions) {
  check_lengths(labels, predictions);
  std::size_t total = 0;
  std::size_t equal = 0;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    for (std::size_t j = 0; j < labels[i].size(); ++j) {
      ++total;
      equal += labels[i][j] == predictions[i][j];
    }
  }
  if (total == 0) {
    throw std::invalid_argument("seqeval: no tags to score");
  }
  return 100.0 * static_cast<double>(equal) / static_cast<double>(total);
}

}  // namespace stilts::experiments::metrics
