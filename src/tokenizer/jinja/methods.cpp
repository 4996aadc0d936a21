#include "tokenizer/jinja/methods.h"

#include <algorithm>
#include <array>

#include "tokenizer/jinja/args.h"
#include "tokenizer/jinja/error.h"
#include "tokenizer/jinja/evaluator.h"
#include "tokenizer/jinja/format.h"
#include "tokenizer/jinja/pystr.h"

namespace sf::jinja {

namespace {

constexpr std::array kStrMethods = {
    "startswith",   "endswith",     "split",     "rsplit",     "strip",      "lstrip",   "rstrip",
    "replace",      "upper",        "lower",     "title",      "capitalize", "swapcase", "casefold",
    "find",         "rfind",        "index",     "rindex",     "count",      "join",     "isdigit",
    "isdecimal",    "isnumeric",    "isalpha",   "isalnum",    "isspace",    "isupper",  "islower",
    "istitle",      "splitlines",   "format",    "center",     "ljust",      "rjust",    "zfill",
    "removeprefix", "removesuffix", "partition", "rpartition",
};
constexpr std::array kListMethods = {"append", "extend", "pop",     "insert", "index",
                                     "count",  "remove", "reverse", "copy"};
constexpr std::array kTupleMethods = {"index", "count"};
constexpr std::array kDictMethods = {"items", "keys",   "values", "get",
                                     "copy",  "update", "pop",    "setdefault"};

template <size_t N>
bool in(const std::array<const char*, N>& names, std::string_view n) {
  return std::find(names.begin(), names.end(), n) != names.end();
}

std::optional<std::string_view> opt_str(const BoundArgs& a, size_t i, const char* fn) {
  if (!a.has(i) || a.get(i).is_none()) return std::nullopt;
  if (!a.get(i).is_string())
    fail(std::string(fn) + "() argument must be str or None, not " + type_name(a.get(i)));
  return std::string_view(a.get(i).as_string());
}

Value str_list(std::vector<std::string> parts) {
  std::vector<Value> out;
  out.reserve(parts.size());
  for (auto& p : parts) out.push_back(Value::string(std::move(p)));
  return Value::list(std::move(out));
}

// startswith/endswith accept a string or a tuple of strings.
bool affix_match(const std::string& s, const Value& affix, bool prefix, const char* fn) {
  auto one = [&](const Value& a) {
    if (!a.is_string())
      fail(std::string(fn) + " first arg must be str or a tuple of str, not " + type_name(a));
    const std::string& x = a.as_string();
    if (x.size() > s.size()) return false;
    return prefix ? s.compare(0, x.size(), x) == 0
                  : s.compare(s.size() - x.size(), x.size(), x) == 0;
  };
  if (affix.is_list()) {
    for (const Value& a : affix.as_list().items)
      if (one(a)) return true;
    return false;
  }
  return one(affix);
}

Value pad_method(Renderer& r, const std::string& s, std::string_view name, const CallArgs& args) {
  BoundArgs a(name, args, {"width", "fillchar"}, 1);
  const int64_t width = a.get_int(0, 0);
  const std::string fill = a.get_str(1, " ");
  if (py::codepoint_count(fill) != 1)
    fail(std::string(name) + "(): the fill character must be exactly one character long");
  const int64_t len = static_cast<int64_t>(py::codepoint_count(s));
  if (width <= len) return Value::string(s);
  const size_t n = static_cast<size_t>(width - len);
  if (n > r.max_bytes()) fail_limit(std::string(name) + "(): width exceeds max_output_bytes");
  r.charge_bytes(s.size() + n * fill.size());
  auto rep = [&](size_t k) {
    std::string out;
    for (size_t i = 0; i < k; ++i) out += fill;
    return out;
  };
  if (name == "ljust") return Value::string(s + rep(n));
  if (name == "rjust") return Value::string(rep(n) + s);
  // center: CPython puts the extra pad on the left when n and width are both odd.
  const size_t left = n / 2 + (n & static_cast<size_t>(width) & 1);
  return Value::string(rep(left) + s + rep(n - left));
}

Value string_method(Renderer& r, const Value& self, std::string_view name, CallArgs& args) {
  const std::string& s = self.as_string();
  r.step(1 + s.size() / 64);  // string methods scan their receiver
  if (name == "startswith" || name == "endswith") {
    BoundArgs a(name, args, {"prefix", "start", "end"}, 1);
    std::string sub = s;
    if (a.has(1) || a.has(2)) {
      const std::vector<size_t> off = py::codepoint_offsets(s);
      const int64_t n = static_cast<int64_t>(off.size()) - 1;
      py::SliceRange sr =
          py::slice_indices(n, a.has(1) ? std::optional<int64_t>(a.get_int(1, 0)) : std::nullopt,
                            a.has(2) ? std::optional<int64_t>(a.get_int(2, n)) : std::nullopt, 1);
      sub = s.substr(
          off[static_cast<size_t>(sr.start)],
          off[static_cast<size_t>(sr.start + sr.count)] - off[static_cast<size_t>(sr.start)]);
      if (sr.count == 0) sub.clear();
    }
    return Value::boolean(affix_match(sub, a.get(0), name == "startswith",
                                      name == "startswith" ? "startswith" : "endswith"));
  }
  if (name == "split" || name == "rsplit") {
    BoundArgs a(name, args, {"sep", "maxsplit"});
    auto sep = opt_str(a, 0, "split");
    const int64_t maxsplit = a.get_int(1, -1);
    auto parts = name == "split" ? py::split(s, sep, maxsplit) : py::rsplit(s, sep, maxsplit);
    r.charge_items(parts.size());
    return str_list(std::move(parts));
  }
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    BoundArgs a(name, args, {"chars"});
    return Value::string(py::strip(s, name != "rstrip", name != "lstrip", opt_str(a, 0, "strip")));
  }
  if (name == "replace") {
    BoundArgs a(name, args, {"old", "new", "count"}, 2);
    if (!a.get(0).is_string() || !a.get(1).is_string()) fail("replace() arguments must be str");
    return Value::string(py::replace(s, a.get(0).as_string(), a.get(1).as_string(),
                                     a.get_int(2, -1), r.max_bytes()));
  }
  if (name == "upper" || name == "lower" || name == "title" || name == "capitalize" ||
      name == "swapcase" || name == "casefold") {
    BoundArgs a(name, args, {});
    if (name == "upper") return Value::string(py::upper(s));
    if (name == "lower" || name == "casefold") return Value::string(py::lower(s));
    if (name == "title") return Value::string(py::title(s));
    if (name == "swapcase") return Value::string(py::swapcase(s));
    return Value::string(py::capitalize(s));
  }
  if (name == "find" || name == "rfind" || name == "index" || name == "rindex" || name == "count") {
    BoundArgs a(name, args, {"sub"}, 1);
    if (!a.get(0).is_string())
      fail(std::string(name) + "() argument must be str, not " + type_name(a.get(0)));
    const std::string& sub = a.get(0).as_string();
    if (name == "count") return Value::integer(py::count(s, sub));
    const int64_t i = py::find(s, sub, name[0] == 'r');
    if (i < 0 && (name == "index" || name == "rindex")) fail("substring not found");
    return Value::integer(i);
  }
  if (name == "join") {
    BoundArgs a(name, args, {"iterable"}, 1);
    std::string out;
    bool first = true;
    for (const Value& v : r.iterate(a.get(0))) {
      if (!v.is_string()) fail("sequence item: expected str instance, " + type_name(v) + " found");
      if (!first) out += s;
      first = false;
      out += v.as_string();
      r.charge_bytes(out.size());
    }
    return Value::string(std::move(out));
  }
  if (name.substr(0, 2) == "is") {
    BoundArgs a(name, args, {});
    if (name == "isdigit" || name == "isdecimal" || name == "isnumeric")
      return Value::boolean(py::all_of(s, py::is_digit));
    if (name == "isalpha") return Value::boolean(py::all_of(s, py::is_alpha));
    if (name == "isalnum") return Value::boolean(py::all_of(s, py::is_alnum));
    if (name == "isspace") return Value::boolean(py::all_of(s, py::is_space));
    if (name == "isupper") return Value::boolean(py::is_cased(s, true));
    if (name == "islower") return Value::boolean(py::is_cased(s, false));
    if (name == "istitle")
      return Value::boolean(!s.empty() && py::title(s) == s &&
                            py::is_cased(s, false) != py::is_cased(s, true));
  }
  if (name == "splitlines") {
    BoundArgs a(name, args, {"keepends"});
    return str_list(py::splitlines(s, a.get_bool(0, false)));
  }
  if (name == "format") return Value::string(brace_format(r, s, args));
  if (name == "center" || name == "ljust" || name == "rjust") return pad_method(r, s, name, args);
  if (name == "zfill") {
    BoundArgs a(name, args, {"width"}, 1);
    const int64_t width = a.get_int(0, 0);
    const int64_t len = static_cast<int64_t>(py::codepoint_count(s));
    if (width <= len) return self;
    if (width - len > static_cast<int64_t>(r.max_bytes()))
      fail_limit("zfill(): width exceeds max_output_bytes");
    const std::string zeros(static_cast<size_t>(width - len), '0');
    if (!s.empty() && (s[0] == '+' || s[0] == '-'))
      return Value::string(s.substr(0, 1) + zeros + s.substr(1));
    return Value::string(zeros + s);
  }
  if (name == "removeprefix" || name == "removesuffix") {
    BoundArgs a(name, args, {"affix"}, 1);
    if (!a.get(0).is_string()) fail(std::string(name) + "() argument must be str");
    const std::string& x = a.get(0).as_string();
    if (name == "removeprefix")
      return Value::string(s.compare(0, x.size(), x) == 0 ? s.substr(x.size()) : s);
    if (x.size() <= s.size() && s.compare(s.size() - x.size(), x.size(), x) == 0 && !x.empty())
      return Value::string(s.substr(0, s.size() - x.size()));
    return self;
  }
  if (name == "partition" || name == "rpartition") {
    BoundArgs a(name, args, {"sep"}, 1);
    if (!a.get(0).is_string()) fail(std::string(name) + "() argument must be str");
    const std::string& sep = a.get(0).as_string();
    if (sep.empty()) fail("empty separator");
    const size_t hit = name == "partition" ? s.find(sep) : s.rfind(sep);
    if (hit == std::string::npos) {
      if (name == "partition")
        return Value::list({self, Value::string(""), Value::string("")}, true);
      return Value::list({Value::string(""), Value::string(""), self}, true);
    }
    return Value::list(
        {Value::string(s.substr(0, hit)), a.get(0), Value::string(s.substr(hit + sep.size()))},
        true);
  }
  fail("'str' object has no attribute '" + std::string(name) + "'");
}

Value list_method(Renderer& r, const Value& self, std::string_view name, CallArgs& args) {
  ListObj& l = self.as_list();
  auto& items = l.items;
  if (l.tuple && !in(kTupleMethods, name))
    fail("'tuple' object has no attribute '" + std::string(name) + "'");
  if (name == "append") {
    BoundArgs a(name, args, {"object"}, 1);
    items.push_back(a.get(0));
    r.note_mutated(self);
    return Value::none();
  }
  if (name == "extend") {
    BoundArgs a(name, args, {"iterable"}, 1);
    std::vector<Value> more = r.iterate(a.get(0));
    items.insert(items.end(), more.begin(), more.end());
    r.note_mutated(self);
    return Value::none();
  }
  if (name == "insert") {
    BoundArgs a(name, args, {"index", "object"}, 2);
    int64_t i = a.get_int(0, 0);
    const int64_t n = static_cast<int64_t>(items.size());
    if (i < 0) i = std::max<int64_t>(0, i + n);
    if (i > n) i = n;
    r.step(items.size());
    items.insert(items.begin() + i, a.get(1));
    r.note_mutated(self);
    return Value::none();
  }
  if (name == "pop") {
    BoundArgs a(name, args, {"index"});
    if (items.empty()) fail("pop from empty list");
    int64_t i = a.get_int(0, -1);
    const int64_t n = static_cast<int64_t>(items.size());
    if (i < 0) i += n;
    if (i < 0 || i >= n) fail("pop index out of range");
    r.step(items.size());
    Value v = items[static_cast<size_t>(i)];
    items.erase(items.begin() + i);
    return v;
  }
  if (name == "remove") {
    BoundArgs a(name, args, {"value"}, 1);
    r.step(items.size());
    for (size_t i = 0; i < items.size(); ++i)
      if (equals(items[i], a.get(0))) {
        items.erase(items.begin() + static_cast<int64_t>(i));
        return Value::none();
      }
    fail("list.remove(x): x not in list");
  }
  if (name == "reverse") {
    BoundArgs a(name, args, {});
    r.step(items.size());
    std::reverse(items.begin(), items.end());
    return Value::none();
  }
  if (name == "copy") {
    BoundArgs a(name, args, {});
    r.charge_items(items.size());
    return Value::list(items);
  }
  if (name == "index" || name == "count") {
    BoundArgs a(name, args, {"value"}, 1);
    r.step(items.size());
    int64_t c = 0;
    for (size_t i = 0; i < items.size(); ++i) {
      if (!equals(items[i], a.get(0))) continue;
      if (name == "index") return Value::integer(static_cast<int64_t>(i));
      ++c;
    }
    if (name == "index") fail("value is not in list");
    return Value::integer(c);
  }
  fail("'list' object has no attribute '" + std::string(name) + "'");
}

Value dict_method(Renderer& r, const Value& self, std::string_view name, CallArgs& args) {
  DictObj& d = self.as_dict();
  if (name == "items" || name == "keys" || name == "values") {
    BoundArgs a(name, args, {});
    r.charge_items(d.size());
    std::vector<Value> out;
    out.reserve(d.size());
    for (const auto& [k, v] : d.entries) {
      if (name == "items") {
        out.push_back(Value::list({k, v}, true));
      } else {
        out.push_back(name == "keys" ? k : v);
      }
    }
    return Value::list(std::move(out));
  }
  if (name == "get") {
    BoundArgs a(name, args, {"key", "default"}, 1);
    const Value* v = d.find(a.get(0));
    return v ? *v : a.get_or(1, Value::none());
  }
  if (name == "copy") {
    BoundArgs a(name, args, {});
    r.charge_items(d.size());
    auto c = std::make_shared<DictObj>();
    c->entries = d.entries;
    return Value::dict(std::move(c));
  }
  if (name == "update") {
    if (args.pos.size() > 1) fail("update expected at most 1 argument");
    if (!args.pos.empty()) {
      const Value& other = args.pos[0];
      if (!other.is_dict()) fail("dict.update() argument must be a dict");
      r.charge_items(other.as_dict().size());
      const auto entries = other.as_dict().entries;  // copy: other may be d itself
      for (const auto& [k, v] : entries) d.set(k, v);
    }
    for (const auto& [k, v] : args.kw) d.set(k, v);
    r.note_mutated(self);
    return Value::none();
  }
  if (name == "setdefault") {
    BoundArgs a(name, args, {"key", "default"}, 1);
    if (const Value* v = d.find(a.get(0))) return *v;
    Value def = a.get_or(1, Value::none());
    d.set(a.get(0), def);
    r.note_mutated(self);
    return def;
  }
  if (name == "pop") {
    BoundArgs a(name, args, {"key", "default"}, 1);
    r.step(d.size());
    for (size_t i = 0; i < d.entries.size(); ++i) {
      if (!equals(d.entries[i].first, a.get(0))) continue;
      Value v = d.entries[i].second;
      auto rest = std::move(d.entries);
      rest.erase(rest.begin() + static_cast<int64_t>(i));
      d = DictObj();  // rebuild so the key index stays consistent
      for (auto& [k, x] : rest) d.set(std::move(k), std::move(x));
      return v;
    }
    if (a.has(1)) return a.get(1);
    std::string k;
    append_repr(k, a.get(0), 200);
    fail("KeyError: " + k);
  }
  fail("'dict' object has no attribute '" + std::string(name) + "'");
}

class BoundMethod : public Callable {
 public:
  BoundMethod(Value self, std::string name) : self_(std::move(self)), name_(std::move(name)) {}
  std::string type_name() const override { return "builtin_function_or_method"; }
  std::string repr() const override {
    return "<built-in method " + name_ + " of " + ::sf::jinja::type_name(self_) + " object>";
  }
  Value call(Renderer& r, CallArgs& args) const override {
    return call_method(r, self_, name_, args);
  }

 private:
  Value self_;
  std::string name_;
};

}  // namespace

bool has_method(const Value& receiver, std::string_view name) {
  switch (receiver.kind()) {
    case Value::Kind::String:
      return in(kStrMethods, name);
    case Value::Kind::List:
      return receiver.as_list().tuple ? in(kTupleMethods, name) : in(kListMethods, name);
    case Value::Kind::Dict:
      return in(kDictMethods, name);
    default:
      return false;
  }
}

Value call_method(Renderer& r, const Value& receiver, std::string_view name, CallArgs& args) {
  switch (receiver.kind()) {
    case Value::Kind::String:
      return string_method(r, receiver, name, args);
    case Value::Kind::List:
      return list_method(r, receiver, name, args);
    case Value::Kind::Dict:
      return dict_method(r, receiver, name, args);
    default:
      fail("'" + type_name(receiver) + "' object has no attribute '" + std::string(name) + "'");
  }
}

Value bound_method(const Value& receiver, std::string_view name) {
  return Value::object(std::make_shared<BoundMethod>(receiver, std::string(name)));
}

}  // namespace sf::jinja
