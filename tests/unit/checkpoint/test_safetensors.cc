#include "core/checkpoint/safetensors.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "tests/unit/checkpoint/test_util.h"

namespace stilts {
namespace {

using testing::message_of;
using testing::read_bytes;
using testing::TempDir;
using testing::write_bytes;

float from_bits(uint32_t bits) {
  return std::bit_cast<float>(bits);
}

Tensor f32_tensor(const Shape& shape, const std::vector<float>& values) {
  Tensor t(shape);
  std::memcpy(t.raw(), values.data(), t.nbytes());
  return t;
}

// 8-byte little-endian header length (the declared one, or the header's), header, data.
std::string raw_file(const std::string& header, const std::string& data,
                     std::optional<uint64_t> declared = std::nullopt) {
  const uint64_t n = declared.value_or(header.size());
  std::string out(8, '\0');
  std::memcpy(out.data(), &n, 8);
  return out + header + data;
}

TEST(HalfConversion, Bf16KnownValues) {
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3F80);
  EXPECT_EQ(f32_to_bf16(-2.5f), 0xC020);
  EXPECT_EQ(f32_to_bf16(0.0f), 0x0000);
  EXPECT_EQ(f32_to_bf16(-0.0f), 0x8000);
  // 65504 = 0x477FE000: the dropped half-word 0xE000 is above the halfway point.
  EXPECT_EQ(f32_to_bf16(65504.0f), 0x4780);
  // Ties go to the even neighbour; just above a tie rounds up.
  EXPECT_EQ(f32_to_bf16(from_bits(0x3F808000)), 0x3F80);
  EXPECT_EQ(f32_to_bf16(from_bits(0x3F818000)), 0x3F82);
  EXPECT_EQ(f32_to_bf16(from_bits(0x3F808001)), 0x3F81);
  EXPECT_EQ(f32_to_bf16(std::numeric_limits<float>::infinity()), 0x7F80);
  EXPECT_EQ(f32_to_bf16(-std::numeric_limits<float>::infinity()), 0xFF80);
  EXPECT_EQ(f32_to_bf16(std::numeric_limits<float>::max()), 0x7F80);  // rounds past the top
  EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(std::numeric_limits<float>::quiet_NaN()))));
  // A NaN whose payload sits only in the low bits must not round to infinity.
  EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(from_bits(0x7F800001)))));
  EXPECT_NEAR(bf16_to_f32(f32_to_bf16(1e-8f)), 1e-8f, 1e-8f / 256);
  EXPECT_EQ(bf16_to_f32(0x3F80), 1.0f);
  EXPECT_EQ(bf16_to_f32(0xC020), -2.5f);
}

TEST(HalfConversion, F16KnownValues) {
  EXPECT_EQ(f32_to_f16(1.0f), 0x3C00);
  EXPECT_EQ(f32_to_f16(-2.5f), 0xC100);
  EXPECT_EQ(f32_to_f16(-0.0f), 0x8000);
  EXPECT_EQ(f32_to_f16(65504.0f), 0x7BFF);
  EXPECT_EQ(f32_to_f16(65519.99f), 0x7BFF);
  EXPECT_EQ(f32_to_f16(65520.0f), 0x7C00);  // the tie goes to the even neighbour: infinity
  EXPECT_EQ(f32_to_f16(1e6f), 0x7C00);
  EXPECT_EQ(f32_to_f16(-std::numeric_limits<float>::infinity()), 0xFC00);
  EXPECT_EQ(f32_to_f16(0x1p-14f), 0x0400);  // smallest normal
  EXPECT_EQ(f32_to_f16(0x1p-24f), 0x0001);  // smallest subnormal
  EXPECT_EQ(f32_to_f16(1e-8f), 0x0000);     // 0.17 units of 2^-24
  EXPECT_EQ(f32_to_f16(6e-8f), 0x0001);     // 1.007 units
  EXPECT_EQ(f32_to_f16(0x1p-25f), 0x0000);  // tie between 0 and 1 unit
  EXPECT_EQ(f32_to_f16(0x3p-25f), 0x0002);  // tie between 1 and 2 units
  EXPECT_EQ(f32_to_f16(-0x3p-25f), 0x8002);
  EXPECT_EQ(f32_to_f16(0x1.ffcp-15f), 0x0400);     // rounds up out of the subnormals
  EXPECT_EQ(f32_to_f16(1.0f + 0x1p-11f), 0x3C00);  // tie, even
  EXPECT_EQ(f32_to_f16(1.0f + 0x3p-11f), 0x3C02);  // tie, even
  EXPECT_EQ(f32_to_f16(std::numeric_limits<float>::denorm_min()), 0x0000);
  EXPECT_TRUE(std::isnan(f16_to_f32(f32_to_f16(std::numeric_limits<float>::quiet_NaN()))));
  EXPECT_TRUE(std::isnan(f16_to_f32(f32_to_f16(from_bits(0xFF800001)))));
  EXPECT_EQ(f16_to_f32(0x0001), 0x1p-24f);
  EXPECT_EQ(f16_to_f32(0x7BFF), 65504.0f);
  EXPECT_EQ(f16_to_f32(0xC100), -2.5f);
  EXPECT_TRUE(std::signbit(f16_to_f32(0x8000)));
  EXPECT_EQ(f16_to_f32(0x7C00), std::numeric_limits<float>::infinity());
}

// Every 16-bit value widens exactly and narrows back to itself (NaNs stay NaN).
TEST(HalfConversion, EveryHalfRoundTrips) {
  for (uint32_t h = 0; h <= 0xFFFF; ++h) {
    const auto bits = static_cast<uint16_t>(h);
    const float f16 = f16_to_f32(bits), bf16 = bf16_to_f32(bits);
    if (std::isnan(f16))
      EXPECT_TRUE(std::isnan(f16_to_f32(f32_to_f16(f16)))) << h;
    else
      EXPECT_EQ(f32_to_f16(f16), bits) << h;
    if (std::isnan(bf16))
      EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(bf16)))) << h;
    else
      EXPECT_EQ(f32_to_bf16(bf16), bits) << h;
  }
}

// Over a sweep of f32 bit patterns, the result is a nearest representable value, ties to even,
// and overflow gives infinity exactly from the halfway point above the largest finite value.
void expect_nearest_even(uint16_t (*narrow)(float), float (*widen)(uint16_t), uint16_t max_bits) {
  const double largest = widen(max_bits);
  const double overflow = largest + (largest - widen(static_cast<uint16_t>(max_bits - 1))) / 2;
  for (uint64_t bits = 0; bits < (1ull << 32); bits += 4093) {
    const float x = from_bits(static_cast<uint32_t>(bits));
    if (std::isnan(x)) continue;
    const uint16_t h = narrow(x);
    const double y = widen(h);
    if (std::isinf(y) && !std::isinf(x)) {
      ASSERT_GE(std::fabs(x), overflow) << bits;
      continue;
    }
    const double error = std::fabs(double(x) - y);
    for (int step : {-1, 1}) {
      const double other = widen(static_cast<uint16_t>(h + step));
      if (std::isnan(other) || other == y) continue;
      const double other_error = std::fabs(double(x) - other);
      ASSERT_LE(error, other_error) << "x bits " << bits << " gave " << h;
      if (error == other_error) {
        ASSERT_EQ(h & 1, 0) << "tie not to even, x bits " << bits;
      }
    }
  }
}

TEST(HalfConversion, F16RoundsToNearestEven) {
  expect_nearest_even(f32_to_f16, f16_to_f32, 0x7BFF);
}

TEST(HalfConversion, Bf16RoundsToNearestEven) {
  expect_nearest_even(f32_to_bf16, bf16_to_f32, 0x7F7F);
}

TEST(Safetensors, F32AndIntegersRoundTripBitIdentical) {
  TempDir dir;
  const std::string path = dir / "t.safetensors";
  const Tensor values = f32_tensor(
      {2, 3}, {1.0f, -0.0f, from_bits(0x7FC00123), std::numeric_limits<float>::infinity(),
               std::numeric_limits<float>::denorm_min(), std::numeric_limits<float>::max()});
  const Tensor scalar = f32_tensor({}, {-2.5f});
  const Tensor empty({0, 4});
  Tensor ids({3}, DType::i64);
  ids.data<int64_t>()[2] = -(int64_t{1} << 40);
  Tensor small({2}, DType::i32);
  small.data<int32_t>()[0] = 7;
  write_safetensors(path,
                    {{"values", values, DType::f32},
                     {"scalar", scalar, DType::f32},
                     {"empty", empty, DType::f32},
                     {"ids", ids, DType::i64},
                     {"small", small, DType::i32}},
                    {{"format", "pt"}, {"note", "ünïcode"}});

  const SafetensorsFile file(path);
  EXPECT_EQ(file.metadata(),
            (std::map<std::string, std::string>{{"format", "pt"}, {"note", "ünïcode"}}));
  ASSERT_EQ(file.entries().size(), 5u);
  for (const auto& [name, original] :
       std::vector<std::pair<std::string, Tensor>>{{"values", values},
                                                   {"scalar", scalar},
                                                   {"empty", empty},
                                                   {"ids", ids},
                                                   {"small", small}}) {
    const Tensor back = file.read(name);
    EXPECT_EQ(back.shape(), original.shape()) << name;
    EXPECT_EQ(back.dtype(), original.dtype()) << name;
    EXPECT_EQ(std::memcmp(back.raw(), original.raw(), original.nbytes()), 0) << name;
  }
  const Tensor as_f32 = file.read_f32("values");
  EXPECT_EQ(std::memcmp(as_f32.raw(), values.raw(), values.nbytes()), 0);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST(Safetensors, Bf16AndF16StoreRoundedValues) {
  TempDir dir;
  const std::string path = dir / "half.safetensors";
  const std::vector<float> values = {1.0f,
                                     -2.5f,
                                     65504.0f,
                                     1e-8f,
                                     0x3p-25f,
                                     1.0f + 0x1p-11f,
                                     from_bits(0x3F808000),
                                     std::numeric_limits<float>::infinity(),
                                     -std::numeric_limits<float>::infinity(),
                                     std::numeric_limits<float>::quiet_NaN(),
                                     0.1f,
                                     -1234.5678f};
  const Tensor t = f32_tensor({3, 4}, values);
  write_safetensors(path, {{"b", t, DType::bf16}, {"h", t, DType::f16}});

  const SafetensorsFile file(path);
  EXPECT_EQ(file.entry("b").dtype, "BF16");
  EXPECT_EQ(file.entry("h").dtype, "F16");
  const Tensor b = file.read_f32("b"), h = file.read_f32("h");
  const Tensor b_raw = file.read("b"), h_raw = file.read("h");
  EXPECT_EQ(b_raw.dtype(), DType::bf16);
  EXPECT_EQ(h_raw.dtype(), DType::f16);
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(b_raw.data<uint16_t>()[i], f32_to_bf16(values[i])) << i;
    EXPECT_EQ(h_raw.data<uint16_t>()[i], f32_to_f16(values[i])) << i;
    const float expect_b = bf16_to_f32(f32_to_bf16(values[i]));
    const float expect_h = f16_to_f32(f32_to_f16(values[i]));
    if (std::isnan(values[i])) {
      EXPECT_TRUE(std::isnan(b.data<float>()[i]));
      EXPECT_TRUE(std::isnan(h.data<float>()[i]));
    } else {
      EXPECT_EQ(b.data<float>()[i], expect_b) << i;
      EXPECT_EQ(h.data<float>()[i], expect_h) << i;
    }
  }
  EXPECT_EQ(h.data<float>()[2], 65504.0f);
  EXPECT_EQ(h.data<float>()[3], 0.0f);
  EXPECT_EQ(h.data<float>()[4], 0x2p-24f);
  EXPECT_EQ(b.data<float>()[1], -2.5f);
}

// Conversion runs in chunks; a tensor spanning several must come back whole.
TEST(Safetensors, LargeHalfTensorsConvertAcrossChunks) {
  TempDir dir;
  const std::string path = dir / "big.safetensors";
  Tensor t({3, 70001});
  for (int64_t i = 0; i < t.numel(); ++i)
    t.data<float>()[i] = static_cast<float>(i % 2000) - 1000.0f;
  write_safetensors(path, {{"x", t, DType::bf16}});
  const Tensor back = SafetensorsFile(path).read_f32("x");
  for (int64_t i = 0; i < t.numel(); ++i)
    ASSERT_EQ(back.data<float>()[i], bf16_to_f32(f32_to_bf16(t.data<float>()[i]))) << i;
}

TEST(Safetensors, HeaderIsSpacePaddedAndTensorsSortedByAlignmentThenName) {
  TempDir dir;
  const std::string path = dir / "order.safetensors";
  const Tensor f = f32_tensor({1}, {1.0f});
  write_safetensors(path,
                    {{"b", f, DType::f32},
                     {"a", f, DType::bf16},
                     {"z", Tensor({1}, DType::i32), DType::i32},
                     {"c", Tensor({2}, DType::i64), DType::i64},
                     {"a32", f, DType::f32}},
                    {{"format", "pt"}});
  const std::string bytes = read_bytes(path);
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  EXPECT_EQ(n % 8, 0u);
  const std::string header = bytes.substr(8, n);
  const size_t close = header.rfind('}');
  EXPECT_EQ(header.find_first_not_of(' ', close + 1), std::string::npos);
  EXPECT_TRUE(nlohmann::json::parse(header).is_object());

  const SafetensorsFile file(path);
  std::vector<std::string> order;
  uint64_t expected_begin = 0;
  for (const SafetensorsEntry& e : file.entries()) {
    order.push_back(e.name);
    EXPECT_EQ(e.begin, expected_begin) << e.name;
    expected_begin = e.end;
  }
  EXPECT_EQ(order, (std::vector<std::string>{"c", "a32", "b", "z", "a"}));
  EXPECT_EQ(bytes.size(), 8 + n + expected_begin);
}

TEST(Safetensors, WriterRefusesBadInputAndLeavesNothing) {
  TempDir dir;
  const std::string path = dir / "bad.safetensors";
  const Tensor f = f32_tensor({1}, {1.0f});
  for (const auto& tensors : std::vector<std::vector<SafetensorsTensor>>{
           {{"x", f, DType::f32}, {"x", f, DType::bf16}},
           {{"__metadata__", f, DType::f32}},
           {{"ids", Tensor({2}, DType::i64), DType::bf16}},
           {{"undefined", Tensor(), DType::f32}},
       }) {
    const std::string message =
        message_of<std::invalid_argument>([&] { write_safetensors(path, tensors); });
    EXPECT_CONTAINS(message, path);
    EXPECT_CONTAINS(message, tensors.back().name);
    EXPECT_FALSE(std::filesystem::exists(path));
    EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  }
}

TEST(Safetensors, EmptyFileIsValid) {
  TempDir dir;
  const std::string path = dir / "empty.safetensors";
  write_safetensors(path, {});
  const SafetensorsFile file(path);
  EXPECT_TRUE(file.entries().empty());
  EXPECT_TRUE(file.metadata().empty());
  EXPECT_EQ(read_bytes(path).size(), 16u);  // "{}" padded to 8
}

TEST(Safetensors, EveryTruncationIsRefused) {
  TempDir dir;
  const std::string path = dir / "whole.safetensors", cut = dir / "cut.safetensors";
  write_safetensors(path,
                    {{"a", f32_tensor({2, 2}, {1, 2, 3, 4}), DType::f32},
                     {"b", f32_tensor({3}, {5, 6, 7}), DType::bf16}},
                    {{"format", "pt"}});
  const std::string bytes = read_bytes(path);
  for (size_t length = 0; length < bytes.size(); ++length) {
    write_bytes(cut, bytes.substr(0, length));
    const std::string message = message_of([&] {
      const SafetensorsFile file(cut);
      (void)file.read_f32("a");
    });
    EXPECT_CONTAINS(message, cut) << "length " << length;
  }
}

struct Malformed {
  const char* what;
  std::string header;
  std::string data;
  std::optional<uint64_t> declared;
  std::vector<std::string> expected;  // parts of the message
};

TEST(Safetensors, MalformedFilesAreRefusedWithTheReason) {
  const std::string f32x2 = R"("dtype":"F32","shape":[2])";
  const std::vector<Malformed> cases = {
      {"header longer than the file", "{}", "", 1000, {"header length 1000", "truncated"}},
      {"header over the limit", "{}", "", 100'000'001, {"exceeds the limit of 100000000"}},
      {"bad JSON", R"({"a": {"dtype": )", "", {}, {"not valid UTF-8 JSON"}},
      {"ill-formed UTF-8", "{\"\xff\xfe\": {}}", "", {}, {"not valid UTF-8 JSON"}},
      {"not an object", "[1, 2]", "", {}, {"does not start with '{'"}},
      {"leading space", " {}", "", {}, {"does not start with '{'"}},
      {"empty header", "", "", {}, {"does not start with '{'"}},
      {"entry not an object", R"({"a": 5})", "", {}, {"tensor 'a'", "not a JSON object"}},
      {"unknown dtype",
       R"({"a":{"dtype":"Q8","shape":[1],"data_offsets":[0,1]}})",
       "x",
       {},
       {"tensor 'a'", "unknown dtype 'Q8'", "BF16"}},
      {"negative dimension",
       R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})",
       "xxxx",
       {},
       {"tensor 'a'", "non-negative integers"}},
      {"fractional dimension",
       R"({"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}})",
       "xxxx",
       {},
       {"non-negative integers"}},
      {"element count overflows",
       R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,2],"data_offsets":[0,4]}})",
       "xxxx",
       {},
       {"more elements than 2^64"}},
      {"byte count overflows",
       R"({"a":{"dtype":"F32","shape":[4611686018427387905],"data_offsets":[0,4]}})",
       "xxxx",
       {},
       {"tensor 'a'", "needs 4611686018427387905 x 4 bytes"}},
      {"missing offsets", R"({"a":{"dtype":"F32","shape":[1]}})", "xxxx", {}, {"data_offsets"}},
      {"fractional offset",
       R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4.0]}})",
       "xxxx",
       {},
       {"data_offsets"}},
      {"offsets not matching the shape",
       R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})",
       "xxxxxxxx",
       {},
       {"tensor 'a'", "hold 8 bytes", "F32[3] needs 3 x 4 bytes"}},
      {"begin after end",
       R"({"a":{"dtype":"U8","shape":[0],"data_offsets":[8,4]}})",
       "xxxxxxxx",
       {},
       {"tensor 'a'", "[8,4] begin after they end"}},
      {"outside the buffer",
       "{\"a\":{" + f32x2 + R"(,"data_offsets":[0,8]}})",
       "xxxx",
       {},
       {"tensor 'a'", "extend past the data buffer of 4 bytes"}},
      {"overlapping",
       "{\"a\":{" + f32x2 + R"(,"data_offsets":[0,8]},"b":{)" + f32x2 +
           R"(,"data_offsets":[4,12]}})",
       std::string(12, 'x'),
       {},
       {"tensor 'b'", "overlap tensor 'a'"}},
      {"gap",
       "{\"a\":{" + f32x2 + R"(,"data_offsets":[0,8]},"b":{)" + f32x2 +
           R"(,"data_offsets":[12,20]}})",
       std::string(20, 'x'),
       {},
       {"data bytes [8,12] before tensor 'b' belong to no tensor"}},
      {"trailing bytes",
       "{\"a\":{" + f32x2 + R"(,"data_offsets":[0,8]}})",
       std::string(10, 'x'),
       {},
       {"2 trailing bytes"}},
      {"metadata not strings",
       R"({"__metadata__":{"format":1}})",
       "",
       {},
       {"__metadata__", "'format'", "not a string"}},
      {"metadata not an object", R"({"__metadata__":[]})", "", {}, {"__metadata__"}},
  };
  TempDir dir;
  for (const Malformed& c : cases) {
    const std::string path = dir / "malformed.safetensors";
    write_bytes(path, raw_file(c.header, c.data, c.declared));
    const std::string message = message_of([&] { SafetensorsFile file(path); });
    EXPECT_CONTAINS(message, path) << c.what;
    for (const std::string& part : c.expected) EXPECT_CONTAINS(message, part) << c.what;
  }
  for (size_t size : {0, 3, 7}) {
    const std::string path = dir / "short.safetensors";
    write_bytes(path, std::string(size, '\0'));
    const std::string message = message_of([&] { SafetensorsFile file(path); });
    EXPECT_CONTAINS(message, std::to_string(size) + " bytes, too short");
  }
  EXPECT_CONTAINS(message_of([&] { SafetensorsFile file(dir / "absent"); }), "cannot open");
}

// A damaged header byte anywhere either still parses or is refused; nothing else happens.
TEST(Safetensors, CorruptedHeaderBytesAreRefusedOrHarmless) {
  TempDir dir;
  const std::string path = dir / "whole.safetensors", bad = dir / "bad.safetensors";
  write_safetensors(path,
                    {{"a", f32_tensor({2, 2}, {1, 2, 3, 4}), DType::f32},
                     {"b", f32_tensor({3}, {5, 6, 7}), DType::f16}},
                    {{"format", "pt"}});
  const std::string bytes = read_bytes(path);
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  int refused = 0;
  for (size_t i = 0; i < 8 + n; ++i) {
    for (char value : {'\0', '}', '"', '9', ',', '\xff'}) {
      std::string damaged = bytes;
      damaged[i] = value;
      write_bytes(bad, damaged);
      try {
        const SafetensorsFile file(bad);
        for (const SafetensorsEntry& e : file.entries()) (void)file.read(e.name);
      } catch (const std::runtime_error& e) {
        ++refused;
        EXPECT_CONTAINS(e.what(), bad);
      }
    }
  }
  EXPECT_GT(refused, 0);
}

TEST(Safetensors, ReadRefusals) {
  TempDir dir;
  const std::string path = dir / "r.safetensors";
  write_safetensors(path, {{"ids", Tensor({2}, DType::i64), DType::i64},
                           {"w", f32_tensor({2}, {1, 2}), DType::f32}});
  const SafetensorsFile file(path);
  std::string message = message_of([&] { (void)file.read("nope"); });
  EXPECT_CONTAINS(message, path);
  EXPECT_CONTAINS(message, "no tensor 'nope'");
  message = message_of([&] { (void)file.read_f32("ids"); });
  EXPECT_CONTAINS(message, "tensor 'ids' has dtype I64");
  Tensor wrong({3});
  message = message_of([&] { file.read_f32_into("w", wrong); });
  EXPECT_CONTAINS(message, "tensor 'w' has shape [2], expected [3]");
  Tensor not_f32({2}, DType::i32);
  message = message_of<std::invalid_argument>([&] { file.read_f32_into("w", not_f32); });
  EXPECT_CONTAINS(message, "host f32 destination");

  const std::string u8 = dir / "u8.safetensors";
  write_bytes(u8, raw_file(R"({"m":{"dtype":"U8","shape":[8],"data_offsets":[0,8]}})",
                           std::string(8, '\1')));
  message = message_of([&] { (void)SafetensorsFile(u8).read("m"); });
  EXPECT_CONTAINS(message, "tensor 'm' has dtype U8, which no stilts tensor type holds");
}

}  // namespace
}  // namespace stilts
