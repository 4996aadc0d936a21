// Q5_K: Q4_K plus a fifth bit per element in qh.
#include <cstring>

#include "core/fp16.h"
#include "core/quant/k4_scales.h"
#include "core/quant/kernels.h"
#include "core/quant_blocks.h"

namespace sf::quant {

void dequantize_q5_k(const void* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const auto b = load_block<BlockQ5_K>(src, i);
    const float d = fp16_to_f32(b.d);
    const float dmin = fp16_to_f32(b.dmin);
    float* y = dst + i * kQK_K;
    for (int s = 0; s < 8; ++s) {
      uint8_t sc, mn;
      k4_scale_min(s, b.scales, &sc, &mn);
      const float ds = d * sc;
      const float ms = dmin * mn;
      // Nibbles as in Q4_K; the fifth bit of sub-block s is bit s of qh[l].
      const uint8_t* q = b.qs + 32 * (s / 2);
      const int shift = 4 * (s % 2);
      for (int l = 0; l < 32; ++l) {
        const int level = ((q[l] >> shift) & 0xF) | (((b.qh[l] >> s) & 1) << 4);
        y[32 * s + l] = ds * level - ms;
      }
    }
  }
}

void quantize_q5_k(const float* src, void* dst, int64_t n) {
  constexpr AffineSearch kSearch{-0.5f, 0.1f, 15, false, true};
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    K4Header h;
    uint8_t L[kQK_K];
    quantize_k4_superblock(src + i * kQK_K, 31, kSearch, &h, L);
    BlockQ5_K b;
    b.d = h.d;
    b.dmin = h.dmin;
    std::memcpy(b.scales, h.scales, sizeof(b.scales));
    std::memset(b.qh, 0, sizeof(b.qh));
    for (int c = 0; c < 4; ++c) {
      for (int l = 0; l < 32; ++l) {
        const int lo = L[64 * c + l], hi = L[64 * c + 32 + l];
        b.qs[32 * c + l] = static_cast<uint8_t>((lo & 0xF) | ((hi & 0xF) << 4));
        b.qh[l] |= static_cast<uint8_t>(((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
      }
    }
    store_block(dst, i, b);
  }
}

}  // namespace sf::quant
