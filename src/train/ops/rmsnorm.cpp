#include "train/ops/rmsnorm.h"

#include <algorithm>
#include <cmath>

namespace sf::train::ops {
namespace {
constexpr int64_t kRowBlock = 32;  // rows per partial dw sum
}

template <typename T>
void rmsnorm_forward(const T* x, const T* w, T* y, T* rstd, int64_t rows, int64_t dim, float eps,
                     const Exec& ex) {
  parallel(ex, rows, std::max<int64_t>(1, 4096 / dim), [&](int64_t r0, int64_t r1, int) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* __restrict xr = x + r * dim;
      T* yr = y + r * dim;
      // Double accumulation, as the engine does: with thousands of values the
      // mean of squares is where float rounding shows first.
      double ss = 0;
      for (int64_t i = 0; i < dim; ++i) ss += static_cast<double>(xr[i]) * xr[i];
      const T s = static_cast<T>(1.0 / std::sqrt(ss / static_cast<double>(dim) + eps));
      rstd[r] = s;
      for (int64_t i = 0; i < dim; ++i) yr[i] = xr[i] * s * w[i];
    }
  });
}

template <typename T>
void rmsnorm_backward(const T* dy, const T* x, const T* w, const T* rstd, T* dx, bool accumulate,
                      T* dw, int64_t rows, int64_t dim, const Exec& ex, std::vector<T>& scratch) {
  const int64_t n_blocks = (rows + kRowBlock - 1) / kRowBlock;
  T* partial = dw ? grow(scratch, static_cast<size_t>(n_blocks * dim)) : nullptr;
  parallel(ex, n_blocks, 1, [&](int64_t b0, int64_t b1, int) {
    for (int64_t blk = b0; blk < b1; ++blk) {
      T* __restrict pw = partial ? partial + blk * dim : nullptr;
      if (pw) std::fill(pw, pw + dim, T(0));
      const int64_t r1 = std::min(rows, (blk + 1) * kRowBlock);
      for (int64_t r = blk * kRowBlock; r < r1; ++r) {
        const T* xr = x + r * dim;
        const T* dyr = dy + r * dim;
        T* dxr = dx + r * dim;
        const T s = rstd[r];
        // y_i = xhat_i w_i with xhat = x s, so
        // dx_i = s (g_i - xhat_i mean(g . xhat)), g = dy w.
        T m = 0;
        for (int64_t i = 0; i < dim; ++i) m += dyr[i] * w[i] * (xr[i] * s);
        if (pw)
          for (int64_t i = 0; i < dim; ++i) pw[i] += dyr[i] * (xr[i] * s);
        m /= static_cast<T>(dim);
        if (accumulate) {
          for (int64_t i = 0; i < dim; ++i) dxr[i] += s * (dyr[i] * w[i] - (xr[i] * s) * m);
        } else {
          for (int64_t i = 0; i < dim; ++i) dxr[i] = s * (dyr[i] * w[i] - (xr[i] * s) * m);
        }
      }
    }
  });
  if (!dw) return;
  parallel(ex, dim, 64, [&](int64_t c0, int64_t c1, int) {
    for (int64_t blk = 0; blk < n_blocks; ++blk)
      for (int64_t c = c0; c < c1; ++c) dw[c] += partial[blk * dim + c];
  });
}

#define SF_INSTANTIATE(T)                                                                          \
  template void rmsnorm_forward<T>(const T*, const T*, T*, T*, int64_t, int64_t, float,            \
                                   const Exec&);                                                   \
  template void rmsnorm_backward<T>(const T*, const T*, const T*, const T*, T*, bool, T*, int64_t, \
                                    int64_t, const Exec&, std::vector<T>&);
SF_INSTANTIATE(float)
SF_INSTANTIATE(double)
#undef SF_INSTANTIATE

}  // namespace sf::train::ops
