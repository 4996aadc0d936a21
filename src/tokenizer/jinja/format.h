// Python string formatting: printf-style `fmt % args` (Jinja's `format`
// filter) and str.format().
#pragma once

#include <string>

#include "tokenizer/jinja/value.h"

namespace sf::jinja {

// `fmt % args`: args is a tuple/list (positional), a dict (%(name)s), or a
// single value.
std::string percent_format(Renderer& r, const std::string& fmt, const Value& args);
// `fmt.format(*pos, **kw)`: {} {0} {name} fields with !r/!s and a format spec.
std::string brace_format(Renderer& r, const std::string& fmt, const CallArgs& args);

}  // namespace sf::jinja
