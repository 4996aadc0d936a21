// Jinja's built-in tests (`value is name(args)`).
#pragma once

#include <string_view>

#include "tokenizer/jinja/value.h"

namespace sf::jinja {

using TestFn = bool (*)(Renderer& r, const Value& v, CallArgs& args);
TestFn find_test(std::string_view name);  // null when unknown

}  // namespace sf::jinja
