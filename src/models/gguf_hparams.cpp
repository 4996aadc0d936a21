#include "models/gguf_hparams.h"

namespace sf {

GgufKv hparams_kv(const ModelConfig& c) {
  const std::string& a = c.arch;
  GgufKv kv;
  auto u32 = [&](const char* key, int v) {
    kv.emplace_back(a + key, gguf::Value::u32(static_cast<uint32_t>(v)));
  };
  u32(".vocab_size", c.n_vocab);
  // A sliding-window model is exact only within its window (models/config.h).
  u32(".context_length", c.n_ctx_train);
  u32(".embedding_length", c.n_embd);
  u32(".block_count", c.n_layer);
  u32(".feed_forward_length", c.n_ff);
  u32(".attention.head_count", c.n_head);
  u32(".attention.head_count_kv", c.n_head_kv);
  kv.emplace_back(a + ".rope.freq_base", gguf::Value::f32(c.rope_base));
  kv.emplace_back(a + ".attention.layer_norm_rms_epsilon", gguf::Value::f32(c.rms_eps));
  u32(".rope.dimension_count", c.head_dim);
  // Qwen3 always states its head size; others only when it is not n_embd / n_head.
  if (a == "qwen3" || c.head_dim * c.n_head != c.n_embd) {
    u32(".attention.key_length", c.head_dim);
    u32(".attention.value_length", c.head_dim);
  }
  if (c.rope_linear_scale != 1.0f) {
    kv.emplace_back(a + ".rope.scaling.type", gguf::Value::str("linear"));
    kv.emplace_back(a + ".rope.scaling.factor", gguf::Value::f32(c.rope_linear_scale));
  }
  return kv;
}

}  // namespace sf
