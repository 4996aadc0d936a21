#include "tokenizer/special_tokens.h"

#include <algorithm>

#include "tokenizer/unicode.h"

namespace sf::tok {

void SpecialMatcher::build(const std::vector<AddedToken>& added) {
  tokens_.clear();
  for (auto& v : by_first_) v.clear();
  any_nonspecial_ = false;
  for (const AddedToken& t : added) {
    if (t.content.empty() || t.id < 0) continue;
    tokens_.push_back(t);
    if (!t.special) any_nonspecial_ = true;
  }
  for (uint32_t i = 0; i < tokens_.size(); ++i)
    by_first_[static_cast<uint8_t>(tokens_[i].content[0])].push_back(i);
  for (auto& v : by_first_) {
    std::stable_sort(v.begin(), v.end(), [&](uint32_t a, uint32_t b) {
      return tokens_[a].content.size() > tokens_[b].content.size();
    });
  }
}

namespace {

// Whitespace code point ending right before byte `pos` (0 length if none).
int space_before(std::string_view s, size_t pos) {
  if (pos == 0) return 0;
  size_t start = pos - 1;
  while (start > 0 && (static_cast<uint8_t>(s[start]) & 0xC0) == 0x80 && pos - start < 4) --start;
  int len;
  const uint32_t cp = utf8_decode(s, start, &len);
  return (start + len == pos && cp_is_space(cp)) ? len : 0;
}

int space_at(std::string_view s, size_t pos) {
  if (pos >= s.size()) return 0;
  int len;
  const uint32_t cp = utf8_decode(s, pos, &len);
  return cp_is_space(cp) ? len : 0;
}

bool word_char_before(std::string_view s, size_t pos) {
  if (pos == 0) return false;
  size_t start = pos - 1;
  while (start > 0 && (static_cast<uint8_t>(s[start]) & 0xC0) == 0x80 && pos - start < 4) --start;
  int len;
  const uint32_t cp = utf8_decode(s, start, &len);
  return cp == '_' || cp_is_letter(cp) || cp_is_number(cp);
}

bool word_char_at(std::string_view s, size_t pos) {
  if (pos >= s.size()) return false;
  int len;
  const uint32_t cp = utf8_decode(s, pos, &len);
  return cp == '_' || cp_is_letter(cp) || cp_is_number(cp);
}

}  // namespace

void SpecialMatcher::split(std::string_view text, bool parse_special,
                           std::vector<Fragment>& out) const {
  const auto n = static_cast<uint32_t>(text.size());
  if (tokens_.empty() || (!parse_special && !any_nonspecial_)) {
    if (n > 0) out.push_back({-1, 0, n});
    return;
  }
  uint32_t text_start = 0;  // start of the pending text fragment
  uint32_t i = 0;
  while (i < n) {
    const auto& cands = by_first_[static_cast<uint8_t>(text[i])];
    const AddedToken* hit = nullptr;
    for (uint32_t idx : cands) {
      const AddedToken& t = tokens_[idx];
      if (t.special && !parse_special) continue;
      if (t.content.size() > n - i) continue;
      if (text.compare(i, t.content.size(), t.content) != 0) continue;
      if (t.single_word && (word_char_before(text, i) || word_char_at(text, i + t.content.size())))
        continue;
      hit = &t;
      break;
    }
    if (hit == nullptr) {
      ++i;
      continue;
    }
    uint32_t b = i, e = i + static_cast<uint32_t>(hit->content.size());
    if (hit->lstrip) {
      while (b > text_start) {
        const int l = space_before(text, b);
        if (l == 0) break;
        b -= static_cast<uint32_t>(l);
      }
    }
    if (hit->rstrip) {
      while (e < n) {
        const int l = space_at(text, e);
        if (l == 0) break;
        e += static_cast<uint32_t>(l);
      }
    }
    if (b > text_start) out.push_back({-1, text_start, b});
    out.push_back({hit->id, b, e});
    text_start = e;
    i = e;
  }
  if (n > text_start) out.push_back({-1, text_start, n});
}

}  // namespace sf::tok
