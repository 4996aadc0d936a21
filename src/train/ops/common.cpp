#include "train/ops/common.h"

namespace sf::train::ops {

template <>
void gemm<float>(Trans ta, Trans tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                 int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc,
                 const Exec& ex) {
  if (m <= 0 || n <= 0) return;
  sf::gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, *ex.pool, ex.precision);
}

template <>
void gemm<double>(Trans ta, Trans tb, int64_t m, int64_t n, int64_t k, double alpha,
                  const double* a, int64_t lda, const double* b, int64_t ldb, double beta,
                  double* c, int64_t ldc, const Exec& ex) {
  if (m <= 0 || n <= 0) return;
  gemm_f64(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace sf::train::ops
