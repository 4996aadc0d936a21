// libFuzzer target for the Jinja chat-template interpreter. Templates come
// from model files, so any bytes must parse to a Template or a syntax error,
// and any parsed template must render to a string or an error Status: never a
// crash, a sanitizer report, a hang, a stack overflow or unbounded memory.
// Low limits keep each execution fast; hitting them is a normal outcome.
//
// Run: fuzz_jinja -max_total_time=300 -max_len=4096 fuzz/corpus/jinja
//      (seeds: small templates of our own; the shared fixture templates make
//      a good extra corpus dir, e.g. a folder of chat_template strings)
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "tokenizer/jinja/template.h"

namespace {

const nlohmann::ordered_json& context() {
  static const nlohmann::ordered_json ctx = nlohmann::ordered_json::parse(R"({
    "messages": [
      {"role": "system", "content": "You are helpful."},
      {"role": "user", "content": "Hi 北京 😀"},
      {"role": "assistant", "content": "<think>\nhmm\n</think>\n\nHello", "reasoning_content": null,
       "tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris", "n": [1, 2.5, true]}}}]},
      {"role": "tool", "content": "{\"temp\": 20}"},
      {"role": "user", "content": "<tool_response>x</tool_response>"}
    ],
    "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather",
               "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}],
    "add_generation_prompt": true,
    "bos_token": "<s>", "eos_token": "</s>",
    "enable_thinking": false,
    "__now__": "2024-07-26"
  })");
  return ctx;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view src(reinterpret_cast<const char*>(data), size);
  auto t = sf::jinja::Template::parse(src);
  if (!t.ok()) {
    if (t.status().message().empty()) __builtin_trap();  // errors must explain themselves
    return 0;
  }
  sf::jinja::Limits limits;
  limits.max_output_bytes = 64 << 10;
  limits.max_depth = 20;
  limits.max_steps = 20000;
  auto r = t->render(context(), limits);
  if (r.ok()) {
    if (r->size() > limits.max_output_bytes) __builtin_trap();  // the output bound held
  } else if (r.status().message().empty()) {
    __builtin_trap();
  }
  return 0;
}
