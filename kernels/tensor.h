// A Tensor is a typed, shaped view into reference-counted storage on one device.
// It lives in kernels/ (not core/) because the op interface takes Tensors and kernels/ may
// include nothing else of the project.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

namespace stilts {

enum class Device { cpu, cuda };
enum class DType { f32, bf16, f16, i32, i64, f64 };

size_t dtype_size(DType dtype);
const char* dtype_name(DType dtype);
const char* device_name(Device device);

using Shape = std::vector<int64_t>;
std::string shape_string(const Shape& shape);
int64_t shape_numel(const Shape& shape);

// What the storage of a new tensor holds.
enum class Contents {
  zeros,
  // Whatever the memory held before: for a temporary that its first op overwrites in full (the
  // attention scores, 512 MiB a layer for mt5-large), which zeros would write once for nothing.
  // While poison_unwritten_tensors is on (the debug mode, the GPU tests), every byte is 0xFF
  // instead, NaN in f32 and bf16 and -1 in integers, so an op that reads what nothing wrote
  // shows up.
  unwritten,
};
void poison_unwritten_tensors(bool on);
bool unwritten_tensors_poisoned();

// Owns one allocation, zero-filled unless asked otherwise (Contents). CPU memory is 64-byte aligned
// so BLAS and vector loops see aligned rows; CUDA memory comes from the caching allocator of
// kernels/device.h, so tensors made and dropped in a step loop never reach cudaMalloc once the
// cache is warm.
class Storage {
 public:
  Storage(size_t nbytes, Device device, Contents contents = Contents::zeros);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }

 private:
  void* data_ = nullptr;
  size_t nbytes_ = 0;
  Device device_;
};

class Tensor {
 public:
  Tensor() = default;
  // Allocates storage holding `contents`: zeros unless the caller overwrites every element
  // before reading any.
  explicit Tensor(Shape shape, DType dtype = DType::f32, Device device = Device::cpu,
                  Contents contents = Contents::zeros);

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  int rank() const { return static_cast<int>(shape_.size()); }
  // Negative indices count from the end, as in Python.
  int64_t dim(int i) const;
  int64_t numel() const { return numel_; }
  size_t nbytes() const { return static_cast<size_t>(numel_) * dtype_size(dtype_); }
  DType dtype() const { return dtype_; }
  Device device() const { return device_; }

  // Typed access; throws when T does not match the dtype (no silent reinterpretation).
  template <class T>
  T* data() const;
  void* raw() const;

  // Same storage, new shape of the same element count.
  Tensor reshape(Shape shape) const;
  // Same storage: `shape` elements starting `element_offset` elements into this tensor.
  Tensor slice(int64_t element_offset, Shape shape) const;
  // Rows [begin, end) of the leading dimension.
  Tensor rows(int64_t begin, int64_t end) const;

  // Deep copy onto a new allocation on the same device.
  Tensor clone() const;
  // Deep copy onto `device` (a clone when it is already there).
  Tensor to(Device device) const;
  std::string describe() const;  // "f32[2,3] cpu"

 private:
  std::shared_ptr<Storage> storage_;
  size_t byte_offset_ = 0;
  Shape shape_;
  int64_t numel_ = 0;
  DType dtype_ = DType::f32;
  Device device_ = Device::cpu;
};

template <class T>
struct DTypeOf;
template <>
struct DTypeOf<float> {
  static constexpr DType value = DType::f32;
};
template <>
struct DTypeOf<int32_t> {
  static constexpr DType value = DType::i32;
};
template <>
struct DTypeOf<int64_t> {
  static constexpr DType value = DType::i64;
};
template <>
struct DTypeOf<double> {
  static constexpr DType value = DType::f64;
};
template <>
struct DTypeOf<uint16_t> {
  // bf16 and f16 are both stored as raw 16-bit words on the host.
  static constexpr DType value = DType::bf16;
};

void check_dtype(const Tensor& t, DType expected, const char* what);

template <class T>
T* Tensor::data() const {
  if constexpr (std::is_same_v<T, uint16_t>) {
    if (dtype_ != DType::bf16 && dtype_ != DType::f16) check_dtype(*this, DType::bf16, "data<u16>");
  } else {
    check_dtype(*this, DTypeOf<T>::value, "data<T>");
  }
  return static_cast<T*>(raw());
}

}  // namespace stilts
