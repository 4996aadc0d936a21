// A loaded model: configuration, immutable weight views into the memory-mapped
// file(s), and the tokenizer. Many sessions share one Model; all mutable state
// (KV cache, activations) lives outside it (models/kv_cache.h, models/decoder.h).
//
// Sources: a GGUF file, a Hugging Face folder (config.json, *.safetensors,
// tokenizer.json), or the name of a model in the local store
// (models/model_store.h). Weights stay in the mappings where their layout is
// usable as is; tensors that must change (bf16/f16 norm weights to f32,
// misaligned data) are converted once into buffers the Model owns, as are the
// packed copies of matrix weights for the packed kernels (weight_packing.h).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/aligned_buffer.h"
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

struct LoadOptions {
  // Repack matrix weights for the active ISA level's packed kernels when it
  // has them (models/weight_packing.h; GGUF models). Off for callers that
  // never run matmul on the model (the trainer's frozen base); the
  // environment variable STARFIRE_REPACK=0 turns it off everywhere.
  bool pack_weights = true;
};

class Model {
 public:
  // Loads a GGUF file, a Hugging Face folder, or a stored model's name
  // ("Qwen/Qwen2.5-0.5B-Instruct" or "Qwen/Qwen2.5-0.5B-Instruct:file.gguf").
  static Result<std::shared_ptr<const Model>> load(const std::string& path_or_name,
                                                   const LoadOptions& opt = {});
  // Loads a GGUF model file. Errors name the file and the missing/bad tensor or key.
  static Result<std::shared_ptr<const Model>> load_gguf(const std::string& path,
                                                        const LoadOptions& opt = {});
  // Loads a Hugging Face folder: config.json, model.safetensors (or a sharded
  // set with its index), tokenizer.json + tokenizer_config.json when present.
  static Result<std::shared_ptr<const Model>> load_hf(const std::string& folder);
  // Builds a model from an already-open GGUF (used by tests and tools).
  static Result<std::shared_ptr<const Model>> from_gguf(std::shared_ptr<const gguf::GgufFile> f,
                                                        const LoadOptions& opt = {});

  const ModelConfig& config() const { return config_; }
  const ModelWeights& weights() const { return weights_; }
  // The GGUF file (checked: only for models loaded from GGUF; see gguf()).
  const gguf::GgufFile& file() const;
  const gguf::GgufFile* gguf() const { return file_.get(); }
  // What was loaded: the GGUF path or the HF folder.
  const std::string& source_path() const { return source_; }
  // Every stored tensor as loaded (name as in the source, type, size).
  struct TensorRecord {
    std::string name;
    DType type;
    int64_t n_elements;
    size_t n_bytes;
  };
  const std::vector<TensorRecord>& tensor_records() const { return records_; }
  // nullptr when the file has no usable tokenizer metadata.
  const Tokenizer* tokenizer() const { return tokenizer_.get(); }
  std::shared_ptr<const Tokenizer> tokenizer_ptr() const { return tokenizer_; }
  const std::string& tokenizer_error() const { return tokenizer_error_; }

 private:
  ModelConfig config_;
  ModelWeights weights_;
  std::shared_ptr<const gguf::GgufFile> file_;     // GGUF models
  std::vector<std::shared_ptr<const void>> keep_;  // other mappings the views point into
  std::vector<std::vector<float>> owned_;          // tensors converted at load time
  std::vector<AlignedBuffer> packed_;              // packed copies (WeightView::packed)
  std::string source_;
  std::vector<TensorRecord> records_;
  std::shared_ptr<const Tokenizer> tokenizer_;
  std::string tokenizer_error_;
};

}  // namespace sf
