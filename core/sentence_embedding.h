// Sentence embeddings for the retrieval tasks (Tatoeba, BUCC, LAReQA, Mewsli-X), as XTREME
// builds them for encoders: the mean over real (non-pad) tokens of one encoder layer's hidden
// states, compared by cosine similarity.
#pragma once

#include <cstdint>
#include <vector>

#include "core/model.h"

namespace stilts {

// f32 [inputs.size(), d] on the host, the embedding of each token sequence: the mean over its
// tokens of encoder hidden state `layer` (0 = embeddings .. encoder_layers() = the final normed
// output, as Hugging Face's hidden_states), batch_size sequences at a time. Every rank of a TP
// group returns the same embeddings.
Tensor sentence_embeddings(Mt5Model& model, const std::vector<std::vector<int32_t>>& inputs,
                           int64_t layer, int64_t batch_size = 32);

// For each query row, the indices of the k candidate rows of highest cosine similarity, best
// first (ties: the lower index first), and their similarities. queries [Nq, d], candidates
// [Nc, d]; k is capped at Nc.
struct Neighbors {
  std::vector<std::vector<int64_t>> indices;
  std::vector<std::vector<float>> similarities;
};
Neighbors nearest_by_cosine(const Tensor& queries, const Tensor& candidates, int64_t k);

}  // namespace stilts
