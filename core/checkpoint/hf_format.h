// Hugging Face model directories (config.json + model.safetensors, or shards listed by
// model.safetensors.index.json), the form in which pretrained mT5 arrives and fine-tuned
// models leave. Tensor names are the registry's, so no name table is needed.
#pragma once

#include <cstdint>
#include <string>

#include "core/config.h"
#include "core/params.h"
#include "kernels/tensor.h"

namespace stilts {

// dir/config.json through from_hf_config; errors name the file.
ModelConfig read_hf_config(const std::string& dir);

// Loads every registry parameter from dir (host parameters). Checks, before any value is
// overwritten: dir/config.json has the parameters' shape, every parameter is present with its
// exact shape and dtype F32, BF16 or F16, and no tensor is left over. The loader rules of
// transformers apply: encoder/decoder.embed_tokens.weight are ties of shared.weight (shape
// checked, values ignored; used for shared.weight when that is absent), and the unused
// decoder cross-attention relative_attention_bias is ignored. Tensor-parallel parameters
// (params.shard().size > 1) get their shard of each full tensor.
void load_hf_weights(const std::string& dir, Parameters& params);

// Writes config.json (torch_dtype matching `dtype`) and the weights as `dtype` (f32, bf16 or
// f16) in model.safetensors, or, when max_shard_bytes > 0 and they exceed it, in
// model-0000i-of-0000n.safetensors shards plus model.safetensors.index.json. The directory is
// built as a sibling "<dir>.tmp-<pid>" and renamed into place. An existing non-empty dir is
// refused unless `overwrite`, and then replaced only once the new one is complete. The
// parameters must be whole (shard size 1): a tensor-parallel checkpoint is gathered by loading
// it at tp 1 (load_checkpoint_params reshards), as export-hf does.
void save_hf_model(const std::string& dir, const Parameters& params, DType dtype = DType::f32,
                   int64_t max_shard_bytes = 0, bool overwrite = false);

}  // namespace stilts
