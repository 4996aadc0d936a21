// The trainable Llama-family decoder: the same architecture the engine runs
// (models/decoder.h: RMSNorm, q/k/v (+bias), q/k norm, RoPE, causal GQA
// attention, SwiGLU, tied or separate output head), written as forward and
// backward passes per op (train/ops/). A model trained here exports to a GGUF
// the engine loads with no conversion in between, and the engine's logits on
// the export equal forward_logits() here (within f32 rounding).
//
// Three ways to start:
//  * create():    a new model with random weights (pretraining),
//  * from_model(): every weight of a loaded model copied to f32 and trained,
//  * with_lora(): the base stays frozen in its stored type (F16, Q8_0, Q4_K
//                 ... read through the engine's WeightViews and dequantized on
//                 the fly); only the low-rank adapters are parameters.
// Parameters and gradients are flat buffers laid out by layout()
// (train/params.h) under GGUF tensor names; the optimizer and checkpoints
// work on those buffers only.
// Thread-safety: one thread drives a TrainModel; the pool parallelizes ops.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/gemm.h"
#include "core/status.h"
#include "models/config.h"
#include "models/lora_adapter.h"
#include "models/model.h"
#include "train/params.h"

namespace sf {
class ThreadPool;
namespace gguf {
class GgufFile;
}
}  // namespace sf

namespace sf::train {

struct LoraConfig {
  int rank = 8;
  float alpha = 16.0f;
  float dropout = 0.0f;
  // Which projections of every layer get an adapter, by their GGUF names:
  // attn_q, attn_k, attn_v, attn_output, ffn_gate, ffn_up, ffn_down.
  std::vector<std::string> targets = {"attn_q", "attn_v"};
};

struct TrainOptions {
  // Matrix products in f32, or bf16 inputs with f32 accumulation (master
  // weights, gradients and optimizer state stay f32 either way).
  GemmPrecision precision = GemmPrecision::F32;
};

class TrainModel {
 public:
  // Random init: matrices N(0, 0.02), output projections (attn_output,
  // ffn_down) scaled by 1/sqrt(2 n_layer), norms 1, biases 0. cfg.arch is
  // llama, qwen2 or qwen3; cfg.n_ctx_train bounds T.
  static Result<std::unique_ptr<TrainModel>> create(const ModelConfig& cfg, uint64_t seed,
                                                    TrainOptions opt = {});
  static Result<std::unique_ptr<TrainModel>> from_model(const Model& base, TrainOptions opt = {});
  // A (rank x in) as PEFT initializes it (Kaiming-uniform, a = sqrt(5)), B = 0,
  // so training starts from the base model's outputs. `base` is kept alive.
  static Result<std::unique_ptr<TrainModel>> with_lora(std::shared_ptr<const Model> base,
                                                       const LoraConfig& lora, uint64_t seed,
                                                       TrainOptions opt = {});
  virtual ~TrainModel() = default;

  virtual const ModelConfig& config() const = 0;
  virtual const ParamLayout& layout() const = 0;
  virtual ParamBuffer<float>& params() = 0;
  virtual ParamBuffer<float>& grads() = 0;
  virtual bool is_lora() const = 0;
  virtual const LoraConfig& lora_config() const = 0;

  // tokens, targets: B x T ids, row-major. mask: B x T loss weights (0: not
  // in the loss, e.g. prompt tokens in SFT), nullptr: every position counts.
  // Returns the mean cross-entropy over counted positions (0 when none count)
  // and ADDS loss_scale * d(loss)/d(param) to grads() (callers zero them;
  // accumulation over micro-batches passes loss_scale = 1/steps). LoRA
  // dropout draws from the model's seeded generator, whose state is part of
  // rng_state(). Errors: bad ids, T over n_ctx_train, B or T < 1.
  virtual Result<float> forward_backward(const int32_t* tokens, const int32_t* targets,
                                         const float* mask, int B, int T, float loss_scale,
                                         ThreadPool& pool) = 0;
  // Loss without gradients (validation); dropout off.
  virtual Result<float> forward_loss(const int32_t* tokens, const int32_t* targets,
                                     const float* mask, int B, int T, ThreadPool& pool) = 0;
  // Logits (T x n_vocab) of every position of one sequence; dropout off.
  virtual Status forward_logits(const int32_t* tokens, int T, float* logits, ThreadPool& pool) = 0;

  // State of the dropout generator, saved in checkpoints for exact resume.
  virtual uint64_t rng_state() const = 0;
  virtual void set_rng_state(uint64_t s) = 0;

  // Full model as a GGUF the engine loads: architecture keys from config(),
  // every 2-D weight in `type` (F32/F16/BF16 or a quantized type through
  // models/quantize.h), 1-D tensors F32; tokenizer.* keys (vocabulary, merges,
  // special ids, chat template) copied from `kv_source` when given. For LoRA
  // models this writes the merged model.
  virtual Status export_gguf(const std::string& path, DType type,
                             const gguf::GgufFile* kv_source) const = 0;
  // LoRA models: the trained adapter (scale 1); error for full models.
  virtual Result<LoraAdapter> adapter() const = 0;
};

}  // namespace sf::train
