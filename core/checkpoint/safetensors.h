// The safetensors format (huggingface/safetensors): an 8-byte little-endian header length N,
// N bytes of JSON naming each tensor's dtype, shape and byte range, then the tensor bytes. The
// reader validates the whole header before any tensor is read, since checkpoints come from
// anywhere; the writer follows the reference implementation's layout rules.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/checkpoint/file_io.h"
#include "kernels/tensor.h"

namespace stilts {

// IEEE binary16 and bfloat16 as raw 16-bit words; float to half rounds to nearest even, NaN
// stays NaN and values beyond the range become infinities.
uint16_t f32_to_bf16(float value);
float bf16_to_f32(uint16_t bits);
uint16_t f32_to_f16(float value);
float f16_to_f32(uint16_t bits);

struct SafetensorsEntry {
  std::string name;
  std::string dtype;  // the safetensors name: "F32", "BF16", "I64", ...
  Shape shape;
  uint64_t begin = 0, end = 0;  // byte range within the data buffer that follows the header
};

class SafetensorsFile {
 public:
  // Opens and validates `path`; every violation is a std::runtime_error naming the file.
  explicit SafetensorsFile(const std::string& path);

  const std::string& path() const { return path_; }
  // In file order (by offset).
  const std::vector<SafetensorsEntry>& entries() const { return entries_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  bool contains(const std::string& name) const { return index_.count(name) != 0; }
  // Throws naming the file and the tensor when absent.
  const SafetensorsEntry& entry(const std::string& name) const;

  // The tensor in its stored dtype (F32, BF16, F16, I32 or I64).
  Tensor read(const std::string& name) const;
  // F32, BF16 or F16 converted to f32.
  Tensor read_f32(const std::string& name) const;
  // As read_f32, into a host f32 tensor of the same shape (a parameter view, say).
  void read_f32_into(const std::string& name, Tensor& dst) const;

 private:
  std::string path_;
  checkpoint_io::UniqueFd fd_;
  uint64_t data_start_ = 0;  // 8 + N
  std::vector<SafetensorsEntry> entries_;
  std::map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
};

struct SafetensorsTensor {
  std::string name;
  Tensor tensor;  // host memory; f32 may be stored as BF16 or F16, other dtypes as they are
  DType disk_dtype = DType::f32;
};

// Writes "<path>.tmp", fsyncs it and renames it to `path`. Tensors are laid out by dtype size
// (largest first), then by name, contiguously; the header is padded with spaces to a multiple
// of 8 bytes.
void write_safetensors(const std::string& path, const std::vector<SafetensorsTensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace stilts
