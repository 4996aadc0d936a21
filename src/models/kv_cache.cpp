#include "models/kv_cache.h"

namespace sf {

KvCache::KvCache(const ModelConfig& cfg, int n_ctx, int n_seq)
    : n_layer_(cfg.n_layer), n_ctx_(n_ctx), n_seq_(n_seq), kv_dim_(cfg.kv_dim()) {
  const size_t n = static_cast<size_t>(n_layer_) * n_seq_ * n_ctx_ * kv_dim_;
  k_.assign(n, 0.0f);
  v_.assign(n, 0.0f);
}

}  // namespace sf
