// Scalar reference kernels for every computable tensor type: dequantize a row,
// quantize a row from f32, and the dot product of a stored row with f32
// activations. These are the oracle every SIMD kernel is tested against, and
// the block layouts are exactly GGUF's (core/quant_blocks.h).
//
// `n` is the number of elements and must be a multiple of the type's block
// size (callers check; the functions SF_CHECK it).
#pragma once

#include <cstdint>

#include "core/dtype.h"

namespace sf {

void dequantize_row_ref(DType type, const void* src, float* dst, int64_t n);
void quantize_row_ref(DType type, const float* src, void* dst, int64_t n);
float dot_row_ref(DType type, const void* row, const float* x, int64_t n);

}  // namespace sf
