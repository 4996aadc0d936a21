#include "tokenizer/jinja/format.h"

#include <cstdio>
#include <cstdlib>

#include "tokenizer/jinja/error.h"
#include "tokenizer/jinja/evaluator.h"
#include "tokenizer/jinja/pystr.h"

namespace sf::jinja {

namespace {

// Widths and precisions are bounded so a template cannot ask for a
// gigabyte of padding.
int64_t bounded(Renderer& r, int64_t n) {
  if (n > static_cast<int64_t>(r.max_bytes()) || n > 1'000'000'000)
    fail_limit("format width or precision too large");
  return n;
}

int64_t read_int(const std::string& s, size_t& i) {
  int64_t v = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    if (v > 1'000'000'000) fail_limit("format width or precision too large");
    v = v * 10 + (s[i++] - '0');
  }
  return v;
}

std::string pad(Renderer& r, std::string s, int64_t width, char align, const std::string& fill) {
  const int64_t len = static_cast<int64_t>(py::codepoint_count(s));
  if (width <= len) return s;
  const size_t n = static_cast<size_t>(width - len);
  r.charge_bytes(s.size() + n * fill.size());
  std::string left, right;
  auto rep = [&](size_t k) {
    std::string out;
    for (size_t i = 0; i < k; ++i) out += fill;
    return out;
  };
  if (align == '<') {
    right = rep(n);
  } else if (align == '^') {
    left = rep(n / 2);
    right = rep(n - n / 2);
  } else if (align == '=' && !s.empty() && (s[0] == '-' || s[0] == '+' || s[0] == ' ')) {
    return s.substr(0, 1) + rep(n) + s.substr(1);
  } else {
    left = rep(n);
  }
  return left + s + right;
}

// snprintf for one numeric conversion; conv is a complete C format like "%+08.3f".
std::string c_format(const std::string& conv, double d) {
  const int n = std::snprintf(nullptr, 0, conv.c_str(), d);
  std::string out(static_cast<size_t>(n > 0 ? n : 0), '\0');
  std::snprintf(out.data(), out.size() + 1, conv.c_str(), d);
  return out;
}
std::string c_format_int(const std::string& conv, long long v) {
  const int n = std::snprintf(nullptr, 0, conv.c_str(), v);
  std::string out(static_cast<size_t>(n > 0 ? n : 0), '\0');
  std::snprintf(out.data(), out.size() + 1, conv.c_str(), v);
  return out;
}

int64_t to_int_arg(const Value& v, char type) {
  if (v.is_integral()) return v.as_int();
  if (v.is_float()) {
    const double d = v.as_float();
    if (!(d > -9.2e18 && d < 9.2e18))
      fail("cannot convert float to integer for %" + std::string(1, type));
    return static_cast<int64_t>(d);
  }
  fail(std::string("%") + type + " format: a real number is required, not " + type_name(v));
}

double to_float_arg(const Value& v, char type) {
  if (v.is_number()) return v.as_float();
  fail(std::string("%") + type + " format: a real number is required, not " + type_name(v));
}

}  // namespace

std::string percent_format(Renderer& r, const std::string& fmt, const Value& args) {
  std::vector<Value> pos;
  const DictObj* mapping = nullptr;
  // Python treats any non-tuple with __getitem__ (dict, list) as a mapping
  // argument: unused, it is not an error.
  bool mapping_like = false;
  if (args.is_list() && args.as_list().tuple) {
    pos = args.as_list().items;
  } else {
    if (args.is_dict()) mapping = &args.as_dict();
    mapping_like = args.is_dict() || args.is_list();
    pos.push_back(args);
  }
  size_t next = 0;
  std::string out;
  for (size_t i = 0; i < fmt.size();) {
    const size_t pct = fmt.find('%', i);
    if (pct == std::string::npos) {
      out.append(fmt, i, std::string::npos);
      break;
    }
    out.append(fmt, i, pct - i);
    i = pct + 1;
    if (i >= fmt.size()) fail("incomplete format");
    Value arg;
    bool have_arg = false;
    if (fmt[i] == '(') {
      const size_t close = fmt.find(')', i);
      if (close == std::string::npos) fail("incomplete format key");
      if (!mapping) fail("format requires a mapping");
      const Value* v = mapping->find(std::string_view(fmt).substr(i + 1, close - i - 1));
      if (!v) fail("format key '" + fmt.substr(i + 1, close - i - 1) + "' not found");
      arg = *v;
      have_arg = true;
      i = close + 1;
    }
    std::string flags;
    while (i < fmt.size() && std::string_view("-+ #0").find(fmt[i]) != std::string_view::npos)
      flags += fmt[i++];
    if (i < fmt.size() && fmt[i] == '*') fail("'*' width in format strings is not supported");
    const int64_t width = bounded(r, read_int(fmt, i));
    int64_t prec = -1;
    if (i < fmt.size() && fmt[i] == '.') {
      ++i;
      prec = bounded(r, read_int(fmt, i));
    }
    while (i < fmt.size() && (fmt[i] == 'l' || fmt[i] == 'h' || fmt[i] == 'L')) ++i;
    if (i >= fmt.size()) fail("incomplete format");
    const char type = fmt[i++];
    if (type == '%') {
      out += '%';
      continue;
    }
    if (!have_arg) {
      if (next >= pos.size()) fail("not enough arguments for format string");
      arg = pos[next++];
    }
    std::string conv = "%" + flags + (width ? std::to_string(width) : "") +
                       (prec >= 0 ? "." + std::to_string(prec) : "");
    std::string piece;
    switch (type) {
      case 's':
      case 'r':
      case 'a': {
        std::string s;
        if (type == 's') {
          s = r.str(arg);
        } else {
          append_repr(s, arg, r.max_bytes());
        }
        if (prec >= 0) {
          const std::vector<size_t> off = py::codepoint_offsets(s);
          if (static_cast<size_t>(prec) + 1 < off.size()) s.resize(off[static_cast<size_t>(prec)]);
        }
        piece = pad(r, s, width, flags.find('-') != std::string::npos ? '<' : '>', " ");
        break;
      }
      case 'd':
      case 'i':
      case 'u':
        piece = c_format_int(conv + "lld", static_cast<long long>(to_int_arg(arg, type)));
        break;
      case 'x':
      case 'X':
      case 'o': {
        const int64_t v = to_int_arg(arg, type);
        std::string digits =
            c_format_int(conv + "ll" + type, static_cast<long long>(v < 0 ? -v : v));
        piece = v < 0 ? "-" + digits : digits;
        break;
      }
      case 'c': {
        std::string s;
        if (arg.is_string() && py::codepoint_count(arg.as_string()) == 1) {
          s = arg.as_string();
        } else if (arg.is_integral() && arg.as_int() >= 0 && arg.as_int() <= 0x10FFFF) {
          py::utf8_append(s, static_cast<char32_t>(arg.as_int()));
        } else {
          fail("%c requires an int or a single character");
        }
        piece = pad(r, s, width, flags.find('-') != std::string::npos ? '<' : '>', " ");
        break;
      }
      case 'f':
      case 'F':
      case 'e':
      case 'E':
      case 'g':
      case 'G':
        piece = c_format(conv + type, to_float_arg(arg, type));
        break;
      default:
        fail(std::string("unsupported format character '") + type + "'");
    }
    r.charge_bytes(out.size() + piece.size());
    out += piece;
  }
  if (!mapping_like && next < pos.size())
    fail("not all arguments converted during string formatting");
  return out;
}

std::string brace_format(Renderer& r, const std::string& fmt, const CallArgs& args) {
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < fmt.size();) {
    const char c = fmt[i];
    if (c == '}') {
      if (i + 1 < fmt.size() && fmt[i + 1] == '}') {
        out += '}';
        i += 2;
        continue;
      }
      fail("single '}' encountered in format string");
    }
    if (c != '{') {
      out += c;
      ++i;
      continue;
    }
    if (i + 1 < fmt.size() && fmt[i + 1] == '{') {
      out += '{';
      i += 2;
      continue;
    }
    const size_t close = fmt.find('}', i);
    if (close == std::string::npos) fail("single '{' encountered in format string");
    std::string field = fmt.substr(i + 1, close - i - 1);
    i = close + 1;
    std::string spec, conv;
    if (size_t colon = field.find(':'); colon != std::string::npos) {
      spec = field.substr(colon + 1);
      field.resize(colon);
    }
    if (size_t bang = field.find('!'); bang != std::string::npos) {
      conv = field.substr(bang + 1);
      field.resize(bang);
    }
    // Field name: index or keyword, then .attr / [key] parts.
    size_t k = 0;
    while (k < field.size() && field[k] != '.' && field[k] != '[') ++k;
    const std::string head = field.substr(0, k);
    Value v;
    if (head.empty() || (head.find_first_not_of("0123456789") == std::string::npos)) {
      const size_t idx = head.empty() ? auto_index++ : std::strtoull(head.c_str(), nullptr, 10);
      if (idx >= args.pos.size())
        fail("replacement index " + std::to_string(idx) + " out of range for format()");
      v = args.pos[idx];
    } else {
      bool found = false;
      for (const auto& [name, val] : args.kw)
        if (name == head) {
          v = val;
          found = true;
        }
      if (!found) fail("format(): missing keyword argument '" + head + "'");
    }
    while (k < field.size()) {
      if (field[k] == '.') {
        size_t e = k + 1;
        while (e < field.size() && field[e] != '.' && field[e] != '[') ++e;
        v = r.getattr(v, field.substr(k + 1, e - k - 1));
        k = e;
      } else {
        const size_t e = field.find(']', k);
        if (e == std::string::npos) fail("missing ']' in format string");
        const std::string key = field.substr(k + 1, e - k - 1);
        v = r.getitem(v, key.find_first_not_of("0123456789") == std::string::npos && !key.empty()
                             ? Value::integer(std::strtoll(key.c_str(), nullptr, 10))
                             : Value::string(key));
        k = e + 1;
      }
    }
    std::string s;
    if (conv == "r" || conv == "a") {
      append_repr(s, v, r.max_bytes());
      v = Value::string(s);
    } else if (conv == "s") {
      v = Value::string(r.str(v));
    } else if (!conv.empty()) {
      fail("unknown conversion specifier " + conv);
    }
    // Format spec: [[fill]align][sign][#][0][width][,][.precision][type]
    std::string fill = " ";
    char align = 0, sign = '-';
    size_t p = 0;
    {
      size_t after_first = p;
      char32_t cp = 0;
      if (!spec.empty()) after_first = py::utf8_next(spec, 0, &cp);
      if (after_first < spec.size() &&
          std::string_view("<>^=").find(spec[after_first]) != std::string_view::npos) {
        fill = spec.substr(0, after_first);
        align = spec[after_first];
        p = after_first + 1;
      } else if (!spec.empty() &&
                 std::string_view("<>^=").find(spec[0]) != std::string_view::npos) {
        align = spec[0];
        p = 1;
      }
    }
    if (p < spec.size() && (spec[p] == '+' || spec[p] == '-' || spec[p] == ' ')) sign = spec[p++];
    bool alt = false;
    if (p < spec.size() && spec[p] == '#') {
      alt = true;
      ++p;
    }
    if (p < spec.size() && spec[p] == '0') {
      if (!align) {
        fill = "0";
        align = '=';
      }
      ++p;
    }
    const int64_t width = bounded(r, read_int(spec, p));
    if (p < spec.size() && spec[p] == ',') fail("',' in format specs is not supported");
    int64_t prec = -1;
    if (p < spec.size() && spec[p] == '.') {
      ++p;
      prec = bounded(r, read_int(spec, p));
    }
    char type = p < spec.size() ? spec[p++] : 0;
    if (p != spec.size()) fail("invalid format specifier '" + spec + "'");
    std::string piece;
    const std::string sign_flag = sign == '+' ? "+" : sign == ' ' ? " " : "";
    if (v.is_string() || (!type && !v.is_number())) {
      if (type && type != 's') fail(std::string("unknown format code '") + type + "' for a string");
      piece = v.is_string() ? v.as_string() : r.str(v);
      if (prec >= 0) {
        const std::vector<size_t> off = py::codepoint_offsets(piece);
        if (static_cast<size_t>(prec) + 1 < off.size())
          piece.resize(off[static_cast<size_t>(prec)]);
      }
      if (!align) align = '<';
    } else if (v.is_number()) {
      if (!type) {
        piece =
            v.is_float()
                ? (prec >= 0
                       ? c_format("%" + sign_flag + "." + std::to_string(prec) + "g", v.as_float())
                       : (sign_flag.empty() || v.as_float() < 0 ? "" : sign_flag) + r.str(v))
                : (sign_flag.empty() || v.as_int() < 0 ? "" : sign_flag) +
                      std::to_string(v.as_int());
      } else if (type == 'd') {
        if (!v.is_integral()) fail("unknown format code 'd' for a float");
        piece = c_format_int("%" + sign_flag + "lld", static_cast<long long>(v.as_int()));
      } else if (type == 'x' || type == 'X' || type == 'o' || type == 'b') {
        if (!v.is_integral()) fail(std::string("unknown format code '") + type + "' for a float");
        const int64_t x = v.as_int();
        uint64_t u = x < 0 ? 0 - static_cast<uint64_t>(x) : static_cast<uint64_t>(x);
        std::string digits;
        if (type == 'b') {
          do {
            digits.insert(digits.begin(), static_cast<char>('0' + (u & 1)));
            u >>= 1;
          } while (u);
        } else {
          digits = c_format_int(std::string("%ll") + type, static_cast<long long>(u));
        }
        if (alt) digits = std::string("0") + type + digits;
        piece = (x < 0 ? "-" : sign_flag) + digits;
      } else if (std::string_view("fFeEgG%").find(type) != std::string_view::npos) {
        double d = v.as_float();
        const int64_t pr = prec >= 0 ? prec : 6;
        if (type == '%') {
          piece = c_format("%" + sign_flag + "." + std::to_string(pr) + "f", d * 100) + "%";
        } else {
          piece = c_format("%" + sign_flag + (alt ? "#" : "") + "." + std::to_string(pr) + type, d);
        }
      } else {
        fail(std::string("unknown format code '") + type + "' for a number");
      }
      if (!align) align = '>';
    }
    piece = pad(r, std::move(piece), width, align, fill);
    r.charge_bytes(out.size() + piece.size());
    out += piece;
  }
  return out;
}

}  // namespace sf::jinja
