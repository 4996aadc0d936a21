// Q4_0 (symmetric, absmax scale) and Q4_1 (scale + offset, searched).
#include <algorithm>

#include "core/fp16.h"
#include "core/quant/fit.h"
#include "core/quant/kernels.h"
#include "core/quant_blocks.h"

namespace sf::quant {

void dequantize_q4_0(const void* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i) {
    const auto b = load_block<BlockQ4_0>(src, i);
    const float d = fp16_to_f32(b.d);
    float* y = dst + i * kQK;
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = ((b.qs[j] & 0xF) - 8) * d;
      y[j + kQK / 2] = ((b.qs[j] >> 4) - 8) * d;
    }
  }
}

void quantize_q4_0(const float* src, void* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i) {
    const float* x = src + i * kQK;
    float amax;
    // The largest magnitude maps to level -8, the one level without a
    // positive twin, so all 16 levels are used.
    const float d = signed_absmax(x, kQK, &amax) / -8;
    const float id = d ? 1.0f / d : 0.0f;
    BlockQ4_0 b;
    b.d = f32_to_fp16(d);
    for (int j = 0; j < kQK / 2; ++j) {
      // Truncating after +8.5 rounds half up; x*id + 8.5 is never negative.
      const int lo = std::min(15, static_cast<int>(x[j] * id + 8.5f));
      const int hi = std::min(15, static_cast<int>(x[j + kQK / 2] * id + 8.5f));
      b.qs[j] = static_cast<uint8_t>(lo | (hi << 4));
    }
    store_block(dst, i, b);
  }
}

void dequantize_q4_1(const void* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i) {
    const auto b = load_block<BlockQ4_1>(src, i);
    const float d = fp16_to_f32(b.d);
    const float m = fp16_to_f32(b.m);
    float* y = dst + i * kQK;
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = (b.qs[j] & 0xF) * d + m;
      y[j + kQK / 2] = (b.qs[j] >> 4) * d + m;
    }
  }
}

void quantize_q4_1(const float* src, void* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i) {
    BlockQ4_1 b;
    uint8_t L[kQK];
    quantize_affine_group(src + i * kQK, 15, &b.d, &b.m, L);
    for (int j = 0; j < kQK / 2; ++j) b.qs[j] = static_cast<uint8_t>(L[j] | (L[j + kQK / 2] << 4));
    store_block(dst, i, b);
  }
}

}  // namespace sf::quant
