// One conversation's inference state over a shared Model: its KV cache, its
// preallocated activations and the thread pool. Prompts are fed as batches
// (matrix x matrix, chunked to n_batch), generation one token at a time.
// Thread-safety: a Session is used by one thread at a time.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "core/status.h"
#include "core/threadpool.h"
#include "models/decoder.h"
#include "models/kv_cache.h"
#include "models/lora_apply.h"
#include "models/model.h"

namespace sf {

struct SessionOptions {
  int n_ctx = 0;      // 0: the model's training context, capped at 4096
  int n_batch = 512;  // tokens per forward pass during prompt processing
  int n_threads = 0;  // 0: all hardware threads
  // LoRA adapters applied in every forward pass (models/lora_apply.h); made
  // for this model by LoraSet::create. nullptr: the base model.
  std::shared_ptr<const LoraSet> lora;
};

class Session {
 public:
  Session(std::shared_ptr<const Model> model, const SessionOptions& opts);

  const Model& model() const { return *model_; }
  int n_ctx() const { return cache_.n_ctx(); }
  int n_past() const { return n_past_; }
  int n_threads() const { return pool_.size(); }

  // Appends tokens at the current position. If all_logits is given, it
  // receives every fed position's logits (n x n_vocab); last_logits() always
  // holds the last position's.
  Status feed(std::span<const int32_t> ids, std::vector<float>* all_logits = nullptr);
  std::span<const float> last_logits() const { return last_logits_; }

  // Forgets everything after position n (n = 0 starts over).
  void truncate(int n) {
    n_past_ = n < n_past_ ? n : n_past_;
    tokens_.resize(n_past_);
  }
  // The tokens whose keys and values are in the cache, in order.
  const std::vector<int32_t>& tokens() const { return tokens_; }
  // Keeps the longest cached prefix shared with `ids` and feeds the rest, so a
  // conversation re-rendered each turn only processes its new tokens.
  // Returns how many tokens were actually fed.
  Result<int> feed_reusing_prefix(std::span<const int32_t> ids);

  void set_trace(TraceFn fn) { scratch_.trace = std::move(fn); }

 private:
  std::shared_ptr<const Model> model_;
  std::shared_ptr<const LoraSet> lora_;  // kept alive for scratch_.lora
  ThreadPool pool_;
  KvCache cache_;
  DecoderScratch scratch_;
  int n_batch_;
  int n_past_ = 0;
  std::vector<int32_t> tokens_;
  Batch batch_;
  std::vector<float> logits_buf_;
  std::vector<float> last_logits_;
};

}  // namespace sf
