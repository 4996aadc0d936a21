#include "tokenizer/jinja/builtins.h"

#include <ctime>
#include <unordered_map>

#include "tokenizer/jinja/args.h"
#include "tokenizer/jinja/error.h"
#include "tokenizer/jinja/evaluator.h"

namespace sf::jinja {

namespace {

// Jinja's sandbox refuses ranges longer than this (MAX_RANGE), which also
// keeps `range(10**9)` from allocating anything.
constexpr int64_t kMaxRange = 100000;

Value g_range(Renderer& r, CallArgs& args, const Value&) {
  if (!args.kw.empty()) fail("range() takes no keyword arguments");
  if (args.pos.empty() || args.pos.size() > 3) fail("range expected 1 to 3 arguments");
  for (const Value& v : args.pos)
    if (!v.is_integral())
      fail("range(): '" + type_name(v) + "' object cannot be interpreted as an integer");
  int64_t start = 0, stop, step = 1;
  if (args.pos.size() == 1) {
    stop = args.pos[0].as_int();
  } else {
    start = args.pos[0].as_int();
    stop = args.pos[1].as_int();
    if (args.pos.size() == 3) step = args.pos[2].as_int();
  }
  if (step == 0) fail("range() arg 3 must not be zero");
  // Count in long double to avoid overflow on extreme bounds.
  const long double span = static_cast<long double>(stop) - static_cast<long double>(start);
  long double count = step > 0 ? (span + step - 1) / step : (span + step + 1) / step;
  if (count < 0) count = 0;
  if (count > kMaxRange)
    fail_limit("range too big: " + std::to_string(static_cast<long long>(count)) +
               " items (the limit is " + std::to_string(kMaxRange) + ")");
  const int64_t n = static_cast<int64_t>(count);
  r.charge_items(static_cast<size_t>(n));
  std::vector<Value> items;
  items.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) items.push_back(Value::integer(start + i * step));
  return Value::list(std::move(items));
}

// dict(mapping_or_pairs, **kw) -> a fresh dict.
DictPtr build_dict(Renderer& r, CallArgs& args, const char* fn) {
  auto d = std::make_shared<DictObj>();
  if (args.pos.size() > 1) fail(std::string(fn) + "() takes at most 1 positional argument");
  if (!args.pos.empty()) {
    const Value& src = args.pos[0];
    if (src.is_dict() || src.kind() == Value::Kind::Namespace) {
      r.charge_items(src.as_dict().size());
      for (const auto& [k, v] : src.as_dict().entries) d->set(k, v);
    } else {
      for (const Value& pair : r.iterate(src)) {
        std::vector<Value> kv = r.iterate(pair);
        if (kv.size() != 2)
          fail(std::string(fn) + "(): sequence elements must be (key, value) pairs");
        d->set(kv[0], kv[1]);
      }
    }
  }
  for (auto& [k, v] : args.kw) d->set(k, v);
  return d;
}

Value g_namespace(Renderer& r, CallArgs& args, const Value&) {
  return Value::ns(build_dict(r, args, "namespace"));
}
Value g_dict(Renderer& r, CallArgs& args, const Value&) {
  return Value::dict(build_dict(r, args, "dict"));
}

Value g_raise_exception(Renderer& r, CallArgs& args, const Value&) {
  BoundArgs a("raise_exception", args, {"message"});
  throw Error{Error::Kind::Raised,
              a.has(0) ? r.str(a.get(0)) : std::string("raise_exception() called"), kNoOffset};
}

Value g_strftime_now(Renderer& r, CallArgs& args, const Value&) {
  BoundArgs a("strftime_now", args, {"format"}, 1);
  const std::string fmt = a.get_str(0, "");
  if (fmt.size() > 1024) fail_limit("strftime_now(): format string too long");
  const std::time_t t = r.now();
  std::tm tm{};
  if (r.fixed_clock()) {
    gmtime_r(&t, &tm);
  } else {
    localtime_r(&t, &tm);
  }
  if (fmt.empty()) return Value::string("");
  // strftime returns 0 both for "too small" and for an empty result; grow a
  // few times, then accept empty.
  for (size_t cap = 256; cap <= 65536; cap *= 4) {
    std::string buf(cap, '\0');
    const size_t n = std::strftime(buf.data(), buf.size(), fmt.c_str(), &tm);
    if (n > 0) {
      buf.resize(n);
      return Value::string(std::move(buf));
    }
  }
  return Value::string("");
}

// joiner(sep): returns '' the first time it is called, then sep.
class Joiner : public Callable {
 public:
  explicit Joiner(std::string sep) : sep_(std::move(sep)) {}
  std::string type_name() const override { return "Joiner"; }
  Value call(Renderer&, CallArgs& args) const override {
    if (!args.pos.empty() || !args.kw.empty()) fail("joiner() takes no arguments");
    if (!used_) {
      used_ = true;
      return Value::string("");
    }
    return Value::string(sep_);
  }

 private:
  std::string sep_;
  mutable bool used_ = false;  // per render: the object is created by the template
};

Value g_joiner(Renderer& r, CallArgs& args, const Value&) {
  BoundArgs a("joiner", args, {"sep"});
  return Value::object(std::make_shared<Joiner>(a.has(0) ? r.str(a.get(0)) : std::string(", ")));
}

const std::unordered_map<std::string_view, Value>& table() {
  static const std::unordered_map<std::string_view, Value> t = [] {
    std::unordered_map<std::string_view, Value> m;
    auto add = [&](const char* name, NativeFunction::Fn fn) {
      m.emplace(name, Value::object(std::make_shared<NativeFunction>(name, fn)));
    };
    add("range", g_range);
    add("namespace", g_namespace);
    add("dict", g_dict);
    add("raise_exception", g_raise_exception);
    add("strftime_now", g_strftime_now);
    add("joiner", g_joiner);
    return m;
  }();
  return t;
}

}  // namespace

Value find_global(std::string_view name) {
  const auto& t = table();
  auto it = t.find(name);
  return it == t.end() ? Value() : it->second;
}

}  // namespace sf::jinja
