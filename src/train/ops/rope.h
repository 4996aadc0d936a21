// Rotary position embedding, as the engine applies it (models/decoder.cpp):
// pair i of each head rotates by theta = (pos / linear_scale) * inv_freq[i];
// Norm mode pairs adjacent dimensions (2i, 2i+1), Neox mode the halves
// (i, i + head_dim/2). The backward is the inverse rotation (a rotation's
// transpose), applied to the gradient in place.
#pragma once

#include <cstdint>
#include <vector>

#include "models/config.h"
#include "train/ops/common.h"

namespace sf::train::ops {

// cos and sin tables (n_pos x head_dim/2) for positions 0..n_pos-1. The angle
// is computed in double and rounded to T, as the engine does.
template <typename T>
void rope_tables(int n_pos, int head_dim, const std::vector<double>& inv_freq, float linear_scale,
                 T* cos_t, T* sin_t);

// x: n rows of n_heads * head_dim; row r has position r % seq_len (rows are
// batch-major). In place.
template <typename T>
void rope_forward(T* x, int64_t n, int seq_len, int n_heads, int head_dim, RopeMode mode,
                  const T* cos_t, const T* sin_t, const Exec& ex);
template <typename T>
void rope_backward(T* dx, int64_t n, int seq_len, int n_heads, int head_dim, RopeMode mode,
                   const T* cos_t, const T* sin_t, const Exec& ex);

}  // namespace sf::train::ops
