// Builds a Model from GGUF metadata and tensors: the shared hyperparameter
// keys, then the architecture's differences, then every tensor checked for
// presence, type and shape before any forward pass can touch it.
#include <cstdio>
#include <filesystem>

#include "models/arch.h"
#include "models/model.h"
#include "models/model_store.h"
#include "models/weight_packing.h"
#include "tokenizer/tokenizer.h"

namespace sf {
namespace {

struct Ctx {
  const gguf::GgufFile& f;
  const std::string& arch;

  std::string key(const char* suffix) const { return arch + "." + suffix; }

  Status get_int(const char* suffix, int& out, bool required) const {
    auto v = f.get_int(key(suffix));
    if (!v) {
      if (!required) return {};
      return errorf("%s: missing metadata key '%s' (needed for architecture '%s')",
                    f.path().c_str(), key(suffix).c_str(), arch.c_str());
    }
    if (*v <= 0 || *v > (1 << 24))
      return errorf("%s: metadata '%s' = %lld is out of range", f.path().c_str(),
                    key(suffix).c_str(), static_cast<long long>(*v));
    out = static_cast<int>(*v);
    return {};
  }

  // Looks up a tensor and checks its type is computable and its shape is
  // {cols, rows} (or {cols} for vectors when rows == 0).
  Result<WeightView> tensor(const std::string& name, int64_t cols, int64_t rows,
                            bool required = true) const {
    const gguf::TensorInfo* t = f.find_tensor(name);
    if (!t) {
      if (!required) return WeightView{};
      return errorf("%s: missing tensor '%s'; is this a complete %s model?", f.path().c_str(),
                    name.c_str(), arch.c_str());
    }
    if (!traits(t->type).computable)
      return errorf(
          "%s: tensor '%s' has type %s, which Starfire cannot compute yet; "
          "requantize it (e.g. to Q8_0 or Q4_K)",
          f.path().c_str(), name.c_str(), type_name(t->type));
    const bool vec = rows == 0;
    const bool ok = vec ? (t->dims.size() == 1 && t->dims[0] == cols)
                        : (t->dims.size() == 2 && t->dims[0] == cols && t->dims[1] == rows);
    if (!ok) {
      std::string got;
      for (size_t i = 0; i < t->dims.size(); ++i)
        got += (i ? ", " : "") + std::to_string(t->dims[i]);
      return errorf("%s: tensor '%s' has shape [%s], expected [%lld%s%s]", f.path().c_str(),
                    name.c_str(), got.c_str(), static_cast<long long>(cols), vec ? "" : ", ",
                    vec ? "" : std::to_string(rows).c_str());
    }
    if (vec && t->type != DType::F32)
      return errorf("%s: tensor '%s' is %s; norm weights and biases must be F32", f.path().c_str(),
                    name.c_str(), type_name(t->type));
    return WeightView{t->type, t->data, vec ? 1 : rows, cols};
  }
};

Status read_config(const gguf::GgufFile& f, const ArchSpec& spec, ModelConfig& c) {
  Ctx x{f, c.arch};
  SF_RETURN_IF_ERROR(x.get_int("embedding_length", c.n_embd, true));
  SF_RETURN_IF_ERROR(x.get_int("block_count", c.n_layer, true));
  SF_RETURN_IF_ERROR(x.get_int("feed_forward_length", c.n_ff, true));
  SF_RETURN_IF_ERROR(x.get_int("attention.head_count", c.n_head, true));
  c.n_head_kv = c.n_head;
  SF_RETURN_IF_ERROR(x.get_int("attention.head_count_kv", c.n_head_kv, false));
  SF_RETURN_IF_ERROR(x.get_int("context_length", c.n_ctx_train, false));
  if (c.n_ctx_train == 0) c.n_ctx_train = 2048;
  if (auto eps = f.get_float(x.key("attention.layer_norm_rms_epsilon"))) c.rms_eps = float(*eps);
  if (auto base = f.get_float(x.key("rope.freq_base"))) c.rope_base = float(*base);
  if (auto type = f.get_string(x.key("rope.scaling.type"))) {
    if (*type == "linear") {
      if (auto factor = f.get_float(x.key("rope.scaling.factor")); factor && *factor > 0)
        c.rope_linear_scale = float(*factor);
    } else if (*type != "none") {
      return errorf("%s: rope scaling type '%s' is not supported yet (supported: none, linear)",
                    f.path().c_str(), type->c_str());
    }
  }
  if (c.n_head % c.n_head_kv != 0)
    return errorf("%s: head_count %d is not a multiple of head_count_kv %d", f.path().c_str(),
                  c.n_head, c.n_head_kv);
  if (c.n_embd % c.n_head != 0)
    return errorf("%s: embedding_length %d is not a multiple of head_count %d", f.path().c_str(),
                  c.n_embd, c.n_head);
  c.head_dim = c.n_embd / c.n_head;
  c.rope_mode = spec.rope_mode;
  c.qkv_bias = spec.qkv_bias;
  c.qk_norm = spec.qk_norm;
  if (spec.read_extra) SF_RETURN_IF_ERROR(spec.read_extra(f, c));
  c.rope_dim = c.head_dim;
  SF_RETURN_IF_ERROR(x.get_int("rope.dimension_count", c.rope_dim, false));
  if (c.rope_dim != c.head_dim)
    return errorf("%s: partial RoPE (rope.dimension_count %d < head size %d) is not supported",
                  f.path().c_str(), c.rope_dim, c.head_dim);
  if (c.head_dim % 2 != 0)
    return errorf("%s: head size %d must be even for RoPE", f.path().c_str(), c.head_dim);
  if (auto name = f.get_string("general.name")) c.name = *name;
  return {};
}

Status read_weights(const gguf::GgufFile& f, ModelConfig& c, ModelWeights& w) {
  Ctx x{f, c.arch};
  const gguf::TensorInfo* emb = f.find_tensor("token_embd.weight");
  if (!emb || emb->dims.size() != 2)
    return errorf("%s: missing or malformed tensor 'token_embd.weight'", f.path().c_str());
  c.n_vocab = static_cast<int>(emb->dims[1]);
  SF_ASSIGN_OR_RETURN(w.tok_embd, x.tensor("token_embd.weight", c.n_embd, c.n_vocab));
  SF_ASSIGN_OR_RETURN(w.output_norm, x.tensor("output_norm.weight", c.n_embd, 0));
  SF_ASSIGN_OR_RETURN(w.output, x.tensor("output.weight", c.n_embd, c.n_vocab, false));
  c.tied_output = w.output.empty();
  if (c.tied_output) w.output = w.tok_embd;
  SF_ASSIGN_OR_RETURN(w.rope_freqs, x.tensor("rope_freqs.weight", c.rope_dim / 2, 0, false));

  const int q = c.q_dim(), kv = c.kv_dim(), e = c.n_embd;
  w.layers.resize(c.n_layer);
  for (int i = 0; i < c.n_layer; ++i) {
    LayerWeights& l = w.layers[i];
    auto n = [&](const char* s) { return "blk." + std::to_string(i) + "." + s; };
    SF_ASSIGN_OR_RETURN(l.attn_norm, x.tensor(n("attn_norm.weight"), e, 0));
    SF_ASSIGN_OR_RETURN(l.wq, x.tensor(n("attn_q.weight"), e, q));
    SF_ASSIGN_OR_RETURN(l.wk, x.tensor(n("attn_k.weight"), e, kv));
    SF_ASSIGN_OR_RETURN(l.wv, x.tensor(n("attn_v.weight"), e, kv));
    SF_ASSIGN_OR_RETURN(l.wo, x.tensor(n("attn_output.weight"), q, e));
    if (c.qkv_bias) {
      SF_ASSIGN_OR_RETURN(l.bq, x.tensor(n("attn_q.bias"), q, 0));
      SF_ASSIGN_OR_RETURN(l.bk, x.tensor(n("attn_k.bias"), kv, 0));
      SF_ASSIGN_OR_RETURN(l.bv, x.tensor(n("attn_v.bias"), kv, 0));
    }
    if (c.qk_norm) {
      SF_ASSIGN_OR_RETURN(l.q_norm, x.tensor(n("attn_q_norm.weight"), c.head_dim, 0));
      SF_ASSIGN_OR_RETURN(l.k_norm, x.tensor(n("attn_k_norm.weight"), c.head_dim, 0));
    }
    SF_ASSIGN_OR_RETURN(l.ffn_norm, x.tensor(n("ffn_norm.weight"), e, 0));
    SF_ASSIGN_OR_RETURN(l.w_gate, x.tensor(n("ffn_gate.weight"), e, c.n_ff));
    SF_ASSIGN_OR_RETURN(l.w_up, x.tensor(n("ffn_up.weight"), e, c.n_ff));
    SF_ASSIGN_OR_RETURN(l.w_down, x.tensor(n("ffn_down.weight"), c.n_ff, e));
  }
  return {};
}

}  // namespace

const gguf::GgufFile& Model::file() const {
  SF_CHECK(file_ != nullptr, "Model::file() on a model not loaded from GGUF (use gguf())");
  return *file_;
}

Result<std::shared_ptr<const Model>> Model::load(const std::string& path_or_name,
                                                 const LoadOptions& opt) {
  std::error_code ec;
  const std::filesystem::file_status st = std::filesystem::status(path_or_name, ec);
  if (std::filesystem::is_directory(st)) return load_hf(path_or_name);
  if (std::filesystem::exists(st)) return load_gguf(path_or_name, opt);
  auto stored = store::resolve(path_or_name);
  if (!stored.ok()) return stored.status();
  if (std::filesystem::is_directory(*stored, ec)) return load_hf(*stored);
  return load_gguf(*stored, opt);
}

Result<std::shared_ptr<const Model>> Model::load_gguf(const std::string& path,
                                                      const LoadOptions& opt) {
  SF_ASSIGN_OR_RETURN(auto file, gguf::GgufFile::open(path));
  return from_gguf(std::move(file), opt);
}

Result<std::shared_ptr<const Model>> Model::from_gguf(std::shared_ptr<const gguf::GgufFile> f,
                                                      const LoadOptions& opt) {
  auto m = std::shared_ptr<Model>(new Model());
  m->file_ = f;
  m->source_ = f->path();
  for (const gguf::TensorInfo& t : f->tensors())
    m->records_.push_back({t.name, t.type, t.n_elements(), t.n_bytes});
  auto arch = f->get_string("general.architecture");
  if (!arch)
    return errorf("%s: missing 'general.architecture'; this is not a model file (vocab-only?)",
                  f->path().c_str());
  const ArchSpec* spec = find_arch(*arch);
  if (!spec) {
    std::string known;
    for (const ArchSpec* a : all_archs()) known += std::string(known.empty() ? "" : ", ") + a->name;
    return errorf("%s: architecture '%s' is not supported (supported: %s)", f->path().c_str(),
                  arch->c_str(), known.c_str());
  }
  m->config_.arch = *arch;
  SF_RETURN_IF_ERROR(read_config(*f, *spec, m->config_));
  SF_RETURN_IF_ERROR(read_weights(*f, m->config_, m->weights_));
  if (opt.pack_weights && repack_enabled_by_env())
    pack_model_weights(m->weights_, m->packed_, f.get());
  auto tok = Tokenizer::from_gguf(*f);
  if (tok.ok()) {
    m->tokenizer_ = tok.value();
    if (m->tokenizer_->n_vocab() > m->config_.n_vocab)
      return errorf("%s: tokenizer has %d tokens but the embedding has only %d rows",
                    f->path().c_str(), m->tokenizer_->n_vocab(), m->config_.n_vocab);
  } else {
    m->tokenizer_error_ = tok.status().message();
  }
  return std::shared_ptr<const Model>(std::move(m));
}

}  // namespace sf
