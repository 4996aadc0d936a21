#include "runtime/scheduler.h"

#include <algorithm>

namespace sf {

std::vector<Chunk> plan_step(std::span<const SlotView> slots, int token_budget, int max_rows) {
  std::vector<Chunk> plan;
  int budget = token_budget, rows = max_rows;
  for (size_t i = 0; i < slots.size(); ++i) {
    if (!slots[i].busy || !slots[i].decoding) continue;
    plan.push_back({static_cast<int>(i), 1, true, 1});
    --budget;
    --rows;
  }
  std::vector<int> prefill;
  for (size_t i = 0; i < slots.size(); ++i)
    if (slots[i].busy && !slots[i].decoding && slots[i].n_pending > 0)
      prefill.push_back(static_cast<int>(i));
  std::stable_sort(prefill.begin(), prefill.end(),
                   [&](int a, int b) { return slots[a].admitted < slots[b].admitted; });
  for (int i : prefill) {
    if (budget <= 0) break;
    const SlotView& s = slots[i];
    int n = std::min(s.n_pending, budget);
    // Rows: every token for all-rows requests, else only the prompt's last one.
    if (s.all_rows) n = std::min(n, rows);
    const bool last = n == s.n_pending;
    const int need = s.all_rows ? n : (last ? 1 : 0);
    if (n <= 0 || need > rows) continue;
    plan.push_back({i, n, false, need});
    budget -= n;
    rows -= need;
  }
  return plan;
}

int pick_slot(std::span<const SlotCache> slots, std::span<const int32_t> prompt, bool allow_reuse,
              int& reuse) {
  int best = -1, best_common = -1;
  uint64_t best_used = 0;
  for (size_t i = 0; i < slots.size(); ++i) {
    if (!slots[i].free) continue;
    int common = 0;
    if (allow_reuse) {
      const auto& t = slots[i].tokens;
      const size_t lim = std::min(t.size(), prompt.size());
      while (static_cast<size_t>(common) < lim && t[common] == prompt[common]) ++common;
    }
    if (common > best_common || (common == best_common && slots[i].last_used < best_used)) {
      best = static_cast<int>(i);
      best_common = common;
      best_used = slots[i].last_used;
    }
  }
  if (best < 0) return -1;
  reuse = std::min<int>(best_common, static_cast<int>(prompt.size()) - 1);
  if (reuse < 0) reuse = 0;
  return best;
}

}  // namespace sf
