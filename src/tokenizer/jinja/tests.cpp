#include "tokenizer/jinja/tests.h"

#include <cmath>
#include <unordered_map>

#include "tokenizer/jinja/args.h"
#include "tokenizer/jinja/error.h"
#include "tokenizer/jinja/evaluator.h"
#include "tokenizer/jinja/filters.h"
#include "tokenizer/jinja/operators.h"
#include "tokenizer/jinja/pystr.h"

namespace sf::jinja {

namespace {

const Value& arg(const char* name, CallArgs& args) {
  if (args.pos.size() + args.kw.size() != 1)
    fail(std::string("test '") + name + "' takes exactly one argument");
  return args.pos.empty() ? args.kw[0].second : args.pos[0];
}

void no_args(const char* name, CallArgs& args) {
  if (!args.pos.empty() || !args.kw.empty())
    fail(std::string("test '") + name + "' takes no arguments");
}

bool t_boolean(Renderer&, const Value& v, CallArgs& a) {
  no_args("boolean", a);
  return v.is_bool();
}
bool t_callable(Renderer&, const Value& v, CallArgs& a) {
  no_args("callable", a);
  return v.kind() == Value::Kind::Object && v.as_object().callable();
}
bool t_defined(Renderer&, const Value& v, CallArgs& a) {
  no_args("defined", a);
  return !v.is_undefined();
}
bool t_undefined(Renderer&, const Value& v, CallArgs& a) {
  no_args("undefined", a);
  return v.is_undefined();
}
bool t_none(Renderer&, const Value& v, CallArgs& a) {
  no_args("none", a);
  return v.is_none();
}
bool t_true(Renderer&, const Value& v, CallArgs& a) {
  no_args("true", a);
  return v.is_bool() && v.as_bool();
}
bool t_false(Renderer&, const Value& v, CallArgs& a) {
  no_args("false", a);
  return v.is_bool() && !v.as_bool();
}
bool t_string(Renderer&, const Value& v, CallArgs& a) {
  no_args("string", a);
  return v.is_string();
}
bool t_number(Renderer&, const Value& v, CallArgs& a) {
  no_args("number", a);
  return v.is_number();
}
bool t_integer(Renderer&, const Value& v, CallArgs& a) {
  no_args("integer", a);
  return v.is_int();
}
bool t_float(Renderer&, const Value& v, CallArgs& a) {
  no_args("float", a);
  return v.is_float();
}
bool t_mapping(Renderer&, const Value& v, CallArgs& a) {
  no_args("mapping", a);
  return v.is_dict();
}
// Python: iter(x) works. Jinja's Undefined is iterable (empty).
bool t_iterable(Renderer&, const Value& v, CallArgs& a) {
  no_args("iterable", a);
  return v.is_string() || v.is_list() || v.is_dict() || v.is_undefined();
}
// Python: len(x) and x.__getitem__ exist (Undefined has both).
bool t_sequence(Renderer&, const Value& v, CallArgs& a) {
  no_args("sequence", a);
  return v.is_string() || v.is_list() || v.is_dict() || v.is_undefined();
}
bool t_escaped(Renderer&, const Value&, CallArgs& a) {
  no_args("escaped", a);
  return false;  // no Markup type: autoescaping is off for chat templates
}

// Python `value % 2 == want` (floats included: 3.0 is odd, 0.1 is neither).
bool mod2_is(Renderer& r, const Value& v, int64_t want) {
  return equals(binary_op(r, BinaryExpr::Op::Mod, v, Value::integer(2)), Value::integer(want));
}
bool t_even(Renderer& r, const Value& v, CallArgs& a) {
  no_args("even", a);
  return mod2_is(r, v, 0);
}
bool t_odd(Renderer& r, const Value& v, CallArgs& a) {
  no_args("odd", a);
  return mod2_is(r, v, 1);
}
bool t_divisibleby(Renderer& r, const Value& v, CallArgs& a) {
  const Value& n = arg("divisibleby", a);
  return equals(binary_op(r, BinaryExpr::Op::Mod, v, n), Value::integer(0));
}
bool t_eq(Renderer&, const Value& v, CallArgs& a) {
  return equals(v, arg("eq", a));
}
bool t_ne(Renderer&, const Value& v, CallArgs& a) {
  return !equals(v, arg("ne", a));
}
bool t_lt(Renderer&, const Value& v, CallArgs& a) {
  return less(v, arg("lt", a));
}
bool t_le(Renderer&, const Value& v, CallArgs& a) {
  const Value& o = arg("le", a);
  return less(v, o) || equals(v, o);
}
bool t_gt(Renderer&, const Value& v, CallArgs& a) {
  return less(arg("gt", a), v);
}
bool t_ge(Renderer&, const Value& v, CallArgs& a) {
  const Value& o = arg("ge", a);
  return less(o, v) || equals(v, o);
}
bool t_in(Renderer& r, const Value& v, CallArgs& a) {
  return contains(r, arg("in", a), v);
}
bool t_sameas(Renderer&, const Value& v, CallArgs& a) {
  const Value& o = arg("sameas", a);
  if (v.kind() != o.kind()) return false;
  switch (v.kind()) {
    case Value::Kind::None:
    case Value::Kind::Undefined:
      return true;
    case Value::Kind::Bool:
    case Value::Kind::Int:
    case Value::Kind::Float:
      return equals(v, o);
    case Value::Kind::String:
      return v.str_ptr() == o.str_ptr();
    case Value::Kind::List:
      return v.list_ptr() == o.list_ptr();
    case Value::Kind::Dict:
    case Value::Kind::Namespace:
      return v.dict_ptr() == o.dict_ptr();
    case Value::Kind::Object:
      return v.object_ptr() == o.object_ptr();
  }
  return false;
}
bool t_lower(Renderer& r, const Value& v, CallArgs& a) {
  no_args("lower", a);
  return py::is_cased(r.str(v), false);
}
bool t_upper(Renderer& r, const Value& v, CallArgs& a) {
  no_args("upper", a);
  return py::is_cased(r.str(v), true);
}
bool t_filter(Renderer&, const Value& v, CallArgs& a) {
  no_args("filter", a);
  return v.is_string() && find_filter(v.as_string()) != nullptr;
}
bool t_test(Renderer&, const Value& v, CallArgs& a) {
  no_args("test", a);
  return v.is_string() && find_test(v.as_string()) != nullptr;
}

const std::unordered_map<std::string_view, TestFn>& table() {
  static const std::unordered_map<std::string_view, TestFn> t = {
      {"boolean", t_boolean},
      {"callable", t_callable},
      {"defined", t_defined},
      {"divisibleby", t_divisibleby},
      {"eq", t_eq},
      {"equalto", t_eq},
      {"==", t_eq},
      {"escaped", t_escaped},
      {"even", t_even},
      {"false", t_false},
      {"filter", t_filter},
      {"float", t_float},
      {"ge", t_ge},
      {">=", t_ge},
      {"gt", t_gt},
      {"greaterthan", t_gt},
      {">", t_gt},
      {"in", t_in},
      {"integer", t_integer},
      {"iterable", t_iterable},
      {"le", t_le},
      {"<=", t_le},
      {"lower", t_lower},
      {"lt", t_lt},
      {"lessthan", t_lt},
      {"<", t_lt},
      {"mapping", t_mapping},
      {"ne", t_ne},
      {"!=", t_ne},
      {"none", t_none},
      {"number", t_number},
      {"odd", t_odd},
      {"sameas", t_sameas},
      {"sequence", t_sequence},
      {"string", t_string},
      {"test", t_test},
      {"true", t_true},
      {"undefined", t_undefined},
      {"upper", t_upper},
  };
  return t;
}

}  // namespace

TestFn find_test(std::string_view name) {
  const auto& t = table();
  auto it = t.find(name);
  return it == t.end() ? nullptr : it->second;
}

}  // namespace sf::jinja
