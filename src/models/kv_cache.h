// Keys and values of past positions, per layer and sequence: the state a
// decoder carries between forward passes. Layout [layer][seq][pos][kv_dim] in
// f32, so one sequence's keys for one layer are contiguous and stream well.
// It lives with the decoder (not in runtime/) because the forward pass reads
// and writes it; the runtime decides which sequence uses which slot.
#pragma once

#include <cstdint>
#include <vector>

#include "models/config.h"

namespace sf {

class KvCache {
 public:
  KvCache(const ModelConfig& cfg, int n_ctx, int n_seq = 1);

  int n_ctx() const { return n_ctx_; }
  int n_seq() const { return n_seq_; }
  int kv_dim() const { return kv_dim_; }
  size_t bytes() const { return (k_.size() + v_.size()) * sizeof(float); }

  float* k(int layer, int seq, int pos) { return k_.data() + offset(layer, seq, pos); }
  float* v(int layer, int seq, int pos) { return v_.data() + offset(layer, seq, pos); }
  const float* k(int layer, int seq, int pos) const { return k_.data() + offset(layer, seq, pos); }
  const float* v(int layer, int seq, int pos) const { return v_.data() + offset(layer, seq, pos); }

 private:
  size_t offset(int layer, int seq, int pos) const {
    return ((static_cast<size_t>(layer) * n_seq_ + seq) * n_ctx_ + pos) * kv_dim_;
  }
  int n_layer_, n_ctx_, n_seq_, kv_dim_;
  std::vector<float> k_, v_;
};

}  // namespace sf
