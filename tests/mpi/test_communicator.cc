// The Communicator contract under mpirun: every collective against values computed locally for
// all ranks, grid sub-groups, the counting decorator and the shape checks. Exits non-zero with
// a message on the first failure (and aborts the other ranks, which would otherwise wait).
#include <mpi.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>

#include "parallel/counting_communicator.h"
#include "parallel/grid.h"
#include "parallel/mpi_communicator.h"
#include "tests/mpi/mpi_checks.h"

namespace stilts {
namespace {

template <class T>
std::string show(T value) {
  return std::to_string(value);
}

// Rank-dependent data whose sums are exact in f32, so results compare with ==.
template <class T>
T value_of(int rank, int64_t i) {
  return static_cast<T>((rank * 7 + i * 3) % 11) - static_cast<T>(rank);
}

template <class T>
void check_all_reduce(Communicator& comm) {
  const int64_t n = 10;
  for (ReduceOp op : {ReduceOp::sum, ReduceOp::max}) {
    Tensor tensor({2, n / 2}, DTypeOf<T>::value);
    for (int64_t i = 0; i < n; ++i) tensor.data<T>()[i] = value_of<T>(comm.rank(), i);
    comm.all_reduce(tensor, op);
    for (int64_t i = 0; i < n; ++i) {
      T expected = value_of<T>(0, i);
      for (int r = 1; r < comm.size(); ++r)
        expected = op == ReduceOp::sum ? expected + value_of<T>(r, i)
                                       : std::max(expected, value_of<T>(r, i));
      expect(tensor.data<T>()[i] == expected,
             comm.name() + " all_reduce " + (op == ReduceOp::sum ? "sum" : "max") + " " +
                 dtype_name(tensor.dtype()) + " element " + show(i) + ": " +
                 show(tensor.data<T>()[i]) + " != " + show(expected));
    }
  }
}

// Inexact f32 sums: every rank must still receive the same bits, and a repeat the same bits
// again (the fixed reduction order of communicator.h).
void check_all_reduce_bits(Communicator& comm) {
  const int64_t n = 1000;
  auto reduce = [&] {
    Tensor tensor({n});
    for (int64_t i = 0; i < n; ++i)
      tensor.data<float>()[i] = 0.1f * static_cast<float>(comm.rank() + 1) / (1.0f + i);
    comm.all_reduce(tensor);
    return tensor;
  };
  Tensor first = reduce();
  Tensor again = reduce();
  expect(std::memcmp(first.raw(), again.raw(), first.nbytes()) == 0,
         comm.name() + " all_reduce: a repeat gave other bits");
  Tensor everyone({comm.size() * n});
  comm.all_gather(first, everyone);
  for (int r = 0; r < comm.size(); ++r)
    expect(std::memcmp(everyone.data<float>() + r * n, first.raw(), first.nbytes()) == 0,
           comm.name() + " all_reduce: rank " + show(r) + " got other bits");
}

void check_broadcast(Communicator& comm) {
  int root = comm.size() - 1;
  Tensor tensor({3, 2}, DType::i64);
  for (int64_t i = 0; i < 6; ++i) tensor.data<int64_t>()[i] = value_of<int64_t>(comm.rank(), i);
  comm.broadcast(tensor, root);
  for (int64_t i = 0; i < 6; ++i)
    expect(tensor.data<int64_t>()[i] == value_of<int64_t>(root, i),
           comm.name() + " broadcast from " + show(root) + " element " + show(i));
}

void check_all_gather(Communicator& comm) {
  Tensor local({2, 3});
  for (int64_t i = 0; i < 6; ++i) local.data<float>()[i] = value_of<float>(comm.rank(), i);
  Tensor gathered({2 * comm.size(), 3});
  comm.all_gather(local, gathered);
  for (int r = 0; r < comm.size(); ++r)
    for (int64_t i = 0; i < 6; ++i)
      expect(gathered.data<float>()[r * 6 + i] == value_of<float>(r, i),
             comm.name() + " all_gather: rows of rank " + show(r) + " element " + show(i));
}

void check_reduce_scatter(Communicator& comm) {
  const int64_t block = 4;
  Tensor full({2 * comm.size(), 2}, DType::i32);
  for (int64_t i = 0; i < full.numel(); ++i)
    full.data<int32_t>()[i] = value_of<int32_t>(comm.rank(), i);
  Tensor local({2, 2}, DType::i32);
  comm.reduce_scatter(full, local);
  for (int64_t i = 0; i < block; ++i) {
    int32_t expected = 0;
    for (int r = 0; r < comm.size(); ++r) expected += value_of<int32_t>(r, comm.rank() * block + i);
    expect(local.data<int32_t>()[i] == expected,
           comm.name() + " reduce_scatter element " + show(i) + ": " +
               show(local.data<int32_t>()[i]) + " != " + show(expected));
  }
}

// The world ranks of `group`'s members, in group rank order.
Tensor members(Communicator& group, int world_rank) {
  Tensor mine({1}, DType::i32);
  mine.data<int32_t>()[0] = world_rank;
  Tensor all({group.size()}, DType::i32);
  group.all_gather(mine, all);
  return all;
}

void check_grid(Communicator& world) {
  int tp = world.size() % 2 == 0 ? 2 : world.size();
  ProcessGrid grid(world.size(), world.rank(), tp);
  ProcessGrid::Groups groups = grid.make_communicators(world);
  expect(groups.tp->size() == grid.tp() && groups.tp->rank() == grid.tp_rank(),
         groups.tp->name() + ": expected tp rank " + show(grid.tp_rank()) + "/" + show(tp));
  expect(groups.dp->size() == grid.dp() && groups.dp->rank() == grid.dp_rank(),
         groups.dp->name() + ": expected dp rank " + show(grid.dp_rank()) + "/" + show(grid.dp()));
  Tensor tp_members = members(*groups.tp, world.rank());
  for (int j = 0; j < grid.tp(); ++j)
    expect(tp_members.data<int32_t>()[j] == grid.dp_rank() * tp + j,
           groups.tp->name() + ": member " + show(j) + " is world rank " +
               show(tp_members.data<int32_t>()[j]));
  Tensor dp_members = members(*groups.dp, world.rank());
  for (int j = 0; j < grid.dp(); ++j)
    expect(dp_members.data<int32_t>()[j] == j * tp + grid.tp_rank(),
           groups.dp->name() + ": member " + show(j) + " is world rank " +
               show(dp_members.data<int32_t>()[j]));
  check_all_reduce<float>(*groups.tp);
  check_broadcast(*groups.dp);
  check_reduce_scatter(*groups.dp);
}

void check_counting(Communicator& world) {
  CountingCommunicator counting(world.split(0, world.rank()));
  check_all_reduce<float>(counting);  // sum and max
  check_broadcast(counting);
  check_all_gather(counting);
  check_reduce_scatter(counting);
  counting.barrier();
  int64_t n = counting.size();
  auto expect_count = [&](Collective kind, int64_t calls, int64_t bytes) {
    const CollectiveCount& count = counting.count(kind);
    expect(count.calls == calls && count.bytes == bytes,
           std::string("counting ") + collective_name(kind) + ": " + show(count.calls) + " calls " +
               show(count.bytes) + " bytes, expected " + show(calls) + " and " + show(bytes));
  };
  expect_count(Collective::all_reduce, 2, 2 * 10 * 4);
  expect_count(Collective::broadcast, 1, 6 * 8);
  expect_count(Collective::all_gather, 1, n * 6 * 4);
  expect_count(Collective::reduce_scatter, 1, n * 4 * 4);
  expect_count(Collective::barrier, 1, 0);

  // The grid's groups over a counting world count on their own.
  counting.reset();
  ProcessGrid grid(world.size(), world.rank(), 1);
  ProcessGrid::Groups groups = grid.make_communicators(counting);
  auto* dp = dynamic_cast<CountingCommunicator*>(groups.dp.get());
  expect(dp != nullptr, "counting split: the DP group does not count");
  Tensor gradient({8});
  dp->all_reduce(gradient);
  expect(
      dp->count(Collective::all_reduce).calls == 1 && dp->count(Collective::all_reduce).bytes == 32,
      "counting split: the DP group's all_reduce was not counted");
  expect(counting.total().calls == 0, "counting split: the parent counted its child's calls");
}

void check_shape_errors(Communicator& world) {
  Tensor local({2, 3});
  Tensor wrong({2 * world.size() + 1, 3});
  std::string message;
  try {
    world.all_gather(local, wrong);
  } catch (const std::invalid_argument& error) {
    message = error.what();
  }
  for (const std::string& part : {std::string("all_gather"), std::string("f32[2,3]"),
                                  "f32[" + show(2 * world.size() + 1) + ",3]"})
    expect(message.find(part) != std::string::npos,
           "all_gather shape mismatch: message \"" + message + "\" lacks " + part);
  bool refused = false;
  Tensor bf16({4}, DType::bf16);
  try {
    world.all_reduce(bf16);
  } catch (const std::invalid_argument&) {
    refused = true;
  }
  expect(refused, "all_reduce accepted a bf16 host tensor");
}

}  // namespace
}  // namespace stilts

int main(int argc, char** argv) {
  return stilts::run_checks(argc, argv, "communicator", [](stilts::MpiCommunicator& world) {
    stilts::check_all_reduce<float>(world);
    stilts::check_all_reduce<int32_t>(world);
    stilts::check_all_reduce<int64_t>(world);
    stilts::check_all_reduce_bits(world);
    stilts::check_broadcast(world);
    stilts::check_all_gather(world);
    stilts::check_reduce_scatter(world);
    stilts::check_grid(world);
    stilts::check_counting(world);
    stilts::check_shape_errors(world);
  });
}
