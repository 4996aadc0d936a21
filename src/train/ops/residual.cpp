#include "train/ops/residual.h"

namespace sf::train::ops {

template <typename T>
void residual_forward(const T* a, const T* b, T* out, int64_t n, const Exec& ex) {
  parallel(ex, n, 32768, [&](int64_t s, int64_t e, int) {
    for (int64_t i = s; i < e; ++i) out[i] = a[i] + b[i];
  });
}

template <typename T>
void residual_backward(const T* dout, T* da, T* db, int64_t n, const Exec& ex) {
  parallel(ex, n, 32768, [&](int64_t s, int64_t e, int) {
    if (da)
      for (int64_t i = s; i < e; ++i) da[i] += dout[i];
    if (db)
      for (int64_t i = s; i < e; ++i) db[i] += dout[i];
  });
}

#define SF_INSTANTIATE(T)                                                          \
  template void residual_forward<T>(const T*, const T*, T*, int64_t, const Exec&); \
  template void residual_backward<T>(const T*, T*, T*, int64_t, const Exec&);
SF_INSTANTIATE(float)
SF_INSTANTIATE(double)
#undef SF_INSTANTIATE

}  // namespace sf::train::ops
