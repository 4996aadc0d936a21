#include "train/ops/embedding.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace sf::train::ops {

template <typename T>
void embedding_forward(const int32_t* tokens, int64_t n, const T* w, int64_t dim, T* out,
                       const Exec& ex) {
  parallel(ex, n, 64, [&](int64_t r0, int64_t r1, int) {
    for (int64_t i = r0; i < r1; ++i)
      std::memcpy(out + i * dim, w + static_cast<int64_t>(tokens[i]) * dim, dim * sizeof(T));
  });
}

template <typename T>
void embedding_forward_frozen(const int32_t* tokens, int64_t n, const WeightView& w, T* out,
                              const Exec& ex) {
  const int64_t dim = w.cols;
  parallel(ex, n, 16, [&](int64_t r0, int64_t r1, int) {
    thread_local std::vector<float> row;  // grows once per thread
    for (int64_t i = r0; i < r1; ++i) {
      if constexpr (sizeof(T) == sizeof(float)) {
        weight_row_f32(w, tokens[i], out + i * dim);
      } else {
        grow(row, dim);
        weight_row_f32(w, tokens[i], row.data());
        for (int64_t j = 0; j < dim; ++j) out[i * dim + j] = row[j];
      }
    }
  });
}

template <typename T>
void embedding_backward(const int32_t* tokens, int64_t n, const T* dout, int64_t dim, T* dw,
                        const Exec& ex) {
  constexpr int64_t kCols = 32;
  parallel(ex, (dim + kCols - 1) / kCols, 1, [&](int64_t b0, int64_t b1, int) {
    const int64_t c0 = b0 * kCols, c1 = std::min(dim, b1 * kCols);
    for (int64_t i = 0; i < n; ++i) {
      T* __restrict d = dw + static_cast<int64_t>(tokens[i]) * dim;
      const T* __restrict g = dout + i * dim;
      for (int64_t c = c0; c < c1; ++c) d[c] += g[c];
    }
  });
}

#define SF_INSTANTIATE(T)                                                                          \
  template void embedding_forward<T>(const int32_t*, int64_t, const T*, int64_t, T*, const Exec&); \
  template void embedding_forward_frozen<T>(const int32_t*, int64_t, const WeightView&, T*,        \
                                            const Exec&);                                          \
  template void embedding_backward<T>(const int32_t*, int64_t, const T*, int64_t, T*, const Exec&);
SF_INSTANTIATE(float)
SF_INSTANTIATE(double)
#undef SF_INSTANTIATE

}  // namespace sf::train::ops
