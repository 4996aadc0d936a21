#include "train/ops/swiglu.h"

#include <cmath>
#include <type_traits>

#include "train/ops/simd.h"

namespace sf::train::ops {

template <typename T>
void swiglu_forward(const T* gate, const T* up, T* h, int64_t n, const Exec& ex) {
  parallel(ex, n, 16384, [&](int64_t a, int64_t b, int) {
    if constexpr (std::is_same_v<T, float>) {
      if (simd::avx512()) return simd::swiglu_forward(gate + a, up + a, h + a, b - a);
    }
    for (int64_t i = a; i < b; ++i) {
      const T g = gate[i];
      h[i] = g / (T(1) + std::exp(-g)) * up[i];
    }
  });
}

template <typename T>
void swiglu_backward(const T* dh, const T* gate, const T* up, T* dgate, T* dup, int64_t n,
                     const Exec& ex) {
  parallel(ex, n, 16384, [&](int64_t a, int64_t b, int) {
    if constexpr (std::is_same_v<T, float>) {
      if (simd::avx512())
        return simd::swiglu_backward(dh + a, gate + a, up + a, dgate + a, dup + a, b - a);
    }
    for (int64_t i = a; i < b; ++i) {
      const T g = gate[i], d = dh[i];
      const T sig = T(1) / (T(1) + std::exp(-g));
      // silu'(g) = sig + g sig (1 - sig)
      dup[i] = d * g * sig;
      dgate[i] = d * up[i] * (sig * (T(1) + g * (T(1) - sig)));
    }
  });
}

#define SF_INSTANTIATE(T)                                                        \
  template void swiglu_forward<T>(const T*, const T*, T*, int64_t, const Exec&); \
  template void swiglu_backward<T>(const T*, const T*, const T*, T*, T*, int64_t, const Exec&);
SF_INSTANTIATE(float)
SF_INSTANTIATE(double)
#undef SF_INSTANTIATE

}  // namespace sf::train::ops
