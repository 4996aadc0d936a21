// Internal: the attention kernels behind core/attention.h, and the numeric
// recipe both of them follow (so the scalar reference and the SIMD kernel
// agree bit for bit).
//
// Per row and chunk of kAttnChunk keys (positions c0 .. c0+63, `valid` of them
// visible to the row):
//   s[p]   = fma chain over d of q[d] * k[p][d], from 0, times scale
//   mc     = max of the valid s;  Mn = max(M, mc)
//   alpha  = 0 if M is -inf (first chunk) else attn_exp(M - Mn)
//   e[p]   = attn_exp(s[p] - Mn) for valid p, 0 for the rest
//   sum    = tree_sum(e): lanes t[i] = (e[i] + e[16+i]) + (e[32+i] + e[48+i]),
//            then t[i] + t[i+8], + [i+4], + [i+2], + [i+1]
//   L      = L * alpha + sum
//   A, B   = fma chains over the valid even (A) and odd (B) p of e[p] * v[p][d]
//   o[d]   = fma(o[d], alpha, A[d]) + B[d]   (o = 0 on the first chunk)
// and at the end out[d] = o[d] * (1 / L).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <limits>

#include "core/attention.h"

namespace sf::kernels {

// exp(x) for x <= 0 as the kernels compute it: x clamped at -104 (where
// exp underflows to zero anyway, and -inf becomes finite), x = n ln2 + r with
// n = nearest integer to x log2(e) and r by a two-part ln2, e^r by a degree-6
// Taylor polynomial (relative error below 2e-7 on |r| <= ln2/2), times 2^n.
inline constexpr float kExpClamp = -104.0f;
inline constexpr float kLog2e = 1.44269504088896341f;
inline constexpr float kLn2Hi = 0.693359375f;
inline constexpr float kLn2Lo = -2.12194440e-4f;
inline constexpr float kExpC[7] = {1.0f,         1.0f,          0.5f,         1.0f / 6.0f,
                                   1.0f / 24.0f, 1.0f / 120.0f, 1.0f / 720.0f};

// Internal linkage on purpose: ISA files include this with their own flags, and
// one shared copy compiled for AVX2 must never run on a baseline CPU.
static inline float attn_exp(float x) {
  x = x < kExpClamp ? kExpClamp : x;
  const float n = std::nearbyint(x * kLog2e);
  float r = std::fma(n, -kLn2Hi, x);
  r = std::fma(n, -kLn2Lo, r);
  float p = kExpC[6];
  for (int i = 5; i >= 0; --i) p = std::fma(p, r, kExpC[i]);
  return std::ldexp(p, static_cast<int>(n));
}

// Scratch layout shared by the kernels: transposed key chunk (head_dim x 64),
// the chunk's exp values of two rows (2 x 64), then M and L per row.
static inline size_t attn_scratch_floats(int head_dim, int rows) {
  return static_cast<size_t>(head_dim) * kAttnChunk + 2 * kAttnChunk +
         2 * static_cast<size_t>(rows);
}

// The start of every kernel's call: scratch pointers, each row's running max
// (-inf) and sum (0), zeros for rows without keys, and the most keys any row
// sees. Plain code, shared by every level.
struct AttnState {
  float *kt, *e, *M, *L;
  int n_max;
};
static inline AttnState attn_begin(const AttentionRows& rows, int head_dim, float* scratch) {
  AttnState st{};
  st.kt = scratch;
  st.e = scratch + static_cast<size_t>(head_dim) * kAttnChunk;
  st.M = st.e + 2 * kAttnChunk;
  st.L = st.M + rows.count;
  for (int r = 0; r < rows.count; ++r) {
    st.M[r] = -std::numeric_limits<float>::infinity();
    st.L[r] = 0.0f;
    st.n_max = std::max(st.n_max, rows.n_keys[r]);
    if (rows.n_keys[r] <= 0) std::memset(rows.out[r], 0, head_dim * sizeof(float));
  }
  return st;
}

// Keys c0 .. c0+valid-1 (head_dim each) transposed into kt[d * 64 + p], so
// lanes are key positions; lanes past `valid` are zero.
static inline void attn_transpose_chunk(const KvRows& kv, int c0, int valid, int head_dim,
                                        float* kt) {
  if (valid < kAttnChunk) std::memset(kt, 0, sizeof(float) * head_dim * kAttnChunk);
  for (int p = 0; p < valid; ++p) {
    const float* k = kv.k + static_cast<int64_t>(c0 + p) * kv.stride;
    for (int d = 0; d < head_dim; ++d) kt[d * kAttnChunk + p] = k[d];
  }
}

void attend_ref(const AttentionRows& rows, const KvRows& kv, int head_dim, float scale,
                float* scratch);

namespace avx2 {
// head_dim must be a multiple of 8 and at most 256 (callers fall back to
// attend_ref).
void attend(const AttentionRows& rows, const KvRows& kv, int head_dim, float scale, float* scratch);
}  // namespace avx2

namespace avx512 {
// head_dim must be a multiple of 16 (callers fall back to attend_ref).
void attend(const AttentionRows& rows, const KvRows& kv, int head_dim, float scale, float* scratch);
}  // namespace avx512

}  // namespace sf::kernels
