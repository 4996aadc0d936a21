// AVX-512 VNNI kernels on packed weights (core/packed_weights.h): Q4_0, Q5_0
// and Q8_0 against Q8_32 activations, Q4_K and Q6_K against Q8_K.
//
// Lanes are weight rows. A register tile is Z groups (16 rows each, one zmm)
// by C activation columns. Per 32 elements and tile cell, eight vpdpbusd add
// the 4-level runs of 16 rows times the column's 4 activation bytes,
// broadcast to every lane, into int32 sums:
//   Q4_0, Q5_0, Q8_0  the sum starts at -offset * (activation block sum), which
//       takes the level offset out exactly (as in q32_avx512.cpp); then one
//       convert and one FMA by (row scales x column block scale) per cell;
//   Q4_K  each 32-element sub-block's sum is multiplied by the rows' 6-bit
//       scales (vpmulld) into an exact int32 super-block sum, the mins meet
//       the activation's 16-element sums in vpdpwssd, and per super-block
//       (d * dx) * isum - (dmin * dx) * msum, as the scalar reference does;
//   Q6_K  the 6-bit levels of a 16-element sub-block come out of three
//       64-byte chunks (nine logic instructions per group, shared by the
//       tile's columns); each sub-block's sum starts at -32 * (the
//       activation's 16-element sum), which takes the level offset out
//       exactly, and is multiplied by the rows' int8 scales (vpmulld) into
//       an exact int32 super-block sum; then (d * dx) * isum per super-block.
// No horizontal reduction: each lane ends as its row's result, so a (row,
// column) result depends on nothing but that row and column (any Z, C, M or
// thread count gives the same bits).
#pragma GCC diagnostic ignored "-Wuninitialized"  // GCC 12 AVX-512 headers (bug 105593)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "core/kernels/act_layout.h"
#include "core/kernels/prefetch.h"
#include "core/kernels/registry.h"
#include "core/kernels/x86_loads.h"
#include "core/packed_weights.h"

namespace sf::kernels::avx512 {
namespace {

// The levels of a block for activation quads j and j + 4 (elements 4j..4j+3
// and 16+4j..16+4j+3), j < 4.
struct Q4_0X {
  static constexpr int kQuantBytes = 256, kOffset = 8;
  static inline void quads(const uint8_t* q, int j, __m512i* lo, __m512i* hi) {
    const __m512i v = _mm512_loadu_si512(q + 64 * j);
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    *lo = _mm512_and_si512(v, m4);
    *hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
  }
};

// Q4_0's nibbles plus, per quad, a 64-bit mask of the fifth bits (one per
// byte of the quad's register): a masked byte add of 16 completes the levels.
struct Q5_0X {
  static constexpr int kQuantBytes = 320, kOffset = 16;
  static inline void quads(const uint8_t* q, int j, __m512i* lo, __m512i* hi) {
    const __m512i v = _mm512_loadu_si512(q + 64 * j);
    const __m512i m4 = _mm512_set1_epi8(0x0F), sixteen = _mm512_set1_epi8(16);
    const __m512i l = _mm512_and_si512(v, m4);
    const __m512i h = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
    *lo = _mm512_mask_add_epi8(l, _cvtu64_mask64(read<uint64_t>(q + 256 + 8 * j)), l, sixteen);
    *hi =
        _mm512_mask_add_epi8(h, _cvtu64_mask64(read<uint64_t>(q + 256 + 8 * (j + 4))), h, sixteen);
  }
};

struct Q8_0X {
  static constexpr int kQuantBytes = 512, kOffset = 128;
  static inline void quads(const uint8_t* q, int j, __m512i* lo, __m512i* hi) {
    *lo = _mm512_loadu_si512(q + 64 * j);
    *hi = _mm512_loadu_si512(q + 64 * (j + 4));
  }
};

inline __m512i bcast4(const uint8_t* p) {
  return _mm512_set1_epi32(read<int32_t>(p));
}

// Stores the first `live` rows of Z x C accumulators (rows 16z + lane).
template <int Z, int C>
inline void store_tile(const __m512 (&acc)[Z][C], float* y, int64_t ldy, int64_t live) {
  for (int z = 0; z < Z; ++z) {
    const int64_t left = live - 16 * z;
    if (left <= 0) break;
    const __mmask16 m = left >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << left) - 1);
    for (int c = 0; c < C; ++c) _mm512_mask_storeu_ps(y + c * ldy + 16 * z, m, acc[z][c]);
  }
}

// Rows [0, 16 Z) of Z groups (w, group stride gs) against C activation rows
// (a, stride as); n elements. Only the first `live` rows are stored.
template <class P, int Z, int C>
inline void tile32(const uint8_t* w, size_t gs, const uint8_t* a, size_t as, int64_t n, float* y,
                   int64_t ldy, int64_t live) {
  const int64_t nb = n / 32;
  const uint8_t* q[Z];
  const uint8_t* s[Z];
  for (int z = 0; z < Z; ++z) {
    q[z] = w + z * gs;
    s[z] = q[z] + nb * P::kQuantBytes;
  }
  const uint8_t* x[C];
  const float* xd[C];
  const int32_t* xs[C];
  for (int c = 0; c < C; ++c) {
    x[c] = a + c * as;
    xd[c] = reinterpret_cast<const float*>(x[c] + layout::q8_32_d(n));
    xs[c] = reinterpret_cast<const int32_t*>(x[c] + layout::q8_32_sum(n));
  }
  __m512 acc[Z][C];
  for (int z = 0; z < Z; ++z)
    for (int c = 0; c < C; ++c) acc[z][c] = _mm512_setzero_ps();

  for (int64_t b = 0; b < nb; ++b) {
    // Token generation (C == 1) has few independent sums: the low and high
    // halves of each block run in separate chains (integer adds are exact,
    // so this changes no bits).
    constexpr int kChains = C == 1 ? 2 : 1;
    __m512i isum[kChains][Z][C];
#pragma GCC unroll 8
    for (int c = 0; c < C; ++c) {
      const __m512i init = _mm512_set1_epi32(-P::kOffset * xs[c][b]);
      for (int z = 0; z < Z; ++z) {
        isum[0][z][c] = init;
        if constexpr (kChains == 2) isum[kChains - 1][z][c] = _mm512_setzero_si512();
      }
    }
    if constexpr (C == 1) {
      for (int z = 0; z < Z; ++z) prefetch_ahead(q[z] + b * P::kQuantBytes, P::kQuantBytes);
    }
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) {
      __m512i lo[Z], hi[Z];
#pragma GCC unroll 8
      for (int z = 0; z < Z; ++z) P::quads(q[z] + b * P::kQuantBytes, j, &lo[z], &hi[z]);
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) {
        const __m512i x0 = bcast4(x[c] + 32 * b + 4 * j);
        const __m512i x1 = bcast4(x[c] + 32 * b + 16 + 4 * j);
#pragma GCC unroll 8
        for (int z = 0; z < Z; ++z) {
          isum[0][z][c] = _mm512_dpbusd_epi32(isum[0][z][c], lo[z], x0);
          isum[kChains - 1][z][c] = _mm512_dpbusd_epi32(isum[kChains - 1][z][c], hi[z], x1);
        }
      }
    }
    __m512 dw[Z];
#pragma GCC unroll 8
    for (int z = 0; z < Z; ++z) dw[z] = _mm512_cvtph_ps(load256(s[z] + 32 * b));
#pragma GCC unroll 8
    for (int c = 0; c < C; ++c) {
      const __m512 dx = _mm512_set1_ps(xd[c][b]);
#pragma GCC unroll 8
      for (int z = 0; z < Z; ++z) {
        __m512i is = isum[0][z][c];
        if constexpr (kChains == 2) is = _mm512_add_epi32(is, isum[1][z][c]);
        acc[z][c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(is), _mm512_mul_ps(dw[z], dx), acc[z][c]);
      }
    }
  }

  store_tile<Z, C>(acc, y, ldy, live);
}

template <class P>
struct Q32Tile {
  template <int Z, int C>
  static void tile(const uint8_t* w, size_t gs, const uint8_t* a, size_t as, int64_t n, float* y,
                   int64_t ldy, int64_t live) {
    tile32<P, Z, C>(w, gs, a, as, n, y, ldy, live);
  }
};

// What a K-quant tile (Q4_K, Q6_K) reads: per group its levels (q) and the
// heads after all of them (h, `levels_bytes` on), per column the Q8_K bytes
// (x), block scales (xd) and 16-element sums (xb).
template <int Z, int C>
struct KTileInputs {
  const uint8_t* q[Z];
  const uint8_t* h[Z];
  const uint8_t* x[C];
  const float* xd[C];
  const uint8_t* xb[C];
  KTileInputs(const uint8_t* w, size_t gs, int64_t levels_bytes, const uint8_t* a, size_t as,
              int64_t n) {
    for (int z = 0; z < Z; ++z) {
      q[z] = w + z * gs;
      h[z] = q[z] + levels_bytes;
    }
    for (int c = 0; c < C; ++c) {
      x[c] = a + c * as;
      xd[c] = reinterpret_cast<const float*>(x[c] + layout::q8_k_d(n));
      xb[c] = x[c] + layout::q8_k_bsums(n);
    }
  }
};

// Q4_K: super-block sb of a group has its levels at sb * 2048 and its head
// (fp16 d, fp16 dmin, scale bytes [8][16], min bytes [8][16]) at
// nsb * 2048 + sb * 320.
struct Q4KTile {
  static constexpr int kQuantBytes = 2048, kHeadBytes = 320;

  // Row r's min, as the int16 pair (mn, mn), in dword r, from the 16 bytes at
  // m: vpdpwssd against the activation's two 16-element sums of a sub-block
  // then adds mn * (bsum_lo + bsum_hi).
  static inline __m512i min_pairs(const uint8_t* m) {
    struct Ctl {
      int8_t b[64];
    };
    static constexpr Ctl kCtl = [] {
      Ctl c{};
      for (int i = 0; i < 64; ++i)
        c.b[i] = i % 2 ? static_cast<int8_t>(0x80) : static_cast<int8_t>(i / 4 % 16);
      return c;
    }();
    const __m512i v = _mm512_broadcast_i32x4(load128(m));
    return _mm512_shuffle_epi8(v, _mm512_loadu_si512(kCtl.b));
  }

  template <int Z, int C>
  static void tile(const uint8_t* w, size_t gs, const uint8_t* a, size_t as, int64_t n, float* y,
                   int64_t ldy, int64_t live) {
    const int64_t nsb = n / 256;
    const KTileInputs<Z, C> in(w, gs, nsb * kQuantBytes, a, as, n);
    const uint8_t* const* q = in.q;
    const uint8_t* const* h = in.h;
    const uint8_t* const* x = in.x;
    const float* const* xd = in.xd;
    const uint8_t* const* xb = in.xb;
    __m512 acc[Z][C];
    for (int z = 0; z < Z; ++z)
      for (int c = 0; c < C; ++c) acc[z][c] = _mm512_setzero_ps();
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    // Token generation: two chains per sub-block (exact integer adds).
    constexpr int kChains = C == 1 ? 2 : 1;

    for (int64_t sb = 0; sb < nsb; ++sb) {
      const uint8_t* hd[Z];
      for (int z = 0; z < Z; ++z) hd[z] = h[z] + sb * kHeadBytes;
      if constexpr (C == 1) {
        for (int z = 0; z < Z; ++z) prefetch_ahead(q[z] + sb * kQuantBytes, kQuantBytes);
      }
      __m512i isum[Z][C];
      for (int z = 0; z < Z; ++z)
        for (int c = 0; c < C; ++c) isum[z][c] = _mm512_setzero_si512();
      for (int s = 0; s < 8; ++s) {
        // Sub-block s: the low (s even) or high nibbles of chunks 8 (s / 2) + j.
        __m512i dot[kChains][Z][C];
        for (int k = 0; k < kChains; ++k)
          for (int z = 0; z < Z; ++z)
            for (int c = 0; c < C; ++c) dot[k][z][c] = _mm512_setzero_si512();
#pragma GCC unroll 8
        for (int j = 0; j < 8; ++j) {
          __m512i lv[Z];
#pragma GCC unroll 8
          for (int z = 0; z < Z; ++z) {
            const __m512i v = _mm512_loadu_si512(q[z] + sb * kQuantBytes + 64 * (8 * (s / 2) + j));
            lv[z] = _mm512_and_si512(s % 2 ? _mm512_srli_epi16(v, 4) : v, m4);
          }
#pragma GCC unroll 8
          for (int c = 0; c < C; ++c) {
            const __m512i xv = bcast4(x[c] + 256 * sb + 32 * s + 4 * j);
#pragma GCC unroll 8
            for (int z = 0; z < Z; ++z)
              dot[j % kChains][z][c] = _mm512_dpbusd_epi32(dot[j % kChains][z][c], lv[z], xv);
          }
        }
#pragma GCC unroll 8
        for (int z = 0; z < Z; ++z) {
          const __m512i sc = _mm512_cvtepu8_epi32(load128(hd[z] + 64 + 16 * s));
#pragma GCC unroll 8
          for (int c = 0; c < C; ++c) {
            __m512i d = dot[0][z][c];
            if constexpr (kChains == 2) d = _mm512_add_epi32(d, dot[1][z][c]);
            isum[z][c] = _mm512_add_epi32(isum[z][c], _mm512_mullo_epi32(d, sc));
          }
        }
      }
      // msum = sum_s mn_s * (bsum_{2s} + bsum_{2s+1}), exact in int32.
      __m512i msum[Z][C];
      for (int z = 0; z < Z; ++z)
        for (int c = 0; c < C; ++c) msum[z][c] = _mm512_setzero_si512();
#pragma GCC unroll 8
      for (int s = 0; s < 8; ++s) {
        __m512i mp[Z];
        for (int z = 0; z < Z; ++z) mp[z] = min_pairs(hd[z] + 192 + 16 * s);
#pragma GCC unroll 8
        for (int c = 0; c < C; ++c) {
          const __m512i bs = bcast4(xb[c] + 32 * sb + 4 * s);
#pragma GCC unroll 8
          for (int z = 0; z < Z; ++z) msum[z][c] = _mm512_dpwssd_epi32(msum[z][c], mp[z], bs);
        }
      }
      __m512 dw[Z], dm[Z];
      for (int z = 0; z < Z; ++z) {
        dw[z] = _mm512_cvtph_ps(load256(hd[z]));
        dm[z] = _mm512_cvtph_ps(load256(hd[z] + 32));
      }
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) {
        const __m512 dx = _mm512_set1_ps(xd[c][sb]);
#pragma GCC unroll 8
        for (int z = 0; z < Z; ++z) {
          acc[z][c] =
              _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[z][c]), _mm512_mul_ps(dw[z], dx), acc[z][c]);
          acc[z][c] =
              _mm512_fnmadd_ps(_mm512_cvtepi32_ps(msum[z][c]), _mm512_mul_ps(dm[z], dx), acc[z][c]);
        }
      }
    }
    store_tile<Z, C>(acc, y, ldy, live);
  }
};

// Q6_K: super-block sb of a group has its levels at sb * 3072 (sub-block s
// in chunks 3s..3s+2: quads 0..2 in their low 6 bits, quad 3's level bits
// 2k..2k+1 in the top 2 bits of chunk 3s + k) and its head (fp16 d, int8
// scale bytes [16][16]) at nsb * 3072 + sb * 288.
struct Q6KTile {
  static constexpr int kQuantBytes = 3072, kHeadBytes = 288, kOffset = 32;

  template <int Z, int C>
  static void tile(const uint8_t* w, size_t gs, const uint8_t* a, size_t as, int64_t n, float* y,
                   int64_t ldy, int64_t live) {
    const int64_t nsb = n / 256;
    const KTileInputs<Z, C> in(w, gs, nsb * kQuantBytes, a, as, n);
    const uint8_t* const* q = in.q;
    const uint8_t* const* h = in.h;
    const uint8_t* const* x = in.x;
    const float* const* xd = in.xd;
    const uint8_t* const* xb = in.xb;
    __m512 acc[Z][C];
    for (int z = 0; z < Z; ++z)
      for (int c = 0; c < C; ++c) acc[z][c] = _mm512_setzero_ps();

    for (int64_t sb = 0; sb < nsb; ++sb) {
      const uint8_t* hd[Z];
      const uint8_t* qs[Z];
      for (int z = 0; z < Z; ++z) {
        hd[z] = h[z] + sb * kHeadBytes;
        qs[z] = q[z] + sb * kQuantBytes;
      }
      if constexpr (C == 1) {
        for (int z = 0; z < Z; ++z) prefetch_ahead(qs[z], kQuantBytes);
      }
      // Where each sub-block's sum starts, per column: -32 * bsum_s.
      alignas(64) int32_t start[C][16];
      for (int c = 0; c < C; ++c) {
        const __m512i bs = _mm512_cvtepi16_epi32(load256(xb[c] + 32 * sb));
        _mm512_store_si512(start[c], _mm512_mullo_epi32(bs, _mm512_set1_epi32(-kOffset)));
      }
      __m512i isum[Z][C];
      for (int z = 0; z < Z; ++z)
        for (int c = 0; c < C; ++c) isum[z][c] = _mm512_setzero_si512();
#pragma GCC unroll 2
      for (int s = 0; s < 16; ++s) {
        __m512i dot[Z][C];
#pragma GCC unroll 8
        for (int c = 0; c < C; ++c) {
          const __m512i st = _mm512_set1_epi32(start[c][s]);
          for (int z = 0; z < Z; ++z) dot[z][c] = st;
        }
        __m512i lv[4][Z];
#pragma GCC unroll 8
        for (int z = 0; z < Z; ++z) {
          const uint8_t* p = qs[z] + 192 * s;
          const __m512i c0 = _mm512_loadu_si512(p), c1 = _mm512_loadu_si512(p + 64),
                        c2 = _mm512_loadu_si512(p + 128);
          const __m512i m6 = _mm512_set1_epi8(63);
          lv[0][z] = _mm512_and_si512(c0, m6);
          lv[1][z] = _mm512_and_si512(c1, m6);
          lv[2][z] = _mm512_and_si512(c2, m6);
          // Quad 3 from the top bits of c0, c1, c2, shifted to bits 0-1, 2-3
          // and 4-5 (16-bit shifts also bring in bits of the neighbouring
          // byte: ternlog 0xE4, c ? a : b, takes each field from its own
          // source, the and clears bits 6-7).
          const __m512i t = _mm512_ternarylogic_epi32(
              _mm512_srli_epi16(c0, 6), _mm512_srli_epi16(c1, 4), _mm512_set1_epi8(3), 0xE4);
          lv[3][z] = _mm512_and_si512(
              _mm512_ternarylogic_epi32(t, _mm512_srli_epi16(c2, 2), _mm512_set1_epi8(15), 0xE4),
              m6);
        }
#pragma GCC unroll 4
        for (int j = 0; j < 4; ++j) {
#pragma GCC unroll 8
          for (int c = 0; c < C; ++c) {
            const __m512i xv = bcast4(x[c] + 256 * sb + 16 * s + 4 * j);
#pragma GCC unroll 8
            for (int z = 0; z < Z; ++z) dot[z][c] = _mm512_dpbusd_epi32(dot[z][c], lv[j][z], xv);
          }
        }
#pragma GCC unroll 8
        for (int z = 0; z < Z; ++z) {
          const __m512i sc = _mm512_cvtepi8_epi32(load128(hd[z] + 32 + 16 * s));
#pragma GCC unroll 8
          for (int c = 0; c < C; ++c)
            isum[z][c] = _mm512_add_epi32(isum[z][c], _mm512_mullo_epi32(dot[z][c], sc));
        }
      }
      __m512 dw[Z];
      for (int z = 0; z < Z; ++z) dw[z] = _mm512_cvtph_ps(load256(hd[z]));
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) {
        const __m512 dx = _mm512_set1_ps(xd[c][sb]);
#pragma GCC unroll 8
        for (int z = 0; z < Z; ++z)
          acc[z][c] =
              _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[z][c]), _mm512_mul_ps(dw[z], dx), acc[z][c]);
      }
    }
    store_tile<Z, C>(acc, y, ldy, live);
  }
};

// Tails: the largest tile shape below the full one that fits what is left.
template <class K, int Z, int C>
inline void col_tail(int rem, const uint8_t* w, size_t gs, const uint8_t* a, size_t as, int64_t n,
                     float* y, int64_t ldy, int64_t live) {
  if constexpr (C > 0) {
    if (rem == C)
      K::template tile<Z, C>(w, gs, a, as, n, y, ldy, live);
    else
      col_tail<K, Z, C - 1>(rem, w, gs, a, as, n, y, ldy, live);
  }
}

template <class K, int Z, int C>
inline void row_tile(const uint8_t* w, size_t gs, const uint8_t* a, size_t as, int64_t nc,
                     int64_t n, float* y, int64_t ldy, int64_t live) {
  int64_t c = 0;
  for (; c + C <= nc; c += C)
    K::template tile<Z, C>(w, gs, a + c * as, as, n, y + c * ldy, ldy, live);
  if (c < nc)
    col_tail<K, Z, C - 1>(static_cast<int>(nc - c), w, gs, a + c * as, as, n, y + c * ldy, ldy,
                          live);
}

template <class K, int Z, int C>
inline void row_tail(int rem, const uint8_t* w, size_t gs, const uint8_t* a, size_t as, int64_t nc,
                     int64_t n, float* y, int64_t ldy, int64_t live) {
  if constexpr (Z > 0) {
    if (rem == Z)
      row_tile<K, Z, C>(w, gs, a, as, nc, n, y, ldy, live);
    else
      row_tail<K, Z - 1, C>(rem, w, gs, a, as, nc, n, y, ldy, live);
  }
}

// Z x C groups-by-columns tiles for nc > 1, Z1 groups per tile for nc == 1.
template <class K, int Z, int C, int Z1>
void packed_gemm(const uint8_t* w, size_t gs, int64_t nr, const uint8_t* a, size_t as, int64_t nc,
                 int64_t n, float* y, int64_t ldy) {
  const int64_t groups = packed_groups(nr);
  const int zt = nc == 1 ? Z1 : Z;
  int64_t g = 0;
  for (; g + zt <= groups; g += zt) {
    const int64_t live = nr - 16 * g;
    if (nc == 1)
      K::template tile<Z1, 1>(w + g * gs, gs, a, as, n, y + 16 * g, ldy, live);
    else
      row_tile<K, Z, C>(w + g * gs, gs, a, as, nc, n, y + 16 * g, ldy, live);
  }
  if (g < groups) {
    const int rem = static_cast<int>(groups - g);
    const int64_t live = nr - 16 * g;
    if (nc == 1)
      row_tail<K, Z1 - 1, 1>(rem, w + g * gs, gs, a, as, 1, n, y + 16 * g, ldy, live);
    else
      row_tail<K, Z - 1, C>(rem, w + g * gs, gs, a, as, nc, n, y + 16 * g, ldy, live);
  }
}

}  // namespace

// Tiles measured on a 2-core Xeon (AVX-512 VNNI): 2 groups x 6 columns (Q4_K:
// x 5, its tile holds more live sums) was fastest for M > 1 among 1-4 groups
// by 2-8 columns; 4 groups for M = 1. Q6_K: 2 x 6 (its level unpacking is
// shared by more columns) within noise of 2 x 8, ahead of 2 x 4/5, 1 x 8/12
// and 3 x 3.
void register_packed(KernelTable* t) {
  entry(t, DType::Q4_0).packed_gemm = packed_gemm<Q32Tile<Q4_0X>, 2, 6, 4>;
  entry(t, DType::Q5_0).packed_gemm = packed_gemm<Q32Tile<Q5_0X>, 2, 6, 4>;
  entry(t, DType::Q8_0).packed_gemm = packed_gemm<Q32Tile<Q8_0X>, 2, 6, 4>;
  entry(t, DType::Q4_K).packed_gemm = packed_gemm<Q4KTile, 2, 5, 4>;
  entry(t, DType::Q6_K).packed_gemm = packed_gemm<Q6KTile, 2, 6, 4>;
}

}  // namespace sf::kernels::avx512
