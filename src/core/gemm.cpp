// Placeholder implementation: rows of C split across the pool, scalar inner
// loops. The packed, blocked SIMD version replaces the body of gemm().
#include "core/gemm.h"

#include <cstring>

#include "core/threadpool.h"

namespace sf {
namespace {

template <typename T, typename Acc>
void gemm_rows(Trans ta, Trans tb, int64_t r0, int64_t r1, int64_t n, int64_t k, Acc alpha,
               const T* a, int64_t lda, const T* b, int64_t ldb, Acc beta, T* c, int64_t ldc,
               T (*round_in)(T)) {
  for (int64_t i = r0; i < r1; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      Acc s = 0;
      for (int64_t p = 0; p < k; ++p) {
        T av = ta == Trans::No ? a[i * lda + p] : a[p * lda + i];
        T bv = tb == Trans::No ? b[p * ldb + j] : b[j * ldb + p];
        if (round_in) av = round_in(av), bv = round_in(bv);
        s += static_cast<Acc>(av) * static_cast<Acc>(bv);
      }
      T& out = c[i * ldc + j];
      out = static_cast<T>(beta == 0 ? alpha * s : alpha * s + beta * static_cast<Acc>(out));
    }
  }
}

float round_bf16(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return x;  // NaN stays NaN
  u += 0x7fffu + ((u >> 16) & 1u);
  u &= 0xffff0000u;
  std::memcpy(&x, &u, 4);
  return x;
}

}  // namespace

void gemm(Trans ta, Trans tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
          int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc,
          ThreadPool& pool, GemmPrecision precision) {
  float (*rnd)(float) = precision == GemmPrecision::Bf16 ? round_bf16 : nullptr;
  pool.parallel_for(m, 4, [&](int64_t r0, int64_t r1, int) {
    gemm_rows<float, float>(ta, tb, r0, r1, n, k, alpha, a, lda, b, ldb, beta, c, ldc, rnd);
  });
}

void gemm_ref(Trans ta, Trans tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
              int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc,
              GemmPrecision precision) {
  float (*rnd)(float) = precision == GemmPrecision::Bf16 ? round_bf16 : nullptr;
  gemm_rows<float, double>(ta, tb, 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, rnd);
}

void gemm_f64(Trans ta, Trans tb, int64_t m, int64_t n, int64_t k, double alpha, const double* a,
              int64_t lda, const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
  gemm_rows<double, double>(ta, tb, 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, nullptr);
}

}  // namespace sf
