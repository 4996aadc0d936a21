// RMSNorm over rows: y = x * rstd * w, rstd = 1 / sqrt(mean(x^2) + eps).
// Used for the block norms (dim = n_embd) and Qwen3's per-head q/k norms
// (rows = tokens * heads, dim = head_dim). The forward matches the engine's
// core/ops.h rmsnorm (double sum of squares, then (x * rstd) * w).
#pragma once

#include <cstdint>
#include <vector>

#include "train/ops/common.h"

namespace sf::train::ops {

// y (rows x dim); rstd (rows) saved for the backward. y may alias x.
template <typename T>
void rmsnorm_forward(const T* x, const T* w, T* y, T* rstd, int64_t rows, int64_t dim, float eps,
                     const Exec& ex);

// dx = (accumulate ? dx + : ) d(loss)/dx ; dw += d(loss)/dw (dw may be null:
// a frozen norm). dx may alias dy when accumulate is false (in-place).
// dw is summed over fixed blocks of rows, then the blocks in order, so the
// result does not depend on the thread count. `scratch` grows once.
template <typename T>
void rmsnorm_backward(const T* dy, const T* x, const T* w, const T* rstd, T* dx, bool accumulate,
                      T* dw, int64_t rows, int64_t dim, const Exec& ex, std::vector<T>& scratch);

}  // namespace sf::train::ops
