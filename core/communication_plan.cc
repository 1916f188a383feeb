#include "core/communication_plan.h"

#include "core/params.h"

namespace stilts {

CommunicationPlan communication_per_step(const ModelConfig& config, int tp, int dp, bool zero,
                                         int64_t batch, int64_t input_len, int64_t target_len) {
  CommunicationPlan plan;
  const int64_t encoder = batch * input_len * config.d_model * 4;
  const int64_t decoder = batch * target_len * config.d_model * 4;
  const int64_t layers = config.num_layers, decoder_layers = config.num_decoder_layers;
  if (tp > 1) {
    // Forward: each embedding lookup, 2 per encoder layer (attention o, wo), 3 per decoder
    // layer (self o, cross o, wo), the cross-entropy's max, target logit and sum of exps.
    plan.tp_forward_calls = 2 + 2 * layers + 3 * decoder_layers + 3;
    plan.tp_forward_bytes = encoder + decoder + 2 * layers * encoder +
                            3 * decoder_layers * decoder + 3 * batch * target_len * 4;
    // Backward: the head's input gradient, 2 and 3 per layer (the column-parallel inputs), the
    // encoder output's gradient summed over every cross-attention.
    plan.tp_backward_calls = 1 + 2 * layers + 3 * decoder_layers + 1;
    plan.tp_backward_bytes =
        decoder + 2 * layers * encoder + 3 * decoder_layers * decoder + encoder;
  }
  if (dp > 1) {
    plan.dp_bytes = (zero ? 2 : 1) * flat_numel(config, {tp, 0}, zero ? dp : 1) * 4;
  }
  return plan;
}

}  // namespace stilts
