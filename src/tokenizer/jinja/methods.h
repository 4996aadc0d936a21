// Python methods on str, list and dict values (`s.startswith('x')`,
// `d.items()`, `ns.items.append(x)`), as Jinja exposes them.
#pragma once

#include <string_view>

#include "tokenizer/jinja/value.h"

namespace sf::jinja {

bool has_method(const Value& receiver, std::string_view name);
Value call_method(Renderer& r, const Value& receiver, std::string_view name, CallArgs& args);

// `obj.name` without a call: a bound method object.
Value bound_method(const Value& receiver, std::string_view name);

}  // namespace sf::jinja
