// AVX-512 GEMM pieces for core/gemm.cpp (layouts in gemm_kernels.h).
//
// f32: 14 x 32 tile, 28 zmm accumulators; per k step two B vectors are loaded
// and each A value is broadcast once and used by two FMAs.
// bf16: the same tile over bf16 pairs with vdpbf16ps (two k per instruction);
// the packers convert f32 -> bf16 with vcvtne2ps2bf16 (round to nearest even;
// it and vdpbf16ps treat denormals as zero). Used where vdpbf16ps is fast
// (Bf16Path in gemm_kernels.h); elsewhere Bf16 runs the f32 kernel on inputs
// the packers round to bf16 (round_bf16, exactly gemm_ref's rounding).
// Packers: panels whose source rows run along k (A not transposed, B
// transposed) go through 16 x 16 register transposes; the others are masked
// row copies.
// GCC 12's AVX-512 headers pass _mm512_undefined_*() as the merge source of
// unmasked intrinsics, which -Wuninitialized misreports (GCC bug 105593).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <utility>

#include "core/kernels/gemm_kernels.h"

namespace sf::gemm_detail::avx512 {
namespace {

constexpr int kMr = 14;
constexpr int kNr = 32;
constexpr __mmask16 kMrMask = (1u << kMr) - 1;

inline __mmask16 lane_mask(int64_t n) {  // the first min(n, 16) lanes (n may be <= 0)
  return n >= 16 ? __mmask16(0xffff) : n <= 0 ? __mmask16(0) : __mmask16((1u << n) - 1);
}

// f32 -> bf16 -> f32, round to nearest even, NaN kept (matches gemm_ref).
inline __m512 round_bf16(__m512 x) {
  const __m512i u = _mm512_castps_si512(x);
  const __m512i odd = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
  __m512i r = _mm512_add_epi32(u, _mm512_add_epi32(_mm512_set1_epi32(0x7fff), odd));
  r = _mm512_and_si512(r, _mm512_set1_epi32(static_cast<int>(0xffff0000u)));
  const __mmask16 nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
  return _mm512_mask_blend_ps(nan, _mm512_castsi512_ps(r), x);
}

template <bool Round>
inline __m512 load_f32(const float* p, __mmask16 m) {
  const __m512 v = _mm512_maskz_loadu_ps(m, p);
  if constexpr (Round) return round_bf16(v);
  return v;
}

// In place: r[i] (row i) becomes column i of the 16 x 16 block of 32-bit lanes.
inline void transpose16(__m512 r[16]) {
  __m512 t[16];
#pragma GCC unroll 8
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
#pragma GCC unroll 4
  for (int i = 0; i < 16; i += 4) {
    const __m512d a = _mm512_castps_pd(t[i]), b = _mm512_castps_pd(t[i + 1]);
    const __m512d c = _mm512_castps_pd(t[i + 2]), d = _mm512_castps_pd(t[i + 3]);
    r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
    r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
    r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
    r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
  }
  // r[4q + c] now holds, in 128-bit lane L, column 4L + c of rows 4q .. 4q+3.
#pragma GCC unroll 4
  for (int c = 0; c < 4; ++c) {
    t[c] = _mm512_shuffle_f32x4(r[c], r[4 + c], 0x88);
    t[4 + c] = _mm512_shuffle_f32x4(r[c], r[4 + c], 0xdd);
    t[8 + c] = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0x88);
    t[12 + c] = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0xdd);
  }
#pragma GCC unroll 8
  for (int c = 0; c < 8; ++c) {
    r[c] = _mm512_shuffle_f32x4(t[c], t[8 + c], 0x88);
    r[8 + c] = _mm512_shuffle_f32x4(t[c], t[8 + c], 0xdd);
  }
}

// ---- f32 packers ----

// `rows` (<= 16) source rows of `len` floats along k (row stride ld) into
// dst[k * dstride + row], writing the lanes of `smask` (rows past `rows` as 0).
template <bool Round>
void pack_rows_f32(const float* src, int64_t ld, int rows, int64_t len, float* dst, int64_t dstride,
                   __mmask16 smask) {
  for (int64_t k0 = 0; k0 < len; k0 += 16) {
    const int64_t n = std::min<int64_t>(16, len - k0);
    const __mmask16 lm = lane_mask(n);
    __m512 r[16];
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i)
      r[i] = i < rows ? load_f32<Round>(src + i * ld + k0, lm) : _mm512_setzero_ps();
    transpose16(r);
    float* d = dst + k0 * dstride;
    if (n == 16) {
#pragma GCC unroll 16
      for (int t = 0; t < 16; ++t) _mm512_mask_storeu_ps(d + t * dstride, smask, r[t]);
    } else {
#pragma GCC unroll 16
      for (int t = 0; t < 16; ++t)
        if (t < n) _mm512_mask_storeu_ps(d + t * dstride, smask, r[t]);
    }
  }
}

// k-major sources (A transposed, B not) are read kGroup rows at a time across
// all panels of the block, so each source row is read as one sequential stream.
constexpr int64_t kGroup = 8;

template <bool Round>
void pack_a_f32(const float* a, int64_t lda, bool trans, int64_t mc, int64_t kc, void* dst) {
  float* d = static_cast<float*>(dst);
  if (!trans) {
    for (int64_t i0 = 0; i0 < mc; i0 += kMr, d += kMr * kc)
      pack_rows_f32<Round>(a + i0 * lda, lda, static_cast<int>(std::min<int64_t>(kMr, mc - i0)), kc,
                           d, kMr, kMrMask);
    return;
  }
  for (int64_t p0 = 0; p0 < kc; p0 += kGroup) {
    const int64_t pe = std::min(kc, p0 + kGroup);
    float* dp = d;
    for (int64_t i0 = 0; i0 < mc; i0 += kMr, dp += kMr * kc) {
      const __mmask16 lm = lane_mask(std::min<int64_t>(kMr, mc - i0));
      for (int64_t p = p0; p < pe; ++p)
        _mm512_mask_storeu_ps(dp + p * kMr, kMrMask, load_f32<Round>(a + p * lda + i0, lm));
    }
  }
}

template <bool Round>
void pack_b_f32(const float* b, int64_t ldb, bool trans, int64_t kc, int64_t nc, void* dst) {
  float* d = static_cast<float*>(dst);
  if (trans) {
    for (int64_t j0 = 0; j0 < nc; j0 += kNr, d += kNr * kc) {
      const int64_t w = std::min<int64_t>(kNr, nc - j0);
      const float* s = b + j0 * ldb;
      pack_rows_f32<Round>(s, ldb, static_cast<int>(std::min<int64_t>(16, w)), kc, d, kNr, 0xffff);
      if (w > 16) {
        pack_rows_f32<Round>(s + 16 * ldb, ldb, static_cast<int>(w - 16), kc, d + 16, kNr, 0xffff);
      } else {
        for (int64_t p = 0; p < kc; ++p) _mm512_storeu_ps(d + p * kNr + 16, _mm512_setzero_ps());
      }
    }
    return;
  }
  for (int64_t p0 = 0; p0 < kc; p0 += kGroup) {
    const int64_t pe = std::min(kc, p0 + kGroup);
    float* dp = d;
    for (int64_t j0 = 0; j0 < nc; j0 += kNr, dp += kNr * kc) {
      const int64_t w = std::min<int64_t>(kNr, nc - j0);
      const __mmask16 m0 = lane_mask(w), m1 = lane_mask(w - 16);
      for (int64_t p = p0; p < pe; ++p) {
        const float* s = b + p * ldb + j0;
        _mm512_storeu_ps(dp + p * kNr, load_f32<Round>(s, m0));
        _mm512_storeu_ps(dp + p * kNr + 16, load_f32<Round>(s + 16, m1));
      }
    }
  }
}

// ---- bf16-pair packers (AVX512-BF16) ----

// 32 floats along k (lanes past n zero) -> 16 pairs (k even low, k odd high).
inline __m512 pairs_along_k(const float* p, int64_t n) {
  const __m512 lo = _mm512_maskz_loadu_ps(lane_mask(n), p);
  const __m512 hi = _mm512_maskz_loadu_ps(lane_mask(n - 16), p + 16);
  return _mm512_castsi512_ps((__m512i)_mm512_cvtne2ps_pbh(hi, lo));
}

// Two rows k0 (x0) and k0 + 1 (x1) -> 16 pairs (x0[i], x1[i]).
inline __m512i pairs_across(__m512 x0, __m512 x1) {
  const __m512i words = (__m512i)_mm512_cvtne2ps_pbh(x1, x0);
  const __m512i idx = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8,
                                       23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  return _mm512_permutexvar_epi16(idx, words);
}

// `rows` (<= 16) source rows of `len` floats along k into pairs
// dst[s * dstride + row] (s = k / 2), lanes of `smask`.
void pack_rows_bf16(const float* src, int64_t ld, int rows, int64_t len, uint32_t* dst,
                    int64_t dstride, __mmask16 smask) {
  for (int64_t k0 = 0; k0 < len; k0 += 32) {
    const int64_t n = std::min<int64_t>(32, len - k0);
    const int64_t pairs = (n + 1) / 2;
    __m512 r[16];
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i)
      r[i] = i < rows ? pairs_along_k(src + i * ld + k0, n) : _mm512_setzero_ps();
    transpose16(r);
    uint32_t* d = dst + (k0 / 2) * dstride;
    if (pairs == 16) {
#pragma GCC unroll 16
      for (int t = 0; t < 16; ++t)
        _mm512_mask_storeu_epi32(d + t * dstride, smask, _mm512_castps_si512(r[t]));
    } else {
#pragma GCC unroll 16
      for (int t = 0; t < 16; ++t)
        if (t < pairs) _mm512_mask_storeu_epi32(d + t * dstride, smask, _mm512_castps_si512(r[t]));
    }
  }
}

// k-major source rows p0 .. pe (p0 even) of one panel: `width` <= 16 values
// along i/j into pairs dst[(p / 2) * dstride + lane].
inline void pack_cols_bf16(const float* src, int64_t ld, int64_t width, int64_t p0, int64_t pe,
                           uint32_t* dst, int64_t dstride, __mmask16 smask) {
  const __mmask16 lm = lane_mask(width);
  int64_t p = p0;
  for (; p + 1 < pe; p += 2) {
    const __m512 x0 = _mm512_maskz_loadu_ps(lm, src + p * ld);
    const __m512 x1 = _mm512_maskz_loadu_ps(lm, src + (p + 1) * ld);
    _mm512_mask_storeu_epi32(dst + (p / 2) * dstride, smask, pairs_across(x0, x1));
  }
  if (p < pe) {
    const __m512 x0 = _mm512_maskz_loadu_ps(lm, src + p * ld);
    _mm512_mask_storeu_epi32(dst + (p / 2) * dstride, smask, pairs_across(x0, _mm512_setzero_ps()));
  }
}

void pack_a_bf16(const float* a, int64_t lda, bool trans, int64_t mc, int64_t kc, void* dst) {
  uint32_t* d = static_cast<uint32_t*>(dst);
  const int64_t kp = (kc + 1) / 2;
  if (!trans) {
    for (int64_t i0 = 0; i0 < mc; i0 += kMr, d += kMr * kp)
      pack_rows_bf16(a + i0 * lda, lda, static_cast<int>(std::min<int64_t>(kMr, mc - i0)), kc, d,
                     kMr, kMrMask);
    return;
  }
  for (int64_t p0 = 0; p0 < kc; p0 += 2 * kGroup) {
    const int64_t pe = std::min(kc, p0 + 2 * kGroup);
    uint32_t* dp = d;
    for (int64_t i0 = 0; i0 < mc; i0 += kMr, dp += kMr * kp)
      pack_cols_bf16(a + i0, lda, std::min<int64_t>(kMr, mc - i0), p0, pe, dp, kMr, kMrMask);
  }
}

void pack_b_bf16(const float* b, int64_t ldb, bool trans, int64_t kc, int64_t nc, void* dst) {
  uint32_t* d = static_cast<uint32_t*>(dst);
  const int64_t kp = (kc + 1) / 2;
  if (trans) {
    for (int64_t j0 = 0; j0 < nc; j0 += kNr, d += kNr * kp) {
      const int64_t w = std::min<int64_t>(kNr, nc - j0);
      const float* s = b + j0 * ldb;
      pack_rows_bf16(s, ldb, static_cast<int>(std::min<int64_t>(16, w)), kc, d, kNr, 0xffff);
      pack_rows_bf16(s + 16 * ldb, ldb, static_cast<int>(std::max<int64_t>(0, w - 16)), kc, d + 16,
                     kNr, 0xffff);
    }
    return;
  }
  for (int64_t p0 = 0; p0 < kc; p0 += 2 * kGroup) {
    const int64_t pe = std::min(kc, p0 + 2 * kGroup);
    uint32_t* dp = d;
    for (int64_t j0 = 0; j0 < nc; j0 += kNr, dp += kNr * kp) {
      const int64_t w = std::min<int64_t>(kNr, nc - j0);
      pack_cols_bf16(b + j0, ldb, std::min<int64_t>(16, w), p0, pe, dp, kNr, 0xffff);
      pack_cols_bf16(b + j0 + 16, ldb, w - 16, p0, pe, dp + 16, kNr, 0xffff);
    }
  }
}

// ---- microkernels ----

template <int R>
inline void store_tile(__m512 (&acc)[R][2], float* c, int64_t ldc, float alpha, float beta,
                       int ncols) {
  const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
  if (ncols == kNr) {
#pragma GCC unroll 16
    for (int i = 0; i < R; ++i) {
      float* cr = c + i * ldc;
      __m512 v0 = _mm512_mul_ps(va, acc[i][0]), v1 = _mm512_mul_ps(va, acc[i][1]);
      if (beta != 0.0f) {
        v0 = _mm512_fmadd_ps(vb, _mm512_loadu_ps(cr), v0);
        v1 = _mm512_fmadd_ps(vb, _mm512_loadu_ps(cr + 16), v1);
      }
      _mm512_storeu_ps(cr, v0);
      _mm512_storeu_ps(cr + 16, v1);
    }
  } else {
    const __mmask16 m0 = lane_mask(ncols), m1 = lane_mask(ncols - 16);
#pragma GCC unroll 16
    for (int i = 0; i < R; ++i) {
      float* cr = c + i * ldc;
      __m512 v0 = _mm512_mul_ps(va, acc[i][0]), v1 = _mm512_mul_ps(va, acc[i][1]);
      if (beta != 0.0f) {
        v0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m0, cr), v0);
        v1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m1, cr + 16), v1);
      }
      _mm512_mask_storeu_ps(cr, m0, v0);
      _mm512_mask_storeu_ps(cr + 16, m1, v1);
    }
  }
}

// Prefetch (for writing) row r of the C tile: 32 floats, up to three lines.
inline void prefetch_c_row(const float* c, int64_t ldc, int64_t r) {
  const float* p = c + r * ldc;
  __builtin_prefetch(p, 1, 3);
  __builtin_prefetch(p + 16, 1, 3);
  __builtin_prefetch(p + kNr - 1, 1, 3);
}

// n k steps of the f32 tile; with Prefetch, step s also prefetches C row s (so
// the tile's lines arrive while the sums are computed, a few at a time).
template <int R, bool Prefetch>
inline void f32_steps(__m512 (&acc)[R][2], const float*& a, const float*& b, int64_t n,
                      const float* c, int64_t ldc) {
#pragma GCC unroll 2
  for (int64_t s = 0; s < n; ++s) {
    if constexpr (Prefetch) prefetch_c_row(c, ldc, s);
    const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
#pragma GCC unroll 16
    for (int i = 0; i < R; ++i) {
      const __m512 ai = _mm512_set1_ps(a[i]);
      acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
      acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
    }
    a += kMr;
    b += kNr;
  }
}

template <int R, bool Prefetch>
inline void bf16_steps(__m512 (&acc)[R][2], const int32_t*& a, const int32_t*& b, int64_t n,
                       const float* c, int64_t ldc) {
#pragma GCC unroll 2
  for (int64_t s = 0; s < n; ++s) {
    if constexpr (Prefetch) prefetch_c_row(c, ldc, s);
    const __m512bh b0 = (__m512bh)_mm512_loadu_si512(b);
    const __m512bh b1 = (__m512bh)_mm512_loadu_si512(b + 16);
#pragma GCC unroll 16
    for (int i = 0; i < R; ++i) {
      const __m512bh ai = (__m512bh)_mm512_set1_epi32(a[i]);
      acc[i][0] = _mm512_dpbf16_ps(acc[i][0], ai, b0);
      acc[i][1] = _mm512_dpbf16_ps(acc[i][1], ai, b1);
    }
    a += kMr;
    b += kNr;
  }
}

template <int R>
void micro_f32(int64_t kp, const void* av, const void* bv, float* c, int64_t ldc, float alpha,
               float beta, int ncols) {
  const float* a = static_cast<const float*>(av);
  const float* b = static_cast<const float*>(bv);
  __m512 acc[R][2];
#pragma GCC unroll 16
  for (int i = 0; i < R; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  const int64_t pre = std::min<int64_t>(kp, R);
  f32_steps<R, true>(acc, a, b, pre, c, ldc);
  f32_steps<R, false>(acc, a, b, kp - pre, c, ldc);
  if (pre < R)
    for (int64_t r = pre; r < R; ++r) prefetch_c_row(c, ldc, r);
  store_tile<R>(acc, c, ldc, alpha, beta, ncols);
}

template <int R>
void micro_bf16(int64_t kp, const void* av, const void* bv, float* c, int64_t ldc, float alpha,
                float beta, int ncols) {
  const int32_t* a = static_cast<const int32_t*>(av);
  const int32_t* b = static_cast<const int32_t*>(bv);
  __m512 acc[R][2];
#pragma GCC unroll 16
  for (int i = 0; i < R; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  const int64_t pre = std::min<int64_t>(kp, R);
  bf16_steps<R, true>(acc, a, b, pre, c, ldc);
  bf16_steps<R, false>(acc, a, b, kp - pre, c, ldc);
  if (pre < R)
    for (int64_t r = pre; r < R; ++r) prefetch_c_row(c, ldc, r);
  store_tile<R>(acc, c, ldc, alpha, beta, ncols);
}

template <int... R>
constexpr void fill_f32(Kernel& k, std::integer_sequence<int, R...>) {
  ((k.micro[R + 1] = micro_f32<R + 1>), ...);
}
template <int... R>
constexpr void fill_bf16(Kernel& k, std::integer_sequence<int, R...>) {
  ((k.micro[R + 1] = micro_bf16<R + 1>), ...);
}

template <bool Round>
Kernel make_f32() {
  Kernel k{};
  k.name = Round ? "avx512-f32(bf16 inputs)" : "avx512-f32";
  k.mr = kMr;
  k.nr = kNr;
  k.kpack = 1;
  k.mc = kMr * 146;  // 2044 rows: the trainer's M (<= 2048 tokens) in one block
  k.kc = 384;        // A micro-panel 14 x 384 x 4 = 21 KB stays in L1
  k.nc = 320;        // B block 384 x 320 x 4 = 480 KB stays in L2 (1 MB on Zen 4)
  fill_f32(k, std::make_integer_sequence<int, kMr>{});
  k.pack_a = pack_a_f32<Round>;
  k.pack_b = pack_b_f32<Round>;
  return k;
}

}  // namespace

const Kernel* f32_kernel(bool round_bf16) {
  static const Kernel plain = make_f32<false>();
  static const Kernel rounded = make_f32<true>();
  return round_bf16 ? &rounded : &plain;
}

const Kernel* bf16_kernel() {
  static const Kernel k = [] {
    Kernel k{};
    k.name = "avx512-bf16";
    k.mr = kMr;
    k.nr = kNr;
    k.kpack = 2;
    k.mc = kMr * 146;
    k.kc = 768;  // 384 pairs: the same bytes as the f32 kernel's blocks
    k.nc = 320;
    fill_bf16(k, std::make_integer_sequence<int, kMr>{});
    k.pack_a = pack_a_bf16;
    k.pack_b = pack_b_bf16;
    return k;
  }();
  return &k;
}

}  // namespace sf::gemm_detail::avx512
