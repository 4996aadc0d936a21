// AVX-512 versions of the decoder's elementwise ops (core/ops.h); results
// within a few ulp of the portable reference (tests/core/test_ops.cpp).
#pragma GCC diagnostic ignored "-Wuninitialized"  // GCC 12 AVX-512 headers (bug 105593)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "core/kernels/elementwise.h"
#include "core/kernels/exp_avx512.h"

namespace sf::kernels::avx512 {

void swiglu(float* gate, const float* up, int64_t n) {
  // exp(-g) overflows to +inf for g < -88.7, and g / inf is the right limit
  // (-0); capping -g at 100 keeps the exp's range reduction finite.
  const __m512 one = _mm512_set1_ps(1.0f), cap = _mm512_set1_ps(100.0f);
  int64_t i = 0;
  for (; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << (n - i)) - 1);
    const __m512 g = _mm512_maskz_loadu_ps(m, gate + i);
    const __m512 u = _mm512_maskz_loadu_ps(m, up + i);
    const __m512 e = exp_ps(_mm512_min_ps(_mm512_sub_ps(_mm512_setzero_ps(), g), cap));
    _mm512_mask_storeu_ps(gate + i, m, _mm512_mul_ps(_mm512_div_ps(g, _mm512_add_ps(one, e)), u));
  }
}

}  // namespace sf::kernels::avx512
