// Jinja's built-in filters (`value | name(args)`), with HF's tojson.
#pragma once

#include <string_view>

#include "tokenizer/jinja/value.h"

namespace sf::jinja {

using FilterFn = Value (*)(Renderer& r, const Value& input, CallArgs& args);
FilterFn find_filter(std::string_view name);  // null when unknown

}  // namespace sf::jinja
