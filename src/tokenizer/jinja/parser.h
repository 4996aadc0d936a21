// Tokens -> syntax tree, following Jinja2's grammar and operator precedence.
#pragma once

#include <string_view>
#include <vector>

#include "tokenizer/jinja/ast.h"
#include "tokenizer/jinja/lexer.h"

namespace sf::jinja {

// Throws Error (Syntax). Nesting of brackets, expressions and blocks beyond
// max_nesting is an error, which bounds the parser's recursion and the depth
// of the tree (so evaluating and destroying it cannot exhaust the stack).
StmtList parse_tokens(const std::vector<Token>& tokens, int max_nesting);

}  // namespace sf::jinja
