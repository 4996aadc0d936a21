#include "tokenizer/jinja/value.h"

#include <cmath>

#include "tokenizer/jinja/error.h"
#include "tokenizer/jinja/pystr.h"

namespace sf::jinja {

namespace {

// Recursion bound for walking nested data (a list may even contain itself).
constexpr int kMaxNesting = 256;

void check_nesting(int depth) {
  if (depth > kMaxNesting) fail_limit("value nested too deeply (or contains itself)");
}

void check_size(const std::string& out, size_t max_bytes) {
  if (out.size() > max_bytes)
    fail_limit("string exceeds max_output_bytes (" + std::to_string(max_bytes) + ")");
}

}  // namespace

Value Value::undefined(std::string why) {
  Value v;
  v.v_ = UndefT{std::make_shared<const std::string>(std::move(why))};
  return v;
}

Value Value::string(std::string s) {
  return Value(StrPtr(std::make_shared<const std::string>(std::move(s))));
}

Value Value::list(std::vector<Value> items, bool tuple) {
  auto l = std::make_shared<ListObj>();
  l->items = std::move(items);
  l->tuple = tuple;
  return Value(std::move(l));
}

Value Value::dict() {
  return Value(std::make_shared<DictObj>());
}

int64_t Value::as_int() const {
  if (kind() == Kind::Bool) return std::get<bool>(v_) ? 1 : 0;
  return std::get<int64_t>(v_);
}

double Value::as_float() const {
  switch (kind()) {
    case Kind::Bool:
      return std::get<bool>(v_) ? 1.0 : 0.0;
    case Kind::Int:
      return static_cast<double>(std::get<int64_t>(v_));
    default:
      return std::get<double>(v_);
  }
}

DictObj& Value::as_dict() const {
  return *dict_ptr();
}

const DictPtr& Value::dict_ptr() const {
  if (kind() == Kind::Namespace) return std::get<NsRef>(v_).d;
  return std::get<DictPtr>(v_);
}

std::string Value::undefined_reason() const {
  const StrPtr& why = std::get<UndefT>(v_).why;
  return why && !why->empty() ? *why : "value is undefined";
}

// ---- DictObj -----------------------------------------------------------------

void DictObj::build_index() const {
  index_.clear();
  for (size_t i = 0; i < entries.size(); ++i)
    if (entries[i].first.is_string()) index_.emplace(entries[i].first.as_string(), i);
  indexed_ = true;
}

void DictObj::clear() {
  std::vector<std::pair<Value, Value>>().swap(entries);
  index_.clear();
  indexed_ = false;
}

const Value* DictObj::find(std::string_view key) const {
  if (entries.size() > 16) {
    if (!indexed_) build_index();
    auto it = index_.find(key);
    return it == index_.end() ? nullptr : &entries[it->second].second;
  }
  for (const auto& [k, v] : entries)
    if (k.is_string() && k.as_string() == key) return &v;
  return nullptr;
}

const Value* DictObj::find(const Value& key) const {
  if (key.is_string()) return find(std::string_view(key.as_string()));
  for (const auto& [k, v] : entries)
    if (equals(k, key)) return &v;
  return nullptr;
}

void DictObj::set(Value key, Value value) {
  if (const Value* existing = find(key)) {
    *const_cast<Value*>(existing) = std::move(value);
    return;
  }
  entries.emplace_back(std::move(key), std::move(value));
  if (indexed_) {
    const Value& k = entries.back().first;
    if (k.is_string()) index_.emplace(k.as_string(), entries.size() - 1);
  }
}

// ---- Python semantics ----------------------------------------------------------

bool truthy(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::Undefined:
    case Value::Kind::None:
      return false;
    case Value::Kind::Bool:
      return v.as_bool();
    case Value::Kind::Int:
      return v.as_int() != 0;
    case Value::Kind::Float:
      return v.as_float() != 0.0;
    case Value::Kind::String:
      return !v.as_string().empty();
    case Value::Kind::List:
      return !v.as_list().items.empty();
    case Value::Kind::Dict:
      return v.as_dict().size() != 0;
    case Value::Kind::Namespace:
    case Value::Kind::Object:
      return true;
  }
  return false;
}

std::string type_name(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::Undefined:
      return "Undefined";
    case Value::Kind::None:
      return "NoneType";
    case Value::Kind::Bool:
      return "bool";
    case Value::Kind::Int:
      return "int";
    case Value::Kind::Float:
      return "float";
    case Value::Kind::String:
      return "str";
    case Value::Kind::List:
      return v.as_list().tuple ? "tuple" : "list";
    case Value::Kind::Dict:
      return "dict";
    case Value::Kind::Namespace:
      return "Namespace";
    case Value::Kind::Object:
      return v.as_object().type_name();
  }
  return "object";
}

namespace {

bool equals_at(const Value& a, const Value& b, int depth) {
  check_nesting(depth);
  using K = Value::Kind;
  if (a.is_number() && b.is_number()) {
    if (a.is_integral() && b.is_integral()) return a.as_int() == b.as_int();
    return a.as_float() == b.as_float();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case K::Undefined:
    case K::None:
      return true;
    case K::String:
      return a.str_ptr() == b.str_ptr() || a.as_string() == b.as_string();
    case K::List: {
      const ListObj& x = a.as_list();
      const ListObj& y = b.as_list();
      if (&x == &y) return true;
      if (x.tuple != y.tuple || x.items.size() != y.items.size()) return false;
      for (size_t i = 0; i < x.items.size(); ++i)
        if (!equals_at(x.items[i], y.items[i], depth + 1)) return false;
      return true;
    }
    case K::Dict: {
      const DictObj& x = a.as_dict();
      const DictObj& y = b.as_dict();
      if (&x == &y) return true;
      if (x.size() != y.size()) return false;
      for (const auto& [k, v] : x.entries) {
        const Value* other = y.find(k);
        if (!other || !equals_at(v, *other, depth + 1)) return false;
      }
      return true;
    }
    case K::Namespace:
      return a.dict_ptr() == b.dict_ptr();
    case K::Object:
      return a.object_ptr() == b.object_ptr();
    default:
      return false;
  }
}

bool less_at(const Value& a, const Value& b, int depth) {
  check_nesting(depth);
  if (a.is_number() && b.is_number()) {
    if (a.is_integral() && b.is_integral()) return a.as_int() < b.as_int();
    return a.as_float() < b.as_float();
  }
  if (a.is_string() && b.is_string())
    return a.as_string() < b.as_string();  // UTF-8 order = code point order
  if (a.is_list() && b.is_list() && a.as_list().tuple == b.as_list().tuple) {
    const auto& x = a.as_list().items;
    const auto& y = b.as_list().items;
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (!equals_at(x[i], y[i], depth + 1)) return less_at(x[i], y[i], depth + 1);
    }
    return x.size() < y.size();
  }
  if (a.is_undefined()) fail(a.undefined_reason());
  if (b.is_undefined()) fail(b.undefined_reason());
  fail("'<' not supported between instances of '" + type_name(a) + "' and '" + type_name(b) + "'");
}

void repr_at(std::string& out, const Value& v, size_t max_bytes, int depth, bool as_str);

void repr_items(std::string& out, const std::vector<Value>& items, size_t max_bytes, int depth) {
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    repr_at(out, items[i], max_bytes, depth + 1, false);
    check_size(out, max_bytes);
  }
}

void repr_dict(std::string& out, const DictObj& d, size_t max_bytes, int depth) {
  out += '{';
  for (size_t i = 0; i < d.entries.size(); ++i) {
    if (i) out += ", ";
    repr_at(out, d.entries[i].first, max_bytes, depth + 1, false);
    out += ": ";
    repr_at(out, d.entries[i].second, max_bytes, depth + 1, false);
    check_size(out, max_bytes);
  }
  out += '}';
}

void repr_at(std::string& out, const Value& v, size_t max_bytes, int depth, bool as_str) {
  check_nesting(depth);
  using K = Value::Kind;
  switch (v.kind()) {
    case K::Undefined:
      if (!as_str) out += "Undefined";
      break;
    case K::None:
      out += "None";
      break;
    case K::Bool:
      out += v.as_bool() ? "True" : "False";
      break;
    case K::Int:
      out += std::to_string(v.as_int());
      break;
    case K::Float:
      out += py::float_repr(v.as_float());
      break;
    case K::String:
      if (as_str) {
        out += v.as_string();
      } else {
        py::append_repr(out, v.as_string());
      }
      break;
    case K::List: {
      const ListObj& l = v.as_list();
      out += l.tuple ? '(' : '[';
      repr_items(out, l.items, max_bytes, depth);
      if (l.tuple && l.items.size() == 1) out += ',';
      out += l.tuple ? ')' : ']';
      break;
    }
    case K::Dict:
      repr_dict(out, v.as_dict(), max_bytes, depth);
      break;
    case K::Namespace:
      out += "<Namespace ";
      repr_dict(out, v.as_dict(), max_bytes, depth);
      out += '>';
      break;
    case K::Object:
      out += v.as_object().repr();
      break;
  }
  check_size(out, max_bytes);
}

}  // namespace

bool equals(const Value& a, const Value& b) {
  return equals_at(a, b, 0);
}
bool less(const Value& a, const Value& b) {
  return less_at(a, b, 0);
}

void append_str(std::string& out, const Value& v, size_t max_bytes) {
  repr_at(out, v, max_bytes, 0, true);
}

void append_repr(std::string& out, const Value& v, size_t max_bytes) {
  repr_at(out, v, max_bytes, 0, false);
}

std::string to_str(const Value& v, size_t max_bytes) {
  if (v.is_string()) return v.as_string();
  std::string out;
  append_str(out, v, max_bytes);
  return out;
}

Value from_json(const nlohmann::ordered_json& j, int max_depth) {
  if (max_depth < 0) fail_limit("context data nested too deeply");
  using T = nlohmann::ordered_json::value_t;
  switch (j.type()) {
    case T::null:
    case T::discarded:
      return Value::none();
    case T::boolean:
      return Value::boolean(j.get<bool>());
    case T::number_integer:
      return Value::integer(j.get<int64_t>());
    case T::number_unsigned: {
      const uint64_t u = j.get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) return Value::number(static_cast<double>(u));
      return Value::integer(static_cast<int64_t>(u));
    }
    case T::number_float:
      return Value::number(j.get<double>());
    case T::string:
      return Value::string(j.get_ref<const std::string&>());
    case T::array: {
      std::vector<Value> items;
      items.reserve(j.size());
      for (const auto& e : j) items.push_back(from_json(e, max_depth - 1));
      return Value::list(std::move(items));
    }
    case T::object: {
      auto d = std::make_shared<DictObj>();
      d->entries.reserve(j.size());
      for (auto it = j.begin(); it != j.end(); ++it)
        d->set(Value::string(it.key()), from_json(it.value(), max_depth - 1));
      return Value::dict(std::move(d));
    }
    case T::binary:
      fail("binary values are not supported in template context");
  }
  return Value::none();
}

}  // namespace sf::jinja
