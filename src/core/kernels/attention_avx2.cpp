// AVX2 attention kernel: the AVX-512 kernel's scheme (attention_avx512.cpp)
// with 8-lane registers. A chunk's 64 scores are 8 ymm FMA chains over the
// head dimension against the transposed keys; the sum of the chunk's 64
// probabilities is folded in the reference's tree order (attention_kernels.h:
// lane i of 16 = (e[i] + e[16+i]) + (e[32+i] + e[48+i]), then halves), and
// exp's final 2^n is applied in two exact steps (AVX2 has no vscalefps), so
// every row's result equals the scalar reference bit for bit.
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "core/kernels/attention_kernels.h"

namespace sf::kernels::avx2 {
namespace {

// 2^k for integer-valued k in [-126, 127].
inline __m256 pow2(__m256 k) {
  const __m256i e = _mm256_add_epi32(_mm256_cvtps_epi32(k), _mm256_set1_epi32(127));
  return _mm256_castsi256_ps(_mm256_slli_epi32(e, 23));
}

// attn_exp on 8 lanes. n is in [-150, 0] for the kernel's inputs (x <= 0 after
// the clamp at -104): p * 2^max(n, -100) is exact (p in [0.7, 1.5], result
// normal), and the second factor 2^(n - that) >= 2^-50 is exact too, so the one
// rounding is that of the correctly rounded ldexp(p, n).
inline __m256 exp_ps(__m256 x) {
  x = _mm256_max_ps(x, _mm256_set1_ps(kExpClamp));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(kLog2e)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fmadd_ps(n, _mm256_set1_ps(-kLn2Hi), x);
  r = _mm256_fmadd_ps(n, _mm256_set1_ps(-kLn2Lo), r);
  __m256 p = _mm256_set1_ps(kExpC[6]);
  for (int i = 5; i >= 0; --i) p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kExpC[i]));
  const __m256 n1 = _mm256_max_ps(n, _mm256_set1_ps(-100.0f));
  return _mm256_mul_ps(_mm256_mul_ps(p, pow2(n1)), pow2(_mm256_sub_ps(n, n1)));
}

// Lanes where (lane index + base) < valid.
inline __m256 lanes_below(int base, int valid) {
  const __m256i idx =
      _mm256_add_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(base));
  return _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(valid), idx));
}

inline float hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

// The reference's tree_sum over 64 values held as 8 registers of 8.
inline float tree_sum(const __m256 (&e)[8]) {
  const __m256 lo = _mm256_add_ps(_mm256_add_ps(e[0], e[2]), _mm256_add_ps(e[4], e[6]));
  const __m256 hi = _mm256_add_ps(_mm256_add_ps(e[1], e[3]), _mm256_add_ps(e[5], e[7]));
  const __m256 h = _mm256_add_ps(lo, hi);  // lanes i + (i + 8)
  const __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  const __m128 d = _mm_add_ps(q, _mm_movehl_ps(q, q));
  return _mm_cvtss_f32(_mm_add_ss(d, _mm_movehdup_ps(d)));
}

// One row's step over one chunk; NY = head_dim / 8 registers (0: run time).
template <int NY>
void row_chunk(const float* q, const float* kt, const KvRows& kv, int c0, int valid, int ny_rt,
               float scale, float* e, float* M, float* L, float* out) {
  const int ny = NY > 0 ? NY : ny_rt;
  const int head_dim = 8 * ny;
  __m256 s[8];
  for (int j = 0; j < 8; ++j) s[j] = _mm256_setzero_ps();
  for (int d = 0; d < head_dim; ++d) {
    const __m256 x = _mm256_set1_ps(q[d]);
    const float* k = kt + d * kAttnChunk;
    for (int j = 0; j < 8; ++j) s[j] = _mm256_fmadd_ps(x, _mm256_loadu_ps(k + 8 * j), s[j]);
  }
  const __m256 sc = _mm256_set1_ps(scale);
  const __m256 ninf = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  __m256 live[8], mx = ninf;
  for (int j = 0; j < 8; ++j) {
    live[j] = lanes_below(8 * j, valid);
    s[j] = _mm256_blendv_ps(ninf, _mm256_mul_ps(s[j], sc), live[j]);
    mx = _mm256_max_ps(mx, s[j]);
  }
  const float m_old = *M;
  const float mn = std::max(m_old, hmax(mx));
  const float alpha = m_old == -std::numeric_limits<float>::infinity()
                          ? 0.0f
                          : _mm256_cvtss_f32(exp_ps(_mm256_set1_ps(m_old - mn)));
  const __m256 mv = _mm256_set1_ps(mn);
  for (int j = 0; j < 8; ++j) {
    s[j] = _mm256_and_ps(exp_ps(_mm256_sub_ps(s[j], mv)), live[j]);
    _mm256_storeu_ps(e + 8 * j, s[j]);
  }
  *L = *L * alpha + tree_sum(s);
  *M = mn;

  constexpr int kMax = NY > 0 ? NY : 32;
  __m256 a[kMax], b[kMax];
  for (int z = 0; z < ny; ++z) a[z] = b[z] = _mm256_setzero_ps();
  const float* v = kv.v + static_cast<int64_t>(c0) * kv.stride;
  int p = 0;
  for (; p + 2 <= valid; p += 2) {
    const __m256 ea = _mm256_set1_ps(e[p]), eb = _mm256_set1_ps(e[p + 1]);
    const float* va = v + p * kv.stride;
    const float* vb = va + kv.stride;
    for (int z = 0; z < ny; ++z) {
      a[z] = _mm256_fmadd_ps(ea, _mm256_loadu_ps(va + 8 * z), a[z]);
      b[z] = _mm256_fmadd_ps(eb, _mm256_loadu_ps(vb + 8 * z), b[z]);
    }
  }
  if (p < valid) {
    const __m256 ea = _mm256_set1_ps(e[p]);
    const float* va = v + p * kv.stride;
    for (int z = 0; z < ny; ++z) a[z] = _mm256_fmadd_ps(ea, _mm256_loadu_ps(va + 8 * z), a[z]);
  }
  const __m256 al = _mm256_set1_ps(alpha);
  for (int z = 0; z < ny; ++z) {
    const __m256 old = c0 == 0 ? _mm256_setzero_ps() : _mm256_loadu_ps(out + 8 * z);
    _mm256_storeu_ps(out + 8 * z, _mm256_add_ps(_mm256_fmadd_ps(old, al, a[z]), b[z]));
  }
}

}  // namespace

void attend(const AttentionRows& rows, const KvRows& kv, int head_dim, float scale,
            float* scratch) {
  const AttnState st = attn_begin(rows, head_dim, scratch);
  float *kt = st.kt, *e = st.e, *M = st.M, *L = st.L;
  const int n_max = st.n_max;
  const int ny = head_dim / 8;
  for (int c0 = 0; c0 < n_max; c0 += kAttnChunk) {
    attn_transpose_chunk(kv, c0, std::min(kAttnChunk, n_max - c0), head_dim, kt);
    for (int r = 0; r < rows.count; ++r) {
      const int valid = std::min(rows.n_keys[r] - c0, kAttnChunk);
      if (valid <= 0) continue;
      if (ny == 8)
        row_chunk<8>(rows.q[r], kt, kv, c0, valid, ny, scale, e, M + r, L + r, rows.out[r]);
      else
        row_chunk<0>(rows.q[r], kt, kv, c0, valid, ny, scale, e, M + r, L + r, rows.out[r]);
    }
  }
  for (int r = 0; r < rows.count; ++r) {
    if (rows.n_keys[r] <= 0) continue;
    const __m256 inv = _mm256_set1_ps(1.0f / L[r]);
    for (int z = 0; z < ny; ++z)
      _mm256_storeu_ps(rows.out[r] + 8 * z,
                       _mm256_mul_ps(_mm256_loadu_ps(rows.out[r] + 8 * z), inv));
  }
}

}  // namespace sf::kernels::avx2
