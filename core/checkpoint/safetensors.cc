#include "core/checkpoint/safetensors.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <stdexcept>
#include <tuple>

namespace stilts {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; a big-endian host would need byte swaps");

namespace {

using checkpoint_io::read_at;
using checkpoint_io::UniqueFd;
using checkpoint_io::write_all;

// The reference reader's limit: a larger header is refused before it is allocated.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;
// Elements converted per read or write when the on-disk dtype differs from f32.
constexpr int64_t kConvertChunk = 1 << 16;

struct DiskDType {
  const char* name;
  uint64_t size;
  std::optional<DType> tensor_dtype;  // the stilts dtype holding it, if any
};

// The byte-sized safetensors dtypes; the sub-byte ones (F4, F6_*) cannot describe a weight of
// mT5 and are refused as unknown.
constexpr DiskDType kDiskDTypes[] = {
    {"BOOL", 1, std::nullopt},    {"U8", 1, std::nullopt},      {"I8", 1, std::nullopt},
    {"F8_E5M2", 1, std::nullopt}, {"F8_E4M3", 1, std::nullopt}, {"F8_E8M0", 1, std::nullopt},
    {"I16", 2, std::nullopt},     {"U16", 2, std::nullopt},     {"F16", 2, DType::f16},
    {"BF16", 2, DType::bf16},     {"I32", 4, DType::i32},       {"U32", 4, std::nullopt},
    {"F32", 4, DType::f32},       {"F64", 8, std::nullopt},     {"I64", 8, DType::i64},
    {"U64", 8, std::nullopt},     {"C64", 8, std::nullopt},
};

const DiskDType* find_disk_dtype(const std::string& name) {
  for (const DiskDType& d : kDiskDTypes)
    if (name == d.name) return &d;
  return nullptr;
}

const char* disk_dtype_name(DType dtype) {
  for (const DiskDType& d : kDiskDTypes)
    if (d.tensor_dtype == dtype) return d.name;
  throw std::logic_error("no safetensors dtype for " + std::string(dtype_name(dtype)));
}

std::string known_dtype_list() {
  std::string list;
  for (const DiskDType& d : kDiskDTypes) list += (list.empty() ? "" : ", ") + std::string(d.name);
  return list;
}

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw std::runtime_error(path + ": " + what);
}

std::string range_string(uint64_t begin, uint64_t end) {
  // Appending, rather than one chain of operator+, avoids a GCC 12 -Wrestrict false positive.
  std::string s = "[";
  s += std::to_string(begin);
  s += ",";
  s += std::to_string(end);
  s += "]";
  return s;
}

SafetensorsEntry parse_entry(const std::string& path, const std::string& name,
                             const nlohmann::json& value, uint64_t buffer_size) {
  auto bad = [&](const std::string& what) { fail(path, "tensor '" + name + "': " + what); };
  if (!value.is_object()) bad("header entry is not a JSON object");
  SafetensorsEntry e;
  e.name = name;

  const auto dtype = value.find("dtype");
  if (dtype == value.end() || !dtype->is_string()) bad("missing string field 'dtype'");
  e.dtype = dtype->get<std::string>();
  const DiskDType* disk = find_disk_dtype(e.dtype);
  if (!disk) bad("unknown dtype '" + e.dtype + "' (known: " + known_dtype_list() + ")");

  const auto shape = value.find("shape");
  if (shape == value.end() || !shape->is_array())
    bad("missing field 'shape' (a list of non-negative integers)");
  uint64_t numel = 1;
  for (const nlohmann::json& d : *shape) {
    if (!d.is_number_unsigned() || d.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
      bad("shape " + shape->dump() + " is not a list of non-negative integers");
    if (__builtin_mul_overflow(numel, d.get<uint64_t>(), &numel))
      bad("shape " + shape->dump() + " has more elements than 2^64");
    e.shape.push_back(d.get<int64_t>());
  }

  const auto offsets = value.find("data_offsets");
  if (offsets == value.end() || !offsets->is_array() || offsets->size() != 2 ||
      !(*offsets)[0].is_number_unsigned() || !(*offsets)[1].is_number_unsigned())
    bad("missing field 'data_offsets' (two non-negative integers [begin, end])");
  e.begin = (*offsets)[0].get<uint64_t>();
  e.end = (*offsets)[1].get<uint64_t>();
  if (e.begin > e.end)
    bad("data_offsets " + range_string(e.begin, e.end) + " begin after they end");
  uint64_t expected_bytes = 0;
  if (__builtin_mul_overflow(numel, disk->size, &expected_bytes) ||
      e.end - e.begin != expected_bytes)
    bad("data_offsets " + range_string(e.begin, e.end) + " hold " +
        std::to_string(e.end - e.begin) + " bytes, but " + e.dtype + shape_string(e.shape) +
        " needs " + std::to_string(numel) + " x " + std::to_string(disk->size) + " bytes");
  if (e.end > buffer_size)
    bad("data_offsets " + range_string(e.begin, e.end) + " extend past the data buffer of " +
        std::to_string(buffer_size) + " bytes (file truncated?)");
  return e;
}

std::map<std::string, std::string> parse_metadata(const std::string& path,
                                                  const nlohmann::json& value) {
  if (!value.is_object()) fail(path, "__metadata__ is not a JSON object of strings");
  std::map<std::string, std::string> metadata;
  for (const auto& [key, v] : value.items()) {
    if (!v.is_string()) fail(path, "__metadata__ value of '" + key + "' is not a string");
    metadata[key] = v.get<std::string>();
  }
  return metadata;
}

// The reference reader requires the byte ranges to tile the data buffer exactly: no overlap
// (two tensors aliasing bytes), no gap and no trailing bytes (data no header describes).
void check_tiling(const std::string& path, const std::vector<SafetensorsEntry>& sorted,
                  uint64_t buffer_size) {
  uint64_t covered = 0;
  const SafetensorsEntry* previous = nullptr;
  for (const SafetensorsEntry& e : sorted) {
    if (e.begin < covered)
      fail(path, "tensor '" + e.name + "' bytes " + range_string(e.begin, e.end) +
                     " overlap tensor '" + previous->name + "' bytes " +
                     range_string(previous->begin, previous->end));
    if (e.begin > covered)
      fail(path, "data bytes " + range_string(covered, e.begin) + " before tensor '" + e.name +
                     "' belong to no tensor");
    covered = e.end;
    previous = &e;
  }
  if (covered != buffer_size)
    fail(path, std::to_string(buffer_size - covered) +
                   " trailing bytes after the last tensor (tensors end at data byte " +
                   std::to_string(covered) + " of " + std::to_string(buffer_size) + ")");
}

}  // namespace

uint16_t f32_to_bf16(float value) {
  const uint32_t bits = std::bit_cast<uint32_t>(value);
  // Rounding a NaN could carry into the exponent and make it infinite; force it quiet.
  if (std::isnan(value)) return static_cast<uint16_t>((bits >> 16) | 0x0040);
  const uint32_t round_to_even = 0x7FFF + ((bits >> 16) & 1);
  return static_cast<uint16_t>((bits + round_to_even) >> 16);
}

float bf16_to_f32(uint16_t bits) {
  return std::bit_cast<float>(static_cast<uint32_t>(bits) << 16);
}

uint16_t f32_to_f16(float value) {
  const uint32_t bits = std::bit_cast<uint32_t>(value);
  const auto sign = static_cast<uint16_t>((bits >> 16) & 0x8000);
  const uint32_t magnitude = bits & 0x7FFFFFFF;
  if (magnitude > 0x7F800000)  // NaN: keep the top payload bits, force quiet
    return static_cast<uint16_t>(sign | 0x7E00 | ((magnitude >> 13) & 0x3FF));
  // 65520 (0x477FF000) is halfway between 65504, the largest half, and 65536; ties go to the
  // even neighbour, which is the infinity.
  if (magnitude >= 0x477FF000) return sign | 0x7C00;
  if (magnitude >= 0x38800000) {  // a normal half: rebias the exponent from 127 to 15, round
    const uint32_t rebiased = magnitude - ((127u - 15u) << 23);
    return static_cast<uint16_t>(sign | ((rebiased + 0xFFF + ((rebiased >> 13) & 1)) >> 13));
  }
  // A subnormal half counts units of 2^-24: the 24-bit significand shifted right by
  // 126 - exponent, rounded to nearest even. A result of 0x400 is correctly the smallest normal.
  const int shift = 126 - static_cast<int>(magnitude >> 23);
  if (shift > 24) return sign;
  const uint32_t significand = (magnitude & 0x7FFFFF) | 0x800000;
  uint32_t units = significand >> shift;
  const uint32_t rest = significand & ((1u << shift) - 1);
  const uint32_t half = 1u << (shift - 1);
  if (rest > half || (rest == half && (units & 1))) ++units;
  return static_cast<uint16_t>(sign | units);
}

float f16_to_f32(uint16_t bits) {
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000) << 16;
  const uint32_t exponent = (bits >> 10) & 0x1F;
  const uint32_t mantissa = bits & 0x3FF;
  if (exponent == 0)  // zero or subnormal: exact in f32
    return std::copysign(std::ldexp(static_cast<float>(mantissa), -24), sign ? -1.0f : 1.0f);
  if (exponent == 0x1F) return std::bit_cast<float>(sign | 0x7F800000 | (mantissa << 13));
  return std::bit_cast<float>(sign | ((exponent + 127 - 15) << 23) | (mantissa << 13));
}

SafetensorsFile::SafetensorsFile(const std::string& path)
    : path_(path), fd_(checkpoint_io::open_file(path, O_RDONLY)) {
  const uint64_t size = checkpoint_io::file_size(fd_, path_);
  if (size < 8)
    fail(path_, "file is " + std::to_string(size) +
                    " bytes, too short for the 8-byte header length of a safetensors file");
  uint64_t header_bytes = 0;
  read_at(fd_, &header_bytes, sizeof header_bytes, 0, path_);
  if (header_bytes > kMaxHeaderBytes)
    fail(path_, "header length " + std::to_string(header_bytes) + " exceeds the limit of " +
                    std::to_string(kMaxHeaderBytes) + " bytes (not a safetensors file?)");
  if (header_bytes > size - 8)
    fail(path_, "header length " + std::to_string(header_bytes) + " needs " +
                    std::to_string(8 + header_bytes) + " bytes but the file has " +
                    std::to_string(size) + " (truncated?)");
  data_start_ = 8 + header_bytes;
  std::string text(header_bytes, '\0');
  read_at(fd_, text.data(), text.size(), 8, path_);

  // The reference reader's check. It also makes any header that parses a JSON object.
  if (text.empty() || text[0] != '{')
    fail(path_, "header does not start with '{' (not a safetensors file?)");
  nlohmann::json header;
  try {
    // The parser refuses ill-formed UTF-8 in strings, and anything but ASCII outside them.
    header = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    fail(path_, std::string("header is not valid UTF-8 JSON: ") + e.what());
  }

  const uint64_t buffer_size = size - data_start_;
  for (const auto& [key, value] : header.items()) {
    if (key == "__metadata__")
      metadata_ = parse_metadata(path_, value);
    else
      entries_.push_back(parse_entry(path_, key, value, buffer_size));
  }
  std::sort(entries_.begin(), entries_.end(), [](const auto& a, const auto& b) {
    return std::tie(a.begin, a.end) < std::tie(b.begin, b.end);
  });
  check_tiling(path_, entries_, buffer_size);
  for (size_t i = 0; i < entries_.size(); ++i) index_[entries_[i].name] = i;
}

const SafetensorsEntry& SafetensorsFile::entry(const std::string& name) const {
  const auto it = index_.find(name);
  if (it == index_.end()) fail(path_, "no tensor '" + name + "'");
  return entries_[it->second];
}

Tensor SafetensorsFile::read(const std::string& name) const {
  const SafetensorsEntry& e = entry(name);
  const std::optional<DType> dtype = find_disk_dtype(e.dtype)->tensor_dtype;
  if (!dtype)
    fail(path_, "tensor '" + name + "' has dtype " + e.dtype +
                    ", which no stilts tensor type holds (F32, BF16, F16, I32, I64)");
  Tensor t(e.shape, *dtype);
  read_at(fd_, t.raw(), e.end - e.begin, data_start_ + e.begin, path_);
  return t;
}

Tensor SafetensorsFile::read_f32(const std::string& name) const {
  Tensor t(entry(name).shape);
  read_f32_into(name, t);
  return t;
}

void SafetensorsFile::read_f32_into(const std::string& name, Tensor& dst) const {
  const SafetensorsEntry& e = entry(name);
  if (dst.dtype() != DType::f32 || dst.device() != Device::cpu)
    throw std::invalid_argument(path_ + ": reading tensor '" + name +
                                "' needs a host f32 destination, got " + dst.describe());
  if (dst.shape() != e.shape)
    fail(path_, "tensor '" + name + "' has shape " + shape_string(e.shape) + ", expected " +
                    shape_string(dst.shape()));
  if (e.dtype == "F32") {
    read_at(fd_, dst.raw(), e.end - e.begin, data_start_ + e.begin, path_);
    return;
  }
  if (e.dtype != "BF16" && e.dtype != "F16")
    fail(path_, "tensor '" + name + "' has dtype " + e.dtype +
                    "; only F32, BF16 and F16 tensors convert to f32");
  float (*widen)(uint16_t) = e.dtype == "BF16" ? bf16_to_f32 : f16_to_f32;
  const int64_t numel = dst.numel();
  std::vector<uint16_t> chunk(static_cast<size_t>(std::min(numel, kConvertChunk)));
  float* out = dst.data<float>();
  for (int64_t done = 0; done < numel; done += kConvertChunk) {
    const int64_t n = std::min(kConvertChunk, numel - done);
    read_at(fd_, chunk.data(), static_cast<size_t>(n) * 2,
            data_start_ + e.begin + static_cast<uint64_t>(done) * 2, path_);
    std::transform(chunk.begin(), chunk.begin() + n, out + done, widen);
  }
}

void write_safetensors(const std::string& path, const std::vector<SafetensorsTensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  std::set<std::string> names;
  for (const SafetensorsTensor& t : tensors) {
    auto refuse = [&](const std::string& why) {
      throw std::invalid_argument(path + ": cannot write tensor '" + t.name + "': " + why);
    };
    if (!t.tensor.defined()) refuse("the tensor is undefined");
    if (t.tensor.device() != Device::cpu)
      refuse("it is in " + t.tensor.describe() + "; copy it to host memory first");
    const bool narrowing = t.tensor.dtype() == DType::f32 &&
                           (t.disk_dtype == DType::bf16 || t.disk_dtype == DType::f16);
    if (t.tensor.dtype() != t.disk_dtype && !narrowing)
      refuse(std::string("cannot store ") + dtype_name(t.tensor.dtype()) + " as " +
             dtype_name(t.disk_dtype));
    if (t.name == "__metadata__" || !names.insert(t.name).second)
      refuse("the name is reserved or appears twice");
  }

  std::vector<const SafetensorsTensor*> order;
  for (const SafetensorsTensor& t : tensors) order.push_back(&t);
  std::sort(order.begin(), order.end(), [](const auto* a, const auto* b) {
    const size_t sa = dtype_size(a->disk_dtype), sb = dtype_size(b->disk_dtype);
    return sa != sb ? sa > sb : a->name < b->name;
  });

  nlohmann::json header = nlohmann::json::object();
  uint64_t offset = 0;
  for (const SafetensorsTensor* t : order) {
    const uint64_t bytes = static_cast<uint64_t>(t->tensor.numel()) * dtype_size(t->disk_dtype);
    header[t->name] = {{"dtype", disk_dtype_name(t->disk_dtype)},
                       {"shape", t->tensor.shape()},
                       {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  const uint64_t header_bytes = text.size();

  checkpoint_io::write_file_atomically(path, [&](const UniqueFd& fd) {
    write_all(fd, &header_bytes, sizeof header_bytes, path);
    write_all(fd, text.data(), text.size(), path);
    for (const SafetensorsTensor* t : order) {
      if (t->tensor.dtype() == t->disk_dtype) {
        write_all(fd, t->tensor.raw(), t->tensor.nbytes(), path);
        continue;
      }
      uint16_t (*narrow)(float) = t->disk_dtype == DType::bf16 ? f32_to_bf16 : f32_to_f16;
      const float* in = t->tensor.data<float>();
      const int64_t numel = t->tensor.numel();
      std::vector<uint16_t> chunk(static_cast<size_t>(std::min(numel, kConvertChunk)));
      for (int64_t done = 0; done < numel; done += kConvertChunk) {
        const int64_t n = std::min(kConvertChunk, numel - done);
        std::transform(in + done, in + done + n, chunk.begin(), narrow);
        write_all(fd, chunk.data(), static_cast<size_t>(n) * 2, path);
      }
    }
  });
}

}  // namespace stilts
