#include "train/ops/rope.h"

#include <algorithm>
#include <cmath>

namespace sf::train::ops {
namespace {

// Rotates every pair by +theta (sign = 1) or -theta (sign = -1).
template <typename T>
void rotate(T* x, int64_t n, int seq_len, int n_heads, int head_dim, RopeMode mode, const T* cos_t,
            const T* sin_t, T sign, const Exec& ex) {
  const int half = head_dim / 2;
  const int64_t row = static_cast<int64_t>(n_heads) * head_dim;
  parallel(ex, n, std::max<int64_t>(1, 4096 / row), [&](int64_t r0, int64_t r1, int) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t pos = r % seq_len;
      const T* c = cos_t + pos * half;
      const T* s = sin_t + pos * half;
      for (int h = 0; h < n_heads; ++h) {
        T* hx = x + r * row + static_cast<int64_t>(h) * head_dim;
        if (mode == RopeMode::Neox) {
          T* __restrict a = hx;
          T* __restrict b = hx + half;
          for (int i = 0; i < half; ++i) {
            const T x0 = a[i], x1 = b[i], sn = sign * s[i];
            a[i] = x0 * c[i] - x1 * sn;
            b[i] = x0 * sn + x1 * c[i];
          }
        } else {
          for (int i = 0; i < half; ++i) {
            const T x0 = hx[2 * i], x1 = hx[2 * i + 1], sn = sign * s[i];
            hx[2 * i] = x0 * c[i] - x1 * sn;
            hx[2 * i + 1] = x0 * sn + x1 * c[i];
          }
        }
      }
    }
  });
}

}  // namespace

template <typename T>
void rope_tables(int n_pos, int head_dim, const std::vector<double>& inv_freq, float linear_scale,
                 T* cos_t, T* sin_t) {
  const int half = head_dim / 2;
  for (int p = 0; p < n_pos; ++p) {
    const double pp = static_cast<double>(p) / linear_scale;
    for (int i = 0; i < half; ++i) {
      const double theta = pp * inv_freq[i];
      cos_t[p * half + i] = static_cast<T>(std::cos(theta));
      sin_t[p * half + i] = static_cast<T>(std::sin(theta));
    }
  }
}

template <typename T>
void rope_forward(T* x, int64_t n, int seq_len, int n_heads, int head_dim, RopeMode mode,
                  const T* cos_t, const T* sin_t, const Exec& ex) {
  rotate(x, n, seq_len, n_heads, head_dim, mode, cos_t, sin_t, T(1), ex);
}

template <typename T>
void rope_backward(T* dx, int64_t n, int seq_len, int n_heads, int head_dim, RopeMode mode,
                   const T* cos_t, const T* sin_t, const Exec& ex) {
  rotate(dx, n, seq_len, n_heads, head_dim, mode, cos_t, sin_t, T(-1), ex);
}

#define SF_INSTANTIATE(T)                                                                  \
  template void rope_tables<T>(int, int, const std::vector<double>&, float, T*, T*);       \
  template void rope_forward<T>(T*, int64_t, int, int, int, RopeMode, const T*, const T*,  \
                                const Exec&);                                              \
  template void rope_backward<T>(T*, int64_t, int, int, int, RopeMode, const T*, const T*, \
                                 const Exec&);
SF_INSTANTIATE(float)
SF_INSTANTIATE(double)
#undef SF_INSTANTIATE

}  // namespace sf::train::ops
