// AVX2/FMA GEMM pieces for core/gemm.cpp (layouts in gemm_kernels.h): a 6 x 16
// f32 tile (12 ymm accumulators, two B vectors and one broadcast per k step).
// Bf16 precision on this level rounds the inputs to bf16 while packing and
// uses the same f32 kernel. Panels whose source rows run along k go through
// 8 x 8 register transposes.
#include <immintrin.h>

#include <algorithm>
#include <utility>

#include "core/kernels/gemm_kernels.h"

namespace sf::gemm_detail::avx2 {
namespace {

constexpr int kMr = 6;
constexpr int kNr = 16;

// Lane mask for maskload/maskstore: the first clamp(n, 0, 8) lanes.
inline __m256i lane_mask(int64_t n) {
  const int c = static_cast<int>(std::clamp<int64_t>(n, 0, 8));
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(c), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

inline __m256 round_bf16(__m256 x) {
  const __m256i u = _mm256_castps_si256(x);
  const __m256i odd = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
  __m256i r = _mm256_add_epi32(u, _mm256_add_epi32(_mm256_set1_epi32(0x7fff), odd));
  r = _mm256_and_si256(r, _mm256_set1_epi32(static_cast<int>(0xffff0000u)));
  const __m256 nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
  return _mm256_blendv_ps(_mm256_castsi256_ps(r), x, nan);
}

template <bool Round>
inline __m256 load_f32(const float* p, __m256i m) {
  const __m256 v = _mm256_maskload_ps(p, m);
  if constexpr (Round) return round_bf16(v);
  return v;
}

// In place: r[i] (row i) becomes column i of the 8 x 8 block.
inline void transpose8(__m256 r[8]) {
  __m256 t[8], s[8];
#pragma GCC unroll 4
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
#pragma GCC unroll 2
  for (int i = 0; i < 8; i += 4) {
    s[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    s[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    s[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    s[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
#pragma GCC unroll 4
  for (int c = 0; c < 4; ++c) {
    r[c] = _mm256_permute2f128_ps(s[c], s[4 + c], 0x20);
    r[4 + c] = _mm256_permute2f128_ps(s[c], s[4 + c], 0x31);
  }
}

// `rows` (<= 8) source rows of `len` floats along k into dst[k * dstride + row]
// (lanes of smask; rows past `rows` as 0).
template <bool Round>
void pack_rows(const float* src, int64_t ld, int rows, int64_t len, float* dst, int64_t dstride,
               __m256i smask) {
  for (int64_t k0 = 0; k0 < len; k0 += 8) {
    const int64_t n = std::min<int64_t>(8, len - k0);
    const __m256i lm = lane_mask(n);
    __m256 r[8];
#pragma GCC unroll 8
    for (int i = 0; i < 8; ++i)
      r[i] = i < rows ? load_f32<Round>(src + i * ld + k0, lm) : _mm256_setzero_ps();
    transpose8(r);
    float* d = dst + k0 * dstride;
#pragma GCC unroll 8
    for (int t = 0; t < 8; ++t)
      if (t < n) _mm256_maskstore_ps(d + t * dstride, smask, r[t]);
  }
}

template <bool Round>
void pack_a(const float* a, int64_t lda, bool trans, int64_t mc, int64_t kc, void* dst) {
  float* d = static_cast<float*>(dst);
  const __m256i mr_mask = lane_mask(kMr);
  for (int64_t i0 = 0; i0 < mc; i0 += kMr, d += kMr * kc) {
    const int r = static_cast<int>(std::min<int64_t>(kMr, mc - i0));
    if (!trans) {
      pack_rows<Round>(a + i0 * lda, lda, r, kc, d, kMr, mr_mask);
    } else {
      const __m256i lm = lane_mask(r);
      for (int64_t p = 0; p < kc; ++p)
        _mm256_maskstore_ps(d + p * kMr, mr_mask, load_f32<Round>(a + p * lda + i0, lm));
    }
  }
}

template <bool Round>
void pack_b(const float* b, int64_t ldb, bool trans, int64_t kc, int64_t nc, void* dst) {
  float* d = static_cast<float*>(dst);
  const __m256i all = _mm256_set1_epi32(-1);
  for (int64_t j0 = 0; j0 < nc; j0 += kNr, d += kNr * kc) {
    const int64_t w = std::min<int64_t>(kNr, nc - j0);
    if (trans) {
      const float* s = b + j0 * ldb;
      pack_rows<Round>(s, ldb, static_cast<int>(std::min<int64_t>(8, w)), kc, d, kNr, all);
      pack_rows<Round>(s + 8 * ldb, ldb, static_cast<int>(std::max<int64_t>(0, w - 8)), kc, d + 8,
                       kNr, all);
    } else {
      const __m256i m0 = lane_mask(w), m1 = lane_mask(w - 8);
      const float* s = b + j0;
      for (int64_t p = 0; p < kc; ++p) {
        _mm256_storeu_ps(d + p * kNr, load_f32<Round>(s + p * ldb, m0));
        _mm256_storeu_ps(d + p * kNr + 8, load_f32<Round>(s + p * ldb + 8, m1));
      }
    }
  }
}

template <int R>
void micro(int64_t kp, const void* av, const void* bv, float* c, int64_t ldc, float alpha,
           float beta, int ncols) {
  const float* a = static_cast<const float*>(av);
  const float* b = static_cast<const float*>(bv);
  __m256 acc[R][2];
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i) _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
#pragma GCC unroll 2
  for (int64_t s = 0; s < kp; ++s) {
    const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) {
      const __m256 ai = _mm256_broadcast_ss(a + i);
      acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
      acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
    }
    a += kMr;
    b += kNr;
  }
  const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
  if (ncols == kNr) {
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) {
      float* cr = c + i * ldc;
      __m256 v0 = _mm256_mul_ps(va, acc[i][0]), v1 = _mm256_mul_ps(va, acc[i][1]);
      if (beta != 0.0f) {
        v0 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr), v0);
        v1 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr + 8), v1);
      }
      _mm256_storeu_ps(cr, v0);
      _mm256_storeu_ps(cr + 8, v1);
    }
  } else {
    const __m256i m0 = lane_mask(ncols), m1 = lane_mask(ncols - 8);
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) {
      float* cr = c + i * ldc;
      __m256 v0 = _mm256_mul_ps(va, acc[i][0]), v1 = _mm256_mul_ps(va, acc[i][1]);
      if (beta != 0.0f) {
        v0 = _mm256_fmadd_ps(vb, _mm256_maskload_ps(cr, m0), v0);
        v1 = _mm256_fmadd_ps(vb, _mm256_maskload_ps(cr + 8, m1), v1);
      }
      _mm256_maskstore_ps(cr, m0, v0);
      _mm256_maskstore_ps(cr + 8, m1, v1);
    }
  }
}

template <int... R>
void fill_micro(Kernel& k, std::integer_sequence<int, R...>) {
  ((k.micro[R + 1] = micro<R + 1>), ...);
}

template <bool Round>
Kernel make() {
  Kernel k{};
  k.name = Round ? "avx2-f32(bf16 inputs)" : "avx2-f32";
  k.mr = kMr;
  k.nr = kNr;
  k.kpack = 1;
  k.mc = kMr * 340;  // 2040 rows
  k.kc = 256;        // A micro-panel 6 KB and B micro-panel 16 KB in L1
  k.nc = 512;        // B block 512 KB in L2
  fill_micro(k, std::make_integer_sequence<int, kMr>{});
  k.pack_a = pack_a<Round>;
  k.pack_b = pack_b<Round>;
  return k;
}

}  // namespace

const Kernel* f32_kernel(bool round_bf16) {
  static const Kernel plain = make<false>();
  static const Kernel rounded = make<true>();
  return round_bf16 ? &rounded : &plain;
}

}  // namespace sf::gemm_detail::avx2
