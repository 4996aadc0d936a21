// libFuzzer target for the server's request parsing and validation
// (server/request_parse.h): any bytes, as the body of any endpoint, must come
// back as a typed request or an ApiError with a message, never a crash, an
// exception or a hang. The first byte picks the endpoint. Valid requests also
// go through the JSON-schema compiler and the tool-call reader, which see the
// same untrusted input.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "runtime/json_constraint.h"
#include "runtime/json_schema.h"
#include "server/request_parse.h"
#include "server/tool_calls.h"

using namespace sf;
using namespace sf::server;

namespace {

void check(const ApiError& e) {
  if (e.message.empty() || e.status < 400 || e.status >= 500) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 6) {
    case 0: {
      auto r = parse_chat_request(body);
      if (!r.ok()) {
        check(r.error);
        break;
      }
      if (r.value->format == ResponseFormat::JsonSchema) {
        auto s = JsonSchema::compile(r.value->schema);
        if (s.ok()) {
          // Drive the automaton with the body itself: it must never misbehave.
          JsonMatcher m(*s);
          for (char c : body)
            if (!m.feed_byte(static_cast<uint8_t>(c))) break;
          (void)m.accepting();
        }
      }
      if (!r.value->tool_names.empty()) {
        std::vector<std::pair<std::string, nlohmann::json>> tools;
        for (size_t i = 0; i < r.value->tool_names.size(); ++i)
          tools.push_back({r.value->tool_names[i], r.value->tool_params[i]});
        (void)JsonSchema::tool_call(tools);
        (void)parse_tool_calls(body, r.value->tool_names);
      }
      break;
    }
    case 1: {
      auto r = parse_completion_request(body);
      if (!r.ok()) check(r.error);
      break;
    }
    case 2: {
      auto r = parse_embedding_request(body);
      if (!r.ok()) check(r.error);
      break;
    }
    case 3: {
      auto r = parse_tokenize_request(body);
      if (!r.ok()) check(r.error);
      break;
    }
    case 4: {
      auto r = parse_detokenize_request(body);
      if (!r.ok()) check(r.error);
      break;
    }
    default: {
      // The body as a schema, then as generated text for the automaton.
      auto j = parse_json_object(body);
      if (!j.ok()) break;
      auto s = JsonSchema::compile(*j.value);
      if (!s.ok()) break;
      JsonMatcher m(*s);
      const std::string_view text = body.substr(body.size() / 2);
      for (char c : text)
        if (!m.feed_byte(static_cast<uint8_t>(c))) break;
      (void)m.accepting();
      (void)parse_tool_calls(body, {"f", "g"});
      break;
    }
  }
  return 0;
}
