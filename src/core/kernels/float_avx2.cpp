// AVX2 + FMA kernels for F32, F16 and BF16 weights: each weight and activation
// vector is widened to 8 floats and multiplied into one accumulator per
// (row, column) pair; tails go through a zero-padded copy, so every pair sees
// the same operations whatever the tile.
#include <immintrin.h>

#include <cstring>

#include "core/kernels/prefetch.h"
#include "core/kernels/registry.h"
#include "core/kernels/tile_driver.h"
#include "core/kernels/x86_loads.h"

namespace sf::kernels::avx2 {
namespace {

inline __m256 widen_bf16(__m128i h) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

// Element i of a row, as 8 floats: Src picks the storage.
struct F32Src {
  static constexpr int kBytes = 4;
  static __m256 load(const uint8_t* p) {
    return _mm256_loadu_ps(reinterpret_cast<const float*>(p));
  }
};
struct F16Src {
  static constexpr int kBytes = 2;
  static __m256 load(const uint8_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
};
struct BF16Src {
  static constexpr int kBytes = 2;
  static __m256 load(const uint8_t* p) {
    return widen_bf16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
};

// Loads elements [i, n) (fewer than 8) zero-padded.
template <class Src>
inline __m256 load_tail(const uint8_t* row, int64_t i, int64_t n) {
  alignas(32) uint8_t buf[32] = {};
  std::memcpy(buf, row + i * Src::kBytes, static_cast<size_t>(n - i) * Src::kBytes);
  return Src::load(buf);
}

template <class WSrc, class XSrc>
struct FloatKernel {
  static constexpr int kR = 2, kC = 4, kR1 = 4;

  template <int R, int C>
  static void tile(const uint8_t* w, size_t ws, const uint8_t* a, size_t as, int64_t n, float* y,
                   int64_t ldy) {
    __m256 acc[R][C];
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c) acc[r][c] = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
      __m256 wv[R];
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        prefetch_ahead(w + r * ws + i * WSrc::kBytes, 8 * WSrc::kBytes);
        wv[r] = WSrc::load(w + r * ws + i * WSrc::kBytes);
      }
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) {
        const __m256 xv = XSrc::load(a + c * as + i * XSrc::kBytes);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) acc[r][c] = _mm256_fmadd_ps(wv[r], xv, acc[r][c]);
      }
    }
    if (i < n) {
      __m256 wv[R];
      for (int r = 0; r < R; ++r) wv[r] = load_tail<WSrc>(w + r * ws, i, n);
      for (int c = 0; c < C; ++c) {
        const __m256 xv = load_tail<XSrc>(a + c * as, i, n);
        for (int r = 0; r < R; ++r) acc[r][c] = _mm256_fmadd_ps(wv[r], xv, acc[r][c]);
      }
    }
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c) y[c * ldy + r] = hsum(acc[r][c]);
  }
};

}  // namespace

void register_float(KernelTable* t) {
  entry(t, DType::F32).gemm = gemm_tiles<FloatKernel<F32Src, F32Src>>;
  entry(t, DType::F16).gemm = gemm_tiles<FloatKernel<F16Src, F32Src>>;
  entry(t, DType::BF16).gemm = gemm_tiles<FloatKernel<BF16Src, BF16Src>>;
}

}  // namespace sf::kernels::avx2
