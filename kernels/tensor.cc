#include "kernels/tensor.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <stdexcept>

#include "kernels/device.h"

namespace stilts {

size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::f32:
    case DType::i32:
      return 4;
    case DType::bf16:
    case DType::f16:
      return 2;
    case DType::i64:
    case DType::f64:
      return 8;
  }
  throw std::logic_error("unknown dtype");
}

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return "f32";
    case DType::bf16:
      return "bf16";
    case DType::f16:
      return "f16";
    case DType::i32:
      return "i32";
    case DType::i64:
      return "i64";
    case DType::f64:
      return "f64";
  }
  return "?";
}

const char* device_name(Device device) {
  return device == Device::cpu ? "cpu" : "cuda";
}

std::string shape_string(const Shape& shape) {
  std::ostringstream s;
  s << '[';
  for (size_t i = 0; i < shape.size(); ++i) s << (i ? "," : "") << shape[i];
  s << ']';
  return s.str();
}

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) throw std::invalid_argument("negative dimension in shape " + shape_string(shape));
    n *= d;
  }
  return n;
}

namespace {
std::atomic<bool> poison_unwritten{false};
}  // namespace

void poison_unwritten_tensors(bool on) {
  poison_unwritten = on;
}

bool unwritten_tensors_poisoned() {
  return poison_unwritten;
}

Storage::Storage(size_t nbytes, Device device, Contents contents)
    : nbytes_(nbytes), device_(device) {
  const int fill = contents == Contents::zeros ? 0 : poison_unwritten ? 0xFF : -1;
  if (device == Device::cuda) {
    data_ = device::allocate(nbytes, fill);
    return;
  }
  size_t rounded = (nbytes + 63) / 64 * 64;
  data_ = std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
  if (!data_) throw std::bad_alloc();
  if (fill >= 0) std::memset(data_, fill, rounded == 0 ? 64 : rounded);
}

Storage::~Storage() {
  if (device_ == Device::cuda)
    device::release(data_, nbytes_);
  else
    std::free(data_);
}

Tensor::Tensor(Shape shape, DType dtype, Device device, Contents contents)
    : shape_(std::move(shape)), dtype_(dtype), device_(device) {
  numel_ = shape_numel(shape_);
  storage_ = std::make_shared<Storage>(nbytes(), device, contents);
}

int64_t Tensor::dim(int i) const {
  int r = rank();
  int j = i < 0 ? i + r : i;
  if (j < 0 || j >= r)
    throw std::out_of_range("dimension " + std::to_string(i) + " of tensor " + describe());
  return shape_[j];
}

void* Tensor::raw() const {
  if (!storage_) throw std::logic_error("access to an undefined tensor");
  return static_cast<char*>(storage_->data()) + byte_offset_;
}

Tensor Tensor::reshape(Shape shape) const {
  if (shape_numel(shape) != numel_)
    throw std::invalid_argument("cannot reshape " + describe() + " to " + shape_string(shape));
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

Tensor Tensor::slice(int64_t element_offset, Shape shape) const {
  int64_t n = shape_numel(shape);
  if (element_offset < 0 || element_offset + n > numel_)
    throw std::out_of_range("slice of " + std::to_string(n) + " elements at " +
                            std::to_string(element_offset) + " outside " + describe());
  Tensor t = *this;
  t.byte_offset_ += static_cast<size_t>(element_offset) * dtype_size(dtype_);
  t.shape_ = std::move(shape);
  t.numel_ = n;
  return t;
}

Tensor Tensor::rows(int64_t begin, int64_t end) const {
  int64_t n0 = dim(0);
  if (begin < 0 || end > n0 || begin > end)
    throw std::out_of_range("rows [" + std::to_string(begin) + "," + std::to_string(end) + ") of " +
                            describe());
  int64_t row = n0 == 0 ? 0 : numel_ / n0;
  Shape s = shape_;
  s[0] = end - begin;
  return slice(begin * row, s);
}

Tensor Tensor::clone() const {
  return to(device_);
}

Tensor Tensor::to(Device device) const {
  Tensor t(shape_, dtype_, device);
  if (device == Device::cpu && device_ == Device::cpu)
    std::memcpy(t.raw(), raw(), nbytes());
  else
    device::copy_bytes(t.raw(), device, raw(), device_, nbytes());
  return t;
}

std::string Tensor::describe() const {
  return std::string(dtype_name(dtype_)) + shape_string(shape_) + " " + device_name(device_);
}

void check_dtype(const Tensor& t, DType expected, const char* what) {
  if (t.dtype() != expected)
    throw std::invalid_argument(std::string(what) + ": expected a " + dtype_name(expected) +
                                " tensor, got " + t.describe());
}

}  // namespace stilts
