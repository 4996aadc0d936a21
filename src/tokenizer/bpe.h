// Merge-rank BPE over one pre-tokenized piece: start from bytes (byte-level
// vocabularies) or characters (others, with <0xXX> byte fallback or the unknown
// token), then repeatedly apply the lowest-ranked merge among adjacent pairs,
// leftmost first on ties (the order of Hugging Face's `tokenizers`).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "tokenizer/token_index.h"
#include "tokenizer/vocab.h"

namespace sf::tok {

class BpeModel {
 public:
  // `index` maps token text to id and must outlive the model.
  Status build(const TokenizerSpec& spec, const TokenIndex* index);
  // Appends the ids of one piece (raw bytes; the byte map is applied here).
  void encode(std::string_view piece, std::vector<int32_t>& out) const;

 private:
  struct Merge {
    uint64_t key = ~uint64_t{0};  // (left << 32) | right
    uint32_t rank = 0;
    int32_t id = -1;
  };
  const Merge* find_merge(int32_t left, int32_t right) const {
    const uint64_t key =
        (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
    size_t i = mix(key) & mask_;
    for (;;) {
      const Merge& m = table_[i];
      if (m.key == key) return &m;
      if (m.id < 0) return nullptr;
      i = (i + 1) & mask_;
    }
  }
  static uint64_t mix(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    return k;
  }
  void initial_symbols(std::string_view piece, std::vector<int32_t>& syms) const;
  void merge_small(std::vector<int32_t>& syms) const;
  void merge_heap(std::vector<int32_t>& syms) const;
  void encode_uncached(std::string_view piece, std::vector<int32_t>& out) const;

  uint64_t instance_id_ = 0;  // keys the per-thread piece cache (bpe.cpp)

  const TokenIndex* index_ = nullptr;
  std::vector<Merge> table_;
  size_t mask_ = 0;
  bool byte_level_ = false;
  bool byte_fallback_ = false;
  bool ignore_merges_ = false;
  bool fuse_unk_ = false;
  int32_t unk_id_ = -1;
  std::array<int32_t, 256> byte_ids_{};  // byte-level: token of each byte; else <0xXX>
};

}  // namespace sf::tok
