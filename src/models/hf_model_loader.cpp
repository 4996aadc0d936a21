// Model::load_hf: runs a Hugging Face folder directly. Weights stay in the
// safetensors mappings (HF's [out, in] layout is the engine's); only norm
// weights and biases that are not f32, and tensors whose data is not aligned
// to their element size, are converted into buffers the Model owns.
#include <cstring>
#include <filesystem>

#include "formats/safetensors.h"
#include "models/arch.h"
#include "models/hf_model.h"
#include "models/model.h"
#include "tokenizer/tokenizer.h"

namespace sf {
namespace {

std::string shape_str(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

}  // namespace

Result<std::shared_ptr<const Model>> Model::load_hf(const std::string& folder) {
  namespace fs = std::filesystem;
  const fs::path dir(folder);
  SF_ASSIGN_OR_RETURN(hf::Config hc, hf::read_hf_config((dir / "config.json").string()));
  auto m = std::shared_ptr<Model>(new Model());
  m->source_ = folder;
  m->config_ = hfmap::model_config(hc);
  if (m->config_.name.empty()) m->config_.name = dir.filename().string();
  ModelConfig& c = m->config_;
  SF_ASSIGN_OR_RETURN(st::SafetensorsSet set, st::SafetensorsSet::open(folder));
  for (const auto& f : set.files()) m->keep_.push_back(f);
  const char* p = folder.c_str();

  for (const st::TensorInfo* t : set.tensors()) {
    auto g = hfmap::gguf_name(t->name);
    if (!g)
      return errorf(
          "%s: tensor '%s' is not part of a %s model as Starfire knows it; refusing to "
          "ignore weights",
          p, t->name.c_str(), hc.architecture.c_str());
    m->records_.push_back({t->name, t->type.value_or(DType::I8), t->n_elements(), t->n_bytes()});
  }

  // Looks up a tensor and checks dtype and shape ([rows, cols], or [cols] when rows == 0).
  auto get = [&](const std::string& name, int64_t cols, int64_t rows,
                 bool required = true) -> Result<WeightView> {
    const st::TensorInfo* t = set.find(name);
    if (!t) {
      if (!required) return WeightView{};
      return errorf("%s: missing tensor '%s'; is this a complete %s checkpoint?", p, name.c_str(),
                    hc.architecture.c_str());
    }
    if (!t->type)
      return errorf("%s: tensor '%s' has dtype %s; only F32, F16 and BF16 weights are supported", p,
                    name.c_str(), t->dtype.c_str());
    const bool vec = rows == 0;
    const std::vector<int64_t> want =
        vec ? std::vector<int64_t>{cols} : std::vector<int64_t>{rows, cols};
    if (t->shape != want)
      return errorf("%s: tensor '%s' has shape %s, expected %s (check config.json)", p,
                    name.c_str(), shape_str(t->shape).c_str(), shape_str(want).c_str());
    const uintptr_t addr = reinterpret_cast<uintptr_t>(t->data);
    if (vec && *t->type != DType::F32) {  // the decoder reads norms and biases as f32
      std::vector<float> v(static_cast<size_t>(cols));
      for (int64_t i = 0; i < cols; ++i) v[i] = t->element_f32(i);
      m->owned_.push_back(std::move(v));
      return WeightView{DType::F32, m->owned_.back().data(), 1, cols};
    }
    if (addr % t->elem_bytes != 0) {  // unaligned data: copy (kernels load whole elements)
      std::vector<float> v((t->n_bytes() + 3) / 4);
      std::memcpy(v.data(), t->data, t->n_bytes());
      m->owned_.push_back(std::move(v));
      return WeightView{*t->type, m->owned_.back().data(), vec ? 1 : rows, cols};
    }
    return WeightView{*t->type, t->data, vec ? 1 : rows, cols};
  };

  const st::TensorInfo* emb = set.find("model.embed_tokens.weight");
  if (!emb || emb->shape.size() != 2)
    return errorf("%s: missing or malformed tensor 'model.embed_tokens.weight'", p);
  if (emb->shape[0] != c.n_vocab)
    return errorf("%s: config.json says vocab_size %d but model.embed_tokens.weight has %lld rows",
                  p, c.n_vocab, static_cast<long long>(emb->shape[0]));
  ModelWeights& w = m->weights_;
  const int e = c.n_embd, q = c.q_dim(), kv = c.kv_dim();
  SF_ASSIGN_OR_RETURN(w.tok_embd, get("model.embed_tokens.weight", e, c.n_vocab));
  SF_ASSIGN_OR_RETURN(w.output_norm, get("model.norm.weight", e, 0));
  SF_ASSIGN_OR_RETURN(w.output, get("lm_head.weight", e, c.n_vocab, false));
  if (w.output.empty()) {
    if (!hc.tie_word_embeddings)
      return errorf(
          "%s: missing tensor 'lm_head.weight' and config.json's tie_word_embeddings "
          "is false",
          p);
    w.output = w.tok_embd;
    c.tied_output = true;
  } else {
    c.tied_output = false;
  }
  w.layers.resize(c.n_layer);
  for (int i = 0; i < c.n_layer; ++i) {
    LayerWeights& l = w.layers[i];
    auto n = [&](const char* s) { return "model.layers." + std::to_string(i) + "." + s; };
    SF_ASSIGN_OR_RETURN(l.attn_norm, get(n("input_layernorm.weight"), e, 0));
    SF_ASSIGN_OR_RETURN(l.wq, get(n("self_attn.q_proj.weight"), e, q));
    SF_ASSIGN_OR_RETURN(l.wk, get(n("self_attn.k_proj.weight"), e, kv));
    SF_ASSIGN_OR_RETURN(l.wv, get(n("self_attn.v_proj.weight"), e, kv));
    SF_ASSIGN_OR_RETURN(l.wo, get(n("self_attn.o_proj.weight"), q, e));
    if (c.qkv_bias) {
      SF_ASSIGN_OR_RETURN(l.bq, get(n("self_attn.q_proj.bias"), q, 0));
      SF_ASSIGN_OR_RETURN(l.bk, get(n("self_attn.k_proj.bias"), kv, 0));
      SF_ASSIGN_OR_RETURN(l.bv, get(n("self_attn.v_proj.bias"), kv, 0));
    }
    if (c.qk_norm) {
      SF_ASSIGN_OR_RETURN(l.q_norm, get(n("self_attn.q_norm.weight"), c.head_dim, 0));
      SF_ASSIGN_OR_RETURN(l.k_norm, get(n("self_attn.k_norm.weight"), c.head_dim, 0));
    }
    SF_ASSIGN_OR_RETURN(l.ffn_norm, get(n("post_attention_layernorm.weight"), e, 0));
    SF_ASSIGN_OR_RETURN(l.w_gate, get(n("mlp.gate_proj.weight"), e, c.n_ff));
    SF_ASSIGN_OR_RETURN(l.w_up, get(n("mlp.up_proj.weight"), e, c.n_ff));
    SF_ASSIGN_OR_RETURN(l.w_down, get(n("mlp.down_proj.weight"), c.n_ff, e));
  }

  const fs::path tok_json = dir / "tokenizer.json";
  std::error_code ec;
  if (fs::exists(tok_json, ec)) {
    const fs::path tok_cfg = dir / "tokenizer_config.json";
    auto tok = Tokenizer::from_hf(tok_json.string(),
                                  fs::exists(tok_cfg, ec) ? tok_cfg.string() : std::string());
    if (tok.ok()) {
      m->tokenizer_ = tok.value();
      if (m->tokenizer_->n_vocab() > c.n_vocab)
        return errorf("%s: tokenizer has %d tokens but the embedding has only %d rows", p,
                      m->tokenizer_->n_vocab(), c.n_vocab);
    } else {
      m->tokenizer_error_ = tok.status().message();
    }
  } else {
    m->tokenizer_error_ = folder + ": no tokenizer.json in the folder";
  }
  return std::shared_ptr<const Model>(std::move(m));
}

}  // namespace sf
