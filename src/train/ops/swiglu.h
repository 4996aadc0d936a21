// SwiGLU: h = silu(gate) * up, silu(g) = g / (1 + exp(-g)), elementwise (the
// engine's core/ops.h swiglu, out of place so gate stays for the backward).
#pragma once

#include <cstdint>

#include "train/ops/common.h"

namespace sf::train::ops {

template <typename T>
void swiglu_forward(const T* gate, const T* up, T* h, int64_t n, const Exec& ex);

// dgate = dh * up * silu'(gate), dup = dh * silu(gate). dgate may alias dh.
template <typename T>
void swiglu_backward(const T* dh, const T* gate, const T* up, T* dgate, T* dup, int64_t n,
                     const Exec& ex);

}  // namespace sf::train::ops
