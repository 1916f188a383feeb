// The layout every retrieval reader (tatoeba, udhr-align, synth-align) gives its examples, which
// stilts eval's retrieval mode reads: the queries first, each with gold role "query" and the
// index of its counterpart among the candidates (or role "unaligned" where it has none, for the
// evaluation to count), then the candidates, role "candidate" and their index.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "data/example.h"

namespace stilts::data {

inline void mark_query(Example& query, std::optional<size_t> gold_index) {
  if (!gold_index) {
    query.gold["role"] = "unaligned";
    return;
  }
  query.gold["role"] = "query";
  query.gold["labeled"] = true;
  query.gold["gold_index"] = *gold_index;
}

inline void append_candidates(std::vector<Example>& examples, std::vector<Example> candidates) {
  for (size_t j = 0; j < candidates.size(); ++j) {
    candidates[j].gold["role"] = "candidate";
    candidates[j].gold["index"] = j;
    examples.push_back(std::move(candidates[j]));
  }
}

}  // namespace stilts::data
