// Scalar reference of the attention kernel (the Scalar level's kernel): the recipe of
// attention_kernels.h written out lane by lane, in the order the AVX-512 kernel's lanes run it.
#include <algorithm>
#include <cstring>
#include <limits>

#include "core/kernels/attention_kernels.h"

namespace sf::kernels {
namespace {

// The 64 lanes of a chunk summed in the AVX-512 kernel's order.
float tree_sum(const float* e) {
  float t[16];
  for (int i = 0; i < 16; ++i) t[i] = (e[i] + e[16 + i]) + (e[32 + i] + e[48 + i]);
  for (int w = 8; w >= 1; w /= 2)
    for (int i = 0; i < w; ++i) t[i] = t[i] + t[i + w];
  return t[0];
}

}  // namespace

void attend_ref(const AttentionRows& rows, const KvRows& kv, int head_dim, float scale,
                float* scratch) {
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  const AttnState st = attn_begin(rows, head_dim, scratch);
  float *e = st.e, *M = st.M, *L = st.L;
  const int n_max = st.n_max;
  for (int c0 = 0; c0 < n_max; c0 += kAttnChunk) {
    for (int r = 0; r < rows.count; ++r) {
      const int valid = std::min(rows.n_keys[r] - c0, kAttnChunk);
      if (valid <= 0) continue;
      const float* q = rows.q[r];
      float s[kAttnChunk];
      float mc = kNegInf;
      for (int p = 0; p < valid; ++p) {
        const float* k = kv.k + (c0 + p) * kv.stride;
        float acc = 0.0f;
        for (int d = 0; d < head_dim; ++d) acc = std::fma(q[d], k[d], acc);
        s[p] = acc * scale;
        mc = std::max(mc, s[p]);
      }
      const float mn = std::max(M[r], mc);
      const float alpha = M[r] == kNegInf ? 0.0f : attn_exp(M[r] - mn);
      for (int p = 0; p < kAttnChunk; ++p) e[p] = p < valid ? attn_exp(s[p] - mn) : 0.0f;
      L[r] = L[r] * alpha + tree_sum(e);
      M[r] = mn;
      float* o = rows.out[r];
      for (int d = 0; d < head_dim; ++d) {
        float a = 0.0f, b = 0.0f;
        for (int p = 0; p < valid; p += 2) a = std::fma(e[p], kv.v[(c0 + p) * kv.stride + d], a);
        for (int p = 1; p < valid; p += 2) b = std::fma(e[p], kv.v[(c0 + p) * kv.stride + d], b);
        const float old = c0 == 0 ? 0.0f : o[d];
        o[d] = std::fma(old, alpha, a) + b;
      }
    }
  }
  for (int r = 0; r < rows.count; ++r) {
    if (rows.n_keys[r] <= 0) continue;
    const float inv = 1.0f / L[r];
    for (int d = 0; d < head_dim; ++d) rows.out[r][d] = rows.out[r][d] * inv;
  }
}

}  // namespace sf::kernels
