// AVX-512 attention kernel (recipe in attention_kernels.h). Per chunk of 64
// keys the keys are transposed once into scratch (row d holds element d of
// the 64 keys), so a query row's 64 scores are 4 zmm FMA chains over d with
// the query element broadcast: lanes are key positions, no horizontal sums.
// Values are accumulated with lanes = head dimensions, the chunk's
// probabilities broadcast, in two chains (even and odd keys) per register.
#pragma GCC diagnostic ignored "-Wuninitialized"  // GCC 12 AVX-512 headers (bug 105593)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "core/kernels/attention_kernels.h"
#include "core/kernels/exp_avx512.h"

namespace sf::kernels::avx512 {
namespace {

// Lanes i and i + w added for w = 8, 4, 2, 1: the reference's tree_sum order.
inline float tree_sum(__m512 t) {
  const __m256 h = _mm256_add_ps(_mm512_castps512_ps256(t), _mm512_extractf32x8_ps(t, 1));
  const __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  const __m128 d = _mm_add_ps(q, _mm_movehl_ps(q, q));
  const __m128 s = _mm_add_ss(d, _mm_movehdup_ps(d));
  return _mm_cvtss_f32(s);
}

inline __mmask16 lanes_below(int n) {
  return n >= 16 ? 0xFFFF : n <= 0 ? 0 : static_cast<__mmask16>((1u << n) - 1);
}

// Raw scores (q . k, lanes = the chunk's 64 keys) of rows qa and qb at once:
// two rows give eight independent FMA chains per loaded key vector.
template <bool kTwo>
inline void qk(const float* qa, const float* qb, const float* kt, int head_dim, __m512 (&a)[4],
               __m512 (&b)[4]) {
  for (int j = 0; j < 4; ++j) a[j] = b[j] = _mm512_setzero_ps();
  for (int d = 0; d < head_dim; ++d) {
    const float* k = kt + d * kAttnChunk;
    const __m512 k0 = _mm512_loadu_ps(k), k1 = _mm512_loadu_ps(k + 16),
                 k2 = _mm512_loadu_ps(k + 32), k3 = _mm512_loadu_ps(k + 48);
    const __m512 x = _mm512_set1_ps(qa[d]);
    a[0] = _mm512_fmadd_ps(x, k0, a[0]);
    a[1] = _mm512_fmadd_ps(x, k1, a[1]);
    a[2] = _mm512_fmadd_ps(x, k2, a[2]);
    a[3] = _mm512_fmadd_ps(x, k3, a[3]);
    if constexpr (kTwo) {
      const __m512 y = _mm512_set1_ps(qb[d]);
      b[0] = _mm512_fmadd_ps(y, k0, b[0]);
      b[1] = _mm512_fmadd_ps(y, k1, b[1]);
      b[2] = _mm512_fmadd_ps(y, k2, b[2]);
      b[3] = _mm512_fmadd_ps(y, k3, b[3]);
    }
  }
}

// One row's online-softmax step over a chunk, from its raw scores: updates M
// and L, writes the chunk's 64 probabilities (zeros past `valid`) to e and
// returns alpha, the factor the row's earlier output is scaled by.
inline float softmax_step(const __m512 (&raw)[4], int valid, float scale, float* M, float* L,
                          float* e) {
  const __m512 sc = _mm512_set1_ps(scale);
  const __m512 ninf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  __mmask16 m[4];
  __m512 s[4];
  for (int j = 0; j < 4; ++j) {
    m[j] = lanes_below(valid - 16 * j);
    s[j] = _mm512_mask_mul_ps(ninf, m[j], raw[j], sc);
  }
  const float mc =
      _mm512_reduce_max_ps(_mm512_max_ps(_mm512_max_ps(s[0], s[1]), _mm512_max_ps(s[2], s[3])));
  const float m_old = *M;
  const float mn = std::max(m_old, mc);
  const float alpha = m_old == -std::numeric_limits<float>::infinity()
                          ? 0.0f
                          : _mm512_cvtss_f32(exp_ps(_mm512_set1_ps(m_old - mn)));
  const __m512 mv = _mm512_set1_ps(mn);
  for (int j = 0; j < 4; ++j) {
    s[j] = _mm512_maskz_mov_ps(m[j], exp_ps(_mm512_sub_ps(s[j], mv)));
    _mm512_storeu_ps(e + 16 * j, s[j]);
  }
  *L = *L * alpha + tree_sum(_mm512_add_ps(_mm512_add_ps(s[0], s[1]), _mm512_add_ps(s[2], s[3])));
  *M = mn;
  return alpha;
}

// Value chains of one row from key p (even) to `valid`: even keys into a,
// odd keys into b. v points at the chunk's first value row.
template <int NZ>
inline void pv(const float* e, const float* v, int64_t stride, int p, int valid, int nz, __m512* a,
               __m512* b) {
  const int n = NZ > 0 ? NZ : nz;
  for (; p + 2 <= valid; p += 2) {
    const __m512 ea = _mm512_set1_ps(e[p]), eb = _mm512_set1_ps(e[p + 1]);
    const float* va = v + p * stride;
    const float* vb = va + stride;
    for (int z = 0; z < n; ++z) {
      a[z] = _mm512_fmadd_ps(ea, _mm512_loadu_ps(va + 16 * z), a[z]);
      b[z] = _mm512_fmadd_ps(eb, _mm512_loadu_ps(vb + 16 * z), b[z]);
    }
  }
  if (p < valid) {
    const __m512 ea = _mm512_set1_ps(e[p]);
    const float* va = v + p * stride;
    for (int z = 0; z < n; ++z) a[z] = _mm512_fmadd_ps(ea, _mm512_loadu_ps(va + 16 * z), a[z]);
  }
}

// out = fma(out, alpha, a) + b (out read as 0 on the first chunk).
inline void merge_out(float* out, bool first, float alpha, const __m512* a, const __m512* b,
                      int nz) {
  const __m512 al = _mm512_set1_ps(alpha);
  for (int z = 0; z < nz; ++z) {
    const __m512 old = first ? _mm512_setzero_ps() : _mm512_loadu_ps(out + 16 * z);
    _mm512_storeu_ps(out + 16 * z, _mm512_add_ps(_mm512_fmadd_ps(old, al, a[z]), b[z]));
  }
}

// Rows x and y (kTwo) finish a chunk together: their softmax steps, then their
// value chains sharing each loaded value row while both still see keys (the
// chains are those of one row at a time, so the bits are too).
template <int NZ, bool kTwo>
void rows_chunk(const __m512 (&rx)[4], const __m512 (&ry)[4], const AttentionRows& rows, int x,
                int y, const KvRows& kv, int c0, int nz, float scale, float* e, float* M,
                float* L) {
  constexpr int kMax = NZ > 0 ? NZ : 16;
  const int n = NZ > 0 ? NZ : nz;
  const int vx = std::min(rows.n_keys[x] - c0, kAttnChunk);
  const int vy = kTwo ? std::min(rows.n_keys[y] - c0, kAttnChunk) : 0;
  float* ex = e;
  float* ey = e + kAttnChunk;
  const float ax = softmax_step(rx, vx, scale, M + x, L + x, ex);
  const float ay = kTwo ? softmax_step(ry, vy, scale, M + y, L + y, ey) : 0.0f;
  const float* v = kv.v + static_cast<int64_t>(c0) * kv.stride;
  __m512 a[kMax], b[kMax], c[kMax], d[kMax];
  for (int z = 0; z < n; ++z) a[z] = b[z] = c[z] = d[z] = _mm512_setzero_ps();
  int p = 0;
  if constexpr (kTwo) {
    for (const int both = std::min(vx, vy) & ~1; p < both; p += 2) {
      const float* va = v + p * kv.stride;
      const float* vb = va + kv.stride;
      const __m512 xa = _mm512_set1_ps(ex[p]), xb = _mm512_set1_ps(ex[p + 1]);
      const __m512 ya = _mm512_set1_ps(ey[p]), yb = _mm512_set1_ps(ey[p + 1]);
      for (int z = 0; z < n; ++z) {
        const __m512 v0 = _mm512_loadu_ps(va + 16 * z), v1 = _mm512_loadu_ps(vb + 16 * z);
        a[z] = _mm512_fmadd_ps(xa, v0, a[z]);
        b[z] = _mm512_fmadd_ps(xb, v1, b[z]);
        c[z] = _mm512_fmadd_ps(ya, v0, c[z]);
        d[z] = _mm512_fmadd_ps(yb, v1, d[z]);
      }
    }
    pv<NZ>(ey, v, kv.stride, p, vy, nz, c, d);
    merge_out(rows.out[y], c0 == 0, ay, c, d, n);
  }
  pv<NZ>(ex, v, kv.stride, p, vx, nz, a, b);
  merge_out(rows.out[x], c0 == 0, ax, a, b, n);
}

}  // namespace

void attend(const AttentionRows& rows, const KvRows& kv, int head_dim, float scale,
            float* scratch) {
  const AttnState st = attn_begin(rows, head_dim, scratch);
  float *kt = st.kt, *e = st.e, *M = st.M, *L = st.L;
  const int n_max = st.n_max;
  const int nz = head_dim / 16;
  // Two rows at a time: eight independent FMA chains per loaded key vector,
  // and value rows loaded once for both (HD 64; HD 128 has no registers for
  // two rows' value chains, so it pairs rows for the scores only).
  auto finish = [&](int x, int y, const __m512(&rx)[4], const __m512(&ry)[4], int c0) {
    const bool two = y >= 0;
    if (nz == 4 && two) return rows_chunk<4, true>(rx, ry, rows, x, y, kv, c0, nz, scale, e, M, L);
    if (nz == 4) return rows_chunk<4, false>(rx, ry, rows, x, 0, kv, c0, nz, scale, e, M, L);
    if (nz == 8) {
      rows_chunk<8, false>(rx, ry, rows, x, 0, kv, c0, nz, scale, e, M, L);
      if (two) rows_chunk<8, false>(ry, rx, rows, y, 0, kv, c0, nz, scale, e, M, L);
      return;
    }
    rows_chunk<0, false>(rx, ry, rows, x, 0, kv, c0, nz, scale, e, M, L);
    if (two) rows_chunk<0, false>(ry, rx, rows, y, 0, kv, c0, nz, scale, e, M, L);
  };
  for (int c0 = 0; c0 < n_max; c0 += kAttnChunk) {
    attn_transpose_chunk(kv, c0, std::min(kAttnChunk, n_max - c0), head_dim, kt);
    // Rows that still see keys in this chunk, two at a time.
    int pending = -1;
    for (int r = 0; r < rows.count; ++r) {
      if (rows.n_keys[r] <= c0) continue;
      if (pending < 0) {
        pending = r;
        continue;
      }
      __m512 a[4], b[4];
      qk<true>(rows.q[pending], rows.q[r], kt, head_dim, a, b);
      finish(pending, r, a, b, c0);
      pending = -1;
    }
    if (pending >= 0) {
      __m512 a[4], b[4];
      qk<false>(rows.q[pending], nullptr, kt, head_dim, a, b);
      finish(pending, -1, a, b, c0);
    }
  }
  for (int r = 0; r < rows.count; ++r) {
    if (rows.n_keys[r] <= 0) continue;
    const __m512 inv = _mm512_set1_ps(1.0f / L[r]);
    for (int z = 0; z < nz; ++z)
      _mm512_storeu_ps(rows.out[r] + 16 * z,
                       _mm512_mul_ps(_mm512_loadu_ps(rows.out[r] + 16 * z), inv));
  }
}

}  // namespace sf::kernels::avx512
