// AVX2 kernels for the 32-element block types against Q8_32 activations.
//
// One block per step: vpmaddubsw multiplies the 32 unsigned levels by the 32
// int8 activations into 16 int16 pair sums (no saturation: levels <= 31 or,
// for Q8_0, |level| <= 128 by the sign trick), vpmaddwd folds them to 8 int32.
// Level offsets (Q4_0: 8, Q5_0: 16) are removed exactly by adding
// -offset * sum(q_x) to lane 0; the sums are scaled by d_w * d_x in float,
// and Q4_1/Q5_1 add m_w * s_x in lane 0.
#include <immintrin.h>

#include <cstring>

#include "core/kernels/act_layout.h"
#include "core/kernels/prefetch.h"
#include "core/kernels/registry.h"
#include "core/kernels/tile_driver.h"
#include "core/kernels/x86_loads.h"

namespace sf::kernels::avx2 {
namespace {

// [low nibbles | high nibbles] of 16 bytes: the block's 32 levels in order.
inline __m256i nibbles(__m128i q) {
  const __m256i v = _mm256_inserti128_si256(_mm256_castsi128_si256(q), _mm_srli_epi16(q, 4), 1);
  return _mm256_and_si256(v, _mm256_set1_epi8(0x0F));
}

// 0x10 in byte j where bit j of qh is set.
inline __m256i high_bits(uint32_t qh) {
  const __m256i shuf = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2,
                                        2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
  const __m256i bytes = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(qh)), shuf);
  const __m256i bit = _mm256_set1_epi64x(0x8040201008040201LL);
  const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(bytes, bit), bit);
  return _mm256_and_si256(set, _mm256_set1_epi8(0x10));
}

struct WBlock {
  __m256i q;  // levels (Q8_0: |q|)
  __m256i s;  // Q8_0 only: the signed levels, whose signs go onto the activations
  __m256 d;
  __m256 m;
};

inline WBlock wblock(__m256i q, __m256i s, float d, float m) {
  return WBlock{q, s, _mm256_set1_ps(d), _mm256_set1_ps(m)};
}

struct Q4_0P {
  static constexpr int kBytes = 18, kShift = 3;
  static constexpr bool kMin = false, kSigned = false;
  static WBlock load(const uint8_t* b) {
    return wblock(nibbles(load128(b + 2)), _mm256_setzero_si256(), h2f(b), 0.f);
  }
};
struct Q4_1P {
  static constexpr int kBytes = 20, kShift = -1;
  static constexpr bool kMin = true, kSigned = false;
  static WBlock load(const uint8_t* b) {
    return wblock(nibbles(load128(b + 4)), _mm256_setzero_si256(), h2f(b), h2f(b + 2));
  }
};
struct Q5_0P {
  static constexpr int kBytes = 22, kShift = 4;
  static constexpr bool kMin = false, kSigned = false;
  static WBlock load(const uint8_t* b) {
    const __m256i q = _mm256_or_si256(nibbles(load128(b + 6)), high_bits(read<uint32_t>(b + 2)));
    return wblock(q, _mm256_setzero_si256(), h2f(b), 0.f);
  }
};
struct Q5_1P {
  static constexpr int kBytes = 24, kShift = -1;
  static constexpr bool kMin = true, kSigned = false;
  static WBlock load(const uint8_t* b) {
    const __m256i q = _mm256_or_si256(nibbles(load128(b + 8)), high_bits(read<uint32_t>(b + 4)));
    return wblock(q, _mm256_setzero_si256(), h2f(b), h2f(b + 2));
  }
};
struct Q8_0P {
  static constexpr int kBytes = 34, kShift = -1;
  static constexpr bool kMin = false, kSigned = true;
  static WBlock load(const uint8_t* b) {
    const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 2));
    return wblock(_mm256_abs_epi8(q), q, h2f(b), 0.f);
  }
};

template <class P, int R1, int RR, int CC>
struct Q32Kernel {
  static constexpr int kR = RR, kC = CC, kR1 = R1;

  template <int R, int C>
  static void tile(const uint8_t* w, size_t ws, const uint8_t* a, size_t as, int64_t n, float* y,
                   int64_t ldy) {
    __m256 acc[R][C];
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c) acc[r][c] = _mm256_setzero_ps();
    const __m256i ones = _mm256_set1_epi16(1);
    for (int64_t b = 0; b < n / 32; ++b) {
      WBlock wb[R];
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        prefetch_ahead(w + r * ws + b * P::kBytes, P::kBytes);
        wb[r] = P::load(w + r * ws + b * P::kBytes);
      }
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) {
        const uint8_t* ac = a + c * as;
        const __m256i xq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ac + 32 * b));
        const __m256 xd =
            _mm256_broadcast_ss(reinterpret_cast<const float*>(ac + layout::q8_32_d(n)) + b);
        __m256i init = _mm256_setzero_si256();
        if constexpr (P::kShift >= 0) {
          const int32_t s = reinterpret_cast<const int32_t*>(ac + layout::q8_32_sum(n))[b];
          init = _mm256_zextsi128_si256(_mm_cvtsi32_si128(-s * (1 << P::kShift)));
        }
        __m256 xs = _mm256_setzero_ps();
        if constexpr (P::kMin)
          xs = _mm256_zextps128_ps256(
              _mm_load_ss(reinterpret_cast<const float*>(ac + layout::q8_32_s(n)) + b));
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
          const __m256i xr = P::kSigned ? _mm256_sign_epi8(xq, wb[r].s) : xq;
          const __m256i p =
              _mm256_add_epi32(_mm256_madd_epi16(_mm256_maddubs_epi16(wb[r].q, xr), ones), init);
          const __m256 dd = _mm256_mul_ps(wb[r].d, xd);
          acc[r][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), dd, acc[r][c]);
          if constexpr (P::kMin) acc[r][c] = _mm256_fmadd_ps(wb[r].m, xs, acc[r][c]);
        }
      }
    }
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c) y[c * ldy + r] = hsum(acc[r][c]);
  }
};

}  // namespace

void register_q32(KernelTable* t) {
  entry(t, DType::Q4_0).gemm = gemm_tiles<Q32Kernel<Q4_0P, 3, 2, 3>>;
  entry(t, DType::Q4_1).gemm = gemm_tiles<Q32Kernel<Q4_1P, 2, 2, 2>>;
  entry(t, DType::Q5_0).gemm = gemm_tiles<Q32Kernel<Q5_0P, 3, 2, 3>>;
  entry(t, DType::Q5_1).gemm = gemm_tiles<Q32Kernel<Q5_1P, 2, 2, 2>>;
  entry(t, DType::Q8_0).gemm = gemm_tiles<Q32Kernel<Q8_0P, 3, 2, 3>>;
}

}  // namespace sf::kernels::avx2
