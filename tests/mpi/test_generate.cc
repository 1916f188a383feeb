// Decoding under tensor parallelism: at TP = the world size, greedy decoding (cached and
// recomputed) gives the tokens, and rank classification the scores and choices, of one rank
// running the same model in-process.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "core/generate.h"
#include "kernels/ops.h"
#include "parallel/grid.h"
#include "tests/mpi/mpi_checks.h"
#include "tests/unit/core/random_batch.h"

namespace stilts {
namespace {

void check_decoding(Communicator& world) {
  const ModelConfig config = model_preset("test-small");
  const ProcessGrid grid(world.size(), world.rank(), world.size());
  grid.validate_model(config.num_heads, config.d_ff, config.vocab_size);
  ProcessGrid::Groups groups = grid.make_communicators(world);
  Parameters full(config, Device::cpu), local(config, Device::cpu, {grid.tp(), grid.tp_rank()});
  full.initialize(5);
  local.initialize(5);
  Mt5Model one_rank(full), sharded(local, *groups.tp);
  const std::string at = "TP=" + std::to_string(grid.tp()) + ": ";

  const auto inputs = random_sequences(config, 6, 1);
  const auto want = greedy_decode(one_rank, inputs, {12, true});
  size_t tokens = 0;
  for (bool cache : {true, false}) {
    const auto got = greedy_decode(sharded, inputs, {12, cache});
    for (size_t i = 0; i < inputs.size(); ++i)
      expect(got[i] == want[i], at + (cache ? "cached" : "recomputed") +
                                    " decoding differs from one rank in example " +
                                    std::to_string(i));
  }
  for (const auto& w : want) tokens += w.size();

  const auto pool = random_sequences(config, 3, 2);
  const std::vector<std::vector<std::vector<int32_t>>> candidates(inputs.size(), pool);
  const auto want_ranked = rank_classify(one_rank, inputs, candidates, 5);
  const auto got_ranked = rank_classify(sharded, inputs, candidates, 5);
  double worst = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    expect(got_ranked[i].best == want_ranked[i].best,
           at + "rank classification chose another candidate in example " + std::to_string(i));
    for (size_t j = 0; j < pool.size(); ++j) {
      const double w = want_ranked[i].log_likelihoods[j], g = got_ranked[i].log_likelihoods[j];
      worst = std::max(worst, std::fabs(g - w) / std::fabs(w));
    }
  }
  expect(worst <= 1e-5, at + "log-likelihoods differ from one rank by " + std::to_string(worst));
  if (world.rank() == 0)
    std::printf(
        "%s%zu greedy tokens (cached and recomputed) equal to one rank; rank classification: the "
        "same choices, log-likelihoods within %.1e\n",
        at.c_str(), tokens, worst);
}

}  // namespace
}  // namespace stilts

int main(int argc, char** argv) {
  return stilts::run_checks(argc, argv, "tensor-parallel decoding",
                            [](stilts::Communicator& world) {
                              stilts::ops::set_cpu_threads(1);
                              stilts::check_decoding(world);
                            });
}
