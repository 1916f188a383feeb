#include "kernels/debug_checks.h"

#include <stdexcept>
#include <vector>

#include "kernels/device.h"
#include "kernels/ops.h"

namespace stilts::ops {
namespace {

bool checks_on = false;
// Per thread, so that a helper thread's op is never attributed to the main thread's layer.
thread_local std::vector<std::string> scopes;

std::string scope_path() {
  if (scopes.empty()) return "no named layer";
  std::string path;
  for (const std::string& s : scopes) path += (path.empty() ? "" : " > ") + s;
  return path;
}

}  // namespace

void set_debug_checks(bool on) {
  checks_on = on;
  device::set_synchronous(on);
  poison_unwritten_tensors(on);
}

bool debug_checks() {
  return checks_on;
}

DebugScope::DebugScope(std::string name) {
  scopes.push_back(std::move(name));
}

DebugScope::~DebugScope() {
  scopes.pop_back();
}

void check_finite(const char* op, std::span<const Tensor* const> tensors) {
  int index = 0;
  for (const Tensor* t : tensors) {
    ++index;
    if (!t->defined() || (t->dtype() != DType::f32 && t->dtype() != DType::bf16)) continue;
    if (!all_finite(*t))
      throw std::runtime_error(std::string(op) + " in " + scope_path() + ": argument " +
                               std::to_string(index) + " " + t->describe() +
                               " holds NaN or Inf after the op");
  }
}

}  // namespace stilts::ops
