// Low-rank adapters (LoRA) on a base model: W' = W + scale * (alpha / rank) * B A
// for each adapted projection. Read and written in llama.cpp's GGUF adapter
// convention (general.type = "adapter", adapter.type = "lora",
// adapter.lora.alpha; tensors "<base>.lora_a" with GGUF dims {in, rank} and
// "<base>.lora_b" with dims {rank, out}) and as a PEFT folder
// (adapter_config.json + adapter_model.safetensors, names like
// "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight").
// The engine applies adapters at inference without touching the base weights
// (decoder adds scale * B (A x) after each adapted projection), so many
// adapters can share one base; merge bakes one into a copy of the weights.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace sf {

struct LoraTensorPair {
  std::string target;    // GGUF name of the base weight, e.g. "blk.0.attn_q.weight"
  int64_t rank = 0;
  int64_t in = 0;        // base weight cols
  int64_t out = 0;       // base weight rows
  std::vector<float> a;  // rank x in, row-major (PEFT lora_A.weight)
  std::vector<float> b;  // out x rank, row-major (PEFT lora_B.weight)
};

struct LoraAdapter {
  std::string arch;   // base architecture (general.architecture)
  float alpha = 0.0f;
  int rank = 0;       // common rank (PEFT's r)
  float scale = 1.0f; // user multiplier (`--lora file:scale`)
  std::vector<LoraTensorPair> tensors;
  // scale * alpha / rank: the factor on B A.
  float effective_scale() const { return rank > 0 ? scale * alpha / rank : 0.0f; }
};

struct ModelConfig;

// Reads a llama.cpp LoRA adapter GGUF (convert_lora_to_gguf.py's output or
// ours): general.type "adapter", adapter.type "lora", general.architecture,
// adapter.lora.alpha (absent or 0: llama.cpp then applies B A unscaled, so
// alpha is set to the rank), and one "<target>.lora_a" / "<target>.lora_b"
// pair per adapted weight, in any type we can dequantize (F32, F16, BF16,
// Q8_0 ...). Norm vectors some tools add ("*_norm.weight") are skipped, as
// llama.cpp skips them. Errors name the file and tensor: a missing half of a
// pair, lora_a/lora_b ranks that disagree, rank 0, 1-D or 3-D tensors.
// Targets and shapes are checked against a model later (LoraSet::create,
// validate_lora), since the file does not say which model it was made for.
Result<LoraAdapter> load_lora_gguf(const std::string& path);

// Writes `a` as llama.cpp writes adapters: F32 tensors, lora_a then lora_b per
// target. Atomic (path.tmp, then rename).
Status save_lora_gguf(const LoraAdapter& a, const std::string& path);

// Writes a PEFT adapter folder: adapter_config.json as PEFT's LoraConfig
// serializes it and adapter_model.safetensors (F32) with PEFT's tensor names.
// `a` is in our GGUF convention; for arch "llama" the q/k lora_B rows are
// permuted back to the Hugging Face (rotate-halves) order the HF model uses.
Status save_lora_peft(const LoraAdapter& a, const ModelConfig& base_cfg,
                      const std::string& base_model_name, const std::string& dir);

// Reads a PEFT LoRA folder made for a model with config `base_cfg` (used for
// the q/k permutation of arch "llama" and the shape checks). use_rslora and
// alpha_pattern are folded into lora_B (the product is what PEFT computes);
// DoRA, LoRA biases, modules_to_save and embedding adapters are refused with
// an error naming the setting or tensor.
Result<LoraAdapter> load_lora_peft(const std::string& dir, const ModelConfig& base_cfg);

// Checks every pair against a model's configuration: same architecture,
// targets that exist (blk.N.{attn_q,attn_k,attn_v,attn_output,ffn_gate,
// ffn_up,ffn_down}.weight with N < n_layer), in/out equal to that weight's
// columns/rows, a and b sized rank x in and out x rank, no target twice.
Status validate_lora(const LoraAdapter& a, const ModelConfig& cfg);

// The factor on B A for one pair, as llama.cpp computes it: scale * alpha /
// pair.rank, or scale alone when alpha is 0.
inline float lora_pair_scale(const LoraAdapter& a, const LoraTensorPair& p) {
  return a.alpha != 0.0f && p.rank > 0 ? a.scale * a.alpha / static_cast<float>(p.rank) : a.scale;
}

}  // namespace sf
