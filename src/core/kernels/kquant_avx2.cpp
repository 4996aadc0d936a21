// AVX2 kernels for the K-quants (Q2_K .. Q6_K) against Q8_K activations.
// The scheme of kquant_avx512.cpp in 32-element chunks: vpmaddubsw (levels x
// int8 activations -> int16 pair sums), vpmaddwd by the int16 sub-block
// scales, int32 adds; one exact int32 vector per super-block, then the same
// float combination with mins or offsets.
#include <immintrin.h>

#include <cstring>

#include "core/kernels/act_layout.h"
#include "core/kernels/prefetch.h"
#include "core/kernels/registry.h"
#include "core/kernels/tile_driver.h"
#include "core/kernels/x86_loads.h"

namespace sf::kernels::avx2 {
namespace {

inline __m256i bits(__m256i v, int shift, char mask) {
  return _mm256_and_si256(_mm256_srli_epi16(v, shift), _mm256_set1_epi8(mask));
}

// Per-row data of one super-block; sc holds the int16 sub-block scales
// (16 for 16-element sub-blocks, 8 for 32-element ones) for the pattern loads.
struct Head {
  alignas(32) int16_t sc[16];
  __m256i mb;  // int16 multipliers of the 16 activation bsums
  float d, dmin;
};

// Scales for chunk j (elements 32j..32j+31), per int16 pair-sum lane.
template <bool kSub32>
inline __m256i scale_pattern(const Head& h, int j) {
  if (kSub32) return _mm256_set1_epi16(h.sc[j]);
  // Sub-blocks 2j (lanes 0..7) and 2j+1 (lanes 8..15).
  const __m256i pair =
      _mm256_set1_epi32(read<int32_t>(reinterpret_cast<const uint8_t*>(h.sc + 2 * j)));
  const __m256i ctl = _mm256_setr_epi8(0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 2, 3, 2, 3,
                                       2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3);
  return _mm256_shuffle_epi8(pair, ctl);
}

inline void k4_head(const uint8_t* b, Head* h) {
  const uint8_t* s = b + 4;
  const uint32_t u0 = read<uint32_t>(s), u1 = read<uint32_t>(s + 4), u2 = read<uint32_t>(s + 8);
  const uint32_t sc_lo = u0 & 0x3f3f3f3fu, mn_lo = u1 & 0x3f3f3f3fu;
  const uint32_t sc_hi = (u2 & 0x0f0f0f0fu) | ((u0 >> 2) & 0x30303030u);
  const uint32_t mn_hi = ((u2 >> 4) & 0x0f0f0f0fu) | ((u1 >> 2) & 0x30303030u);
  const __m128i v = _mm_setr_epi32(static_cast<int>(sc_lo), static_cast<int>(sc_hi),
                                   static_cast<int>(mn_lo), static_cast<int>(mn_hi));
  _mm256_store_si256(reinterpret_cast<__m256i*>(h->sc), _mm256_cvtepu8_epi16(v));
  const __m128i pairs = _mm_shuffle_epi8(
      v, _mm_setr_epi8(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15));
  h->mb = _mm256_cvtepu8_epi16(pairs);
  h->d = h2f(b);
  h->dmin = h2f(b + 2);
}

struct Q2KP {
  static constexpr int kBytes = 84, kShift = -1;
  static constexpr bool kSub32 = false;
  static void head(const uint8_t* b, Head* h) {
    const __m128i s = load128(b);
    _mm256_store_si256(reinterpret_cast<__m256i*>(h->sc),
                       _mm256_cvtepu8_epi16(_mm_and_si128(s, _mm_set1_epi8(0x0F))));
    h->mb = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(s, 4), _mm_set1_epi8(0x0F)));
    h->d = h2f(b + 80);
    h->dmin = h2f(b + 82);
  }
  template <int J>
  static __m256i levels(const uint8_t* b) {
    return bits(load256(b + 16 + 32 * (J / 4)), 2 * (J % 4), 3);
  }
};

struct Q3KP {
  static constexpr int kBytes = 110, kShift = 2;
  static constexpr bool kSub32 = false;
  static void head(const uint8_t* b, Head* h) {
    const uint8_t* s = b + 96;
    const __m128i v8 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(s));
    const __m128i lo =
        _mm_unpacklo_epi64(_mm_and_si128(v8, _mm_set1_epi8(0x0F)),
                           _mm_and_si128(_mm_srli_epi16(v8, 4), _mm_set1_epi8(0x0F)));
    const __m128i hv = _mm_set1_epi32(static_cast<int>(read<uint32_t>(s + 8)));
    const __m128i hi =
        _mm_and_si128(_mm_srlv_epi32(hv, _mm_setr_epi32(0, 2, 4, 6)), _mm_set1_epi8(3));
    const __m128i sc8 = _mm_sub_epi8(_mm_or_si128(lo, _mm_slli_epi16(hi, 4)), _mm_set1_epi8(32));
    h->mb = _mm256_cvtepi8_epi16(sc8);
    _mm256_store_si256(reinterpret_cast<__m256i*>(h->sc), h->mb);
    h->d = h2f(b + 108);
    h->dmin = 0;
  }
  template <int J>
  static __m256i levels(const uint8_t* b) {
    const __m256i low = bits(load256(b + 32 + 32 * (J / 4)), 2 * (J % 4), 3);
    const __m256i high = bits(load256(b), J, 1);
    return _mm256_or_si256(low, _mm256_slli_epi16(high, 2));
  }
};

struct Q4KP {
  static constexpr int kBytes = 144, kShift = -1;
  static constexpr bool kSub32 = true;
  static void head(const uint8_t* b, Head* h) { k4_head(b, h); }
  template <int J>
  static __m256i levels(const uint8_t* b) {
    return bits(load256(b + 16 + 32 * (J / 2)), 4 * (J % 2), 0x0F);
  }
};

struct Q5KP {
  static constexpr int kBytes = 176, kShift = -1;
  static constexpr bool kSub32 = true;
  static void head(const uint8_t* b, Head* h) { k4_head(b, h); }
  template <int J>
  static __m256i levels(const uint8_t* b) {
    const __m256i low = bits(load256(b + 48 + 32 * (J / 2)), 4 * (J % 2), 0x0F);
    const __m256i high = bits(load256(b + 16), J, 1);
    return _mm256_or_si256(low, _mm256_slli_epi16(high, 4));
  }
};

struct Q6KP {
  static constexpr int kBytes = 210, kShift = 5;
  static constexpr bool kSub32 = false;
  static void head(const uint8_t* b, Head* h) {
    h->mb = _mm256_cvtepi8_epi16(load128(b + 192));
    _mm256_store_si256(reinterpret_cast<__m256i*>(h->sc), h->mb);
    h->d = h2f(b + 208);
    h->dmin = 0;
  }
  template <int J>
  static __m256i levels(const uint8_t* b) {
    // Chunk J = 4h + k: low nibble of ql[64h + 32(k & 1) + l] (k >= 2: high
    // nibble), top bits 2k of qh[32h + l].
    constexpr int h = J / 4, k = J % 4;
    const __m256i low = bits(load256(b + 64 * h + 32 * (k & 1)), 4 * (k >> 1), 0x0F);
    const __m256i high = bits(load256(b + 128 + 32 * h), 2 * k, 3);
    return _mm256_or_si256(low, _mm256_slli_epi16(high, 4));
  }
};

template <class P, int R1, int RR, int CC>
struct KKernel {
  static constexpr int kR = RR, kC = CC, kR1 = R1;

  template <int J, int R, int C>
  static inline void chunk(const uint8_t* w, size_t ws, const uint8_t* a, size_t as, int64_t sb,
                           const Head (&h)[R], __m256i (&ia)[R][C]) {
    if constexpr (J < 8) {
      __m256i wq[R], sc[R];
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        wq[r] = P::template levels<J>(w + r * ws + sb * P::kBytes);
        sc[r] = scale_pattern<P::kSub32>(h[r], J);
      }
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) {
        const __m256i x = load256(a + c * as + 256 * sb + 32 * J);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r)
          ia[r][c] =
              _mm256_add_epi32(ia[r][c], _mm256_madd_epi16(_mm256_maddubs_epi16(wq[r], x), sc[r]));
      }
      chunk<J + 1>(w, ws, a, as, sb, h, ia);
    }
  }

  template <int R, int C>
  static void tile(const uint8_t* w, size_t ws, const uint8_t* a, size_t as, int64_t n, float* y,
                   int64_t ldy) {
    __m256 acc[R][C];
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c) acc[r][c] = _mm256_setzero_ps();
    for (int64_t sb = 0; sb < n / 256; ++sb) {
      Head h[R];
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        prefetch_ahead(w + r * ws + sb * P::kBytes, P::kBytes);
        P::head(w + r * ws + sb * P::kBytes, &h[r]);
      }
      __m256i ia[R][C];
      for (int r = 0; r < R; ++r)
        for (int c = 0; c < C; ++c) ia[r][c] = _mm256_setzero_si256();
      chunk<0>(w, ws, a, as, sb, h, ia);
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) {
        const uint8_t* ac = a + c * as;
        const float dx = reinterpret_cast<const float*>(ac + layout::q8_k_d(n))[sb];
        const __m256i bs = load256(ac + layout::q8_k_bsums(n) + 32 * sb);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
          const __m256i m = _mm256_madd_epi16(h[r].mb, bs);
          if constexpr (P::kShift >= 0) {
            const __m256i is = _mm256_sub_epi32(ia[r][c], _mm256_slli_epi32(m, P::kShift));
            acc[r][c] =
                _mm256_fmadd_ps(_mm256_cvtepi32_ps(is), _mm256_set1_ps(h[r].d * dx), acc[r][c]);
          } else {
            acc[r][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(ia[r][c]), _mm256_set1_ps(h[r].d * dx),
                                        acc[r][c]);
            acc[r][c] =
                _mm256_fnmadd_ps(_mm256_cvtepi32_ps(m), _mm256_set1_ps(h[r].dmin * dx), acc[r][c]);
          }
        }
      }
    }
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c) y[c * ldy + r] = hsum(acc[r][c]);
  }
};

}  // namespace

void register_kquant(KernelTable* t) {
  entry(t, DType::Q2_K).gemm = gemm_tiles<KKernel<Q2KP, 3, 2, 2>>;
  entry(t, DType::Q3_K).gemm = gemm_tiles<KKernel<Q3KP, 3, 2, 2>>;
  entry(t, DType::Q4_K).gemm = gemm_tiles<KKernel<Q4KP, 3, 2, 2>>;
  entry(t, DType::Q5_K).gemm = gemm_tiles<KKernel<Q5KP, 3, 2, 2>>;
  entry(t, DType::Q6_K).gemm = gemm_tiles<KKernel<Q6KP, 3, 2, 2>>;
}

}  // namespace sf::kernels::avx2
