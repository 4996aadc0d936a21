// Internal: exp on 16 floats for the AVX-512 kernels (attention's softmax,
// SwiGLU). Same operations as kernels::attn_exp (attention_kernels.h), lane
// by lane, so results are bit-identical to that scalar recipe.
#pragma once

#include <immintrin.h>

#include "core/kernels/attention_kernels.h"

namespace sf::kernels::avx512 {

// Internal linkage: only AVX-512 files include this.
static inline __m512 exp_ps(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(kExpClamp));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(kLog2e)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fmadd_ps(n, _mm512_set1_ps(-kLn2Hi), x);
  r = _mm512_fmadd_ps(n, _mm512_set1_ps(-kLn2Lo), r);
  __m512 p = _mm512_set1_ps(kExpC[6]);
  for (int i = 5; i >= 0; --i) p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kExpC[i]));
  return _mm512_scalef_ps(p, n);
}

}  // namespace sf::kernels::avx512
