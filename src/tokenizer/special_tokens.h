// Finds special and added tokens written in the text (leftmost-longest, like
// the Hugging Face added-vocabulary matcher) and cuts the text around them.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace sf::tok {

// A piece of the input: either a token found verbatim (id >= 0) or a text
// range [begin, end) to be tokenized normally (id == -1).
struct Fragment {
  int32_t id = -1;
  uint32_t begin = 0, end = 0;
};

class SpecialMatcher {
 public:
  void build(const std::vector<AddedToken>& added);
  bool empty() const { return tokens_.empty(); }
  // Appends the fragments of `text` to `out`. Special tokens are matched only
  // when parse_special; non-special added tokens always.
  void split(std::string_view text, bool parse_special, std::vector<Fragment>& out) const;

 private:
  std::vector<AddedToken> tokens_;
  // Token indices by first byte, longest content first.
  std::array<std::vector<uint32_t>, 256> by_first_;
  bool any_nonspecial_ = false;
};

}  // namespace sf::tok
