// Adafactor (Shazeer & Stern 2018) exactly as Hugging Face transformers implements it:
// factored second moments for matrices, full ones for vectors, update clipping, optional
// parameter scaling and momentum.
//
// Under tensor parallelism each rank holds a block of rows or of columns of a split matrix,
// with the matching slice of its row or column statistics, and the step of every shard is the
// step of the whole matrix (ops.h, the Adafactor stages): the sums the stages need across the
// split dimension are gathered for every parameter into one buffer and summed over the TP
// group, twice per step (the second-moment sums with the parameter's squares, then the
// update's squares). Replicated parameters need no sums. With ZeRO-1 only the parameters of
// this rank's partition have state and are updated.
#pragma once

#include "core/optim/optimizer.h"
#include "kernels/ops.h"

namespace stilts {

class Adafactor : public Optimizer {
 public:
  Adafactor(const OptimizerOptions& options, const Parameters& params, OptimizerGroups groups);
  void step(Parameters& params, float lr) override;
  std::vector<NamedTensor> state() override;

 private:
  // A parameter this rank updates: its state (undefined where unused) and its sums, views
  // into the step buffers (undefined where unused).
  struct Slot {
    size_t index;
    std::string name;
    SplitAxis split;
    int64_t rows = 1, cols = 1;  // of the whole matrix (factored)
    ops::AdafactorTotals totals;
    Tensor row, col, full, momentum;
    Tensor row_sums, col_sums, param_sum_squares, row_total, update_sum_squares;
  };
  OptimizerOptions options_;
  Communicator& tp_;
  std::vector<Slot> slots_;
  // A scalar of the step buffers (row_total, param_sum_squares, update_sum_squares) from the
  // host copies of the buffers, which cost one transfer per buffer rather than one per scalar.
  double host_scalar(const Tensor& view) const;
  // Refreshes the host copies of the step buffers (on the CPU they are the buffers).
  void copy_to_host();

  // The sums to add over the TP group before stage 2 and before stage 4, and those that are
  // whole on this rank already (undefined when empty), on the parameters' device, and their
  // host copies.
  Tensor first_partial_, second_partial_, whole_;
  Tensor first_partial_host_, second_partial_host_, whole_host_;
};

}  // namespace stilts
