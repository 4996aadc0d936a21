// General matrix products for training (and any other dense f32 work):
//   C (M x N) = alpha * op(A) (M x K) * op(B) (K x N) + beta * C
// Row-major, with leading dimensions (row strides) like cblas_sgemm(RowMajor).
// op(X) = X or X^T by the Trans flags, so the three products a linear layer's
// forward and backward need (X W^T, dY W, dY^T X) are all one call.
//
// Precision: Gemm::F32 accumulates in f32; Gemm::Bf16 rounds A and B to bf16
// (round to nearest even) while packing and accumulates in f32 (AVX512-BF16
// vdpbf16ps where the CPU has it), the mixed precision a trainer uses with
// f32 master weights. gemm_ref is the scalar oracle for both (bf16 rounding
// applied to the inputs when asked), double accumulation.
// beta == 0 means C is write-only (NaNs in C are not propagated).
// Thread-safety: concurrent calls need distinct pools.
#pragma once

#include <cstdint>

namespace sf {

class ThreadPool;

enum class Trans { No, Yes };
enum class GemmPrecision { F32, Bf16 };

void gemm(Trans ta, Trans tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
          int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc,
          ThreadPool& pool, GemmPrecision precision = GemmPrecision::F32);

// Scalar reference (single thread).
void gemm_ref(Trans ta, Trans tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
              int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc,
              GemmPrecision precision = GemmPrecision::F32);

// Double-precision version for finite-difference gradient checks.
void gemm_f64(Trans ta, Trans tb, int64_t m, int64_t n, int64_t k, double alpha, const double* a,
              int64_t lda, const double* b, int64_t ldb, double beta, double* c, int64_t ldc);

}  // namespace sf
