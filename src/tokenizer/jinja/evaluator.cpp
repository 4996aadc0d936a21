#include "tokenizer/jinja/evaluator.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <optional>

#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/error.h"
#include "tokenizer/jinja/filters.h"
#include "tokenizer/jinja/methods.h"
#include "tokenizer/jinja/operators.h"
#include "tokenizer/jinja/pystr.h"
#include "tokenizer/jinja/tests.h"

namespace sf::jinja {

// Variables of one block: the template top level, a loop iteration, a macro
// call or a {% with %}. `if` bodies share their enclosing scope, as in Jinja.
struct Scope {
  std::vector<std::pair<std::string, Value>> vars;
  std::shared_ptr<Scope> parent;

  Value* find(std::string_view name) {
    for (auto& [k, v] : vars)
      if (k == name) return &v;
    return nullptr;
  }
  void set(const std::string& name, Value v) {
    if (Value* p = find(name)) {
      *p = std::move(v);
    } else {
      vars.emplace_back(name, std::move(v));
    }
  }
};

namespace {

// Upper bound on nested evaluation frames (expressions, statements, calls):
// keeps the native stack bounded whatever max_depth a caller picks.
constexpr int kMaxFrames = 8000;
// Nesting of context data; printing or comparing values handles 256 levels.
constexpr int kMaxContextNesting = 256;

// A macro value; holds its defining scope weakly (a macro usually lives in the
// scope it closes over, and a strong reference would be a cycle).
class MacroObj : public Callable {
 public:
  MacroObj(const MacroStmt& m, std::weak_ptr<Scope> closure)
      : m_(m), closure_(std::move(closure)) {}
  std::string type_name() const override { return "Macro"; }
  std::string repr() const override { return "<Macro '" + m_.name + "'>"; }
  Value call(Renderer& r, CallArgs& args) const override {
    return r.call_macro(m_, closure_.lock(), args);
  }

 private:
  const MacroStmt& m_;
  std::weak_ptr<Scope> closure_;
};

// The `loop` variable of one iteration.
class LoopObj : public Callable {
 public:
  LoopObj(std::shared_ptr<const std::vector<Value>> items, size_t index0, int depth,
          const ForStmt& node)
      : items_(std::move(items)), index0_(index0), depth_(depth), node_(node) {}
  std::string type_name() const override { return "LoopContext"; }
  std::string repr() const override {
    return "<LoopContext " + std::to_string(index0_ + 1) + "/" + std::to_string(items_->size()) +
           ">";
  }

  bool get_attr(std::string_view name, Value& out) const override {
    const int64_t i = static_cast<int64_t>(index0_);
    const int64_t n = static_cast<int64_t>(items_->size());
    if (name == "index") {
      out = Value::integer(i + 1);
    } else if (name == "index0") {
      out = Value::integer(i);
    } else if (name == "revindex") {
      out = Value::integer(n - i);
    } else if (name == "revindex0") {
      out = Value::integer(n - i - 1);
    } else if (name == "first") {
      out = Value::boolean(i == 0);
    } else if (name == "last") {
      out = Value::boolean(i == n - 1);
    } else if (name == "length") {
      out = Value::integer(n);
    } else if (name == "depth") {
      out = Value::integer(depth_ + 1);
    } else if (name == "depth0") {
      out = Value::integer(depth_);
    } else if (name == "previtem") {
      out = i > 0 ? (*items_)[index0_ - 1] : Value::undefined("there is no previous item");
    } else if (name == "nextitem") {
      out = i + 1 < n ? (*items_)[index0_ + 1] : Value::undefined("there is no next item");
    } else if (name == "cycle") {
      out = Value::object(std::make_shared<NativeFunction>(
          "cycle",
          [](Renderer&, CallArgs& args, const Value& self) -> Value {
            if (args.pos.empty()) fail("loop.cycle() needs at least one argument");
            return args.pos[static_cast<size_t>(self.as_int()) % args.pos.size()];
          },
          Value::integer(i)));
    } else {
      return false;
    }
    return true;
  }

  Value call(Renderer& r, CallArgs& args) const override {
    if (!node_.recursive) fail("loop() can only be called in a loop marked 'recursive'");
    if (args.pos.size() != 1 || !args.kw.empty()) fail("loop() takes exactly one argument");
    return r.call_loop(node_, args.pos[0], depth_ + 1);
  }

 private:
  std::shared_ptr<const std::vector<Value>> items_;
  size_t index0_;
  int depth_;
  const ForStmt& node_;
};

Value object_attr_undefined(const Value& obj, std::string_view name) {
  const std::string what = obj.is_none() ? "'None'" : "'" + type_name(obj) + " object'";
  return Value::undefined(what + " has no attribute '" + std::string(name) + "'");
}

std::optional<int64_t> slice_part(Renderer& r, const Value& v) {
  if (v.is_none()) return std::nullopt;
  if (!v.is_integral()) fail("slice indices must be integers or None, not " + type_name(v));
  return v.as_int();
}

}  // namespace

struct Renderer::Frame {
  Renderer& r;
  explicit Frame(Renderer& renderer) : r(renderer) {
    if (++r.frames_ > r.max_frames_) {
      --r.frames_;
      fail_limit("template nesting exceeds the recursion limit (max_depth=" +
                 std::to_string(r.limits_.max_depth) + ")");
    }
    if (r.stack_.exhausted()) {
      --r.frames_;
      fail_limit("template nesting too deep for the native stack of this thread");
    }
  }
  ~Frame() { --r.frames_; }
};

struct Renderer::ScopeGuard {
  Renderer& r;
  std::shared_ptr<Scope> saved;
  ScopeGuard(Renderer& renderer, std::shared_ptr<Scope> s)
      : r(renderer), saved(std::move(renderer.scope_)) {
    r.scope_ = std::move(s);
  }
  ~ScopeGuard() { r.scope_ = std::move(saved); }
};

struct Renderer::CallGuard {
  Renderer& r;
  explicit CallGuard(Renderer& renderer) : r(renderer) {
    if (++r.call_depth_ > r.limits_.max_depth) {
      --r.call_depth_;
      fail_limit("recursion depth exceeds max_depth (" + std::to_string(r.limits_.max_depth) + ")");
    }
  }
  ~CallGuard() { --r.call_depth_; }
};

Renderer::Renderer(const Program& program, const Limits& limits)
    : program_(program),
      limits_(limits),
      max_frames_(static_cast<int>(
          std::clamp<int64_t>(int64_t{16} * std::max(limits.max_depth, 1), 64, kMaxFrames))) {}

Renderer::~Renderer() {
  // Break reference cycles a template may have built by mutation (a list
  // appended to itself, a namespace storing itself): every cycle contains a
  // mutated container, so emptying those frees everything.
  for (auto& w : mutated_lists_)
    if (auto l = w.lock()) std::vector<Value>().swap(l->items);
  for (auto& w : mutated_dicts_)
    if (auto d = w.lock()) d->clear();
}

void Renderer::set_clock(const nlohmann::ordered_json& context) {
  now_ = std::time(nullptr);
  if (!context.is_object()) return;
  auto it = context.find(kNowContextKey);
  if (it == context.end()) return;
  if (it->is_number()) {
    now_ = static_cast<std::time_t>(it->get<double>());
    fixed_clock_ = true;
  } else if (it->is_string()) {
    std::tm tm{};
    const std::string& s = it->get_ref<const std::string&>();
    int n = std::sscanf(s.c_str(), "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                        &tm.tm_hour, &tm.tm_min, &tm.tm_sec);
    if (n < 3)
      fail(std::string(kNowContextKey) + " must be \"YYYY-MM-DD[THH:MM:SS]\" or Unix seconds");
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    now_ = timegm(&tm);
    fixed_clock_ = true;
  }
}

std::string Renderer::run(const nlohmann::ordered_json& context) {
  if (!context.is_object() && !context.is_null()) fail("the render context must be a JSON object");
  set_clock(context);
  root_ = std::make_shared<Scope>();
  if (context.is_object()) {
    root_->vars.reserve(context.size());
    for (auto it = context.begin(); it != context.end(); ++it) {
      step(1);
      root_->set(it.key(), from_json(it.value(), kMaxContextNesting));
    }
  }
  scope_ = root_;
  std::string out;
  out_ = &out;
  exec_body(program_.body);
  return out;
}

// ---- limits ----

void Renderer::step(uint64_t n) {
  steps_ += n;
  if (steps_ > limits_.max_steps)
    fail_limit("template exceeds max_steps (" + std::to_string(limits_.max_steps) +
               "): a very long or endless loop?");
}

void Renderer::charge_bytes(size_t n) {
  if (n > limits_.max_output_bytes)
    fail_limit("string of " + std::to_string(n) + " bytes exceeds max_output_bytes (" +
               std::to_string(limits_.max_output_bytes) + ")");
  step(1 + n / 8);
}

void Renderer::charge_items(size_t n) {
  if (n > kMaxItems)
    fail_limit("sequence of " + std::to_string(n) + " items exceeds the limit of " +
               std::to_string(kMaxItems));
  step(4 * n);
}

void Renderer::write(std::string_view s) {
  if (out_->size() + s.size() > limits_.max_output_bytes)
    fail_limit("template output exceeds max_output_bytes (" +
               std::to_string(limits_.max_output_bytes) + ")");
  step(s.size() / 8);  // captured output (macros, {% set %} blocks) can be kept and copied
  out_->append(s);
}

void Renderer::note_mutated(const Value& c) {
  step(1);
  // Consecutive mutations usually hit the same container (appends in a loop):
  // remember it once.
  auto remember = [](auto& seen, const auto& ptr) {
    if (!seen.empty() && !seen.back().owner_before(ptr) && !ptr.owner_before(seen.back())) return;
    seen.push_back(ptr);
  };
  if (c.is_list()) {
    remember(mutated_lists_, c.list_ptr());
  } else if (c.kind() == Value::Kind::Dict || c.kind() == Value::Kind::Namespace) {
    remember(mutated_dicts_, c.dict_ptr());
  }
}

// ---- statements ----

Renderer::Flow Renderer::exec_body(const StmtList& body) {
  for (const auto& s : body) {
    const Flow f = exec(*s);
    if (f != Flow::Normal) return f;
  }
  return Flow::Normal;
}

Renderer::Flow Renderer::exec(const Stmt& s) {
  Frame frame(*this);
  step();
  try {
    return exec_inner(s);
  } catch (Error& e) {
    if (e.offset == kNoOffset) e.offset = s.offset;
    throw;
  }
}

std::string Renderer::capture(const StmtList& body) {
  std::string buf;
  std::string* saved = out_;
  out_ = &buf;
  try {
    exec_body(body);
  } catch (...) {
    out_ = saved;
    throw;
  }
  out_ = saved;
  return buf;
}

Renderer::Flow Renderer::exec_inner(const Stmt& s) {
  switch (s.kind) {
    case Stmt::Kind::Text:
      write(static_cast<const TextStmt&>(s).text);
      return Flow::Normal;
    case Stmt::Kind::Output:
      return exec_output(static_cast<const OutputStmt&>(s));
    case Stmt::Kind::If: {
      const auto& n = static_cast<const IfStmt&>(s);
      for (const auto& [cond, body] : n.branches)
        if (truthy(eval(*cond))) return exec_body(body);
      return exec_body(n.else_body);
    }
    case Stmt::Kind::For: {
      const auto& n = static_cast<const ForStmt&>(s);
      return exec_for(n, eval(*n.iter), 0);
    }
    case Stmt::Kind::Set: {
      const auto& n = static_cast<const SetStmt&>(s);
      assign(n.target, eval(*n.value));
      return Flow::Normal;
    }
    case Stmt::Kind::SetBlock:
      return exec_set_block(static_cast<const SetBlockStmt&>(s));
    case Stmt::Kind::Macro: {
      const auto& n = static_cast<const MacroStmt&>(s);
      set_var(n.name, Value::object(std::make_shared<MacroObj>(n, scope_)));
      return Flow::Normal;
    }
    case Stmt::Kind::FilterBlock:
      return exec_filter_block(static_cast<const FilterBlockStmt&>(s));
    case Stmt::Kind::With:
      return exec_with(static_cast<const WithStmt&>(s));
    case Stmt::Kind::Break:
      return Flow::Break;
    case Stmt::Kind::Continue:
      return Flow::Continue;
    case Stmt::Kind::Do:
      eval(*static_cast<const DoStmt&>(s).expr);
      return Flow::Normal;
    case Stmt::Kind::Block:
      return exec_body(static_cast<const BlockStmt&>(s).body);
  }
  return Flow::Normal;
}

[[gnu::noinline]] Renderer::Flow Renderer::exec_output(const OutputStmt& s) {
  const Value v = eval(*s.expr);
  if (v.is_string()) {
    write(v.as_string());
  } else {
    write(str(v));
  }
  return Flow::Normal;
}

[[gnu::noinline]] Renderer::Flow Renderer::exec_set_block(const SetBlockStmt& n) {
  Value v = Value::string(capture(n.body));
  if (n.filter) {
    Value saved = std::exchange(block_input_, v);
    v = eval(*n.filter);
    block_input_ = std::move(saved);
  }
  assign(n.target, v);
  return Flow::Normal;
}

[[gnu::noinline]] Renderer::Flow Renderer::exec_filter_block(const FilterBlockStmt& n) {
  Value saved = std::exchange(block_input_, Value::string(capture(n.body)));
  const Value v = eval(*n.filter);
  block_input_ = std::move(saved);
  write(str(v));
  return Flow::Normal;
}

[[gnu::noinline]] Renderer::Flow Renderer::exec_with(const WithStmt& n) {
  auto sc = std::make_shared<Scope>();
  sc->parent = scope_;
  for (const auto& [name, e] : n.assigns) sc->set(name, eval(*e));  // evaluated in the outer scope
  ScopeGuard g(*this, std::move(sc));
  return exec_body(n.body);
}

Renderer::Flow Renderer::exec_for(const ForStmt& n, const Value& iterable, int depth) {
  std::vector<Value> items = iterate(iterable);
  auto bind = [&](Scope& sc, const Value& item) {
    if (!n.unpack) {
      sc.set(n.targets[0], item);
      return;
    }
    std::vector<Value> parts = iterate(item);
    if (parts.size() != n.targets.size()) {
      fail(std::string(parts.size() < n.targets.size() ? "not enough" : "too many") +
           " values to unpack (expected " + std::to_string(n.targets.size()) + ", got " +
           std::to_string(parts.size()) + ")");
    }
    for (size_t k = 0; k < parts.size(); ++k) sc.set(n.targets[k], std::move(parts[k]));
  };
  if (n.filter) {  // `for x in xs if cond`: filter first, so loop.* counts kept items
    std::vector<Value> kept;
    for (auto& item : items) {
      step();
      auto sc = std::make_shared<Scope>();
      sc->parent = scope_;
      bind(*sc, item);
      ScopeGuard g(*this, std::move(sc));
      if (truthy(eval(*n.filter))) kept.push_back(std::move(item));
    }
    items = std::move(kept);
  }
  if (items.empty()) return exec_body(n.else_body);
  auto shared = std::make_shared<const std::vector<Value>>(std::move(items));
  for (size_t i = 0; i < shared->size(); ++i) {
    step();
    auto sc = std::make_shared<Scope>();
    sc->parent = scope_;
    bind(*sc, (*shared)[i]);
    sc->set("loop", Value::object(std::make_shared<LoopObj>(shared, i, depth, n)));
    ScopeGuard g(*this, std::move(sc));
    if (exec_body(n.body) == Flow::Break) break;
  }
  return Flow::Normal;
}

void Renderer::assign(const Target& t, const Value& v) {
  if (!t.attr.empty()) {
    const Value ns = lookup(t.names[0]);
    if (ns.kind() != Value::Kind::Namespace)
      fail("cannot assign attribute '" + t.attr + "' on '" + t.names[0] +
           "': it is not a namespace()");
    ns.as_dict().set(t.attr, v);
    note_mutated(ns);
    return;
  }
  if (!t.unpack) {
    set_var(t.names[0], v);
    return;
  }
  std::vector<Value> parts = iterate(v);
  if (parts.size() != t.names.size()) {
    fail(std::string(parts.size() < t.names.size() ? "not enough" : "too many") +
         " values to unpack (expected " + std::to_string(t.names.size()) + ", got " +
         std::to_string(parts.size()) + ")");
  }
  for (size_t k = 0; k < parts.size(); ++k) set_var(t.names[k], std::move(parts[k]));
}

void Renderer::set_var(const std::string& name, Value v) {
  scope_->set(name, std::move(v));
}

Value Renderer::lookup(const std::string& name) {
  for (Scope* s = scope_.get(); s; s = s->parent.get())
    if (Value* v = s->find(name)) return *v;
  Value g = find_global(name);
  if (!g.is_undefined()) return g;
  return Value::undefined("'" + name + "' is undefined");
}

Value Renderer::call_macro(const MacroStmt& m, const std::shared_ptr<Scope>& closure,
                           CallArgs& args) {
  CallGuard guard(*this);
  if (args.pos.size() > m.params.size()) {
    fail("macro '" + m.name + "' takes not more than " + std::to_string(m.params.size()) +
         " argument(s)");
  }
  auto sc = std::make_shared<Scope>();
  sc->parent = closure ? closure : root_;
  std::vector<bool> given(m.params.size(), false);
  for (size_t i = 0; i < args.pos.size(); ++i) {
    sc->set(m.params[i].first, args.pos[i]);
    given[i] = true;
  }
  for (auto& [k, v] : args.kw) {
    size_t i = 0;
    while (i < m.params.size() && m.params[i].first != k) ++i;
    if (i == m.params.size()) fail("macro '" + m.name + "' takes no keyword argument '" + k + "'");
    if (given[i]) fail("macro '" + m.name + "' got multiple values for argument '" + k + "'");
    sc->set(k, v);
    given[i] = true;
  }
  ScopeGuard g(*this, std::move(sc));
  for (size_t i = 0; i < m.params.size(); ++i) {
    if (given[i]) continue;
    const auto& [name, def] = m.params[i];
    set_var(name, def ? eval(*def) : Value::undefined("parameter '" + name + "' was not provided"));
  }
  return Value::string(capture(m.body));
}

Value Renderer::call_loop(const ForStmt& loop, const Value& iterable, int depth) {
  CallGuard guard(*this);
  std::string buf;
  std::string* saved = out_;
  out_ = &buf;
  try {
    exec_for(loop, iterable, depth);
  } catch (...) {
    out_ = saved;
    throw;
  }
  out_ = saved;
  return Value::string(std::move(buf));
}

// ---- expressions ----

Value Renderer::eval(const Expr& e) {
  Frame frame(*this);
  step();
  try {
    return eval_inner(e);
  } catch (Error& err) {
    if (err.offset == kNoOffset) err.offset = e.offset;
    throw;
  }
}

void Renderer::eval_args(const Args& a, CallArgs& out) {
  out.pos.reserve(a.pos.size());
  for (const auto& e : a.pos) out.pos.push_back(eval(*e));
  for (const auto& [k, e] : a.kw) out.kw.emplace_back(k, eval(*e));
}

Value Renderer::eval_inner(const Expr& e) {
  switch (e.kind) {
    case Expr::Kind::Literal:
      return static_cast<const LiteralExpr&>(e).value;
    case Expr::Kind::Name:
      return lookup(static_cast<const NameExpr&>(e).name);
    case Expr::Kind::List:
    case Expr::Kind::Tuple:
      return eval_list(static_cast<const ListExpr&>(e));
    case Expr::Kind::Dict:
      return eval_dict(static_cast<const DictExpr&>(e));
    case Expr::Kind::GetAttr: {
      const auto& n = static_cast<const GetAttrExpr&>(e);
      return getattr(eval(*n.obj), n.name);
    }
    case Expr::Kind::GetItem: {
      const auto& n = static_cast<const GetItemExpr&>(e);
      Value obj = eval(*n.obj);
      return getitem(obj, eval(*n.index));
    }
    case Expr::Kind::Slice:
      return eval_slice(static_cast<const SliceExpr&>(e));
    case Expr::Kind::Call:
      return eval_call(static_cast<const CallExpr&>(e));
    case Expr::Kind::Filter:
      return eval_filter(static_cast<const FilterExpr&>(e));
    case Expr::Kind::Test:
      return eval_test(static_cast<const TestExpr&>(e));
    case Expr::Kind::Unary: {
      const auto& n = static_cast<const UnaryExpr&>(e);
      return unary_op(n.op, eval(*n.operand));
    }
    case Expr::Kind::Binary:
      return eval_binary(static_cast<const BinaryExpr&>(e));
    case Expr::Kind::Compare:
      return eval_compare(static_cast<const CompareExpr&>(e));
    case Expr::Kind::Cond: {
      const auto& n = static_cast<const CondExpr&>(e);
      if (truthy(eval(*n.cond))) return eval(*n.then);
      if (n.otherwise) return eval(*n.otherwise);
      return Value::undefined("the inline if-expression evaluated to false and has no else branch");
    }
  }
  return Value();
}

[[gnu::noinline]] Value Renderer::eval_list(const ListExpr& n) {
  std::vector<Value> items;
  items.reserve(n.items.size());
  for (const auto& x : n.items) items.push_back(eval(*x));
  return Value::list(std::move(items), n.kind == Expr::Kind::Tuple);
}

[[gnu::noinline]] Value Renderer::eval_dict(const DictExpr& n) {
  Value d = Value::dict();
  for (const auto& [k, v] : n.items) {
    Value key = eval(*k);
    if (key.is_list() && !key.as_list().tuple) fail("unhashable type: 'list'");
    if (key.kind() == Value::Kind::Dict) fail("unhashable type: 'dict'");
    d.as_dict().set(std::move(key), eval(*v));
  }
  return d;
}

[[gnu::noinline]] Value Renderer::eval_slice(const SliceExpr& n) {
  const Value obj = eval(*n.obj);
  std::optional<int64_t> parts[3];
  const ExprPtr* exprs[3] = {&n.start, &n.stop, &n.step};
  for (int k = 0; k < 3; ++k)
    if (*exprs[k]) parts[k] = slice_part(*this, eval(**exprs[k]));
  if (obj.is_undefined()) fail(obj.undefined_reason());
  if (obj.is_list()) {
    const auto& items = obj.as_list().items;
    const py::SliceRange sr =
        py::slice_indices(static_cast<int64_t>(items.size()), parts[0], parts[1], parts[2]);
    charge_items(static_cast<size_t>(sr.count));
    std::vector<Value> out;
    out.reserve(static_cast<size_t>(sr.count));
    for (int64_t k = 0, i = sr.start; k < sr.count; ++k, i += sr.step)
      out.push_back(items[static_cast<size_t>(i)]);
    return Value::list(std::move(out), obj.as_list().tuple);
  }
  if (obj.is_string()) {
    const std::string& s = obj.as_string();
    const std::vector<size_t> off = py::codepoint_offsets(s);
    const py::SliceRange sr =
        py::slice_indices(static_cast<int64_t>(off.size() - 1), parts[0], parts[1], parts[2]);
    charge_bytes(s.size());
    std::string out;
    if (sr.step == 1) {
      out = s.substr(
          off[static_cast<size_t>(sr.start)],
          off[static_cast<size_t>(sr.start + sr.count)] - off[static_cast<size_t>(sr.start)]);
    } else {
      for (int64_t k = 0, i = sr.start; k < sr.count; ++k, i += sr.step)
        out.append(s, off[static_cast<size_t>(i)],
                   off[static_cast<size_t>(i) + 1] - off[static_cast<size_t>(i)]);
    }
    return Value::string(std::move(out));
  }
  fail("'" + type_name(obj) + "' object is not subscriptable");
}

[[gnu::noinline]] Value Renderer::eval_test(const TestExpr& n) {
  const Value v = eval(*n.obj);
  CallArgs args;
  eval_args(n.args, args);
  return Value::boolean(test(n.name, v, args) != n.negated);
}

[[gnu::noinline]] Value Renderer::eval_binary(const BinaryExpr& n) {
  Value l = eval(*n.left);
  if (n.op == BinaryExpr::Op::And) return truthy(l) ? eval(*n.right) : l;
  if (n.op == BinaryExpr::Op::Or) return truthy(l) ? l : eval(*n.right);
  const Value r = eval(*n.right);
  return binary_op(*this, n.op, l, r);
}

[[gnu::noinline]] Value Renderer::eval_compare(const CompareExpr& n) {
  Value left = eval(*n.first);
  for (const auto& [op, rhs] : n.rest) {
    Value right = eval(*rhs);
    if (!compare_op(*this, op, left, right)) return Value::boolean(false);
    left = std::move(right);
  }
  return Value::boolean(true);
}

[[gnu::noinline]] Value Renderer::eval_call(const CallExpr& c) {
  Value callee;
  if (c.callee->kind == Expr::Kind::GetAttr) {
    // obj.method(args): call str/list/dict methods directly, without
    // materializing a bound-method object.
    const auto& ga = static_cast<const GetAttrExpr&>(*c.callee);
    const Value obj = eval(*ga.obj);
    if ((obj.is_string() || obj.is_list() || obj.is_dict()) && has_method(obj, ga.name)) {
      CallArgs args;
      eval_args(c.args, args);
      Value out = call_method(*this, obj, ga.name, args);
      if (out.is_string()) step(out.as_string().size() / 8);
      return out;
    }
    callee = getattr(obj, ga.name);
  } else {
    callee = eval(*c.callee);
  }
  CallArgs args;
  eval_args(c.args, args);
  Value out = call(callee, args);
  if (out.is_string()) step(out.as_string().size() / 8);
  return out;
}

Value Renderer::call(const Value& callee, CallArgs& args) {
  if (callee.kind() == Value::Kind::Object && callee.as_object().callable())
    return static_cast<const Callable&>(callee.as_object()).call(*this, args);
  if (callee.is_undefined()) fail(callee.undefined_reason());
  fail("'" + type_name(callee) + "' object is not callable");
}

[[gnu::noinline]] Value Renderer::eval_filter(const FilterExpr& f) {
  const Value input = f.obj ? eval(*f.obj) : block_input_;
  CallArgs args;
  eval_args(f.args, args);
  Value out = filter(f.name, input, args);
  if (out.is_string()) step(out.as_string().size() / 8);  // new strings cost their size
  return out;
}

Value Renderer::filter(std::string_view name, const Value& input, CallArgs& args) {
  FilterFn fn = find_filter(name);
  if (!fn) fail("no filter named '" + std::string(name) + "'");
  return fn(*this, input, args);
}

bool Renderer::test(std::string_view name, const Value& v, CallArgs& args) {
  TestFn fn = find_test(name);
  if (!fn) fail("no test named '" + std::string(name) + "'");
  return fn(*this, v, args);
}

Value Renderer::getattr(const Value& obj, std::string_view name) {
  switch (obj.kind()) {
    case Value::Kind::Undefined:
      fail(obj.undefined_reason());
    case Value::Kind::Dict: {
      if (has_method(obj, name)) return bound_method(obj, name);
      if (const Value* v = obj.as_dict().find(name)) return *v;
      return object_attr_undefined(obj, name);
    }
    case Value::Kind::Namespace: {
      if (const Value* v = obj.as_dict().find(name)) return *v;
      return object_attr_undefined(obj, name);
    }
    case Value::Kind::String:
    case Value::Kind::List:
      if (has_method(obj, name)) return bound_method(obj, name);
      return object_attr_undefined(obj, name);
    case Value::Kind::Object: {
      Value out;
      if (obj.as_object().get_attr(name, out)) return out;
      return object_attr_undefined(obj, name);
    }
    default:
      return object_attr_undefined(obj, name);
  }
}

Value Renderer::getitem(const Value& obj, const Value& key) {
  switch (obj.kind()) {
    case Value::Kind::Undefined:
      fail(obj.undefined_reason());
    case Value::Kind::Dict: {
      if (const Value* v = obj.as_dict().find(key)) return *v;
      if (key.is_string()) return getattr(obj, key.as_string());
      break;
    }
    case Value::Kind::List: {
      if (key.is_integral()) {
        const auto& items = obj.as_list().items;
        int64_t i = key.as_int();
        if (i < 0) i += static_cast<int64_t>(items.size());
        if (i >= 0 && i < static_cast<int64_t>(items.size())) return items[static_cast<size_t>(i)];
        return Value::undefined("list index " + std::to_string(key.as_int()) + " out of range");
      }
      if (key.is_string()) return getattr(obj, key.as_string());
      break;
    }
    case Value::Kind::String: {
      if (key.is_integral()) {
        const std::string& s = obj.as_string();
        int64_t i = key.as_int();
        if (py::is_ascii(s)) {
          if (i < 0) i += static_cast<int64_t>(s.size());
          if (i >= 0 && i < static_cast<int64_t>(s.size()))
            return Value::string(std::string(1, s[static_cast<size_t>(i)]));
        } else {
          const std::vector<size_t> off = py::codepoint_offsets(s);
          const int64_t n = static_cast<int64_t>(off.size()) - 1;
          if (i < 0) i += n;
          if (i >= 0 && i < n)
            return Value::string(
                s.substr(off[static_cast<size_t>(i)],
                         off[static_cast<size_t>(i) + 1] - off[static_cast<size_t>(i)]));
        }
        return Value::undefined("string index " + std::to_string(key.as_int()) + " out of range");
      }
      if (key.is_string()) return getattr(obj, key.as_string());
      break;
    }
    case Value::Kind::Namespace:
    case Value::Kind::Object:
      if (key.is_string()) return getattr(obj, key.as_string());
      break;
    default:
      break;
  }
  std::string k;
  append_repr(k, key, 200);
  return Value::undefined("'" + type_name(obj) + " object' has no attribute " + k);
}

Value Renderer::get_path(const Value& obj, const Value& path) {
  if (!path.is_string()) return getitem(obj, path);
  Value cur = obj;
  for (const std::string& part : py::split(path.as_string(), std::string_view("."), -1)) {
    const bool digits = !part.empty() && std::all_of(part.begin(), part.end(),
                                                     [](char c) { return c >= '0' && c <= '9'; });
    if (digits && part.size() < 18) {
      cur = getitem(cur, Value::integer(std::stoll(part)));
    } else {
      cur = getitem(cur, Value::string(part));
    }
    if (cur.is_undefined()) return cur;
  }
  return cur;
}

std::vector<Value> Renderer::iterate(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::Undefined:
      return {};
    case Value::Kind::List:
      charge_items(v.as_list().items.size());
      return v.as_list().items;
    case Value::Kind::Dict: {
      const DictObj& d = v.as_dict();
      charge_items(d.size());
      std::vector<Value> keys;
      keys.reserve(d.size());
      for (const auto& [k, x] : d.entries) keys.push_back(k);
      return keys;
    }
    case Value::Kind::String: {
      const std::string& s = v.as_string();
      charge_items(s.size());
      std::vector<Value> chars;
      chars.reserve(s.size());
      const std::vector<size_t> off = py::codepoint_offsets(s);
      for (size_t i = 0; i + 1 < off.size(); ++i)
        chars.push_back(Value::string(s.substr(off[i], off[i + 1] - off[i])));
      return chars;
    }
    default:
      fail("'" + type_name(v) + "' object is not iterable");
  }
}

}  // namespace sf::jinja
