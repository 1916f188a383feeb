// Counter-based randomness (dropout masks, initialization): the draw of element i depends only on
// (key, i), so a backward pass, a resumed run or another device regenerates exactly the same
// numbers without storing them. Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as
// 1, 2, 3", SC'11), with the round constants of that paper.
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define STILTS_HOST_DEVICE __host__ __device__
#else
#define STILTS_HOST_DEVICE
#endif

namespace stilts {

// seed: the run's seed. stream: which draw (step, layer, site, tensor-parallel rank) packed
// by the caller with dropout_stream().
struct RngKey {
  uint64_t seed = 0;
  uint64_t stream = 0;
};

// Distinct streams for every (step, layer, site, tp_rank) that a run can reach: 32 bits of
// step, 12 of layer, 8 of site, 12 of rank.
STILTS_HOST_DEVICE inline uint64_t dropout_stream(uint64_t step, uint32_t layer, uint32_t site,
                                                  uint32_t tp_rank) {
  return (step << 32) | (static_cast<uint64_t>(layer & 0xfffu) << 20) |
         (static_cast<uint64_t>(site & 0xffu) << 12) | (tp_rank & 0xfffu);
}

struct Philox4x32 {
  uint32_t v[4];
};

STILTS_HOST_DEVICE inline Philox4x32 philox4x32_10(uint32_t c0, uint32_t c1, uint32_t c2,
                                                   uint32_t c3, uint32_t k0, uint32_t k1) {
  constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
  constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    uint64_t p0 = static_cast<uint64_t>(kM0) * c0;
    uint64_t p1 = static_cast<uint64_t>(kM1) * c2;
    uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1 ^ k0;
    uint32_t n2 = static_cast<uint32_t>(p0 >> 32) ^ c3 ^ k1;
    c1 = static_cast<uint32_t>(p1);
    c3 = static_cast<uint32_t>(p0);
    c0 = n0;
    c2 = n2;
    k0 += kW0;
    k1 += kW1;
  }
  return {{c0, c1, c2, c3}};
}

struct Uniform4 {
  float v[4];
};

// philox_uniform(key, 4 * block + j) for j = 0..3 from one Philox evaluation, for kernels that
// draw consecutive elements (one evaluation yields four numbers).
STILTS_HOST_DEVICE inline Uniform4 philox_uniform4(RngKey key, uint64_t block) {
  Philox4x32 r =
      philox4x32_10(static_cast<uint32_t>(block), static_cast<uint32_t>(block >> 32),
                    static_cast<uint32_t>(key.stream), static_cast<uint32_t>(key.stream >> 32),
                    static_cast<uint32_t>(key.seed), static_cast<uint32_t>(key.seed >> 32));
  Uniform4 u;
  for (int j = 0; j < 4; ++j) u.v[j] = static_cast<float>(r.v[j] >> 8) * (1.0f / 16777216.0f);
  return u;
}

// Uniform in [0, 1) with 24 random bits, for element `index` of the draw `key`.
STILTS_HOST_DEVICE inline float philox_uniform(RngKey key, uint64_t index) {
  return philox_uniform4(key, index >> 2).v[index & 3];
}

}  // namespace stilts
