// Q5_0 (symmetric, absmax scale) and Q5_1 (scale + offset, searched): Q4's
// nibbles plus a fifth bit per element packed into a 32-bit qh.
#include <algorithm>
#include <cstring>

#include "core/fp16.h"
#include "core/quant/fit.h"
#include "core/quant/kernels.h"
#include "core/quant_blocks.h"

namespace sf::quant {
namespace {

// Level of element j (0..31) from its nibble and its bit in qh.
int level5(const uint8_t* qs, uint32_t qh, int j) {
  const int nib = j < kQK / 2 ? (qs[j] & 0xF) : (qs[j - kQK / 2] >> 4);
  return nib | static_cast<int>(((qh >> j) & 1u) << 4);
}

template <class Block>
void pack5(const uint8_t* L, Block* b) {
  uint32_t qh = 0;
  for (int j = 0; j < kQK / 2; ++j)
    b->qs[j] = static_cast<uint8_t>((L[j] & 0xF) | ((L[j + kQK / 2] & 0xF) << 4));
  for (int j = 0; j < kQK; ++j) qh |= static_cast<uint32_t>(L[j] >> 4) << j;
  std::memcpy(b->qh, &qh, sizeof(qh));
}

template <class Block>
uint32_t load_qh(const Block& b) {
  uint32_t qh;
  std::memcpy(&qh, b.qh, sizeof(qh));
  return qh;
}

}  // namespace

void dequantize_q5_0(const void* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i) {
    const auto b = load_block<BlockQ5_0>(src, i);
    const float d = fp16_to_f32(b.d);
    const uint32_t qh = load_qh(b);
    for (int j = 0; j < kQK; ++j) dst[i * kQK + j] = (level5(b.qs, qh, j) - 16) * d;
  }
}

void quantize_q5_0(const float* src, void* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i) {
    const float* x = src + i * kQK;
    float amax;
    // As Q4_0: the largest magnitude takes the unpaired level -16.
    const float d = signed_absmax(x, kQK, &amax) / -16;
    const float id = d ? 1.0f / d : 0.0f;
    BlockQ5_0 b;
    b.d = f32_to_fp16(d);
    uint8_t L[kQK];
    for (int j = 0; j < kQK; ++j)
      L[j] = static_cast<uint8_t>(std::min(31, static_cast<int>(x[j] * id + 16.5f)));
    pack5(L, &b);
    store_block(dst, i, b);
  }
}

void dequantize_q5_1(const void* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i) {
    const auto b = load_block<BlockQ5_1>(src, i);
    const float d = fp16_to_f32(b.d);
    const float m = fp16_to_f32(b.m);
    const uint32_t qh = load_qh(b);
    for (int j = 0; j < kQK; ++j) dst[i * kQK + j] = level5(b.qs, qh, j) * d + m;
  }
}

void quantize_q5_1(const float* src, void* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i) {
    BlockQ5_1 b;
    uint8_t L[kQK];
    quantize_affine_group(src + i * kQK, 31, &b.d, &b.m, L);
    pack5(L, &b);
    store_block(dst, i, b);
  }
}

}  // namespace sf::quant
