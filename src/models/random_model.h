// Writes models with random weights in the real layout of an architecture, so
// tests and benchmarks need no downloads: tiny ones for correctness checks,
// real-sized ones (Qwen2.5-0.5B, TinyLlama-1.1B shapes) for speed.
#pragma once

#include <cstdint>
#include <string>

#include "core/dtype.h"
#include "core/status.h"

namespace sf {

struct RandomModelSpec {
  std::string arch = "llama";  // llama | qwen2 | qwen3
  int n_vocab = 256;
  int n_embd = 64;
  int n_layer = 2;
  int n_head = 4;
  int n_head_kv = 2;
  int head_dim = 0;  // 0: n_embd / n_head
  int n_ff = 128;
  int n_ctx = 256;
  float rope_base = 10000.0f;
  float rms_eps = 1e-5f;
  DType type = DType::F32;   // type of every 2-D weight (1-D tensors stay F32)
  bool tied_output = false;  // qwen2/qwen3 usually tie
  uint64_t seed = 1;
  float weight_std = 0.05f;
  bool with_vocab = true;     // add a byte-level SPM vocabulary (tokenizer.ggml.*)
  std::string chat_template;  // tokenizer.chat_template when non-empty (server tests)
};

Status write_random_model(const RandomModelSpec& spec, const std::string& path);

}  // namespace sf
