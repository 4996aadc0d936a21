// Q4_K: 4-bit levels, 8 sub-blocks of 32 with 6-bit scales and mins.
#include <cstring>

#include "core/fp16.h"
#include "core/quant/k4_scales.h"
#include "core/quant/kernels.h"
#include "core/quant_blocks.h"

namespace sf::quant {

void dequantize_q4_k(const void* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const auto b = load_block<BlockQ4_K>(src, i);
    const float d = fp16_to_f32(b.d);
    const float dmin = fp16_to_f32(b.dmin);
    float* y = dst + i * kQK_K;
    for (int s = 0; s < 8; ++s) {
      uint8_t sc, mn;
      k4_scale_min(s, b.scales, &sc, &mn);
      const float ds = d * sc;
      const float ms = dmin * mn;
      // Sub-block s: nibble s % 2 of bytes 32 * (s / 2) .. + 31.
      const uint8_t* q = b.qs + 32 * (s / 2);
      const int shift = 4 * (s % 2);
      for (int l = 0; l < 32; ++l) y[32 * s + l] = ds * ((q[l] >> shift) & 0xF) - ms;
    }
  }
}

void quantize_q4_k(const float* src, void* dst, int64_t n) {
  constexpr AffineSearch kSearch{-1.f, 0.1f, 20, false, true};
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    K4Header h;
    uint8_t L[kQK_K];
    quantize_k4_superblock(src + i * kQK_K, 15, kSearch, &h, L);
    BlockQ4_K b;
    b.d = h.d;
    b.dmin = h.dmin;
    std::memcpy(b.scales, h.scales, sizeof(b.scales));
    for (int c = 0; c < 4; ++c)
      for (int l = 0; l < 32; ++l)
        b.qs[32 * c + l] = static_cast<uint8_t>(L[64 * c + l] | (L[64 * c + 32 + l] << 4));
    store_block(dst, i, b);
  }
}

}  // namespace sf::quant
