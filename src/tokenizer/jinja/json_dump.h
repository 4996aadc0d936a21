// Python's json.dumps, as HF's `tojson` filter calls it:
// json.dumps(x, ensure_ascii=False, indent=indent, separators=separators,
// sort_keys=sort_keys). Output is byte-compatible with CPython.
#pragma once

#include <optional>
#include <string>

#include "tokenizer/jinja/value.h"

namespace sf::jinja {

struct JsonOptions {
  bool ensure_ascii = false;
  std::optional<std::string> indent;  // nullopt: single line
  std::string item_sep = ", ";        // Python picks "," when indent is given
  std::string key_sep = ": ";
  bool sort_keys = false;
};

// Appends; fails on values JSON cannot hold (undefined, functions) and once
// out passes max_bytes.
void dump_json(std::string& out, const Value& v, const JsonOptions& opt, size_t max_bytes);

}  // namespace sf::jinja
