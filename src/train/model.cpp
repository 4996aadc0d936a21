// TrainModel: the three ways to start (create, from_model, with_lora), the
// step entry points, and the LoRA adapter view. The network itself is
// detail::Net (model_impl.h); export is in export_gguf.cpp.
#include "train/model.h"

#include <cmath>

#include "core/matmul.h"
#include "models/arch.h"
#include "train/model_impl.h"

namespace sf::train {
namespace {

// Deterministic draws (std distributions differ between standard libraries,
// and an init must reproduce from its seed everywhere).
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t next() {  // splitmix64
    uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() {  // (0, 1)
    return (static_cast<double>(next() >> 11) + 0.5) * (1.0 / 9007199254740992.0);
  }
  double gauss() {  // Box-Muller
    const double u1 = uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  uint64_t s_;
};

class TrainModelImpl final : public TrainModel {
 public:
  detail::Net<float> net;
  TrainOptions opt;
  LoraConfig lora;
  bool lora_mode = false;
  uint64_t rng = 0;

  const ModelConfig& config() const override { return net.cfg; }
  const ParamLayout& layout() const override { return net.layout; }
  ParamBuffer<float>& params() override { return net.params; }
  ParamBuffer<float>& grads() override { return net.grads; }
  bool is_lora() const override { return lora_mode; }
  const LoraConfig& lora_config() const override { return lora; }

  Result<float> forward_backward(const int32_t* tokens, const int32_t* targets, const float* mask,
                                 int B, int T, float loss_scale, ThreadPool& pool) override {
    SF_RETURN_IF_ERROR(net.validate(tokens, targets, mask, B, T));
    uint64_t* drop = lora_mode && lora.dropout > 0.0f ? &rng : nullptr;
    return static_cast<float>(
        net.loss(tokens, targets, mask, B, T, loss_scale, true, drop, pool, opt.precision));
  }
  Result<float> forward_loss(const int32_t* tokens, const int32_t* targets, const float* mask,
                             int B, int T, ThreadPool& pool) override {
    SF_RETURN_IF_ERROR(net.validate(tokens, targets, mask, B, T));
    return static_cast<float>(
        net.loss(tokens, targets, mask, B, T, 1.0, false, nullptr, pool, opt.precision));
  }
  Status forward_logits(const int32_t* tokens, int T, float* logits, ThreadPool& pool) override {
    SF_RETURN_IF_ERROR(net.validate(tokens, nullptr, nullptr, 1, T));
    net.logits(tokens, T, logits, pool, opt.precision);
    return {};
  }
  uint64_t rng_state() const override { return rng; }
  void set_rng_state(uint64_t s) override { rng = s; }

  Status export_gguf(const std::string& path, DType type,
                     const gguf::GgufFile* kv_source) const override {
    return detail::export_net(net, path, type, kv_source);
  }

  Result<LoraAdapter> adapter() const override {
    if (!lora_mode)
      return Status::error("adapter(): this is a full model, not a LoRA model; use export_gguf");
    LoraAdapter a;
    a.arch = net.cfg.arch;
    a.alpha = lora.alpha;
    a.rank = lora.rank;
    a.scale = 1.0f;
    for (int l = 0; l < net.cfg.n_layer; ++l) {
      for (int p = 0; p < detail::kNumProj; ++p) {
        const auto& m = net.layers[l].mat[p];
        if (m.lora_a < 0) continue;
        LoraTensorPair t;
        t.target = "blk." + std::to_string(l) + "." + detail::proj_name(p) + ".weight";
        t.rank = lora.rank;
        t.in = m.cols;
        t.out = m.rows;
        const float* pa = net.P(m.lora_a);
        const float* pb = net.P(m.lora_b);
        t.a.assign(pa, pa + t.rank * t.in);
        t.b.assign(pb, pb + t.out * t.rank);
        a.tensors.push_back(std::move(t));
      }
    }
    return a;
  }
};

// Checks a configuration for training and applies its architecture's
// features (the GGUF loader derives them from the architecture, so a model
// trained otherwise would not load as trained).
Status check_config(ModelConfig& c) {
  const ArchSpec* spec = find_arch(c.arch);
  if (!spec)
    return errorf("cannot train architecture '%s' (supported: llama, qwen2, qwen3)",
                  c.arch.c_str());
  if (c.n_vocab < 1 || c.n_embd < 1 || c.n_layer < 1 || c.n_head < 1 || c.n_ff < 1)
    return errorf(
        "model config: n_vocab %d, n_embd %d, n_layer %d, n_head %d, n_ff %d must all "
        "be at least 1",
        c.n_vocab, c.n_embd, c.n_layer, c.n_head, c.n_ff);
  if (c.n_head_kv == 0) c.n_head_kv = c.n_head;
  if (c.n_head_kv < 1 || c.n_head % c.n_head_kv != 0)
    return errorf("model config: n_head %d must be a multiple of n_head_kv %d", c.n_head,
                  c.n_head_kv);
  const bool free_head = c.arch == "qwen3";  // only qwen3 stores its head size in GGUF
  if (c.head_dim == 0) {
    if (c.n_embd % c.n_head != 0)
      return errorf("model config: n_embd %d is not a multiple of n_head %d; set head_dim",
                    c.n_embd, c.n_head);
    c.head_dim = c.n_embd / c.n_head;
  }
  if (!free_head && c.head_dim * c.n_head != c.n_embd)
    return errorf(
        "model config: %s needs head_dim * n_head == n_embd (%d * %d != %d); the GGUF "
        "loader derives the head size (qwen3 stores it)",
        c.arch.c_str(), c.head_dim, c.n_head, c.n_embd);
  if (c.head_dim % 2 != 0)
    return errorf("model config: head_dim %d must be even for RoPE", c.head_dim);
  if (c.n_ctx_train < 1)
    return errorf("model config: n_ctx_train %d must be at least 1 (it bounds the sequence length)",
                  c.n_ctx_train);
  if (!(c.rms_eps > 0.0f)) return errorf("model config: rms_eps %g must be positive", c.rms_eps);
  if (!c.rope_freq_factors.empty() &&
      static_cast<int>(c.rope_freq_factors.size()) != c.head_dim / 2)
    return errorf("model config: %zu rope_freq_factors, expected head_dim / 2 = %d",
                  c.rope_freq_factors.size(), c.head_dim / 2);
  if (!(c.rope_linear_scale > 0.0f))
    return errorf("model config: rope_linear_scale %g must be positive", c.rope_linear_scale);
  c.rope_dim = c.head_dim;
  c.rope_mode = spec->rope_mode;
  c.qkv_bias = spec->qkv_bias;
  c.qk_norm = spec->qk_norm;
  return {};
}

bool is_output_proj(const std::string& name) {
  return name.find("attn_output.weight") != std::string::npos ||
         name.find("ffn_down.weight") != std::string::npos;
}

}  // namespace

Result<std::unique_ptr<TrainModel>> TrainModel::create(const ModelConfig& cfg, uint64_t seed,
                                                       TrainOptions opt) {
  ModelConfig c = cfg;
  SF_RETURN_IF_ERROR(check_config(c));
  auto m = std::make_unique<TrainModelImpl>();
  m->opt = opt;
  m->rng = seed;
  m->net.build_full(c);
  Rng g(seed);
  const double proj_std = 0.02 / std::sqrt(2.0 * c.n_layer);
  for (int i = 0; i < static_cast<int>(m->net.layout.tensors().size()); ++i) {
    const ParamTensor& t = m->net.layout[i];
    float* p = m->net.params.view(m->net.layout, i);
    if (t.shape.size() == 1) {  // norms 1, biases 0
      const float v = t.name.find("norm") != std::string::npos ? 1.0f : 0.0f;
      std::fill(p, p + t.size, v);
      continue;
    }
    const double sd = is_output_proj(t.name) ? proj_std : 0.02;
    for (size_t j = 0; j < t.size; ++j) p[j] = static_cast<float>(sd * g.gauss());
  }
  return std::unique_ptr<TrainModel>(std::move(m));
}

Result<std::unique_ptr<TrainModel>> TrainModel::from_model(const Model& base, TrainOptions opt) {
  ModelConfig c = detail::config_of(base);
  const ModelConfig loaded = c;
  SF_RETURN_IF_ERROR(check_config(c).with_context("from_model"));
  if (c.qkv_bias != loaded.qkv_bias || c.qk_norm != loaded.qk_norm ||
      c.rope_mode != loaded.rope_mode)
    return errorf("from_model: the loaded model's features differ from architecture '%s'",
                  c.arch.c_str());
  auto m = std::make_unique<TrainModelImpl>();
  m->opt = opt;
  m->net.build_full(c);
  detail::Net<float>& n = m->net;
  const ModelWeights& w = base.weights();
  auto mat = [&](const detail::Net<float>::Mat& dst, const WeightView& src) {
    float* p = n.params.view(n.layout, dst.param);
    for (int64_t r = 0; r < src.rows; ++r) weight_row_f32(src, r, p + r * src.cols);
  };
  auto vec = [&](const detail::Net<float>::Vec& dst, const WeightView& src) {
    if (dst.param < 0) return;
    const float* s = static_cast<const float*>(src.data);
    std::copy(s, s + src.cols, n.params.view(n.layout, dst.param));
  };
  mat(n.tok_embd, w.tok_embd);
  if (!c.tied_output) mat(n.output, w.output);
  vec(n.output_norm, w.output_norm);
  for (int l = 0; l < c.n_layer; ++l) {
    const LayerWeights& B = w.layers[l];
    auto& L = n.layers[l];
    const WeightView* views[detail::kNumProj] = {&B.wq,     &B.wk,   &B.wv,    &B.wo,
                                                 &B.w_gate, &B.w_up, &B.w_down};
    for (int p = 0; p < detail::kNumProj; ++p) mat(L.mat[p], *views[p]);
    vec(L.attn_norm, B.attn_norm);
    vec(L.ffn_norm, B.ffn_norm);
    vec(L.bias[0], B.bq);
    vec(L.bias[1], B.bk);
    vec(L.bias[2], B.bv);
    vec(L.q_norm, B.q_norm);
    vec(L.k_norm, B.k_norm);
  }
  return std::unique_ptr<TrainModel>(std::move(m));
}

Result<std::unique_ptr<TrainModel>> TrainModel::with_lora(std::shared_ptr<const Model> base,
                                                          const LoraConfig& lora, uint64_t seed,
                                                          TrainOptions opt) {
  if (!base) return Status::error("with_lora: no base model");
  auto m = std::make_unique<TrainModelImpl>();
  m->opt = opt;
  m->lora = lora;
  m->lora_mode = true;
  m->rng = seed;
  SF_RETURN_IF_ERROR(m->net.build_lora(std::move(base), lora));
  // A: PEFT's kaiming_uniform_(a = sqrt(5)), i.e. U(-1/sqrt(in), 1/sqrt(in)); B: 0.
  Rng g(seed ^ 0x10AD10ADull);
  detail::Net<float>& n = m->net;
  for (int i = 0; i < static_cast<int>(n.layout.tensors().size()); ++i) {
    const ParamTensor& t = n.layout[i];
    if (t.name.size() < 7 || t.name.compare(t.name.size() - 7, 7, ".lora_a") != 0) continue;
    const double bound = 1.0 / std::sqrt(static_cast<double>(t.cols()));
    float* p = n.params.view(n.layout, i);
    for (size_t j = 0; j < t.size; ++j) p[j] = static_cast<float>(bound * (2 * g.uniform() - 1));
  }
  return std::unique_ptr<TrainModel>(std::move(m));
}

namespace detail {

Net<float>& net_of(TrainModel& m) {
  auto* impl = dynamic_cast<TrainModelImpl*>(&m);
  SF_CHECK(impl != nullptr, "net_of: not a model made by TrainModel's factories");
  return impl->net;
}

std::unique_ptr<Net<double>> double_twin(const TrainModel& m) {
  const auto* impl = dynamic_cast<const TrainModelImpl*>(&m);
  SF_CHECK(impl != nullptr, "double_twin: not a model made by TrainModel's factories");
  auto d = std::make_unique<Net<double>>();
  if (impl->lora_mode) {
    Status s = d->build_lora(impl->net.base, impl->lora);
    SF_CHECK(s.ok(), "double_twin: rebuilding a valid LoRA model failed");
  } else {
    d->build_full(impl->net.cfg);
  }
  SF_CHECK(d->params.data.size() == impl->net.params.data.size(), "double_twin: layout differs");
  std::copy(impl->net.params.data.begin(), impl->net.params.data.end(), d->params.data.begin());
  return d;
}

}  // namespace detail
}  // namespace sf::train
