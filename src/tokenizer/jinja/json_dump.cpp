#include "tokenizer/jinja/json_dump.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "tokenizer/jinja/error.h"
#include "tokenizer/jinja/pystr.h"

namespace sf::jinja {

namespace {

constexpr int kMaxNesting = 256;

void put_string(std::string& out, std::string_view s, bool ensure_ascii) {
  out += '"';
  char buf[16];
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      if (!ensure_ascii) {
        out += static_cast<char>(c);
        ++i;
        continue;
      }
      char32_t cp;
      i = py::utf8_next(s, i, &cp);
      if (cp >= 0x10000) {
        const char32_t v = cp - 0x10000;
        std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x", static_cast<unsigned>(0xD800 + (v >> 10)),
                      static_cast<unsigned>(0xDC00 + (v & 0x3FF)));
      } else {
        std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
      }
      out += buf;
      continue;
    }
    ++i;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20 || (ensure_ascii && c == 0x7f)) {
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

std::string float_json(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d < 0 ? "-Infinity" : "Infinity";
  return py::float_repr(d);
}

// A dict key as json.dumps converts it.
std::string key_string(const Value& k) {
  switch (k.kind()) {
    case Value::Kind::String:
      return k.as_string();
    case Value::Kind::Bool:
      return k.as_bool() ? "true" : "false";
    case Value::Kind::Int:
      return std::to_string(k.as_int());
    case Value::Kind::Float:
      return float_json(k.as_float());
    case Value::Kind::None:
      return "null";
    default:
      fail("keys must be str, int, float, bool or None, not " + type_name(k));
  }
}

class Dumper {
 public:
  Dumper(std::string& out, const JsonOptions& opt, size_t max_bytes)
      : out_(out), opt_(opt), max_(max_bytes) {}

  void dump(const Value& v, int level) {
    if (level > kMaxNesting) fail_limit("tojson: value nested too deeply (or contains itself)");
    switch (v.kind()) {
      case Value::Kind::None:
        out_ += "null";
        break;
      case Value::Kind::Bool:
        out_ += v.as_bool() ? "true" : "false";
        break;
      case Value::Kind::Int:
        out_ += std::to_string(v.as_int());
        break;
      case Value::Kind::Float:
        out_ += float_json(v.as_float());
        break;
      case Value::Kind::String:
        put_string(out_, v.as_string(), opt_.ensure_ascii);
        break;
      case Value::Kind::List: {
        const auto& items = v.as_list().items;
        if (items.empty()) {
          out_ += "[]";
          break;
        }
        out_ += '[';
        for (size_t i = 0; i < items.size(); ++i) {
          separator(i, level + 1);
          dump(items[i], level + 1);
        }
        close(level, ']');
        break;
      }
      case Value::Kind::Dict: {
        const auto& entries = v.as_dict().entries;
        if (entries.empty()) {
          out_ += "{}";
          break;
        }
        std::vector<size_t> order(entries.size());
        for (size_t i = 0; i < order.size(); ++i) order[i] = i;
        if (opt_.sort_keys) {
          std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
            return less(entries[a].first, entries[b].first);
          });
        }
        out_ += '{';
        for (size_t i = 0; i < order.size(); ++i) {
          const auto& [k, x] = entries[order[i]];
          separator(i, level + 1);
          put_string(out_, key_string(k), opt_.ensure_ascii);
          out_ += opt_.key_sep;
          dump(x, level + 1);
        }
        close(level, '}');
        break;
      }
      case Value::Kind::Undefined:
        fail("Object of type Undefined is not JSON serializable");
      default:
        fail("Object of type " + type_name(v) + " is not JSON serializable");
    }
    if (out_.size() > max_)
      fail_limit("tojson output exceeds max_output_bytes (" + std::to_string(max_) + ")");
  }

 private:
  void newline_indent(int level) {
    out_ += '\n';
    for (int i = 0; i < level; ++i) {
      out_ += *opt_.indent;
      if (out_.size() > max_)
        fail_limit("tojson output exceeds max_output_bytes (" + std::to_string(max_) + ")");
    }
  }
  void separator(size_t i, int level) {
    if (i) out_ += opt_.item_sep;
    if (opt_.indent) newline_indent(level);
  }
  void close(int level, char c) {
    if (opt_.indent) newline_indent(level);
    out_ += c;
  }

  std::string& out_;
  const JsonOptions& opt_;
  size_t max_;
};

}  // namespace

void dump_json(std::string& out, const Value& v, const JsonOptions& opt, size_t max_bytes) {
  Dumper(out, opt, max_bytes).dump(v, 0);
}

}  // namespace sf::jinja
