// A batch of tokens for one forward pass, structure-of-arrays: each entry is a
// token at a position in a sequence, and whether its logits are wanted. One
// batch can hold a whole prompt, one token of each of several sequences, or
// any mix (continuous batching).
#pragma once

#include <cstdint>
#include <vector>

namespace sf {

struct Batch {
  std::vector<int32_t> token;
  std::vector<int32_t> pos;
  std::vector<int32_t> seq;
  std::vector<uint8_t> want_logits;

  void add(int32_t t, int32_t p, int32_t s, bool logits) {
    token.push_back(t);
    pos.push_back(p);
    seq.push_back(s);
    want_logits.push_back(logits ? 1 : 0);
  }
  void clear() {
    token.clear();
    pos.clear();
    seq.clear();
    want_logits.clear();
  }
  int64_t size() const { return static_cast<int64_t>(token.size()); }
  int64_t n_logits() const {
    int64_t n = 0;
    for (uint8_t w : want_logits) n += w;
    return n;
  }
};

}  // namespace sf
