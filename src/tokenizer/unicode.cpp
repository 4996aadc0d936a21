#include "tokenizer/unicode.h"

#include <unicode/bytestream.h>
#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <array>
#include <memory>

namespace sf::tok {

uint32_t utf8_decode(std::string_view s, size_t i, int* len) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const size_t n = s.size();
  const uint8_t c = p[i];
  if (c < 0x80) {
    *len = 1;
    return c;
  }
  int need;
  uint32_t cp;
  uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    need = 1;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    need = 2;
    cp = c & 0x0F;
    if (c == 0xE0) lo = 0xA0;  // no overlongs
    if (c == 0xED) hi = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    need = 3;
    cp = c & 0x07;
    if (c == 0xF0) lo = 0x90;  // no overlongs
    if (c == 0xF4) hi = 0x8F;  // <= U+10FFFF
  } else {
    *len = 1;
    return kInvalidCp;
  }
  for (int k = 1; k <= need; ++k) {
    if (i + k >= n) {
      *len = 1;
      return kInvalidCp;
    }
    const uint8_t b = p[i + k];
    const uint8_t blo = k == 1 ? lo : 0x80, bhi = k == 1 ? hi : 0xBF;
    if (b < blo || b > bhi) {
      *len = 1;
      return kInvalidCp;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  *len = need + 1;
  return cp;
}

int utf8_valid_len(std::string_view s, size_t i) {
  int len;
  uint32_t cp = utf8_decode(s, i, &len);
  return cp == kInvalidCp ? 0 : len;
}

void utf8_append(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool utf8_is_valid(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    if (static_cast<uint8_t>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    int len;
    if (utf8_decode(s, i, &len) == kInvalidCp) return false;
    i += len;
  }
  return true;
}

void CodepointText::assign(std::string_view s) {
  cps.clear();
  offsets.clear();
  cps.reserve(s.size());
  offsets.reserve(s.size() + 1);
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<uint8_t>(s[i]);
    offsets.push_back(static_cast<uint32_t>(i));
    if (c < 0x80) {
      cps.push_back(c);
      ++i;
      continue;
    }
    int len;
    cps.push_back(utf8_decode(s, i, &len));
    i += len;
  }
  offsets.push_back(static_cast<uint32_t>(s.size()));
}

namespace {

std::unique_ptr<uint8_t[]> build_table() {
  auto t = std::make_unique<uint8_t[]>(kInvalidCp + 1);
  for (uint32_t cp = 0; cp < kInvalidCp; ++cp) {
    uint8_t v = static_cast<uint8_t>(u_charType(static_cast<UChar32>(cp)) & 0x1F);
    if (u_isUWhiteSpace(static_cast<UChar32>(cp))) v |= cp_flags::kWhiteSpace;
    t[cp] = v;
  }
  t[kInvalidCp] = t[0xFFFD];
  return t;
}

constexpr uint32_t kMaskL = U_GC_L_MASK;
constexpr uint32_t kMaskN = U_GC_N_MASK;
constexpr uint32_t kMaskP = U_GC_P_MASK;

}  // namespace

const uint8_t* property_table() {
  static const std::unique_ptr<uint8_t[]> table = build_table();
  return table.get();
}

bool cp_is_letter(uint32_t cp) {
  return (cp_category_mask(cp) & kMaskL) != 0;
}
bool cp_is_number(uint32_t cp) {
  return (cp_category_mask(cp) & kMaskN) != 0;
}
bool cp_is_punct(uint32_t cp) {
  return (cp_category_mask(cp) & kMaskP) != 0;
}

uint32_t category_mask_for_name(std::string_view name, bool* ok) {
  struct Entry {
    const char* name;
    uint32_t mask;
  };
  static const Entry kEntries[] = {
      {"L", U_GC_L_MASK},     {"Letter", U_GC_L_MASK},      {"Lu", U_GC_LU_MASK},
      {"Ll", U_GC_LL_MASK},   {"Lt", U_GC_LT_MASK},         {"Lm", U_GC_LM_MASK},
      {"Lo", U_GC_LO_MASK},   {"LC", U_GC_LC_MASK},         {"M", U_GC_M_MASK},
      {"Mark", U_GC_M_MASK},  {"Mn", U_GC_MN_MASK},         {"Mc", U_GC_MC_MASK},
      {"Me", U_GC_ME_MASK},   {"N", U_GC_N_MASK},           {"Number", U_GC_N_MASK},
      {"Nd", U_GC_ND_MASK},   {"Nl", U_GC_NL_MASK},         {"No", U_GC_NO_MASK},
      {"P", U_GC_P_MASK},     {"Punctuation", U_GC_P_MASK}, {"Pc", U_GC_PC_MASK},
      {"Pd", U_GC_PD_MASK},   {"Ps", U_GC_PS_MASK},         {"Pe", U_GC_PE_MASK},
      {"Pi", U_GC_PI_MASK},   {"Pf", U_GC_PF_MASK},         {"Po", U_GC_PO_MASK},
      {"S", U_GC_S_MASK},     {"Symbol", U_GC_S_MASK},      {"Sm", U_GC_SM_MASK},
      {"Sc", U_GC_SC_MASK},   {"Sk", U_GC_SK_MASK},         {"So", U_GC_SO_MASK},
      {"Z", U_GC_Z_MASK},     {"Separator", U_GC_Z_MASK},   {"Zs", U_GC_ZS_MASK},
      {"Zl", U_GC_ZL_MASK},   {"Zp", U_GC_ZP_MASK},         {"C", U_GC_C_MASK},
      {"Other", U_GC_C_MASK}, {"Cc", U_GC_CC_MASK},         {"Cf", U_GC_CF_MASK},
      {"Co", U_GC_CO_MASK},   {"Cs", U_GC_CS_MASK},         {"Cn", U_GC_CN_MASK},
  };
  for (const auto& e : kEntries) {
    if (name == e.name) {
      *ok = true;
      return e.mask;
    }
  }
  *ok = false;
  return 0;
}

uint32_t cp_fold(uint32_t cp) {
  if (cp >= kInvalidCp) return cp;
  return static_cast<uint32_t>(u_foldCase(static_cast<UChar32>(cp), U_FOLD_CASE_DEFAULT));
}

uint32_t cp_lower(uint32_t cp) {
  if (cp >= kInvalidCp) return cp;
  return static_cast<uint32_t>(u_tolower(static_cast<UChar32>(cp)));
}

namespace {

const icu::Normalizer2* normalizer_for(NormalForm form) {
  UErrorCode err = U_ZERO_ERROR;
  const icu::Normalizer2* n = nullptr;
  switch (form) {
    case NormalForm::kNFC:
      n = icu::Normalizer2::getNFCInstance(err);
      break;
    case NormalForm::kNFKC:
      n = icu::Normalizer2::getNFKCInstance(err);
      break;
    case NormalForm::kNFD:
      n = icu::Normalizer2::getNFDInstance(err);
      break;
    case NormalForm::kNFKD:
      n = icu::Normalizer2::getNFKDInstance(err);
      break;
    case NormalForm::kNone:
      return nullptr;
  }
  return U_SUCCESS(err) ? n : nullptr;
}

bool is_ascii(std::string_view s) {
  for (char c : s)
    if (static_cast<uint8_t>(c) >= 0x80) return false;
  return true;
}

}  // namespace

bool normalize(NormalForm form, std::string_view in, std::string& out) {
  if (form == NormalForm::kNone || is_ascii(in)) return false;  // ASCII is invariant
  const icu::Normalizer2* n = normalizer_for(form);
  if (n == nullptr || !utf8_is_valid(in)) return false;
  UErrorCode err = U_ZERO_ERROR;
  const icu::StringPiece sp(in.data(), static_cast<int32_t>(in.size()));
  if (n->isNormalizedUTF8(sp, err) && U_SUCCESS(err)) return false;
  err = U_ZERO_ERROR;
  std::string result;
  icu::StringByteSink<std::string> sink(&result, static_cast<int32_t>(in.size()));
  n->normalizeUTF8(0, sp, sink, nullptr, err);
  if (U_FAILURE(err)) return false;
  out = std::move(result);
  return true;
}

std::string to_lower(std::string_view in) {
  if (is_ascii(in)) {
    std::string out(in);
    for (char& c : out)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
  }
  if (!utf8_is_valid(in)) return std::string(in);
  icu::UnicodeString u =
      icu::UnicodeString::fromUTF8(icu::StringPiece(in.data(), static_cast<int32_t>(in.size())));
  u.toLower(icu::Locale::getRoot());
  std::string out;
  u.toUTF8String(out);
  return out;
}

}  // namespace sf::tok
