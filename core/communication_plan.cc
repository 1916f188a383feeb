#include "core/communication_plan.h"

#include <memory>

#include "core/model.h"
#include "parallel/data_parallel.h"
#include "parallel/dry_run_communicator.h"

namespace stilts {

CommunicationPlan plan_communication(const ModelConfig& config, const CommunicationLayout& layout,
                                     int64_t batch, int64_t input_len, int64_t target_len,
                                     Device device) {
  CountingCommunicator tp(std::make_unique<DryRunCommunicator>(layout.tp, 0));
  CountingCommunicator dp(std::make_unique<DryRunCommunicator>(layout.dp, 0));
  // The values stay zero: what a step communicates depends on the shapes alone.
  Parameters params(config, device, {layout.tp, 0}, layout.zero ? layout.dp : 1);
  Mt5Model model(params, tp);
  Batch b;
  b.batch_size = batch;
  b.input_len = input_len;
  b.target_len = target_len;
  b.input_ids.assign(batch * input_len, config.eos_token_id);
  b.labels.assign(batch * target_len, config.eos_token_id);

  CommunicationPlan plan;
  model.forward(b, {});
  plan.tp_forward = tp.total();
  tp.reset();
  model.backward();
  plan.tp_backward = tp.total();

  GradientSync sync(dp, layout.gradient_bucket_bytes);
  if (layout.zero) {
    sync.reduce_scatter_gradients(params.flat_grads());
    sync.all_gather_values(params.flat_values());
  } else {
    sync.all_reduce_gradients(params.flat_grads());
  }
  plan.dp = dp.total();
  return plan;
}

}  // namespace stilts
