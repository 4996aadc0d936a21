// Constrained decoding: the JSON automaton accepts exactly valid prefixes, and
// random walks through the token mask (any allowed token, end only when
// accepting) always end in a document that parses and matches the schema.
#include <gtest/gtest.h>

#include <random>

#include <nlohmann/json.hpp>

#include "runtime/json_constraint.h"
#include "runtime/json_schema.h"
#include "tokenizer/tokenizer.h"

namespace sf {
namespace {

using nlohmann::json;

std::shared_ptr<const JsonSchema> compile(const json& j) {
  auto s = JsonSchema::compile(j);
  EXPECT_TRUE(s.ok()) << s.status().message();
  return s.ok() ? *s : nullptr;
}

bool accepts(const std::shared_ptr<const JsonSchema>& s, const std::string& text) {
  JsonMatcher m(s);
  return m.feed(text) && m.accepting();
}

// A validator for the supported subset (the test's own oracle).
bool valid(const json& v, const json& schema) {
  if (schema.contains("enum")) {
    for (const auto& e : schema["enum"])
      if (e == v) return true;
    return false;
  }
  if (schema.contains("anyOf")) {
    for (const auto& alt : schema["anyOf"])
      if (valid(v, alt)) return true;
    return false;
  }
  if (!schema.contains("type")) return true;
  std::vector<std::string> types;
  if (schema["type"].is_string())
    types.push_back(schema["type"]);
  else
    for (const auto& t : schema["type"]) types.push_back(t);
  for (const auto& t : types) {
    if (t == "null" && v.is_null()) return true;
    if (t == "boolean" && v.is_boolean()) return true;
    if (t == "integer" && v.is_number_integer()) return true;
    if (t == "number" && v.is_number()) return true;
    if (t == "string" && v.is_string()) {
      size_t n = 0;  // code points
      for (unsigned char c : v.get<std::string>()) n += (c & 0xC0) != 0x80;
      if (schema.contains("maxLength") && n > schema["maxLength"].get<size_t>()) return false;
      if (schema.contains("minLength") && n < schema["minLength"].get<size_t>()) return false;
      return true;
    }
    if (t == "array" && v.is_array()) {
      if (schema.contains("maxItems") && v.size() > schema["maxItems"].get<size_t>()) return false;
      if (schema.contains("minItems") && v.size() < schema["minItems"].get<size_t>()) return false;
      for (const auto& e : v)
        if (schema.contains("items") && !valid(e, schema["items"])) return false;
      return true;
    }
    if (t == "object" && v.is_object()) {
      const json props = schema.value("properties", json::object());
      for (const auto& r : schema.value("required", json::array()))
        if (!v.contains(r.get<std::string>())) return false;
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (props.contains(it.key())) {
          if (!valid(it.value(), props[it.key()])) return false;
        } else if (!props.empty()) {
          return false;
        }
      }
      return true;
    }
  }
  return false;
}

// Byte tokens plus a few multi-byte pieces, like a real vocabulary's.
std::vector<std::string> vocab() {
  std::vector<std::string> v;
  for (int b = 0; b < 256; ++b) v.push_back(std::string(1, static_cast<char>(b)));
  for (const char* p : {"{\"", "\":",  "\": ",    ", \"",     "true", "false", "null", "\"}",
                        "}}",  "name", "age",     "tags",     "  ",   "\n  ",  "12",   "-3",
                        ".5",  "e+1",  "\\u00e9", "\xc3\xa9", "]}",   "[]",    "{}",   ",\n"})
    v.push_back(p);
  return v;
}

// Random walk: any allowed token, stop when accepting (with some probability)
// or when only the end is left. Returns the text, or "" if it ran too long.
std::string walk(const std::shared_ptr<const JsonSchema>& s, const TokenTrie& trie,
                 const std::vector<std::string>& pieces, std::mt19937& rng, int max_steps) {
  JsonMatcher m(s);
  std::string text;
  std::vector<uint8_t> allowed;
  for (int step = 0; step < max_steps; ++step) {
    if (m.done() || (m.accepting() && rng() % 4 == 0)) return text;
    allowed.assign(pieces.size(), 0);
    m.allowed(trie, allowed);
    std::vector<int> ids;
    for (size_t i = 0; i < allowed.size(); ++i)
      if (allowed[i]) ids.push_back(static_cast<int>(i));
    if (ids.empty()) {
      EXPECT_TRUE(m.accepting()) << "dead end after: " << text;
      return text;
    }
    // Prefer structural progress half the time so walks finish.
    int id = ids[rng() % ids.size()];
    if (rng() % 2) {
      for (int tries = 0; tries < 8; ++tries) {
        const int c = ids[rng() % ids.size()];
        const char ch = pieces[c][0];
        if (ch == '}' || ch == ']' || ch == '"' || ch == ',' || ch == 't' || ch == '1') {
          id = c;
          break;
        }
      }
    }
    EXPECT_TRUE(m.feed(pieces[id])) << "allowed token rejected: " << pieces[id];
    text += pieces[id];
  }
  return "";
}

TEST(JsonMatcher, AcceptsValidAndRejectsInvalidPrefixes) {
  auto any = JsonSchema::any_object();
  EXPECT_TRUE(accepts(any, R"({"a": [1, 2.5e-3, "x\u00e9\n", true, null, {}], "b": {"c": -0}})"));
  EXPECT_FALSE(accepts(any, R"([1])"));  // json_object mode: an object
  EXPECT_FALSE(accepts(any, R"({"a": 01})"));
  EXPECT_FALSE(accepts(any, R"({"a": tru})"));
  EXPECT_FALSE(accepts(any, R"({"a" 1})"));
  EXPECT_FALSE(accepts(any, R"({"a": 1,})"));
  EXPECT_FALSE(accepts(any, "{\"a\": \"\x01\"}"));
  JsonMatcher partial(any);
  EXPECT_TRUE(partial.feed(R"({"a": [1, )"));
  EXPECT_FALSE(partial.accepting());

  auto s = compile({{"type", "object"},
                    {"properties",
                     {{"name", {{"type", "string"}, {"maxLength", 3}}},
                      {"age", {{"type", "integer"}}},
                      {"color", {{"enum", {"red", "green", 7}}}}}},
                    {"required", {"name", "age"}},
                    {"additionalProperties", false}});
  ASSERT_TRUE(s);
  EXPECT_TRUE(accepts(s, R"({"name": "bob", "age": 4})"));
  EXPECT_TRUE(accepts(s, R"({"age": -4, "name": "", "color": 7})"));
  EXPECT_TRUE(accepts(s, R"({"color": "green", "age": 0, "name": "x"})"));
  EXPECT_FALSE(accepts(s, R"({"name": "bobby", "age": 4})"));           // maxLength
  EXPECT_FALSE(accepts(s, R"({"name": "bob"})"));                       // required
  EXPECT_FALSE(accepts(s, R"({"name": "bob", "age": 4.5})"));           // integer
  EXPECT_FALSE(accepts(s, R"({"name": "b", "age": 1, "x": 1})"));       // unknown key
  EXPECT_FALSE(accepts(s, R"({"name": "b", "name": "c", "age": 1})"));  // repeated key
  EXPECT_FALSE(accepts(s, R"({"name": "b", "age": 1, "color": "blue"})"));
}

TEST(JsonMatcher, RandomWalksAlwaysValidate) {
  const std::vector<json> schemas = {
      json::parse(R"({"type":"object","properties":{"name":{"type":"string","maxLength":6},
          "age":{"type":"integer"},"ok":{"type":"boolean"},
          "tags":{"type":"array","items":{"type":"string","maxLength":3},"maxItems":3}},
          "required":["name","age","ok"]})"),
      json::parse(
          R"({"type":"array","items":{"type":["number","null"]},"minItems":1,"maxItems":4})"),
      json::parse(R"({"type":"object","properties":{"kind":{"enum":["a","bb",3,null]},
          "nested":{"type":"object","properties":{"x":{"type":"number"}},"required":["x"]}},
          "required":["kind","nested"]})"),
      json::parse(
          R"({"anyOf":[{"type":"string","maxLength":4},{"type":"object","properties":{"v":{"type":"boolean"}},"required":["v"]}]})"),
  };
  const auto pieces = vocab();
  TokenTrie trie(pieces, {});
  std::mt19937 rng(123);
  for (size_t k = 0; k < schemas.size(); ++k) {
    auto s = compile(schemas[k]);
    ASSERT_TRUE(s);
    int finished = 0;
    for (int i = 0; i < 60; ++i) {
      const std::string text = walk(s, trie, pieces, rng, 400);
      if (text.empty()) continue;
      ++finished;
      // As the engine's stream decoder does: invalid UTF-8 becomes U+FFFD.
      std::string rest = text;
      std::string clean = take_complete_utf8(rest);
      if (!rest.empty()) clean += "\xEF\xBF\xBD";
      json v = json::parse(clean, nullptr, false);
      ASSERT_FALSE(v.is_discarded()) << "schema " << k << " produced unparsable: " << text;
      EXPECT_TRUE(valid(v, schemas[k])) << "schema " << k << ": " << text;
    }
    EXPECT_GT(finished, 30) << "schema " << k;
  }
}

TEST(JsonMatcher, ForcedToolCallShape) {
  auto s = JsonSchema::tool_call(
      {{"get_weather", json::parse(R"({"type":"object","properties":{"city":{"type":"string"}},
                                      "required":["city"]})")},
       {"add", json::parse(R"({"type":"object","properties":{"a":{"type":"integer"},
                              "b":{"type":"integer"}},"required":["a","b"]})")}});
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_TRUE(accepts(*s, R"({"name": "add", "arguments": {"a": 1, "b": 2}})"));
  EXPECT_TRUE(accepts(*s, R"({"name": "get_weather", "arguments": {"city": "Oslo"}})"));
  EXPECT_FALSE(accepts(*s, R"({"name": "add", "arguments": {"city": "Oslo"}})"));
  EXPECT_FALSE(accepts(*s, R"({"name": "sub", "arguments": {}})"));
}

TEST(JsonSchema, RefusesWhatItCannotEnforce) {
  for (const char* bad : {R"({"type":"object","patternProperties":{}})", R"({"type":"strange"})",
                          R"({"$ref":"#/$defs/missing"})", R"({"type":"array","items":[{}]})",
                          R"({"type":"string","minLength":5,"maxLength":2})"}) {
    auto s = JsonSchema::compile(json::parse(bad));
    EXPECT_FALSE(s.ok()) << bad;
  }
  auto rec = JsonSchema::compile(json::parse(
      R"({"$defs":{"node":{"type":"object","properties":{"next":{"anyOf":[{"$ref":"#/$defs/node"},{"type":"null"}]}},"required":["next"]}},"$ref":"#/$defs/node"})"));
  ASSERT_TRUE(rec.ok()) << rec.status().message();
  EXPECT_TRUE(accepts(*rec, R"({"next": {"next": null}})"));
  EXPECT_FALSE(accepts(*rec, R"({"next": {"next": 1}})"));
}

}  // namespace
}  // namespace sf
