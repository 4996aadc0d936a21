// AVX-512 versions of the f32 hot loops (see simd.h). Everything here is in
// an anonymous namespace or declared in simd.h: no inline function shared
// with baseline code, so the linker cannot pick an AVX-512 copy for it.
// GCC 12's AVX-512 headers seed masked builtins with a self-initialized
// `__Y` (_mm512_undefined_ps), which -W(maybe-)uninitialized reports once
// inlined; the value is never read.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#include <immintrin.h>

#include <cmath>
#include <cstdint>

#include "train/ops/simd.h"

namespace sf::train::ops::simd {
namespace {

// e^x, Cephes expf: x = n ln2 + r with |r| <= ln2/2, e^r by a degree-6
// polynomial (~1 ulp), then scaled by 2^n. Inputs are clamped to where the
// result is finite or flushes to 0.
inline __m512 exp16(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(-104.0f));
  x = _mm512_min_ps(x, _mm512_set1_ps(88.7f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_scalef_ps(p, n);
}

inline __mmask16 first(int64_t n) {  // lanes [0, n) of a 16-lane block (none when n <= 0)
  if (n <= 0) return 0;
  return n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << n) - 1);
}

// rows 0..T-1 of src (HD floats, stride ld) -> dst (HD x Tp), zero padded.
void transpose(const float* src, int64_t ld, int T, int HD, int Tp, float* dst) {
  for (int d = 0; d < HD; ++d)
    for (int t = T; t < Tp; ++t) dst[d * Tp + t] = 0.0f;
  for (int t = 0; t < T; ++t) {
    const float* s = src + t * ld;
    for (int d = 0; d < HD; ++d) dst[d * Tp + t] = s[d];
  }
}

// Query rows are processed four at a time (kQB): each kt/vt load feeds four
// FMA chains and each dK/dV row update is shared by four queries. Rows past
// T repeat the last query and are discarded (their probabilities are masked
// to 0, so they add nothing to dK/dV).
constexpr int kQB = 4;

inline int padded(int T) {
  return (T + 31) / 32 * 32;
}  // two key blocks always exist

inline float hmax(__m512 v) {
  __m256 m = _mm256_max_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
  __m128 x = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
  x = _mm_max_ps(x, _mm_movehl_ps(x, x));
  x = _mm_max_ss(x, _mm_movehdup_ps(x));
  return _mm_cvtss_f32(x);
}

inline float hsum(__m512 v) {
  __m256 m = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
  __m128 x = _mm_add_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
  x = _mm_add_ps(x, _mm_movehl_ps(x, x));
  x = _mm_add_ss(x, _mm_movehdup_ps(x));
  return _mm_cvtss_f32(x);
}

template <int NV>
void fwd(const float* q, const float* k, const float* v, float* out, float* lse, int T, int HD,
         int64_t ldq, int64_t ldkv, float scale, float* scratch) {
  const int Tp = padded(T);
  float* kt = scratch;
  float* s = scratch + HD * Tp;  // kQB rows of Tp scores
  transpose(k, ldkv, T, HD, Tp, kt);
  const __mmask16 hm = first(HD - (NV - 1) * 16);
  const __m512 vscale = _mm512_set1_ps(scale), ninf = _mm512_set1_ps(-INFINITY);
  for (int t0 = 0; t0 < T; t0 += kQB) {
    const int nq = T - t0 < kQB ? T - t0 : kQB, n = t0 + nq, nb = (n + 15) / 16;
    const float* qr[kQB];
#pragma GCC unroll 8
    for (int i = 0; i < kQB; ++i) qr[i] = q + (i < nq ? t0 + i : t0 + nq - 1) * ldq;
    // Scores of kQB queries x two key blocks: eight independent chains.
    for (int j = 0; j < nb; j += 2) {
      __m512 a0[kQB], a1[kQB];
#pragma GCC unroll 8
      for (int i = 0; i < kQB; ++i) a0[i] = a1[i] = _mm512_setzero_ps();
      const float* kc = kt + 16 * j;
      for (int d = 0; d < HD; ++d) {
        const __m512 k0 = _mm512_loadu_ps(kc + d * Tp), k1 = _mm512_loadu_ps(kc + d * Tp + 16);
#pragma GCC unroll 8
        for (int i = 0; i < kQB; ++i) {
          const __m512 qd = _mm512_set1_ps(qr[i][d]);
          a0[i] = _mm512_fmadd_ps(qd, k0, a0[i]);
          a1[i] = _mm512_fmadd_ps(qd, k1, a1[i]);
        }
      }
#pragma GCC unroll 8
      for (int i = 0; i < nq; ++i) {
        const int keys = t0 + i + 1;  // causal: keys 0..t0+i
        float* si = s + i * Tp + 16 * j;
        _mm512_storeu_ps(
            si, _mm512_mask_mov_ps(ninf, first(keys - 16 * j), _mm512_mul_ps(a0[i], vscale)));
        if (j + 1 < nb)
          _mm512_storeu_ps(si + 16, _mm512_mask_mov_ps(ninf, first(keys - 16 * (j + 1)),
                                                       _mm512_mul_ps(a1[i], vscale)));
      }
    }
#pragma GCC unroll 8
    for (int i = 0; i < nq; ++i) {
      const int t = t0 + i, keys = t + 1, nbi = (keys + 15) / 16;
      float* si = s + i * Tp;
      __m512 vmax = ninf;
      for (int j = 0; j < nbi; ++j) vmax = _mm512_max_ps(vmax, _mm512_loadu_ps(si + 16 * j));
      const float mx = hmax(vmax);
      const __m512 vmx = _mm512_set1_ps(mx);
      __m512 vsum = _mm512_setzero_ps();
      for (int j = 0; j < nbi; ++j) {
        const __m512 e = _mm512_maskz_mov_ps(
            first(keys - 16 * j), exp16(_mm512_sub_ps(_mm512_loadu_ps(si + 16 * j), vmx)));
        _mm512_storeu_ps(si + 16 * j, e);
        vsum = _mm512_add_ps(vsum, e);
      }
      const float sum = hsum(vsum);
      const float inv = 1.0f / sum;
      // out = sum_t2 p[t2] v[t2], even and odd t2 in separate accumulators.
      __m512 acc[NV], acc2[NV];
#pragma GCC unroll 8
      for (int c = 0; c < NV; ++c) acc[c] = acc2[c] = _mm512_setzero_ps();
      int t2 = 0;
      for (; t2 + 2 <= keys; t2 += 2) {
        const __m512 p0 = _mm512_set1_ps(si[t2] * inv), p1 = _mm512_set1_ps(si[t2 + 1] * inv);
        const float* v0 = v + t2 * ldkv;
        const float* v1 = v0 + ldkv;
#pragma GCC unroll 8
        for (int c = 0; c < NV - 1; ++c) {
          acc[c] = _mm512_fmadd_ps(p0, _mm512_loadu_ps(v0 + 16 * c), acc[c]);
          acc2[c] = _mm512_fmadd_ps(p1, _mm512_loadu_ps(v1 + 16 * c), acc2[c]);
        }
        acc[NV - 1] =
            _mm512_fmadd_ps(p0, _mm512_maskz_loadu_ps(hm, v0 + 16 * (NV - 1)), acc[NV - 1]);
        acc2[NV - 1] =
            _mm512_fmadd_ps(p1, _mm512_maskz_loadu_ps(hm, v1 + 16 * (NV - 1)), acc2[NV - 1]);
      }
      if (t2 < keys) {
        const __m512 p = _mm512_set1_ps(si[t2] * inv);
        const float* vr = v + t2 * ldkv;
#pragma GCC unroll 8
        for (int c = 0; c < NV - 1; ++c)
          acc[c] = _mm512_fmadd_ps(p, _mm512_loadu_ps(vr + 16 * c), acc[c]);
        acc[NV - 1] =
            _mm512_fmadd_ps(p, _mm512_maskz_loadu_ps(hm, vr + 16 * (NV - 1)), acc[NV - 1]);
      }
      float* o = out + t * ldq;
#pragma GCC unroll 8
      for (int c = 0; c < NV - 1; ++c) _mm512_storeu_ps(o + 16 * c, _mm512_add_ps(acc[c], acc2[c]));
      _mm512_mask_storeu_ps(o + 16 * (NV - 1), hm, _mm512_add_ps(acc[NV - 1], acc2[NV - 1]));
      lse[t] = mx + std::log(sum);
    }
  }
}

template <int NV>
void bwd(const float* dout, const float* q, const float* k, const float* v, const float* out,
         const float* lse, float* dq, float* dk, float* dv, int T, int HD, int64_t ldq,
         int64_t ldkv, int64_t ldd, float scale, float* scratch) {
  const int Tp = padded(T);
  float* kt = scratch;
  float* vt = kt + HD * Tp;
  float* pr = vt + HD * Tp;    // kQB rows of probabilities
  float* dsr = pr + kQB * Tp;  // kQB rows of score gradients (times scale)
  transpose(k, ldkv, T, HD, Tp, kt);
  transpose(v, ldkv, T, HD, Tp, vt);
  const __mmask16 hm = first(HD - (NV - 1) * 16);
  const __m512 vscale = _mm512_set1_ps(scale);
  for (int t = 0; t < T; ++t)
#pragma GCC unroll 8
    for (int c = 0; c < NV; ++c) {
      const __mmask16 m = c == NV - 1 ? hm : static_cast<__mmask16>(0xFFFF);
      _mm512_mask_storeu_ps(dk + t * ldd + 16 * c, m, _mm512_setzero_ps());
      _mm512_mask_storeu_ps(dv + t * ldd + 16 * c, m, _mm512_setzero_ps());
    }
  for (int t0 = 0; t0 < T; t0 += kQB) {
    const int nq = T - t0 < kQB ? T - t0 : kQB, n = t0 + nq, nb = (n + 15) / 16;
    const float* qr[kQB];
    const float* gr[kQB];
    __m512 D[kQB], L[kQB];
#pragma GCC unroll 8
    for (int i = 0; i < kQB; ++i) {
      const int t = i < nq ? t0 + i : t0 + nq - 1;
      qr[i] = q + t * ldq;
      gr[i] = dout + t * ldq;
      // softmax backward: ds = p (dp - D), D = sum_j p_j dp_j = dout . out
      __m512 dsum = _mm512_setzero_ps();
#pragma GCC unroll 8
      for (int c = 0; c < NV; ++c) {
        const __mmask16 m = c == NV - 1 ? hm : static_cast<__mmask16>(0xFFFF);
        dsum = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, gr[i] + 16 * c),
                               _mm512_maskz_loadu_ps(m, out + t * ldq + 16 * c), dsum);
      }
      D[i] = _mm512_set1_ps(hsum(dsum));
      L[i] = _mm512_set1_ps(lse[t]);
    }
    // Scores and dp = dout . v for kQB queries x one key block (eight chains).
    for (int j = 0; j < nb; ++j) {
      __m512 s[kQB], dp[kQB];
#pragma GCC unroll 8
      for (int i = 0; i < kQB; ++i) s[i] = dp[i] = _mm512_setzero_ps();
      const float* kc = kt + 16 * j;
      const float* vc = vt + 16 * j;
      for (int d = 0; d < HD; ++d) {
        const __m512 kv = _mm512_loadu_ps(kc + d * Tp), vv = _mm512_loadu_ps(vc + d * Tp);
#pragma GCC unroll 8
        for (int i = 0; i < kQB; ++i) {
          s[i] = _mm512_fmadd_ps(_mm512_set1_ps(qr[i][d]), kv, s[i]);
          dp[i] = _mm512_fmadd_ps(_mm512_set1_ps(gr[i][d]), vv, dp[i]);
        }
      }
#pragma GCC unroll 8
      for (int i = 0; i < kQB; ++i) {
        const int keys = i < nq ? t0 + i + 1 : 0;  // repeated rows: nothing
        const __m512 p =
            _mm512_maskz_mov_ps(first(keys - 16 * j), exp16(_mm512_fmsub_ps(s[i], vscale, L[i])));
        _mm512_storeu_ps(pr + i * Tp + 16 * j, p);
        _mm512_storeu_ps(dsr + i * Tp + 16 * j,
                         _mm512_mul_ps(_mm512_mul_ps(p, _mm512_sub_ps(dp[i], D[i])), vscale));
      }
    }
// dq_i = sum_t2 ds_i[t2] k[t2]; dk[t2] += sum_i ds_i[t2] q_i; dv[t2] += sum_i p_i[t2] dout_i
#pragma GCC unroll 8
    for (int c = 0; c < NV; ++c) {
      const __mmask16 m = c == NV - 1 ? hm : static_cast<__mmask16>(0xFFFF);
      __m512 qc[kQB], gc[kQB], acc[kQB];
#pragma GCC unroll 8
      for (int i = 0; i < kQB; ++i) {
        qc[i] = _mm512_maskz_loadu_ps(m, qr[i] + 16 * c);
        gc[i] = _mm512_maskz_loadu_ps(m, gr[i] + 16 * c);
        acc[i] = _mm512_setzero_ps();
      }
      for (int t2 = 0; t2 < n; ++t2) {
        const __m512 kr = _mm512_maskz_loadu_ps(m, k + t2 * ldkv + 16 * c);
        float* dkr = dk + t2 * ldd + 16 * c;
        float* dvr = dv + t2 * ldd + 16 * c;
        __m512 dkv = _mm512_maskz_loadu_ps(m, dkr), dvv = _mm512_maskz_loadu_ps(m, dvr);
#pragma GCC unroll 8
        for (int i = 0; i < kQB; ++i) {
          const __m512 a = _mm512_set1_ps(dsr[i * Tp + t2]), b = _mm512_set1_ps(pr[i * Tp + t2]);
          acc[i] = _mm512_fmadd_ps(a, kr, acc[i]);
          dkv = _mm512_fmadd_ps(a, qc[i], dkv);
          dvv = _mm512_fmadd_ps(b, gc[i], dvv);
        }
        _mm512_mask_storeu_ps(dkr, m, dkv);
        _mm512_mask_storeu_ps(dvr, m, dvv);
      }
#pragma GCC unroll 8
      for (int i = 0; i < nq; ++i) _mm512_mask_storeu_ps(dq + (t0 + i) * ldq + 16 * c, m, acc[i]);
    }
  }
}

using FwdFn = void (*)(const float*, const float*, const float*, float*, float*, int, int, int64_t,
                       int64_t, float, float*);
using BwdFn = void (*)(const float*, const float*, const float*, const float*, const float*,
                       const float*, float*, float*, float*, int, int, int64_t, int64_t, int64_t,
                       float, float*);
constexpr FwdFn kFwd[8] = {fwd<1>, fwd<2>, fwd<3>, fwd<4>, fwd<5>, fwd<6>, fwd<7>, fwd<8>};
constexpr BwdFn kBwd[8] = {bwd<1>, bwd<2>, bwd<3>, bwd<4>, bwd<5>, bwd<6>, bwd<7>, bwd<8>};

}  // namespace

void attn_forward_head(const float* q, const float* k, const float* v, float* out, float* lse,
                       int T, int head_dim, int64_t ldq, int64_t ldkv, float scale,
                       float* scratch) {
  kFwd[(head_dim + 15) / 16 - 1](q, k, v, out, lse, T, head_dim, ldq, ldkv, scale, scratch);
}

void attn_backward_head(const float* dout, const float* q, const float* k, const float* v,
                        const float* out, const float* lse, float* dq, float* dk, float* dv, int T,
                        int head_dim, int64_t ldq, int64_t ldkv, int64_t ldd, float scale,
                        float* scratch) {
  kBwd[(head_dim + 15) / 16 - 1](dout, q, k, v, out, lse, dq, dk, dv, T, head_dim, ldq, ldkv, ldd,
                                 scale, scratch);
}

double softmax_xent_row(float* x, int64_t V, int32_t target, float grad, bool want_grad) {
  const __m512 ninf = _mm512_set1_ps(-INFINITY);
  __m512 vmax = ninf;
  for (int64_t i = 0; i < V; i += 16)
    vmax = _mm512_max_ps(vmax, _mm512_mask_loadu_ps(ninf, first(V - i), x + i));
  const float mx = hmax(vmax);
  const float tl = x[target];
  const __m512 vmx = _mm512_set1_ps(mx);
  __m512 vsum = _mm512_setzero_ps();
  for (int64_t i = 0; i < V; i += 16) {
    const __mmask16 m = first(V - i);
    const __m512 e =
        _mm512_maskz_mov_ps(m, exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), vmx)));
    vsum = _mm512_add_ps(vsum, e);
    if (want_grad) _mm512_mask_storeu_ps(x + i, m, e);
  }
  const double sum = hsum(vsum);
  if (want_grad) {
    const __m512 g = _mm512_set1_ps(static_cast<float>(grad / sum));
    for (int64_t i = 0; i < V; i += 16) {
      const __mmask16 m = first(V - i);
      _mm512_mask_storeu_ps(x + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), g));
    }
    x[target] -= grad;
  }
  return std::log(sum) - static_cast<double>(tl - mx);
}

void swiglu_forward(const float* gate, const float* up, float* h, int64_t n) {
  const __m512 one = _mm512_set1_ps(1.0f);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = first(n - i);
    const __m512 g = _mm512_maskz_loadu_ps(m, gate + i);
    const __m512 e = exp16(_mm512_sub_ps(_mm512_setzero_ps(), g));
    const __m512 y =
        _mm512_mul_ps(_mm512_div_ps(g, _mm512_add_ps(one, e)), _mm512_maskz_loadu_ps(m, up + i));
    _mm512_mask_storeu_ps(h + i, m, y);
  }
}

void swiglu_backward(const float* dh, const float* gate, const float* up, float* dgate, float* dup,
                     int64_t n) {
  const __m512 one = _mm512_set1_ps(1.0f);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = first(n - i);
    const __m512 g = _mm512_maskz_loadu_ps(m, gate + i);
    const __m512 d = _mm512_maskz_loadu_ps(m, dh + i);
    const __m512 u = _mm512_maskz_loadu_ps(m, up + i);
    const __m512 sig =
        _mm512_div_ps(one, _mm512_add_ps(one, exp16(_mm512_sub_ps(_mm512_setzero_ps(), g))));
    // silu'(g) = sig (1 + g (1 - sig))
    const __m512 dsilu = _mm512_mul_ps(sig, _mm512_fmadd_ps(g, _mm512_sub_ps(one, sig), one));
    _mm512_mask_storeu_ps(dup + i, m, _mm512_mul_ps(_mm512_mul_ps(d, g), sig));
    _mm512_mask_storeu_ps(dgate + i, m, _mm512_mul_ps(_mm512_mul_ps(d, u), dsilu));
  }
}

}  // namespace sf::train::ops::simd
