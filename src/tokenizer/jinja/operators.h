// Python semantics of Jinja's operators: int/float arithmetic as Python does
// it (true division gives a float, // and % floor), string and list
// concatenation and repetition, comparisons and membership.
#pragma once

#include "tokenizer/jinja/ast.h"
#include "tokenizer/jinja/value.h"

namespace sf::jinja {

Value binary_op(Renderer& r, BinaryExpr::Op op, const Value& a, const Value& b);
Value unary_op(UnaryExpr::Op op, const Value& v);
bool compare_op(Renderer& r, CompareExpr::Op op, const Value& a, const Value& b);
// Python `item in container`.
bool contains(Renderer& r, const Value& container, const Value& item);

}  // namespace sf::jinja
