// Unicode helpers for the tokenizer: UTF-8 decoding that never fails, code
// point properties (general category, White_Space) taken from ICU, and
// normalization (NFC, NFKC, NFD, NFKD) through ICU.
//
// Invalid UTF-8 is not an error here: each byte that does not start a valid
// sequence decodes to a code point of its own (kInvalidCp, one byte long), so
// byte-level tokenizers still see every input byte and nothing is lost.
// Thread-safety: all functions are safe to call concurrently (the property
// table is built once, on first use).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sf::tok {

// Stands for one byte that is not part of a valid UTF-8 sequence. Its
// properties are those of U+FFFD (a symbol, So).
inline constexpr uint32_t kInvalidCp = 0x110000;

// Decodes one code point at s[i]; sets *len to the bytes it takes (>= 1).
// Rejects overlong forms, surrogates and values past U+10FFFF.
uint32_t utf8_decode(std::string_view s, size_t i, int* len);

// Length of the valid UTF-8 sequence starting at s[i], or 0 if invalid.
int utf8_valid_len(std::string_view s, size_t i);

// Appends the UTF-8 encoding of cp (cp must be a scalar value).
void utf8_append(std::string& out, uint32_t cp);

// Length of a sequence from its first byte (1 for continuation/invalid bytes).
inline int utf8_lead_len(uint8_t c) {
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) return 2;
  if ((c & 0xF0) == 0xE0) return 3;
  if ((c & 0xF8) == 0xF0) return 4;
  return 1;
}

bool utf8_is_valid(std::string_view s);

// Text split into code points, with the byte offset of each (and one past the
// end), so pieces found on code points map back to bytes of the input.
struct CodepointText {
  std::vector<uint32_t> cps;
  std::vector<uint32_t> offsets;  // size cps.size() + 1
  void assign(std::string_view s);
};

// Code point properties, one byte per code point.
//   bits 0-4: ICU general category (UCharCategory, 0..29)
//   bit 5:    White_Space
namespace cp_flags {
inline constexpr uint8_t kCategoryMask = 0x1F;
inline constexpr uint8_t kWhiteSpace = 0x20;
}  // namespace cp_flags

const uint8_t* property_table();  // indexed by code point, 0x110000 + 1 entries (last: kInvalidCp)

inline uint8_t cp_props(uint32_t cp) {
  static const uint8_t* table = property_table();
  return table[cp <= kInvalidCp ? cp : kInvalidCp];
}
inline uint32_t cp_category(uint32_t cp) {
  return cp_props(cp) & cp_flags::kCategoryMask;
}
inline uint32_t cp_category_mask(uint32_t cp) {
  return 1u << cp_category(cp);
}
inline bool cp_is_space(uint32_t cp) {
  return (cp_props(cp) & cp_flags::kWhiteSpace) != 0;
}
bool cp_is_letter(uint32_t cp);
bool cp_is_number(uint32_t cp);
bool cp_is_punct(uint32_t cp);

// Category masks (bit i set for UCharCategory i) for \p{...} names such as
// "L", "Lu", "N", "P", "Han" is not a category (see regex.cpp for scripts).
uint32_t category_mask_for_name(std::string_view name, bool* ok);

// Simple case folding of one code point (for (?i) matching).
uint32_t cp_fold(uint32_t cp);
uint32_t cp_lower(uint32_t cp);

enum class NormalForm { kNone, kNFC, kNFKC, kNFD, kNFKD };

// Normalizes UTF-8 text. Invalid UTF-8 is returned unchanged (normalization is
// defined on valid text only). Returns false and leaves `out` untouched when
// the text is already normalized (the common case; no copy is made).
bool normalize(NormalForm form, std::string_view in, std::string& out);

// Lowercases valid UTF-8 text with full Unicode case mapping (root locale).
std::string to_lower(std::string_view in);

}  // namespace sf::tok
