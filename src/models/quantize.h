// `starfire quantize`: GGUF -> GGUF in another type, with llama.cpp's mixed
// recipes (Q4_K_M and friends) so a file means what users expect from its
// name.
//
// Which tensors change: 2-D weights only; norms, biases and rope_freqs stay as
// they are (F32). The recipe picks a base type and raises some tensors, as
// llama.cpp does (llama-quant.cpp's per-tensor rules, re-derived here):
//  - output.weight (or token_embd.weight when the head is tied) -> Q6_K, or
//    Q8_0 when its rows do not fit the base type's blocks; kept at Q8_0 for Q8_0.
//  - attn_v: Q2_K -> Q3_K (Q4_K when n_head / n_head_kv >= 4); Q3_K_M -> Q5_K
//    in the first two layers, else Q4_K; Q3_K_L -> Q5_K; Q4_K_S -> Q5_K in the
//    first four layers; Q4_K_M / Q5_K_M -> Q6_K in "more bits" layers (the
//    first and last eighth, and every third layer between).
//  - ffn_down: Q2_K -> Q3_K; Q3_K_M -> Q5_K in the first 1/16 of layers, else
//    Q4_K; Q3_K_L -> Q5_K; Q4_K_M / Q5_K_M -> Q6_K in "more bits" layers;
//    Q4_K_S -> Q5_K in the first eighth.
//  - attn_output: Q2_K -> Q3_K, Q3_K_M -> Q4_K, Q3_K_L -> Q5_K.
// Fallback when a row length is not a multiple of the chosen type's block
// (256 for K-quants): Q2_K/Q3_K -> Q4_0, Q4_K -> Q5_0, Q5_K -> Q5_1,
// Q6_K -> Q8_0, and F16 when even 32 does not divide it.
// Quantized inputs are dequantized first (requantizing loses more than
// quantizing the original f16/bf16/f32 weights; the summary says so).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/status.h"

namespace sf {

struct QuantRecipe {
  const char* name;  // "Q4_K_M"
  int ftype;         // general.file_type (llama.cpp's llama_ftype)
  DType base;        // type of most 2-D tensors
};

const std::vector<QuantRecipe>& quant_recipes();
std::optional<QuantRecipe> find_recipe(const std::string& name);  // case-insensitive

// The per-tensor decision (exposed for tests).
struct QuantModelInfo {
  int n_layer = 0;
  int n_gqa = 1;           // n_head / n_head_kv
  bool has_output = true;  // false: token_embd is also the output head
};
// `dims` in GGUF order (dims[0] = row length). Returns the type to store the
// tensor in; sets *fallback when the recipe's choice did not fit the rows.
DType choose_quant_type(const QuantRecipe& r, const QuantModelInfo& m, const std::string& name,
                        const std::vector<int64_t>& dims, DType src, bool* fallback = nullptr);

struct QuantizeOptions {
  int n_threads = 0;  // 0: all cores
  std::function<void(size_t done, size_t total, uint64_t bytes_out)> progress;
};

struct QuantizeReport {
  uint64_t n_params = 0;    // elements of all tensors
  uint64_t bytes_in = 0;    // tensor data in the input
  uint64_t bytes_out = 0;   // tensor data in the output
  uint64_t file_bytes = 0;  // size of the written file
  size_t n_fallback = 0;
  bool requantized = false;  // some input tensors were already quantized
  std::map<std::string, std::pair<size_t, uint64_t>> by_type;  // type -> (tensors, bytes)
  std::vector<std::pair<std::string, DType>> plan;             // tensor -> chosen type
  double bits_per_weight() const { return n_params ? 8.0 * bytes_out / n_params : 0; }
};

Result<QuantizeReport> quantize_gguf(const std::string& in_path, const std::string& out_path,
                                     const QuantRecipe& recipe, const QuantizeOptions& opt);

}  // namespace sf
