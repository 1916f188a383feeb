// bf16 <-> f32 on the host, bit for bit what the GPU's __float2bfloat16 (round to nearest
// even) and __bfloat162float do, so the CPU cast and the tests agree with the device.
#pragma once

#include <bit>
#include <cstdint>

namespace stilts {

inline uint16_t float_to_bf16(float x) {
  const uint32_t bits = std::bit_cast<uint32_t>(x);
  if ((bits & 0x7f800000u) == 0x7f800000u && (bits & 0x007fffffu) != 0)
    return static_cast<uint16_t>((bits >> 16) | 0x0040u);  // a quiet NaN, sign kept
  const uint32_t rounding = 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>((bits + rounding) >> 16);
}

inline float bf16_to_float(uint16_t x) {
  return std::bit_cast<float>(static_cast<uint32_t>(x) << 16);
}

}  // namespace stilts
