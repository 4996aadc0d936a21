// JSON schemas compiled for constrained decoding (OpenAI `response_format`
// json_object / json_schema, and forced tool calls).
//
// Supported subset (anything else is refused with a message naming the
// keyword, never silently ignored):
//   type: object | array | string | number | integer | boolean | null, or a
//         list of these; `nullable`-style ["string", "null"] works
//   object: properties, required, additionalProperties (false, or absent: only
//           the listed properties are generated either way, which always
//           validates); an object without properties takes any keys/values
//   array: items, minItems, maxItems
//   string: minLength, maxLength (maxLength enforced in bytes, which is
//           stricter for non-ASCII text but always holds after decoding)
//   enum, const: any JSON values
//   anyOf / oneOf of schemas that begin with different characters (e.g. a
//           string or an object, not two objects)
//   $ref to "#/$defs/NAME" or "#/definitions/NAME" (also recursive)
//   description, title, default, $schema, format, pattern, strict: ignored
//           (annotations; `format`/`pattern` are not enforced)
// Property names must be plain (no characters that JSON escapes), at most 64
// properties per object and 64 enum values per enum.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace sf {

struct SchemaNode {
  enum Kind : uint8_t { Any, Object, Array, String, Number, Integer, Literal, Union, Tagged };
  Kind kind = Any;
  // Object: property names (JSON text without quotes) and their value nodes.
  std::vector<std::string> prop_names;
  std::vector<int> prop_nodes;
  uint64_t required = 0;   // bit i: property i must appear
  bool free_keys = false;  // any keys, values of node `items`
  // Array items / free object values.
  int items = 0;
  int min_items = 0, max_items = 1 << 30;
  // String length bounds in characters.
  int min_len = 0, max_len = 1 << 30;
  // Literal: the JSON texts allowed here (enum, const, true/false/null).
  // Tagged: the literal prefix of each alternative (then a value of
  // alts[i], then `}`) — used for tool calls {"name": "f", "arguments": ...}.
  std::vector<std::string> literals;
  // Union / Tagged alternatives.
  std::vector<int> alts;
};

class JsonSchema {
 public:
  // Fixed nodes every schema has (what json_object mode and "{}" use).
  static constexpr int kAny = 0, kFreeObject = 1, kFreeArray = 2, kFreeString = 3, kFreeNumber = 4,
                       kTrueFalseNull = 5;

  static Result<std::shared_ptr<const JsonSchema>> compile(const nlohmann::json& schema);
  // Any JSON object (response_format json_object).
  static std::shared_ptr<const JsonSchema> any_object();
  // A tool call: {"name": "<one of names>", "arguments": <that tool's schema>}.
  static Result<std::shared_ptr<const JsonSchema>> tool_call(
      const std::vector<std::pair<std::string, nlohmann::json>>& tools);

  const SchemaNode& node(int i) const { return nodes_[i]; }
  int root() const { return root_; }

 private:
  JsonSchema();
  std::vector<SchemaNode> nodes_;
  int root_ = kAny;
  friend class SchemaCompiler;
};

}  // namespace sf
