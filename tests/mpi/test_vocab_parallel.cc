// The tensor-parallel mappings and VocabParallelCrossEntropy under mpirun: every rank takes its
// vocabulary slice of the same logits, and the losses and the gathered gradient must match the
// single-rank cross-entropy with the collectives Megatron's scheme predicts. Exits non-zero
// with a message on the first failure (and aborts the other ranks, which would otherwise wait).
#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>

#include "kernels/ops.h"
#include "parallel/counting_communicator.h"
#include "parallel/mpi_communicator.h"
#include "parallel/tensor_parallel.h"
#include "parallel/vocab_parallel_cross_entropy.h"
#include "tests/mpi/mpi_checks.h"

namespace stilts {
namespace {

constexpr int kIgnore = -100;

void expect_close(float actual, float expected, const std::string& what) {
  const double tolerance = 1e-5 * std::max(1.0, std::abs(static_cast<double>(expected)));
  expect(std::abs(static_cast<double>(actual) - expected) <= tolerance,
         what + ": " + std::to_string(actual) + " != " + std::to_string(expected));
}

void expect_count(const CountingCommunicator& comm, Collective kind, int64_t calls, int64_t bytes,
                  const std::string& when) {
  const CollectiveCount& count = comm.count(kind);
  expect(count.calls == calls && count.bytes == bytes,
         when + ": " + std::to_string(count.calls) + " " + collective_name(kind) + " calls of " +
             std::to_string(count.bytes) + " bytes, expected " + std::to_string(calls) + " of " +
             std::to_string(bytes));
}

// Rank-dependent values whose sums over ranks are exact in f32.
Tensor rank_values(int rank) {
  Tensor t({2, 3});
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = static_cast<float>(rank * 6 + i);
  return t;
}

void check_mappings(CountingCommunicator& tp) {
  const int ranks = tp.size();
  auto summed = [&](int64_t i) {
    return static_cast<float>(ranks * i + 6 * ranks * (ranks - 1) / 2);
  };
  Tensor x = rank_values(tp.rank());
  copy_to_tp_backward(tp, x);
  for (int64_t i = 0; i < x.numel(); ++i)
    expect(x.data<float>()[i] == summed(i), "copy_to backward element " + std::to_string(i));
  Tensor y = rank_values(tp.rank());
  reduce_from_tp_forward(tp, y);
  for (int64_t i = 0; i < y.numel(); ++i)
    expect(y.data<float>()[i] == summed(i), "reduce_from forward element " + std::to_string(i));
  expect_count(tp, Collective::all_reduce, 2, 2 * 6 * 4, "mappings");
  expect(tp.total().calls == 2, "the mappings issued collectives other than all-reduces");
  tp.reset();
}

void check_cross_entropy(CountingCommunicator& tp, float z_loss, float grad_scale) {
  constexpr int64_t kRows = 9;
  const int64_t vocab = 16 * tp.size(), slice = vocab / tp.size();
  Tensor logits({kRows, vocab});
  ops::fill_normal(logits, 0.0f, 3.0f, RngKey{7, 1});  // the same on every rank
  Tensor targets({kRows}, DType::i32);
  for (int64_t i = 0; i < kRows; ++i)
    targets.data<int32_t>()[i] = i % 4 == 1 ? kIgnore : static_cast<int32_t>((i * 37) % vocab);
  Tensor ref_losses({kRows}), ref_lse({kRows}), ref_dlogits({kRows, vocab});
  ops::cross_entropy_forward(logits, targets, kIgnore, z_loss, ref_losses, ref_lse);
  ops::cross_entropy_backward(logits, targets, ref_lse, kIgnore, z_loss, grad_scale, ref_dlogits);

  VocabParallelCrossEntropy loss(tp, vocab, kIgnore);
  expect(loss.vocab_start() == tp.rank() * slice, "vocab_start of rank " + tp.name());
  Tensor local({kRows, slice});
  for (int64_t i = 0; i < kRows; ++i)
    std::copy_n(logits.data<float>() + i * vocab + loss.vocab_start(), slice,
                local.data<float>() + i * slice);

  Tensor losses({kRows});
  loss.forward(local, targets, z_loss, losses);
  expect_count(tp, Collective::all_reduce, 3, 3 * kRows * 4, "forward");
  expect(tp.total().calls == 3, "forward issued collectives other than 3 all-reduces");
  for (int64_t i = 0; i < kRows; ++i)
    expect_close(losses.data<float>()[i], ref_losses.data<float>()[i],
                 "loss of row " + std::to_string(i));

  tp.reset();
  Tensor dlogits({kRows, slice});
  loss.backward(local, targets, grad_scale, dlogits);
  expect(tp.total().calls == 0, "backward issued a collective");

  // Gather the slices (rows of rank r at [r * kRows, (r + 1) * kRows)) to compare the whole.
  Tensor gathered({tp.size() * kRows, slice});
  tp.all_gather(dlogits, gathered);
  for (int r = 0; r < tp.size(); ++r)
    for (int64_t i = 0; i < kRows; ++i)
      for (int64_t j = 0; j < slice; ++j)
        expect_close(
            gathered.data<float>()[(r * kRows + i) * slice + j],
            ref_dlogits.data<float>()[i * vocab + r * slice + j],
            "dlogits row " + std::to_string(i) + " column " + std::to_string(r * slice + j));
  tp.reset();
}

}  // namespace
}  // namespace stilts

int main(int argc, char** argv) {
  return stilts::run_checks(argc, argv, "vocab_parallel", [](stilts::MpiCommunicator& world) {
    stilts::CountingCommunicator tp(world.split(0, world.rank()));
    stilts::check_mappings(tp);
    stilts::check_cross_entropy(tp, 0.0f, 1.0f);
    stilts::check_cross_entropy(tp, 1e-2f, 0.25f);
  });
}
