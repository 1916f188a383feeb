// The data-parallel gradient reduction overlapped with backward (buckets started as the
// model reports final gradients, TrainingStep) gives exactly the gradients of reducing the
// whole buffer after backward (GradientSync::all_reduce_gradients), over MPI, with buckets
// small enough that many start during backward and most straddle parameters.
//
// usage: mpi_gradient_overlap   (under mpirun, every rank one DP rank)
#include <cstring>
#include <string>
#include <vector>

#include "core/training_step.h"
#include "kernels/ops.h"
#include "parallel/counting_communicator.h"
#include "tests/mpi/mpi_checks.h"

namespace stilts {
namespace {

constexpr int64_t kBucketBytes = 4096;

// Rank r's share: its own lengths and tokens, so the ranks' gradients differ.
Batch share(int rank, int64_t vocab) {
  std::vector<std::vector<int32_t>> inputs, labels;
  for (int i = 0; i < 3; ++i) {
    std::vector<int32_t> input, label;
    for (int t = 0; t < 5 + rank + i; ++t)
      input.push_back(3 + (rank * 31 + i * 7 + t * 13) % (vocab - 3));
    for (int t = 0; t < 3 + i; ++t) label.push_back(3 + (rank * 17 + i * 5 + t * 11) % (vocab - 3));
    input.push_back(1);
    label.push_back(1);
    inputs.push_back(input);
    labels.push_back(label);
  }
  return make_batch(inputs, labels, 0);
}

void check_overlap(Communicator& world) {
  ModelConfig config = model_preset("test-tiny");
  config.dropout_rate = 0.0;
  const Batch batch = share(world.rank(), config.vocab_size);

  // Overlapped: TrainingStep over a DP group of the whole world, counting what it starts.
  Parameters overlapped(config, Device::cpu);
  overlapped.initialize(5);
  CountingCommunicator dp(world.split(0, world.rank()));
  TrainingStepOptions options;
  options.gradient_bucket_bytes = kBucketBytes;
  TrainingStep step(overlapped, options, {dp, single_rank_group(), dp, false});
  const StepGradients g = step.compute_gradients(batch, 1, false);

  // After backward: the same model and loss scaling, then the whole buffer.
  Parameters after(config, Device::cpu);
  after.initialize(5);
  std::unique_ptr<Communicator> group = world.split(0, world.rank());
  Mt5Model model(after);
  model.forward(batch, ForwardOptions{true, 0.0f, 0, 1});
  model.backward(1.0f / static_cast<float>(g.tokens));
  GradientSync sync(*group, kBucketBytes);
  sync.all_reduce_gradients(after.flat_grads());

  const int64_t n = after.flat_grads().numel();
  const int64_t buckets = (n * 4 + kBucketBytes - 1) / kBucketBytes;
  // Two host scalars (the token counts and the loss sum) besides the buckets.
  expect(dp.count(Collective::all_reduce).calls == buckets + 2,
         "expected " + std::to_string(buckets) + " buckets and 2 scalar all-reduces, got " +
             std::to_string(dp.count(Collective::all_reduce).calls) + " all-reduces");
  expect(std::memcmp(overlapped.flat_grads().raw(), after.flat_grads().raw(),
                     after.flat_grads().nbytes()) == 0,
         "the overlapped reduction's gradients differ from all_reduce_gradients'");
}

}  // namespace
}  // namespace stilts

int main(int argc, char** argv) {
  return stilts::run_checks(argc, argv, "mpi_gradient_overlap", stilts::check_overlap);
}
