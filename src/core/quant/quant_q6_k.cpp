// Q6_K: 6-bit levels, 16 sub-blocks of 16 with int8 scales under one fp16
// super-scale.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/fp16.h"
#include "core/quant/fit.h"
#include "core/quant/kernels.h"
#include "core/quant_blocks.h"

namespace sf::quant {
namespace {

// Element e = 128h + 32k + l: low nibble from ql[64h + l + 32(k & 1)]
// (k < 2: low half of the byte), top two bits from bits 2k of qh[32h + l].
int level6(const BlockQ6_K& b, int e) {
  const int h = e / 128, k = (e / 32) % 4, l = e % 32;
  const int low = (b.ql[64 * h + l + 32 * (k & 1)] >> (4 * (k >> 1))) & 0xF;
  const int high = (b.qh[32 * h + l] >> (2 * k)) & 3;
  return low | (high << 4);
}

void pack6(const int8_t* L, BlockQ6_K* b) {
  std::memset(b->ql, 0, sizeof(b->ql));
  std::memset(b->qh, 0, sizeof(b->qh));
  for (int e = 0; e < kQK_K; ++e) {
    const int h = e / 128, k = (e / 32) % 4, l = e % 32;
    b->ql[64 * h + l + 32 * (k & 1)] |= static_cast<uint8_t>((L[e] & 0xF) << (4 * (k >> 1)));
    b->qh[32 * h + l] |= static_cast<uint8_t>((L[e] >> 4) << (2 * k));
  }
}

}  // namespace

void dequantize_q6_k(const void* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const auto b = load_block<BlockQ6_K>(src, i);
    const float d = fp16_to_f32(b.d);
    float* y = dst + i * kQK_K;
    for (int e = 0; e < kQK_K; ++e) y[e] = d * b.scales[e / 16] * (level6(b, e) - 32);
  }
}

void quantize_q6_k(const float* src, void* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float* x = src + i * kQK_K;
    int8_t L[kQK_K];
    float scales[16];
    float amax = 0, max_scale = 0;
    for (int s = 0; s < 16; ++s) {
      scales[s] = fit_symmetric(x + 16 * s, 16, 32, L + 16 * s);
      if (std::fabs(scales[s]) > amax) {
        amax = std::fabs(scales[s]);
        max_scale = scales[s];
      }
    }

    BlockQ6_K b;
    std::memset(&b, 0, sizeof(b));
    if (amax < kGroupMaxEps) {
      store_block(dst, i, b);
      continue;
    }
    // The largest scale takes -128, the unpaired end of int8.
    const float iscale = -128.f / max_scale;
    b.d = f32_to_fp16(1 / iscale);
    for (int s = 0; s < 16; ++s)
      b.scales[s] = static_cast<int8_t>(std::min(127, nearest_int(iscale * scales[s])));

    // Re-pick levels against the stored (quantized) scales.
    const float d = fp16_to_f32(b.d);
    for (int s = 0; s < 16; ++s) {
      const float ds = d * b.scales[s];
      if (!ds) continue;
      for (int e = 16 * s; e < 16 * s + 16; ++e)
        L[e] = static_cast<int8_t>(clamp_int(nearest_int(x[e] / ds), -32, 31) + 32);
    }
    pack6(L, &b);
    store_block(dst, i, b);
  }
}

}  // namespace sf::quant
