// HF <-> GGUF tensor names and config.json -> ModelConfig (models/hf_model.h).
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "models/hf_model.h"

namespace sf::hfmap {
namespace {

struct Pair {
  const char* hf;
  const char* gguf;
};

constexpr Pair kGlobal[] = {
    {"model.embed_tokens.weight", "token_embd.weight"},
    {"model.norm.weight", "output_norm.weight"},
    {"lm_head.weight", "output.weight"},
};

// Per-layer suffixes after "model.layers.N." / "blk.N.".
constexpr Pair kLayer[] = {
    {"input_layernorm.weight", "attn_norm.weight"},
    {"self_attn.q_proj.weight", "attn_q.weight"},
    {"self_attn.k_proj.weight", "attn_k.weight"},
    {"self_attn.v_proj.weight", "attn_v.weight"},
    {"self_attn.o_proj.weight", "attn_output.weight"},
    {"self_attn.q_proj.bias", "attn_q.bias"},
    {"self_attn.k_proj.bias", "attn_k.bias"},
    {"self_attn.v_proj.bias", "attn_v.bias"},
    {"self_attn.q_norm.weight", "attn_q_norm.weight"},
    {"self_attn.k_norm.weight", "attn_k_norm.weight"},
    {"post_attention_layernorm.weight", "ffn_norm.weight"},
    {"mlp.gate_proj.weight", "ffn_gate.weight"},
    {"mlp.up_proj.weight", "ffn_up.weight"},
    {"mlp.down_proj.weight", "ffn_down.weight"},
};

// "prefix<digits>.rest" -> (N, rest); false when it does not match.
bool split_layer(const std::string& name, const char* prefix, int& layer, std::string& rest) {
  const size_t n = std::strlen(prefix);
  if (name.compare(0, n, prefix) != 0) return false;
  size_t i = n;
  while (i < name.size() && name[i] >= '0' && name[i] <= '9') ++i;
  if (i == n || i - n > 6 || i >= name.size() || name[i] != '.') return false;
  layer = std::atoi(name.c_str() + n);
  rest = name.substr(i + 1);
  return true;
}

}  // namespace

std::optional<std::string> gguf_name(const std::string& hf) {
  for (const Pair& p : kGlobal)
    if (hf == p.hf) return std::string(p.gguf);
  int layer = 0;
  std::string rest;
  if (!split_layer(hf, "model.layers.", layer, rest)) return std::nullopt;
  if (rest == "self_attn.rotary_emb.inv_freq") return std::string();
  for (const Pair& p : kLayer)
    if (rest == p.hf) return "blk." + std::to_string(layer) + "." + p.gguf;
  return std::nullopt;
}

std::optional<std::string> hf_name(const std::string& gguf) {
  for (const Pair& p : kGlobal)
    if (gguf == p.gguf) return std::string(p.hf);
  int layer = 0;
  std::string rest;
  if (!split_layer(gguf, "blk.", layer, rest)) return std::nullopt;
  for (const Pair& p : kLayer)
    if (rest == p.gguf) return "model.layers." + std::to_string(layer) + "." + p.hf;
  return std::nullopt;
}

std::vector<float> llama3_rope_factors(const hf::RopeScaling& rs, double theta, int head_dim) {
  // Wavelengths shorter than original_ctx / high_freq_factor keep their
  // frequency, longer than original_ctx / low_freq_factor are divided by
  // `factor`, and the band between is interpolated (Llama 3.1's scheme).
  const double old_ctx = rs.original_max_position_embeddings;
  const double low_wavelen = old_ctx / rs.low_freq_factor;
  const double high_wavelen = old_ctx / rs.high_freq_factor;
  std::vector<float> out;
  for (int i = 0; i < head_dim; i += 2) {
    const double freq = 1.0 / std::pow(theta, static_cast<double>(i) / head_dim);
    const double wavelen = 2.0 * M_PI / freq;
    double f;
    if (wavelen < high_wavelen) {
      f = 1.0;
    } else if (wavelen > low_wavelen) {
      f = rs.factor;
    } else {
      const double smooth =
          (old_ctx / wavelen - rs.low_freq_factor) / (rs.high_freq_factor - rs.low_freq_factor);
      f = 1.0 / ((1.0 - smooth) / rs.factor + smooth);
    }
    out.push_back(static_cast<float>(f));
  }
  return out;
}

ModelConfig model_config(const hf::Config& h) {
  ModelConfig c;
  c.arch = h.gguf_arch;
  c.name = h.name;
  c.n_vocab = h.vocab_size;
  c.n_embd = h.hidden_size;
  c.n_layer = h.num_hidden_layers;
  c.n_head = h.num_attention_heads;
  c.n_head_kv = h.num_key_value_heads;
  c.head_dim = h.head_dim;
  c.n_ff = h.intermediate_size;
  c.n_ctx_train = h.max_position_embeddings;
  c.rms_eps = static_cast<float>(h.rms_norm_eps);
  c.rope_base = static_cast<float>(h.rope_theta);
  c.rope_dim = h.head_dim;
  c.rope_mode = RopeMode::Neox;  // HF keeps q/k in rotate-halves order for every family
  if (h.rope_scaling.type == "linear")
    c.rope_linear_scale = static_cast<float>(h.rope_scaling.factor);
  if (h.rope_scaling.type == "llama3")
    c.rope_freq_factors = llama3_rope_factors(h.rope_scaling, h.rope_theta, h.head_dim);
  c.qkv_bias = h.qkv_bias;
  c.qk_norm = h.gguf_arch == "qwen3";
  c.tied_output = h.tie_word_embeddings;
  c.sliding_window = h.sliding_window;
  if (c.sliding_window > 0 && c.sliding_window < c.n_ctx_train) c.n_ctx_train = c.sliding_window;
  return c;
}

}  // namespace sf::hfmap
