// Hugging Face config.json for the decoder-only families Starfire runs
// (LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM).
//
// parse_hf_config reads the fields with transformers' per-family defaults and
// refuses what would silently compute something else: an unknown
// architecture, an activation other than SiLU, MLP / output-projection
// biases, partial rotary embeddings, RoPE scaling types other than linear and
// llama3, per-layer sliding windows. Every error names the field.
// models/hf_model_loader.cpp turns the result into a ModelConfig.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace sf::hf {

struct RopeScaling {
  std::string type;  // "" (none), "linear" or "llama3"
  double factor = 1.0;
  double low_freq_factor = 1.0;                 // llama3
  double high_freq_factor = 4.0;                // llama3
  int original_max_position_embeddings = 8192;  // llama3
};

struct Config {
  std::string architecture;  // "LlamaForCausalLM" ...
  std::string gguf_arch;     // "llama" (Llama, Mistral), "qwen2", "qwen3"
  int vocab_size = 0;
  int hidden_size = 0;
  int intermediate_size = 0;
  int num_hidden_layers = 0;
  int num_attention_heads = 0;
  int num_key_value_heads = 0;
  int head_dim = 0;  // explicit or hidden_size / num_attention_heads
  int max_position_embeddings = 0;
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  bool tie_word_embeddings = false;
  bool qkv_bias =
      false;  // Qwen2 always; Llama/Qwen3 with attention_bias (refused: o_proj bias too)
  int sliding_window = 0;  // 0: full attention everywhere
  RopeScaling rope_scaling;
  std::string name;  // _name_or_path, for display
};

Result<Config> parse_hf_config(std::string_view json_text, const std::string& path);
Result<Config> read_hf_config(const std::string& path);  // path of config.json

}  // namespace sf::hf
