// Runtime values of the Jinja interpreter, with Python's semantics.
//
// Templates are Python programs in disguise, so a Value behaves like the
// Python object Jinja would see: lists and dicts are shared by reference (a
// namespace list appended to in a loop is the same list afterwards), strings
// are immutable and shared, ints are 64-bit (overflow is an error rather than
// a silent wrap), and `undefined` is distinct from `none`.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace sf::jinja {

class Value;
class Object;
struct ListObj;
struct DictObj;
class Renderer;

using StrPtr = std::shared_ptr<const std::string>;
using ListPtr = std::shared_ptr<ListObj>;
using DictPtr = std::shared_ptr<DictObj>;
using ObjPtr = std::shared_ptr<Object>;

class Value {
 public:
  // The order matches the variant alternatives below.
  enum class Kind : uint8_t {
    Undefined,
    None,
    Bool,
    Int,
    Float,
    String,
    List,
    Dict,
    Namespace,
    Object
  };

  Value() = default;  // undefined
  // `why` is the message an operation on this value reports ("'x' is undefined").
  static Value undefined(std::string why);
  static Value none() { return Value(NoneT{}); }
  static Value boolean(bool b) { return Value(b); }
  static Value integer(int64_t i) { return Value(i); }
  static Value number(double d) { return Value(d); }
  static Value string(std::string s);
  static Value string(StrPtr s) { return Value(std::move(s)); }
  static Value list(std::vector<Value> items = {}, bool tuple = false);
  static Value list(ListPtr l) { return Value(std::move(l)); }
  static Value dict();
  static Value dict(DictPtr d) { return Value(std::move(d)); }
  static Value ns(DictPtr d) { return Value(NsRef{std::move(d)}); }
  static Value object(ObjPtr o) { return Value(std::move(o)); }

  Kind kind() const { return static_cast<Kind>(v_.index()); }
  bool is_undefined() const { return kind() == Kind::Undefined; }
  bool is_none() const { return kind() == Kind::None; }
  bool is_string() const { return kind() == Kind::String; }
  bool is_list() const { return kind() == Kind::List; }
  bool is_dict() const { return kind() == Kind::Dict; }
  bool is_int() const { return kind() == Kind::Int; }
  bool is_bool() const { return kind() == Kind::Bool; }
  bool is_float() const { return kind() == Kind::Float; }
  // int, float or bool (bool is an int in Python).
  bool is_number() const {
    return kind() == Kind::Int || kind() == Kind::Float || kind() == Kind::Bool;
  }
  // int or bool: usable as an index.
  bool is_integral() const { return kind() == Kind::Int || kind() == Kind::Bool; }

  bool as_bool() const { return std::get<bool>(v_); }
  int64_t as_int() const;   // int or bool
  double as_float() const;  // any number
  const std::string& as_string() const { return *std::get<StrPtr>(v_); }
  const StrPtr& str_ptr() const { return std::get<StrPtr>(v_); }
  ListObj& as_list() const { return *std::get<ListPtr>(v_); }
  const ListPtr& list_ptr() const { return std::get<ListPtr>(v_); }
  DictObj& as_dict() const;  // dict or namespace
  const DictPtr& dict_ptr() const;
  Object& as_object() const { return *std::get<ObjPtr>(v_); }
  const ObjPtr& object_ptr() const { return std::get<ObjPtr>(v_); }
  std::string undefined_reason() const;

 private:
  struct UndefT {
    StrPtr why;
  };
  struct NoneT {};
  struct NsRef {
    DictPtr d;
  };
  template <class T>
  explicit Value(T v) : v_(std::move(v)) {}
  std::variant<UndefT, NoneT, bool, int64_t, double, StrPtr, ListPtr, DictPtr, NsRef, ObjPtr> v_;
};

struct ListObj {
  std::vector<Value> items;
  bool tuple = false;  // prints as (a, b); immutable
};

// Insertion-ordered like a Python dict. Small dicts are scanned; larger ones
// get a lazily built index over their string keys.
struct DictObj {
  std::vector<std::pair<Value, Value>> entries;

  const Value* find(const Value& key) const;
  const Value* find(std::string_view key) const;
  void set(Value key, Value value);
  void set(std::string_view key, Value value) {
    set(Value::string(std::string(key)), std::move(value));
  }
  size_t size() const { return entries.size(); }
  void clear();  // frees the entries and the index

 private:
  void build_index() const;
  mutable std::unordered_map<std::string_view, size_t> index_;  // views into entries' keys
  mutable bool indexed_ = false;
};

// Host objects: macros, built-in functions, bound methods, loop state.
class Object {
 public:
  virtual ~Object() = default;
  virtual std::string type_name() const = 0;
  // Attribute lookup (`obj.name`); false when there is no such attribute.
  virtual bool get_attr(std::string_view name, Value& out) const { return false; }
  virtual bool callable() const { return false; }
  virtual std::string repr() const { return "<" + type_name() + " object>"; }
};

// Positional and keyword arguments of a call, in source order.
struct CallArgs {
  std::vector<Value> pos;
  std::vector<std::pair<std::string, Value>> kw;
};

class Callable : public Object {
 public:
  bool callable() const override { return true; }
  virtual Value call(Renderer& r, CallArgs& args) const = 0;
};

// Python semantics shared by the evaluator, filters and tests.
bool truthy(const Value& v);
std::string type_name(const Value& v);  // Python's type name: 'str', 'int', 'NoneType', ...
bool equals(const Value& a, const Value& b);
// Python ordering (<); fails on values Python cannot order (e.g. str < int).
bool less(const Value& a, const Value& b);
// Python str(v) / repr(v), appended to out. Fail once out passes max_bytes.
void append_str(std::string& out, const Value& v, size_t max_bytes);
void append_repr(std::string& out, const Value& v, size_t max_bytes);
std::string to_str(const Value& v, size_t max_bytes);

// Converts JSON context data. Fails past `max_depth` nesting levels.
Value from_json(const nlohmann::ordered_json& j, int max_depth);

}  // namespace sf::jinja
