// A small backtracking regex engine over code points, for pre-tokenizer
// patterns (GPT-2, Llama 3, Qwen2, DeepSeek ... and whatever a tokenizer.json
// Split asks for). Semantics follow Oniguruma/PCRE, which the references use:
// leftmost-first alternation, greedy/lazy/possessive quantifiers, lookahead,
// atomic groups, (?i) case folding, classes with \p{..} general categories and
// scripts (from ICU), \s = Unicode White_Space.
//
// Not supported (compile() returns an error naming the construct):
// backreferences, lookbehind, unbounded repetition of a subpattern that can
// match empty.
// Thread-safety: a compiled Regex is immutable; matching uses a thread-local
// stack, so one Regex may be used from many threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace sf::tok {

class Regex {
 public:
  static Result<Regex> compile(std::string_view pattern);

  static constexpr int64_t kNoMatch = -1;
  static constexpr int64_t kOutOfSteps = -2;

  // Length (in code points) of the match anchored at `pos` within
  // cps[begin, end), kNoMatch, or kOutOfSteps when matching took more than
  // *budget steps (each step is subtracted from *budget). Lookaround and
  // anchors see only [begin, end). The budget bounds the cost of pathological
  // patterns from untrusted tokenizer.json files.
  int64_t match_at(const uint32_t* cps, uint32_t begin, uint32_t end, uint32_t pos,
                   uint64_t* budget) const;
  // Same with a generous fixed budget (tests).
  int64_t match_at(const uint32_t* cps, uint32_t begin, uint32_t end, uint32_t pos) const {
    uint64_t budget = uint64_t{1} << 24;
    return match_at(cps, begin, end, pos, &budget);
  }

  const std::string& pattern() const { return pattern_; }

  struct Program;

 private:
  std::string pattern_;
  std::shared_ptr<const Program> prog_;
};

}  // namespace sf::tok
