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

}  // namespace sf
