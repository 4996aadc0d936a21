// WordPiece (BERT-style embedding models, GGUF tokenizer.ggml.model = "bert"),
// as llama.cpp reads such vocabularies: NFD, accents stripped, lowercase, split on whitespace,
// punctuation and CJK characters, then greedy longest-match pieces where a
// word-initial piece carries a U+2581 prefix; a word that cannot be covered
// becomes the unknown token.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/token_index.h"
#include "tokenizer/vocab.h"

namespace sf::tok {

class WpmModel {
 public:
  void build(const TokenizerSpec& spec, const TokenIndex* index);
  void encode(std::string_view text, std::vector<int32_t>& out) const;

 private:
  const TokenIndex* index_ = nullptr;
  size_t max_len_ = 0;
  int32_t unk_id_ = -1;
};

}  // namespace sf::tok
