// Renders a parsed Program: statements, expressions, scopes and limits.
//
// One Renderer per render() call; it owns all mutable state (scopes, output
// buffers, counters), so a Program can be rendered concurrently. Filters,
// tests, methods and built-ins receive the Renderer to charge work against
// the limits and to reach attribute lookup and other filters.
#pragma once

#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/jinja/ast.h"
#include "tokenizer/jinja/stack_guard.h"
#include "tokenizer/jinja/template.h"
#include "tokenizer/jinja/value.h"

namespace sf::jinja {

struct Scope;

class Renderer {
 public:
  Renderer(const Program& program, const Limits& limits);
  ~Renderer();
  Renderer(const Renderer&) = delete;
  Renderer& operator=(const Renderer&) = delete;

  // Renders the whole program; throws Error.
  std::string run(const nlohmann::ordered_json& context);

  // ---- services for filters, tests, methods and built-ins ----
  const Limits& limits() const { return limits_; }
  size_t max_bytes() const { return limits_.max_output_bytes; }
  // Charges n units of work; fails once max_steps is exceeded.
  void step(uint64_t n = 1);
  // Charges for building a string of n bytes (fails past max_output_bytes) or
  // a sequence of n items (fails past kMaxItems). Building costs steps in
  // proportion to size, so max_steps also bounds the memory a render can
  // allocate: about 8 bytes of string or a quarter item per step.
  void charge_bytes(size_t n);
  void charge_items(size_t n);
  static constexpr size_t kMaxItems = size_t{1} << 20;
  // Jinja's attribute and item lookup (obj.name prefers attributes; obj[key] items).
  Value getattr(const Value& obj, std::string_view name);
  Value getitem(const Value& obj, const Value& key);
  // `obj.a.b` / `obj.0` paths as used by map(attribute=) and friends.
  Value get_path(const Value& obj, const Value& path);
  Value call(const Value& callee, CallArgs& args);
  Value filter(std::string_view name, const Value& input, CallArgs& args);
  bool test(std::string_view name, const Value& v, CallArgs& args);
  // Python iteration: list items, dict keys, string characters; undefined is
  // empty; anything else fails.
  std::vector<Value> iterate(const Value& v);
  std::string str(const Value& v) { return to_str(v, max_bytes()); }
  // Remembers a container that a template mutated, so reference cycles it
  // may have formed are broken when the render ends.
  void note_mutated(const Value& container);
  std::time_t now() const { return now_; }
  bool fixed_clock() const { return fixed_clock_; }

  // Macro and recursive-loop support.
  Value call_macro(const MacroStmt& m, const std::shared_ptr<Scope>& closure, CallArgs& args);
  Value call_loop(const ForStmt& loop, const Value& iterable, int depth);

 private:
  enum class Flow { Normal, Break, Continue };

  Flow exec_body(const StmtList& body);
  Flow exec(const Stmt& s);
  Flow exec_inner(const Stmt& s);
  Flow exec_for(const ForStmt& s, const Value& iterable, int depth);
  void assign(const Target& t, const Value& v);
  Value eval(const Expr& e);
  Value eval_inner(const Expr& e);
  // The bulky cases live in their own (non-inlined) functions so the
  // recursive eval/exec path keeps small stack frames.
  Value eval_call(const CallExpr& c);
  Value eval_filter(const FilterExpr& f);
  Value eval_list(const ListExpr& e);
  Value eval_dict(const DictExpr& e);
  Value eval_slice(const SliceExpr& e);
  Value eval_test(const TestExpr& e);
  Value eval_binary(const BinaryExpr& e);
  Value eval_compare(const CompareExpr& e);
  Flow exec_output(const OutputStmt& s);
  Flow exec_set_block(const SetBlockStmt& s);
  Flow exec_filter_block(const FilterBlockStmt& s);
  Flow exec_with(const WithStmt& s);
  void eval_args(const Args& a, CallArgs& out);
  Value lookup(const std::string& name);
  void set_var(const std::string& name, Value v);
  void write(std::string_view s);
  std::string capture(const StmtList& body);
  void set_clock(const nlohmann::ordered_json& context);

  struct Frame;
  struct ScopeGuard;
  struct CallGuard;

  const Program& program_;
  Limits limits_;
  uint64_t steps_ = 0;
  int frames_ = 0;
  int max_frames_;
  int call_depth_ = 0;
  std::string* out_ = nullptr;
  std::shared_ptr<Scope> root_;
  std::shared_ptr<Scope> scope_;  // innermost
  Value block_input_;             // input of a {% filter %} / filtered {% set %} block
  std::vector<std::weak_ptr<ListObj>> mutated_lists_;
  std::vector<std::weak_ptr<DictObj>> mutated_dicts_;
  std::time_t now_ = 0;
  bool fixed_clock_ = false;
  StackGuard stack_;
};

}  // namespace sf::jinja
