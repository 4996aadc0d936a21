// GGUF metadata values: constructors, typed access and display.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdarg>
#include <cstdio>

#include "formats/gguf.h"
#include "formats/gguf_internal.h"

namespace sf::gguf {
namespace detail {

size_t scalar_size(ValueType t) {
  switch (t) {
    case ValueType::UINT8:
    case ValueType::INT8:
    case ValueType::BOOL:
      return 1;
    case ValueType::UINT16:
    case ValueType::INT16:
      return 2;
    case ValueType::UINT32:
    case ValueType::INT32:
    case ValueType::FLOAT32:
      return 4;
    case ValueType::UINT64:
    case ValueType::INT64:
    case ValueType::FLOAT64:
      return 8;
    case ValueType::STRING:
    case ValueType::ARRAY:
      return 0;
  }
  return 0;
}

namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is not one.
size_t utf8_len(std::string_view s, size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  size_t n = (c >= 0xC2 && c <= 0xDF)   ? 2
             : (c >= 0xE0 && c <= 0xEF) ? 3
             : (c >= 0xF0 && c <= 0xF4) ? 4
                                        : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  // U+0080..U+009F are C1 control codes (some terminals act on U+009B CSI): escape them.
  if (c == 0xC2 && static_cast<unsigned char>(s[i + 1]) < 0xA0) return 0;
  return n;
}

}  // namespace

std::string escape(std::string_view s, size_t max_bytes) {
  std::string out;
  out.reserve(std::min(s.size(), max_bytes) + 8);
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : utf8_len(s, i);
    if (i + (n == 0 ? 1 : n) > max_bytes) break;  // never split a character
    if (n > 1) {
      out.append(s.substr(i, n));
      i += n;
      continue;
    }
    switch (c) {
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      default:
        if (c < 0x20 || c >= 0x7F) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02X", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  if (i < s.size()) out += "...";
  return out;
}

std::string quoted(std::string_view s, size_t max_bytes) {
  std::string out(1, '\'');
  out += escape(s, max_bytes);
  out += '\'';
  return out;
}

std::string dims_text(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

std::string strf(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  va_list ap2;
  va_copy(ap2, ap);
  int n = std::vsnprintf(nullptr, 0, fmt, ap);
  va_end(ap);
  std::string s(n > 0 ? static_cast<size_t>(n) : 0, '\0');
  if (n > 0) std::vsnprintf(s.data(), s.size() + 1, fmt, ap2);
  va_end(ap2);
  return s;
}

}  // namespace detail

const char* value_type_name(ValueType t) {
  switch (t) {
    case ValueType::UINT8:
      return "UINT8";
    case ValueType::INT8:
      return "INT8";
    case ValueType::UINT16:
      return "UINT16";
    case ValueType::INT16:
      return "INT16";
    case ValueType::UINT32:
      return "UINT32";
    case ValueType::INT32:
      return "INT32";
    case ValueType::FLOAT32:
      return "FLOAT32";
    case ValueType::BOOL:
      return "BOOL";
    case ValueType::STRING:
      return "STRING";
    case ValueType::ARRAY:
      return "ARRAY";
    case ValueType::UINT64:
      return "UINT64";
    case ValueType::INT64:
      return "INT64";
    case ValueType::FLOAT64:
      return "FLOAT64";
  }
  return "UNKNOWN";
}

// Unsigned integers and bools live in the uint64_t alternative, signed ones in
// int64_t, both floats in double (a FLOAT32 is exactly representable).
Value Value::u8(uint8_t x) {
  return {ValueType::UINT8, uint64_t{x}};
}
Value Value::i8(int8_t x) {
  return {ValueType::INT8, int64_t{x}};
}
Value Value::u16(uint16_t x) {
  return {ValueType::UINT16, uint64_t{x}};
}
Value Value::i16(int16_t x) {
  return {ValueType::INT16, int64_t{x}};
}
Value Value::u32(uint32_t x) {
  return {ValueType::UINT32, uint64_t{x}};
}
Value Value::i32(int32_t x) {
  return {ValueType::INT32, int64_t{x}};
}
Value Value::u64(uint64_t x) {
  return {ValueType::UINT64, x};
}
Value Value::i64(int64_t x) {
  return {ValueType::INT64, x};
}
Value Value::f32(float x) {
  return {ValueType::FLOAT32, double{x}};
}
Value Value::f64(double x) {
  return {ValueType::FLOAT64, x};
}
Value Value::boolean(bool x) {
  return {ValueType::BOOL, uint64_t{x}};
}
Value Value::str(std::string s) {
  return {ValueType::STRING, std::move(s)};
}

Value Value::array(ValueType elem, std::vector<Value> items) {
  for (const Value& it : items)
    SF_CHECK(it.type == elem, "Value::array: every item must have the array's element type");
  return {ValueType::ARRAY, Array{elem, std::move(items)}};
}

Value Value::str_array(const std::vector<std::string>& items) {
  std::vector<Value> v;
  v.reserve(items.size());
  for (const auto& s : items) v.push_back(str(s));
  return {ValueType::ARRAY, Array{ValueType::STRING, std::move(v)}};
}

Value Value::f32_array(const std::vector<float>& items) {
  std::vector<Value> v;
  v.reserve(items.size());
  for (float x : items) v.push_back(f32(x));
  return {ValueType::ARRAY, Array{ValueType::FLOAT32, std::move(v)}};
}

Value Value::i32_array(const std::vector<int32_t>& items) {
  std::vector<Value> v;
  v.reserve(items.size());
  for (int32_t x : items) v.push_back(i32(x));
  return {ValueType::ARRAY, Array{ValueType::INT32, std::move(v)}};
}

std::optional<int64_t> Value::as_int() const {
  if (const auto* u = std::get_if<uint64_t>(&v)) {
    if (*u > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
    return static_cast<int64_t>(*u);
  }
  if (const auto* i = std::get_if<int64_t>(&v)) return *i;
  if (const auto* d = std::get_if<double>(&v)) {
    // Only whole numbers convert: silently truncating 0.5 would hide a wrong key.
    // 2^63 as a double is out of range; -2^63 is not.
    if (!std::isfinite(*d) || std::trunc(*d) != *d || *d >= 9223372036854775808.0 ||
        *d < -9223372036854775808.0)
      return std::nullopt;
    return static_cast<int64_t>(*d);
  }
  return std::nullopt;
}

std::optional<double> Value::as_float() const {
  if (const auto* u = std::get_if<uint64_t>(&v)) return static_cast<double>(*u);
  if (const auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  return std::nullopt;
}

std::optional<bool> Value::as_bool() const {
  // Bools and integers (some converters write flags as u8/i32); not floats.
  if (const auto* u = std::get_if<uint64_t>(&v)) return *u != 0;
  if (const auto* i = std::get_if<int64_t>(&v)) return *i != 0;
  return std::nullopt;
}

const std::string* Value::as_string() const {
  return std::get_if<std::string>(&v);
}
const Array* Value::as_array() const {
  return std::get_if<Array>(&v);
}

namespace {

constexpr size_t kDisplayStringBytes = 120;

template <class T>
std::string shortest(T x) {  // the shortest text that reads back as the same value
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, x);
  return std::string(buf, r.ptr);
}

void display(const Value& val, size_t max_items, std::string& out) {
  if (val.type == ValueType::BOOL) {
    out += val.as_bool().value_or(false) ? "true" : "false";
  } else if (const auto* u = std::get_if<uint64_t>(&val.v)) {
    out += std::to_string(*u);
  } else if (const auto* i = std::get_if<int64_t>(&val.v)) {
    out += std::to_string(*i);
  } else if (const auto* d = std::get_if<double>(&val.v)) {
    out += val.type == ValueType::FLOAT32 ? shortest(static_cast<float>(*d)) : shortest(*d);
  } else if (const auto* s = std::get_if<std::string>(&val.v)) {
    out += '"';
    out += detail::escape(*s, kDisplayStringBytes);
    out += '"';
    if (s->size() > kDisplayStringBytes) out += " (" + std::to_string(s->size()) + " bytes)";
  } else if (const auto* a = std::get_if<Array>(&val.v)) {
    out += '[';
    size_t n = std::min(a->items.size(), max_items);
    for (size_t k = 0; k < n; ++k) {
      if (k > 0) out += ", ";
      display(a->items[k], max_items, out);
    }
    if (n < a->items.size()) {
      if (n > 0) out += ", ";
      out += "... (" + std::to_string(a->items.size()) + " items)";
    }
    out += ']';
  }
}

}  // namespace

std::string Value::to_display(size_t max_items) const {
  std::string out;
  display(*this, max_items, out);
  return out;
}

}  // namespace sf::gguf
