// Token sampling as a chain of small stages over a candidate list.
//
// A Candidates list is built from one logits row (V floats, one per token id);
// each stage edits it in place (changes logits, or drops candidates); a final
// pick returns one token id. The stages are free functions so each can be
// tested alone; Sampler runs them in a fixed order:
//
//   logit bias → repetition penalty → frequency/presence penalty
//     → [temperature <= 0: greedy argmax, done]
//     → temperature → top-k → top-p → min-p → seeded random draw
//
// Temperature comes before truncation (as in HF transformers and vLLM), so
// top-p and min-p see the temperature-scaled probabilities.
//
// Determinism: candidates are ordered by the total order (logit desc, id asc)
// whenever an order matters, so ties resolve to the lowest id and results do
// not depend on how the standard library implements nth_element/sort. With the
// own Rng (runtime/rng.h), same seed + params + logits + accepted history →
// same tokens on every platform. (A libm that rounds expf differently could in
// principle flip a draw landing within ~1e-7 of a cumulative-probability
// boundary; the model's logits themselves vary more than that across builds.)
//
// Thread-safety: none; one Sampler per sequence. Sampler reuses its candidate
// buffer; stages allocate only small scratch (the penalty window, top-p's
// boundary bucket).
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "core/status.h"
#include "runtime/rng.h"

namespace sf {

struct Candidate {
  int32_t id;
  float logit;
  float prob;  // valid only while Candidates::has_probs
};

struct Candidates {
  std::vector<Candidate> items;
  // items are in canonical order: logit descending, then id ascending.
  bool sorted = false;
  // prob fields hold softmax(logit) over exactly the current items.
  bool has_probs = false;

  // Fills items with (id = i, logits[i]) for every i; reuses capacity.
  void assign(std::span<const float> logits);
  size_t size() const { return items.size(); }
};

// ---- Stages. Each keeps at least one candidate. Unless stated, a stage that
// changes logits or drops candidates clears has_probs (probabilities would no
// longer sum to one over the list). Stages that compute probabilities
// (softmax, top-p) require at least one logit > -inf: the Sampler checks that
// and returns an error first; calling them without it is a bug (aborts).

// Adds bias to each listed token's logit (-inf bans it; a banned token stays
// banned whatever else is added). Ids not in the list are ignored; repeated ids
// add up.
void apply_logit_bias(Candidates& c, std::span<const std::pair<int32_t, float>> bias);

// CTRL / llama.cpp repetition penalty: each distinct token in `recent` gets
// logit / penalty if the logit is positive, logit * penalty otherwise (so
// penalty > 1 always makes it less likely). Applied once per distinct token,
// however often it occurs.
void apply_repetition_penalty(Candidates& c, std::span<const int32_t> recent, float penalty);

// OpenAI semantics: logit -= count * frequency + (count > 0) * presence, with
// count = occurrences of the token in `recent`. Negative values encourage.
void apply_frequency_presence_penalty(Candidates& c, std::span<const int32_t> recent,
                                      float frequency, float presence);

// Divides logits by t (> 0). Logits are first shifted so the largest is 0
// (softmax is shift-invariant) so a tiny t cannot overflow to +inf; the result
// is (logit - max) / t, not logit / t.
void apply_temperature(Candidates& c, float t);

// Keeps the k highest logits (ties: lower id). k <= 0 or k >= size: no-op.
// About one comparison per token for small k (a k-heap), nth_element for
// large k; sorts only the kept k. Leaves c sorted.
void apply_top_k(Candidates& c, int k);

// Nucleus: keeps the smallest set of top tokens (canonical order) whose
// probability sum is >= p, at least one token. p >= 1: no-op. Preserves the
// list's order (sorted stays sorted; an unsorted list stays in its order).
// O(V) on an unsorted list: no sort of the vocabulary or of the nucleus.
void apply_top_p(Candidates& c, float p);

// Keeps tokens with prob >= p * prob_max, computed as logit >= max + log(p)
// (no softmax needed). p <= 0: no-op. Preserves order.
void apply_min_p(Candidates& c, float p);

// Fills prob = softmax(logit) over the items, subtracting the max first.
// -inf logits get probability 0. Sets has_probs.
void softmax(Candidates& c);

// Highest logit; ties → lowest id. Requires a non-empty list.
int32_t pick_greedy(const Candidates& c);

// Draws one token with probability prob (computing softmax if needed), from
// one rng.uniform(), walking the items in their current order.
int32_t pick_random(Candidates& c, Rng& rng);

// ---- The chain.

struct SamplerParams {
  float temperature = 0.8f;     // <= 0: greedy
  int top_k = 40;               // 0: off
  float top_p = 0.95f;          // in (0, 1]; 1: off
  float min_p = 0.05f;          // in [0, 1]; 0: off
  float repeat_penalty = 1.0f;  // > 0; 1: off
  // How many of the most recently accepted tokens the penalties look at;
  // 0: penalties off, -1: all accepted tokens.
  int penalty_last_n = 64;
  float frequency_penalty = 0.0f;
  float presence_penalty = 0.0f;
  // (token id, bias); -inf bans. Ids must be < vocabulary size (checked by
  // sample(), since the vocabulary is only known then).
  std::vector<std::pair<int32_t, float>> logit_bias;
  // Same seed + params + logits + accepted tokens → same tokens.
  uint64_t seed = 0x5EED5EED5EED5EEDull;
};

class Sampler {
 public:
  // Rejects nonsense (NaN anywhere, top_p outside (0, 1], top_k < 0, …) with a
  // message naming the field, its value and the allowed range. Call it at the
  // request boundary.
  static Status validate(const SamplerParams& p);

  // Validates, then constructs.
  static Result<Sampler> create(SamplerParams p);

  // Params must be valid (validate()); invalid params are a caller bug and
  // abort with validate()'s message.
  explicit Sampler(SamplerParams p);

  // Picks the next token from one logits row (V floats). Does not record it:
  // call accept() with the token actually emitted (a caller doing speculative
  // decoding may reject it). Errors (nothing is picked, RNG not advanced):
  //   - empty logits, or a NaN / +inf logit (a model bug; names the id),
  //   - a logit_bias id >= V,
  //   - every token at -inf after bias and penalties (all banned): there is no
  //     defined fallback token, so the request must fail rather than emit an
  //     arbitrary one.
  Result<int32_t> sample(std::span<const float> logits);

  // Records a token for the penalties. Accept prompt tokens too if they should
  // be penalized (llama.cpp does); only the last penalty_last_n matter.
  void accept(int32_t token);

  // Forgets the history and restarts the RNG from the seed.
  void reset();

  // The candidate list as the last sample() left it, with probabilities
  // (computed on first call after a greedy pick): for the random path, the
  // temperature-scaled, truncated set the token was drawn from; for greedy,
  // all V tokens after bias and penalties at temperature 1. For logprobs.
  // Valid until the next sample(); empty before the first.
  const Candidates& candidates();

  const SamplerParams& params() const { return params_; }
  Rng& rng() { return rng_; }  // for saving/restoring state with a session

 private:
  std::span<const int32_t> penalty_window() const;

  SamplerParams params_;
  Rng rng_;
  std::vector<int32_t> history_;
  Candidates cand_;
};

}  // namespace sf
