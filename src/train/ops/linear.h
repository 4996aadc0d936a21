// Linear layers: Y = X W^T (+ b), W stored out x in (GGUF row order).
//  * trainable: W is an f32 (or f64) parameter; the backward's three products
//    (X W^T, dY W, dY^T X) are one gemm each;
//  * frozen: W is a WeightView of any stored type (a LoRA base), dequantized
//    in chunks of rows into scratch for each product, never whole;
//  * LoRA: Y += s (Xd A^T) B^T with A (rank x in), B (out x rank) and Xd = X
//    times a dropout mask (keep factor 1/(1-p) or 0; no mask: Xd = X).
#pragma once

#include <cstdint>
#include <vector>

#include "core/matmul.h"
#include "train/ops/common.h"

namespace sf::train::ops {

// y (n x out) = x (n x in) w^T + b (b may be null).
template <typename T>
void linear_forward(const T* x, const T* w, const T* b, T* y, int64_t n, int64_t in, int64_t out,
                    const Exec& ex);
// dx (= or += by accumulate) dy w ; dw += dy^T x ; db += column sums of dy.
// Any of dx, dw, db may be null (not wanted).
template <typename T>
void linear_backward(const T* dy, const T* x, const T* w, T* dx, bool accumulate, T* dw, T* db,
                     int64_t n, int64_t in, int64_t out, const Exec& ex);

// y (n x out) += b.
template <typename T>
void bias_forward(const T* b, T* y, int64_t n, int64_t out, const Exec& ex);
// db += column sums of dy (n x out); fixed order, threads own columns.
template <typename T>
void bias_backward(const T* dy, T* db, int64_t n, int64_t out, const Exec& ex);

// y (n x w.rows) = x (n x w.cols) w^T for a frozen weight.
template <typename T>
void frozen_linear_forward(const WeightView& w, const T* x, T* y, int64_t n, const Exec& ex,
                           std::vector<T>& scratch);
// dx (n x w.cols) (= or +=) dy (n x w.rows) w.
template <typename T>
void frozen_linear_backward(const WeightView& w, const T* dy, T* dx, bool accumulate, int64_t n,
                            const Exec& ex, std::vector<T>& scratch);
// Rows [r0, r1) of a frozen weight as T (dequantized; threads split rows).
template <typename T>
void dequantize_rows(const WeightView& w, int64_t r0, int64_t r1, T* out, const Exec& ex);

// LoRA forward: h (n x rank) = Xd a^T ; y += scale h b^T. mask (n x in) or
// null. scratch holds Xd when masked.
template <typename T>
void lora_forward(const T* x, const T* mask, const T* a, const T* b, T scale, T* h, T* y, int64_t n,
                  int64_t in, int64_t out, int64_t rank, const Exec& ex, std::vector<T>& scratch);
// LoRA backward with h from the forward: dh = scale dy b ; db += scale dy^T h ;
// da += dh^T Xd ; dx += (dh a) * mask. da, db, dx may be null.
template <typename T>
void lora_backward(const T* dy, const T* x, const T* mask, const T* a, const T* b, T scale,
                   const T* h, T* dx, T* da, T* db, int64_t n, int64_t in, int64_t out,
                   int64_t rank, const Exec& ex, std::vector<T>& scratch);

// Inverted dropout mask: each of `count` entries is 0 with probability p,
// else 1/(1-p); entry i depends only on (seed, i) (counter-based), so
// threads fill it in any order and a seed reproduces it.
template <typename T>
void dropout_mask(T* mask, int64_t count, float p, uint64_t seed, const Exec& ex);

}  // namespace sf::train::ops
