#include "core/optim/adafactor.h"

#include <cstdint>
#include <stdexcept>
#include <utility>

namespace stilts {
namespace {

// Hands out consecutive views of three buffers allocated once every view is known.
class BufferLayout {
 public:
  enum Buffer { first_partial, second_partial, whole, kBuffers };
  void add(Tensor* view, Buffer buffer, int64_t numel) {
    requests_.push_back({view, buffer, size_[buffer], numel});
    size_[buffer] += numel;
  }
  void allocate(Tensor* buffers[kBuffers], Device device) {
    for (int b = 0; b < kBuffers; ++b)
      if (size_[b] > 0) *buffers[b] = Tensor({size_[b]}, DType::f32, device);
    for (const Request& r : requests_) *r.view = buffers[r.buffer]->slice(r.offset, {r.numel});
  }

 private:
  struct Request {
    Tensor* view;
    Buffer buffer;
    int64_t offset, numel;
  };
  std::vector<Request> requests_;
  int64_t size_[kBuffers] = {};
};

Tensor on_host(const Tensor& t) {
  return !t.defined() || t.device() == Device::cpu ? t : t.to(Device::cpu);
}

}  // namespace

Adafactor::Adafactor(const OptimizerOptions& options, const Parameters& params,
                     OptimizerGroups groups)
    : options_(options), tp_(groups.tp) {
  check_optimizer_groups(params, groups);
  for (size_t i = 0; i < params.size(); ++i) {
    if (!updates_parameter(params, groups, i)) continue;
    const ParamSpec& spec = params.specs()[i];
    const Shape local = params.value(i).shape();
    Slot slot;
    slot.index = i;
    slot.name = spec.name;
    slot.split = spec.split;
    slot.totals.numel = shape_numel(spec.shape);
    // HF factors every parameter of rank >= 2 (T5X would keep the small bias table full).
    if (spec.shape.size() == 2) {
      slot.rows = spec.shape[0];
      slot.cols = spec.shape[1];
      slot.row = Tensor({local[0]}, DType::f32, params.device());
      slot.col = Tensor({local[1]}, DType::f32, params.device());
    } else {
      slot.full = Tensor(local, DType::f32, params.device());
    }
    if (options.momentum > 0) slot.momentum = Tensor(local, DType::f32, params.device());
    slots_.push_back(std::move(slot));
  }

  BufferLayout layout;
  for (Slot& slot : slots_) {
    const bool split = slot.split != SplitAxis::none;
    if (slot.row.defined()) {
      // A rows-split block has whole rows (its row sums are whole, its column sums partial, and
      // so is the sum of its slice of the row statistic); a cols-split one the converse.
      const bool rows_split = slot.split == SplitAxis::rows;
      const bool cols_split = slot.split == SplitAxis::cols;
      layout.add(&slot.row_sums, cols_split ? BufferLayout::first_partial : BufferLayout::whole,
                 slot.row.numel());
      layout.add(&slot.col_sums, rows_split ? BufferLayout::first_partial : BufferLayout::whole,
                 slot.col.numel());
      layout.add(&slot.row_total, rows_split ? BufferLayout::first_partial : BufferLayout::whole,
                 1);
    }
    if (options_.scale_parameter)
      layout.add(&slot.param_sum_squares, split ? BufferLayout::first_partial : BufferLayout::whole,
                 1);
    layout.add(&slot.update_sum_squares, split ? BufferLayout::second_partial : BufferLayout::whole,
               1);
  }
  Tensor* buffers[] = {&first_partial_, &second_partial_, &whole_};
  layout.allocate(buffers, params.device());
}

void Adafactor::copy_to_host() {
  first_partial_host_ = on_host(first_partial_);
  second_partial_host_ = on_host(second_partial_);
  whole_host_ = on_host(whole_);
}

double Adafactor::host_scalar(const Tensor& view) const {
  const auto at = reinterpret_cast<uintptr_t>(view.raw());
  for (const auto& [buffer, host] :
       {std::pair{&first_partial_, &first_partial_host_},
        std::pair{&second_partial_, &second_partial_host_}, std::pair{&whole_, &whole_host_}}) {
    if (!buffer->defined()) continue;
    const auto begin = reinterpret_cast<uintptr_t>(buffer->raw());
    if (at >= begin && at < begin + buffer->nbytes())
      return host->data<float>()[(at - begin) / sizeof(float)];
  }
  throw std::logic_error("Adafactor: a scalar outside the step buffers");
}

void Adafactor::step(Parameters& params, float lr) {
  ++steps_;
  ops::AdafactorStep s{lr, steps_};
  s.eps1 = options_.eps1;
  s.eps2 = options_.eps2;
  s.clip_threshold = options_.clip_threshold;
  s.decay_rate = options_.decay_rate;
  s.beta1 = options_.momentum;
  s.weight_decay = options_.weight_decay;
  s.scale_parameter = options_.scale_parameter;
  Tensor none;
  // A statistic is averaged as soon as its sums are whole: the rows of a rows-split block
  // before the first sum over the group, its columns after.
  auto average_rows = [&](Slot& slot) {
    ops::adafactor_average(slot.row, slot.row_sums, slot.cols, s, slot.row_total);
  };
  auto average_cols = [&](Slot& slot) {
    ops::adafactor_average(slot.col, slot.col_sums, slot.rows, s, none);
  };

  // Stages 1 and 2 where the sums are whole.
  for (Slot& slot : slots_) {
    const Tensor& grad = params.grad(slot.index);
    ops::adafactor_sums(params.value(slot.index), grad, s.eps1, slot.row_sums, slot.col_sums,
                        slot.param_sum_squares);
    if (!slot.row.defined()) {
      ops::adafactor_average_squares(slot.full, grad, s);
      continue;
    }
    if (slot.split != SplitAxis::cols) average_rows(slot);
    if (slot.split != SplitAxis::rows) average_cols(slot);
  }
  if (first_partial_.defined()) tp_.all_reduce(first_partial_);

  // The rest of stage 2.
  for (Slot& slot : slots_) {
    if (!slot.row.defined()) continue;
    if (slot.split == SplitAxis::cols) average_rows(slot);
    if (slot.split == SplitAxis::rows) average_cols(slot);
  }
  copy_to_host();

  // Stage 3.
  for (Slot& slot : slots_) {
    if (slot.row.defined())
      slot.totals.row_mean = host_scalar(slot.row_total) / static_cast<double>(slot.rows);
    if (options_.scale_parameter)
      slot.totals.param_sum_squares = host_scalar(slot.param_sum_squares);
    ops::adafactor_update_sum_squares(params.grad(slot.index), slot.row, slot.col, slot.full,
                                      slot.totals, slot.update_sum_squares);
  }
  if (second_partial_.defined()) tp_.all_reduce(second_partial_);
  copy_to_host();

  // Stage 4.
  for (Slot& slot : slots_) {
    slot.totals.update_sum_squares = host_scalar(slot.update_sum_squares);
    ops::adafactor_apply(params.value(slot.index), params.grad(slot.index), slot.row, slot.col,
                         slot.full, slot.momentum, slot.totals, s);
  }
  params.refresh_compute_copy();
}

std::vector<NamedTensor> Adafactor::state() {
  std::vector<NamedTensor> out;
  for (const Slot& slot : slots_) {
    // The row statistic of a rows-split matrix is split like its rows; the column statistic of
    // a cols-split one like its columns, which for a vector is its only (leading) dimension.
    const SplitAxis row_split = slot.split == SplitAxis::rows ? SplitAxis::rows : SplitAxis::none;
    const SplitAxis col_split = slot.split == SplitAxis::cols ? SplitAxis::rows : SplitAxis::none;
    if (slot.row.defined()) out.push_back({slot.name + "/exp_avg_sq_row", slot.row, row_split});
    if (slot.col.defined()) out.push_back({slot.name + "/exp_avg_sq_col", slot.col, col_split});
    if (slot.full.defined()) out.push_back({slot.name + "/exp_avg_sq", slot.full, slot.split});
    if (slot.momentum.defined()) out.push_back({slot.name + "/exp_avg", slot.momentum, slot.split});
  }
  return out;
}

}  // namespace stilts
