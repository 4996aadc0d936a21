// Weight-times-activations products, the bulk of a forward pass.
//
// A weight matrix is stored as GGUF stores it: `rows` rows of `cols`
// elements, each row contiguous in its tensor type. The product computes, for
// each of the M activation rows x_m (length cols), y_m[r] = dot(W_r, x_m).
//
// Two paths, chosen by the active ISA level (core/cpu.h):
//  * Scalar: every weight row is dequantized to f32 (core/quant.h reference)
//    and dotted with the f32 activations. This is the all-F32 reference the
//    model tests compare with llama.cpp's dequantized run (within 1e-3).
//  * Avx2 / Avx512 ("native"): each activation row is converted once into the
//    format llama.cpp pairs with the weight type (f16-rounded for F16, bf16
//    for BF16, Q8_0-style blocks for Q4_0/Q5_0/Q8_0, with block sums for
//    Q4_1/Q5_1, Q8_K for the K-quants; F32 is used as is) and multiplied by
//    SIMD kernels (core/kernels/kernels.h), integer dot products for the
//    quantized types. Results carry llama.cpp's native-path activation
//    rounding (~1e-2 on logits), not the dequantized path's.
// In both paths a row's result does not depend on M, on the other rows of X,
// or on the number of threads (bit for bit), so batched and one-token passes
// agree exactly.
//
// M == 1 streams each weight row once, rows split across threads in chunks
// claimed atomically; M > 1 runs blocks of weight rows against blocks of
// activation rows so a weight row in cache meets many activation rows.
// Packed weights (WeightView::packed) take the packed kernel for every M, so
// the rule above holds on them too (in units of 16-row groups).
// Scratch is per calling thread and grows only: no allocation per call once
// warm. Thread-safety: concurrent calls need distinct pools.
#pragma once

#include <cstdint>

#include "core/dtype.h"

namespace sf {

class ThreadPool;

struct WeightView {
  DType type = DType::F32;
  const void* data = nullptr;
  int64_t rows = 0;  // output features
  int64_t cols = 0;  // input features (row length)
  // Optional: the same matrix in the packed layout of core/packed_weights.h
  // (owned elsewhere, e.g. by the Model). matmul uses it for every M when the
  // active level has a packed kernel for `type`, else reads `data`; `data`
  // stays valid either way (embedding lookups, LoRA, training read rows).
  const void* packed = nullptr;
  bool empty() const { return data == nullptr; }
  const uint8_t* row(int64_t r) const {
    return static_cast<const uint8_t*>(data) + static_cast<size_t>(r) * row_bytes(type, cols);
  }
};

// Y (M x W.rows, row stride ldy) = X (M x W.cols, row stride ldx) * W^T.
void matmul(const WeightView& w, const float* x, int64_t ldx, float* y, int64_t ldy, int64_t m,
            ThreadPool& pool);

// True when matmul at the active ISA level takes the native (SIMD kernel)
// path for this weight type, false when it dequantizes rows to f32.
bool matmul_is_native(DType type);

// True when matmul at the active ISA level has a kernel for packed weights of
// this type and row length (so packing such a matrix pays off).
bool matmul_packs(DType type, int64_t cols);

// Dequantizes row r of W into out (W.cols floats); from the packed copy when
// the view has one (the same values: unpacking is exact).
void weight_row_f32(const WeightView& w, int64_t r, float* out);

}  // namespace sf
