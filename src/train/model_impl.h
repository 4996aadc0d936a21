// Private to train/: the network behind TrainModel, templated on the scalar
// type so the same code runs in f32 (training) and f64 (the oracle of the
// finite-difference gradient checks, tests/train/test_model_grad.cpp).
//
// A Net holds the configuration, the parameter layout and buffers, references
// to each weight (a parameter, or a frozen WeightView of a LoRA base), and
// activations sized for the largest (B, T) seen (grown, never shrunk: no
// allocation per step once warm). Forward and backward are the op pairs of
// train/ops in the engine's order (models/decoder.cpp).
// Thread-safety: one caller at a time; ops parallelize through the pool.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/status.h"
#include "formats/gguf.h"
#include "models/config.h"
#include "models/model.h"
#include "train/model.h"
#include "train/ops/attention.h"
#include "train/params.h"

namespace sf::train::detail {

// The projections of a layer, in the order LoRA targets name them.
enum Proj { kQ, kK, kV, kO, kGate, kUp, kDown, kNumProj };
const char* proj_name(int p);  // "attn_q", ..., "ffn_down"
// "attn_q" -> kQ; -1 for an unknown name.
int proj_from_name(const std::string& name);

// Engine-identical RoPE frequencies (base, head_dim, rope_freq_factors).
std::vector<double> rope_inv_freq(const ModelConfig& c);

// The model's configuration with the architecture's features applied and
// rope_freqs (a tensor in GGUF) carried as rope_freq_factors.
ModelConfig config_of(const Model& m);

template <typename T>
class Net {
 public:
  struct Mat {                     // a 2-D weight (rows = out features)
    int param = -1;                // index in the layout when trained
    WeightView frozen;             // else the base model's stored weight
    int lora_a = -1, lora_b = -1;  // adapter parameters, when adapted
    int64_t rows = 0, cols = 0;
    bool trainable() const { return param >= 0; }
  };
  struct Vec {  // a 1-D weight (norm, bias)
    int param = -1;
    std::vector<T> frozen;
    bool present = false;
  };
  struct Layer {
    Vec attn_norm, bias[3], q_norm, k_norm, ffn_norm;  // bias: q, k, v
    std::array<Mat, kNumProj> mat;
  };

  // Structure and parameters (filled by build_full / build_lora).
  ModelConfig cfg;
  ParamLayout layout;
  ParamBuffer<T> params, grads;
  std::shared_ptr<const Model> base;  // keeps frozen views alive (LoRA)
  int lora_rank = 0;
  float lora_scale = 0, lora_dropout = 0;
  Mat tok_embd, output;  // output refers to tok_embd's weight when tied
  Vec output_norm;
  std::vector<Layer> layers;
  std::vector<double> inv_freq;

  // Full model: every weight a parameter (values zero; callers fill them).
  void build_full(const ModelConfig& c);
  // LoRA: frozen references into `m`, adapter parameters for `targets`.
  Status build_lora(std::shared_ptr<const Model> m, const LoraConfig& lc);

  Status validate(const int32_t* tokens, const int32_t* targets, const float* mask, int B,
                  int S) const;
  // Mean loss over counted positions; with `grad`, adds loss_scale * dloss/dparam
  // to grads. dropout_rng: LoRA dropout on, its seeds drawn from (and
  // advancing) *dropout_rng; null: no dropout.
  double loss(const int32_t* tokens, const int32_t* targets, const float* mask, int B, int S,
              double loss_scale, bool grad, uint64_t* dropout_rng, ThreadPool& pool,
              GemmPrecision prec);
  // Logits (S x n_vocab) of one sequence of S tokens.
  void logits(const int32_t* tokens, int S, T* out, ThreadPool& pool, GemmPrecision prec);

  const T* val(const Vec& v) const {
    return v.param >= 0 ? params.view(layout, v.param) : v.frozen.data();
  }
  T* vgrad(const Vec& v) { return v.param >= 0 ? grads.view(layout, v.param) : nullptr; }
  const T* P(int i) const { return params.view(layout, i); }
  T* G(int i) { return grads.view(layout, i); }

 private:
  struct LoraActs {
    std::vector<T> h, mask;  // n x rank; n x in dropout factors
    bool masked = false;
  };
  struct LayerActs {
    std::vector<T> x;  // layer input (residual stream)
    std::vector<T> rstd1, xn1, q, k, v, q_pre, k_pre, rstd_q, rstd_k, att, lse, x_mid, rstd2, xn2,
        gate, up, hid;
    std::array<LoraActs, kNumProj> lora;
  };

  void reserve(int B, int S);
  void body_forward(const int32_t* tokens, int B, int S, bool dropout, uint64_t* rng);
  void body_backward(const int32_t* tokens, int B, int S);
  void lin_fwd(Layer& L, int p, const T* x, T* y, int64_t n, LoraActs& la, bool dropout,
               uint64_t* rng);
  void lin_bwd(Layer& L, int p, const T* dy, const T* x, T* dx, bool accumulate, int64_t n,
               LoraActs& la);

  ops::Exec ex_;
  int cap_n_ = 0, cap_T_ = 0, rope_T_ = 0;
  std::vector<LayerActs> acts_;
  std::vector<T> x_out_, rstd_f_, xn_f_, tmp_;
  std::vector<T> dx_, dxn_, dq_, dk_, dv_, datt_, dh_, dup_;
  std::vector<T> rope_cos_, rope_sin_;
  std::vector<T> s_norm_, s_attn_, s_frozen_, s_lora_, s_head_;
  std::vector<double> s_loss_;
};

// Writes the model (merged with its adapters, if any) as a GGUF the engine
// loads (train/export_gguf.cpp; the contract is TrainModel::export_gguf's).
Status export_net(const Net<float>& net, const std::string& path, DType type,
                  const gguf::GgufFile* kv_source);

// A double-precision copy of a float model (same layout, parameters widened,
// same frozen base), for gradient checks and the f32-vs-f64 comparison.
std::unique_ptr<Net<double>> double_twin(const TrainModel& m);
// The float Net inside a TrainModel made by this library.
Net<float>& net_of(TrainModel& m);

}  // namespace sf::train::detail
