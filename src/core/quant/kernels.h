// Per-type scalar reference kernels behind the dispatcher in quant_ref.cpp
// (the public entry points are in core/quant.h). Each takes n elements, a
// multiple of the type's block size (the dispatcher checks), and reads or
// writes raw block bytes that need not be aligned for the block struct.
#pragma once

#include <cstdint>
#include <cstring>

namespace sf::quant {

template <class Block>
Block load_block(const void* src, int64_t i) {
  Block b;
  std::memcpy(&b, static_cast<const uint8_t*>(src) + i * static_cast<int64_t>(sizeof(Block)),
              sizeof(Block));
  return b;
}

template <class Block>
void store_block(void* dst, int64_t i, const Block& b) {
  std::memcpy(static_cast<uint8_t*>(dst) + i * static_cast<int64_t>(sizeof(Block)), &b,
              sizeof(Block));
}

#define SF_QUANT_KERNELS(name)                                    \
  void dequantize_##name(const void* src, float* dst, int64_t n); \
  void quantize_##name(const float* src, void* dst, int64_t n)

SF_QUANT_KERNELS(f32);
SF_QUANT_KERNELS(f16);
SF_QUANT_KERNELS(bf16);
SF_QUANT_KERNELS(q4_0);
SF_QUANT_KERNELS(q4_1);
SF_QUANT_KERNELS(q5_0);
SF_QUANT_KERNELS(q5_1);
SF_QUANT_KERNELS(q8_0);
SF_QUANT_KERNELS(q2_k);
SF_QUANT_KERNELS(q3_k);
SF_QUANT_KERNELS(q4_k);
SF_QUANT_KERNELS(q5_k);
SF_QUANT_KERNELS(q6_k);
SF_QUANT_KERNELS(q8_k);

#undef SF_QUANT_KERNELS

}  // namespace sf::quant
