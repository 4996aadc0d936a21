// Hand-written matchers for the pre-tokenizer patterns almost every
// byte-level BPE model uses (GPT-2, Llama 3, Qwen2). They give exactly the
// match the regex engine gives for the same pattern (tests and the fuzzer
// compare the two on the same input), several times faster.
#pragma once

#include <cstdint>
#include <string_view>

namespace sf::tok {

enum class FastPattern {
  kNone = 0,
  kGpt2,            // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
  kGpt2NoTrailing,  // the same without the final |\s+ (llama.cpp's spelling)
  kLlama3,          // (?i:'s|...)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|...
  kQwen2,           // the same with \p{N} one digit at a time
};

// Which fast matcher implements `pattern` exactly (kNone: use the regex engine).
FastPattern fast_pattern_for(std::string_view pattern);

// Length of the match anchored at pos within cps[begin, end), or -1; the same
// result as Regex::match_at for the pattern.
int64_t fast_match(FastPattern p, const uint32_t* cps, uint32_t begin, uint32_t end, uint32_t pos);

}  // namespace sf::tok
