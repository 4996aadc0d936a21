// The engine's per-step decisions, kept free of model and threads so they can
// be tested alone.
//
// Continuous batching with a token budget (vLLM's scheme): each step, every
// sequence that is generating gets one token first, so streams in flight never
// wait for a prompt; what is left of the budget goes to prompt prefill in
// admission order, a long prompt being cut into chunks over several steps
// (chunked prefill). Rows whose logits (or hidden states) are needed are capped
// per step so the output buffers stay bounded.
//
// Prefix reuse: each sequence slot keeps the tokens whose keys and values are
// in its part of the KV cache after its request ends; a new request goes to the
// free slot sharing the longest prefix with its prompt and only the rest is
// computed (a shared system prompt or persona costs nothing the second time).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace sf {

// What the scheduler needs to know about one sequence slot.
struct SlotView {
  bool busy = false;      // holds a request
  bool decoding = false;  // has a sampled token waiting to be fed
  int n_pending = 0;      // prompt tokens still to prefill
  bool all_rows = false;  // every prompt row's logits/hidden state is wanted
  uint64_t admitted = 0;  // admission order: lower prefills first
};

struct Chunk {
  int slot = 0;
  int n_tokens = 0;  // 1 for a decode step
  bool decode = false;
  int n_rows = 0;  // rows of output this chunk needs (logits or hidden states)
};

// Plans one forward pass. token_budget >= number of decoding slots and
// max_rows >= number of decoding slots are the caller's guarantees (the engine
// sizes both from n_parallel), so decodes always fit.
std::vector<Chunk> plan_step(std::span<const SlotView> slots, int token_budget, int max_rows);

// Chooses a free slot for a prompt: the one whose cached tokens share the
// longest prefix with it (ties: the least recently used, given by last_used).
// `reuse` receives how many cached tokens can stay; it is at most
// prompt.size() - 1 so the last prompt token is always computed (its logits
// give the first generated token). Returns -1 when no slot is free.
struct SlotCache {
  bool free = true;
  std::span<const int32_t> tokens;  // tokens in the slot's cache
  uint64_t last_used = 0;
};
int pick_slot(std::span<const SlotCache> slots, std::span<const int32_t> prompt, bool allow_reuse,
              int& reuse);

}  // namespace sf
