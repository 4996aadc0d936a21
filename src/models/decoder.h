// The shared Llama-family decoder forward pass: embeddings, then per layer
// RMSNorm → q/k/v (+bias) → (q/k norm) → RoPE → causal GQA attention over the
// KV cache → output projection → residual → RMSNorm → SwiGLU FFN → residual,
// then the final norm and the output head. It reads like the paper; the
// architecture files only switch features on (models/arch_*.cpp).
#pragma once

#include <functional>
#include <utility>
#include <vector>

#include "core/status.h"
#include "models/batch.h"
#include "models/kv_cache.h"
#include "models/model.h"

namespace sf {

class ThreadPool;
class LoraSet;

// Called with intermediate tensors (rows x cols, row-major) so a layer-by-layer
// diff against a reference can find the first wrong tensor. layer = -1 outside layers.
using TraceFn =
    std::function<void(const char* name, int layer, const float* data, int64_t rows, int64_t cols)>;

// Activations for up to `max_tokens` batch entries, allocated once.
struct DecoderScratch {
  DecoderScratch(const Model& model, int max_tokens, int n_threads);
  int max_tokens;
  std::vector<float> x, xn, q, k, v, att, ffn_gate, ffn_up, out_rows;
  // Attention (core/attention.h): per thread, the kernel's scratch and the
  // row pointers of one job; the batch's blocks of same-sequence entries.
  struct AttnThread {
    std::vector<float> scratch;
    std::vector<const float*> q;
    std::vector<float*> out;
    std::vector<int> n_keys;
  };
  std::vector<AttnThread> attn;
  std::vector<std::pair<int, int>> attn_blocks;  // [first, last) batch entries
  int attn_block_entries = 1;                    // entries per block (rows: x heads per group)
  std::vector<double> inv_freq;                  // RoPE frequency per dimension pair
  TraceFn trace;                                 // optional
  // LoRA adapters added after each adapted projection (models/lora_apply.h);
  // nullptr: the base model. Not owned: the caller keeps the set alive.
  const LoraSet* lora = nullptr;
  std::vector<float> lora_tmp;  // A x and B (A x) of the largest batch (grows only)
};

// Runs the batch; writes the logits of each entry with want_logits, in batch
// order, to `logits` (n_logits x n_vocab). Errors (bad token id, position out
// of the cache, batch too large) are returned before any state changes.
// Embeddings: when `hidden` is given, the final-normed hidden state of each
// wanted entry is also written there (n_logits x n_embd); `logits` may then be
// nullptr to skip the output head.
Status forward(const Model& model, const Batch& batch, KvCache& cache, DecoderScratch& scratch,
               ThreadPool& pool, float* logits, float* hidden = nullptr);

}  // namespace sf
