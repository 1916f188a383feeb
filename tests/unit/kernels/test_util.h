// Shared helpers of the kernel tests: seeded random tensors, double-precision views, and a
// central-difference gradient check.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "kernels/ops.h"

namespace stilts::test {

// Uniform values in [-scale, scale) from a fixed seed.
Tensor random_tensor(const Shape& shape, uint32_t seed, float scale = 1.0f);
Tensor int_tensor(const Shape& shape, const std::vector<int32_t>& values);
std::vector<double> to_double(const Tensor& t);
// sum(out * weights) in double: the scalar objective of the gradient checks.
double weighted_sum(const Tensor& out, const Tensor& weights);
// after - before, element by element, in double: the part a backward op accumulated.
std::vector<double> difference(const Tensor& after, const Tensor& before);
bool bitwise_equal(const Tensor& a, const Tensor& b);

// Checks `analytic` against central differences of `objective` in every element of `input`
// (perturbed in place and restored). The step is the one the float storage really took.
// Elementwise tolerance 1e-3 + 1e-2 |numeric|, and the error norm within 1e-3 of the
// gradient norm.
void expect_gradient(const char* what, Tensor& input, const std::function<double()>& objective,
                     const std::vector<double>& analytic, double step = 1e-2);

// Sets the CPU thread count for a scope and restores the previous one.
class ThreadCount {
 public:
  explicit ThreadCount(int threads) : saved_(ops::cpu_threads()) { ops::set_cpu_threads(threads); }
  ~ThreadCount() { ops::set_cpu_threads(saved_); }
  ThreadCount(const ThreadCount&) = delete;
  ThreadCount& operator=(const ThreadCount&) = delete;

 private:
  int saved_;
};

}  // namespace stilts::test
