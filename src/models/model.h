// A loaded model: configuration, immutable weight views into the memory-mapped
// file, and the tokenizer. Many sessions share one Model; all mutable state
// (KV cache, activations) lives outside it (models/kv_cache.h, models/decoder.h).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/matmul.h"
#include "core/status.h"
#include "formats/gguf.h"
#include "models/config.h"

namespace sf {

class Tokenizer;

struct LayerWeights {
  WeightView attn_norm;  // [n_embd] f32
  WeightView wq, wk, wv, wo;
  WeightView bq, bk, bv;      // qwen2: biases (f32), empty otherwise
  WeightView q_norm, k_norm;  // qwen3: [head_dim] f32, empty otherwise
  WeightView ffn_norm;
  WeightView w_gate, w_up, w_down;
};

struct ModelWeights {
  WeightView tok_embd;     // rows = n_vocab, cols = n_embd
  WeightView output_norm;  // [n_embd]
  WeightView output;       // rows = n_vocab (tok_embd when tied)
  WeightView rope_freqs;   // optional [rope_dim/2] f32 frequency divisors (Llama 3)
  std::vector<LayerWeights> layers;
};

class Model {
 public:
  // Loads a GGUF model file. Errors name the file and the missing/bad tensor or key.
  static Result<std::shared_ptr<const Model>> load_gguf(const std::string& path);
  // Builds a model from an already-open GGUF (used by tests and tools).
  static Result<std::shared_ptr<const Model>> from_gguf(std::shared_ptr<const gguf::GgufFile> f);

  const ModelConfig& config() const { return config_; }
  const ModelWeights& weights() const { return weights_; }
  const gguf::GgufFile& file() const { return *file_; }
  // nullptr when the file has no usable tokenizer metadata.
  const Tokenizer* tokenizer() const { return tokenizer_.get(); }
  std::shared_ptr<const Tokenizer> tokenizer_ptr() const { return tokenizer_; }
  const std::string& tokenizer_error() const { return tokenizer_error_; }

 private:
  ModelConfig config_;
  ModelWeights weights_;
  std::shared_ptr<const gguf::GgufFile> file_;
  std::shared_ptr<const Tokenizer> tokenizer_;
  std::string tokenizer_error_;
};

}  // namespace sf
