#include "train/ops/linear.h"

#include <algorithm>
#include <cstring>

namespace sf::train::ops {
namespace {

// Frozen weights are dequantized this many elements at a time (16 MiB of
// f32): whole for layer matrices of small models, in slices for big heads.
constexpr int64_t kChunkElems = int64_t(4) << 20;

int64_t chunk_rows(const WeightView& w) {
  return std::clamp<int64_t>(kChunkElems / std::max<int64_t>(1, w.cols), 1, w.rows);
}

uint64_t mix64(uint64_t z) {  // splitmix64 finalizer
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace

template <typename T>
void linear_forward(const T* x, const T* w, const T* b, T* y, int64_t n, int64_t in, int64_t out,
                    const Exec& ex) {
  gemm<T>(Trans::No, Trans::Yes, n, out, in, T(1), x, in, w, in, T(0), y, out, ex);
  if (b) bias_forward(b, y, n, out, ex);
}

template <typename T>
void bias_forward(const T* b, T* y, int64_t n, int64_t out, const Exec& ex) {
  parallel(ex, n, std::max<int64_t>(1, 8192 / out), [&](int64_t r0, int64_t r1, int) {
    for (int64_t i = r0; i < r1; ++i) {
      T* __restrict yr = y + i * out;
      for (int64_t j = 0; j < out; ++j) yr[j] += b[j];
    }
  });
}

template <typename T>
void bias_backward(const T* dy, T* db, int64_t n, int64_t out, const Exec& ex) {
  constexpr int64_t kCols = 64;
  parallel(ex, (out + kCols - 1) / kCols, 1, [&](int64_t b0, int64_t b1, int) {
    const int64_t c0 = b0 * kCols, c1 = std::min(out, b1 * kCols);
    for (int64_t i = 0; i < n; ++i) {
      const T* __restrict g = dy + i * out;
      for (int64_t c = c0; c < c1; ++c) db[c] += g[c];
    }
  });
}

template <typename T>
void linear_backward(const T* dy, const T* x, const T* w, T* dx, bool accumulate, T* dw, T* db,
                     int64_t n, int64_t in, int64_t out, const Exec& ex) {
  if (dx)
    gemm<T>(Trans::No, Trans::No, n, in, out, T(1), dy, out, w, in, accumulate ? T(1) : T(0), dx,
            in, ex);
  if (dw) gemm<T>(Trans::Yes, Trans::No, out, in, n, T(1), dy, out, x, in, T(1), dw, in, ex);
  if (db) bias_backward(dy, db, n, out, ex);
}

template <typename T>
void dequantize_rows(const WeightView& w, int64_t r0, int64_t r1, T* out, const Exec& ex) {
  const int64_t cols = w.cols;
  parallel(ex, r1 - r0, std::max<int64_t>(1, 16384 / cols), [&](int64_t a, int64_t b, int) {
    thread_local std::vector<float> row;  // double only; grows once per thread
    for (int64_t r = a; r < b; ++r) {
      T* dst = out + r * cols;
      if constexpr (sizeof(T) == sizeof(float)) {
        weight_row_f32(w, r0 + r, dst);
      } else {
        grow(row, cols);
        weight_row_f32(w, r0 + r, row.data());
        for (int64_t j = 0; j < cols; ++j) dst[j] = row[j];
      }
    }
  });
}

template <typename T>
void frozen_linear_forward(const WeightView& w, const T* x, T* y, int64_t n, const Exec& ex,
                           std::vector<T>& scratch) {
  const int64_t in = w.cols, out = w.rows;
  if constexpr (sizeof(T) == sizeof(float)) {
    if (w.type == DType::F32) {  // usable as is
      gemm<T>(Trans::No, Trans::Yes, n, out, in, T(1), x, in, static_cast<const T*>(w.data), in,
              T(0), y, out, ex);
      return;
    }
  }
  const int64_t step = chunk_rows(w);
  T* wc = grow(scratch, static_cast<size_t>(step * in));
  for (int64_t r0 = 0; r0 < out; r0 += step) {
    const int64_t r1 = std::min(out, r0 + step);
    dequantize_rows(w, r0, r1, wc, ex);
    gemm<T>(Trans::No, Trans::Yes, n, r1 - r0, in, T(1), x, in, wc, in, T(0), y + r0, out, ex);
  }
}

template <typename T>
void frozen_linear_backward(const WeightView& w, const T* dy, T* dx, bool accumulate, int64_t n,
                            const Exec& ex, std::vector<T>& scratch) {
  const int64_t in = w.cols, out = w.rows;
  if constexpr (sizeof(T) == sizeof(float)) {
    if (w.type == DType::F32) {
      gemm<T>(Trans::No, Trans::No, n, in, out, T(1), dy, out, static_cast<const T*>(w.data), in,
              accumulate ? T(1) : T(0), dx, in, ex);
      return;
    }
  }
  const int64_t step = chunk_rows(w);
  T* wc = grow(scratch, static_cast<size_t>(step * in));
  for (int64_t r0 = 0; r0 < out; r0 += step) {
    const int64_t r1 = std::min(out, r0 + step);
    dequantize_rows(w, r0, r1, wc, ex);
    const T beta = (r0 == 0 && !accumulate) ? T(0) : T(1);
    gemm<T>(Trans::No, Trans::No, n, in, r1 - r0, T(1), dy + r0, out, wc, in, beta, dx, in, ex);
  }
}

template <typename T>
void dropout_mask(T* mask, int64_t count, float p, uint64_t seed, const Exec& ex) {
  const T keep = static_cast<T>(1.0 / (1.0 - static_cast<double>(p)));
  // Compare 24-bit uniforms with p in the same resolution.
  const uint32_t threshold = static_cast<uint32_t>(static_cast<double>(p) * (1u << 24));
  const uint64_t key = mix64(seed ^ 0x5DEECE66Dull);
  parallel(ex, count, 16384, [&](int64_t a, int64_t b, int) {
    for (int64_t i = a; i < b; ++i) {
      const uint32_t u = static_cast<uint32_t>(mix64(key + 0x9E3779B97F4A7C15ull * (i + 1)) >> 40);
      mask[i] = u < threshold ? T(0) : keep;
    }
  });
}

namespace {
// Xd = x * mask into scratch (or x itself when unmasked).
template <typename T>
const T* masked_input(const T* x, const T* mask, int64_t count, const Exec& ex,
                      std::vector<T>& scratch) {
  if (!mask) return x;
  T* xd = grow(scratch, static_cast<size_t>(count));
  parallel(ex, count, 16384, [&](int64_t a, int64_t b, int) {
    for (int64_t i = a; i < b; ++i) xd[i] = x[i] * mask[i];
  });
  return xd;
}
}  // namespace

template <typename T>
void lora_forward(const T* x, const T* mask, const T* a, const T* b, T scale, T* h, T* y, int64_t n,
                  int64_t in, int64_t out, int64_t rank, const Exec& ex, std::vector<T>& scratch) {
  const T* xd = masked_input(x, mask, n * in, ex, scratch);
  gemm<T>(Trans::No, Trans::Yes, n, rank, in, T(1), xd, in, a, in, T(0), h, rank, ex);
  gemm<T>(Trans::No, Trans::Yes, n, out, rank, scale, h, rank, b, rank, T(1), y, out, ex);
}

template <typename T>
void lora_backward(const T* dy, const T* x, const T* mask, const T* a, const T* b, T scale,
                   const T* h, T* dx, T* da, T* db, int64_t n, int64_t in, int64_t out,
                   int64_t rank, const Exec& ex, std::vector<T>& scratch) {
  // scratch: [dh (n x rank) | Xd or dh a (n x in)]
  const size_t nr = static_cast<size_t>(n * rank), ni = static_cast<size_t>(n * in);
  grow(scratch, nr + ni);
  T* dh = scratch.data();
  T* buf = scratch.data() + nr;
  gemm<T>(Trans::No, Trans::No, n, rank, out, scale, dy, out, b, rank, T(0), dh, rank, ex);
  if (db) gemm<T>(Trans::Yes, Trans::No, out, rank, n, scale, dy, out, h, rank, T(1), db, rank, ex);
  if (da) {
    const T* xd = x;
    if (mask) {
      parallel(ex, n * in, 16384, [&](int64_t s, int64_t e, int) {
        for (int64_t i = s; i < e; ++i) buf[i] = x[i] * mask[i];
      });
      xd = buf;
    }
    gemm<T>(Trans::Yes, Trans::No, rank, in, n, T(1), dh, rank, xd, in, T(1), da, in, ex);
  }
  if (!dx) return;
  if (!mask) {
    gemm<T>(Trans::No, Trans::No, n, in, rank, T(1), dh, rank, a, in, T(1), dx, in, ex);
    return;
  }
  gemm<T>(Trans::No, Trans::No, n, in, rank, T(1), dh, rank, a, in, T(0), buf, in, ex);
  parallel(ex, n * in, 16384, [&](int64_t s, int64_t e, int) {
    for (int64_t i = s; i < e; ++i) dx[i] += buf[i] * mask[i];
  });
}

#define SF_INSTANTIATE(T)                                                                       \
  template void linear_forward<T>(const T*, const T*, const T*, T*, int64_t, int64_t, int64_t,  \
                                  const Exec&);                                                 \
  template void linear_backward<T>(const T*, const T*, const T*, T*, bool, T*, T*, int64_t,     \
                                   int64_t, int64_t, const Exec&);                              \
  template void bias_backward<T>(const T*, T*, int64_t, int64_t, const Exec&);                  \
  template void bias_forward<T>(const T*, T*, int64_t, int64_t, const Exec&);                   \
  template void frozen_linear_forward<T>(const WeightView&, const T*, T*, int64_t, const Exec&, \
                                         std::vector<T>&);                                      \
  template void frozen_linear_backward<T>(const WeightView&, const T*, T*, bool, int64_t,       \
                                          const Exec&, std::vector<T>&);                        \
  template void dequantize_rows<T>(const WeightView&, int64_t, int64_t, T*, const Exec&);       \
  template void lora_forward<T>(const T*, const T*, const T*, const T*, T, T*, T*, int64_t,     \
                                int64_t, int64_t, int64_t, const Exec&, std::vector<T>&);       \
  template void lora_backward<T>(const T*, const T*, const T*, const T*, const T*, T, const T*, \
                                 T*, T*, T*, int64_t, int64_t, int64_t, int64_t, const Exec&,   \
                                 std::vector<T>&);                                              \
  template void dropout_mask<T>(T*, int64_t, float, uint64_t, const Exec&);
SF_INSTANTIATE(float)
SF_INSTANTIATE(double)
#undef SF_INSTANTIATE

}  // namespace sf::train::ops
