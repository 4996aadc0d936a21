// Token embedding lookup: out[i] = W[tokens[i]] (W: vocab x dim, row-major).
// Token ids are validated by the caller (the model checks every batch).
#pragma once

#include <cstdint>

#include "core/matmul.h"
#include "train/ops/common.h"

namespace sf::train::ops {

// out (n x dim) = rows of w.
template <typename T>
void embedding_forward(const int32_t* tokens, int64_t n, const T* w, int64_t dim, T* out,
                       const Exec& ex);
// Same from a frozen weight of any stored type (dequantized row by row).
template <typename T>
void embedding_forward_frozen(const int32_t* tokens, int64_t n, const WeightView& w, T* out,
                              const Exec& ex);
// dw[tokens[i]] += dout[i]. Threads own column ranges, so repeated tokens
// never race and the sum order is fixed.
template <typename T>
void embedding_backward(const int32_t* tokens, int64_t n, const T* dout, int64_t dim, T* dw,
                        const Exec& ex);

}  // namespace sf::train::ops
