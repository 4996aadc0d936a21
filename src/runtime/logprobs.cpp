#include "runtime/logprobs.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace sf {

double log_sum_exp(std::span<const float> row) {
  float mx = -std::numeric_limits<float>::infinity();
  for (float x : row) mx = std::max(mx, x);
  if (!std::isfinite(mx)) return mx;
  double sum = 0;
  for (float x : row) sum += std::exp(static_cast<double>(x) - mx);
  return mx + std::log(sum);
}

TokenLogprob token_logprob(std::span<const float> row, int32_t id, int top_n) {
  TokenLogprob out;
  out.id = id;
  const double lse = log_sum_exp(row);
  if (id >= 0 && static_cast<size_t>(id) < row.size())
    out.logprob = static_cast<float>(row[id] - lse);
  if (top_n <= 0) return out;
  const size_t k = std::min<size_t>(static_cast<size_t>(top_n), row.size());
  // A k-element min-heap over (logit, -id): one pass over the vocabulary.
  auto worse = [&](int32_t a, int32_t b) {  // true if a ranks above b (heap keeps the worst on top)
    return row[a] > row[b] || (row[a] == row[b] && a < b);
  };
  std::vector<int32_t> heap;
  heap.reserve(k + 1);
  for (int32_t i = 0; i < static_cast<int32_t>(row.size()); ++i) {
    if (heap.size() < k) {
      heap.push_back(i);
      std::push_heap(heap.begin(), heap.end(), worse);
    } else if (worse(i, heap.front())) {
      std::pop_heap(heap.begin(), heap.end(), worse);
      heap.back() = i;
      std::push_heap(heap.begin(), heap.end(), worse);
    }
  }
  std::sort(heap.begin(), heap.end(), worse);
  for (int32_t i : heap) out.top.push_back({i, static_cast<float>(row[i] - lse)});
  return out;
}

}  // namespace sf
