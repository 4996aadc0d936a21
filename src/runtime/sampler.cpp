#include "runtime/sampler.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

namespace sf {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// The canonical total order: higher logit first, lower id on ties. A total
// order makes nth_element/sort results independent of the library's algorithm.
bool before(const Candidate& a, const Candidate& b) {
  return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

float max_logit(const Candidates& c) {
  if (c.sorted) return c.items.front().logit;
  float m = kNegInf;
  for (const Candidate& x : c.items) m = std::max(m, x.logit);
  return m;
}

// The first candidate in canonical order: highest logit, lowest id on ties.
const Candidate& best(const Candidates& c) {
  SF_CHECK(!c.items.empty(), "argmax of an empty candidate list");
  if (c.sorted) return c.items.front();
  // The best logit lives in a register; the id breaks exact ties only.
  size_t b = 0;
  float bl = c.items[0].logit;
  for (size_t i = 1; i < c.items.size(); ++i) {
    const float l = c.items[i].logit;
    if (l > bl || (l == bl && c.items[i].id < c.items[b].id)) {
      b = i;
      bl = l;
    }
  }
  return c.items[b];
}

// Finds a token in the list. Before any truncation the list is the whole
// vocabulary in id order, so items[id] is the answer in O(1); afterwards the
// list is short (top-k) and a scan is cheap.
Candidate* find(Candidates& c, int32_t id) {
  if (id < 0) return nullptr;
  if (static_cast<size_t>(id) < c.items.size() && c.items[id].id == id) return &c.items[id];
  for (Candidate& x : c.items)
    if (x.id == id) return &x;
  return nullptr;
}

// Calls fn(candidate, count) once per distinct token of `recent` that is in
// the list. Sorting a copy of the (short) window counts without a hash map.
template <class Fn>
void for_each_counted(Candidates& c, std::span<const int32_t> recent, Fn fn) {
  std::vector<int32_t> ids(recent.begin(), recent.end());
  std::sort(ids.begin(), ids.end());
  for (size_t i = 0; i < ids.size();) {
    size_t j = i;
    while (j < ids.size() && ids[j] == ids[i]) ++j;
    if (Candidate* x = find(c, ids[i])) fn(*x, static_cast<int>(j - i));
    i = j;
  }
}

void logits_changed(Candidates& c) {
  c.sorted = false;
  c.has_probs = false;
}

}  // namespace

void Candidates::assign(std::span<const float> logits) {
  items.resize(logits.size());
  for (size_t i = 0; i < logits.size(); ++i)
    items[i] = Candidate{static_cast<int32_t>(i), logits[i], 0.0f};
  sorted = false;
  has_probs = false;
}

void apply_logit_bias(Candidates& c, std::span<const std::pair<int32_t, float>> bias) {
  if (bias.empty()) return;
  for (const auto& [id, b] : bias) {
    Candidate* x = find(c, id);
    // Skipping -inf keeps a ban a ban even for a +inf bias from a direct
    // caller (-inf + inf would be NaN); validate() rejects +inf anyway.
    if (x && x->logit != kNegInf) x->logit += b;
  }
  logits_changed(c);
}

void apply_repetition_penalty(Candidates& c, std::span<const int32_t> recent, float penalty) {
  if (penalty == 1.0f || recent.empty()) return;
  for_each_counted(c, recent, [&](Candidate& x, int) {
    x.logit = x.logit > 0.0f ? x.logit / penalty : x.logit * penalty;
  });
  logits_changed(c);
}

void apply_frequency_presence_penalty(Candidates& c, std::span<const int32_t> recent,
                                      float frequency, float presence) {
  if ((frequency == 0.0f && presence == 0.0f) || recent.empty()) return;
  for_each_counted(c, recent, [&](Candidate& x, int count) {
    x.logit -= static_cast<float>(count) * frequency + presence;
  });
  logits_changed(c);
}

void apply_temperature(Candidates& c, float t) {
  SF_CHECK(t > 0.0f, "apply_temperature needs t > 0 (t <= 0 means greedy)");
  if (c.items.empty()) return;
  const float m = max_logit(c);
  if (!std::isfinite(m)) return;  // all -inf: nothing to scale
  for (Candidate& x : c.items) x.logit = (x.logit - m) / t;
  // A shift and a positive scale keep the order, so `sorted` stays set. (Two
  // logits a few ulps apart may round to a tie that the id would now order
  // the other way; the list stays deterministic, just not strictly canonical.)
  c.has_probs = false;
}

void apply_top_k(Candidates& c, int k) {
  if (k <= 0 || static_cast<size_t>(k) >= c.items.size()) return;
  const size_t n = c.items.size(), kk = static_cast<size_t>(k);
  auto first = c.items.begin(), kept_end = first + k, last = c.items.end();
  if (c.sorted) {
    // Already in order: the prefix is the answer.
  } else if (kk * 16 <= n) {
    // Small k: keep the best k seen so far in a heap whose top is the worst of
    // them. Almost every other token fails one comparison against that top,
    // which beats nth_element's repeated partition passes over the whole list.
    std::make_heap(first, kept_end, before);
    float worst = first->logit;  // a plain float compare rejects most tokens
    for (auto it = kept_end; it != last; ++it) {
      if (it->logit < worst || !before(*it, *first)) continue;
      std::pop_heap(first, kept_end, before);
      *(kept_end - 1) = *it;
      std::push_heap(first, kept_end, before);
      worst = first->logit;
    }
    std::sort_heap(first, kept_end, before);
  } else {
    std::nth_element(first, kept_end - 1, last, before);
    std::sort(first, kept_end, before);
  }
  c.items.resize(kk);
  c.sorted = true;
  c.has_probs = false;
}

void apply_top_p(Candidates& c, float p) {
  if (p >= 1.0f || c.items.size() <= 1) return;
  if (!c.has_probs) softmax(c);
  if (c.sorted) {
    double cum = 0.0;
    size_t kept = 0;
    while (kept < c.items.size() && cum < p) cum += c.items[kept++].prob;
    c.items.resize(std::max<size_t>(kept, 1));
    c.has_probs = false;
    return;
  }
  // Unsorted (the whole vocabulary when top-k is off): sorting the nucleus
  // would cost O(m log m) with m in the tens of thousands for a flat
  // distribution. Instead bucket tokens by distance below the max logit
  // (monotone in the canonical order), find the bucket where the cumulative
  // mass crosses p, and sort only that bucket to find the last kept token.
  // Survivors keep their input order, which is deterministic.
  constexpr int kBuckets = 256;
  constexpr float kNatsPerBucket = 1.0f / 16;  // 16 nats span; the rest share the last
  const float m = max_logit(c);
  auto bucket_of = [m](float logit) {
    const float d = (m - logit) * (1.0f / kNatsPerBucket);  // >= 0; -inf logit → +inf
    return d < kBuckets - 1 ? static_cast<int>(d) : kBuckets - 1;
  };
  std::array<double, kBuckets> mass{};
  for (const Candidate& x : c.items) mass[bucket_of(x.logit)] += x.prob;
  double cum = 0.0;
  int edge_bucket = 0;
  for (; edge_bucket < kBuckets - 1 && cum + mass[edge_bucket] < p; ++edge_bucket)
    cum += mass[edge_bucket];
  std::vector<Candidate> edge;
  for (const Candidate& x : c.items)
    if (bucket_of(x.logit) == edge_bucket) edge.push_back(x);
  // Empty only if rounding left the total just under p: then keep everything.
  if (edge.empty()) return;
  std::sort(edge.begin(), edge.end(), before);
  Candidate last = edge.back();
  for (const Candidate& x : edge) {
    cum += x.prob;
    if (cum >= p) {
      last = x;
      break;
    }
  }
  std::erase_if(c.items, [&](const Candidate& x) { return before(last, x); });
  c.has_probs = false;
}

void apply_min_p(Candidates& c, float p) {
  if (p <= 0.0f || c.items.empty()) return;
  // p_i >= p * p_max  <=>  exp(l_i - l_max) >= p  <=>  l_i >= l_max + log(p).
  const float threshold = max_logit(c) + std::log(p);
  const size_t before_n = c.items.size();
  std::erase_if(c.items, [&](const Candidate& x) { return x.logit < threshold; });
  if (c.items.size() != before_n) c.has_probs = false;
}

void softmax(Candidates& c) {
  SF_CHECK(!c.items.empty(), "softmax of an empty candidate list");
  const float m = max_logit(c);
  SF_CHECK(std::isfinite(m), "softmax needs a finite max logit (all -inf means all banned)");
  double sum = 0.0;
  for (Candidate& x : c.items) {
    x.prob = std::exp(x.logit - m);  // <= 1, and exactly 1 for the max: no overflow
    sum += x.prob;
  }
  const double inv = 1.0 / sum;  // one division, not V
  for (Candidate& x : c.items) x.prob = static_cast<float>(x.prob * inv);
  c.has_probs = true;
}

int32_t pick_greedy(const Candidates& c) {
  return best(c).id;
}

int32_t pick_random(Candidates& c, Rng& rng) {
  SF_CHECK(!c.items.empty(), "pick_random on an empty candidate list");
  if (!c.has_probs) softmax(c);
  // Scale the draw by the actual float sum so rounding in the normalized
  // probabilities cannot leave a gap at the top end.
  double total = 0.0;
  for (const Candidate& x : c.items) total += x.prob;
  const double target = rng.uniform() * total;
  double cum = 0.0;
  for (const Candidate& x : c.items) {
    cum += x.prob;
    if (target < cum) return x.id;  // a zero-probability token never passes here
  }
  // Only reachable through rounding: the last token with probability > 0.
  for (auto it = c.items.rbegin(); it != c.items.rend(); ++it)
    if (it->prob > 0.0f) return it->id;
  return c.items.back().id;
}

// ---- Sampler

Status Sampler::validate(const SamplerParams& p) {
  if (std::isnan(p.temperature) || std::isinf(p.temperature))
    return errorf("sampler: temperature must be a finite number (<= 0 means greedy), got %g",
                  p.temperature);
  if (p.top_k < 0) return errorf("sampler: top_k must be >= 0 (0 disables it), got %d", p.top_k);
  if (!(p.top_p > 0.0f && p.top_p <= 1.0f))
    return errorf("sampler: top_p must be in (0, 1] (1 disables it), got %g", p.top_p);
  if (!(p.min_p >= 0.0f && p.min_p <= 1.0f))
    return errorf("sampler: min_p must be in [0, 1] (0 disables it), got %g", p.min_p);
  if (!(p.repeat_penalty > 0.0f) || std::isinf(p.repeat_penalty))
    return errorf("sampler: repeat_penalty must be a finite number > 0 (1 disables it), got %g",
                  p.repeat_penalty);
  if (p.penalty_last_n < -1)
    return errorf(
        "sampler: penalty_last_n must be >= -1 (-1 = all accepted tokens, 0 disables "
        "penalties), got %d",
        p.penalty_last_n);
  if (!std::isfinite(p.frequency_penalty))
    return errorf("sampler: frequency_penalty must be a finite number, got %g",
                  p.frequency_penalty);
  if (!std::isfinite(p.presence_penalty))
    return errorf("sampler: presence_penalty must be a finite number, got %g", p.presence_penalty);
  for (size_t i = 0; i < p.logit_bias.size(); ++i) {
    const auto& [id, b] = p.logit_bias[i];
    if (id < 0) return errorf("sampler: logit_bias[%zu]: token id must be >= 0, got %d", i, id);
    if (std::isnan(b) || b == std::numeric_limits<float>::infinity())
      return errorf(
          "sampler: logit_bias[%zu]: bias for token %d must be finite, or -inf to ban it; "
          "got %g",
          i, id, b);
  }
  return Status();
}

Result<Sampler> Sampler::create(SamplerParams p) {
  SF_RETURN_IF_ERROR(validate(p));
  return Sampler(std::move(p));
}

Sampler::Sampler(SamplerParams p) : params_(std::move(p)), rng_(params_.seed) {
  Status s = validate(params_);
  if (!s.ok()) check_failed(__FILE__, __LINE__, "Sampler::validate(params)", s.message().c_str());
}

std::span<const int32_t> Sampler::penalty_window() const {
  const int n = params_.penalty_last_n;
  std::span<const int32_t> all(history_);
  if (n < 0) return all;
  return all.last(std::min(all.size(), static_cast<size_t>(n)));
}

void Sampler::accept(int32_t token) {
  const int n = params_.penalty_last_n;
  if (n == 0) return;
  history_.push_back(token);
  // Trim in batches so accept() stays amortized O(1) without a ring buffer.
  if (n > 0 && history_.size() >= 2 * static_cast<size_t>(n) + 64)
    history_.erase(history_.begin(), history_.end() - n);
}

void Sampler::reset() {
  history_.clear();
  cand_ = Candidates();
  rng_.reseed(params_.seed);
}

const Candidates& Sampler::candidates() {
  if (!cand_.has_probs && !cand_.items.empty()) softmax(cand_);
  return cand_;
}

Result<int32_t> Sampler::sample(std::span<const float> logits) {
  cand_.items.clear();  // an error leaves no stale list behind for candidates()
  const size_t vocab = logits.size();
  if (vocab == 0) return Status::error("sampler: empty logits row (vocabulary size 0)");
  // NaN and +inf both fail `x < inf`; one branch-free pass, then locate.
  bool bad = false;
  for (float x : logits) bad |= !(x < std::numeric_limits<float>::infinity());
  for (size_t i = 0; bad && i < vocab; ++i) {
    if (!(logits[i] < std::numeric_limits<float>::infinity()))
      return errorf("sampler: logit of token %zu is %s; the model produced invalid output", i,
                    std::isnan(logits[i]) ? "NaN" : "+inf");
  }
  for (const auto& [id, b] : params_.logit_bias) {
    if (static_cast<size_t>(id) >= vocab)
      return errorf("sampler: logit_bias token id %d is outside the vocabulary (%zu tokens)", id,
                    vocab);
  }

  cand_.assign(logits);
  apply_logit_bias(cand_, params_.logit_bias);
  const std::span<const int32_t> window = penalty_window();
  apply_repetition_penalty(cand_, window, params_.repeat_penalty);
  apply_frequency_presence_penalty(cand_, window, params_.frequency_penalty,
                                   params_.presence_penalty);

  // The argmax is the greedy answer and also tells whether anything is left.
  const Candidate& top = best(cand_);
  const float m = top.logit;
  if (m == kNegInf) {
    cand_.items.clear();
    return errorf(
        "sampler: every token is banned (all %zu logits are -inf after logit_bias and "
        "penalties); nothing can be sampled. Hint: remove some -inf logit_bias entries",
        vocab);
  }
  if (!std::isfinite(m)) {
    cand_.items.clear();
    return errorf(
        "sampler: a logit overflowed to +inf after penalties (repeat_penalty=%g, "
        "frequency_penalty=%g, presence_penalty=%g)",
        params_.repeat_penalty, params_.frequency_penalty, params_.presence_penalty);
  }

  if (params_.temperature <= 0.0f) return top.id;

  // Top-k only looks at the order, which temperature (a shift and a positive
  // scale) keeps, so running it first selects the same tokens (barring a
  // rounding tie exactly at the k-th place) and scales k logits instead of V.
  apply_top_k(cand_, params_.top_k);
  apply_temperature(cand_, params_.temperature);
  apply_top_p(cand_, params_.top_p);
  apply_min_p(cand_, params_.min_p);
  return pick_random(cand_, rng_);
}

}  // namespace sf
