// Binds call arguments to a Python-style signature for filters, tests,
// methods and built-in functions: `f(a, b=2)` accepts f(1), f(1, 2), f(1, b=2).
#pragma once

#include <initializer_list>
#include <string>
#include <vector>

#include "tokenizer/jinja/value.h"

namespace sf::jinja {

class BoundArgs {
 public:
  // Fails on too many positional arguments, unknown keywords, duplicates, or
  // fewer than `required` arguments.
  BoundArgs(std::string_view fn, const CallArgs& args, std::initializer_list<const char*> params,
            size_t required = 0);

  bool has(size_t i) const { return i < vals_.size() && !vals_[i].is_undefined(); }
  // The argument, or undefined when not given.
  const Value& get(size_t i) const { return vals_[i]; }
  Value get_or(size_t i, Value def) const { return has(i) ? vals_[i] : std::move(def); }
  int64_t get_int(size_t i, int64_t def) const;
  bool get_bool(size_t i, bool def) const;               // truthiness
  std::string get_str(size_t i, std::string def) const;  // must be a string if given

 private:
  std::string fn_;
  std::vector<const char*> names_;
  std::vector<Value> vals_;
};

}  // namespace sf::jinja
