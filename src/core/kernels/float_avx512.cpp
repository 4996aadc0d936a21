// AVX-512 kernels for F32, F16 and BF16 weights. F32/F16: 16 floats per step
// into one FMA accumulator per (row, column) pair, tails by masked loads.
// BF16: vdpbf16ps on 32 bf16 pairs per step (AVX512-BF16), or, on CPUs
// without it, bf16 widened to f32 and FMA.
// GCC 12's AVX-512 headers pass _mm512_undefined_*() as the merge source of
// unmasked intrinsics, which -Wuninitialized misreports (GCC bug 105593).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "core/kernels/prefetch.h"
#include "core/kernels/registry.h"
#include "core/kernels/tile_driver.h"

namespace sf::kernels::avx512 {
namespace {

// 16 elements starting at p, the lanes outside `m` zero.
struct F32Src {
  static constexpr int kBytes = 4;
  static __m512 load(const uint8_t* p) { return _mm512_loadu_ps(p); }
  static __m512 load(const uint8_t* p, __mmask16 m) { return _mm512_maskz_loadu_ps(m, p); }
};
struct F16Src {
  static constexpr int kBytes = 2;
  static __m512 load(const uint8_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static __m512 load(const uint8_t* p, __mmask16 m) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
  }
};
struct BF16Src {
  static constexpr int kBytes = 2;
  static __m512 widen(__m256i h) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
  static __m512 load(const uint8_t* p) {
    return widen(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static __m512 load(const uint8_t* p, __mmask16 m) {
    return widen(_mm256_maskz_loadu_epi16(m, p));
  }
};

template <class WSrc, class XSrc>
struct FmaKernel {
  static constexpr int kR = 4, kC = 4, kR1 = 4;

  template <int R, int C>
  static void tile(const uint8_t* w, size_t ws, const uint8_t* a, size_t as, int64_t n, float* y,
                   int64_t ldy) {
    __m512 acc[R][C];
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
      __m512 wv[R];
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        prefetch_ahead(w + r * ws + i * WSrc::kBytes, 16 * WSrc::kBytes);
        wv[r] = WSrc::load(w + r * ws + i * WSrc::kBytes);
      }
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) {
        const __m512 xv = XSrc::load(a + c * as + i * XSrc::kBytes);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) acc[r][c] = _mm512_fmadd_ps(wv[r], xv, acc[r][c]);
      }
    }
    if (i < n) {
      const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
      __m512 wv[R];
      for (int r = 0; r < R; ++r) wv[r] = WSrc::load(w + r * ws + i * WSrc::kBytes, m);
      for (int c = 0; c < C; ++c) {
        const __m512 xv = XSrc::load(a + c * as + i * XSrc::kBytes, m);
        for (int r = 0; r < R; ++r) acc[r][c] = _mm512_fmadd_ps(wv[r], xv, acc[r][c]);
      }
    }
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c) y[c * ldy + r] = _mm512_reduce_add_ps(acc[r][c]);
  }
};

// bf16 x bf16 with vdpbf16ps: each step takes 32 elements as 16 pairs.
struct Bf16DotKernel {
  static constexpr int kR = 4, kC = 4, kR1 = 4;

  static __m512bh load(const uint8_t* p) {
    return reinterpret_cast<__m512bh>(_mm512_loadu_si512(p));
  }
  static __m512bh load(const uint8_t* p, __mmask32 m) {
    return reinterpret_cast<__m512bh>(_mm512_maskz_loadu_epi16(m, p));
  }

  template <int R, int C>
  static void tile(const uint8_t* w, size_t ws, const uint8_t* a, size_t as, int64_t n, float* y,
                   int64_t ldy) {
    __m512 acc[R][C];
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
      __m512bh wv[R];
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        prefetch_ahead(w + r * ws + 2 * i, 64);
        wv[r] = load(w + r * ws + 2 * i);
      }
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) {
        const __m512bh xv = load(a + c * as + 2 * i);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) acc[r][c] = _mm512_dpbf16_ps(acc[r][c], wv[r], xv);
      }
    }
    if (i < n) {
      const __mmask32 m = static_cast<__mmask32>((1ull << (n - i)) - 1);
      __m512bh wv[R];
      for (int r = 0; r < R; ++r) wv[r] = load(w + r * ws + 2 * i, m);
      for (int c = 0; c < C; ++c) {
        const __m512bh xv = load(a + c * as + 2 * i, m);
        for (int r = 0; r < R; ++r) acc[r][c] = _mm512_dpbf16_ps(acc[r][c], wv[r], xv);
      }
    }
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c) y[c * ldy + r] = _mm512_reduce_add_ps(acc[r][c]);
  }
};

}  // namespace

void register_float(KernelTable* t, bool native_bf16) {
  entry(t, DType::F32).gemm = gemm_tiles<FmaKernel<F32Src, F32Src>>;
  entry(t, DType::F16).gemm = gemm_tiles<FmaKernel<F16Src, F32Src>>;
  entry(t, DType::BF16).gemm =
      native_bf16 ? gemm_tiles<Bf16DotKernel> : gemm_tiles<FmaKernel<BF16Src, BF16Src>>;
}

GemmFn bf16_fma_gemm() {
  return gemm_tiles<FmaKernel<BF16Src, BF16Src>>;
}

}  // namespace sf::kernels::avx512
