#include "tokenizer/spm.h"

#include <algorithm>
#include <cstdio>
#include <queue>

#include "tokenizer/unicode.h"

namespace sf::tok {

void SpmModel::build(const TokenizerSpec& spec, const TokenIndex* index) {
  index_ = index;
  const size_t n = spec.tokens.size();
  scores_.assign(n, 0.0f);
  for (size_t i = 0; i < n && i < spec.scores.size(); ++i) scores_[i] = spec.scores[i];
  mergeable_.assign(n, 1);
  byte_ids_.fill(-1);
  for (size_t i = 0; i < n; ++i) {
    const TokenType t = i < spec.types.size() ? spec.types[i] : TokenType::kNormal;
    if (t == TokenType::kControl || t == TokenType::kByte || t == TokenType::kUnknown)
      mergeable_[i] = 0;
  }
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    byte_ids_[b] = index->find(name);
  }
  unk_id_ = spec.unk_id;
}

int32_t SpmModel::lookup(std::string_view piece) const {
  const int32_t id = index_->find(piece);
  return (id >= 0 && mergeable_[id]) ? id : -1;
}

namespace {

struct Symbol {
  int32_t prev, next;
  uint32_t begin, len;
};

struct Bigram {
  float score;
  int32_t left, right;
  uint32_t len;
  bool operator<(const Bigram& o) const {  // max-heap: best score, then leftmost
    if (score != o.score) return score < o.score;
    return left > o.left;
  }
};

}  // namespace

void SpmModel::encode(std::string_view text, std::vector<int32_t>& out) const {
  if (text.empty()) return;
  std::vector<Symbol> syms;
  syms.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    int len;
    utf8_decode(text, i, &len);  // invalid bytes are symbols of one byte
    const auto idx = static_cast<int32_t>(syms.size());
    syms.push_back({idx - 1, idx + 1, static_cast<uint32_t>(i), static_cast<uint32_t>(len)});
    i += static_cast<size_t>(len);
  }
  syms.back().next = -1;

  std::priority_queue<Bigram> queue;
  auto try_add = [&](int32_t l, int32_t r) {
    if (l < 0 || r < 0) return;
    const uint32_t len = syms[l].len + syms[r].len;
    const int32_t id = lookup(text.substr(syms[l].begin, len));
    if (id < 0) return;
    queue.push({scores_[id], l, r, len});
  };
  for (int32_t i = 1; i < static_cast<int32_t>(syms.size()); ++i) try_add(i - 1, i);

  while (!queue.empty()) {
    const Bigram bg = queue.top();
    queue.pop();
    Symbol& l = syms[bg.left];
    Symbol& r = syms[bg.right];
    if (l.len == 0 || r.len == 0 || l.len + r.len != bg.len || l.next != bg.right) continue;
    l.len += r.len;
    r.len = 0;
    l.next = r.next;
    if (r.next >= 0) syms[r.next].prev = bg.left;
    try_add(l.prev, bg.left);
    try_add(bg.left, l.next);
  }

  for (int32_t i = 0; i >= 0; i = syms[i].next) {
    const Symbol& s = syms[i];
    const std::string_view piece = text.substr(s.begin, s.len);
    const int32_t id = lookup(piece);
    if (id >= 0) {
      out.push_back(id);
      continue;
    }
    bool have_bytes = true;
    for (char c : piece) have_bytes = have_bytes && byte_ids_[static_cast<uint8_t>(c)] >= 0;
    if (have_bytes) {
      for (char c : piece) out.push_back(byte_ids_[static_cast<uint8_t>(c)]);
    } else if (unk_id_ >= 0) {
      out.push_back(unk_id_);  // one unknown token per character, as SentencePiece does
    }
  }
}

}  // namespace sf::tok
