// Bakes LoRA adapters into a copy of a GGUF model: W' = W + sum_k s_k B_k A_k
// for every adapted weight (`starfire lora merge`).
//
// Each adapted weight is dequantized row by row, the low-rank update added in
// f32, and the row quantized again to the weight's own type, or to
// `out_type` when given (F32 keeps the merge exact; requantizing an already
// quantized weight adds a second rounding, as llama.cpp's export-lora does).
// Every other tensor and all metadata (tokenizer, chat template ...) are
// copied byte for byte. The output is streamed (models/gguf_stream.h), so a
// merge needs one tensor in memory, not the model.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/status.h"
#include "models/lora_adapter.h"

namespace sf {

class Model;

struct LoraMergeOptions {
  std::optional<DType> out_type;  // adapted weights' type; nullopt: each keeps its own
  int n_threads = 0;              // 0: all cores
  // After each tensor: tensors done, total, tensor bytes written so far.
  std::function<void(size_t done, size_t total, uint64_t bytes)> progress;
};

struct LoraMergeReport {
  size_t n_tensors = 0;  // tensors written
  size_t n_merged = 0;   // of which had an adapter baked in
  uint64_t file_bytes = 0;
};

// `base` must have been loaded from a GGUF file (its tensors are copied from
// there). Errors: adapters that do not fit the model (as LoraSet::create),
// an out_type whose blocks do not divide a row, the output being the input.
Result<LoraMergeReport> merge_lora(const Model& base, const std::vector<LoraAdapter>& adapters,
                                   const std::string& out_path, const LoraMergeOptions& opt = {});

}  // namespace sf
