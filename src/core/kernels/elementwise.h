// Internal: SIMD versions of core/ops.h's elementwise functions, chosen by
// ops.cpp at the active ISA level.
#pragma once

#include <cstdint>

namespace sf::kernels::avx512 {
void swiglu(float* gate, const float* up, int64_t n);
}  // namespace sf::kernels::avx512
