#include "tokenizer/wpm.h"

#include <unicode/uchar.h>

#include <algorithm>
#include <string>

#include "tokenizer/unicode.h"

namespace sf::tok {

namespace {

bool is_cjk(uint32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

}  // namespace

void WpmModel::build(const TokenizerSpec& spec, const TokenIndex* index) {
  index_ = index;
  unk_id_ = spec.unk_id;
  max_len_ = 0;
  for (const auto& t : spec.tokens) max_len_ = std::max(max_len_, t.size());
}

void WpmModel::encode(std::string_view text, std::vector<int32_t>& out) const {
  std::string nfd;
  if (normalize(NormalForm::kNFD, text, nfd)) text = nfd;
  // Words: runs of ordinary characters; punctuation, ASCII symbols and CJK
  // characters are words of their own; whitespace separates; controls vanish.
  std::vector<std::string> words(1);
  for (size_t i = 0; i < text.size();) {
    int len;
    const uint32_t cp = utf8_decode(text, i, &len);
    i += static_cast<size_t>(len);
    if (cp_is_space(cp)) {
      if (!words.back().empty()) words.emplace_back();
      continue;
    }
    const uint32_t mask = cp_category_mask(cp);
    if (cp == 0 || cp == 0xFFFD || cp == kInvalidCp ||
        (mask & (U_GC_CC_MASK | U_GC_CF_MASK | U_GC_CO_MASK | U_GC_CS_MASK)))
      continue;
    if (mask & U_GC_MN_MASK) continue;  // accents, split off by NFD, are stripped
    std::string s;
    utf8_append(s, cp_lower(cp));
    if ((mask & U_GC_P_MASK) || (cp < 0x7F && (mask & U_GC_S_MASK)) || is_cjk(cp)) {
      if (!words.back().empty()) words.emplace_back();
      words.back() = s;
      words.emplace_back();
    } else {
      words.back() += s;
    }
  }
  for (const std::string& word : words) {
    if (word.empty()) continue;
    const std::string w = "\xE2\x96\x81" + word;
    const size_t start = out.size();
    bool ok = true;
    for (size_t i = 0; i < w.size();) {
      size_t j = std::min(w.size(), i + max_len_);
      int32_t id = -1;
      for (; j > i; --j) {
        id = index_->find(std::string_view(w).substr(i, j - i));
        if (id >= 0) break;
      }
      if (id < 0) {
        ok = false;
        break;
      }
      out.push_back(id);
      i = j;
    }
    if (!ok) out.resize(start);
    if (out.size() == start && unk_id_ >= 0) out.push_back(unk_id_);
  }
}

}  // namespace sf::tok
