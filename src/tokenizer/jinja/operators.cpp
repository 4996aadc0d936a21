#include "tokenizer/jinja/operators.h"

#include <cmath>
#include <limits>

#include "tokenizer/jinja/error.h"
#include "tokenizer/jinja/evaluator.h"
#include "tokenizer/jinja/format.h"

namespace sf::jinja {

namespace {

const char* op_symbol(BinaryExpr::Op op) {
  switch (op) {
    case BinaryExpr::Op::Add:
      return "+";
    case BinaryExpr::Op::Sub:
      return "-";
    case BinaryExpr::Op::Mul:
      return "*";
    case BinaryExpr::Op::Div:
      return "/";
    case BinaryExpr::Op::FloorDiv:
      return "//";
    case BinaryExpr::Op::Mod:
      return "%";
    case BinaryExpr::Op::Pow:
      return "**";
    default:
      return "?";
  }
}

[[noreturn]] void unsupported(BinaryExpr::Op op, const Value& a, const Value& b) {
  if (a.is_undefined()) fail(a.undefined_reason());
  if (b.is_undefined()) fail(b.undefined_reason());
  fail(std::string("unsupported operand type(s) for ") + op_symbol(op) + ": '" + type_name(a) +
       "' and '" + type_name(b) + "'");
}

[[noreturn]] void overflow() {
  fail("integer overflow (values are limited to 64 bits)");
}

int64_t checked_pow(int64_t base, int64_t exp) {
  int64_t result = 1;
  while (exp > 0) {
    if (exp & 1)
      if (__builtin_mul_overflow(result, base, &result)) overflow();
    exp >>= 1;
    if (exp > 0 && __builtin_mul_overflow(base, base, &base)) overflow();
  }
  return result;
}

// Python's float floor division and modulo (CPython float_divmod).
void float_divmod(double vx, double wx, double* floordiv, double* mod_out) {
  if (wx == 0.0) fail("float division by zero");
  double mod = std::fmod(vx, wx);
  double div = (vx - mod) / wx;
  if (mod != 0.0) {
    if ((wx < 0) != (mod < 0)) {
      mod += wx;
      div -= 1.0;
    }
  } else {
    mod = std::copysign(0.0, wx);
  }
  double fd;
  if (div != 0.0) {
    fd = std::floor(div);
    if (div - fd > 0.5) fd += 1.0;
  } else {
    fd = std::copysign(0.0, vx / wx);
  }
  *floordiv = fd;
  *mod_out = mod;
}

Value repeat(Renderer& r, const Value& seq, int64_t n) {
  if (n < 0) n = 0;
  if (seq.is_string()) {
    const std::string& s = seq.as_string();
    if (!s.empty() && static_cast<uint64_t>(n) > r.max_bytes() / s.size())
      r.charge_bytes(r.max_bytes() + 1);
    r.charge_bytes(s.size() * static_cast<size_t>(n));
    std::string out;
    out.reserve(s.size() * static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) out += s;
    return Value::string(std::move(out));
  }
  const ListObj& l = seq.as_list();
  if (!l.items.empty() && static_cast<uint64_t>(n) > r.limits().max_steps / l.items.size())
    r.step(r.limits().max_steps + 1);
  r.charge_items(l.items.size() * static_cast<size_t>(n));
  std::vector<Value> out;
  out.reserve(l.items.size() * static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) out.insert(out.end(), l.items.begin(), l.items.end());
  return Value::list(std::move(out), l.tuple);
}

}  // namespace

Value binary_op(Renderer& r, BinaryExpr::Op op, const Value& a, const Value& b) {
  using Op = BinaryExpr::Op;
  if (op == Op::Concat) {
    std::string s = r.str(a);
    const std::string t = r.str(b);
    r.charge_bytes(s.size() + t.size());
    s += t;
    return Value::string(std::move(s));
  }
  const bool ints = a.is_integral() && b.is_integral();
  if (a.is_number() && b.is_number()) {
    const double x = a.as_float(), y = b.as_float();
    switch (op) {
      case Op::Add:
        if (ints) {
          int64_t v;
          if (__builtin_add_overflow(a.as_int(), b.as_int(), &v)) overflow();
          return Value::integer(v);
        }
        return Value::number(x + y);
      case Op::Sub:
        if (ints) {
          int64_t v;
          if (__builtin_sub_overflow(a.as_int(), b.as_int(), &v)) overflow();
          return Value::integer(v);
        }
        return Value::number(x - y);
      case Op::Mul:
        if (ints) {
          int64_t v;
          if (__builtin_mul_overflow(a.as_int(), b.as_int(), &v)) overflow();
          return Value::integer(v);
        }
        return Value::number(x * y);
      case Op::Div:
        if (y == 0.0) fail("division by zero");
        return Value::number(x / y);
      case Op::FloorDiv:
      case Op::Mod: {
        if (ints) {
          const int64_t p = a.as_int(), q = b.as_int();
          if (q == 0) fail("integer division or modulo by zero");
          if (p == std::numeric_limits<int64_t>::min() && q == -1) {
            if (op == Op::Mod) return Value::integer(0);
            overflow();
          }
          int64_t d = p / q, m = p % q;
          if (m != 0 && ((m < 0) != (q < 0))) {
            m += q;
            d -= 1;
          }
          return Value::integer(op == Op::FloorDiv ? d : m);
        }
        double fd, md;
        float_divmod(x, y, &fd, &md);
        return Value::number(op == Op::FloorDiv ? fd : md);
      }
      case Op::Pow:
        if (ints && b.as_int() >= 0) return Value::integer(checked_pow(a.as_int(), b.as_int()));
        if (x == 0.0 && y < 0) fail("0.0 cannot be raised to a negative power");
        return Value::number(std::pow(x, y));
      default:
        break;
    }
  }
  switch (op) {
    case Op::Add:
      if (a.is_string() && b.is_string()) {
        r.charge_bytes(a.as_string().size() + b.as_string().size());
        std::string s;
        s.reserve(a.as_string().size() + b.as_string().size());
        s += a.as_string();
        s += b.as_string();
        return Value::string(std::move(s));
      }
      if (a.is_list() && b.is_list() && a.as_list().tuple == b.as_list().tuple) {
        const auto& x = a.as_list().items;
        const auto& y = b.as_list().items;
        r.charge_items(x.size() + y.size());
        std::vector<Value> out;
        out.reserve(x.size() + y.size());
        out.insert(out.end(), x.begin(), x.end());
        out.insert(out.end(), y.begin(), y.end());
        return Value::list(std::move(out), a.as_list().tuple);
      }
      break;
    case Op::Mul:
      if ((a.is_string() || a.is_list()) && b.is_integral()) return repeat(r, a, b.as_int());
      if (a.is_integral() && (b.is_string() || b.is_list())) return repeat(r, b, a.as_int());
      break;
    case Op::Mod:
      if (a.is_string()) return Value::string(percent_format(r, a.as_string(), b));
      break;
    default:
      break;
  }
  unsupported(op, a, b);
}

Value unary_op(UnaryExpr::Op op, const Value& v) {
  switch (op) {
    case UnaryExpr::Op::Not:
      return Value::boolean(!truthy(v));
    case UnaryExpr::Op::Neg:
      if (v.is_integral()) {
        if (v.as_int() == std::numeric_limits<int64_t>::min()) overflow();
        return Value::integer(-v.as_int());
      }
      if (v.is_float()) return Value::number(-v.as_float());
      break;
    case UnaryExpr::Op::Pos:
      if (v.is_integral()) return Value::integer(v.as_int());
      if (v.is_float()) return v;
      break;
  }
  if (v.is_undefined()) fail(v.undefined_reason());
  fail(std::string("bad operand type for unary ") + (op == UnaryExpr::Op::Neg ? "-" : "+") + ": '" +
       type_name(v) + "'");
}

bool contains(Renderer& r, const Value& container, const Value& item) {
  switch (container.kind()) {
    case Value::Kind::String:
      if (!item.is_string())
        fail("'in <string>' requires string as left operand, not " + type_name(item));
      return container.as_string().find(item.as_string()) != std::string::npos;
    case Value::Kind::List:
      for (const Value& x : container.as_list().items) {
        r.step();
        if (equals(x, item)) return true;
      }
      return false;
    case Value::Kind::Dict:
      if ((item.is_list() && !item.as_list().tuple) || item.is_dict())
        fail("unhashable type: '" + type_name(item) + "'");
      return container.as_dict().find(item) != nullptr;
    case Value::Kind::Undefined:
      return false;
    default:
      fail("argument of type '" + type_name(container) + "' is not iterable");
  }
}

bool compare_op(Renderer& r, CompareExpr::Op op, const Value& a, const Value& b) {
  using Op = CompareExpr::Op;
  switch (op) {
    case Op::Eq:
      return equals(a, b);
    case Op::Ne:
      return !equals(a, b);
    case Op::Lt:
      return less(a, b);
    case Op::Le:
      return less(a, b) || equals(a, b);
    case Op::Gt:
      return less(b, a);
    case Op::Ge:
      return less(b, a) || equals(a, b);
    case Op::In:
      return contains(r, b, a);
    case Op::NotIn:
      return !contains(r, b, a);
  }
  return false;
}

}  // namespace sf::jinja
