// AVX-512 VNNI kernels for the 32-element block types (Q4_0, Q4_1, Q5_0,
// Q5_1, Q8_0) against Q8_32 activations.
//
// Four blocks per step, split into halves: one register holds the first 16
// levels of each of the four blocks, another the last 16, and the
// activations are shuffled the same way ([x0 0-15, x1 0-15, x2 0-15, x3 0-15]
// and the same for 16-31). Two vpdpbusd (unsigned levels x int8
// activations) then leave four int32 partial sums per block, in lanes
// 4k..4k+3 for block k. A level offset (Q4_0: 8, Q5_0: 16, Q8_0 stored as
// q + 128 via xor) is taken out exactly by starting the sums at
// -offset * sum(q_x) of each block. The sums are converted to float and
// scaled per lane by d_w * d_x of their block; Q4_1/Q5_1 add m_w * s_x once
// per block. The fp16 scales of the four blocks are gathered with one word
// permute. A row's last 1-3 blocks run through the same step from a
// zero-padded copy (zero scales and levels add nothing).
#pragma GCC diagnostic ignored "-Wuninitialized"  // GCC 12 AVX-512 headers (bug 105593)
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

// Lanes 4k..4k+3 belong to block k.
inline __m512i block_of_lane() {
  return _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
}
constexpr __mmask16 kFirstLanes = 0x1111;

// 16 bytes at `off` of each of four blocks `bytes` apart: [q0 | q1 | q2 | q3].
inline __m512i gather4x16(const uint8_t* b, int bytes, int off) {
  const __m256i lo = _mm256_inserti128_si256(_mm256_castsi128_si256(load128(b + off)),
                                             load128(b + bytes + off), 1);
  const __m256i hi = _mm256_inserti128_si256(_mm256_castsi128_si256(load128(b + 2 * bytes + off)),
                                             load128(b + 3 * bytes + off), 1);
  return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

// Word-permute index (vpermt2w over bytes [0, 64) and [span - 64, span)) for
// the 16-bit field at byte offset `off` of each block, each repeated 4 times,
// into words 16 * slot .. 16 * slot + 15 (slot 0 or 1).
template <int kBytes>
struct WordIndex {
  static constexpr int kSpan = 4 * kBytes;
  static constexpr int word(int byte_off) {
    return byte_off + 1 < 64 ? byte_off / 2 : 32 + (byte_off - (kSpan - 64)) / 2;
  }
};

// The levels (two halves), per-lane d and m, and Q5 high-bit masks of four blocks.
struct WQuad {
  __m512i lo, hi;
  __m512 d, m;
};

// Spreads fp16 field `off` (and optionally `off2`) of four blocks over lanes.
template <int kBytes, int kOff, int kOff2, bool kTwoFields>
inline void quad_scales(const uint8_t* b, __m512* d, __m512* m) {
  using W = WordIndex<kBytes>;
  const __m512i bytes0 = _mm512_loadu_si512(b);
  const __m512i bytes1 =
      W::kSpan > 64 ? _mm512_loadu_si512(b + W::kSpan - 64) : _mm512_setzero_si512();
  struct Index {
    int16_t w[32];
  };
  static constexpr Index kIdx = [] {
    Index ix{};
    for (int k = 0; k < 4; ++k)
      for (int i = 0; i < 4; ++i) {
        ix.w[4 * k + i] = static_cast<int16_t>(W::word(k * kBytes + kOff));
        ix.w[16 + 4 * k + i] = static_cast<int16_t>(W::word(k * kBytes + kOff2));
      }
    return ix;
  }();
  const __m512i idx = _mm512_loadu_si512(kIdx.w);
  const __m512i h = _mm512_permutex2var_epi16(bytes0, idx, bytes1);
  *d = _mm512_cvtph_ps(_mm512_castsi512_si256(h));
  if (kTwoFields) *m = _mm512_cvtph_ps(_mm512_extracti64x4_epi64(h, 1));
}

// Low nibbles and high nibbles of the four 16-byte runs at `off`.
inline void quad_nibbles(const uint8_t* b, int bytes, int off, WQuad* q) {
  const __m512i v = gather4x16(b, bytes, off);
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  q->lo = _mm512_and_si512(v, m4);
  q->hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
}

// Fifth bits of four Q5 blocks (qh at `off`): element j of block k is bit j
// of its qh; the halves hold elements 0..15 and 16..31.
inline void quad_high_bits(const uint8_t* b, int bytes, int off, WQuad* q) {
  const uint64_t h0 = read<uint32_t>(b + off), h1 = read<uint32_t>(b + bytes + off);
  const uint64_t h2 = read<uint32_t>(b + 2 * bytes + off), h3 = read<uint32_t>(b + 3 * bytes + off);
  const uint64_t all01 = h0 | (h1 << 32), all23 = h2 | (h3 << 32);
  const uint64_t lo =
      _pext_u64(all01, 0x0000FFFF0000FFFFull) | (_pext_u64(all23, 0x0000FFFF0000FFFFull) << 32);
  const uint64_t hi =
      _pext_u64(all01, 0xFFFF0000FFFF0000ull) | (_pext_u64(all23, 0xFFFF0000FFFF0000ull) << 32);
  const __m512i sixteen = _mm512_set1_epi8(16);
  q->lo = _mm512_mask_add_epi8(q->lo, _cvtu64_mask64(lo), q->lo, sixteen);
  q->hi = _mm512_mask_add_epi8(q->hi, _cvtu64_mask64(hi), q->hi, sixteen);
}

struct Q4_0P {
  static constexpr int kBytes = 18, kShift = 3;
  static constexpr bool kMin = false;
  static WQuad load(const uint8_t* b) {
    WQuad q;
    quad_nibbles(b, kBytes, 2, &q);
    quad_scales<kBytes, 0, 0, false>(b, &q.d, &q.m);
    return q;
  }
};

struct Q4_1P {
  static constexpr int kBytes = 20, kShift = -1;
  static constexpr bool kMin = true;
  static WQuad load(const uint8_t* b) {
    WQuad q;
    quad_nibbles(b, kBytes, 4, &q);
    quad_scales<kBytes, 0, 2, true>(b, &q.d, &q.m);
    return q;
  }
};

struct Q5_0P {
  static constexpr int kBytes = 22, kShift = 4;
  static constexpr bool kMin = false;
  static WQuad load(const uint8_t* b) {
    WQuad q;
    quad_nibbles(b, kBytes, 6, &q);
    quad_high_bits(b, kBytes, 2, &q);
    quad_scales<kBytes, 0, 0, false>(b, &q.d, &q.m);
    return q;
  }
};

struct Q5_1P {
  static constexpr int kBytes = 24, kShift = -1;
  static constexpr bool kMin = true;
  static WQuad load(const uint8_t* b) {
    WQuad q;
    quad_nibbles(b, kBytes, 8, &q);
    quad_high_bits(b, kBytes, 4, &q);
    quad_scales<kBytes, 0, 2, true>(b, &q.d, &q.m);
    return q;
  }
};

struct Q8_0P {
  static constexpr int kBytes = 34, kShift = 7;
  static constexpr bool kMin = false;
  static WQuad load(const uint8_t* b) {
    WQuad q;
    const __m512i x01 =
        _mm512_inserti64x4(_mm512_castsi256_si512(load256(b + 2)), load256(b + kBytes + 2), 1);
    const __m512i x23 = _mm512_inserti64x4(_mm512_castsi256_si512(load256(b + 2 * kBytes + 2)),
                                           load256(b + 3 * kBytes + 2), 1);
    // q + 128 as unsigned (the offset comes out through the activation sums).
    const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
    q.lo = _mm512_xor_si512(_mm512_shuffle_i64x2(x01, x23, _MM_SHUFFLE(2, 0, 2, 0)), flip);
    q.hi = _mm512_xor_si512(_mm512_shuffle_i64x2(x01, x23, _MM_SHUFFLE(3, 1, 3, 1)), flip);
    const uint64_t h = uint64_t{read<uint16_t>(b)} | uint64_t{read<uint16_t>(b + kBytes)} << 16 |
                       uint64_t{read<uint16_t>(b + 2 * kBytes)} << 32 |
                       uint64_t{read<uint16_t>(b + 3 * kBytes)} << 48;
    const __m128 d4 = _mm_cvtph_ps(_mm_cvtsi64_si128(static_cast<long long>(h)));
    q.d = _mm512_permutexvar_ps(block_of_lane(), _mm512_castps128_ps512(d4));
    return q;
  }
};

template <class P, int R1, int RR, int CC>
struct Q32Kernel {
  static constexpr int kR = RR, kC = CC, kR1 = R1;

  // Blocks b..b+3 of every row (row r's blocks at wp[r]) against activation
  // blocks b..b+3 of every column; `nblk` (1..4) of them exist.
  template <int R, int C>
  static inline void step(const uint8_t* const (&wp)[R], const uint8_t* a, size_t as, int64_t n,
                          int64_t b, int nblk, __m512 (&acc)[R][C]) {
    WQuad wq[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      prefetch_ahead(wp[r], 4 * P::kBytes);
      wq[r] = P::load(wp[r]);
    }
    const __m512i blk = block_of_lane();
    const int64_t qbytes = 32 * nblk;
    const __mmask64 m0 = qbytes >= 64 ? ~0ull : (1ull << qbytes) - 1;
    const __mmask64 m1 = qbytes >= 128 ? ~0ull : qbytes <= 64 ? 0ull : (1ull << (qbytes - 64)) - 1;
    const __mmask16 m4 = static_cast<__mmask16>((1u << nblk) - 1);
#pragma GCC unroll 8
    for (int c = 0; c < C; ++c) {
      const uint8_t* ac = a + c * as;
      const __m512i x0 = _mm512_maskz_loadu_epi8(m0, ac + 32 * b);
      const __m512i x1 = _mm512_maskz_loadu_epi8(m1, ac + 32 * b + 64);
      const __m512i xlo = _mm512_shuffle_i64x2(x0, x1, _MM_SHUFFLE(2, 0, 2, 0));
      const __m512i xhi = _mm512_shuffle_i64x2(x0, x1, _MM_SHUFFLE(3, 1, 3, 1));
      const float* d = reinterpret_cast<const float*>(ac + layout::q8_32_d(n)) + b;
      const __m512 xd =
          _mm512_permutexvar_ps(blk, _mm512_castps128_ps512(_mm_maskz_loadu_ps(m4, d)));
      __m512i init = _mm512_setzero_si512();
      if constexpr (P::kShift >= 0) {
        const int32_t* s = reinterpret_cast<const int32_t*>(ac + layout::q8_32_sum(n)) + b;
        const __m512i sums = _mm512_maskz_permutexvar_epi32(
            kFirstLanes, blk, _mm512_castsi128_si512(_mm_maskz_loadu_epi32(m4, s)));
        init = _mm512_sub_epi32(init, _mm512_slli_epi32(sums, P::kShift));
      }
      __m512 xs = _mm512_setzero_ps();
      if constexpr (P::kMin) {
        const float* s = reinterpret_cast<const float*>(ac + layout::q8_32_s(n)) + b;
        xs = _mm512_maskz_permutexvar_ps(kFirstLanes, blk,
                                         _mm512_castps128_ps512(_mm_maskz_loadu_ps(m4, s)));
      }
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const __m512i p =
            _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(init, wq[r].lo, xlo), wq[r].hi, xhi);
        const __m512 dd = _mm512_mul_ps(wq[r].d, xd);
        acc[r][c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), dd, acc[r][c]);
        if constexpr (P::kMin) acc[r][c] = _mm512_fmadd_ps(wq[r].m, xs, acc[r][c]);
      }
    }
  }

  template <int R, int C>
  static void tile(const uint8_t* w, size_t ws, const uint8_t* a, size_t as, int64_t n, float* y,
                   int64_t ldy) {
    __m512 acc[R][C];
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
    const int64_t nb = n / 32;
    int64_t b = 0;
    for (; b + 4 <= nb; b += 4) {
      const uint8_t* wp[R];
      for (int r = 0; r < R; ++r) wp[r] = w + r * ws + b * P::kBytes;
      step<R, C>(wp, a, as, n, b, 4, acc);
    }
    if (b < nb) {
      // Last 1-3 blocks: zero-padded copies, so the step reads only its own bytes.
      const int nblk = static_cast<int>(nb - b);
      alignas(64) uint8_t pad[R][4 * P::kBytes];
      const uint8_t* wp[R];
      for (int r = 0; r < R; ++r) {
        std::memset(pad[r], 0, sizeof(pad[r]));
        std::memcpy(pad[r], w + r * ws + b * P::kBytes, static_cast<size_t>(nblk) * P::kBytes);
        wp[r] = pad[r];
      }
      step<R, C>(wp, a, as, n, b, nblk, acc);
    }
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c) y[c * ldy + r] = _mm512_reduce_add_ps(acc[r][c]);
  }
};

}  // namespace

void register_q32(KernelTable* t) {
  entry(t, DType::Q4_0).gemm = gemm_tiles<Q32Kernel<Q4_0P, 4, 4, 3>>;
  entry(t, DType::Q4_1).gemm = gemm_tiles<Q32Kernel<Q4_1P, 4, 3, 3>>;
  entry(t, DType::Q5_0).gemm = gemm_tiles<Q32Kernel<Q5_0P, 4, 4, 3>>;
  entry(t, DType::Q5_1).gemm = gemm_tiles<Q32Kernel<Q5_1P, 4, 3, 3>>;
  entry(t, DType::Q8_0).gemm = gemm_tiles<Q32Kernel<Q8_0P, 4, 4, 3>>;
}

}  // namespace sf::kernels::avx512
