// AVX-512 kernels for the K-quants (Q2_K .. Q6_K) against Q8_K activations.
//
// A 256-element super-block is four chunks of 64. Per chunk, the 64 unsigned
// levels (natural element order) meet 64 int8 activations in vpmaddubsw
// (int16 pair sums, no saturation: levels <= 63), and vpdpwssd multiplies
// those by the int16 sub-block scales into int32 lanes. So a super-block ends
// as exact int32 partial sums of sum_s scale_s * dot_s. Then:
//   mins (Q2_K, Q4_K, Q5_K): sum_s min_s * bsum_s by vpmaddwd, and
//     term = (d * dx) * isum - (dmin * dx) * msum, per lane in float;
//   offsets (Q3_K: 4, Q6_K: 32): isum -= offset * sum_s scale_s * bsum_s
//     in int32, then term = (d * dx) * isum.
// GCC 12's AVX-512 headers pass _mm512_undefined_*() as the merge source of
// unmasked intrinsics, which -Wuninitialized misreports (GCC bug 105593).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstring>

#include "core/kernels/act_layout.h"
#include "core/kernels/prefetch.h"
#include "core/kernels/registry.h"
#include "core/kernels/tile_driver.h"
#include "core/kernels/x86_loads.h"

namespace sf::kernels::avx512 {
namespace {

// [v >> s0 | v >> s1] & mask, as 64 bytes (the shifts stay inside each byte's
// kept bits).
inline __m512i split2(__m256i v, int s0, int s1, char mask) {
  const __m512i z = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_srli_epi16(v, s0)),
                                       _mm256_srli_epi16(v, s1), 1);
  return _mm512_and_si512(z, _mm512_set1_epi8(mask));
}

// Byte mask of bit 2j (first 32 bytes) and bit 2j+1 (last 32) of the 32 bytes at p.
inline __mmask64 bit_pair_mask(const uint8_t* p, int j) {
  const __m512i v = _mm512_broadcast_i64x4(load256(p));
  const __m512i bits = _mm512_inserti64x4(_mm512_set1_epi8(static_cast<char>(1 << (2 * j))),
                                          _mm256_set1_epi8(static_cast<char>(1 << (2 * j + 1))), 1);
  return _mm512_test_epi8_mask(v, bits);
}

// Per-row data of one super-block.
struct Head {
  __m256i sc;  // int16 scales: lanes 0..15 (16-element sub-blocks) or 0..7 (32-element)
  __m256i mb;  // int16 multipliers of the 16 activation bsums (mins or scales)
  float d, dmin;
};

// Scale pattern for chunk j: int16 lane i of the 32 maddubs pair sums covers
// elements 64j + 2i, 2i+1.
template <bool kSub32>
inline __m512i scale_idx(int j) {
  if (kSub32)
    return _mm512_inserti64x4(_mm512_set1_epi16(static_cast<short>(2 * j)),
                              _mm256_set1_epi16(static_cast<short>(2 * j + 1)), 1);
  const __m512i lane = _mm512_setr_epi64(0, 0, 1, 1, 2, 2, 3, 3);  // 128-bit lane number
  const __m512i k = _mm512_or_si512(lane, _mm512_slli_epi64(lane, 16));
  const __m512i k4 = _mm512_or_si512(k, _mm512_slli_epi64(k, 32));  // lane number in every int16
  return _mm512_add_epi16(k4, _mm512_set1_epi16(static_cast<short>(4 * j)));
}

// Q4_K / Q5_K 6-bit scales and mins: [sc0..7, mn0..7] as int16. With the
// 12 bytes as words u0 u1 u2: sc0..3 = u0 & 0x3f.., mn0..3 = u1 & 0x3f..,
// sc4..7 = (u2 & 0x0f..) | (u0 >> 6 & 3) << 4, mn4..7 = (u2 >> 4 & 0x0f..) | (u1 >> 6 & 3) << 4.
inline __m256i k4_scales(const uint8_t* s) {
  const __m128i v = load128(s);  // 12 scale bytes + 4 of the block's next field
  const __m128i a = _mm_shuffle_epi32(v, _MM_SHUFFLE(2, 1, 2, 0));  // u0 u2 u1 u2
  const __m128i b = _mm_shuffle_epi32(v, _MM_SHUFFLE(1, 1, 0, 0));  // u0 u0 u1 u1
  const __m128i lo = _mm_and_si128(_mm_srlv_epi32(a, _mm_setr_epi32(0, 0, 0, 4)),
                                   _mm_setr_epi32(0x3f3f3f3f, 0x0f0f0f0f, 0x3f3f3f3f, 0x0f0f0f0f));
  const __m128i hi =
      _mm_and_si128(_mm_srli_epi32(b, 2), _mm_setr_epi32(0, 0x30303030, 0, 0x30303030));
  return _mm256_cvtepu8_epi16(_mm_or_si128(lo, hi));
}

// Each of the 8 mins (int16 lanes 8..15) twice: one per 16-element bsum.
inline __m256i k4_min_pairs(__m256i scmn) {
  const __m256i idx = _mm256_setr_epi16(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15);
  return _mm256_permutexvar_epi16(idx, scmn);
}

struct Q2KP {
  static constexpr int kBytes = 84, kShift = -1;
  static constexpr bool kSub32 = false;
  static Head head(const uint8_t* b) {
    const __m128i s = load128(b);
    const __m128i lo = _mm_and_si128(s, _mm_set1_epi8(0x0F));
    const __m128i hi = _mm_and_si128(_mm_srli_epi16(s, 4), _mm_set1_epi8(0x0F));
    return {_mm256_cvtepu8_epi16(lo), _mm256_cvtepu8_epi16(hi), h2f(b + 80), h2f(b + 82)};
  }
  template <int J>
  static __m512i levels(const uint8_t* b) {
    return split2(load256(b + 16 + 32 * (J / 2)), 4 * (J % 2), 4 * (J % 2) + 2, 3);
  }
};

struct Q3KP {
  static constexpr int kBytes = 110, kShift = 2;
  static constexpr bool kSub32 = false;
  static Head head(const uint8_t* b) {
    const uint8_t* s = b + 96;
    const __m128i v8 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(s));
    const __m128i lo =
        _mm_unpacklo_epi64(_mm_and_si128(v8, _mm_set1_epi8(0x0F)),
                           _mm_and_si128(_mm_srli_epi16(v8, 4), _mm_set1_epi8(0x0F)));
    const __m128i hv = _mm_set1_epi32(static_cast<int>(read<uint32_t>(s + 8)));
    const __m128i hi =
        _mm_and_si128(_mm_srlv_epi32(hv, _mm_setr_epi32(0, 2, 4, 6)), _mm_set1_epi8(3));
    const __m128i sc8 = _mm_sub_epi8(_mm_or_si128(lo, _mm_slli_epi16(hi, 4)), _mm_set1_epi8(32));
    const __m256i sc = _mm256_cvtepi8_epi16(sc8);
    return {sc, sc, h2f(b + 108), 0.f};
  }
  template <int J>
  static __m512i levels(const uint8_t* b) {
    const __m512i low = split2(load256(b + 32 + 32 * (J / 2)), 4 * (J % 2), 4 * (J % 2) + 2, 3);
    return _mm512_mask_add_epi8(low, bit_pair_mask(b, J), low, _mm512_set1_epi8(4));
  }
};

struct Q4KP {
  static constexpr int kBytes = 144, kShift = -1;
  static constexpr bool kSub32 = true;
  static Head head(const uint8_t* b) {
    const __m256i scmn = k4_scales(b + 4);
    return {scmn, k4_min_pairs(scmn), h2f(b), h2f(b + 2)};
  }
  template <int J>
  static __m512i levels(const uint8_t* b) {
    return split2(load256(b + 16 + 32 * J), 0, 4, 0x0F);
  }
};

struct Q5KP {
  static constexpr int kBytes = 176, kShift = -1;
  static constexpr bool kSub32 = true;
  static Head head(const uint8_t* b) {
    const __m256i scmn = k4_scales(b + 4);
    return {scmn, k4_min_pairs(scmn), h2f(b), h2f(b + 2)};
  }
  template <int J>
  static __m512i levels(const uint8_t* b) {
    const __m512i low = split2(load256(b + 48 + 32 * J), 0, 4, 0x0F);
    return _mm512_mask_add_epi8(low, bit_pair_mask(b + 16, J), low, _mm512_set1_epi8(16));
  }
};

struct Q6KP {
  static constexpr int kBytes = 210, kShift = 5;
  static constexpr bool kSub32 = false;
  static Head head(const uint8_t* b) {
    const __m256i sc = _mm256_cvtepi8_epi16(load128(b + 192));
    return {sc, sc, h2f(b + 208), 0.f};
  }
  template <int J>
  static __m512i levels(const uint8_t* b) {
    const __m512i ql = _mm512_loadu_si512(b + 64 * (J / 2));
    const __m512i low =
        _mm512_and_si512(J % 2 ? _mm512_srli_epi16(ql, 4) : ql, _mm512_set1_epi8(0x0F));
    const __m512i high = split2(load256(b + 128 + 32 * (J / 2)), 4 * (J % 2), 4 * (J % 2) + 2, 3);
    return _mm512_or_si512(low, _mm512_slli_epi16(high, 4));
  }
};

template <class P, int R1, int RR, int CC>
struct KKernel {
  static constexpr int kR = RR, kC = CC, kR1 = R1;

  template <int J, int R, int C>
  static inline void chunk(const uint8_t* w, size_t ws, const uint8_t* a, size_t as, int64_t sb,
                           const Head (&h)[R], __m512i (&ia)[R][C]) {
    const __m512i idx = scale_idx<P::kSub32>(J);
    __m512i wq[R], sc[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      wq[r] = P::template levels<J>(w + r * ws + sb * P::kBytes);
      sc[r] = _mm512_permutexvar_epi16(idx, _mm512_castsi256_si512(h[r].sc));
    }
#pragma GCC unroll 8
    for (int c = 0; c < C; ++c) {
      const __m512i x = _mm512_loadu_si512(a + c * as + 256 * sb + 64 * J);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r)
        ia[r][c] = _mm512_dpwssd_epi32(ia[r][c], _mm512_maddubs_epi16(wq[r], x), sc[r]);
    }
  }

  template <int R, int C>
  static void tile(const uint8_t* w, size_t ws, const uint8_t* a, size_t as, int64_t n, float* y,
                   int64_t ldy) {
    __m512 acc[R][C];
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
    for (int64_t sb = 0; sb < n / 256; ++sb) {
      Head h[R];
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        prefetch_ahead(w + r * ws + sb * P::kBytes, P::kBytes);
        h[r] = P::head(w + r * ws + sb * P::kBytes);
      }
      __m512i ia[R][C];
      for (int r = 0; r < R; ++r)
        for (int c = 0; c < C; ++c) ia[r][c] = _mm512_setzero_si512();
      chunk<0>(w, ws, a, as, sb, h, ia);
      chunk<1>(w, ws, a, as, sb, h, ia);
      chunk<2>(w, ws, a, as, sb, h, ia);
      chunk<3>(w, ws, a, as, sb, h, ia);
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) {
        const uint8_t* ac = a + c * as;
        const float dx = reinterpret_cast<const float*>(ac + layout::q8_k_d(n))[sb];
        const __m256i bs = load256(ac + layout::q8_k_bsums(n) + 32 * sb);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
          const __m256i m = _mm256_madd_epi16(h[r].mb, bs);
          if constexpr (P::kShift >= 0) {
            const __m512i corr = _mm512_zextsi256_si512(_mm256_slli_epi32(m, P::kShift));
            const __m512i is = _mm512_sub_epi32(ia[r][c], corr);
            acc[r][c] =
                _mm512_fmadd_ps(_mm512_cvtepi32_ps(is), _mm512_set1_ps(h[r].d * dx), acc[r][c]);
          } else {
            acc[r][c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(ia[r][c]), _mm512_set1_ps(h[r].d * dx),
                                        acc[r][c]);
            acc[r][c] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(_mm512_zextsi256_si512(m)),
                                         _mm512_set1_ps(h[r].dmin * dx), acc[r][c]);
          }
        }
      }
    }
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c) y[c * ldy + r] = _mm512_reduce_add_ps(acc[r][c]);
  }
};

}  // namespace

void register_kquant(KernelTable* t) {
  entry(t, DType::Q2_K).gemm = gemm_tiles<KKernel<Q2KP, 4, 2, 4>>;
  entry(t, DType::Q3_K).gemm = gemm_tiles<KKernel<Q3KP, 4, 2, 4>>;
  entry(t, DType::Q4_K).gemm = gemm_tiles<KKernel<Q4KP, 4, 2, 4>>;
  entry(t, DType::Q5_K).gemm = gemm_tiles<KKernel<Q5KP, 4, 2, 4>>;
  entry(t, DType::Q6_K).gemm = gemm_tiles<KKernel<Q6KP, 4, 2, 4>>;
}

}  // namespace sf::kernels::avx512
