// Q3_K: 3-bit levels (2 low bits + a high-bit mask), 16 sub-blocks of 16
// with signed 6-bit scales under one fp16 super-scale.
#include <cmath>
#include <cstring>

#include "core/fp16.h"
#include "core/quant/fit.h"
#include "core/quant/kernels.h"
#include "core/quant_blocks.h"

namespace sf::quant {
namespace {

// Element e's low two bits (laid out as Q2_K's) and its bit e/32 of hmask.
int level3(const BlockQ3_K& b, int e) {
  const int low = (b.qs[32 * (e / 128) + e % 32] >> (2 * ((e / 32) % 4))) & 3;
  const int high = (b.hmask[e % 32] >> (e / 32)) & 1;
  return low | (high << 2);
}

void pack3(const int8_t* L, BlockQ3_K* b) {
  std::memset(b->hmask, 0, sizeof(b->hmask));
  std::memset(b->qs, 0, sizeof(b->qs));
  for (int e = 0; e < kQK_K; ++e) {
    b->hmask[e % 32] |= static_cast<uint8_t>(((L[e] >> 2) & 1) << (e / 32));
    b->qs[32 * (e / 128) + e % 32] |= static_cast<uint8_t>((L[e] & 3) << (2 * ((e / 32) % 4)));
  }
}

}  // namespace

void dequantize_q3_k(const void* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const auto b = load_block<BlockQ3_K>(src, i);
    const float d = fp16_to_f32(b.d);
    float* y = dst + i * kQK_K;
    for (int s = 0; s < kQK_K / 16; ++s) {
      const float dl = d * (q3k_scale(s, b.scales) - 32);
      for (int e = 16 * s; e < 16 * s + 16; ++e) y[e] = dl * (level3(b, e) - 4);
    }
  }
}

void quantize_q3_k(const float* src, void* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float* x = src + i * kQK_K;
    int8_t L[kQK_K];
    float scales[16];
    float amax = 0, max_scale = 0;
    for (int s = 0; s < 16; ++s) {
      scales[s] = fit_symmetric_refined(x + 16 * s, 16, 4, L + 16 * s);
      if (std::fabs(scales[s]) > amax) {
        amax = std::fabs(scales[s]);
        max_scale = scales[s];
      }
    }

    BlockQ3_K b;
    uint8_t biased[16] = {};
    b.d = f32_to_fp16(0.f);
    if (max_scale != 0) {
      // The largest scale takes -32, the unpaired end of the 6-bit range.
      const float iscale = -32.f / max_scale;
      for (int s = 0; s < 16; ++s)
        biased[s] = static_cast<uint8_t>(clamp_int(nearest_int(iscale * scales[s]), -32, 31) + 32);
      b.d = f32_to_fp16(1 / iscale);
    }
    q3k_pack_scales(biased, b.scales);

    // Re-pick levels against the stored (quantized) scales.
    const float d = fp16_to_f32(b.d);
    for (int s = 0; s < 16; ++s) {
      const float dl = d * (q3k_scale(s, b.scales) - 32);
      if (!dl) continue;
      for (int e = 16 * s; e < 16 * s + 16; ++e)
        L[e] = static_cast<int8_t>(clamp_int(nearest_int(x[e] / dl), -4, 3) + 4);
    }
    pack3(L, &b);
    store_block(dst, i, b);
  }
}

}  // namespace sf::quant
