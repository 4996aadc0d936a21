// The network behind TrainModel: structure (build_full / build_lora), the
// forward in the engine's order, and the backward in reverse. See model_impl.h.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "models/arch.h"
#include "train/model_impl.h"
#include "train/ops/cross_entropy.h"
#include "train/ops/embedding.h"
#include "train/ops/linear.h"
#include "train/ops/residual.h"
#include "train/ops/rmsnorm.h"
#include "train/ops/rope.h"
#include "train/ops/swiglu.h"

namespace sf::train::detail {

const char* proj_name(int p) {
  static const char* const kNames[kNumProj] = {"attn_q",   "attn_k", "attn_v",  "attn_output",
                                               "ffn_gate", "ffn_up", "ffn_down"};
  return kNames[p];
}

int proj_from_name(const std::string& name) {
  for (int p = 0; p < kNumProj; ++p)
    if (name == proj_name(p)) return p;
  return -1;
}

std::vector<double> rope_inv_freq(const ModelConfig& c) {
  std::vector<double> f(c.head_dim / 2);
  for (int i = 0; i < c.head_dim / 2; ++i) {
    f[i] = std::pow(static_cast<double>(c.rope_base), -2.0 * i / c.head_dim);
    if (static_cast<int>(c.rope_freq_factors.size()) == c.head_dim / 2)
      f[i] /= c.rope_freq_factors[i];
  }
  return f;
}

ModelConfig config_of(const Model& m) {
  ModelConfig c = m.config();
  if (const WeightView& f = m.weights().rope_freqs; !f.empty()) {
    const float* p = static_cast<const float*>(f.data);
    c.rope_freq_factors.assign(p, p + f.cols);
  }
  return c;
}

namespace {

// {rows, cols} of each projection.
std::pair<int64_t, int64_t> proj_shape(const ModelConfig& c, int p) {
  const int64_t E = c.n_embd, Q = c.q_dim(), KV = c.kv_dim(), F = c.n_ff;
  switch (p) {
    case kQ:
      return {Q, E};
    case kK:
      return {KV, E};
    case kV:
      return {KV, E};
    case kO:
      return {E, Q};
    case kGate:
      return {F, E};
    case kUp:
      return {F, E};
    default:
      return {E, F};
  }
}

std::string blk(int l, const std::string& s) {
  return "blk." + std::to_string(l) + "." + s;
}

uint64_t next_seed(uint64_t* state) {  // splitmix64
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

template <typename T>
std::vector<T> copy_vec(const WeightView& w) {
  const float* p = static_cast<const float*>(w.data);
  return std::vector<T>(p, p + w.cols);
}

}  // namespace

template <typename T>
void Net<T>::build_full(const ModelConfig& c) {
  cfg = c;
  layout = ParamLayout();
  const int64_t E = c.n_embd, V = c.n_vocab;
  auto mat = [&](const std::string& name, int64_t rows, int64_t cols) {
    Mat m;
    m.param = layout.add(name, {rows, cols}, true);
    m.rows = rows;
    m.cols = cols;
    return m;
  };
  auto vec = [&](const std::string& name, int64_t n) {
    Vec v;
    v.param = layout.add(name, {n}, false);
    v.present = true;
    return v;
  };
  tok_embd = mat("token_embd.weight", V, E);
  output_norm = vec("output_norm.weight", E);
  output = c.tied_output ? tok_embd : mat("output.weight", V, E);
  layers.assign(c.n_layer, Layer());
  for (int l = 0; l < c.n_layer; ++l) {
    Layer& L = layers[l];
    L.attn_norm = vec(blk(l, "attn_norm.weight"), E);
    for (int p : {kQ, kK, kV, kO}) {
      auto [r, k] = proj_shape(c, p);
      L.mat[p] = mat(blk(l, std::string(proj_name(p)) + ".weight"), r, k);
    }
    if (c.qkv_bias)
      for (int p : {kQ, kK, kV})
        L.bias[p] = vec(blk(l, std::string(proj_name(p)) + ".bias"), proj_shape(c, p).first);
    if (c.qk_norm) {
      L.q_norm = vec(blk(l, "attn_q_norm.weight"), c.head_dim);
      L.k_norm = vec(blk(l, "attn_k_norm.weight"), c.head_dim);
    }
    L.ffn_norm = vec(blk(l, "ffn_norm.weight"), E);
    for (int p : {kGate, kUp, kDown}) {
      auto [r, k] = proj_shape(c, p);
      L.mat[p] = mat(blk(l, std::string(proj_name(p)) + ".weight"), r, k);
    }
  }
  params.allocate(layout);
  grads.allocate(layout);
  inv_freq = rope_inv_freq(cfg);
}

template <typename T>
Status Net<T>::build_lora(std::shared_ptr<const Model> m, const LoraConfig& lc) {
  if (lc.rank < 1) return errorf("LoRA rank %d must be at least 1 (typical: 8 or 16)", lc.rank);
  if (!(lc.alpha > 0.0f) || !std::isfinite(lc.alpha))
    return errorf("LoRA alpha %g must be a positive number (typical: 2 x rank)", lc.alpha);
  if (!(lc.dropout >= 0.0f && lc.dropout < 1.0f))
    return errorf("LoRA dropout %g must be in [0, 1)", lc.dropout);
  if (lc.targets.empty())
    return Status::error(
        "LoRA has no target projections (choose from attn_q, attn_k, attn_v, "
        "attn_output, ffn_gate, ffn_up, ffn_down)");
  bool wanted[kNumProj] = {};
  for (const std::string& t : lc.targets) {
    const int p = proj_from_name(t);
    if (p < 0)
      return errorf(
          "unknown LoRA target '%s' (choose from attn_q, attn_k, attn_v, attn_output, "
          "ffn_gate, ffn_up, ffn_down)",
          t.c_str());
    wanted[p] = true;
  }
  base = std::move(m);
  cfg = config_of(*base);
  layout = ParamLayout();
  const ModelWeights& w = base->weights();
  auto frozen = [](const WeightView& v) {
    Mat x;
    x.frozen = v;
    x.rows = v.rows;
    x.cols = v.cols;
    return x;
  };
  auto fvec = [](const WeightView& v) {
    Vec x;
    if (!v.empty()) {
      x.frozen = copy_vec<T>(v);
      x.present = true;
    }
    return x;
  };
  tok_embd = frozen(w.tok_embd);
  output = frozen(w.output);
  output_norm = fvec(w.output_norm);
  layers.assign(cfg.n_layer, Layer());
  for (int l = 0; l < cfg.n_layer; ++l) {
    const LayerWeights& B = w.layers[l];
    Layer& L = layers[l];
    L.attn_norm = fvec(B.attn_norm);
    L.ffn_norm = fvec(B.ffn_norm);
    L.q_norm = fvec(B.q_norm);
    L.k_norm = fvec(B.k_norm);
    L.bias[kQ] = fvec(B.bq);
    L.bias[kK] = fvec(B.bk);
    L.bias[kV] = fvec(B.bv);
    const WeightView* views[kNumProj] = {&B.wq, &B.wk, &B.wv, &B.wo, &B.w_gate, &B.w_up, &B.w_down};
    for (int p = 0; p < kNumProj; ++p) {
      L.mat[p] = frozen(*views[p]);
      if (!wanted[p]) continue;
      const std::string name = blk(l, std::string(proj_name(p)) + ".weight");
      L.mat[p].lora_a = layout.add(name + ".lora_a", {lc.rank, L.mat[p].cols}, true);
      L.mat[p].lora_b = layout.add(name + ".lora_b", {L.mat[p].rows, lc.rank}, true);
    }
  }
  lora_rank = lc.rank;
  lora_scale = lc.alpha / static_cast<float>(lc.rank);
  lora_dropout = lc.dropout;
  params.allocate(layout);
  grads.allocate(layout);
  inv_freq = rope_inv_freq(cfg);
  return {};
}

template <typename T>
Status Net<T>::validate(const int32_t* tokens, const int32_t* targets, const float* mask, int B,
                        int T_) const {
  if (B < 1 || T_ < 1) return errorf("batch shape B = %d, T = %d: both must be at least 1", B, T_);
  if (T_ > cfg.n_ctx_train)
    return errorf(
        "sequence length T = %d exceeds the model's context of %d tokens "
        "(n_ctx_train); use shorter sequences",
        T_, cfg.n_ctx_train);
  const int64_t n = static_cast<int64_t>(B) * T_;
  for (int64_t i = 0; i < n; ++i) {
    if (tokens[i] < 0 || tokens[i] >= cfg.n_vocab)
      return errorf(
          "token id %d at batch position %lld is out of range: the model's "
          "vocabulary has %d tokens",
          tokens[i], static_cast<long long>(i), cfg.n_vocab);
    if (mask && !(mask[i] >= 0.0f && std::isfinite(mask[i])))
      return errorf(
          "mask value %g at batch position %lld is invalid: loss weights must be "
          "finite and >= 0",
          mask[i], static_cast<long long>(i));
    const bool counted = !mask || mask[i] != 0.0f;
    if (targets && counted && (targets[i] < 0 || targets[i] >= cfg.n_vocab))
      return errorf(
          "target id %d at batch position %lld is out of range: the model's "
          "vocabulary has %d tokens (mask the position out if it has no target)",
          targets[i], static_cast<long long>(i), cfg.n_vocab);
  }
  return {};
}

template <typename T>
void Net<T>::reserve(int B, int T_) {
  const int64_t n = static_cast<int64_t>(B) * T_;
  if (T_ > rope_T_) {
    const size_t half = cfg.head_dim / 2;
    rope_cos_.resize(half * T_);
    rope_sin_.resize(half * T_);
    ops::rope_tables(T_, cfg.head_dim, inv_freq, cfg.rope_linear_scale, rope_cos_.data(),
                     rope_sin_.data());
    rope_T_ = T_;
  }
  if (n <= cap_n_) return;
  const size_t N = static_cast<size_t>(n), E = cfg.n_embd, Q = cfg.q_dim(), KV = cfg.kv_dim(),
               F = cfg.n_ff, H = cfg.n_head, Hkv = cfg.n_head_kv;
  acts_.resize(cfg.n_layer);
  for (LayerActs& a : acts_) {
    a.x.resize(N * E);
    a.rstd1.resize(N);
    a.xn1.resize(N * E);
    a.q.resize(N * Q);
    a.k.resize(N * KV);
    a.v.resize(N * KV);
    if (cfg.qk_norm) {
      a.q_pre.resize(N * Q);
      a.k_pre.resize(N * KV);
      a.rstd_q.resize(N * H);
      a.rstd_k.resize(N * Hkv);
    }
    a.att.resize(N * Q);
    a.lse.resize(N * H);
    a.x_mid.resize(N * E);
    a.rstd2.resize(N);
    a.xn2.resize(N * E);
    a.gate.resize(N * F);
    a.up.resize(N * F);
    a.hid.resize(N * F);
  }
  x_out_.resize(N * E);
  rstd_f_.resize(N);
  xn_f_.resize(N * E);
  tmp_.resize(N * E);
  dx_.resize(N * E);
  dxn_.resize(N * E);
  dq_.resize(N * Q);
  dk_.resize(N * KV);
  dv_.resize(N * KV);
  datt_.resize(N * Q);
  dh_.resize(N * F);
  dup_.resize(N * F);
  cap_n_ = static_cast<int>(n);
}

template <typename T>
void Net<T>::lin_fwd(Layer& L, int p, const T* x, T* y, int64_t n, LoraActs& la, bool dropout,
                     uint64_t* rng) {
  const Mat& m = L.mat[p];
  if (m.trainable())
    ops::linear_forward<T>(x, P(m.param), nullptr, y, n, m.cols, m.rows, ex_);
  else
    ops::frozen_linear_forward<T>(m.frozen, x, y, n, ex_, s_frozen_);
  if (p <= kV && L.bias[p].present) ops::bias_forward<T>(val(L.bias[p]), y, n, m.rows, ex_);
  if (m.lora_a < 0) return;
  la.masked = dropout && rng && lora_dropout > 0.0f;
  if (la.masked)
    ops::dropout_mask<T>(ops::grow(la.mask, static_cast<size_t>(n * m.cols)), n * m.cols,
                         lora_dropout, next_seed(rng), ex_);
  ops::grow(la.h, static_cast<size_t>(n * lora_rank));
  ops::lora_forward<T>(x, la.masked ? la.mask.data() : nullptr, P(m.lora_a), P(m.lora_b),
                       static_cast<T>(lora_scale), la.h.data(), y, n, m.cols, m.rows, lora_rank,
                       ex_, s_lora_);
}

template <typename T>
void Net<T>::lin_bwd(Layer& L, int p, const T* dy, const T* x, T* dx, bool accumulate, int64_t n,
                     LoraActs& la) {
  const Mat& m = L.mat[p];
  T* db = (p <= kV && L.bias[p].present) ? vgrad(L.bias[p]) : nullptr;
  if (m.trainable()) {
    ops::linear_backward<T>(dy, x, P(m.param), dx, accumulate, G(m.param), db, n, m.cols, m.rows,
                            ex_);
  } else {
    if (dx) ops::frozen_linear_backward<T>(m.frozen, dy, dx, accumulate, n, ex_, s_frozen_);
    if (db) ops::bias_backward<T>(dy, db, n, m.rows, ex_);
  }
  if (m.lora_a < 0) return;
  ops::lora_backward<T>(dy, x, la.masked ? la.mask.data() : nullptr, P(m.lora_a), P(m.lora_b),
                        static_cast<T>(lora_scale), la.h.data(), dx, G(m.lora_a), G(m.lora_b), n,
                        m.cols, m.rows, lora_rank, ex_, s_lora_);
}

template <typename T>
void Net<T>::body_forward(const int32_t* tokens, int B, int T_, bool dropout, uint64_t* rng) {
  const ModelConfig& c = cfg;
  const int64_t n = static_cast<int64_t>(B) * T_;
  const int64_t E = c.n_embd, F = c.n_ff, H = c.n_head, Hkv = c.n_head_kv, HD = c.head_dim;
  const ops::AttnShape sh{B, T_, c.n_head, c.n_head_kv, c.head_dim};
  T* x0 = c.n_layer > 0 ? acts_[0].x.data() : x_out_.data();
  if (tok_embd.trainable())
    ops::embedding_forward<T>(tokens, n, P(tok_embd.param), E, x0, ex_);
  else
    ops::embedding_forward_frozen<T>(tokens, n, tok_embd.frozen, x0, ex_);

  for (int l = 0; l < c.n_layer; ++l) {
    LayerActs& A = acts_[l];
    Layer& L = layers[l];
    const T* x = A.x.data();
    T* next = l + 1 < c.n_layer ? acts_[l + 1].x.data() : x_out_.data();
    ops::rmsnorm_forward<T>(x, val(L.attn_norm), A.xn1.data(), A.rstd1.data(), n, E, c.rms_eps,
                            ex_);
    T* qd = c.qk_norm ? A.q_pre.data() : A.q.data();
    T* kd = c.qk_norm ? A.k_pre.data() : A.k.data();
    lin_fwd(L, kQ, A.xn1.data(), qd, n, A.lora[kQ], dropout, rng);
    lin_fwd(L, kK, A.xn1.data(), kd, n, A.lora[kK], dropout, rng);
    lin_fwd(L, kV, A.xn1.data(), A.v.data(), n, A.lora[kV], dropout, rng);
    if (c.qk_norm) {
      ops::rmsnorm_forward<T>(qd, val(L.q_norm), A.q.data(), A.rstd_q.data(), n * H, HD, c.rms_eps,
                              ex_);
      ops::rmsnorm_forward<T>(kd, val(L.k_norm), A.k.data(), A.rstd_k.data(), n * Hkv, HD,
                              c.rms_eps, ex_);
    }
    ops::rope_forward<T>(A.q.data(), n, T_, c.n_head, c.head_dim, c.rope_mode, rope_cos_.data(),
                         rope_sin_.data(), ex_);
    ops::rope_forward<T>(A.k.data(), n, T_, c.n_head_kv, c.head_dim, c.rope_mode, rope_cos_.data(),
                         rope_sin_.data(), ex_);
    ops::attention_forward<T>(A.q.data(), A.k.data(), A.v.data(), A.att.data(), A.lse.data(), sh,
                              ex_, s_attn_);
    lin_fwd(L, kO, A.att.data(), tmp_.data(), n, A.lora[kO], dropout, rng);
    ops::residual_forward<T>(x, tmp_.data(), A.x_mid.data(), n * E, ex_);

    ops::rmsnorm_forward<T>(A.x_mid.data(), val(L.ffn_norm), A.xn2.data(), A.rstd2.data(), n, E,
                            c.rms_eps, ex_);
    lin_fwd(L, kGate, A.xn2.data(), A.gate.data(), n, A.lora[kGate], dropout, rng);
    lin_fwd(L, kUp, A.xn2.data(), A.up.data(), n, A.lora[kUp], dropout, rng);
    ops::swiglu_forward<T>(A.gate.data(), A.up.data(), A.hid.data(), n * F, ex_);
    lin_fwd(L, kDown, A.hid.data(), tmp_.data(), n, A.lora[kDown], dropout, rng);
    ops::residual_forward<T>(A.x_mid.data(), tmp_.data(), next, n * E, ex_);
  }
  ops::rmsnorm_forward<T>(x_out_.data(), val(output_norm), xn_f_.data(), rstd_f_.data(), n, E,
                          c.rms_eps, ex_);
}

template <typename T>
void Net<T>::body_backward(const int32_t* tokens, int B, int T_) {
  const ModelConfig& c = cfg;
  const int64_t n = static_cast<int64_t>(B) * T_;
  const int64_t E = c.n_embd, F = c.n_ff, H = c.n_head, Hkv = c.n_head_kv, HD = c.head_dim;
  const ops::AttnShape sh{B, T_, c.n_head, c.n_head_kv, c.head_dim};
  // dxn_ holds d(loss)/d(final norm output) from the head.
  ops::rmsnorm_backward<T>(dxn_.data(), x_out_.data(), val(output_norm), rstd_f_.data(), dx_.data(),
                           false, vgrad(output_norm), n, E, ex_, s_norm_);
  for (int l = c.n_layer - 1; l >= 0; --l) {
    LayerActs& A = acts_[l];
    Layer& L = layers[l];
    // dx_ is d(loss)/d(layer output); each branch adds its input gradient to it.
    lin_bwd(L, kDown, dx_.data(), A.hid.data(), dh_.data(), false, n, A.lora[kDown]);
    ops::swiglu_backward<T>(dh_.data(), A.gate.data(), A.up.data(), dh_.data(), dup_.data(), n * F,
                            ex_);
    lin_bwd(L, kGate, dh_.data(), A.xn2.data(), dxn_.data(), false, n, A.lora[kGate]);
    lin_bwd(L, kUp, dup_.data(), A.xn2.data(), dxn_.data(), true, n, A.lora[kUp]);
    ops::rmsnorm_backward<T>(dxn_.data(), A.x_mid.data(), val(L.ffn_norm), A.rstd2.data(),
                             dx_.data(), true, vgrad(L.ffn_norm), n, E, ex_, s_norm_);

    lin_bwd(L, kO, dx_.data(), A.att.data(), datt_.data(), false, n, A.lora[kO]);
    ops::attention_backward<T>(datt_.data(), A.q.data(), A.k.data(), A.v.data(), A.att.data(),
                               A.lse.data(), dq_.data(), dk_.data(), dv_.data(), sh, ex_, s_attn_);
    ops::rope_backward<T>(dq_.data(), n, T_, c.n_head, c.head_dim, c.rope_mode, rope_cos_.data(),
                          rope_sin_.data(), ex_);
    ops::rope_backward<T>(dk_.data(), n, T_, c.n_head_kv, c.head_dim, c.rope_mode, rope_cos_.data(),
                          rope_sin_.data(), ex_);
    if (c.qk_norm) {
      ops::rmsnorm_backward<T>(dq_.data(), A.q_pre.data(), val(L.q_norm), A.rstd_q.data(),
                               dq_.data(), false, vgrad(L.q_norm), n * H, HD, ex_, s_norm_);
      ops::rmsnorm_backward<T>(dk_.data(), A.k_pre.data(), val(L.k_norm), A.rstd_k.data(),
                               dk_.data(), false, vgrad(L.k_norm), n * Hkv, HD, ex_, s_norm_);
    }
    // Below layer 0 the input gradient only feeds the embedding: skip it
    // when the embedding is frozen (LoRA).
    const bool need_dx = l > 0 || tok_embd.trainable();
    T* dxn = need_dx ? dxn_.data() : nullptr;
    lin_bwd(L, kQ, dq_.data(), A.xn1.data(), dxn, false, n, A.lora[kQ]);
    lin_bwd(L, kK, dk_.data(), A.xn1.data(), dxn, true, n, A.lora[kK]);
    lin_bwd(L, kV, dv_.data(), A.xn1.data(), dxn, true, n, A.lora[kV]);
    if (need_dx)
      ops::rmsnorm_backward<T>(dxn_.data(), A.x.data(), val(L.attn_norm), A.rstd1.data(),
                               dx_.data(), true, vgrad(L.attn_norm), n, E, ex_, s_norm_);
  }
  if (tok_embd.trainable())
    ops::embedding_backward<T>(tokens, n, dx_.data(), E, G(tok_embd.param), ex_);
}

template <typename T>
double Net<T>::loss(const int32_t* tokens, const int32_t* targets, const float* mask, int B, int T_,
                    double loss_scale, bool grad, uint64_t* dropout_rng, ThreadPool& pool,
                    GemmPrecision prec) {
  ex_ = ops::Exec{&pool, prec};
  reserve(B, T_);
  const int64_t n = static_cast<int64_t>(B) * T_;
  double wsum = 0;
  for (int64_t i = 0; i < n; ++i) wsum += mask ? static_cast<double>(mask[i]) : 1.0;
  if (wsum == 0) return 0;  // nothing counts: no loss, no gradient
  body_forward(tokens, B, T_, dropout_rng != nullptr, dropout_rng);
  ops::HeadIO<T> io;
  io.xn = xn_f_.data();
  io.targets = targets;
  io.mask = mask;
  io.n = n;
  io.E = cfg.n_embd;
  io.V = cfg.n_vocab;
  io.grad_scale = static_cast<T>(loss_scale / wsum);
  io.dxn = grad ? dxn_.data() : nullptr;
  const double total =
      output.trainable()
          ? ops::output_head_loss<T>(io, P(output.param), grad ? G(output.param) : nullptr, ex_,
                                     s_head_, s_loss_)
          : ops::frozen_output_head_loss<T>(io, output.frozen, ex_, s_head_, s_loss_);
  if (grad) body_backward(tokens, B, T_);
  return total / wsum;
}

template <typename T>
void Net<T>::logits(const int32_t* tokens, int T_, T* out, ThreadPool& pool, GemmPrecision prec) {
  ex_ = ops::Exec{&pool, prec};
  reserve(1, T_);
  body_forward(tokens, 1, T_, false, nullptr);
  if (output.trainable())
    ops::linear_forward<T>(xn_f_.data(), P(output.param), nullptr, out, T_, cfg.n_embd, cfg.n_vocab,
                           ex_);
  else
    ops::frozen_linear_forward<T>(output.frozen, xn_f_.data(), out, T_, ex_, s_frozen_);
}

template class Net<float>;
template class Net<double>;

}  // namespace sf::train::detail
