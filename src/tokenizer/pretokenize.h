// Pre-tokenization: cutting a text fragment into pieces that BPE encodes
// independently. A PreTokenizer runs a list of steps (regex splits, digit
// splits, metaspace splits); each step re-splits every piece from the one
// before, exactly like a Hugging Face pre_tokenizer Sequence or llama.cpp's
// regex lists. Named variants (GGUF tokenizer.ggml.pre) map to step lists here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "tokenizer/fast_split.h"
#include "tokenizer/regex.h"
#include "tokenizer/vocab.h"

namespace sf::tok {

// Byte range [first, second) of a piece within the fragment.
using Piece = std::pair<uint32_t, uint32_t>;

class PreTokenizer {
 public:
  // allow_fast: use the hand-written matchers for well-known patterns (false
  // only to test them against the regex engine).
  Status build(const std::vector<PreTokStep>& steps, bool allow_fast = true);
  bool empty() const { return steps_.empty(); }
  // Appends the pieces of `text` (in order, non-empty) to `out`.
  void split(std::string_view text, std::vector<Piece>& out) const;

 private:
  struct Step {
    PreTokStep spec;
    Regex re;
    FastPattern fast = FastPattern::kNone;  // hand-written matcher for a well-known pattern
  };
  std::vector<Step> steps_;
};

// The pre-tokenizer steps for a GGUF `tokenizer.ggml.pre` value (llama.cpp's
// names). Sets *normal_form where the original tokenizer normalizes (Qwen2:
// NFC) and *ignore_merges where it ignores merges (Llama 3). Unknown names
// are an error (a silently wrong split would give wrong ids).
Status pretok_steps_for_gguf_pre(const std::string& pre, std::vector<PreTokStep>* steps,
                                 NormalForm* normal_form, bool* ignore_merges);

// Well-known patterns, shared with the HF loader and tests.
extern const char* const kPatternGpt2;
extern const char* const kPatternLlama3;
extern const char* const kPatternQwen2;

}  // namespace sf::tok
