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

namespace sf::kernels::avx512 {
namespace {

inline __m512 exp_ps(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(kExpClamp));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(kLog2e)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fmadd_ps(n, _mm512_set1_ps(-kLn2Hi), x);
  r = _mm512_fmadd_ps(n, _mm512_set1_ps(-kLn2Lo), r);
  __m512 p = _mm512_set1_ps(kExpC[6]);
  for (int i = 5; i >= 0; --i) p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kExpC[i]));
  return _mm512_scalef_ps(p, n);
}

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

// Transposes keys c0 .. c0+valid-1 (head_dim each) into kt[d * 64 + p];
// lanes past `valid` are zero.
void transpose_chunk(const KvRows& kv, int c0, int valid, int head_dim, float* kt) {
  if (valid < kAttnChunk) std::memset(kt, 0, sizeof(float) * head_dim * kAttnChunk);
  for (int p = 0; p < valid; ++p) {
    const float* k = kv.k + static_cast<int64_t>(c0 + p) * kv.stride;
    for (int d = 0; d < head_dim; ++d) kt[d * kAttnChunk + p] = k[d];
  }
}

// One row's step over one chunk. NZ = head_dim / 16 registers of output.
template <int NZ>
void row_chunk(const float* q, const float* kt, const KvRows& kv, int c0, int valid, int nz_rt,
               float scale, float* e, float* M, float* L, float* out) {
  const int nz = NZ > 0 ? NZ : nz_rt;
  const int head_dim = 16 * nz;
  __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  for (int d = 0; d < head_dim; ++d) {
    const __m512 qd = _mm512_set1_ps(q[d]);
    const float* k = kt + d * kAttnChunk;
    s0 = _mm512_fmadd_ps(qd, _mm512_loadu_ps(k), s0);
    s1 = _mm512_fmadd_ps(qd, _mm512_loadu_ps(k + 16), s1);
    s2 = _mm512_fmadd_ps(qd, _mm512_loadu_ps(k + 32), s2);
    s3 = _mm512_fmadd_ps(qd, _mm512_loadu_ps(k + 48), s3);
  }
  const __m512 sc = _mm512_set1_ps(scale);
  const __m512 ninf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  const __mmask16 m0 = lanes_below(valid), m1 = lanes_below(valid - 16),
                  m2 = lanes_below(valid - 32), m3 = lanes_below(valid - 48);
  s0 = _mm512_mask_mul_ps(ninf, m0, s0, sc);
  s1 = _mm512_mask_mul_ps(ninf, m1, s1, sc);
  s2 = _mm512_mask_mul_ps(ninf, m2, s2, sc);
  s3 = _mm512_mask_mul_ps(ninf, m3, s3, sc);
  const float mc =
      _mm512_reduce_max_ps(_mm512_max_ps(_mm512_max_ps(s0, s1), _mm512_max_ps(s2, s3)));
  const float m_old = *M;
  const float mn = std::max(m_old, mc);
  const float alpha = m_old == -std::numeric_limits<float>::infinity()
                          ? 0.0f
                          : _mm512_cvtss_f32(exp_ps(_mm512_set1_ps(m_old - mn)));
  const __m512 mv = _mm512_set1_ps(mn);
  const __m512 e0 = _mm512_maskz_mov_ps(m0, exp_ps(_mm512_sub_ps(s0, mv)));
  const __m512 e1 = _mm512_maskz_mov_ps(m1, exp_ps(_mm512_sub_ps(s1, mv)));
  const __m512 e2 = _mm512_maskz_mov_ps(m2, exp_ps(_mm512_sub_ps(s2, mv)));
  const __m512 e3 = _mm512_maskz_mov_ps(m3, exp_ps(_mm512_sub_ps(s3, mv)));
  _mm512_storeu_ps(e, e0);
  _mm512_storeu_ps(e + 16, e1);
  _mm512_storeu_ps(e + 32, e2);
  _mm512_storeu_ps(e + 48, e3);
  *L = *L * alpha + tree_sum(_mm512_add_ps(_mm512_add_ps(e0, e1), _mm512_add_ps(e2, e3)));
  *M = mn;

  constexpr int kMax = NZ > 0 ? NZ : 16;
  __m512 a[kMax], b[kMax];
  for (int z = 0; z < nz; ++z) a[z] = b[z] = _mm512_setzero_ps();
  const float* v = kv.v + static_cast<int64_t>(c0) * kv.stride;
  int p = 0;
  for (; p + 2 <= valid; p += 2) {
    const __m512 ea = _mm512_set1_ps(e[p]), eb = _mm512_set1_ps(e[p + 1]);
    const float* va = v + p * kv.stride;
    const float* vb = va + kv.stride;
    for (int z = 0; z < nz; ++z) {
      a[z] = _mm512_fmadd_ps(ea, _mm512_loadu_ps(va + 16 * z), a[z]);
      b[z] = _mm512_fmadd_ps(eb, _mm512_loadu_ps(vb + 16 * z), b[z]);
    }
  }
  if (p < valid) {
    const __m512 ea = _mm512_set1_ps(e[p]);
    const float* va = v + p * kv.stride;
    for (int z = 0; z < nz; ++z) a[z] = _mm512_fmadd_ps(ea, _mm512_loadu_ps(va + 16 * z), a[z]);
  }
  const __m512 al = _mm512_set1_ps(alpha);
  for (int z = 0; z < nz; ++z) {
    const __m512 old = c0 == 0 ? _mm512_setzero_ps() : _mm512_loadu_ps(out + 16 * z);
    _mm512_storeu_ps(out + 16 * z, _mm512_add_ps(_mm512_fmadd_ps(old, al, a[z]), b[z]));
  }
}

}  // namespace

void attend(const AttentionRows& rows, const KvRows& kv, int head_dim, float scale,
            float* scratch) {
  float* kt = scratch;
  float* e = kt + static_cast<size_t>(head_dim) * kAttnChunk;
  float* M = e + kAttnChunk;
  float* L = M + rows.count;
  const int nz = head_dim / 16;
  int n_max = 0;
  for (int r = 0; r < rows.count; ++r) {
    M[r] = -std::numeric_limits<float>::infinity();
    L[r] = 0.0f;
    n_max = std::max(n_max, rows.n_keys[r]);
    if (rows.n_keys[r] <= 0) std::memset(rows.out[r], 0, head_dim * sizeof(float));
  }
  for (int c0 = 0; c0 < n_max; c0 += kAttnChunk) {
    transpose_chunk(kv, c0, std::min(kAttnChunk, n_max - c0), head_dim, kt);
    for (int r = 0; r < rows.count; ++r) {
      const int valid = std::min(rows.n_keys[r] - c0, kAttnChunk);
      if (valid <= 0) continue;
      switch (nz) {
        case 4:
          row_chunk<4>(rows.q[r], kt, kv, c0, valid, nz, scale, e, M + r, L + r, rows.out[r]);
          break;
        case 8:
          row_chunk<8>(rows.q[r], kt, kv, c0, valid, nz, scale, e, M + r, L + r, rows.out[r]);
          break;
        default:
          row_chunk<0>(rows.q[r], kt, kv, c0, valid, nz, scale, e, M + r, L + r, rows.out[r]);
      }
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
