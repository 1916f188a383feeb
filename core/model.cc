#include "core/model.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "parallel/tensor_parallel.h"
#include "parallel/vocab_parallel_argmax.h"

namespace stilts {
namespace {

constexpr const char* kSharedTable = "shared.weight";
constexpr const char* kHead = "lm_head.weight";

// Token arrays arrive on the host: dst becomes them on `device`, in one copy. On the CPU the
// host tensor itself serves.
template <class T>
void upload(const std::vector<T>& values, const Shape& shape, Device device, Tensor& dst) {
  Tensor host(shape, DTypeOf<T>::value);
  std::copy(values.begin(), values.end(), host.data<T>());
  if (device == Device::cpu)
    dst = host;
  else
    ops::copy(host, ensure_shape(dst, shape, host.dtype(), device));
}

}  // namespace

std::vector<ParamSpec> param_specs(const ModelConfig& config) {
  config.validate();
  std::vector<ParamSpec> specs;
  Embedding::declare(specs, kSharedTable, config);
  Stack::declare(specs, "encoder", config);
  Stack::declare(specs, "decoder", config);
  LmHead::declare(specs, kHead, config);
  return specs;
}

namespace {

Parameters& check_group(Parameters& params, Communicator& tp) {
  if (tp.size() != params.shard().size || tp.rank() != params.shard().rank)
    throw std::invalid_argument("Mt5Model: parameters of tensor shard " +
                                std::to_string(params.shard().rank) + "/" +
                                std::to_string(params.shard().size) + " cannot run in " +
                                tp.name() + " of size " + std::to_string(tp.size()));
  return params;
}

}  // namespace

Mt5Model::Mt5Model(Parameters& params, Communicator& tp, ModelNumerics numerics)
    : params_(check_group(params, tp)),
      tp_(tp),
      residual_dtype_(numerics.residual_dtype(params.activation_dtype())),
      lm_head_index_(params.index_of(kHead)),
      embedding_(params, kSharedTable, "encoder.embed_tokens", tp),
      decoder_embedding_(params, kSharedTable, "decoder.embed_tokens", tp),
      encoder_(params, "encoder", tp, residual_dtype_),
      decoder_(params, "decoder", tp, residual_dtype_),
      head_(params, kHead, tp) {}

namespace {

DropoutPlan dropout_plan(const ModelConfig& c, const ForwardOptions& options, int tp_rank) {
  return {options.training ? static_cast<float>(c.dropout_rate) : 0.0f, options.seed, options.step,
          static_cast<uint32_t>(tp_rank)};
}

}  // namespace

const Tensor& Mt5Model::encode(const std::vector<int32_t>& input_ids, int64_t batch,
                               int64_t input_len, const ForwardOptions& options) {
  const ModelConfig& c = params_.config();
  const Device device = params_.device();
  upload(input_ids, {batch, input_len}, device, input_ids_);
  std::vector<float> mask(input_ids.size());
  std::transform(input_ids.begin(), input_ids.end(), mask.begin(),
                 [&](int32_t id) { return id == c.pad_token_id ? 0.0f : 1.0f; });
  upload(mask, {batch, input_len}, device, encoder_mask_);
  encoder_out_ =
      encoder_.forward(embedding_.forward(input_ids_), encoder_mask_, no_mask_, no_mask_,
                       dropout_plan(c, options, tp_.rank()), options.recompute_activations);
  return encoder_out_;
}

HeadLoss Mt5Model::forward(const Batch& batch, const ForwardOptions& options) {
  const ModelConfig& c = params_.config();
  const Device device = params_.device();
  batch.validate(c.vocab_size, "batch");
  const int64_t b = batch.batch_size, u = batch.target_len;
  encode(batch.input_ids, b, batch.input_len, options);
  upload(shift_right(batch, c.decoder_start_token_id, c.pad_token_id), {b, u}, device,
         decoder_ids_);
  upload(batch.labels, {b * u}, device, targets_);
  const DropoutPlan dropout = dropout_plan(c, options, tp_.rank());
  const Tensor& decoder_out =
      decoder_.forward(decoder_embedding_.forward(decoder_ids_), no_mask_, encoder_out_,
                       encoder_mask_, dropout, options.recompute_activations);
  const HeadLoss loss = head_.forward(decoder_out.reshape({b * u, c.d_model}), targets_,
                                      batch.target_tokens(), options.z_loss);
  last_tokens_ = loss.tokens;
  return loss;
}

DecoderCache Mt5Model::start_decoding(const std::vector<int64_t>& rows) {
  return decoder_.start_decoding(encoder_out_, encoder_mask_, rows);
}

const Tensor& Mt5Model::decode_step(const std::vector<int32_t>& tokens, DecoderCache& cache) {
  const auto rows = static_cast<int64_t>(tokens.size());
  upload(tokens, {rows, 1}, params_.device(), step_ids_);
  const Tensor& out = decoder_.decode(decoder_embedding_.forward(step_ids_), cache);
  return head_.project(out.reshape({rows, params_.config().d_model}));
}

void Mt5Model::backward(float loss_scale) {
  const ModelConfig& c = params_.config();
  const int64_t b = decoder_ids_.dim(0), u = decoder_ids_.dim(1), t = input_ids_.dim(1);
  const Device device = params_.device();
  // The head's input gradient comes from one matmul: the compute dtype. The embeddings'
  // gradients are the residual gradient at the bottom of each stack, and the encoder output's
  // collects every decoder layer's cross-attention: sums over layers, in the residual dtype.
  ops::fill(ensure_shape(ddecoder_out_, {b, u, c.d_model}, params_.activation_dtype(), device),
            0.0f);
  Tensor ddecoder_flat = ddecoder_out_.reshape({b * u, c.d_model});
  head_.backward(loss_scale, ddecoder_flat);
  if (gradients_ready_) gradients_ready_(lm_head_index_);

  ops::fill(ensure_shape(ddecoder_embedded_, {b, u, c.d_model}, residual_dtype_, device), 0.0f);
  ops::fill(ensure_shape(dencoder_out_, {b, t, c.d_model}, residual_dtype_, device), 0.0f);
  decoder_.backward(ddecoder_out_, ddecoder_embedded_, dencoder_out_, gradients_ready_);
  decoder_embedding_.backward(ddecoder_embedded_);
  // Every decoder layer's cross-attention added its partial K/V input gradient
  // (ColumnParallelLinear::InputGradient::partial); all-reduce is linear, so one reduction of
  // the sum stands for one per layer.
  copy_to_tp_backward(tp_, dencoder_out_);

  ops::fill(ensure_shape(dencoder_embedded_, {b, t, c.d_model}, residual_dtype_, device), 0.0f);
  Tensor unused;
  encoder_.backward(dencoder_out_, dencoder_embedded_, unused, gradients_ready_);
  embedding_.backward(dencoder_embedded_);
  // The shared table (index 0) has both stacks' lookups now.
  if (gradients_ready_) gradients_ready_(0);
}

void Mt5Model::predicted_tokens(Tensor& out) {
  vocab_parallel_argmax(tp_, head_.logits(), head_.vocab_start(), out);
}

}  // namespace stilts
