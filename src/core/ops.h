// Portable elementwise and row kernels used by the decoder. Rows are
// contiguous float arrays; `n` is the row length. These are the reference
// implementations; faster variants must match them (tests/core/test_ops.cpp).
#pragma once

#include <cstdint>

namespace sf {

// y = x / sqrt(mean(x^2) + eps) * w   (w may be nullptr: scale 1). In place allowed.
void rmsnorm(const float* x, const float* w, float* y, int64_t n, float eps);

// In-place softmax over n values; -inf entries get probability 0.
void softmax(float* x, int64_t n);

// gate[i] = silu(gate[i]) * up[i]  (SwiGLU), in place on gate. At the AVX-512
// level a SIMD version (exp by polynomial, within a few ulp of swiglu_ref).
void swiglu(float* gate, const float* up, int64_t n);
void swiglu_ref(float* gate, const float* up, int64_t n);

// Dot product of two float rows (accumulated in several lanes for speed).
float dot_f32(const float* a, const float* b, int64_t n);

// y += a * x
void axpy(float a, const float* x, float* y, int64_t n);

}  // namespace sf
