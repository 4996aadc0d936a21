// Causal multi-head attention with grouped KV heads (GQA): query head h reads
// KV head h / (n_head / n_head_kv), as the engine does. Scores are scaled by
// 1/sqrt(head_dim); position t attends to 0..t of its own sequence.
//
// The forward saves only the output and each query's log-sum-exp; the
// backward recomputes the probabilities from them (flash-attention style), so
// memory stays O(B T H) instead of O(B H T^2) at long contexts. Work is split
// over (sequence, head) pairs; in the backward each query head writes its own
// dK/dV slice and the group is summed afterwards, so no two threads write the
// same memory and results do not depend on the thread count.
#pragma once

#include <cstdint>
#include <vector>

#include "train/ops/common.h"

namespace sf::train::ops {

struct AttnShape {
  int B = 1, T = 1;  // sequences, positions per sequence (rows = B*T)
  int n_head = 1, n_head_kv = 1, head_dim = 1;
  int64_t q_dim() const { return static_cast<int64_t>(n_head) * head_dim; }
  int64_t kv_dim() const { return static_cast<int64_t>(n_head_kv) * head_dim; }
};

// q (rows x q_dim), k, v (rows x kv_dim) -> out (rows x q_dim), lse (B x H x T).
template <typename T>
void attention_forward(const T* q, const T* k, const T* v, T* out, T* lse, const AttnShape& s,
                       const Exec& ex, std::vector<T>& scratch);

// Writes dq (rows x q_dim), dk, dv (rows x kv_dim) from dout and the forward's
// inputs, output and lse.
template <typename T>
void attention_backward(const T* dout, const T* q, const T* k, const T* v, const T* out,
                        const T* lse, T* dq, T* dk, T* dv, const AttnShape& s, const Exec& ex,
                        std::vector<T>& scratch);

}  // namespace sf::train::ops
