#include "formats/hf_config.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace sf::hf {
namespace {

using nlohmann::json;

struct Reader {
  const json& j;
  const std::string& path;

  const json* get(const char* key) const {
    auto it = j.find(key);
    return it == j.end() || it->is_null() ? nullptr : &*it;
  }
  Status integer(const char* key, int& out, bool required, int lo = 1) const {
    const json* v = get(key);
    if (!v) {
      if (required) return errorf("%s: missing field '%s'", path.c_str(), key);
      return {};
    }
    if (!v->is_number_integer() || v->get<int64_t>() < lo || v->get<int64_t>() > (1 << 24))
      return errorf("%s: field '%s' = %s is not an integer in [%d, %d]", path.c_str(), key,
                    v->dump().c_str(), lo, 1 << 24);
    out = static_cast<int>(v->get<int64_t>());
    return {};
  }
  Status number(const char* key, double& out) const {
    const json* v = get(key);
    if (!v) return {};
    if (!v->is_number() || !(v->get<double>() > 0))
      return errorf("%s: field '%s' = %s must be a positive number", path.c_str(), key,
                    v->dump().c_str());
    out = v->get<double>();
    return {};
  }
  Status boolean(const char* key, bool& out) const {
    const json* v = get(key);
    if (!v) return {};
    if (!v->is_boolean())
      return errorf("%s: field '%s' = %s must be true or false", path.c_str(), key,
                    v->dump().c_str());
    out = v->get<bool>();
    return {};
  }
};

Status read_rope_scaling(const Reader& r, RopeScaling& rs) {
  const json* v = r.get("rope_scaling");
  if (!v) return {};
  const char* p = r.path.c_str();
  if (!v->is_object()) return errorf("%s: field 'rope_scaling' must be an object or null", p);
  std::string type;
  for (const char* k : {"rope_type", "type"}) {
    auto it = v->find(k);
    if (it != v->end() && it->is_string()) {
      type = it->get<std::string>();
      break;
    }
  }
  if (type.empty() || type == "default") return {};
  if (type != "linear" && type != "llama3")
    return errorf(
        "%s: field 'rope_scaling.rope_type' = '%s' is not supported (supported: linear, "
        "llama3)",
        p, type.c_str());
  rs.type = type;
  Reader sub{*v, r.path};
  double factor = 0;
  SF_RETURN_IF_ERROR(sub.number("factor", factor));
  if (factor <= 0) return errorf("%s: field 'rope_scaling.factor' is missing", p);
  rs.factor = factor;
  if (type == "llama3") {
    SF_RETURN_IF_ERROR(sub.number("low_freq_factor", rs.low_freq_factor));
    SF_RETURN_IF_ERROR(sub.number("high_freq_factor", rs.high_freq_factor));
    SF_RETURN_IF_ERROR(sub.integer("original_max_position_embeddings",
                                   rs.original_max_position_embeddings, false));
    if (rs.high_freq_factor <= rs.low_freq_factor)
      return errorf("%s: field 'rope_scaling.high_freq_factor' must exceed low_freq_factor", p);
  }
  return {};
}

}  // namespace

Result<Config> parse_hf_config(std::string_view text, const std::string& path) {
  const char* p = path.c_str();
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return errorf("%s: not a JSON object", p);
  Reader r{j, path};
  Config c;
  const json* archs = r.get("architectures");
  if (!archs || !archs->is_array() || archs->empty() || !(*archs)[0].is_string())
    return errorf("%s: field 'architectures' is missing; is this a transformers model folder?", p);
  c.architecture = (*archs)[0].get<std::string>();
  bool qwen2 = false, qwen3 = false, mistral = false;
  if (c.architecture == "LlamaForCausalLM") {
    c.gguf_arch = "llama";
  } else if (c.architecture == "MistralForCausalLM") {
    c.gguf_arch = "llama";
    mistral = true;
  } else if (c.architecture == "Qwen2ForCausalLM") {
    c.gguf_arch = "qwen2";
    qwen2 = true;
  } else if (c.architecture == "Qwen3ForCausalLM") {
    c.gguf_arch = "qwen3";
    qwen3 = true;
  } else {
    return errorf(
        "%s: field 'architectures' = '%s' is not supported (supported: "
        "LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM)",
        p, c.architecture.c_str());
  }
  if (const json* q = r.get("quantization_config"))
    return errorf(
        "%s: field 'quantization_config' (%s): pre-quantized checkpoints are not "
        "supported; use the unquantized weights and `starfire quantize`",
        p,
        q->is_object() && q->contains("quant_method") ? q->at("quant_method").dump().c_str() : "?");
  SF_RETURN_IF_ERROR(r.integer("vocab_size", c.vocab_size, true));
  SF_RETURN_IF_ERROR(r.integer("hidden_size", c.hidden_size, true));
  SF_RETURN_IF_ERROR(r.integer("intermediate_size", c.intermediate_size, true));
  SF_RETURN_IF_ERROR(r.integer("num_hidden_layers", c.num_hidden_layers, true));
  SF_RETURN_IF_ERROR(r.integer("num_attention_heads", c.num_attention_heads, true));
  c.num_key_value_heads = mistral ? 8 : c.num_attention_heads;
  SF_RETURN_IF_ERROR(r.integer("num_key_value_heads", c.num_key_value_heads, false));
  c.max_position_embeddings = mistral ? 4096 * 32 : (qwen2 || qwen3) ? 32768 : 2048;
  SF_RETURN_IF_ERROR(r.integer("max_position_embeddings", c.max_position_embeddings, false));
  if (c.hidden_size % c.num_attention_heads != 0 && !r.get("head_dim"))
    return errorf("%s: field 'hidden_size' (%d) is not a multiple of 'num_attention_heads' (%d)", p,
                  c.hidden_size, c.num_attention_heads);
  c.head_dim = qwen3 ? 128 : c.hidden_size / c.num_attention_heads;
  SF_RETURN_IF_ERROR(r.integer("head_dim", c.head_dim, false));
  if (c.num_attention_heads % c.num_key_value_heads != 0)
    return errorf(
        "%s: field 'num_attention_heads' (%d) is not a multiple of "
        "'num_key_value_heads' (%d)",
        p, c.num_attention_heads, c.num_key_value_heads);
  if (c.head_dim % 2 != 0) return errorf("%s: field 'head_dim' (%d) must be even", p, c.head_dim);
  SF_RETURN_IF_ERROR(r.number("rms_norm_eps", c.rms_norm_eps));
  SF_RETURN_IF_ERROR(r.number("rope_theta", c.rope_theta));
  SF_RETURN_IF_ERROR(r.boolean("tie_word_embeddings", c.tie_word_embeddings));

  for (const char* key : {"hidden_act", "hidden_activation"}) {
    if (const json* act = r.get(key)) {
      if (!act->is_string() || act->get<std::string>() != "silu")
        return errorf("%s: field '%s' = %s is not supported (only silu)", p, key,
                      act->dump().c_str());
    }
  }
  bool b = false;
  SF_RETURN_IF_ERROR(r.boolean("mlp_bias", b));
  if (b) return errorf("%s: field 'mlp_bias' = true is not supported", p);
  b = false;
  SF_RETURN_IF_ERROR(r.boolean("attention_bias", b));
  if (b && !qwen2)
    return errorf(
        "%s: field 'attention_bias' = true (biases on q/k/v and o_proj) is not "
        "supported for %s",
        p, c.architecture.c_str());
  c.qkv_bias = qwen2;
  if (const json* prf = r.get("partial_rotary_factor");
      prf && (!prf->is_number() || prf->get<double>() != 1.0))
    return errorf("%s: field 'partial_rotary_factor' = %s is not supported (only 1.0)", p,
                  prf->dump().c_str());
  SF_RETURN_IF_ERROR(read_rope_scaling(r, c.rope_scaling));

  // Sliding-window attention: Mistral v0.1 uses it on every layer; Qwen's
  // configs carry a window that only applies with use_sliding_window.
  if (qwen2 || qwen3) {
    bool use = false;
    SF_RETURN_IF_ERROR(r.boolean("use_sliding_window", use));
    if (use)
      return errorf(
          "%s: field 'use_sliding_window' = true is not supported (per-layer sliding "
          "windows)",
          p);
  } else if (const json* sw = r.get("sliding_window")) {
    SF_RETURN_IF_ERROR(r.integer("sliding_window", c.sliding_window, false));
    (void)sw;
  }
  if (const json* n = r.get("_name_or_path"); n && n->is_string()) c.name = n->get<std::string>();
  return c;
}

Result<Config> read_hf_config(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return errorf("%s: cannot read", path.c_str());
  std::stringstream ss;
  ss << f.rdbuf();
  return parse_hf_config(ss.str(), path);
}

}  // namespace sf::hf
