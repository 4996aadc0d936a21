// Internal error reporting for the Jinja interpreter.
//
// The lexer, parser and evaluator throw Error; the public entry points
// (Template::parse / Template::render) catch it and return a Status, so no
// exception ever crosses the library boundary. Throwing keeps the recursive
// evaluator readable: without it every expression would need an early return.
#pragma once

#include <cstdint>
#include <string>

namespace sf::jinja {

inline constexpr uint32_t kNoOffset = 0xffffffffu;

struct Error {
  enum class Kind { Syntax, Runtime, Raised, Limit };
  Kind kind = Kind::Runtime;
  std::string message;
  uint32_t offset = kNoOffset;  // byte offset into the normalized source
};

// A runtime error; the innermost expression or statement being evaluated
// attaches its source position on the way out.
[[noreturn]] inline void fail(std::string message) {
  throw Error{Error::Kind::Runtime, std::move(message), kNoOffset};
}

[[noreturn]] inline void fail_limit(std::string message) {
  throw Error{Error::Kind::Limit, std::move(message), kNoOffset};
}

[[noreturn]] inline void fail_syntax(std::string message, uint32_t offset) {
  throw Error{Error::Kind::Syntax, std::move(message), offset};
}

}  // namespace sf::jinja
