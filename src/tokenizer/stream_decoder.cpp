#include "tokenizer/tokenizer.h"

namespace sf {

namespace {

constexpr char kReplacement[] = "\xEF\xBF\xBD";

// For a lead byte: total sequence length and the allowed range of the second
// byte (the rest are always 0x80..0xBF). len 0: not a valid lead byte.
struct LeadInfo {
  int len;
  uint8_t lo, hi;
};

LeadInfo lead_info(uint8_t c) {
  if (c >= 0xC2 && c <= 0xDF) return {2, 0x80, 0xBF};
  if (c == 0xE0) return {3, 0xA0, 0xBF};
  if (c == 0xED) return {3, 0x80, 0x9F};
  if (c >= 0xE1 && c <= 0xEF) return {3, 0x80, 0xBF};
  if (c == 0xF0) return {4, 0x90, 0xBF};
  if (c >= 0xF1 && c <= 0xF3) return {4, 0x80, 0xBF};
  if (c == 0xF4) return {4, 0x80, 0x8F};
  return {0, 0, 0};
}

}  // namespace

std::string take_complete_utf8(std::string& buf) {
  std::string out;
  out.reserve(buf.size());
  const auto* p = reinterpret_cast<const uint8_t*>(buf.data());
  const size_t n = buf.size();
  size_t i = 0;
  while (i < n) {
    const uint8_t c = p[i];
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    const LeadInfo li = lead_info(c);
    if (li.len == 0) {  // stray continuation or invalid lead byte
      out += kReplacement;
      ++i;
      continue;
    }
    // Check the continuation bytes that are present.
    int k = 1;
    bool bad = false;
    for (; k < li.len && i + k < n; ++k) {
      const uint8_t b = p[i + k];
      const uint8_t lo = k == 1 ? li.lo : 0x80, hi = k == 1 ? li.hi : 0xBF;
      if (b < lo || b > hi) {
        bad = true;
        break;
      }
    }
    if (bad) {  // maximal valid subpart -> one U+FFFD, resume at the offending byte
      out += kReplacement;
      i += k;
      continue;
    }
    if (k < li.len) break;  // incomplete at the end: hold back
    out.append(buf, i, li.len);
    i += li.len;
  }
  buf.erase(0, i);
  return out;
}

StreamDecoder::StreamDecoder(const Tokenizer& tok, bool print_special)
    : tok_(tok), print_special_(print_special) {}

std::string StreamDecoder::push(int32_t id) {
  const int32_t prev = prev_;
  prev_ = id;
  if (!print_special_ && tok_.is_control(id)) return std::string();
  std::string piece = tok_.token_to_piece(id);
  if (tok_.strips_prefix_space() && prev >= 0 && prev == tok_.bos_id() && !piece.empty() &&
      piece[0] == ' ') {
    piece.erase(0, 1);
  }
  pending_ += piece;
  return take_complete_utf8(pending_);
}

std::string StreamDecoder::flush() {
  std::string out = take_complete_utf8(pending_);
  if (!pending_.empty()) {
    out += kReplacement;
    pending_.clear();
  }
  return out;
}

void StreamDecoder::reset() {
  prev_ = -1;
  pending_.clear();
}

}  // namespace sf
