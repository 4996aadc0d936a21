#include "tokenizer/fast_split.h"

#include "tokenizer/pretokenize.h"
#include "tokenizer/unicode.h"

namespace sf::tok {

namespace {

const char* const kGpt2NoTrailing =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))";

inline bool is_l(uint32_t c) {
  return cp_is_letter(c);
}
inline bool is_n(uint32_t c) {
  return cp_is_number(c);
}
inline bool is_s(uint32_t c) {
  return cp_is_space(c);
}
inline bool is_other(uint32_t c) {
  return !is_s(c) && !is_l(c) && !is_n(c);
}
inline bool is_nl(uint32_t c) {
  return c == '\r' || c == '\n';
}
inline uint32_t fold(uint32_t c) {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
  return cp_fold(c);
}

// 's 't 're 've 'm 'll 'd at pos (cps[pos] == '\''); 0 if none.
int64_t contraction(const uint32_t* cps, uint32_t end, uint32_t pos, bool icase) {
  if (pos + 1 >= end) return 0;
  auto f = [&](uint32_t c) { return icase ? fold(c) : c; };
  const uint32_t a = f(cps[pos + 1]);
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  if (pos + 2 >= end) return 0;
  const uint32_t b = f(cps[pos + 2]);
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  return 0;
}

// \s+(?!\S) then (optionally) \s+ at a whitespace position.
int64_t whitespace(const uint32_t* cps, uint32_t end, uint32_t pos, bool trailing) {
  uint32_t k = pos;
  while (k < end && is_s(cps[k])) ++k;
  if (k == end) return k - pos;         // (?!\S) holds at the end
  if (k - 1 > pos) return k - 1 - pos;  // give back one: followed by whitespace
  return trailing ? int64_t{k - pos} : -1;
}

int64_t gpt2(const uint32_t* cps, uint32_t end, uint32_t pos, bool trailing) {
  const uint32_t c = cps[pos];
  if (c == '\'') {
    if (const int64_t n = contraction(cps, end, pos, false)) return n;
  }
  uint32_t j = pos + (c == ' ' ? 1 : 0);
  if (j < end) {
    const uint32_t d = cps[j];
    bool (*cls)(uint32_t) = is_l(d) ? is_l : is_n(d) ? is_n : (!is_s(d) ? is_other : nullptr);
    if (cls != nullptr) {
      while (j < end && cls(cps[j])) ++j;
      return j - pos;
    }
  }
  if (is_s(c)) return whitespace(cps, end, pos, trailing);
  return -1;
}

int64_t llama3(const uint32_t* cps, uint32_t end, uint32_t pos, uint32_t max_digits) {
  const uint32_t c = cps[pos];
  if (c == '\'') {
    if (const int64_t n = contraction(cps, end, pos, true)) return n;
  }
  // [^\r\n\p{L}\p{N}]?\p{L}+
  {
    uint32_t j = pos;
    if (!is_l(c) && !is_nl(c) && !is_n(c)) ++j;
    if (j < end && is_l(cps[j])) {
      while (j < end && is_l(cps[j])) ++j;
      return j - pos;
    }
  }
  // \p{N}{1,k}
  if (is_n(c)) {
    uint32_t j = pos;
    while (j < end && j - pos < max_digits && is_n(cps[j])) ++j;
    return j - pos;
  }
  // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
  {
    uint32_t j = pos + (c == ' ' ? 1 : 0);
    if (j < end && is_other(cps[j])) {
      while (j < end && is_other(cps[j])) ++j;
      while (j < end && is_nl(cps[j])) ++j;
      return j - pos;
    }
  }
  if (!is_s(c)) return -1;
  // \s*[\r\n]+ : up to the last newline of the whitespace run
  uint32_t k = pos;
  int64_t last_nl = -1;
  while (k < end && is_s(cps[k])) {
    if (is_nl(cps[k])) last_nl = k;
    ++k;
  }
  if (last_nl >= 0) return last_nl + 1 - pos;
  return whitespace(cps, end, pos, true);
}

}  // namespace

FastPattern fast_pattern_for(std::string_view pattern) {
  if (pattern == kPatternGpt2) return FastPattern::kGpt2;
  if (pattern == kGpt2NoTrailing) return FastPattern::kGpt2NoTrailing;
  if (pattern == kPatternLlama3) return FastPattern::kLlama3;
  if (pattern == kPatternQwen2) return FastPattern::kQwen2;
  return FastPattern::kNone;
}

int64_t fast_match(FastPattern p, const uint32_t* cps, uint32_t begin, uint32_t end, uint32_t pos) {
  if (pos >= end) return -1;
  switch (p) {
    case FastPattern::kGpt2:
      return gpt2(cps, end, pos, true);
    case FastPattern::kGpt2NoTrailing:
      return gpt2(cps, end, pos, false);
    case FastPattern::kLlama3:
      return llama3(cps, end, pos, 3);
    case FastPattern::kQwen2:
      return llama3(cps, end, pos, 1);
    case FastPattern::kNone:
      break;
  }
  return -1;
}

}  // namespace sf::tok
