// Hyperparameters of a Llama-family decoder, read from GGUF metadata (or
// later from a Hugging Face config.json) by the architecture's loader.
#pragma once

#include <string>
#include <vector>

namespace sf {

// Which dimension pairs RoPE rotates: Norm = adjacent (2i, 2i+1), as Llama's
// GGUF weights expect; Neox = halves (i, i + d/2), as Qwen's do.
enum class RopeMode { Norm, Neox };

struct ModelConfig {
  std::string arch;  // "llama", "qwen2", "qwen3"
  std::string name;  // general.name, for display
  int n_vocab = 0;
  int n_embd = 0;
  int n_layer = 0;
  int n_head = 0;
  int n_head_kv = 0;
  int head_dim = 0;  // per-head size of q and k (and v)
  int n_ff = 0;
  int n_ctx_train = 0;
  float rms_eps = 1e-5f;
  float rope_base = 10000.0f;
  int rope_dim = 0;  // dimensions rotated per head (== head_dim for these models)
  RopeMode rope_mode = RopeMode::Norm;
  float rope_linear_scale = 1.0f;  // positions are divided by this ("linear" rope scaling)
  // Per-pair frequency divisors [head_dim / 2] (Llama 3 rope scaling) when
  // they come from config.json rather than a rope_freqs.weight tensor.
  std::vector<float> rope_freq_factors;
  // Attention window of a sliding-window model (Mistral v0.1); 0: none. The
  // decoder attends to the whole context, which equals sliding-window
  // attention while the context is no longer than the window, so loaders cap
  // n_ctx_train at it.
  int sliding_window = 0;

  // Architecture features (the whole difference between llama, qwen2 and qwen3).
  bool qkv_bias = false;     // q/k/v projections carry a bias
  bool qk_norm = false;      // per-head RMSNorm on q and k before RoPE
  bool tied_output = false;  // the output head reuses token_embd

  int q_dim() const { return n_head * head_dim; }
  int kv_dim() const { return n_head_kv * head_dim; }
};

}  // namespace sf
