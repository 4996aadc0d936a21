// Weight-times-activations products, the bulk of a forward pass.
//
// A weight matrix is stored as GGUF stores it: `rows` rows of `cols`
// elements, each row contiguous in its tensor type. The product computes, for
// each of the M activation rows x_m (length cols), y_m[r] = dot(W_r, x_m).
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
  bool empty() const { return data == nullptr; }
  const uint8_t* row(int64_t r) const {
    return static_cast<const uint8_t*>(data) + static_cast<size_t>(r) * row_bytes(type, cols);
  }
};

// Y (M x W.rows, row stride ldy) = X (M x W.cols, row stride ldx) * W^T.
void matmul(const WeightView& w, const float* x, int64_t ldx, float* y, int64_t ldy, int64_t m,
            ThreadPool& pool);

// Dequantizes row r of W into out (W.cols floats).
void weight_row_f32(const WeightView& w, int64_t r, float* out);

}  // namespace sf
