// LoraSet (models/lora_apply.h): adapters fused per projection and applied
// as two thin products, A x (rank outputs) then B (A x).
#include "models/lora_apply.h"

#include <algorithm>
#include <cstring>

#include "core/matmul.h"
#include "core/ops.h"
#include "core/threadpool.h"
#include "models/model.h"

namespace sf {
namespace {

constexpr const char* kGguf[kLoraProjCount] = {"attn_q",   "attn_k", "attn_v",  "attn_output",
                                               "ffn_gate", "ffn_up", "ffn_down"};
constexpr const char* kHf[kLoraProjCount] = {
    "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
    "mlp.gate_proj",    "mlp.up_proj",      "mlp.down_proj"};

const WeightView& weight_of(const LayerWeights& L, LoraProj p) {
  switch (p) {
    case LoraProj::Q:
      return L.wq;
    case LoraProj::K:
      return L.wk;
    case LoraProj::V:
      return L.wv;
    case LoraProj::O:
      return L.wo;
    case LoraProj::Gate:
      return L.w_gate;
    case LoraProj::Up:
      return L.w_up;
    case LoraProj::Down:
      break;
  }
  return L.w_down;
}

// Multiply-adds below which an adapter product runs on the calling thread.
constexpr int64_t kInlineWork = int64_t{1} << 21;

}  // namespace

const char* lora_proj_gguf(LoraProj p) {
  return kGguf[static_cast<int>(p)];
}
const char* lora_proj_hf(LoraProj p) {
  return kHf[static_cast<int>(p)];
}

std::optional<LoraTarget> parse_lora_target(const std::string& name) {
  static constexpr std::string_view kPrefix = "blk.", kSuffix = ".weight";
  if (name.size() <= kPrefix.size() + kSuffix.size() || name.compare(0, 4, kPrefix) != 0 ||
      name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0)
    return std::nullopt;
  size_t i = kPrefix.size();
  int layer = 0;
  while (i < name.size() && name[i] >= '0' && name[i] <= '9') {
    if (i - kPrefix.size() >= 6) return std::nullopt;  // no model has a million layers
    layer = layer * 10 + (name[i++] - '0');
  }
  if (i == kPrefix.size() || i >= name.size() || name[i] != '.') return std::nullopt;
  const std::string mid = name.substr(i + 1, name.size() - kSuffix.size() - i - 1);
  for (int p = 0; p < kLoraProjCount; ++p)
    if (mid == kGguf[p]) return LoraTarget{layer, static_cast<LoraProj>(p)};
  return std::nullopt;
}

std::string lora_target_name(int layer, LoraProj p) {
  return "blk." + std::to_string(layer) + "." + lora_proj_gguf(p) + ".weight";
}

void lora_proj_shape(const ModelConfig& c, LoraProj p, int64_t* out, int64_t* in) {
  switch (p) {
    case LoraProj::Q:
      *out = c.q_dim(), *in = c.n_embd;
      return;
    case LoraProj::K:
    case LoraProj::V:
      *out = c.kv_dim(), *in = c.n_embd;
      return;
    case LoraProj::O:
      *out = c.n_embd, *in = c.q_dim();
      return;
    case LoraProj::Gate:
    case LoraProj::Up:
      *out = c.n_ff, *in = c.n_embd;
      return;
    case LoraProj::Down:
      *out = c.n_embd, *in = c.n_ff;
      return;
  }
}

bool lora_qk_permuted(const ModelConfig& c) {
  return c.arch == "llama";
}

void permute_qk_rows(std::vector<float>& m, int64_t cols, int n_heads, bool to_gguf) {
  // Within each head, HF row (j * hd/2 + i) is GGUF row (2 * i + j), the
  // permutation convert_hf_to_gguf applies to q/k weights (hf_convert.cpp).
  const int64_t rows = static_cast<int64_t>(m.size()) / cols;
  const int64_t hd = rows / n_heads, half = hd / 2;
  std::vector<float> out(m.size());
  for (int64_t h = 0; h < n_heads; ++h)
    for (int64_t j = 0; j < 2; ++j)
      for (int64_t i = 0; i < half; ++i) {
        const int64_t hf = h * hd + j * half + i, gg = h * hd + 2 * i + j;
        const int64_t dst = to_gguf ? gg : hf, src = to_gguf ? hf : gg;
        std::memcpy(&out[dst * cols], &m[src * cols], cols * sizeof(float));
      }
  m.swap(out);
}

Result<std::shared_ptr<const LoraSet>> LoraSet::create(const Model& model,
                                                       const std::vector<LoraAdapter>& adapters) {
  const ModelConfig& c = model.config();
  auto set = std::make_shared<LoraSet>();
  set->layers_.resize(c.n_layer);
  // The adapters are in GGUF order; an HF-loaded llama keeps HF q/k rows.
  const bool hf_llama = lora_qk_permuted(c) && c.rope_mode == RopeMode::Neox;

  // Pass 1: validate and size each fused pair.
  for (size_t k = 0; k < adapters.size(); ++k) {
    const LoraAdapter& a = adapters[k];
    SF_RETURN_IF_ERROR(validate_lora(a, c).with_context("LoRA adapter " + std::to_string(k + 1)));
    if (a.scale == 0.0f) continue;
    for (const LoraTensorPair& p : a.tensors) {
      const LoraTarget t = *parse_lora_target(p.target);
      const WeightView& w = weight_of(model.weights().layers[t.layer], t.proj);
      if (w.rows != p.out || w.cols != p.in)
        return errorf(
            "LoRA adapter %zu: '%s' is %lld x %lld but the model's weight is %lld x %lld "
            "(hint: the adapter was made for another base model)",
            k + 1, p.target.c_str(), static_cast<long long>(p.out), static_cast<long long>(p.in),
            static_cast<long long>(w.rows), static_cast<long long>(w.cols));
      Fused& f = set->layers_[t.layer][static_cast<int>(t.proj)];
      f.rank += p.rank;
      f.in = p.in;
      f.out = p.out;
    }
  }
  for (auto& layer : set->layers_)
    for (Fused& f : layer) {
      f.a.reserve(static_cast<size_t>(f.rank * f.in));
      f.b.assign(static_cast<size_t>(f.out * f.rank), 0.0f);
    }

  // Pass 2: concatenate A rows; B columns side by side, scaled.
  std::vector<std::array<int64_t, kLoraProjCount>> col(c.n_layer);
  for (auto& l : col) l.fill(0);
  for (const LoraAdapter& a : adapters) {
    if (a.scale == 0.0f) continue;
    for (const LoraTensorPair& p : a.tensors) {
      const LoraTarget t = *parse_lora_target(p.target);
      Fused& f = set->layers_[t.layer][static_cast<int>(t.proj)];
      f.a.insert(f.a.end(), p.a.begin(), p.a.end());
      std::vector<float> b = p.b;
      if (hf_llama && (t.proj == LoraProj::Q || t.proj == LoraProj::K))
        permute_qk_rows(b, p.rank, t.proj == LoraProj::Q ? c.n_head : c.n_head_kv, false);
      const float s = lora_pair_scale(a, p);
      int64_t& c0 = col[t.layer][static_cast<int>(t.proj)];
      for (int64_t r = 0; r < p.out; ++r)
        for (int64_t j = 0; j < p.rank; ++j) f.b[r * f.rank + c0 + j] = s * b[r * p.rank + j];
      c0 += p.rank;
      set->n_pairs_++;
    }
  }
  return std::shared_ptr<const LoraSet>(std::move(set));
}

Status LoraSet::compatible(const Model& model) const {
  const ModelWeights& w = model.weights();
  if (layers_.size() != w.layers.size())
    return errorf("LoRA set was made for a model with %zu layers, this one has %zu", layers_.size(),
                  w.layers.size());
  for (size_t l = 0; l < layers_.size(); ++l)
    for (int p = 0; p < kLoraProjCount; ++p) {
      const Fused& f = layers_[l][p];
      const WeightView& v = weight_of(w.layers[l], static_cast<LoraProj>(p));
      if (f.rank > 0 && (f.out != v.rows || f.in != v.cols))
        return errorf("LoRA set does not fit this model: blk.%zu.%s is %lld x %lld here", l,
                      kGguf[p], static_cast<long long>(v.rows), static_cast<long long>(v.cols));
    }
  return {};
}

int64_t LoraSet::rank(int layer, LoraProj p) const {
  return layers_[layer][static_cast<int>(p)].rank;
}

void LoraSet::apply(int layer, LoraProj p, const float* x, int64_t ldx, float* y, int64_t ldy,
                    int64_t m, std::vector<float>& tmp, ThreadPool& pool) const {
  const Fused& f = layers_[layer][static_cast<int>(p)];
  if (f.rank == 0) return;
  const int64_t R = f.rank;
  const size_t need = static_cast<size_t>(m * (R + f.out));
  if (tmp.size() < need) tmp.resize(need);
  float* t = tmp.data();
  float* u = t + m * R;
  // Both products are F32 weight x activations, so they run on matmul's
  // kernels (SIMD at the native levels) and inherit its guarantee: a row's
  // result does not depend on m or the threads.
  const WeightView a{DType::F32, f.a.data(), R, f.in};
  const WeightView b{DType::F32, f.b.data(), f.out, R};
  // The products are thin (rank 8..64): for one token they are microseconds
  // of work, less than waking the pool's threads twice per projection costs,
  // so small ones run on the calling thread (a pool of one has no workers).
  static thread_local ThreadPool inline_pool(1);
  const int64_t work = m * R * (f.in + f.out);
  ThreadPool& tp = work < kInlineWork ? inline_pool : pool;
  matmul(a, x, ldx, t, R, m, tp);
  matmul(b, t, R, u, f.out, m, tp);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t o = 0; o < f.out; ++o) y[i * ldy + o] += u[i * f.out + o];
}

void LoraSet::add_delta_row(int layer, LoraProj p, int64_t r, float* row) const {
  const Fused& f = layers_[layer][static_cast<int>(p)];
  for (int64_t j = 0; j < f.rank; ++j) axpy(f.b[r * f.rank + j], f.a.data() + j * f.in, row, f.in);
}

}  // namespace sf
