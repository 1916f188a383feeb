// stilts training checkpoints. A run directory holds step directories and a text file
// `latest` naming the newest complete one. A step directory of a job of tp tensor-parallel x
// dp data-parallel ranks:
//
//   run_dir/latest                       "step-00000100"
//   run_dir/step-00000100/layout.json    {"format": "stilts-checkpoint", "version": 2,
//                                         "tp": 2, "dp": 4, "zero": false}
//            /model-tp00-of-02.h5        TP shard 0 of every parameter (written by DP rank 0 of
//            /model-tp01-of-02.h5        that shard): one f32 dataset per parameter
//            /optimizer-tp00-dp00.h5     the optimizer state of (TP shard, DP rank): without
//            /optimizer-tp01-dp00.h5     ZeRO-1 only DP rank 0 writes one; with it every rank
//                                        does, each holding a disjoint part of the state
//            /trainer.json               step, data position, RNG seed, ... (the caller's)
//            /config.json                the run config (the caller's; includes the model)
//
// A single process writes model-tp00-of-01.h5 and optimizer-tp00-dp00.h5. Each .h5 file has
// root attributes format ("stilts-checkpoint"), version (1) and model (the shape summary) and
// one dataset per tensor, named by its HF parameter name or optimizer state name ('/' escaped
// as %2F and '%' as %25, so every dataset sits in the root group), holding this shard's
// slice, with attributes split_axis ("none", "rows", "cols"), tp_rank, tp_size, offset (the
// first full-tensor row or column of the slice) and full_shape (i64[], the unsharded shape).
//
// A loader at any TP size reads the slices it needs from whichever shard files hold them, so
// a checkpoint saved at tp 2 loads at tp 1 (export-hf's gather), 2 or 4, and optimizer state
// saved with or without ZeRO-1 at any dp loads into any layout. A step directory of the
// earlier single-file layout (model.h5, optimizer.h5, no layout.json) still loads as tp 1.
//
// The step directory is written under a temporary name, fsynced and renamed; `latest` is
// replaced (tmp + rename) only afterwards, so it never names a partial directory. These may
// run while the data loader's thread reads corpora: HDF5's thread-safe build (Debian 12's)
// serializes the two.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/named_tensor.h"
#include "core/params.h"
#include "kernels/tensor.h"
#include "parallel/communicator.h"

namespace stilts {

// The ranks that save one checkpoint together. The TP shard is the parameters' own
// (params.shard()); world.size() must be shard.size * dp_size.
struct CheckpointGroup {
  // Every rank of the job; save_checkpoint issues a broadcast, an all_reduce and a broadcast
  // over it, on host tensors (an MPI communicator, not NCCL's).
  Communicator& world;
  int dp_rank = 0;
  int dp_size = 1;
  // ZeRO-1: each DP rank passes the state of its own partition only, so every rank writes
  // its optimizer file; otherwise the DP ranks hold copies and only DP rank 0 writes.
  bool zero = false;

  // A lone process.
  static CheckpointGroup single();
};

// Collective over group.world: writes run_dir/step-XXXXXXXX (creating run_dir if needed),
// every rank its own files, replacing an existing directory of that step only once the new one
// is complete, then world rank 0 points `latest` at it. If any rank fails, no rank commits:
// the failing rank rethrows its error and the others throw one naming the failing world
// ranks. Returns the step directory's path on every rank.
std::string save_checkpoint(const std::string& run_dir, int64_t step, const Parameters& params,
                            const std::vector<NamedTensor>& optimizer_state,
                            const nlohmann::json& trainer_state, const nlohmann::json& run_config,
                            const CheckpointGroup& group = CheckpointGroup::single());

// The pieces save_checkpoint assembles, for building a multi-shard step directory in one
// process (tests) or inspecting one. File names of a layout:
std::string model_shard_file(TensorShard shard);             // "model-tp01-of-04.h5"
std::string optimizer_shard_file(int tp_rank, int dp_rank);  // "optimizer-tp01-dp00.h5"
struct CheckpointLayout {
  int tp = 1;
  int dp = 1;
  bool zero = false;
  bool legacy = false;  // model.h5 + optimizer.h5 of the single-file layout
  std::vector<std::string> model_files() const;  // indexed by TP rank
  // The optimizer files of TP shard tp_rank, by DP rank (one without ZeRO-1).
  std::vector<std::string> optimizer_files(int tp_rank) const;
};
// Into the existing directory `dir`, fsynced: params' model shard file when dp_rank == 0, and
// the optimizer file of (params.shard().rank, dp_rank) when dp_rank == 0 or zero.
void write_checkpoint_shard(const std::string& dir, const Parameters& params,
                            const std::vector<NamedTensor>& optimizer_state, int dp_rank,
                            bool zero);
// layout.json, trainer.json and config.json into the existing directory `dir`.
void write_checkpoint_metadata(const std::string& dir, const CheckpointLayout& layout,
                               const nlohmann::json& trainer_state,
                               const nlohmann::json& run_config);
// layout.json of a step directory (or the legacy layout when it has model.h5 and no
// layout.json); errors name the file.
CheckpointLayout read_checkpoint_layout(const std::string& step_dir);

// A run directory (follows `latest`) or a step directory, to the step directory's path;
// throws when `path` is neither or the step directory is incomplete (naming the missing file).
std::string resolve_checkpoint(const std::string& path);

nlohmann::json read_checkpoint_run_config(const std::string& step_dir);
nlohmann::json read_trainer_state(const std::string& step_dir);

// Fills this process's shard of every parameter (params.shard(), any TP size) from the model
// shard files, parameter by parameter, reading only the slices it needs (only its own file when
// the saved TP size equals params.shard().size). Each file must hold exactly the parameters,
// with the saved split axis and the full shape; errors name the file and the tensor. Everything
// is checked before the first value is overwritten.
void load_checkpoint_params(const std::string& step_dir, Parameters& params);

// Fills each given tensor (host f32, shard `shard` of its full tensor, split by its `split`)
// from the state of the same name in whichever optimizer file of the saved TP shards holds it,
// at any saved TP size, DP size or ZeRO setting. Names are any non-empty strings, '/'
// included ("shared.weight/row"). A missing name, another split axis or full shape is an error
// naming the files and the tensor; state nobody asks for is ignored (with ZeRO-1 a rank asks
// for its partition only). Checked before the first tensor is overwritten.
void load_optimizer_state(const std::string& step_dir, std::vector<NamedTensor>& state,
                          TensorShard shard = {});

// Every ModelConfig field, name and dropout included, for the run config.
nlohmann::json model_config_to_json(const ModelConfig& config);
// Errors (std::invalid_argument) name `source` and the missing or malformed key.
ModelConfig model_config_from_json(const nlohmann::json& j, const std::string& source);

}  // namespace stilts
