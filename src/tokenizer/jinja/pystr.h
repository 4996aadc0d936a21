// Python `str` semantics over UTF-8 byte strings.
//
// Templates are written against Python strings, so lengths, indices and slices
// count code points, strip() knows Unicode whitespace, upper() maps 'ß' to
// "SS", and floats print as Python's repr. Invalid UTF-8 bytes count as one
// code point each and are passed through unchanged where possible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sf::jinja::py {

// Decodes the code point starting at byte i; returns the index just past it.
// An invalid or truncated sequence yields U+FFFD and consumes one byte.
size_t utf8_next(std::string_view s, size_t i, char32_t* cp);
void utf8_append(std::string& out, char32_t cp);
bool is_ascii(std::string_view s);
size_t codepoint_count(std::string_view s);
// Byte offset of every code point, plus s.size() at the end (size = count + 1).
std::vector<size_t> codepoint_offsets(std::string_view s);

bool is_space(char32_t cp);      // Python str.isspace() for one code point
bool is_printable(char32_t cp);  // Python str.isprintable(): what repr() leaves unescaped

// strip/lstrip/rstrip; chars == nullopt strips whitespace.
std::string strip(std::string_view s, bool left, bool right,
                  std::optional<std::string_view> chars = std::nullopt);
std::string upper(std::string_view s);
std::string lower(std::string_view s);
std::string title(std::string_view s);       // str.title()
std::string capitalize(std::string_view s);  // str.capitalize()
std::string swapcase(std::string_view s);

// str.split / str.rsplit; sep == nullopt splits on whitespace runs.
// Throws (via fail) on an empty separator, like Python's ValueError.
std::vector<std::string> split(std::string_view s, std::optional<std::string_view> sep,
                               int64_t maxsplit);
std::vector<std::string> rsplit(std::string_view s, std::optional<std::string_view> sep,
                                int64_t maxsplit);
std::vector<std::string> splitlines(std::string_view s, bool keepends);
// str.replace; count < 0 replaces all. Fails if the result would exceed max_bytes.
std::string replace(std::string_view s, std::string_view old, std::string_view repl, int64_t count,
                    size_t max_bytes);
// str.find / str.count on code points (find returns a code-point index or -1).
int64_t find(std::string_view s, std::string_view sub, bool reverse);
int64_t count(std::string_view s, std::string_view sub);

// Predicates (str.isdigit etc.): false for the empty string.
bool all_of(std::string_view s, bool (*pred)(char32_t));
bool is_alpha(char32_t cp);
bool is_digit(char32_t cp);
bool is_alnum(char32_t cp);
bool is_upper_cp(char32_t cp);
bool is_lower_cp(char32_t cp);
bool is_cased(std::string_view s, bool want_upper);  // str.isupper()/islower()

// Python's repr(float) / str(float): shortest round-trip digits.
std::string float_repr(double d);
// Python repr(str): quotes and escapes.
void append_repr(std::string& out, std::string_view s);

// Python slice index arithmetic (PySlice_AdjustIndices). Fails on step == 0.
struct SliceRange {
  int64_t start, step, count;
};
SliceRange slice_indices(int64_t len, std::optional<int64_t> start, std::optional<int64_t> stop,
                         std::optional<int64_t> step);

}  // namespace sf::jinja::py
