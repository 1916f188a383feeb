#include "tests/cuda/nccl_checks.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <stdexcept>

#include "kernels/ops.h"

namespace stilts::test {
namespace {

// Every value below is a small integer, exact in bf16 as in f32, so each result is compared
// exactly whatever order the ranks' values were added in.
Tensor device_tensor(const Shape& shape, DType dtype, const std::function<float(int64_t)>& value) {
  Tensor host(shape);
  float* p = host.data<float>();
  for (int64_t i = 0; i < host.numel(); ++i) p[i] = value(i);
  Tensor typed(shape, dtype);
  ops::cast(host, typed);
  return typed.to(Device::cuda);
}

// The first element that differs, or "".
std::string compare(const char* what, DType dtype, const Tensor& got,
                    const std::function<float(int64_t)>& expected) {
  const Tensor host = got.to(Device::cpu);
  Tensor wide(host.shape());
  ops::cast(host, wide);
  const float* p = wide.data<float>();
  for (int64_t i = 0; i < wide.numel(); ++i)
    if (p[i] != expected(i))
      return std::string(what) + " (" + dtype_name(dtype) + "): element " + std::to_string(i) +
             " is " + std::to_string(p[i]) + ", expected " + std::to_string(expected(i));
  return "";
}

std::string check_world(NcclCommunicator& world, DType dtype) {
  const int r = world.rank(), n = world.size();
  const float ranks = static_cast<float>(n), rank = static_cast<float>(r);
  // An odd length, so no collective gets a multiple of its chunk size.
  Tensor sum = device_tensor({1001}, dtype, [&](int64_t i) { return rank + 1 + i % 5; });
  world.all_reduce(sum);
  std::string failure = compare("all_reduce sum", dtype, sum, [&](int64_t i) {
    return ranks * (ranks + 1) / 2 + ranks * static_cast<float>(i % 5);
  });
  if (!failure.empty()) return failure;

  Tensor max = device_tensor({1001}, dtype, [&](int64_t i) { return 10 * rank + i % 3; });
  world.all_reduce(max, ReduceOp::max);
  failure = compare("all_reduce max", dtype, max,
                    [&](int64_t i) { return 10 * (ranks - 1) + static_cast<float>(i % 3); });
  if (!failure.empty()) return failure;

  Tensor broadcast = device_tensor({777}, dtype, [&](int64_t i) { return rank + i % 4; });
  world.broadcast(broadcast, n - 1);
  failure = compare("broadcast from the last rank", dtype, broadcast,
                    [&](int64_t i) { return ranks - 1 + static_cast<float>(i % 4); });
  if (!failure.empty()) return failure;

  const Tensor local = device_tensor({3, 5}, dtype, [&](int64_t i) { return 20 * rank + i; });
  Tensor gathered = device_tensor({3 * n, 5}, dtype, [](int64_t) { return -1.0f; });
  world.all_gather(local, gathered);
  failure = compare("all_gather", dtype, gathered,
                    [](int64_t i) { return static_cast<float>(20 * (i / 15) + i % 15); });
  if (!failure.empty()) return failure;

  const Tensor full = device_tensor({3 * n, 5}, dtype, [&](int64_t i) { return i + rank; });
  Tensor mine = device_tensor({3, 5}, dtype, [](int64_t) { return -1.0f; });
  world.reduce_scatter(full, mine);
  return compare("reduce_scatter", dtype, mine, [&](int64_t k) {
    return ranks * static_cast<float>(r * 15 + k) + ranks * (ranks - 1) / 2;
  });
}

// A data-parallel bucket reduction started before, and still in flight during, a
// tensor-parallel all-reduce and the compute around it: each result must be the one of its own
// collective, in the compute stream's order.
std::string check_split(NcclCommunicator& world) {
  const int n = world.size();
  const float ranks = static_cast<float>(n), rank = static_cast<float>(world.rank());
  std::unique_ptr<Communicator> tp_group = world.split(0, world.rank());
  std::unique_ptr<Communicator> dp_group = world.split(0, world.rank());
  auto& tp = dynamic_cast<NcclCommunicator&>(*tp_group);
  auto& dp = dynamic_cast<NcclCommunicator&>(*dp_group);
  if (tp.size() != n || dp.size() != n) return "a split with one color does not keep every rank";
  const bool own = world.separate_streams();
  if (own != (tp.stream() != dp.stream()) || own != (tp.stream() != world.stream()))
    return std::string("split communicators should ") + (own ? "" : "not ") +
           "have streams of their own (separate_streams() is " + (own ? "true" : "false") + ")";

  Tensor gradients = device_tensor({1 << 20}, DType::f32, [&](int64_t i) { return rank + 1; });
  Tensor x = device_tensor({1000}, DType::bf16, [&](int64_t i) { return rank + 1; });
  dp.start_all_reduce(gradients);
  ops::scale_inplace(x, 2.0f);
  tp.all_reduce(x);
  ops::add_inplace(x, x);
  dp.finish_started_all_reduces();
  const float sum = ranks * (ranks + 1) / 2;
  std::string failure = compare("tensor-parallel all_reduce beside a started one", DType::bf16, x,
                                [&](int64_t) { return 4 * sum; });
  if (!failure.empty()) return failure;
  failure = compare("started all_reduce", DType::f32, gradients, [&](int64_t) { return sum; });
  if (!failure.empty()) return failure;
  tp.barrier();
  dp.barrier();
  return "";
}

}  // namespace

std::string check_nccl_collectives(NcclCommunicator& world) {
  for (DType dtype : {DType::f32, DType::bf16}) {
    const std::string failure = check_world(world, dtype);
    if (!failure.empty()) return world.name() + ": " + failure;
  }
  world.barrier();
  const std::string failure = check_split(world);
  return failure.empty() ? failure : world.name() + ": " + failure;
}

std::string unique_id_hex(const ncclUniqueId& id) {
  std::string hex;
  for (char byte : id.internal) {
    char digits[3];
    std::snprintf(digits, sizeof digits, "%02x", static_cast<unsigned char>(byte));
    hex += digits;
  }
  return hex;
}

ncclUniqueId unique_id_from_hex(const std::string& hex) {
  ncclUniqueId id{};
  if (hex.size() != 2 * sizeof id.internal)
    throw std::invalid_argument("a NCCL unique id is " + std::to_string(2 * sizeof id.internal) +
                                " hexadecimal digits, got " + std::to_string(hex.size()));
  for (size_t i = 0; i < sizeof id.internal; ++i)
    id.internal[i] = static_cast<char>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
  return id;
}

}  // namespace stilts::test
