#include "tokenizer/jinja/filters.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <unordered_map>

#include "tokenizer/jinja/args.h"
#include "tokenizer/jinja/error.h"
#include "tokenizer/jinja/evaluator.h"
#include "tokenizer/jinja/format.h"
#include "tokenizer/jinja/json_dump.h"
#include "tokenizer/jinja/methods.h"
#include "tokenizer/jinja/operators.h"
#include "tokenizer/jinja/pystr.h"

namespace sf::jinja {

namespace {

// ---- helpers ----

std::string as_text(Renderer& r, const Value& v) {
  return v.is_string() ? v.as_string() : r.str(v);
}

Value lower_if_string(const Value& v) {
  return v.is_string() ? Value::string(py::lower(v.as_string())) : v;
}

// Jinja's make_attrgetter: item lookup along a dotted path; `default`
// replaces an undefined result when given.
Value attr_of(Renderer& r, const Value& item, const Value& attribute, const Value* def = nullptr) {
  if (attribute.is_undefined() || attribute.is_none()) return item;
  Value v = r.get_path(item, attribute);
  if (def && v.is_undefined()) return *def;
  return v;
}

Value sort_key(Renderer& r, const Value& item, const Value& attribute, bool case_sensitive) {
  Value k = attr_of(r, item, attribute);
  return case_sensitive ? k : lower_if_string(k);
}

// Python's len().
int64_t length_of(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::Undefined:
      return 0;
    case Value::Kind::String:
      return static_cast<int64_t>(py::codepoint_count(v.as_string()));
    case Value::Kind::List:
      return static_cast<int64_t>(v.as_list().items.size());
    case Value::Kind::Dict:
      return static_cast<int64_t>(v.as_dict().size());
    default:
      fail("object of type '" + type_name(v) + "' has no len()");
  }
}

// Python float(str): strips whitespace, accepts underscores between digits,
// inf/nan. Returns false when the text is not a number.
bool parse_float(std::string_view text, double* out) {
  std::string s = py::strip(text, true, true);
  std::string clean;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '_') {
      if (i == 0 || i + 1 == s.size() || !std::isdigit(static_cast<unsigned char>(s[i - 1])) ||
          !std::isdigit(static_cast<unsigned char>(s[i + 1])))
        return false;
      continue;
    }
    clean += s[i];
  }
  if (clean.empty()) return false;
  std::string l = py::lower(clean);
  const std::string_view body =
      l[0] == '+' || l[0] == '-' ? std::string_view(l).substr(1) : std::string_view(l);
  if (body == "inf" || body == "infinity" || body == "nan") {
    const double v = body == "nan" ? std::numeric_limits<double>::quiet_NaN()
                                   : std::numeric_limits<double>::infinity();
    *out = l[0] == '-' ? -v : v;
    return true;
  }
  if (body.find_first_not_of("0123456789.e+-") != std::string_view::npos ||
      body.find_first_of("0123456789") == std::string_view::npos)
    return false;
  char* end = nullptr;
  *out = std::strtod(clean.c_str(), &end);
  return end && *end == '\0';
}

// Python int(str, base) for base 10 / 0 / 2..36. Returns false on invalid text.
bool parse_int(std::string_view text, int64_t base, int64_t* out) {
  std::string s = py::strip(text, true, true);
  bool neg = false;
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  if (base == 0 || base == 16 || base == 8 || base == 2) {
    if (i + 1 < s.size() && s[i] == '0') {
      const char p = static_cast<char>(s[i + 1] | 0x20);
      const int64_t pb = p == 'x' ? 16 : p == 'o' ? 8 : p == 'b' ? 2 : 0;
      if (pb && (base == 0 || base == pb)) {
        base = pb;
        i += 2;
        if (i < s.size() && s[i] == '_') ++i;
      }
    }
    if (base == 0) base = 10;
  }
  if (base < 2 || base > 36) fail("int() base must be >= 2 and <= 36, or 0");
  if (i >= s.size()) return false;
  int64_t v = 0;
  bool prev_digit = false;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '_' && prev_digit && i + 1 < s.size()) {
      prev_digit = false;
      continue;
    }
    int d = c >= '0' && c <= '9'                     ? c - '0'
            : (c | 0x20) >= 'a' && (c | 0x20) <= 'z' ? (c | 0x20) - 'a' + 10
                                                     : 99;
    if (d >= base) return false;
    if (__builtin_mul_overflow(v, base, &v) || __builtin_add_overflow(v, d, &v))
      fail("int(): value too large for 64 bits");
    prev_digit = true;
  }
  if (!prev_digit) return false;
  *out = neg ? -v : v;
  return true;
}

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Python round(x, ndigits) for floats: correctly rounded, ties to even
// (printf does exact decimal rounding with the same tie rule).
double py_round(double x, int64_t ndigits) {
  if (!std::isfinite(x)) return x;
  if (ndigits > 320) return x;
  if (ndigits >= 0) {
    char buf[512];
    std::snprintf(buf, sizeof buf, "%.*f", static_cast<int>(ndigits), x);
    return std::strtod(buf, nullptr);
  }
  if (ndigits < -320) return std::copysign(0.0, x);
  const double p = std::pow(10.0, static_cast<double>(-ndigits));
  return std::nearbyint(x / p) * p;
}

// select/reject/selectattr/rejectattr share this.
Value select_impl(Renderer& r, const Value& input, CallArgs& args, bool by_attr, bool keep_if) {
  std::vector<Value> items = r.iterate(input);
  size_t next = 0;
  Value attribute;
  if (by_attr) {
    if (args.pos.empty()) fail("selectattr/rejectattr need an attribute name");
    attribute = args.pos[next++];
  }
  std::string test_name;
  if (next < args.pos.size()) {
    if (!args.pos[next].is_string()) fail("test name must be a string");
    test_name = args.pos[next++].as_string();
  }
  CallArgs test_args;
  test_args.pos.assign(args.pos.begin() + static_cast<int64_t>(next), args.pos.end());
  test_args.kw = args.kw;
  std::vector<Value> out;
  for (const Value& item : items) {
    r.step();
    const Value v = by_attr ? r.get_path(item, attribute) : item;
    const bool pass = test_name.empty() ? truthy(v) : r.test(test_name, v, test_args);
    if (pass == keep_if) out.push_back(item);
  }
  return Value::list(std::move(out));
}

Value min_max(Renderer& r, const Value& input, CallArgs& args, bool want_max, const char* fn) {
  BoundArgs a(fn, args, {"case_sensitive", "attribute"});
  const bool cs = a.get_bool(0, false);
  std::vector<Value> items = r.iterate(input);
  if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
  size_t best = 0;
  Value best_key = sort_key(r, items[0], a.get(1), cs);
  for (size_t i = 1; i < items.size(); ++i) {
    r.step();
    Value k = sort_key(r, items[i], a.get(1), cs);
    if (want_max ? less(best_key, k) : less(k, best_key)) {
      best = i;
      best_key = std::move(k);
    }
  }
  return items[best];
}

// ---- filters ----

Value f_abs(Renderer&, const Value& v, CallArgs& args) {
  BoundArgs a("abs", args, {});
  if (v.is_integral()) {
    if (v.as_int() == std::numeric_limits<int64_t>::min()) fail("integer overflow in abs()");
    return Value::integer(std::llabs(v.as_int()));
  }
  if (v.is_float()) return Value::number(std::fabs(v.as_float()));
  fail("bad operand type for abs(): '" + type_name(v) + "'");
}

Value f_attr(Renderer& r, const Value& v, CallArgs& args) {
  BoundArgs a("attr", args, {"name"}, 1);
  if (!a.get(0).is_string()) fail("attr(): name must be a string");
  // Python getattr() only: dict keys are not attributes.
  if (v.is_dict() && !has_method(v, a.get(0).as_string()))
    return Value::undefined("'dict object' has no attribute '" + a.get(0).as_string() + "'");
  return r.getattr(v, a.get(0).as_string());
}

Value f_batch(Renderer& r, const Value& v, CallArgs& args) {
  BoundArgs a("batch", args, {"linecount", "fill_with"}, 1);
  const int64_t n = a.get_int(0, 1);
  if (n <= 0) fail("batch(): linecount must be positive");
  std::vector<Value> items = r.iterate(v), out, cur;
  for (auto& x : items) {
    cur.push_back(std::move(x));
    if (static_cast<int64_t>(cur.size()) == n) out.push_back(Value::list(std::exchange(cur, {})));
  }
  if (!cur.empty()) {
    if (a.has(1))
      while (static_cast<int64_t>(cur.size()) < n) cur.push_back(a.get(1));
    out.push_back(Value::list(std::move(cur)));
  }
  return Value::list(std::move(out));
}

Value f_capitalize(Renderer& r, const Value& v, CallArgs& args) {
  BoundArgs a("capitalize", args, {});
  return Value::string(py::capitalize(as_text(r, v)));
}

Value f_center(Renderer& r, const Value& v, CallArgs& args) {
  BoundArgs a("center", args, {"width"});
  CallArgs m;
  m.pos.push_back(Value::integer(a.get_int(0, 80)));
  Value s = Value::string(as_text(r, v));
  return call_method(r, s, "center", m);
}

Value f_default(Renderer&, const Value& v, CallArgs& args) {
  BoundArgs a("default", args, {"default_value", "boolean"});
  const bool boolean = a.get_bool(1, false);
  if (v.is_undefined() || (boolean && !truthy(v))) return a.get_or(0, Value::string(""));
  return v;
}

Value f_dictsort(Renderer& r, const Value& v, CallArgs& args) {
  BoundArgs a("dictsort", args, {"case_sensitive", "by", "reverse"});
  if (!v.is_dict()) fail("You can only sort by either \"key\" or \"value\" of a dict");
  const bool cs = a.get_bool(0, false);
  const std::string by = a.get_str(1, "key");
  if (by != "key" && by != "value") fail("You can only sort by either \"key\" or \"value\"");
  const bool reverse = a.get_bool(2, false);
  std::vector<Value> items;
  for (const auto& [k, x] : v.as_dict().entries) items.push_back(Value::list({k, x}, true));
  r.charge_items(items.size() * 8);
  const size_t idx = by == "key" ? 0 : 1;
  std::stable_sort(items.begin(), items.end(), [&](const Value& x, const Value& y) {
    Value kx = x.as_list().items[idx], ky = y.as_list().items[idx];
    if (!cs) {
      kx = lower_if_string(kx);
      ky = lower_if_string(ky);
    }
    return reverse ? less(ky, kx) : less(kx, ky);
  });
  return Value::list(std::move(items));
}

Value f_escape(Renderer& r, const Value& v, CallArgs& args) {
  BoundArgs a("escape", args, {});
  std::string s = html_escape(as_text(r, v));
  r.charge_bytes(s.size());
  return Value::string(std::move(s));
}

Value f_first(Renderer& r, const Value& v, CallArgs& args) {
  BoundArgs a("first", args, {});
  if (v.is_list()) {
    const auto& items = v.as_list().items;
    return items.empty() ? Value::undefined("No first item, sequence was empty.") : items.front();
  }
  std::vector<Value> items = r.iterate(v);
  return items.empty() ? Value::undefined("No first item, sequence was empty.") : items.front();
}

Value f_last(Renderer& r, const Value& v, CallArgs& args) {
  BoundArgs a("last", args, {});
  if (v.is_list()) {
    const auto& items = v.as_list().items;
    return items.empty() ? Value::undefined("No last item, sequence was empty.") : items.back();
  }
  std::vector<Value> items = r.iterate(v);
  return items.empty() ? Value::undefined("No last item, sequence was empty.") : items.back();
}

Value f_float(Renderer&, const Value& v, CallArgs& args) {
  BoundArgs a("float", args, {"default"});
  if (v.is_undefined()) fail(v.undefined_reason());  // Jinja's Undefined refuses __float__
  if (v.is_number()) return Value::number(v.as_float());
  double d;
  if (v.is_string() && parse_float(v.as_string(), &d)) return Value::number(d);
  return a.get_or(0, Value::number(0.0));
}

Value f_format(Renderer& r, const Value& v, CallArgs& args) {
  if (!args.pos.empty() && !args.kw.empty())
    fail("format(): can't handle positional and keyword arguments at the same time");
  Value fmt_args;
  if (!args.kw.empty()) {
    fmt_args = Value::dict();
    for (auto& [k, x] : args.kw) fmt_args.as_dict().set(k, x);
  } else {
    fmt_args = Value::list(args.pos, true);
  }
  return Value::string(percent_format(r, as_text(r, v), fmt_args));
}

Value f_indent(Renderer& r, const Value& v, CallArgs& args) {
  BoundArgs a("indent", args, {"width", "first", "blank"});
  std::string ind;
  if (a.has(0) && a.get(0).is_string()) {
    ind = a.get(0).as_string();
  } else {
    const int64_t w = a.get_int(0, 4);
    if (w > static_cast<int64_t>(r.max_bytes()))
      fail_limit("indent(): width exceeds max_output_bytes");
    ind.assign(static_cast<size_t>(std::max<int64_t>(w, 0)), ' ');
  }
  const bool first = a.get_bool(1, false), blank = a.get_bool(2, false);
  std::string s = as_text(r, v) + "\n";  // Jinja's quirk so splitlines sees the last line
  std::vector<std::string> lines = py::splitlines(s, false);
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i) {
      out += '\n';
      if (blank || !lines[i].empty()) out += ind;
    }
    out += lines[i];
    r.charge_bytes(out.size());
  }
  if (first) out = ind + out;
  r.charge_bytes(out.size());
  return Value::string(std::move(out));
}

Value f_int(Renderer&, const Value& v, CallArgs& args) {
  BoundArgs a("int", args, {"default", "base"});
  const Value def = a.get_or(0, Value::integer(0));
  if (v.is_undefined()) fail(v.undefined_reason());  // Jinja's Undefined refuses __int__
  if (v.is_integral()) return Value::integer(v.as_int());
  if (v.is_float()) {
    const double d = v.as_float();
    if (!(d > -9.2e18 && d < 9.2e18)) return def;
    return Value::integer(static_cast<int64_t>(d));
  }
  if (v.is_string()) {
    int64_t i;
    if (parse_int(v.as_string(), a.get_int(1, 10), &i)) return Value::integer(i);
    double d;
    if (parse_float(v.as_string(), &d) && d > -9.2e18 && d < 9.2e18)
      return Value::integer(static_cast<int64_t>(d));
  }
  return def;
}

Value f_items(Renderer& r, const Value& v, CallArgs& args) {
  BoundArgs a("items", args, {});
  if (v.is_undefined()) return Value::list();
  if (!v.is_dict()) fail("Can only get item pairs from a mapping.");
  r.charge_items(v.as_dict().size());
  std::vector<Value> out;
  for (const auto& [k, x] : v.as_dict().entries) out.push_back(Value::list({k, x}, true));
  return Value::list(std::move(out));
}

Value f_join(Renderer& r, const Value& v, CallArgs& args) {
  BoundArgs a("join", args, {"d", "attribute"});
  const std::string sep = a.has(0) ? as_text(r, a.get(0)) : "";
  std::string out;
  bool first = true;
  for (const Value& item : r.iterate(v)) {
    if (!first) out += sep;
    first = false;
    const Value x = attr_of(r, item, a.get(1));
    if (x.is_string()) {
      out += x.as_string();
    } else {
      append_str(out, x, r.max_bytes());
    }
    r.charge_bytes(out.size());
  }
  return Value::string(std::move(out));
}

Value f_length(Renderer&, const Value& v, CallArgs& args) {
  BoundArgs a("length", args, {});
  return Value::integer(length_of(v));
}

Value f_list(Renderer& r, const Value& v, CallArgs& args) {
  BoundArgs a("list", args, {});
  return Value::list(r.iterate(v));
}

Value f_lower(Renderer& r, const Value& v, CallArgs& args) {
  BoundArgs a("lower", args, {});
  return Value::string(py::lower(as_text(r, v)));
}

Value f_upper(Renderer& r, const Value& v, CallArgs& args) {
  BoundArgs a("upper", args, {});
  return Value::string(py::upper(as_text(r, v)));
}

Value f_map(Renderer& r, const Value& v, CallArgs& args) {
  std::vector<Value> items = r.iterate(v);
  std::vector<Value> out;
  out.reserve(items.size());
  if (args.pos.empty()) {
    Value attribute, def;
    bool has_def = false;
    for (auto& [k, x] : args.kw) {
      if (k == "attribute") {
        attribute = x;
      } else if (k == "default") {
        def = x;
        has_def = true;
      } else {
        fail("map(): unexpected keyword argument '" + k + "'");
      }
    }
    if (attribute.is_undefined()) fail("map() needs a filter name or attribute=");
    for (const Value& item : items) {
      r.step();
      out.push_back(attr_of(r, item, attribute, has_def ? &def : nullptr));
    }
    return Value::list(std::move(out));
  }
  if (!args.pos[0].is_string()) fail("map(): the filter name must be a string");
  const std::string name = args.pos[0].as_string();
  CallArgs rest;
  rest.pos.assign(args.pos.begin() + 1, args.pos.end());
  rest.kw = args.kw;
  for (const Value& item : items) {
    CallArgs a = rest;
    out.push_back(r.filter(name, item, a));
  }
  return Value::list(std::move(out));
}

Value f_max(Renderer& r, const Value& v, CallArgs& args) {
  return min_max(r, v, args, true, "max");
}
Value f_min(Renderer& r, const Value& v, CallArgs& args) {
  return min_max(r, v, args, false, "min");
}

Value f_pprint(Renderer& r, const Value& v, CallArgs& args) {
  BoundArgs a("pprint", args, {});
  std::string out;
  append_repr(out, v, r.max_bytes());
  return Value::string(std::move(out));
}

Value f_reject(Renderer& r, const Value& v, CallArgs& args) {
  return select_impl(r, v, args, false, false);
}
Value f_rejectattr(Renderer& r, const Value& v, CallArgs& args) {
  return select_impl(r, v, args, true, false);
}
Value f_select(Renderer& r, const Value& v, CallArgs& args) {
  return select_impl(r, v, args, false, true);
}
Value f_selectattr(Renderer& r, const Value& v, CallArgs& args) {
  return select_impl(r, v, args, true, true);
}

Value f_replace(Renderer& r, const Value& v, CallArgs& args) {
  BoundArgs a("replace", args, {"old", "new", "count"}, 2);
  const std::string s = as_text(r, v);
  r.step(1 + s.size() / 64);
  return Value::string(
      py::replace(s, as_text(r, a.get(0)), as_text(r, a.get(1)), a.get_int(2, -1), r.max_bytes()));
}

Value f_reverse(Renderer& r, const Value& v, CallArgs& args) {
  BoundArgs a("reverse", args, {});
  if (v.is_string()) {
    const std::string& s = v.as_string();
    r.charge_bytes(s.size());
    const std::vector<size_t> off = py::codepoint_offsets(s);
    std::string out;
    out.reserve(s.size());
    for (size_t i = off.size() - 1; i > 0; --i) out.append(s, off[i - 1], off[i] - off[i - 1]);
    return Value::string(std::move(out));
  }
  std::vector<Value> items = r.iterate(v);
  std::reverse(items.begin(), items.end());
  return Value::list(std::move(items));
}

Value f_round(Renderer&, const Value& v, CallArgs& args) {
  BoundArgs a("round", args, {"precision", "method"});
  const int64_t precision = a.get_int(0, 0);
  const std::string method = a.get_str(1, "common");
  if (method != "common" && method != "ceil" && method != "floor")
    fail("round(): method must be 'common', 'ceil' or 'floor'");
  if (!v.is_number()) fail("round(): a number is required, not " + type_name(v));
  if (method == "common") {
    // Python round(int, n>=0) keeps the int.
    if (v.is_integral()) {
      if (precision >= 0) return Value::integer(v.as_int());
      // round(1234, -2) == 1200: stays an int, ties to even.
      if (precision < -18) return Value::integer(0);
      int64_t p = 1;
      for (int64_t k = 0; k < -precision; ++k) p *= 10;
      const int64_t x = v.as_int();
      int64_t q = x / p, rem = x % p;
      if (rem < 0) {
        rem += p;
        q -= 1;
      }
      if (2 * rem > p || (2 * rem == p && (q & 1))) q += 1;
      int64_t out;
      if (__builtin_mul_overflow(q, p, &out)) fail("integer overflow in round()");
      return Value::integer(out);
    }
    return Value::number(py_round(v.as_float(), precision));
  }
  const double p = std::pow(10.0, static_cast<double>(precision));
  const double x = v.as_float() * p;
  return Value::number((method == "ceil" ? std::ceil(x) : std::floor(x)) / p);
}

Value f_safe(Renderer& r, const Value& v, CallArgs& args) {
  BoundArgs a("safe", args, {});
  return v.is_string() ? v : Value::string(r.str(v));
}

Value f_sort(Renderer& r, const Value& v, CallArgs& args) {
  BoundArgs a("sort", args, {"reverse", "case_sensitive", "attribute"});
  const bool reverse = a.get_bool(0, false), cs = a.get_bool(1, false);
  std::vector<Value> items = r.iterate(v);
  std::vector<std::pair<Value, Value>> keyed;  // (key, item)
  keyed.reserve(items.size());
  for (auto& x : items) keyed.emplace_back(sort_key(r, x, a.get(2), cs), std::move(x));
  r.step(keyed.size() * 16);  // ~n log n comparisons
  // stable_sort stays in bounds even if a comparison is inconsistent (NaN).
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& x, const auto& y) {
    return reverse ? less(y.first, x.first) : less(x.first, y.first);
  });
  std::vector<Value> out;
  out.reserve(keyed.size());
  for (auto& [k, x] : keyed) out.push_back(std::move(x));
  return Value::list(std::move(out));
}

Value f_string(Renderer& r, const Value& v, CallArgs& args) {
  BoundArgs a("string", args, {});
  return v.is_string() ? v : Value::string(r.str(v));
}

Value f_sum(Renderer& r, const Value& v, CallArgs& args) {
  BoundArgs a("sum", args, {"attribute", "start"});
  Value total = a.get_or(1, Value::integer(0));
  for (const Value& item : r.iterate(v))
    total = binary_op(r, BinaryExpr::Op::Add, total, attr_of(r, item, a.get(0)));
  return total;
}

Value f_title(Renderer& r, const Value& v, CallArgs& args) {
  BoundArgs a("title", args, {});
  // Jinja's title: words start after runs of whitespace, '-', '(', '{', '[' or '<'.
  const std::string s = as_text(r, v);
  std::string out;
  out.reserve(s.size());
  bool word_start = true;
  char32_t cp;
  for (size_t i = 0; i < s.size();) {
    const size_t start = i;
    i = py::utf8_next(s, i, &cp);
    const bool sep =
        py::is_space(cp) || cp == '-' || cp == '(' || cp == '{' || cp == '[' || cp == '<';
    const std::string ch = s.substr(start, i - start);
    if (sep) {
      out += ch;
      word_start = true;
    } else {
      out += word_start ? py::upper(ch) : py::lower(ch);
      word_start = false;
    }
  }
  return Value::string(std::move(out));
}

Value f_tojson(Renderer& r, const Value& v, CallArgs& args) {
  // transformers: json.dumps(x, ensure_ascii=False, indent=indent, separators=separators,
  // sort_keys=sort_keys)
  BoundArgs a("tojson", args, {"ensure_ascii", "indent", "separators", "sort_keys"});
  JsonOptions opt;
  opt.ensure_ascii = a.get_bool(0, false);
  if (a.has(1) && !a.get(1).is_none()) {
    const Value& ind = a.get(1);
    if (ind.is_string()) {
      opt.indent = ind.as_string();
    } else if (ind.is_integral()) {
      const int64_t n = ind.as_int();
      if (n > 1024) fail_limit("tojson(): indent too large");
      opt.indent = std::string(static_cast<size_t>(std::max<int64_t>(n, 0)), ' ');
    } else {
      fail("tojson(): indent must be an int or a string");
    }
    opt.item_sep = ",";
  }
  if (a.has(2) && !a.get(2).is_none()) {
    const Value& sep = a.get(2);
    if (!sep.is_list() || sep.as_list().items.size() != 2 || !sep.as_list().items[0].is_string() ||
        !sep.as_list().items[1].is_string())
      fail("tojson(): separators must be a pair of strings");
    opt.item_sep = sep.as_list().items[0].as_string();
    opt.key_sep = sep.as_list().items[1].as_string();
  }
  opt.sort_keys = a.get_bool(3, false);
  std::string out;
  dump_json(out, v, opt, r.max_bytes());
  r.charge_bytes(out.size());
  return Value::string(std::move(out));
}

Value f_trim(Renderer& r, const Value& v, CallArgs& args) {
  BoundArgs a("trim", args, {"chars"});
  std::optional<std::string_view> chars;
  if (a.has(0) && !a.get(0).is_none()) {
    if (!a.get(0).is_string()) fail("trim(): chars must be a string");
    chars = a.get(0).as_string();
  }
  return Value::string(py::strip(as_text(r, v), true, true, chars));
}

Value f_truncate(Renderer& r, const Value& v, CallArgs& args) {
  BoundArgs a("truncate", args, {"length", "killwords", "end", "leeway"});
  const int64_t length = a.get_int(0, 255);
  const bool killwords = a.get_bool(1, false);
  const std::string end = a.get_str(2, "...");
  const int64_t leeway = a.get_int(3, 5);
  const std::string s = as_text(r, v);
  const std::vector<size_t> off = py::codepoint_offsets(s);
  const int64_t n = static_cast<int64_t>(off.size()) - 1;
  const int64_t end_len = static_cast<int64_t>(py::codepoint_count(end));
  if (length < end_len) fail("truncate(): expected length >= " + std::to_string(end_len));
  if (leeway < 0) fail("truncate(): expected leeway >= 0");
  if (n <= length + leeway) return Value::string(s);
  std::string head = s.substr(0, off[static_cast<size_t>(length - end_len)]);
  if (!killwords) {
    const size_t sp = head.rfind(' ');
    if (sp != std::string::npos) head.resize(sp);
  }
  return Value::string(head + end);
}

Value f_unique(Renderer& r, const Value& v, CallArgs& args) {
  BoundArgs a("unique", args, {"case_sensitive", "attribute"});
  const bool cs = a.get_bool(0, false);
  std::vector<Value> out, seen;
  for (const Value& item : r.iterate(v)) {
    Value k = sort_key(r, item, a.get(1), cs);
    r.step(seen.size());
    bool dup = false;
    for (const Value& s : seen)
      if (equals(s, k)) {
        dup = true;
        break;
      }
    if (dup) continue;
    seen.push_back(std::move(k));
    out.push_back(item);
  }
  return Value::list(std::move(out));
}

Value f_wordcount(Renderer& r, const Value& v, CallArgs& args) {
  BoundArgs a("wordcount", args, {});
  const std::string s = as_text(r, v);
  int64_t words = 0;
  bool in_word = false;
  char32_t cp;
  for (size_t i = 0; i < s.size();) {
    i = py::utf8_next(s, i, &cp);
    const bool w = cp == '_' || py::is_alnum(cp);
    if (w && !in_word) ++words;
    in_word = w;
  }
  return Value::integer(words);
}

const std::unordered_map<std::string_view, FilterFn>& table() {
  static const std::unordered_map<std::string_view, FilterFn> t = {
      {"abs", f_abs},
      {"attr", f_attr},
      {"batch", f_batch},
      {"capitalize", f_capitalize},
      {"center", f_center},
      {"count", f_length},
      {"d", f_default},
      {"default", f_default},
      {"dictsort", f_dictsort},
      {"e", f_escape},
      {"escape", f_escape},
      {"forceescape", f_escape},
      {"first", f_first},
      {"float", f_float},
      {"format", f_format},
      {"indent", f_indent},
      {"int", f_int},
      {"items", f_items},
      {"join", f_join},
      {"last", f_last},
      {"length", f_length},
      {"list", f_list},
      {"lower", f_lower},
      {"map", f_map},
      {"max", f_max},
      {"min", f_min},
      {"pprint", f_pprint},
      {"reject", f_reject},
      {"rejectattr", f_rejectattr},
      {"replace", f_replace},
      {"reverse", f_reverse},
      {"round", f_round},
      {"safe", f_safe},
      {"select", f_select},
      {"selectattr", f_selectattr},
      {"sort", f_sort},
      {"string", f_string},
      {"sum", f_sum},
      {"title", f_title},
      {"tojson", f_tojson},
      {"trim", f_trim},
      {"truncate", f_truncate},
      {"unique", f_unique},
      {"upper", f_upper},
      {"wordcount", f_wordcount},
  };
  return t;
}

}  // namespace

FilterFn find_filter(std::string_view name) {
  const auto& t = table();
  auto it = t.find(name);
  return it == t.end() ? nullptr : it->second;
}

}  // namespace sf::jinja
