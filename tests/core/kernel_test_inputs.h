// Shared by the kernel tests (test_kernels, test_packed): random weight rows
// (real quantized rows, every bit pattern, or "exact" rows whose float steps
// are exact so integer sums must match to the last bit), bitwise comparison,
// and a guard that restores the ISA level a test changed.
#pragma once

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "core/cpu.h"
#include "core/dtype.h"
#include "core/fp16.h"
#include "core/quant.h"

namespace sf::test {

// Byte offsets of the fp16 scale fields inside one block.
inline std::vector<int> fp16_fields(DType t) {
  switch (t) {
    case DType::Q4_1:
    case DType::Q5_1:
    case DType::Q4_K:
    case DType::Q5_K:
      return {0, 2};
    case DType::Q2_K:
      return {80, 82};
    case DType::Q3_K:
      return {108};
    case DType::Q6_K:
      return {208};
    default:
      return {0};
  }
}

inline bool is_float_type(DType t) {
  return t == DType::F32 || t == DType::F16 || t == DType::BF16;
}

enum class WeightKind {
  Quantized,    // quantize_row_ref of N(0, 1) rows: what model files hold
  RandomBytes,  // every level/scale bit pattern; fp16 scales kept moderate
  Exact,        // random bytes, all fp16 scales 1.0 (floats: small integers)
};

inline std::vector<uint8_t> make_weights(DType t, int64_t rows, int64_t cols, WeightKind kind,
                                         uint32_t seed) {
  std::mt19937 rng(seed);
  const size_t rb = row_bytes(t, cols);
  std::vector<uint8_t> w(rb * rows);
  if (kind == WeightKind::Quantized) {
    std::normal_distribution<float> dist(0.f, 1.f);
    std::vector<float> x(cols);
    for (int64_t r = 0; r < rows; ++r) {
      for (float& v : x) v = dist(rng);
      quantize_row_ref(t, x.data(), w.data() + r * rb, cols);
    }
    return w;
  }
  if (is_float_type(t)) {
    std::uniform_int_distribution<int> small(-8, 8);
    std::uniform_real_distribution<float> real(-2.f, 2.f);
    for (int64_t i = 0; i < rows * cols; ++i) {
      const float v = kind == WeightKind::Exact ? static_cast<float>(small(rng)) : real(rng);
      if (t == DType::F32) {
        std::memcpy(w.data() + 4 * i, &v, 4);
      } else {
        const uint16_t h = t == DType::F16 ? f32_to_fp16(v) : f32_to_bf16(v);
        std::memcpy(w.data() + 2 * i, &h, 2);
      }
    }
    return w;
  }
  std::uniform_int_distribution<int> byte(0, 255);
  for (auto& b : w) b = static_cast<uint8_t>(byte(rng));
  std::uniform_real_distribution<float> scale(0.001f, 0.1f);
  const size_t bb = traits(t).block_bytes;
  for (size_t off = 0; off < w.size(); off += bb) {
    for (int f : fp16_fields(t)) {
      const uint16_t h = kind == WeightKind::Exact ? f32_to_fp16(1.f) : f32_to_fp16(scale(rng));
      std::memcpy(w.data() + off + f, &h, 2);
    }
  }
  return w;
}

inline bool bits_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Restores the ISA level a test changed.
class IsaGuard {
 public:
  IsaGuard() : saved_(active_isa()) {}
  ~IsaGuard() { set_isa(saved_); }

 private:
  Isa saved_;
};

}  // namespace sf::test
