// AVX-512 kernels on packed float weights (core/packed_weights.h: F32, F16,
// BF16): the 16 rows of a group at column k are one register (F16 through
// vcvtph2ps, BF16 widened by a 16-bit shift), multiplied by one activation
// value broadcast to all lanes.
//
// Lanes are weight rows. A register tile is Z groups by C activation columns
// of accumulators; per k, Z weight loads and C broadcasts feed Z x C FMAs, and
// there are no horizontal sums. Each accumulator lane is one FMA chain over
// k = 0, 1, ..., n-1 from +0, whatever Z, C or the cache blocking below, so a
// (row, column) result depends only on that row and column (any M, tiling or
// thread count gives the same bits, and the scalar reference in packed_ref.cpp
// gives them too).
//
// Cache blocking (M > 1): k runs in blocks of kc. Per block, the Z groups' kc
// columns (the "micro-panel") stay in L1 while every column tile passes over
// them; the accumulators are stored to y at the end of a block and loaded
// back at the start of the next. A float stored and reloaded is unchanged, so
// the chain stays the same sequence of FMAs. F16 and BF16 micro-panels are
// kept widened to floats (32 KB for 2 groups x 256 columns), so only the
// first column tile of a block converts: with Z = 2 and C = 12 a conversion
// would otherwise cost 4 of every 28 FMA-port instructions.
// Token generation (M = 1) streams the weights once: Z1 groups (independent
// chains) in flight, with software prefetch ahead of the loads.
#pragma GCC diagnostic ignored "-Wuninitialized"  // GCC 12 AVX-512 headers (bug 105593)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>

#include "core/kernels/prefetch.h"
#include "core/kernels/registry.h"
#include "core/kernels/x86_loads.h"
#include "core/packed_weights.h"

namespace sf::kernels::avx512 {
namespace {

// One packed weight column (16 rows) as floats. kBytes: bytes per element.
struct F32W {
  static constexpr int kBytes = 4;
  static __m512 load(const uint8_t* p) { return _mm512_loadu_ps(p); }
};
struct F16W {
  static constexpr int kBytes = 2;
  static __m512 load(const uint8_t* p) { return _mm512_cvtph_ps(load256(p)); }
};
inline __m512 widen_bf16(__m256i h) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}
struct BF16W {
  static constexpr int kBytes = 2;
  static __m512 load(const uint8_t* p) { return widen_bf16(load256(p)); }
};

// Activation rows: floats used in place (F32, F16's f16-rounded floats), or
// BF16's bf16 bits, widened per k-block into a float buffer so the inner loop
// broadcasts plain floats either way (the widening costs one instruction per
// 16 values, against Z FMAs per value).
struct FloatActs {
  static constexpr bool kWiden = false;
};
struct Bf16Acts {
  static constexpr bool kWiden = true;
  static void widen(const uint8_t* src, int64_t len, float* dst) {
    int64_t i = 0;
    for (; i + 16 <= len; i += 16) _mm512_storeu_ps(dst + i, widen_bf16(load256(src + 2 * i)));
    if (i < len) {
      const __mmask16 m = static_cast<__mmask16>((1u << (len - i)) - 1);
      _mm512_mask_storeu_ps(dst + i, m, widen_bf16(_mm256_maskz_loadu_epi16(m, src + 2 * i)));
    }
  }
};

// Z x C accumulators over `len` columns: w is group 0 at the block's first
// column (groups gs bytes apart), x[c] column c's activations there. first:
// the chains start at +0, else at the values y holds from the previous block.
// Rows past `live` are neither loaded nor stored. save (if not null): the
// weights as floats are also stored there, group z's column k at
// save + (z * kc + k) * 16, for the next column tiles (row_tile).
template <class W, int Z, int C>
inline void micro(const uint8_t* w, size_t gs, const float* const* x, int64_t len, float* y,
                  int64_t ldy, int64_t live, bool first, float* save, int64_t kc) {
  constexpr size_t kColBytes = 16 * W::kBytes;  // one column of a group
  constexpr int kPerLine = 64 / kColBytes;      // columns per 64-byte line
  __mmask16 m[Z];
  for (int z = 0; z < Z; ++z) {
    const int64_t left = live - 16 * z;
    m[z] = left >= 16 ? 0xFFFF : left > 0 ? static_cast<__mmask16>((1u << left) - 1) : 0;
  }
  __m512 acc[Z][C];
  for (int z = 0; z < Z; ++z)
    for (int c = 0; c < C; ++c)
      acc[z][c] = first ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(m[z], y + c * ldy + 16 * z);

  auto step = [&](int64_t k, bool store) __attribute__((always_inline)) {
    __m512 wv[Z];
#pragma GCC unroll 8
    for (int z = 0; z < Z; ++z) {
      wv[z] = W::load(w + z * gs + k * kColBytes);
      if (store) _mm512_store_ps(save + (z * kc + k) * 16, wv[z]);
    }
#pragma GCC unroll 32
    for (int c = 0; c < C; ++c) {
      const __m512 xv = _mm512_set1_ps(x[c][k]);
#pragma GCC unroll 8
      for (int z = 0; z < Z; ++z) acc[z][c] = _mm512_fmadd_ps(wv[z], xv, acc[z][c]);
    }
  };
  int64_t k = 0;
  if constexpr (C == 1) {
    // One prefetch per 64-byte line of each group.
    for (; k + kPerLine <= len; k += kPerLine) {
      for (int z = 0; z < Z; ++z) prefetch_ahead(w + z * gs + k * kColBytes, 64);
#pragma GCC unroll 4
      for (int u = 0; u < kPerLine; ++u) step(k + u, false);
    }
#pragma GCC unroll 1
    for (; k < len; ++k) step(k, false);
  } else if (save) {
#pragma GCC unroll 1
    for (; k < len; ++k) step(k, true);
  } else {
#pragma GCC unroll 1
    for (; k < len; ++k) step(k, false);
  }

  for (int z = 0; z < Z; ++z)
    for (int c = 0; c < C; ++c) _mm512_mask_storeu_ps(y + c * ldy + 16 * z, m[z], acc[z][c]);
}

template <class W, int Z, int C>
inline void micro_cols(int cn, const uint8_t* w, size_t gs, const float* const* x, int64_t len,
                       float* y, int64_t ldy, int64_t live, bool first, float* save, int64_t kc) {
  if constexpr (C > 0) {
    if (cn == C)
      micro<W, Z, C>(w, gs, x, len, y, ldy, live, first, save, kc);
    else
      micro_cols<W, Z, C - 1>(cn, w, gs, x, len, y, ldy, live, first, save, kc);
  }
}

// Z groups against all nc columns, k-block by k-block.
template <class W, class A, int Z, int C, int KC>
void row_tile(const uint8_t* w, size_t gs, const uint8_t* a, size_t as, int64_t nc, int64_t n,
              float* y, int64_t ldy, int64_t live) {
  alignas(64) float buf[A::kWiden ? C * KC : 1];
  // 16-bit weights meeting two or more column tiles: the first column tile
  // of a k-block also stores the micro-panel widened to floats (exact), and
  // the others read that, so their inner loops spend nothing on conversion
  // (vcvtph2ps takes both ports the FMAs use). Widening in the first tile's
  // loop, not in a pass of its own, keeps the weights' first (memory) reads
  // interleaved with FMAs.
  constexpr bool kWidenPanel = W::kBytes == 2 && C > 1;
  alignas(64) float panel[kWidenPanel ? Z * KC * 16 : 1];
  const bool use_panel = kWidenPanel && nc > C;
  for (int64_t k0 = 0; k0 < n; k0 += KC) {
    const int64_t len = std::min<int64_t>(KC, n - k0);
    const uint8_t* wk = w + k0 * 16 * W::kBytes;
    for (int64_t c0 = 0; c0 < nc; c0 += C) {
      const int cn = static_cast<int>(std::min<int64_t>(C, nc - c0));
      const float* x[C];
      for (int c = 0; c < cn; ++c) {
        const uint8_t* row = a + (c0 + c) * as;
        if constexpr (A::kWiden) {
          A::widen(row + 2 * k0, len, buf + c * KC);
          x[c] = buf + c * KC;
        } else {
          x[c] = reinterpret_cast<const float*>(row) + k0;
        }
      }
      float* yc = y + c0 * ldy;
      if (use_panel && c0 > 0)
        micro_cols<F32W, Z, C>(cn, reinterpret_cast<const uint8_t*>(panel), KC * 64, x, len, yc,
                               ldy, live, k0 == 0, nullptr, KC);
      else
        micro_cols<W, Z, C>(cn, wk, gs, x, len, yc, ldy, live, k0 == 0, use_panel ? panel : nullptr,
                            KC);
    }
  }
}

template <class W, class A, int Z, int C, int KC>
inline void row_tail(int zn, const uint8_t* w, size_t gs, const uint8_t* a, size_t as, int64_t nc,
                     int64_t n, float* y, int64_t ldy, int64_t live) {
  if constexpr (Z > 0) {
    if (zn == Z)
      row_tile<W, A, Z, C, KC>(w, gs, a, as, nc, n, y, ldy, live);
    else
      row_tail<W, A, Z - 1, C, KC>(zn, w, gs, a, as, nc, n, y, ldy, live);
  }
}

// Tiles of Z groups x C columns for nc > 1, Z1 groups x 1 column for nc == 1.
template <class W, class A, int Z, int C, int Z1, int KC>
void packed_float_gemm(const uint8_t* w, size_t gs, int64_t nr, const uint8_t* a, size_t as,
                       int64_t nc, int64_t n, float* y, int64_t ldy) {
  const int64_t groups = packed_groups(nr);
  const int64_t zt = nc == 1 ? Z1 : Z;
  for (int64_t g = 0; g < groups; g += zt) {
    const int zn = static_cast<int>(std::min(zt, groups - g));
    if (nc == 1)
      row_tail<W, A, Z1, 1, KC>(zn, w + g * gs, gs, a, as, 1, n, y + 16 * g, ldy, nr - 16 * g);
    else
      row_tail<W, A, Z, C, KC>(zn, w + g * gs, gs, a, as, nc, n, y + 16 * g, ldy, nr - 16 * g);
  }
}

}  // namespace

// Measured on a 2-core Xeon (AVX-512, 2 FMA ports, ~180 GFLOP/s peak per
// core): Z = 2 groups x C = 12 columns (24 accumulators) with kc = 256; 2 x 10
// and 2 x 14 were no faster, kc = 128 or 512 no better, and copying each
// column tile's activations into a contiguous buffer (against L1 set
// aliasing of power-of-two row strides) was slower. Z = 2 also matches the
// 2-group row blocks matmul hands packed kernels. M = 1: 4 groups in flight.
void register_packed_float(KernelTable* t) {
  entry(t, DType::F32).packed_gemm = packed_float_gemm<F32W, FloatActs, 2, 12, 4, 256>;
  entry(t, DType::F16).packed_gemm = packed_float_gemm<F16W, FloatActs, 2, 12, 4, 256>;
  entry(t, DType::BF16).packed_gemm = packed_float_gemm<BF16W, Bf16Acts, 2, 12, 4, 256>;
}

}  // namespace sf::kernels::avx512
