// Quantized block layouts, byte for byte as GGUF/ggml store them, so tensors
// from llama.cpp files are read in place. Every half-precision field is an
// IEEE binary16 bit pattern (core/fp16.h); all multi-byte fields are
// little-endian. Structs hold only byte and 16/32-bit fields in ggml's order,
// so they have no padding; the static_asserts pin sizes to dtype.cpp's table.
//
// Kernels should memcpy a block out of a row rather than cast the row pointer:
// rows inside a GGUF mapping carry no alignment promise for the struct type.
#pragma once

#include <cstdint>

namespace sf {

inline constexpr int kQK = 32;           // elements per block of the 32-wide types
inline constexpr int kQK_K = 256;        // elements per K-quant super-block
inline constexpr int kKScaleBytes = 12;  // packed 6-bit scales of Q3_K/Q4_K/Q5_K

// x[j] = d * (q[j] - 8). Element j < 16 is the low nibble of qs[j], element
// j + 16 the high nibble of qs[j].
struct BlockQ4_0 {
  uint16_t d;
  uint8_t qs[kQK / 2];
};

// x[j] = d * q[j] + m, nibbles placed as in Q4_0.
struct BlockQ4_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qs[kQK / 2];
};

// x[j] = d * (q[j] - 16). Low 4 bits as in Q4_0; bit 4 of element j is bit j
// of qh read as a little-endian uint32.
struct BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};

// x[j] = d * q[j] + m, bits placed as in Q5_0.
struct BlockQ5_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};

// x[j] = d * qs[j].
struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[kQK];
};

// 16 sub-blocks of 16: x = d * (scales[s] & 15) * q - dmin * (scales[s] >> 4),
// q 2-bit: bits 2k..2k+1 of qs[32h + l] hold element 128h + 32k + l
// (h < 2, k < 4, l < 32).
struct BlockQ2_K {
  uint8_t scales[kQK_K / 16];
  uint8_t qs[kQK_K / 4];
  uint16_t d;
  uint16_t dmin;
};

// 16 sub-blocks of 16: x = d * (scale6[s] - 32) * (q - 4 * !high), where the
// low two bits of q are laid out as in Q2_K and the high bit of element i is
// bit i / 32 of hmask[i % 32]. The 6-bit scales: low nibbles in bytes 0..7
// (scales 0..7 low, 8..15 high nibble), top two bits in bytes 8..11 (scale s
// uses bits 2*(s/4) of byte 8 + s%4).
struct BlockQ3_K {
  uint8_t hmask[kQK_K / 8];
  uint8_t qs[kQK_K / 4];
  uint8_t scales[kKScaleBytes];
  uint16_t d;
};

// 8 sub-blocks of 32: x = d * sc[s] * q - dmin * mn[s], q 4-bit, sc/mn 6-bit
// (k4_scale_min). Each 64-element chunk c uses qs[32c .. 32c+31]: low nibbles
// are sub-block 2c, high nibbles sub-block 2c+1.
struct BlockQ4_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kKScaleBytes];
  uint8_t qs[kQK_K / 2];
};

// As Q4_K with a fifth bit: bit 4 of element 64c + l (l < 32) is bit 2c of
// qh[l], of element 64c + 32 + l bit 2c + 1.
struct BlockQ5_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kKScaleBytes];
  uint8_t qh[kQK_K / 8];
  uint8_t qs[kQK_K / 2];
};

// 16 sub-blocks of 16: x = d * scales[s] * (q - 32), q 6-bit. Per 128-element
// half h: element 128h + 32k + l (k < 4, l < 32) takes its low nibble from
// ql[64h + l + 32*(k & 1)] (k < 2 low nibble, else high) and its top two bits
// from bits 2k..2k+1 of qh[32h + l].
struct BlockQ6_K {
  uint8_t ql[kQK_K / 2];
  uint8_t qh[kQK_K / 4];
  int8_t scales[kQK_K / 16];
  uint16_t d;
};

// Activation type for K-quant integer dot products: x = d * qs, d a float;
// bsums[g] is the sum of qs over elements 16g .. 16g+15.
struct BlockQ8_K {
  float d;
  int8_t qs[kQK_K];
  int16_t bsums[kQK_K / 16];
};

static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4_1) == 20);
static_assert(sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24);
static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ2_K) == 84);
static_assert(sizeof(BlockQ3_K) == 110);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210);
static_assert(sizeof(BlockQ8_K) == 292);

// 6-bit scale and min of sub-block j (0..7) of a Q4_K/Q5_K block. Sub-blocks
// 0..3 keep both in the low 6 bits of bytes j and j+4; sub-blocks 4..7 keep
// their low nibbles in byte j+4 and their top two bits in the spare top bits
// of bytes j-4 (scale) and j (min).
inline void k4_scale_min(int j, const uint8_t* s, uint8_t* sc, uint8_t* mn) {
  if (j < 4) {
    *sc = s[j] & 63;
    *mn = s[j + 4] & 63;
  } else {
    *sc = static_cast<uint8_t>((s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4));
    *mn = static_cast<uint8_t>((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
  }
}

// Inverse of k4_scale_min for all 8 sub-blocks (values must be < 64).
inline void k4_pack_scales(const uint8_t sc[8], const uint8_t mn[8], uint8_t* s) {
  for (int j = 0; j < 4; ++j) {
    s[j] = static_cast<uint8_t>(sc[j] | ((sc[j + 4] >> 4) << 6));
    s[j + 4] = static_cast<uint8_t>(mn[j] | ((mn[j + 4] >> 4) << 6));
    s[j + 8] = static_cast<uint8_t>((sc[j + 4] & 0xF) | ((mn[j + 4] & 0xF) << 4));
  }
}

// Biased 6-bit scale (0..63; the kernel subtracts 32) of sub-block j (0..15)
// of a Q3_K block.
inline int q3k_scale(int j, const uint8_t* s) {
  const int lo = j < 8 ? (s[j] & 0xF) : (s[j - 8] >> 4);
  const int hi = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
  return lo | (hi << 4);
}

// Inverse of q3k_scale for all 16 sub-blocks (values must be < 64).
inline void q3k_pack_scales(const uint8_t biased[16], uint8_t* s) {
  for (int i = 0; i < kKScaleBytes; ++i) s[i] = 0;
  for (int j = 0; j < 16; ++j) {
    const int v = biased[j];
    if (j < 8)
      s[j] |= static_cast<uint8_t>(v & 0xF);
    else
      s[j - 8] |= static_cast<uint8_t>((v & 0xF) << 4);
    s[8 + j % 4] |= static_cast<uint8_t>((v >> 4) << (2 * (j / 4)));
  }
}

}  // namespace sf
