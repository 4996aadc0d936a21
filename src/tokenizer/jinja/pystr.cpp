#include "tokenizer/jinja/pystr.h"

#include <unicode/locid.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "tokenizer/jinja/error.h"

namespace sf::jinja::py {

size_t utf8_next(std::string_view s, size_t i, char32_t* cp) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) {
    *cp = c;
    return i + 1;
  }
  size_t n;  // continuation bytes
  if (c >= 0xC2 && c <= 0xDF) {
    n = 1;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 2;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 3;
  } else {
    *cp = 0xFFFD;
    return i + 1;
  }
  if (s.size() - i <= n) {
    *cp = 0xFFFD;
    return i + 1;
  }
  char32_t v = c & (0x3F >> n);
  for (size_t k = 1; k <= n; ++k) {
    const unsigned char d = static_cast<unsigned char>(s[i + k]);
    if ((d & 0xC0) != 0x80) {
      *cp = 0xFFFD;
      return i + 1;
    }
    v = (v << 6) | (d & 0x3F);
  }
  // Overlong forms, surrogates and values past U+10FFFF are invalid.
  static constexpr char32_t kMin[4] = {0, 0x80, 0x800, 0x10000};
  if (v < kMin[n] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
    *cp = 0xFFFD;
    return i + 1;
  }
  *cp = v;
  return i + 1 + n;
}

void utf8_append(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool is_ascii(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

size_t codepoint_count(std::string_view s) {
  if (is_ascii(s)) return s.size();
  size_t n = 0;
  char32_t cp;
  for (size_t i = 0; i < s.size(); i = utf8_next(s, i, &cp)) ++n;
  return n;
}

std::vector<size_t> codepoint_offsets(std::string_view s) {
  std::vector<size_t> off;
  off.reserve(s.size() + 1);
  char32_t cp;
  for (size_t i = 0; i < s.size(); i = utf8_next(s, i, &cp)) off.push_back(i);
  off.push_back(s.size());
  return off;
}

bool is_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}

bool is_printable(char32_t c) {
  if (c == ' ') return true;
  if (c < 0x80) return c > 0x20 && c < 0x7F;
  switch (u_charType(static_cast<UChar32>(c))) {
    case U_CONTROL_CHAR:
    case U_FORMAT_CHAR:
    case U_SURROGATE:
    case U_PRIVATE_USE_CHAR:
    case U_UNASSIGNED:
    case U_LINE_SEPARATOR:
    case U_PARAGRAPH_SEPARATOR:
    case U_SPACE_SEPARATOR:
      return false;
    default:
      return true;
  }
}

namespace {

struct Decoded {
  std::vector<char32_t> cps;
  std::vector<size_t> off;  // byte offset of each code point, plus the end
};

Decoded decode(std::string_view s) {
  Decoded d;
  d.cps.reserve(s.size());
  d.off.reserve(s.size() + 1);
  char32_t cp;
  for (size_t i = 0; i < s.size();) {
    d.off.push_back(i);
    i = utf8_next(s, i, &cp);
    d.cps.push_back(cp);
  }
  d.off.push_back(s.size());
  return d;
}

std::string icu_map(std::string_view s, bool to_upper) {
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(
      icu::StringPiece(s.data(), static_cast<int32_t>(std::min<size_t>(s.size(), INT32_MAX))));
  if (to_upper) {
    u.toUpper(icu::Locale::getRoot());
  } else {
    u.toLower(icu::Locale::getRoot());
  }
  std::string out;
  u.toUTF8String(out);
  return out;
}

bool is_cased_cp(char32_t c) {
  return u_isupper(static_cast<UChar32>(c)) || u_islower(static_cast<UChar32>(c)) ||
         u_istitle(static_cast<UChar32>(c));
}

}  // namespace

std::string strip(std::string_view s, bool left, bool right,
                  std::optional<std::string_view> chars) {
  Decoded d = decode(s);
  std::vector<char32_t> set;
  if (chars) {
    Decoded c = decode(*chars);
    set = std::move(c.cps);
  }
  auto strippable = [&](char32_t c) {
    return chars ? std::find(set.begin(), set.end(), c) != set.end() : is_space(c);
  };
  size_t b = 0, e = d.cps.size();
  if (left)
    while (b < e && strippable(d.cps[b])) ++b;
  if (right)
    while (e > b && strippable(d.cps[e - 1])) --e;
  return std::string(s.substr(d.off[b], d.off[e] - d.off[b]));
}

std::string upper(std::string_view s) {
  if (!is_ascii(s)) return icu_map(s, true);
  std::string out(s);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
  return out;
}

std::string lower(std::string_view s) {
  if (!is_ascii(s)) return icu_map(s, false);
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  return out;
}

std::string title(std::string_view s) {
  // CPython: a cased character is titlecased after an uncased one and
  // lowercased after a cased one.
  std::string out;
  out.reserve(s.size());
  bool prev_cased = false;
  char32_t cp;
  for (size_t i = 0; i < s.size();) {
    i = utf8_next(s, i, &cp);
    const bool cased = is_cased_cp(cp);
    char32_t m = cp;
    if (cased)
      m = prev_cased ? u_tolower(static_cast<UChar32>(cp)) : u_totitle(static_cast<UChar32>(cp));
    prev_cased = cased;
    utf8_append(out, m);
  }
  return out;
}

std::string capitalize(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  char32_t cp;
  bool first = true;
  for (size_t i = 0; i < s.size();) {
    i = utf8_next(s, i, &cp);
    utf8_append(out, first ? static_cast<char32_t>(u_totitle(static_cast<UChar32>(cp)))
                           : static_cast<char32_t>(u_tolower(static_cast<UChar32>(cp))));
    first = false;
  }
  return out;
}

std::string swapcase(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  char32_t cp;
  for (size_t i = 0; i < s.size();) {
    i = utf8_next(s, i, &cp);
    const UChar32 c = static_cast<UChar32>(cp);
    utf8_append(out, static_cast<char32_t>(u_isupper(c)   ? u_tolower(c)
                                           : u_islower(c) ? u_toupper(c)
                                                          : c));
  }
  return out;
}

std::vector<std::string> split(std::string_view s, std::optional<std::string_view> sep,
                               int64_t maxsplit) {
  std::vector<std::string> out;
  if (maxsplit < 0) maxsplit = INT64_MAX;
  if (sep) {
    if (sep->empty()) fail("split(): empty separator");
    size_t pos = 0;
    while (maxsplit-- > 0) {
      const size_t hit = s.find(*sep, pos);
      if (hit == std::string_view::npos) break;
      out.emplace_back(s.substr(pos, hit - pos));
      pos = hit + sep->size();
    }
    out.emplace_back(s.substr(pos));
    return out;
  }
  Decoded d = decode(s);
  const size_t n = d.cps.size();
  size_t i = 0;
  while (maxsplit-- > 0) {
    while (i < n && is_space(d.cps[i])) ++i;
    if (i == n) break;
    const size_t j = i++;
    while (i < n && !is_space(d.cps[i])) ++i;
    out.emplace_back(s.substr(d.off[j], d.off[i] - d.off[j]));
  }
  if (i < n) {
    while (i < n && is_space(d.cps[i])) ++i;
    if (i != n) out.emplace_back(s.substr(d.off[i]));
  }
  return out;
}

std::vector<std::string> rsplit(std::string_view s, std::optional<std::string_view> sep,
                                int64_t maxsplit) {
  std::vector<std::string> out;
  if (maxsplit < 0) maxsplit = INT64_MAX;
  if (sep) {
    if (sep->empty()) fail("rsplit(): empty separator");
    size_t end = s.size();
    while (maxsplit-- > 0 && end >= sep->size()) {
      const size_t hit = s.substr(0, end).rfind(*sep);
      if (hit == std::string_view::npos) break;
      out.emplace_back(s.substr(hit + sep->size(), end - hit - sep->size()));
      end = hit;
    }
    out.emplace_back(s.substr(0, end));
    std::reverse(out.begin(), out.end());
    return out;
  }
  Decoded d = decode(s);
  int64_t i = static_cast<int64_t>(d.cps.size()) - 1;
  while (maxsplit-- > 0) {
    while (i >= 0 && is_space(d.cps[i])) --i;
    if (i < 0) break;
    const int64_t j = i--;
    while (i >= 0 && !is_space(d.cps[i])) --i;
    out.emplace_back(s.substr(d.off[i + 1], d.off[j + 1] - d.off[i + 1]));
  }
  if (i >= 0) {
    while (i >= 0 && is_space(d.cps[i])) --i;
    if (i >= 0) out.emplace_back(s.substr(0, d.off[i + 1]));
  }
  std::reverse(out.begin(), out.end());
  return out;
}

std::vector<std::string> splitlines(std::string_view s, bool keepends) {
  std::vector<std::string> out;
  Decoded d = decode(s);
  const size_t n = d.cps.size();
  size_t start = 0;
  for (size_t i = 0; i < n; ++i) {
    const char32_t c = d.cps[i];
    const bool brk = c == '\n' || c == '\r' || c == 0x0B || c == 0x0C || c == 0x1C || c == 0x1D ||
                     c == 0x1E || c == 0x85 || c == 0x2028 || c == 0x2029;
    if (!brk) continue;
    size_t eol = i + 1;
    if (c == '\r' && i + 1 < n && d.cps[i + 1] == '\n') eol = i + 2;
    const size_t end = keepends ? eol : i;
    out.emplace_back(s.substr(d.off[start], d.off[end] - d.off[start]));
    start = eol;
    i = eol - 1;
  }
  if (start < n) out.emplace_back(s.substr(d.off[start]));
  return out;
}

std::string replace(std::string_view s, std::string_view old, std::string_view repl, int64_t count,
                    size_t max_bytes) {
  if (count < 0) count = INT64_MAX;
  std::string out;
  auto put = [&](std::string_view piece) {
    if (out.size() + piece.size() > max_bytes)
      fail_limit("replace(): result exceeds max_output_bytes");
    out.append(piece);
  };
  if (old.empty()) {
    // Python inserts the replacement before every code point and at the end.
    std::vector<size_t> off = codepoint_offsets(s);
    for (size_t k = 0; k + 1 < off.size(); ++k) {
      if (count > 0) {
        put(repl);
        --count;
      }
      put(s.substr(off[k], off[k + 1] - off[k]));
    }
    if (count > 0) put(repl);
    return out;
  }
  size_t pos = 0;
  while (count > 0) {
    const size_t hit = s.find(old, pos);
    if (hit == std::string_view::npos) break;
    put(s.substr(pos, hit - pos));
    put(repl);
    pos = hit + old.size();
    --count;
  }
  put(s.substr(pos));
  return out;
}

int64_t find(std::string_view s, std::string_view sub, bool reverse) {
  const size_t hit = reverse ? s.rfind(sub) : s.find(sub);
  if (hit == std::string_view::npos) return -1;
  return static_cast<int64_t>(codepoint_count(s.substr(0, hit)));
}

int64_t count(std::string_view s, std::string_view sub) {
  if (sub.empty()) return static_cast<int64_t>(codepoint_count(s)) + 1;
  int64_t n = 0;
  for (size_t pos = s.find(sub); pos != std::string_view::npos; pos = s.find(sub, pos + sub.size()))
    ++n;
  return n;
}

bool all_of(std::string_view s, bool (*pred)(char32_t)) {
  if (s.empty()) return false;
  char32_t cp;
  for (size_t i = 0; i < s.size();) {
    i = utf8_next(s, i, &cp);
    if (!pred(cp)) return false;
  }
  return true;
}

bool is_alpha(char32_t c) {
  return u_isalpha(static_cast<UChar32>(c));
}
bool is_digit(char32_t c) {
  return u_isdigit(static_cast<UChar32>(c));
}
bool is_alnum(char32_t c) {
  return is_alpha(c) || is_digit(c);
}
bool is_upper_cp(char32_t c) {
  return u_isupper(static_cast<UChar32>(c));
}
bool is_lower_cp(char32_t c) {
  return u_islower(static_cast<UChar32>(c));
}

bool is_cased(std::string_view s, bool want_upper) {
  bool any = false;
  char32_t cp;
  for (size_t i = 0; i < s.size();) {
    i = utf8_next(s, i, &cp);
    const UChar32 c = static_cast<UChar32>(cp);
    if (want_upper ? (u_islower(c) || u_istitle(c)) : (u_isupper(c) || u_istitle(c))) return false;
    if (want_upper ? u_isupper(c) : u_islower(c)) any = true;
  }
  return any;
}

std::string float_repr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
  // Shortest round-trip digits in scientific form, then laid out the way
  // Python's repr does: positional for 1e-4 <= |d| < 1e16, else exponent.
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  const size_t e = sci.find('e');
  std::string mant = sci.substr(0, e);
  const int exp = std::atoi(sci.c_str() + e + 1);
  std::string out;
  if (mant[0] == '-') {
    out += '-';
    mant.erase(0, 1);
  }
  std::string digits;
  for (char c : mant)
    if (c != '.') digits += c;
  if (exp >= -4 && exp < 16) {
    if (exp >= 0) {
      if (digits.size() <= static_cast<size_t>(exp) + 1) {
        out += digits + std::string(static_cast<size_t>(exp) + 1 - digits.size(), '0') + ".0";
      } else {
        out += digits.substr(0, exp + 1) + "." + digits.substr(exp + 1);
      }
    } else {
      out += "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
    }
    return out;
  }
  out += digits.substr(0, 1);
  if (digits.size() > 1) out += "." + digits.substr(1);
  char ebuf[16];
  std::snprintf(ebuf, sizeof ebuf, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
  out += ebuf;
  return out;
}

void append_repr(std::string& out, std::string_view s) {
  const bool has_single = s.find('\'') != std::string_view::npos;
  const bool has_double = s.find('"') != std::string_view::npos;
  const char q = has_single && !has_double ? '"' : '\'';
  out += q;
  char32_t cp;
  for (size_t i = 0; i < s.size();) {
    const size_t start = i;
    i = utf8_next(s, i, &cp);
    if (cp == static_cast<char32_t>(q) || cp == '\\') {
      out += '\\';
      out += static_cast<char>(cp);
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (is_printable(cp)) {
      out.append(s.substr(start, i - start));
    } else {
      char buf[16];
      if (cp < 0x100) {
        std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(cp));
      } else if (cp < 0x10000) {
        std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
      } else {
        std::snprintf(buf, sizeof buf, "\\U%08x", static_cast<unsigned>(cp));
      }
      out += buf;
    }
  }
  out += q;
}

SliceRange slice_indices(int64_t len, std::optional<int64_t> start_opt,
                         std::optional<int64_t> stop_opt, std::optional<int64_t> step_opt) {
  int64_t step = step_opt.value_or(1);
  if (step == 0) fail("slice step cannot be zero");
  if (step < -INT64_MAX) step = -INT64_MAX;  // so that -step cannot overflow
  auto adjust = [&](std::optional<int64_t> v, bool is_start) -> int64_t {
    if (!v) {
      if (step < 0) return is_start ? len - 1 : -1;
      return is_start ? 0 : len;
    }
    int64_t x = *v;
    if (x < 0) {
      x += len;
      if (x < 0) x = step < 0 ? -1 : 0;
    } else if (x >= len) {
      x = step < 0 ? len - 1 : len;
    }
    return x;
  };
  const int64_t start = adjust(start_opt, true);
  const int64_t stop = adjust(stop_opt, false);
  int64_t count = 0;
  if (step < 0) {
    if (stop < start) count = (start - stop - 1) / (-step) + 1;
  } else if (start < stop) {
    count = (stop - start - 1) / step + 1;
  }
  return {start, step, count};
}

}  // namespace sf::jinja::py
