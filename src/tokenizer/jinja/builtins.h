// Global functions available to every template: range, namespace, dict,
// raise_exception, strftime_now, joiner, cycler.
#pragma once

#include <string_view>

#include "tokenizer/jinja/value.h"

namespace sf::jinja {

// Undefined when there is no such global.
Value find_global(std::string_view name);

// A callable implemented in C++ (used for globals and small bound helpers).
class NativeFunction : public Callable {
 public:
  using Fn = Value (*)(Renderer&, CallArgs&, const Value& self);
  NativeFunction(std::string name, Fn fn, Value self = {})
      : name_(std::move(name)), fn_(fn), self_(std::move(self)) {}
  std::string type_name() const override { return "builtin_function_or_method"; }
  std::string repr() const override { return "<built-in function " + name_ + ">"; }
  Value call(Renderer& r, CallArgs& args) const override { return fn_(r, args, self_); }

 private:
  std::string name_;
  Fn fn_;
  Value self_;  // bound state, e.g. the list a cycler cycles through
};

}  // namespace sf::jinja
