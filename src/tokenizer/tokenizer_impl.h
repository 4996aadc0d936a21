// Internals of sf::Tokenizer (not part of the public API).
#pragma once

#include <string>
#include <vector>

#include "tokenizer/bpe.h"
#include "tokenizer/pretokenize.h"
#include "tokenizer/special_tokens.h"
#include "tokenizer/spm.h"
#include "tokenizer/token_index.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/wpm.h"

namespace sf {

struct Tokenizer::Impl {
  tok::TokenizerSpec spec;
  tok::TokenIndex index;
  tok::SpecialMatcher specials;
  tok::PreTokenizer pretok;
  tok::SpmModel spm;
  tok::BpeModel bpe;
  tok::WpmModel wpm;
  std::vector<std::string> pieces;  // decoded bytes of each token
  std::vector<uint8_t> control;     // dropped by decode(skip_special)
  std::vector<uint8_t> eog;

  Status init();
  // Encodes one text fragment (no special tokens in it). `at_start`: the
  // fragment begins the input (matters for SpacePrefix::kFirst).
  void encode_text(std::string_view text, bool at_start, std::vector<int32_t>& out) const;
};

}  // namespace sf
