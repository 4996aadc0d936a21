// Shared plumbing of the training ops (train/ops/*): where they run (pool and
// matrix-product precision), the typed matrix product, and small vector loops.
//
// Every op exists for T = float (training) and T = double (the oracle of the
// finite-difference gradient checks); the .cpp files instantiate both.
// Layout convention: activations are row-major (rows = B*T tokens, batch-major:
// row b*T + t is position t of sequence b). Backward functions ADD to
// parameter gradients and either write or add to input gradients, as each
// signature says.
#pragma once

#include <cstdint>
#include <vector>

#include "core/gemm.h"
#include "core/threadpool.h"

namespace sf::train::ops {

// Execution context of one op call. Thread-safety: one caller per pool.
struct Exec {
  ThreadPool* pool = nullptr;                    // required
  GemmPrecision precision = GemmPrecision::F32;  // f32 products only (double ignores it)
};

// C = alpha op(A) op(B) + beta C (core/gemm.h conventions); float goes to
// sf::gemm with the pool and precision, double to gemm_f64.
template <typename T>
void gemm(Trans ta, Trans tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
          const T* b, int64_t ldb, T beta, T* c, int64_t ldc, const Exec& ex);

// parallel_for over [0, n) in chunks of `grain`, fn(begin, end, thread).
// The pool takes a std::function; wrapping fn in a one-reference lambda keeps
// it in std::function's inline buffer (no heap allocation per op call).
template <typename F>
inline void parallel(const Exec& ex, int64_t n, int64_t grain, F&& fn) {
  auto ref = [&fn](int64_t a, int64_t b, int t) { fn(a, b, t); };
  ex.pool->parallel_for(n, grain, ref);
}

// Dot product with eight independent partial sums, so the loop vectorizes
// without -ffast-math (the order is fixed: results are reproducible).
template <typename T>
inline T dot(const T* __restrict a, const T* __restrict b, int64_t n) {
  T acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) acc[j] += a[i + j] * b[i + j];
  T s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

// y += a x
template <typename T>
inline void axpy(T a, const T* __restrict x, T* __restrict y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

// Grows v to at least n elements (never shrinks: no allocation once warm).
template <typename T>
inline T* grow(std::vector<T>& v, size_t n) {
  if (v.size() < n) v.resize(n);
  return v.data();
}

}  // namespace sf::train::ops
