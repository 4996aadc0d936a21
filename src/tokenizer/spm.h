// SentencePiece-style BPE (Llama 2, Phi-3, stories260K): start from single
// characters, repeatedly merge the adjacent pair whose concatenation is the
// vocabulary piece with the highest score (leftmost on ties), then map pieces
// to ids; characters not in the vocabulary fall back to <0xXX> byte tokens
// (or the unknown token when there are none).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/token_index.h"
#include "tokenizer/vocab.h"

namespace sf::tok {

class SpmModel {
 public:
  // `index` maps token text to id and must outlive the model.
  void build(const TokenizerSpec& spec, const TokenIndex* index);
  // Encodes text already prepared (dummy prefix added, spaces escaped to U+2581).
  void encode(std::string_view text, std::vector<int32_t>& out) const;

 private:
  int32_t lookup(std::string_view piece) const;  // -1 if not a mergeable piece

  const TokenIndex* index_ = nullptr;
  std::vector<float> scores_;
  std::vector<uint8_t> mergeable_;  // per id: may be produced by a merge
  std::array<int32_t, 256> byte_ids_{};
  int32_t unk_id_ = -1;
};

}  // namespace sf::tok
