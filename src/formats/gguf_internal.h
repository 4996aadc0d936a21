// Pieces shared by the GGUF reader, writer and value helpers (private to formats/).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "formats/gguf.h"

namespace sf::gguf::detail {

// GGUF is little-endian and we copy scalars straight out of the mapping.
static_assert(std::endian::native == std::endian::little, "GGUF I/O assumes a little-endian host");

inline constexpr char kMagic[4] = {'G', 'G', 'U', 'F'};
inline constexpr uint32_t kWriteVersion = 3;
inline constexpr size_t kDefaultAlignment = 32;
inline constexpr int kMaxDims = 4;  // GGML_MAX_DIMS
inline constexpr std::string_view kAlignmentKey = "general.alignment";

// Whether `raw` names a value type this code can read (0..12).
inline bool is_value_type(uint32_t raw) {
  return raw <= static_cast<uint32_t>(ValueType::FLOAT64);
}

// Encoded bytes of one scalar of type t; 0 for STRING and ARRAY.
size_t scalar_size(ValueType t);

inline bool is_signed_int(ValueType t) {
  return t == ValueType::INT8 || t == ValueType::INT16 || t == ValueType::INT32 ||
         t == ValueType::INT64;
}
inline bool is_float(ValueType t) {
  return t == ValueType::FLOAT32 || t == ValueType::FLOAT64;
}

// `s` made safe and short for a message or a terminal: control and non-ASCII
// bytes outside valid UTF-8 become \xNN escapes, quotes and backslashes are
// escaped, and more than max_bytes of input are cut (at a character boundary)
// with a note of the full length. Untrusted names go through this before they
// reach an error message, so a hostile file cannot inject terminal escapes.
std::string escape(std::string_view s, size_t max_bytes);
std::string quoted(std::string_view s, size_t max_bytes = 80);  // escape() in single quotes

// "[64, 512]"
std::string dims_text(const std::vector<int64_t>& dims);

// printf into a std::string.
[[gnu::format(printf, 1, 2)]] std::string strf(const char* fmt, ...);

}  // namespace sf::gguf::detail
