// stilts training checkpoints. A run directory holds step directories and a text file
// `latest` naming the newest complete one:
//
//   run_dir/latest                 "step-00000100"
//   run_dir/step-00000100/model.h5       one f32 dataset per parameter, named by its HF name,
//                                        with split_axis, tp_rank, tp_size and offset
//                                        attributes so a loader can reshard
//            /optimizer.h5               one f32 dataset per named optimizer state tensor
//            /trainer.json               step, data position, RNG seed, ... (the caller's)
//            /config.json                the run config (the caller's; includes the model)
//
// A step directory is written under a temporary name, fsynced and renamed; `latest` is
// replaced (tmp + rename) only afterwards, so it never names a partial directory. These may run
// while the data loader's thread reads corpora: HDF5's thread-safe build (Debian 12's)
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

namespace stilts {

// Writes run_dir/step-XXXXXXXX (creating run_dir if needed), replacing an existing directory
// of that step only once the new one is complete, then points `latest` at it. Returns the
// step directory's path.
std::string save_checkpoint(const std::string& run_dir, int64_t step, const Parameters& params,
                            const std::vector<NamedTensor>& optimizer_state,
                            const nlohmann::json& trainer_state, const nlohmann::json& run_config);

// A run directory (follows `latest`) or a step directory, to the step directory's path;
// throws when `path` is neither or the step directory is incomplete.
std::string resolve_checkpoint(const std::string& path);

nlohmann::json read_checkpoint_run_config(const std::string& step_dir);
nlohmann::json read_trainer_state(const std::string& step_dir);

// Fills every parameter from model.h5: each must be stored with its exact shape as f32, and
// the file must hold nothing else; a mismatch names the tensor and the stored model shape.
void load_checkpoint_params(const std::string& step_dir, Parameters& params);

// Fills each given tensor (host f32) from the state of the same name in optimizer.h5; the
// file must hold exactly these names, with the same shapes. Names are any non-empty strings,
// '/' included ("shared.weight/row").
void load_optimizer_state(const std::string& step_dir, std::vector<NamedTensor>& state);

// Every ModelConfig field, name and dropout included, for the run config.
nlohmann::json model_config_to_json(const ModelConfig& config);
// Errors (std::invalid_argument) name `source` and the missing or malformed key.
ModelConfig model_config_from_json(const nlohmann::json& j, const std::string& source);

}  // namespace stilts
