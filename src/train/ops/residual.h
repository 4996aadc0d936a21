// Residual connection: out = a + b. Its backward hands the same gradient to
// both branches; the model keeps one running gradient of the residual stream
// and adds each branch's input gradient to it, which is this backward.
#pragma once

#include <cstdint>

#include "train/ops/common.h"

namespace sf::train::ops {

// out may alias a or b.
template <typename T>
void residual_forward(const T* a, const T* b, T* out, int64_t n, const Exec& ex);
// da += dout, db += dout (either may be null).
template <typename T>
void residual_backward(const T* dout, T* da, T* db, int64_t n, const Exec& ex);

}  // namespace sf::train::ops
