// F32, F16 and BF16 rows: plain conversions, rounding to nearest even.
#include <cstring>

#include "core/fp16.h"
#include "core/quant/kernels.h"

namespace sf::quant {
namespace {

template <float (*to_f32)(uint16_t)>
void widen(const void* src, float* dst, int64_t n) {
  const auto* p = static_cast<const uint8_t*>(src);
  for (int64_t i = 0; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, p + 2 * i, 2);
    dst[i] = to_f32(h);
  }
}

template <uint16_t (*from_f32)(float)>
void narrow(const float* src, void* dst, int64_t n) {
  auto* p = static_cast<uint8_t*>(dst);
  for (int64_t i = 0; i < n; ++i) {
    const uint16_t h = from_f32(src[i]);
    std::memcpy(p + 2 * i, &h, 2);
  }
}

}  // namespace

void dequantize_f32(const void* src, float* dst, int64_t n) {
  std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}
void quantize_f32(const float* src, void* dst, int64_t n) {
  std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}

void dequantize_f16(const void* src, float* dst, int64_t n) {
  widen<fp16_to_f32>(src, dst, n);
}
void quantize_f16(const float* src, void* dst, int64_t n) {
  narrow<f32_to_fp16>(src, dst, n);
}

void dequantize_bf16(const void* src, float* dst, int64_t n) {
  widen<bf16_to_f32>(src, dst, n);
}
void quantize_bf16(const float* src, void* dst, int64_t n) {
  narrow<f32_to_bf16>(src, dst, n);
}

}  // namespace sf::quant
