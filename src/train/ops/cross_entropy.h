// Softmax cross-entropy with per-position loss weights (the mask), and the
// output head fused with it so the (rows x vocab) logits never exist whole:
// logits are computed a chunk at a time, turned into their gradient in place
// (softmax - onehot, times the row's weight and the loss scale), and the
// chunk's dW and dX products run before the next chunk reuses the memory.
#pragma once

#include <cstdint>
#include <vector>

#include "core/matmul.h"
#include "train/ops/common.h"

namespace sf::train::ops {

// One row: returns -log softmax(logits)[target]. With want_grad, overwrites
// logits with grad * (softmax(logits) - onehot(target)).
template <typename T>
double softmax_xent_row(T* logits, int64_t V, int32_t target, T grad, bool want_grad);

// Rows in parallel. Row weight w_i = mask[i] (mask null: 1). losses[i] =
// w_i ? CE_i : 0; with want_grad the logits become
// grad_scale * w_i * (softmax - onehot) (all zero for w_i == 0 rows).
template <typename T>
void cross_entropy(T* logits, const int32_t* targets, const float* mask, int64_t n, int64_t V,
                   T grad_scale, bool want_grad, double* losses, const Exec& ex);

// What the head needs besides the weights.
template <typename T>
struct HeadIO {
  const T* xn = nullptr;  // n x E final-normed hidden states
  const int32_t* targets = nullptr;
  const float* mask = nullptr;  // null: every row counts with weight 1
  int64_t n = 0, E = 0, V = 0;
  T grad_scale = 0;         // d(loss)/d(sum_i w_i CE_i)
  T* dxn = nullptr;         // n x E, written; null: no backward
  int64_t chunk_elems = 0;  // logits held at once (0: 8M); tests force small chunks
};

// Trainable head W (V x E); dw (may be null) += dL^T xn. Returns sum_i w_i CE_i.
// scratch grows once to the logits chunk; losses to n.
template <typename T>
double output_head_loss(const HeadIO<T>& io, const T* w, T* dw, const Exec& ex,
                        std::vector<T>& scratch, std::vector<double>& losses);

// Frozen head (any stored type): vocabulary slices of W are dequantized and
// multiplied twice, once for each row's max and sum (online softmax), once
// for the gradient, so neither W as f32 nor the full logits are held.
template <typename T>
double frozen_output_head_loss(const HeadIO<T>& io, const WeightView& w, const Exec& ex,
                               std::vector<T>& scratch, std::vector<double>& stats);

}  // namespace sf::train::ops
