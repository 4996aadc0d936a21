// Q2_K: 2-bit levels, 16 sub-blocks of 16 with 4-bit scales and mins under
// fp16 super-scales.
#include "core/fp16.h"
#include "core/quant/fit.h"
#include "core/quant/kernels.h"
#include "core/quant_blocks.h"

namespace sf::quant {
namespace {

// Bits 2k..2k+1 of qs[32h + l] for element e = 128h + 32k + l.
int level2(const uint8_t* qs, int e) {
  return (qs[32 * (e / 128) + e % 32] >> (2 * ((e / 32) % 4))) & 3;
}

void pack2(const uint8_t* L, uint8_t* qs) {
  for (int i = 0; i < kQK_K / 4; ++i) qs[i] = 0;
  for (int e = 0; e < kQK_K; ++e)
    qs[32 * (e / 128) + e % 32] |= static_cast<uint8_t>(L[e] << (2 * ((e / 32) % 4)));
}

// Quantizes values (all >= 0) to 4 bits on one shared fp16 step, the largest
// on level 15. Returns the step's fp16 bits; 0 when every value is 0.
uint16_t quantize_nibbles(const float* v, uint8_t* levels) {
  float max = 0;
  for (int j = 0; j < 16; ++j) max = v[j] > max ? v[j] : max;
  if (!(max > 0)) {
    for (int j = 0; j < 16; ++j) levels[j] = 0;
    return f32_to_fp16(0.f);
  }
  const float iscale = 15.f / max;
  for (int j = 0; j < 16; ++j)
    levels[j] = static_cast<uint8_t>(clamp_int(nearest_int(iscale * v[j]), 0, 15));
  return f32_to_fp16(max / 15.f);
}

}  // namespace

void dequantize_q2_k(const void* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const auto b = load_block<BlockQ2_K>(src, i);
    const float d = fp16_to_f32(b.d);
    const float dmin = fp16_to_f32(b.dmin);
    float* y = dst + i * kQK_K;
    for (int s = 0; s < kQK_K / 16; ++s) {
      const float dl = d * (b.scales[s] & 0xF);
      const float ml = dmin * (b.scales[s] >> 4);
      for (int e = 16 * s; e < 16 * s + 16; ++e) y[e] = dl * level2(b.qs, e) - ml;
    }
  }
}

void quantize_q2_k(const float* src, void* dst, int64_t n) {
  // llama.cpp's choice for 2 bits (|x|-weighted absolute error), kept so our
  // files match llama-quantize's byte for byte.
  constexpr AffineSearch kSearch{-0.5f, 0.1f, 15, true, true};
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float* x = src + i * kQK_K;
    uint8_t L[kQK_K];
    float scales[16], mins[16];
    for (int s = 0; s < 16; ++s) {
      float w[16];
      for (int j = 0; j < 16; ++j) w[j] = std::fabs(x[16 * s + j]);
      const AffineFit fit = fit_affine(x + 16 * s, w, 16, 3, kSearch, L + 16 * s);
      scales[s] = fit.scale;
      mins[s] = -fit.offset;
    }
    BlockQ2_K b;
    uint8_t ls[16], lm[16];
    b.d = quantize_nibbles(scales, ls);
    b.dmin = quantize_nibbles(mins, lm);
    for (int s = 0; s < 16; ++s) b.scales[s] = static_cast<uint8_t>(ls[s] | (lm[s] << 4));

    // Re-pick levels against the stored (quantized) scales and mins.
    const float d = fp16_to_f32(b.d), dmin = fp16_to_f32(b.dmin);
    for (int s = 0; s < 16; ++s) {
      const float dl = d * ls[s];
      if (!dl) continue;
      const float ml = dmin * lm[s];
      for (int e = 16 * s; e < 16 * s + 16; ++e)
        L[e] = static_cast<uint8_t>(clamp_int(nearest_int((x[e] + ml) / dl), 0, 3));
    }
    pack2(L, b.qs);
    store_block(dst, i, b);
  }
}

}  // namespace sf::quant
