// The TP × DP process grid: tensor-parallel groups are contiguous ranks (tp_rank = rank % tp,
// dp_rank = rank / tp), so under a normal rank mapping a TP group sits inside one node.
#pragma once

#include <cstdint>
#include <memory>

#include "parallel/communicator.h"

namespace stilts {

class ProcessGrid {
 public:
  // Throws std::invalid_argument, saying which --tp values or world sizes would work, unless
  // world_size is a positive multiple of tp and 0 <= rank < world_size.
  ProcessGrid(int world_size, int rank, int tp);

  int world_size() const { return world_size_; }
  int rank() const { return rank_; }
  int tp() const { return tp_; }
  int dp() const { return world_size_ / tp_; }
  int tp_rank() const { return rank_ % tp_; }
  int dp_rank() const { return rank_ / tp_; }

  // The Megatron layout shards attention by heads and the FFN and vocabulary by rows, so each
  // must be divisible by tp. Plain integers because parallel/ may not include core/'s config.
  void validate_model(int64_t num_heads, int64_t d_ff, int64_t vocab_size) const;

  struct Groups {
    std::unique_ptr<Communicator> tp;  // the tp ranks holding shards of the same replica
    std::unique_ptr<Communicator> dp;  // the dp ranks holding the same shard
  };
  // Collective over `world`, whose size and rank must be this grid's.
  Groups make_communicators(Communicator& world) const;

 private:
  int world_size_;
  int rank_;
  int tp_;
};

}  // namespace stilts
