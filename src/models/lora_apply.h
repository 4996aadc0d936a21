// LoRA adapters resolved against one model, for the decoder to apply at
// inference: y += sum_k s_k * B_k (A_k x) after each adapted projection,
// without touching the model's (immutable, shared) weights.
//
// create() validates every adapter against the model (models/lora_adapter.h,
// validate_lora) and fuses the adapters on each projection into one pair:
// A = [A_1; A_2; ...] (R x in) and B = [s_1 B_1, s_2 B_2, ...] (out x R),
// R = sum of ranks, so several adapters cost one pass. Adapters with scale 0
// are dropped (the output is then exactly the base model's).
//
// Layout: adapters are kept in our GGUF convention (q/k rows of arch "llama"
// permuted for adjacent-pair RoPE). A "llama" model loaded from a Hugging
// Face folder keeps the HF row order (it runs with neox RoPE), so create()
// permutes those lora_B rows back for it.
//
// Thread-safety: immutable after create(), shared by any number of sessions
// (each passes it through its DecoderScratch::lora).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "models/lora_adapter.h"

namespace sf {

class Model;
class ThreadPool;
struct ModelConfig;

// The projections an adapter may target, in decoder order.
enum class LoraProj { Q, K, V, O, Gate, Up, Down };
inline constexpr int kLoraProjCount = 7;

const char* lora_proj_gguf(LoraProj p);  // "attn_q"
const char* lora_proj_hf(LoraProj p);    // "self_attn.q_proj"

// "blk.3.attn_q.weight" -> {3, Q}; nullopt for any other name.
struct LoraTarget {
  int layer;
  LoraProj proj;
};
std::optional<LoraTarget> parse_lora_target(const std::string& gguf_name);
std::string lora_target_name(int layer, LoraProj p);  // the inverse

// Rows (out) and columns (in) of the weight a projection multiplies with.
void lora_proj_shape(const ModelConfig& c, LoraProj p, int64_t* out, int64_t* in);

// True when the GGUF convention of c.arch stores q/k rows in llama.cpp's
// adjacent-pair order rather than Hugging Face's (arch "llama", which
// includes Mistral), so adapters move between the two by permute_qk_rows.
bool lora_qk_permuted(const ModelConfig& c);

// Reorders the rows of a (rows x cols) matrix holding n_heads heads of q or k
// outputs: to_gguf = true maps the HF order (halves) to llama.cpp's
// adjacent-pair order, as convert_hf_to_gguf does to q/k weights; false is
// the inverse.
void permute_qk_rows(std::vector<float>& m, int64_t cols, int n_heads, bool to_gguf);

class LoraSet {
 public:
  static Result<std::shared_ptr<const LoraSet>> create(const Model& model,
                                                       const std::vector<LoraAdapter>& adapters);

  // ok when this set fits the model (layer count and every adapted shape):
  // the decoder checks it before running a batch.
  Status compatible(const Model& model) const;

  bool empty() const { return n_pairs_ == 0; }
  // Fused rank of one projection (0: not adapted).
  int64_t rank(int layer, LoraProj p) const;

  // y (m x out, row stride ldy) += B (A x) for the m rows of x (m x in, row
  // stride ldx). tmp is the caller's scratch (grows to m x (rank + out),
  // then no more allocation). No-op when the projection is not adapted. A row's
  // result does not depend on m or the thread count (like matmul), so
  // batched and one-token passes agree bit for bit.
  void apply(int layer, LoraProj p, const float* x, int64_t ldx, float* y, int64_t ldy, int64_t m,
             std::vector<float>& tmp, ThreadPool& pool) const;

  // W' = W + B A for row r of the weight (`row` holds the in floats of W_r).
  void add_delta_row(int layer, LoraProj p, int64_t r, float* row) const;

 private:
  struct Fused {
    int64_t rank = 0, in = 0, out = 0;
    std::vector<float> a;  // rank x in
    std::vector<float> b;  // out x rank, each adapter's factor folded in
  };
  std::vector<std::array<Fused, kLoraProjCount>> layers_;
  size_t n_pairs_ = 0;
};

}  // namespace sf
